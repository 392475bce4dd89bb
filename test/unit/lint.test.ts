import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { etcdFlag, etcdMinor, findSystemdAnalyze, formatLintProblem, installedPaths, lintUnit, renderUnit, type LintProblem } from '../../src/render/index.js';
import { sortProblems } from '../../src/render/lint.js';
import { mergeSystemdProblems, parseVerifyOutput, systemdAnalyzeVerify } from '../../src/render/systemd-verify.js';
import { execWords, parseUnitText, unitEntries } from '../../src/render/unit-parse.js';

const fixture = (name: string) => readFile(new URL(`../fixtures/units/${name}`, import.meta.url), 'utf8');
const FILE = '/etc/systemd/system/etcd.service';
const paths = installedPaths();

function lint(text: string, etcdVersion = '3.4.23', withPaths = true): LintProblem[] {
  return lintUnit(text, { file: FILE, etcdVersion, ...(withPaths ? { installedPaths: paths } : {}) });
}
const brief = (ps: LintProblem[]) => ps.map((p) => `${p.line} ${p.severity} ${p.rule}`);
const errorsOf = (ps: LintProblem[], rule?: string) => ps.filter((p) => p.severity === 'error' && (!rule || p.rule === rule));

/** A KTHW-style unit around the given ExecStart flag lines (joined with ' \'). */
function unit(flags: string[], opts: { type?: string | null; exec?: string } = {}): string {
  const type = opts.type === undefined ? 'Type=notify\n' : opts.type === null ? '' : `Type=${opts.type}\n`;
  const exec = [`ExecStart=${opts.exec ?? '/usr/local/bin/etcd'}`, ...flags.map((f) => `  ${f}`)].join(' \\\n');
  return `[Unit]\nDescription=etcd\n\n[Service]\n${type}${exec}\nRestart=on-failure\nRestartSec=5\n\n[Install]\nWantedBy=multi-user.target\n`;
}
const BASE_FLAGS = [
  '--name controller-0',
  '--cert-file=/etc/etcd/kubernetes.pem',
  '--key-file=/etc/etcd/kubernetes-key.pem',
  '--trusted-ca-file=/etc/etcd/ca.pem',
  '--data-dir=/var/lib/etcd',
];

describe('lintUnit: clean units', () => {
  it('finds nothing in the rendered unit, for etcd 3.4, 3.5 and 3.6', async () => {
    const inv = validateInventory(await readFile(new URL('../../inventory.example.yaml', import.meta.url), 'utf8'), { file: '/x/i.yaml' }).inventory!;
    const text = await renderUnit(inv, inv.nodes[0]!);
    for (const v of ['3.4.23', '3.5.17', '3.6.4']) expect(lint(text, v)).toEqual([]);
  });

  it('finds nothing in the hand-written KTHW unit', async () => {
    expect(lint(await fixture('kthw-controller-1.expected.service'))).toEqual([]);
  });

  it('finds nothing in a minimal unit with the KTHW flags', () => {
    expect(lint(unit(BASE_FLAGS))).toEqual([]);
  });
});

describe('rule 1: line continuation', () => {
  it('reports the doubled backslash of the KTHW heredoc on the line where it is, with the Missing "=" systemd logs for the next line', async () => {
    const ps = lint(await fixture('kthw-heredoc-doubled.service'));
    const first = ps[0]!;
    expect(first).toMatchObject({ file: FILE, line: 7, col: 31, severity: 'error', rule: 'continuation' });
    expect(first.message).toContain(`etcd.service:8: Missing '=', ignoring line.`);
    expect(first.message).toContain("'\\' is not a valid flag");
    expect(first.fix).toBe("replace the trailing '\\\\' by a single '\\'");
    expect(ps[1]!.message).toContain(`etcd.service:9: Unknown key '--cert-file' in section [Service], ignoring.`);
    // one error per doubled line (7-23), and the lines systemd then misreads are not reported twice
    expect(ps.every((p) => p.rule === 'continuation')).toBe(true);
    expect(ps.map((p) => p.line)).toEqual(Array.from({ length: 17 }, (_, i) => 7 + i));
  });

  it('still checks the flags of a unit with doubled backslashes', () => {
    const text = unit([...BASE_FLAGS, '--log-formt=json']).replace(/ \\\n/g, ' \\\\\n');
    const ps = lint(text);
    expect(errorsOf(ps, 'unknown-flag').map((p) => p.line)).toEqual([12]);
  });

  it('reports a backslash followed by spaces, which systemd does not continue', () => {
    const text = unit(BASE_FLAGS).replace('--name controller-0 \\\n', '--name controller-0 \\  \n');
    const ps = lint(text);
    expect(brief(ps)).toEqual(['7 error continuation']);
    expect(ps[0]!.col).toBe(23);
    expect(ps[0]!.message).toMatch(/followed by spaces.*lines 8-11 become a setting of their own.*Unknown key '--cert-file/);
  });

  it('reports a continuation into Restart=, which etcd then gets as an argument', () => {
    const text = unit(BASE_FLAGS).replace('--data-dir=/var/lib/etcd\n', '--data-dir=/var/lib/etcd \\\n');
    const ps = lint(text);
    expect(brief(ps)).toEqual(['11 error continuation']);
    expect(ps[0]!.message).toContain(`"'Restart=on-failure' is not a valid flag"`);
  });

  it('reports a continuation on the last line of the file', () => {
    const ps = lint(`[Service]\nType=notify\nExecStart=/usr/local/bin/etcd \\\n  --name a \\\n`);
    expect(brief(ps)).toEqual(['4 error continuation']);
    expect(ps[0]!.message).toContain('last line');
  });

  it('warns about a continuation into an empty line', () => {
    const text = unit(BASE_FLAGS).replace('--data-dir=/var/lib/etcd\n', '--data-dir=/var/lib/etcd \\\n\n');
    expect(brief(lint(text))).toEqual(['11 warning continuation']);
  });

  it('reports three backslashes, which leave a literal one in the value', () => {
    const text = unit(BASE_FLAGS).replace('--name controller-0 \\\n', '--name controller-0 \\\\\\\n');
    const ps = lint(text);
    expect(brief(ps)).toEqual(['7 error continuation']);
  });

  it('skips comment lines inside a continuation, as systemd does', () => {
    const text = unit(BASE_FLAGS).replace('  --cert-file', '# a comment\n  --cert-file');
    expect(lint(text)).toEqual([]);
  });
});

describe('rule 2: outside any section', () => {
  it('reports a setting before the first section', () => {
    const ps = lint(`Description=etcd\n${unit(BASE_FLAGS)}`);
    expect(brief(ps)).toEqual(['1 error outside-section']);
    expect(ps[0]!.message).toContain('Assignment outside of section');
  });
});

describe('rule 3: a key line without "="', () => {
  it('reports a flag line that the previous line does not continue, at the line systemd names', () => {
    const text = unit(BASE_FLAGS).replace('--cert-file=/etc/etcd/kubernetes.pem \\\n', '--cert-file=/etc/etcd/kubernetes.pem\n');
    // line 9 (--key-file=…) now starts a logical line that ends on line 11; it has '=' so it is an unknown key
    const noEq = unit(BASE_FLAGS).replace('--name controller-0 \\\n', '--name controller-0\n');
    const ps = lint(noEq);
    expect(brief(ps.filter((p) => p.rule !== 'flag-value'))).toEqual(['11 error unknown-key']);
    const ps2 = lint(`[Service]\nType=notify\nExecStart=/usr/local/bin/etcd\n  --name controller-0\n`);
    expect(brief(ps2)).toEqual(['4 error missing-equals']);
    expect(ps2[0]!.message).toContain(`etcd.service:4: Missing '=', ignoring line.`);
    expect(ps2[0]!.fix).toContain("end the line before it with a single '\\'");
    expect(brief(lint(text))).toEqual(['11 error unknown-key']);
  });

  it('does not treat continuation lines of a value as keys', () => {
    expect(lint(unit(['--name controller-0', '--initial-cluster-state new', '--data-dir=/var/lib/etcd']))).toEqual([]);
  });
});

describe('rule 4: unknown keys and sections', () => {
  it('reports an unknown [Service] key with the closest known one', () => {
    const ps = lint(unit(BASE_FLAGS).replace('RestartSec=5', 'RestartSecs=5'));
    expect(brief(ps)).toEqual(['13 error unknown-key']);
    expect(ps[0]!.fix).toBe("did you mean 'RestartSec='?");
    expect(ps[0]!.message).toContain(`Unknown key 'RestartSecs' in section [Service], ignoring.`);
  });

  it('reports unknown keys in [Unit] and [Install], and accepts X- keys', () => {
    const text = unit(BASE_FLAGS).replace('Description=etcd', 'Descripton=etcd\nX-Owner=ops').replace('WantedBy=', 'WantBy=');
    const ps = lint(text);
    expect(ps.map((p) => `${p.line} ${p.fix}`)).toEqual(["2 did you mean 'Description='?", "17 did you mean 'WantedBy='?"]);
  });

  it('reports an unknown section with a suggestion, and a broken header', () => {
    const ps = lint(unit(BASE_FLAGS).replace('[Install]', '[Instal]'));
    expect(brief(ps)).toEqual(['15 error unknown-section']);
    expect(ps[0]!.fix).toBe('rename it to [Install]');
    const broken = lint(unit(BASE_FLAGS).replace('[Install]', '[Install'));
    expect(brief(broken)).toEqual(['15 error unknown-section']);
  });
});

describe('rule 5: etcd flags per release', () => {
  it('accepts flags of 3.4 that 3.6 removed, and reports them for 3.6', () => {
    const text = unit([...BASE_FLAGS, '--enable-v2=true', '--log-package-levels=etcdmain=DEBUG']);
    expect(lint(text, '3.4.23')).toEqual([]);
    const ps = lint(text, '3.6.0');
    expect(brief(ps)).toEqual(['12 error unknown-flag', '13 error unknown-flag']);
    expect(ps[0]!.message).toContain('removed after etcd 3.5');
    expect(ps[0]!.message).toContain('flag provided but not defined: -enable-v2');
    expect(ps[1]!.fix).toBe('use --log-level instead');
  });

  it('accepts flags new in 3.6 only for 3.6', () => {
    const text = unit([...BASE_FLAGS, '--log-format=json', '--feature-gates=InitialCorruptCheck=true']);
    expect(lint(text, '3.6.4')).toEqual([]);
    const ps = lint(text, '3.4.23');
    expect(brief(ps)).toEqual(['12 error unknown-flag', '13 error unknown-flag']);
    expect(ps[0]!.message).toContain('exists in etcd 3.6');
    expect(brief(lint(text, '3.5.9'))).toEqual(['12 error unknown-flag', '13 error unknown-flag']);
  });

  it('knows --logger=capnslog is 3.4 only', () => {
    const text = unit([...BASE_FLAGS, '--logger=capnslog']);
    expect(lint(text, '3.4.23')).toEqual([]);
    const ps = lint(text, '3.5.0');
    expect(brief(ps)).toEqual(['12 error flag-value']);
    expect(ps[0]!.fix).toContain('--logger=zap');
  });

  it('knows --experimental-initial-corrupt-check from 3.4 on, deprecated in 3.6', () => {
    const text = unit([...BASE_FLAGS, '--experimental-initial-corrupt-check=true']);
    expect(lint(text, '3.4.0')).toEqual([]);
    expect(lint(text, '3.5.0')).toEqual([]);
    const ps = lint(text, '3.6.0');
    expect(brief(ps)).toEqual(['12 warning deprecated-flag']);
    expect(ps[0]!.fix).toBe('use --feature-gates=InitialCorruptCheck=true instead');
  });

  it('knows flags added in a patch release', () => {
    const text = unit([...BASE_FLAGS, '--max-concurrent-streams=100']);
    expect(brief(lint(text, '3.4.19'))).toEqual(['12 error unknown-flag']);
    expect(lint(text, '3.4.20')).toEqual([]);
  });

  it('suggests the closest flag for a typo', () => {
    const ps = lint(unit([...BASE_FLAGS, '--heartbeat-intervall=100']));
    expect(brief(ps)).toEqual(['12 error unknown-flag']);
    expect(ps[0]!.fix).toBe('did you mean --heartbeat-interval?');
    expect(formatLintProblem(ps[0]!)).toMatch(/^\/etc\/systemd\/system\/etcd\.service:12:3: error: --heartbeat-intervall .* — fix: did you mean --heartbeat-interval\?$/);
  });

  it('reports a boolean flag given a separate value', () => {
    const ps = lint(unit([...BASE_FLAGS, '--client-cert-auth true']));
    expect(brief(ps)).toEqual(['12 error flag-value']);
    expect(ps[0]!.col).toBe(22);
    expect(ps[0]!.message).toContain(`"'true' is not a valid flag"`);
  });

  it('reports a value flag that swallows the next flag, and a stray word', () => {
    const ps = lint(unit(['--name', '--cert-file=/etc/etcd/kubernetes.pem', 'stray', '--data-dir=/var/lib/etcd']));
    expect(brief(ps)).toEqual(['8 error flag-value', '9 error flag-value']);
    expect(ps[1]!.message).toContain(`"'stray' is not a valid flag"`);
  });

  it('accepts boolean flags without a value, and flags written as -flag value', () => {
    expect(lint(unit([...BASE_FLAGS, '--client-cert-auth', '-peer-client-cert-auth', '-initial-cluster-state existing']))).toEqual([]);
  });

  it('warns about an ignored flag and a release it has no list for', () => {
    expect(lint(unit([...BASE_FLAGS, '--config=/etc/etcd/etcd.yaml']))[0]).toMatchObject({ severity: 'warning', fix: 'use --config-file, or remove it' });
    expect(brief(lint(unit(BASE_FLAGS), '3.7.0'))).toEqual(['7 warning unknown-flag']);
  });

  it('has the flags KTHW and hardway use in every release it knows', () => {
    const used = ['name', 'cert-file', 'key-file', 'peer-cert-file', 'peer-key-file', 'trusted-ca-file', 'peer-trusted-ca-file', 'peer-client-cert-auth', 'client-cert-auth', 'initial-advertise-peer-urls', 'listen-peer-urls', 'listen-client-urls', 'advertise-client-urls', 'initial-cluster-token', 'initial-cluster', 'initial-cluster-state', 'data-dir', 'heartbeat-interval', 'election-timeout', 'auto-compaction-retention', 'auto-compaction-mode', 'quota-backend-bytes', 'snapshot-count', 'max-request-bytes', 'log-level', 'logger', 'log-outputs', 'listen-metrics-urls', 'wal-dir', 'cipher-suites'];
    for (const v of ['3.4', '3.5', '3.6'] as const) for (const f of used) expect(etcdFlag(v, f), `${f} in ${v}`).toBeDefined();
    expect(etcdMinor('3.4.23')).toBe('3.4');
    expect(etcdMinor('v3.6.0')).toBe('3.6');
    expect(etcdMinor('3.7.1')).toBeUndefined();
  });
});

describe('rule 6: a flag given twice', () => {
  it('reports the second one and names both lines', () => {
    const ps = lint(unit([...BASE_FLAGS, '--name controller-1']));
    expect(brief(ps)).toEqual(['12 error duplicate-flag']);
    expect(ps[0]!.message).toContain('on line 7 and on line 12');
    expect(ps[0]!.message).toContain("'controller-0' and 'controller-1'");
  });

  it('treats -flag and --flag=value as the same flag', () => {
    expect(brief(lint(unit([...BASE_FLAGS, '-data-dir /var/lib/etcd'])))).toEqual(['12 error duplicate-flag']);
  });
});

describe('rule 7: paths hardway does not install', () => {
  it('reports a certificate path that is not installed as an error etcd would hit at start', () => {
    const ps = lint(unit(BASE_FLAGS.map((f) => f.replace('kubernetes.pem', 'server.pem'))));
    expect(brief(ps)).toEqual(['8 error path']);
    expect(ps[0]!.message).toContain('open /etc/etcd/server.pem: no such file or directory');
    expect(ps[0]!.fix).toBe('--cert-file=/etc/etcd/kubernetes.pem (the certificate hardway installs)');
  });

  it('reports an installed file given to the wrong flag', () => {
    const ps = lint(unit([...BASE_FLAGS.slice(0, 3), '--trusted-ca-file=/etc/etcd/kubernetes.pem', BASE_FLAGS[4]!]));
    expect(brief(ps)).toEqual(['10 error path']);
    expect(ps[0]!.fix).toBe('--trusted-ca-file=/etc/etcd/ca.pem');
  });

  it('warns about a data or WAL directory hardway does not create', () => {
    const ps = lint(unit([...BASE_FLAGS.slice(0, 4), '--data-dir=/srv/etcd', '--wal-dir=/fast/wal']));
    expect(brief(ps)).toEqual(['11 warning path', '12 warning path']);
    expect(lintUnit(unit(BASE_FLAGS.slice(0, 4).concat('--data-dir=/srv/etcd/')), { file: FILE, etcdVersion: '3.4.23', installedPaths: installedPaths({ etcd: { dataDir: '/srv/etcd' } }) })).toEqual([]);
  });

  it('checks nothing about paths without installedPaths', () => {
    expect(lint(unit(BASE_FLAGS.map((f) => f.replace('kubernetes.pem', 'server.pem'))), '3.4.23', false)).toEqual([]);
  });
});

describe('ExecStart and Type', () => {
  it('wants an absolute ExecStart, the installed binary', () => {
    expect(brief(lint(unit(BASE_FLAGS, { exec: 'etcd' })))).toEqual(['6 error exec-start']);
    const ps = lint(unit(BASE_FLAGS, { exec: '/usr/bin/etcd' }));
    expect(brief(ps)).toEqual(['6 error path']);
    expect(ps[0]!.fix).toBe('ExecStart=/usr/local/bin/etcd');
  });

  it('warns unless Type=notify', () => {
    expect(brief(lint(unit(BASE_FLAGS, { type: 'simple' })))).toEqual(['5 warning service-type']);
    expect(brief(lint(unit(BASE_FLAGS, { type: null })))).toEqual(['4 warning service-type']);
    expect(brief(lint(unit(BASE_FLAGS, { type: 'notfy' })))).toEqual(['5 error service-type']);
  });

  it('reports a missing ExecStart and a second one', () => {
    expect(brief(lint('[Service]\nType=notify\n'))).toEqual(['1 error exec-start']);
    const two = unit(BASE_FLAGS).replace('Restart=on-failure', 'ExecStart=/usr/local/bin/etcd --name x\nRestart=on-failure');
    expect(brief(lint(two))).toEqual(['12 error exec-start']);
    expect(brief(lint('[Unit]\nDescription=x\n'))).toEqual(['1 error exec-start']);
  });
});

describe('unit parsing', () => {
  it('joins continuations as systemd does and keeps physical positions', () => {
    const parsed = parseUnitText('[Service]\nExecStart=/bin/etcd \\\n  --name "a b" \\\n  --x=50%% $$y\n');
    const exec = unitEntries(parsed.intended).find((e) => e.kind === 'assignment')!;
    expect(exec.ll.startLine).toBe(2);
    expect(exec.ll.endLine).toBe(4);
    if (exec.kind !== 'assignment') throw new Error('not an assignment');
    const words = execWords(exec.ll, exec.valueStart);
    expect(words.map((w) => [w.value, w.line, w.col])).toEqual([
      ['/bin/etcd', 2, 11],
      ['--name', 3, 3],
      ['a b', 3, 10],
      ['--x=50%', 4, 3],
      ['$y', 4, 12],
    ]);
    expect(parsed.systemd.map((l) => [l.startLine, l.endLine])).toEqual([[1, 1], [2, 4]]);
  });
});

describe('systemd-analyze verify', () => {
  it('maps its file:line messages to the linted file and drops the ones about this machine', () => {
    const out = [
      "/tmp/hardway-verify-x/etcd.service:8: Missing '=', ignoring line.",
      "/tmp/hardway-verify-x/etcd.service:13: Unknown key 'Foo' in section [Service], ignoring.",
      'etcd.service: Command /usr/local/bin/etcd is not executable: No such file or directory',
      'Unit etcd.service has a bad unit file setting.',
      'something about another.unit',
    ].join('\n');
    const ps = parseVerifyOutput(out, '/tmp/hardway-verify-x/etcd.service', 'my.service');
    expect(ps.map((p) => `${p.file}:${p.line} ${p.severity} ${p.message}`)).toEqual([
      "my.service:8 error systemd-analyze verify: Missing '=', ignoring line.",
      "my.service:13 warning systemd-analyze verify: Unknown key 'Foo' in section [Service], ignoring.",
      'my.service:1 error systemd-analyze verify: Unit etcd.service has a bad unit file setting.',
    ]);
  });

  it('adds only what the lint did not already explain', () => {
    const own = lint(unit(BASE_FLAGS).replace('--name controller-0 \\\n', '--name controller-0 \\\\\n'));
    const fromSystemd = parseVerifyOutput(
      "/t/etcd.service:8: Unknown key '--cert-file' in section [Service], ignoring.\n/t/etcd.service:2: Something new.\n",
      '/t/etcd.service',
      FILE,
    );
    const merged = mergeSystemdProblems(own, fromSystemd);
    expect(merged.map((p) => `${p.line} ${p.rule}`)).toEqual(['2 systemd-analyze', '7 continuation']);
  });

  it('runs when installed, and agrees with the lint on the doubled backslash', async ({ skip }) => {
    skip(process.platform !== 'linux', `systemd-analyze is Linux only (this is ${process.platform})`);
    const binary = await findSystemdAnalyze();
    if (!binary) skip('systemd-analyze is not installed here');
    const text = await fixture('kthw-heredoc-doubled.service');
    const r = await systemdAnalyzeVerify(text, { file: FILE, binary });
    expect(r.status).toBe('ran');
    expect(r.problems.find((p) => p.line === 8)?.message).toContain("Missing '='");
    expect(mergeSystemdProblems(lint(text), r.problems).every((p) => p.rule === 'continuation')).toBe(true);
    const clean = await systemdAnalyzeVerify(await fixture('kthw-controller-1.expected.service'), { file: FILE, binary });
    expect(clean.problems).toEqual([]);
  });

  it('reports absent when the binary is not there', async () => {
    expect(await findSystemdAnalyze('/nonexistent-dir')).toBeUndefined();
    const r = await systemdAnalyzeVerify('[Service]\n', { file: FILE, binary: '/nonexistent-dir/systemd-analyze' });
    expect(r.status).toBe('failed');
    expect(r.problems).toEqual([]);
  });
});

describe('lintUnit: flag syntax rules', () => {
  const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
  const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

  it("takes for a boolean flag every spelling Go's strconv.ParseBool takes, after '=', and nothing else", () => {
    for (const v of [...GO_TRUE, ...GO_FALSE]) expect(lint(unit([...BASE_FLAGS, `--client-cert-auth=${v}`])), v).toEqual([]);
    for (const v of ['yes', 'on', 'TrUe', '']) {
      const ps = lint(unit([...BASE_FLAGS, `--client-cert-auth=${v}`]));
      expect(brief(ps), v).toEqual(['12 error flag-value']);
      expect(ps[0]!.message).toBe(`--client-cert-auth=${v}: etcd exits with 'invalid boolean value "${v}" for -client-cert-auth'`);
    }
  });

  it('calls every Go boolean after a boolean flag a separate value, suggesting the bare flag for a true one', () => {
    for (const v of [...GO_TRUE, ...GO_FALSE]) {
      const ps = lint(unit([...BASE_FLAGS, `--client-cert-auth ${v}`]));
      expect(brief(ps), v).toEqual(['12 error flag-value']);
      expect(ps[0]!.fix).toBe(GO_TRUE.includes(v) ? `write --client-cert-auth=${v} (or just --client-cert-auth)` : `write --client-cert-auth=${v}`);
    }
  });

  it("calls '---name' and '--=x' bad flag syntax", () => {
    for (const w of ['---name=x', '--=x', '-=x']) {
      const ps = lint(unit([...BASE_FLAGS, w]));
      expect(ps.map((p) => [p.rule, p.message]), w).toEqual([['flag-value', `'${w}' is not flag syntax etcd understands: it exits with "bad flag syntax: ${w}"`]]);
    }
  });

  it('counts the backslashes a line ends in (an odd number above one: an even number is a doubled one)', () => {
    for (const n of [3, 5]) {
      const ps = lint(unit(BASE_FLAGS).replace('--name controller-0 \\\n', `--name controller-0 ${'\\'.repeat(n)}\n`));
      expect(ps[0]!.message).toMatch(new RegExp(`^line ends in ${n} backslashes: the last one continues the line`));
    }
  });

  it('lists problems in file order: by line, then column, an error before a warning at the same place', () => {
    const p = (line: number, col: number | undefined, severity: 'error' | 'warning') => ({ file: FILE, line, ...(col !== undefined ? { col } : {}), severity, rule: 'flag-value' as const, message: 'm', fix: 'f' });
    const sorted = sortProblems([p(9, 1, 'warning'), p(3, 7, 'warning'), p(3, 7, 'error'), p(3, 2, 'warning'), p(3, undefined, 'warning'), p(1, 5, 'error')]);
    expect(sorted.map((x) => `${x.line}:${x.col ?? '-'} ${x.severity}`)).toEqual(['1:5 error', '3:- warning', '3:2 warning', '3:7 error', '3:7 warning', '9:1 warning']);
    expect(sortProblems([p(2, 1, 'error'), p(2, 1, 'error')]).map((x) => x.severity)).toEqual(['error', 'error']);
  });
});
