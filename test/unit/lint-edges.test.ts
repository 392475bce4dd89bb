import { describe, expect, it } from 'vitest';
import { formatLintProblem, hasErrors, installedPaths, lintUnit, type LintProblem } from '../../src/render/index.js';

// The unit lint past its common cases: what ends etcd's flags, values only known when systemd starts the unit,
// values and releases a flag is bound to, and how the text of a continuation problem names its consequence.
const FILE = '/etc/systemd/system/etcd.service';
const lint = (text: string, etcdVersion = '3.4.23', withPaths = true) => lintUnit(text, { file: FILE, etcdVersion, ...(withPaths ? { installedPaths: installedPaths() } : {}) });
const unit = (flags: string[], opts: { type?: string; exec?: string; extra?: string } = {}) => {
  const exec = [`ExecStart=${opts.exec ?? '/usr/local/bin/etcd'}`, ...flags.map((f) => `  ${f}`)].join(' \\\n');
  return `[Unit]\nDescription=etcd\n\n[Service]\nType=${opts.type ?? 'notify'}\n${exec}\n${opts.extra ?? ''}Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n`;
};
const rules = (ps: LintProblem[]) => ps.map((p) => `${p.line} ${p.severity} ${p.rule}`);

describe('words that are not flags', () => {
  it('a word after "--" is not a flag, and says where it is; "--" last is nothing', () => {
    const ps = lint(unit(['--name a', '--', 'x']));
    expect(rules(ps)).toEqual(['9 error flag-value']);
    expect(ps[0]!.message).toBe(`'x' after "--" is not a flag: etcd stops reading flags there and exits with "'x' is not a valid flag" (every flag after it is ignored).`);
    expect(ps[0]!.fix).toBe('remove it, or attach it to its flag: --flag=x');
    expect(lint(unit(['--name a', '--']))).toEqual([]);
  });

  it('a lone "-" is a word, not a flag; only the first stray word is reported (etcd stops there)', () => {
    expect(rules(lint(unit(['--name a', '-'])))).toEqual(['8 error flag-value']);
    const ps = lint(unit(['--name a', 'stray', 'more', '--', 'after']));
    expect(ps).toHaveLength(1);
    expect(ps[0]!.message).toMatch(/^'stray' is not a flag/);
  });

  it('a leftover backslash and a unit setting among the arguments are named as what they are', () => {
    const slash = lint(unit(['--name a', '\\\\', '--data-dir=/var/lib/etcd'])).find((p) => p.rule === 'flag-value')!;
    expect(slash.message.endsWith(" It is a leftover backslash: a continued line ends in '\\\\' or in '\\' followed by a space.")).toBe(true);
    expect(slash.fix).toBe('fix the line continuation so that only flags are passed to etcd');
    const setting = lint(unit(['--name a', 'Restart=always'])).find((p) => p.rule === 'flag-value')!;
    expect(setting.message.endsWith(" It is a unit setting: the line before it ends in '\\', so it became part of ExecStart=.")).toBe(true);
    expect(setting.fix).toBe('fix the line continuation so that only flags are passed to etcd');
  });
});

describe('values systemd fills in at start ($VAR, ${VAR}, %i)', () => {
  it('are not judged: not as booleans, not as one of a list, not as URLs, not as paths', () => {
    for (const flag of ['--client-cert-auth=$AUTH', '--initial-cluster-state=${STATE}', '--listen-client-urls=http://$IP:2379', '--data-dir=/srv/%i', '--cert-file=${CERT}']) {
      expect(lint(unit(['--name a', flag])), flag).toEqual([]);
    }
  });

  it('a fixed value next to them still is', () => {
    expect(rules(lint(unit(['--name $NAME', '--initial-cluster-state=old'])))).toEqual(['8 error flag-value']);
  });
});

describe('flags bound to values and releases', () => {
  it('a value outside the list etcd accepts: the list, and the fix to pick one', () => {
    const p = lint(unit(['--name a', '--initial-cluster-state=old'])).find((x) => x.rule === 'flag-value')!;
    expect(p.message).toBe("--initial-cluster-state=old: etcd 3.4 accepts only 'new', 'existing'");
    expect(p.fix).toBe('use one of: new, existing');
    expect(p.line).toBe(8);
  });

  it('a flag added in a patch release: refused up to that release, accepted after it', () => {
    const p = lint(unit(['--name a', '--max-concurrent-streams=100']), '3.4.19').find((x) => x.rule === 'unknown-flag')!;
    expect(p.message).toBe('--max-concurrent-streams is not in etcd 3.4.19: it was added after 3.4.19, so etcd 3.4.19 exits with "flag provided but not defined: -max-concurrent-streams"');
    expect(p.fix).toBe('remove it, or use an etcd release newer than 3.4.19');
    expect(lint(unit(['--name a', '--max-concurrent-streams=100']), '3.4.20')).toEqual([]);
  });

  it('a deprecated flag names its successor flag, or what to do when there is none', () => {
    const out = lint(unit(['--name a', '--log-output=stderr'])).find((x) => x.rule === 'deprecated-flag')!;
    expect(out).toMatchObject({ severity: 'warning', message: '--log-output is deprecated in etcd 3.4', fix: 'use --log-outputs instead' });
    const count = lint(unit(['--name a', '--snapshot-count=100']), '3.6.4').find((x) => x.rule === 'deprecated-flag')!;
    expect(count.fix).toBe('use nothing (it is deprecated in 3.6 and goes away in 3.7; remove it)');
  });

  it('an ignored flag other than --config is simply to be removed', () => {
    const ignored = lint(unit(['--name a', '--proxy-refresh-interval=1000'])).filter((x) => x.rule === 'deprecated-flag');
    for (const p of ignored) expect(p.fix).toBe('remove it');
  });

  it('a removed flag points at its replacement: the deprecation it had, or the stable name of an experimental flag', () => {
    expect(lint(unit(['--name a', '--log-output=stderr']), '3.5.17').find((x) => x.rule === 'unknown-flag')!.fix).toBe('use --log-outputs instead');
    expect(lint(unit(['--name a', '--log-package-levels=x']), '3.5.17').find((x) => x.rule === 'unknown-flag')!.fix).toBe('use --log-level instead');
    expect(lint(unit(['--name a', '--experimental-backend-bbolt-freelist-type=map']), '3.5.17').find((x) => x.rule === 'unknown-flag')!.fix).toBe('use --backend-bbolt-freelist-type instead');
    expect(lint(unit(['--name a', '--experimental-enable-v2v3=/v2']), '3.6.4').find((x) => x.rule === 'unknown-flag')!.fix).toBe('remove it');
  });

  it('a release hardway has no list for still knows which flags are booleans and which take paths', () => {
    expect(rules(lint(unit(['--name a', '--client-cert-auth true']), '3.9.1'))).toEqual(['7 warning unknown-flag', '8 error flag-value']);
    expect(lint(unit(['--name a', '--cert-file=/etc/etcd/other.pem']), '3.9.1').map((p) => p.rule)).toEqual(['unknown-flag', 'path']);
  });
});

describe('plain HTTP, URL by URL', () => {
  it('each peer of --initial-cluster on a network address over http is one problem; https ones are none', () => {
    const ps = lint(unit(['--name a', '--initial-cluster=a=http://10.0.0.1:2380,b=https://10.0.0.2:2380,c=http://10.0.0.3:2380'])).filter((p) => p.rule === 'plain-http');
    expect(ps.map((p) => p.message.match(/http:\/\/[^:]+/)![0])).toEqual(['http://10.0.0.1', 'http://10.0.0.3']);
  });

  it('a URL flag given as a separate word is reported at that word', () => {
    const p = lint(unit(['--name a', '--advertise-client-urls http://10.0.0.1:2379'])).find((x) => x.rule === 'plain-http')!;
    expect([p.line, p.col]).toEqual([8, 27]);
  });
});

describe('ExecStart', () => {
  it("a relative program: systemd's view, and the installed path as the fix", () => {
    const p = lint(unit(['--name a'], { exec: 'bin/etcd' })).find((x) => x.rule === 'exec-start')!;
    expect(p.message).toBe("ExecStart= runs 'bin/etcd', which is not an absolute path (older systemd refuses it; newer ones search a fixed PATH)");
    expect(lint(unit(['--name a'], { exec: 'bin/etcd' }), '3.4.23', false).find((x) => x.rule === 'exec-start')!.fix).toBe('use the absolute path: ExecStart=/usr/local/bin/etcd');
  });

  it('a wrapper is named, with the installed etcd as the fix, and its flags are not checked', () => {
    const p = lint(unit(['--bogus'], { exec: '/usr/local/bin/wrapper' }), '3.4.23', false);
    expect(p).toEqual([
      expect.objectContaining({
        severity: 'warning',
        rule: 'exec-start',
        message: "ExecStart= does not run etcd directly ('/usr/local/bin/wrapper'), so its etcd flags were not checked",
        fix: 'run /usr/local/bin/etcd directly; put wrappers in a drop-in instead',
      }),
    ]);
  });

  it('an empty ExecStart= is no ExecStart at all', () => {
    const p = lint('[Service]\nType=notify\nExecStart=\n');
    expect(rules(p)).toEqual(['1 error exec-start']);
  });
});

describe('how a continuation problem names what follows', () => {
  it('a backslash and spaces before a setting systemd accepts: the next line starts a new setting', () => {
    const text = unit(['--name a']).replace('--name a\n', '--name a \\  \n');
    const p = lint(text).find((x) => x.rule === 'continuation')!;
    expect(p.message).toMatch(/, so line 8 starts a new setting$/);
  });

  it('a broken continuation into one flag line: that line becomes a line of its own, in systemd words', () => {
    const text = unit(['--name a', '--data-dir=/var/lib/etcd']).replace('--name a \\\n', '--name a \\  \n');
    const p = lint(text).find((x) => x.rule === 'continuation')!;
    expect(p.message).toMatch(/, so line 8 becomes a line of its own and systemd logs "etcd\.service:8: Unknown key '--data-dir' in section \[Service\], ignoring\."$/);
  });

  it('a second doubled backslash refers to the first', () => {
    const text = unit(['--name a', '--data-dir=/var/lib/etcd', '--initial-cluster-state=new']).replace(/ \\\n/g, ' \\\\\n');
    const ps = lint(text).filter((x) => x.rule === 'continuation');
    expect(ps.map((p) => p.line)).toEqual([6, 7, 8]);
    expect(ps[2]!.message).toBe("line ends in a doubled backslash '\\\\' (as line 6), so line 9 becomes a line of its own and systemd logs \"etcd.service:9: Unknown key '--initial-cluster-state' in section [Service], ignoring.\"");
    expect(ps[1]!.message).not.toContain('is not a valid flag');
  });

  it('a continued setting outside ExecStart swallowing the next line: no word about etcd', () => {
    const text = unit(['--name a']).replace('Description=etcd\n', 'Description=etcd \\\nDocumentation=https://etcd.io\n');
    const p = lint(text).find((x) => x.rule === 'continuation')!;
    expect(p.message).toBe("line ends in '\\', so line 3 ('Documentation=https://etcd.io') becomes part of this value");
    expect(p.fix).toBe("remove the '\\' at the end of line 2: the last line of a continued value must not end in '\\'");
  });
});

describe('problems as text and as a verdict', () => {
  it('a problem without a column is placed at its line; with one, at line:column', () => {
    const base = { file: 'u.service', line: 4, severity: 'warning' as const, rule: 'service-type' as const, message: 'm', fix: 'f' };
    expect(formatLintProblem(base)).toBe('u.service:4: warning: m — fix: f');
    expect(formatLintProblem({ ...base, col: 0 })).toBe('u.service:4:0: warning: m — fix: f');
  });

  it('errors fail a unit; warnings alone do not', () => {
    const w = { file: 'u', line: 1, severity: 'warning' as const, rule: 'path' as const, message: '', fix: '' };
    expect(hasErrors([])).toBe(false);
    expect(hasErrors([w])).toBe(false);
    expect(hasErrors([w, { ...w, severity: 'error' }])).toBe(true);
  });

  it('a setting longer than 60 characters is cut in the message', () => {
    const long = `Foo${'x'.repeat(70)}=1`;
    const p = lint(`${long}\n${unit(['--name a'])}`).find((x) => x.rule === 'outside-section')!;
    expect(p.message).toContain(`'${long.slice(0, 59)}…' is outside any section`);
  });
});
