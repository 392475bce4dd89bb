import { describe, expect, it } from 'vitest';
import { installedPaths, lintUnit, type LintProblem } from '../../src/render/index.js';

// The sentences a user acts on: what systemd or etcd will log for each problem (so it can be recognised in the
// journal), and the fix. One unit per rule, KTHW-style.
const FILE = '/etc/systemd/system/etcd.service';
const lint = (text: string, etcdVersion = '3.4.23') => lintUnit(text, { file: FILE, etcdVersion, installedPaths: installedPaths() });
const unit = (flags: string[], opts: { type?: string | null; exec?: string; extra?: string } = {}) => {
  const type = opts.type === undefined ? 'Type=notify\n' : opts.type === null ? '' : `Type=${opts.type}\n`;
  const exec = [`ExecStart=${opts.exec ?? '/usr/local/bin/etcd'}`, ...flags.map((f) => `  ${f}`)].join(' \\\n');
  return `[Unit]\nDescription=etcd\n\n[Service]\n${type}${exec}\n${opts.extra ?? ''}Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n`;
};
const only = (ps: LintProblem[], rule: string): LintProblem => {
  const hits = ps.filter((p) => p.rule === rule);
  expect(hits, ps.map((p) => `${p.rule}: ${p.message}`).join('\n')).toHaveLength(1);
  return hits[0]!;
};

describe('what systemd says about the unit file, and the fix', () => {
  it('an unclosed section header: systemd refuses the unit; the fix closes it', () => {
    const p = only(lint('[Unit\nDescription=x\n[Service]\nType=notify\nExecStart=/usr/local/bin/etcd --name a\n'), 'unknown-section');
    expect(p.message).toBe(`invalid section header '[Unit': systemd logs "etcd.service:1: Invalid section header" and refuses to load the unit`);
    expect(p.fix).toBe("close the header: '[Unit]'");
  });

  it('an unknown section: its settings are ignored; the fix is the closest known name, or the three sections', () => {
    const p = only(lint(unit(['--name a']).replace('[Install]', '[Instal]')), 'unknown-section');
    expect(p.message).toBe(`unknown section [Instal]: systemd logs "etcd.service:10: Unknown section 'Instal'. Ignoring." and ignores every setting in it`);
    expect(p.fix).toBe('rename it to [Install]');
    expect(only(lint(unit(['--name a']).replace('[Install]', '[Zzzzzzzz]')), 'unknown-section').fix).toBe('use [Unit], [Service] or [Install]');
    expect(lint(unit(['--name a']).replace('[Install]', '[X-Mine]')).filter((p) => p.rule === 'unknown-section')).toEqual([]);
  });

  it('a line before any section, and a line without =', () => {
    const out = only(lint(`Description=x\n${unit(['--name a'])}`), 'outside-section');
    expect(out.message).toBe(`'Description=x' is outside any section: systemd logs "etcd.service:1: Assignment outside of section. Ignoring."`);
    const eq = only(lint(unit(['--name a'], { extra: 'Restart on-failure\n' })), 'missing-equals');
    expect(eq.message).toBe(`'Restart on-failure' has no '=': systemd logs "etcd.service:8: Missing '=', ignoring line." (older systemd refuses the whole unit: "[etcd.service:8] Missing '='.")`);
    expect(eq.fix).toBe("write it as Key=value, or make it a comment with '#'");
  });

  it("an unknown key: systemd's words, and the key it resembles or the manual to check", () => {
    const p = only(lint(unit(['--name a'], { extra: 'RestartSex=5\n' })), 'unknown-key');
    expect(p.message).toBe(`unknown key 'RestartSex' in [Service]: systemd logs "etcd.service:8: Unknown key 'RestartSex' in section [Service], ignoring." and the setting has no effect`);
    expect(p.fix).toBe("did you mean 'RestartSec='?");
    expect(only(lint(unit(['--name a'], { extra: 'Qqqqqqqqqqqq=5\n' })), 'unknown-key').fix).toBe('remove it, or check the spelling against systemd.service(5)');
    expect(only(lint(unit(['--name a']).replace('Description=etcd', 'Qqqqqqqqqqqq=etcd')), 'unknown-key').fix).toBe('remove it, or check the spelling against systemd.unit(5)');
  });
});

describe('continued lines', () => {
  it('three backslashes: the count, and that one is the right number', () => {
    const p = lint('[Service]\nType=notify\nExecStart=/usr/local/bin/etcd \\\\\\\n  --name a\n').find((x) => x.rule === 'continuation')!;
    expect(p.message).toMatch(/^line ends in 3 backslashes: the last one continues the line, the others leave a literal '\\' in the value/);
    expect(p.fix).toBe("end the line with exactly one '\\'");
  });

  it('a backslash on the last line continues into nothing', () => {
    const p = lint('[Service]\nType=notify\nExecStart=/usr/local/bin/etcd --name a \\').find((x) => x.rule === 'continuation')!;
    expect([p.message, p.fix]).toEqual(["the last line of the file ends in '\\': the value continues into nothing", "remove the trailing '\\'"]);
  });

  it('a backslash before an empty line is a warning naming that line', () => {
    const p = lint('[Service]\nType=notify\nExecStart=/usr/local/bin/etcd --name a \\\n\nRestart=always\n').find((x) => x.rule === 'continuation')!;
    expect(p.severity).toBe('warning');
    expect(p.message).toBe("line ends in '\\' but line 4 is empty: the value ends at the empty line, and any flag after it is read as a key of its own");
    expect(p.fix).toBe("remove the trailing '\\' if this is the last flag, or remove the empty line 4");
  });

  it('a backslash on the last flag swallows the next setting into etcd\'s arguments', () => {
    const p = lint('[Service]\nType=notify\nExecStart=/usr/local/bin/etcd \\\n  --name a \\\nRestart=always\n').find((x) => x.rule === 'continuation')!;
    expect(p.message).toBe(`line ends in '\\', so line 5 ('Restart=always') becomes part of this value: etcd gets 'Restart=always' as an argument and exits with "'Restart=always' is not a valid flag"`);
    expect(p.fix).toBe("remove the '\\' at the end of line 4: the last line of a continued value must not end in '\\'");
  });
});

describe('[Service] and ExecStart=', () => {
  it('Type=: none, unknown, or not notify', () => {
    expect(only(lint(unit(['--name a'], { type: null })), 'service-type').message).toMatch(/^no Type= in \[Service\]: systemd uses Type=simple/);
    const bad = only(lint(unit(['--name a'], { type: 'notfy' })), 'service-type');
    expect(bad.message).toMatch(/^Type=notfy is not a service type systemd knows \(simple, .*notify.*\); systemd refuses the setting$/);
    expect(bad.fix).toBe('Type=notify');
    expect(only(lint(unit(['--name a'], { type: 'exec' })), 'service-type').message).toMatch(/^Type=exec: etcd reports readiness with sd_notify; with another type, 'systemctl start etcd' does not wait/);
  });

  it('no [Service], no ExecStart=, two of them (allowed for oneshot only), and an empty ExecStart= resets the list', () => {
    expect(only(lint('[Unit]\nDescription=x\n'), 'exec-start').message).toBe('the unit has no [Service] section, so it has no ExecStart= and systemd cannot start etcd');
    expect(only(lint('[Service]\nType=notify\n'), 'exec-start').message).toMatch(/Service has no ExecStart=, ExecStop=, or SuccessAction=\. Refusing\./);
    const two = lint('[Service]\nType=notify\nExecStart=/usr/local/bin/etcd --name a\nExecStart=/usr/local/bin/etcd --name b\n');
    expect(only(two, 'exec-start').message).toMatch(/^a second ExecStart= \(the first is on line 3\): systemd logs "Service has more than one ExecStart= setting/);
    expect(lint('[Service]\nType=oneshot\nExecStart=/usr/local/bin/etcd --name a\nExecStart=/usr/local/bin/etcd --name b\n').filter((p) => p.rule === 'exec-start')).toEqual([]);
    expect(lint('[Service]\nType=notify\nExecStart=/usr/local/bin/etcd --name a\nExecStart=\nExecStart=/usr/local/bin/etcd --name b\n').filter((p) => p.rule === 'exec-start')).toEqual([]);
  });

  it('the program: an absolute path, the one hardway installs, etcd itself; systemd prefixes are not part of it', () => {
    expect(only(lint(unit(['--name a'], { exec: 'etcd' })), 'exec-start').fix).toBe('use the absolute path: ExecStart=/usr/local/bin/etcd');
    const elsewhere = only(lint(unit(['--name a'], { exec: '/opt/etcd' })), 'path');
    expect(elsewhere.message).toBe('ExecStart= runs /opt/etcd, but hardway installs etcd at /usr/local/bin/etcd: systemd fails with status=203/EXEC ("Failed to locate executable /opt/etcd: No such file or directory")');
    expect(elsewhere.fix).toBe('ExecStart=/usr/local/bin/etcd');
    const wrapped = lint(unit(['--bogus'], { exec: '/usr/local/bin/wrapper' }));
    expect(wrapped.find((p) => p.rule === 'exec-start')!.message).toBe("ExecStart= does not run etcd directly ('/usr/local/bin/wrapper'), so its etcd flags were not checked");
    expect(wrapped.some((p) => p.rule === 'unknown-flag')).toBe(false);
    expect(lint(unit(['--name a'], { exec: '-/usr/local/bin/etcd' }))).toEqual([]);
    // '@': the next word is argv[0], not a flag.
    expect(lint(unit(['--name a'], { exec: '@/usr/local/bin/etcd etcd' }))).toEqual([]);
  });
});

describe("etcd's flags: what etcd says when it refuses them", () => {
  it('a release hardway has no list for: said once, the flags left unchecked', () => {
    const ps = lint(unit(['--name a', '--bogus']), '3.9.1');
    expect(ps.map((p) => [p.severity, p.rule])).toEqual([['warning', 'unknown-flag']]);
    expect(ps[0]!.message).toMatch(/^hardway has no flag list for etcd 3\.9\.1 \(it knows 3\.4, 3\.5, 3\.6\): the flags were not checked/);
  });

  it('bad flag syntax, a boolean with a separate or a wrong value, a value flag last or swallowing the next flag', () => {
    expect(only(lint(unit(['---name=a'])), 'flag-value').message).toBe(`'---name=a' is not flag syntax etcd understands: it exits with "bad flag syntax: ---name=a"`);
    const sep = only(lint(unit(['--name a', '--client-cert-auth true'])), 'flag-value');
    expect(sep.message).toBe(`--client-cert-auth is a boolean flag: it takes no separate value, so 'true' becomes a positional argument and etcd exits with "'true' is not a valid flag"`);
    expect(sep.fix).toBe('write --client-cert-auth=true (or just --client-cert-auth)');
    expect(only(lint(unit(['--name a', '--client-cert-auth false'])), 'flag-value').fix).toBe('write --client-cert-auth=false');
    const wrong = only(lint(unit(['--name a', '--client-cert-auth=yes'])), 'flag-value');
    expect([wrong.message, wrong.fix]).toEqual([`--client-cert-auth=yes: etcd exits with 'invalid boolean value "yes" for -client-cert-auth'`, '--client-cert-auth=true or --client-cert-auth=false']);
    const last = only(lint(unit(['--data-dir'])), 'flag-value');
    expect([last.message, last.fix]).toEqual(['--data-dir needs a value and is the last argument: etcd exits with "flag needs an argument: -data-dir"', '--data-dir=<value>']);
    const swallow = only(lint(unit(['--name', '--data-dir=/var/lib/etcd'])), 'flag-value');
    expect(swallow.message).toBe("--name takes a value, so it swallows the next argument '--data-dir=/var/lib/etcd' as its value (and that flag is not set)");
    expect(swallow.fix).toBe('give --name its value: --name=<value>');
  });

  it('a flag of a newer release, one removed since, a misspelt one: each with what etcd logs and the way out', () => {
    const newer = only(lint(unit(['--name a', '--socket-reuse-port=true'])), 'unknown-flag');
    expect(newer.message).toMatch(/^--socket-reuse-port is not an etcd 3\.4 flag \(it exists in etcd 3\.5, 3\.6\): etcd 3\.4\.23 exits with "flag provided but not defined: -socket-reuse-port" \(status=2\/INVALIDARGUMENT under systemd\)$/);
    expect(newer.fix).toBe('remove it, or set etcd.version to an etcd 3.5 release');
    const removed = only(lint(unit(['--name a', '--debug']), '3.5.17'), 'unknown-flag');
    expect(removed.message).toMatch(/^--debug is not an etcd 3\.5 flag \(it was removed after etcd 3\.4\)/);
    expect(removed.fix).toBe('use --log-level=debug instead');
    const typo = only(lint(unit(['--name a', '--data-dirr=/var/lib/etcd'])), 'unknown-flag');
    expect(typo.message).toBe('--data-dirr is not an etcd flag (etcd 3.4): etcd 3.4.23 exits with "flag provided but not defined: -data-dirr" (status=2/INVALIDARGUMENT under systemd)');
    expect(typo.fix).toBe('did you mean --data-dir?');
    expect(only(lint(unit(['--name a', '--qqqqqqqqqqqqqqqq'])), 'unknown-flag').fix).toBe("remove it (see 'etcd --help' of etcd 3.4.23)");
  });

  it('the same flag twice: both lines, both values, and that etcd keeps the last without a word', () => {
    const p = only(lint(unit(['--name a', '--name b'])), 'duplicate-flag');
    expect(p.message).toBe("--name is given twice, on line 7 and on line 8 ('a' and 'b'): etcd keeps the last one without a word");
    expect(p.fix).toBe('keep only one --name (with hardway, remove it from etcd.extraFlags if the template already sets it)');
    expect(only(lint(unit(['--name a', '--name a'])), 'duplicate-flag').message).toBe('--name is given twice, on line 7 and on line 8: etcd keeps the last one without a word');
  });

  it('plain http on a network address is refused; on loopback it is the guide\'s single node', () => {
    const p = only(lint(unit(['--name a', '--listen-client-urls=http://10.0.0.1:2379'])), 'plain-http');
    expect(p.message).toBe("--listen-client-urls has plain http://10.0.0.1: etcd's traffic, every Secret included, would cross the network unencrypted");
    expect(lint(unit(['--name a', '--listen-client-urls=http://127.0.0.1:2379,http://[::1]:2379,http://localhost:2379'])).filter((x) => x.rule === 'plain-http')).toEqual([]);
  });
});

describe('paths hardway installs', () => {
  it('a TLS flag pointing at the wrong kind of file, at no file, and the config file', () => {
    const swapped = only(lint(unit(['--name a', '--cert-file=/etc/etcd/kubernetes-key.pem'])), 'path');
    expect(swapped.message).toBe('--cert-file=/etc/etcd/kubernetes-key.pem points at the private key hardway installs, but this flag needs the certificate: TLS fails (etcd cannot load the key pair, or rejects every peer)');
    expect(swapped.fix).toBe('--cert-file=/etc/etcd/kubernetes.pem');
    const none = only(lint(unit(['--name a', '--trusted-ca-file=/etc/etcd/other.pem'])), 'path');
    expect(none.message).toBe('--trusted-ca-file=/etc/etcd/other.pem: hardway installs no file there, so etcd exits with "open /etc/etcd/other.pem: no such file or directory"');
    expect(none.fix).toBe('--trusted-ca-file=/etc/etcd/ca.pem (the CA certificate hardway installs)');
    const config = only(lint(unit(['--name a', '--config-file=/etc/etcd/etcd.yaml'])), 'path');
    expect(config.message).toBe('--config-file=/etc/etcd/etcd.yaml: hardway installs no etcd config file, and with --config-file etcd ignores every other flag');
    expect(config.fix).toBe('remove --config-file');
    expect(lint(unit(['--name a', '--key-file=/etc/etcd//kubernetes-key.pem']))).toEqual([]);
  });

  it('another data dir, and a directory hardway does not create, are warnings with the way to agree', () => {
    const data = only(lint(unit(['--name a', '--data-dir=/srv/etcd'])), 'path');
    expect(data.severity).toBe('warning');
    expect(data.fix).toBe('set etcd.dataDir in the inventory to /srv/etcd, or use --data-dir=/var/lib/etcd');
    expect(lint(unit(['--name a', '--data-dir=/var/lib/etcd/']))).toEqual([]);
    const wal = only(lint(unit(['--name a', '--wal-dir=/fast/wal'])), 'path');
    expect(wal.message).toBe('--wal-dir=/fast/wal: hardway does not create or check this directory (only /var/lib/etcd); etcd creates it at start');
    expect(wal.fix).toBe('make sure /fast/wal exists on a fast disk with mode 0700, or remove --wal-dir');
  });
});
