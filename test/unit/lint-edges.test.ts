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
    expect(lint(unit(['--name a', '-']))[0]!.message).toMatch(/^'-' is not a flag: /);
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

describe('sections systemd reads, and lines it names', () => {
  it('an X- section is skipped silently by systemd, keys and all', () => {
    const text = `${unit(['--name a'])}[X-Mine]\nFoo=bar\nno equals here\n`;
    expect(lint(text)).toEqual([]);
  });

  it('an unknown section is reported once, at its header; the settings in it are not judged', () => {
    const ps = lint(unit(['--name a']).replace('[Install]', '[Instal]'));
    expect(rules(ps)).toEqual(['10 error unknown-section']);
  });

  it('a header quoted in the message is trimmed of the spaces around it', () => {
    const p = lint(`[Unit \nDescription=x\n${unit(['--name a']).replace('[Unit]\nDescription=etcd\n', '')}`).find((x) => x.rule === 'unknown-section')!;
    expect(p.message).toMatch(/^invalid section header '\[Unit': /);
  });

  it('an indented line is placed at its first character; the fix of a stray setting says where it goes', () => {
    const p = lint(`   Foo=x\n${unit(['--name a'])}`).find((x) => x.rule === 'outside-section')!;
    expect([p.line, p.col]).toEqual([1, 4]);
    expect(p.fix).toBe('move it under the section it belongs to ([Unit], [Service] or [Install]), or delete it');
    const q = lint(unit(['--name a'], { extra: '  Restart on-failure\n' })).find((x) => x.rule === 'missing-equals')!;
    expect(q.col).toBe(3);
  });

  it('an etcd flag read as a [Service] key: the fix is the continuation before it', () => {
    const p = lint(unit(['--name a'], { extra: '--data-dir=/var/lib/etcd\n' })).find((x) => x.rule === 'unknown-key')!;
    expect(p.fix).toBe("this etcd flag is not part of ExecStart=: end the line before it with a single '\\' (and no spaces after it)");
  });

  it('a setting of exactly 60 characters is quoted whole', () => {
    const sixty = `Foo=${'x'.repeat(56)}`;
    const p = lint(`${sixty}\n${unit(['--name a'])}`).find((x) => x.rule === 'outside-section')!;
    expect(p.message).toContain(`'${sixty}' is outside any section`);
  });

  it('ExecStart= in another section is an unknown key there, not a second ExecStart', () => {
    const text = unit(['--name a']).replace('Description=etcd\n', 'Description=etcd\nExecStart=/usr/local/bin/etcd --name b\n');
    expect(lint(text).map((p) => p.rule)).toEqual(['unknown-key']);
  });
});

describe('continuation messages, word for word', () => {
  it('a backslash then spaces: the fix deletes the spaces', () => {
    const p = lint(unit(['--name a', '--data-dir=/var/lib/etcd']).replace('--name a \\\n', '--name a \\  \n')).find((x) => x.rule === 'continuation')!;
    expect(p.fix).toBe("delete the spaces after the '\\'");
  });

  it('a doubled backslash after a broken continuation elsewhere is still the first doubled one', () => {
    const text = unit(['--name a', '--data-dir=/var/lib/etcd', '--initial-cluster-state=new']).replace('ExecStart=/usr/local/bin/etcd \\\n', 'ExecStart=/usr/local/bin/etcd \\ \n').replace('--data-dir=/var/lib/etcd \\\n', '--data-dir=/var/lib/etcd \\\\\n');
    const doubled = lint(text).find((x) => x.rule === 'continuation' && x.line === 8)!;
    expect(doubled.message.startsWith("line ends in a doubled backslash '\\\\': systemd reads it as an escaped backslash")).toBe(true);
  });

  it('ExecStartPre= and X-ExecStart= are not ExecStart=: a doubled backslash there starts no etcd', () => {
    for (const key of ['ExecStartPre', 'X-ExecStart']) {
      const text = unit(['--name a'], { extra: '' }).replace('Type=notify\n', `Type=notify\n${key}=/bin/true \\\\\n  /tmp\n`);
      const p = lint(text).find((x) => x.rule === 'continuation')!;
      expect(p.message, key).not.toContain('etcd is started with');
    }
  });

  it('three backslashes are counted at the end of the line, not where the first backslash is', () => {
    const text = unit(['--name a\\b', '--data-dir=/var/lib/etcd']).replace('--name a\\b \\\n', '--name a\\b \\\\\\\n');
    const p = lint(text).find((x) => x.rule === 'continuation')!;
    expect(p.message).toMatch(/^line ends in 3 backslashes/);
  });

  it('a continued line that is an etcd flag, or has a dash only inside it, swallowing the next line', () => {
    const flag = unit(['--name a']).replace('Type=notify\n', 'Type=notify\n-x \\\nFoo=bar\n');
    expect(lint(flag).find((x) => x.rule === 'continuation')!.message).toContain(": etcd gets 'Foo=bar' as an argument");
    const dash = unit(['--name a']).replace('Description=etcd\n', 'Description=etcd key-value store \\\nDocumentation=x\n');
    const p = lint(dash).find((x) => x.rule === 'continuation')!;
    expect(p.message).toBe("line ends in '\\', so line 3 ('Documentation=x') becomes part of this value");
    // The line swallowed is quoted without its indentation.
    const header = unit(['--name a']).replace('Restart=on-failure\n\n[Install]', 'Restart=on-failure \\\n  [Install]');
    expect(lint(header).find((x) => x.rule === 'continuation')!.message).toBe("line ends in '\\', so line 9 ('[Install]') becomes part of this value");
  });
});

describe('[Service] without what it needs: the fixes', () => {
  it('no [Service], no Type=, another Type=, no ExecStart=, a second ExecStart=', () => {
    expect(lint('[Unit]\nDescription=x\n')[0]!.fix).toBe('add a [Service] section with Type=notify and ExecStart=/usr/local/bin/etcd …');
    const noType = lint(unit(['--name a']).replace('Type=notify\n', '')).find((x) => x.rule === 'service-type')!;
    expect(noType.fix).toBe('add Type=notify (etcd reports readiness with sd_notify, as in Kubernetes The Hard Way)');
    expect(lint(unit(['--name a'], { type: 'simple' })).find((x) => x.rule === 'service-type')!.fix).toBe('Type=notify');
    expect(lint('[Service]\nType=notify\n').find((x) => x.rule === 'exec-start')!.fix).toBe('add ExecStart=/usr/local/bin/etcd with its flags, one per continued line');
    const two = lint(unit(['--name a'], { extra: 'ExecStart=/usr/local/bin/etcd --name b\n' })).find((x) => x.rule === 'exec-start')!;
    expect(two.fix).toBe('keep a single ExecStart=');
  });

  it('two ExecStart= without any Type= are refused as well', () => {
    const text = unit(['--name a'], { extra: 'ExecStart=/usr/local/bin/etcd --name b\n' }).replace('Type=notify\n', '');
    expect(lint(text).map((p) => p.rule)).toEqual(['service-type', 'exec-start']);
  });

  it('systemd prefixes of several characters are not part of the program', () => {
    for (const exec of ['!!/usr/local/bin/etcd', '-+/usr/local/bin/etcd']) expect(lint(unit(['--name a'], { exec })), exec).toEqual([]);
  });

  it('a release hardway has no list for: the fix names the releases it knows', () => {
    expect(lint(unit(['--name a']), '3.9.1')[0]!.fix).toBe("use an etcd 3.4/3.5/3.6 release, or check the flags with 'etcd --help'");
  });
});

describe('flag words, one by one', () => {
  it('bad flag syntax is an error with the --name=value form as the fix', () => {
    expect(lint(unit(['--name a', '---x'])).find((x) => x.rule === 'flag-value')).toMatchObject({ severity: 'error', fix: 'write flags as --name=value' });
  });

  it('a boolean flag last, or a value flag last, is not taken to swallow anything', () => {
    expect(lint(unit(['--name a', '--client-cert-auth']))).toEqual([]);
    expect(lint(unit(['--name a', '--data-dir'])).find((x) => x.rule === 'flag-value')!.severity).toBe('error');
  });

  it('a flag etcd does not know does not take the next flag as its value', () => {
    expect(lint(unit(['--bogus', '--name a'])).map((p) => p.rule)).toEqual(['unknown-flag']);
  });

  it('a lone "-" after a value flag is that value', () => {
    expect(lint(unit(['--name -']))).toEqual([]);
  });

  it('a URL flag without a value, or a URL in a flag that takes none, is no plain-HTTP problem', () => {
    expect(lint(unit(['--name a', '--listen-client-urls'])).map((p) => p.rule)).toEqual(['flag-value']);
    expect(lint(unit(['--name=http://10.0.0.1:2379'])).filter((p) => p.rule === 'plain-http')).toEqual([]);
  });

  it('plain HTTP: the fix offers TLS or loopback', () => {
    expect(lint(unit(['--name a', '--listen-peer-urls=http://10.0.0.1:2380'])).find((p) => p.rule === 'plain-http')!.fix).toBe(
      "use https:// with certificates (etcd.tls: true, hardway's default), or bind plain HTTP to 127.0.0.1 only (a single node)",
    );
  });

  it('two backslashes as a word are a leftover too; a word only ending in one, or a lower-case key=value, is just a stray word', () => {
    const why = (word: string) => lint(unit(['--name a', word, '--data-dir=/var/lib/etcd'])).find((p) => p.rule === 'flag-value')!.fix;
    expect(why('\\\\\\\\')).toBe('fix the line continuation so that only flags are passed to etcd');
    expect(why('x\\\\')).toBe('remove it, or attach it to its flag: --flag=x\\');
    expect(why('\\\\x')).toBe('remove it, or attach it to its flag: --flag=\\x');
    expect(why('name=x')).toBe('remove it, or attach it to its flag: --flag=name=x');
    expect(why('1Restart=x')).toBe('remove it, or attach it to its flag: --flag=1Restart=x');
  });

  it('an ignored flag: a warning that etcd accepts and ignores it', () => {
    const p = lint(unit(['--name a', '--max-result-buffer=1'])).find((x) => x.rule === 'deprecated-flag')!;
    expect(p).toMatchObject({ severity: 'warning', message: '--max-result-buffer is accepted by etcd and ignored (a leftover of etcd 0.4/2.x)', fix: 'remove it' });
  });

  it('a list-valued flag without a value is only missing its value; a wrong value given as its own word is placed there', () => {
    expect(lint(unit(['--name a', '--initial-cluster-state'])).map((p) => p.rule)).toEqual(['flag-value']);
    const p = lint(unit(['--name a', '--initial-cluster-state old'])).find((x) => x.rule === 'flag-value')!;
    expect([p.line, p.col]).toEqual([8, 27]);
  });

  it('--logger: capnslog in a release without it is named as such; any other wrong value gets the list', () => {
    const cap = lint(unit(['--name a', '--logger=capnslog']), '3.5.17').find((x) => x.rule === 'flag-value')!;
    expect(cap.message).toBe('--logger=capnslog exists in etcd 3.4 only; etcd 3.5.17 refuses to start with it');
    expect(lint(unit(['--name a', '--logger=json']), '3.5.17').find((x) => x.rule === 'flag-value')!.message).toBe("--logger=json: etcd 3.5 accepts only 'zap'");
  });

  it('the same boolean flag twice, once with a value and once without: no values to compare', () => {
    for (const pair of [['--client-cert-auth', '--client-cert-auth=true'], ['--client-cert-auth=true', '--client-cert-auth']]) {
      const p = lint(unit(['--name a', ...pair])).find((x) => x.rule === 'duplicate-flag')!;
      expect(p.message, pair.join(' ')).toBe('--client-cert-auth is given twice, on line 8 and on line 9: etcd keeps the last one without a word');
    }
  });

  it('a path given as its own word is placed at that word; another data dir names both', () => {
    const p = lint(unit(['--name a', '--data-dir /srv/etcd'])).find((x) => x.rule === 'path')!;
    expect([p.line, p.col]).toEqual([8, 14]);
    expect(p.message).toBe("--data-dir=/srv/etcd is not the data directory hardway creates (/var/lib/etcd, mode 0700): etcd creates it itself, and hardway's checks and backups look at /var/lib/etcd");
  });
});

describe('the order of problems at one place', () => {
  it('an error before a warning whatever order they were found in; two of one severity keep their order', async () => {
    const { sortProblems } = await import('../../src/render/lint.js');
    const at = (severity: 'error' | 'warning', message: string): LintProblem => ({ file: 'f', line: 3, col: 2, severity, rule: 'path', message, fix: '' });
    expect(sortProblems([at('warning', 'w'), at('error', 'e')]).map((p) => p.message)).toEqual(['e', 'w']);
    expect(sortProblems([at('error', 'e'), at('warning', 'w')]).map((p) => p.message)).toEqual(['e', 'w']);
    expect(sortProblems([at('error', 'e1'), at('error', 'e2')]).map((p) => p.message)).toEqual(['e1', 'e2']);
    expect(sortProblems([at('warning', 'w1'), at('warning', 'w2')]).map((p) => p.message)).toEqual(['w1', 'w2']);
  });
});


describe('flag values, a few more', () => {
  it('a boolean flag with its value, then a Go boolean word: that word is a stray argument, not its value', () => {
    const p = lint(unit(['--name a', '--client-cert-auth=true true', '--data-dir=/var/lib/etcd'])).find((x) => x.rule === 'flag-value')!;
    expect(p.message).toMatch(/^'true' is not a flag: /);
  });

  it('a flag etcd does not know takes the word after it as its value, when that word is no flag', () => {
    expect(lint(unit(['--bogus value', '--name a'])).map((p) => p.rule)).toEqual(['unknown-flag']);
  });

  it('the capnslog sentence is about --logger only', () => {
    expect(lint(unit(['--name a', '--log-level=capnslog'])).find((x) => x.rule === 'flag-value')!.message).toMatch(/^--log-level=capnslog: etcd 3\.4 accepts only /);
  });

  it('a wrong value on the line after its flag is reported on its own line', () => {
    const p = lint(unit(['--name a', '--initial-cluster-state', 'old'])).find((x) => x.rule === 'flag-value')!;
    expect([p.line, p.col]).toEqual([9, 3]);
  });
});
