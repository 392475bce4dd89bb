import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diagnoseFiles } from '../../src/doctor/offline.js';
import { diagnoseJournal } from '../../src/journal/diagnose.js';
import { journalScript } from '../../src/journal/read.js';
import { parseJournal } from '../../src/journal/parse.js';

/**
 * The generated journal script, run with `sh` against stub `systemctl`, `journalctl` and `stat` put first on PATH.
 * The journalctl stub honours matches (`F=V` terms, `+` for OR, `-u`), `--since=@N` and `-n`, so a script that
 * asks for the wrong window gets the wrong lines, as it would from a real journal.
 */

const CUR = 'b1'.repeat(16);
const PREV = 'a0'.repeat(16);
/** ExecMainStartTimestamp of the current run (two minutes ago), and the unit file's mtime (an hour earlier). */
const START = Math.floor(Date.now() / 1000) - 120;
const MTIME = START - 3600;

const JOURNALCTL_AWK = String.raw`
BEGIN {
  n = split(args, a, " "); g = 1; since = -1; limit = 0
  for (i = 1; i <= n; i++) {
    x = a[i]
    if (x == "+") { g++; continue }
    if (x == "-u") { u = a[++i]; add(g, "_SYSTEMD_UNIT=" u); g++; add(g, "UNIT=" u); add(g, "_PID=1"); continue }
    if (x == "-n") { limit = a[++i]; continue }
    if (x == "-o") { i++; continue }
    if (x ~ /^--since=@/) { since = substr(x, 10) * 1000000; continue }
    if (x ~ /^[A-Z_]+=/) add(g, x)
  }
}
function add(grp, term) { terms[grp] = terms[grp] SUBSEP term; groups = grp > groups ? grp : groups }
function has(line, term,   k, v) {
  k = substr(term, 1, index(term, "=") - 1); v = substr(term, index(term, "=") + 1)
  return index(line, "\"" k "\":\"" v "\"") > 0
}
function matches(line,   grp, t, m, j, ok) {
  if (!groups) return 1
  for (grp = 1; grp <= groups; grp++) {
    m = split(substr(terms[grp], 2), t, SUBSEP); ok = m > 0
    for (j = 1; j <= m; j++) if (!has(line, t[j])) ok = 0
    if (ok) return 1
  }
  return 0
}
{
  if (match($0, /"__REALTIME_TIMESTAMP":"[0-9]+"/)) ts = substr($0, RSTART + 24, RLENGTH - 25) + 0; else ts = 0
  if (since >= 0 && ts < since) next
  if (matches($0)) out[++cnt] = $0
}
END { for (i = (limit && cnt > limit ? cnt - limit + 1 : 1); i <= cnt; i++) print out[i] }
`;

const STUBS: Record<string, string> = {
  journalctl: `#!/bin/sh\necho "journalctl $*" >> "$STUB_DIR/calls"\nexec awk -v args="$*" -f "$STUB_DIR/journalctl.awk" "$STUB_DIR/journal.jsonl"\n`,
  // Answers the properties it is asked for from the environment; an unset one prints nothing, as an old
  // systemd does for a property it does not know.
  systemctl: [
    '#!/bin/sh',
    'echo "systemctl $*" >> "$STUB_DIR/calls"',
    'case "$*" in',
    '  *"-p ActiveState"*) echo "$STUB_ACTIVE" ;;',
    '  *"-p InvocationID"*) [ -n "$STUB_INVOCATION" ] && echo "$STUB_INVOCATION" ;;',
    '  *"-p ExecMainStartTimestamp"*) echo "@$STUB_START" ;;',
    'esac',
    'exit 0',
    '',
  ].join('\n'),
  // The unit file's change time: to the nanosecond for `%.9Z`, whole seconds otherwise.
  stat: '#!/bin/sh\ncase "$*" in *%.9Z*) echo "$STUB_CHANGED" ;; *) echo "${STUB_CHANGED%.*}" ;; esac\n',
};

interface Entry {
  us: number;
  message: string;
  pid?: number;
  fields: Record<string, string>;
}

let seq = 0;
/** One `journalctl -o json` line; journalctl prints the fields of an entry the same way in every query. */
function jsonLine(e: Entry): string {
  const cursor = `s=5e1f;i=${(++seq).toString(16)};b=2d8d;t=${e.us.toString(16)}`;
  const ident = e.pid === 1 ? 'systemd' : 'etcd';
  return JSON.stringify({ __CURSOR: cursor, __REALTIME_TIMESTAMP: String(e.us), _HOSTNAME: 'controller-0', SYSLOG_IDENTIFIER: ident, _PID: String(e.pid ?? 4242), ...e.fields, MESSAGE: e.message });
}

const systemd = (us: number, message: string, invocation?: string): Entry => ({
  us,
  message,
  pid: 1,
  fields: { UNIT: 'etcd.service', _SYSTEMD_UNIT: 'init.scope', ...(invocation ? { INVOCATION_ID: invocation } : {}) },
});
const etcd = (us: number, message: string, invocation: string): Entry => ({
  us,
  message,
  fields: { _SYSTEMD_UNIT: 'etcd.service', _SYSTEMD_INVOCATION_ID: invocation },
});
const at = (seconds: number): number => Math.round(seconds * 1e6);

/** The previous run ends by SIGTERM 0.4 s before the current run's start second: inside "start − 1 s". */
const RESTART = [
  etcd(at(START - 5), 'published {Name:controller-0} to cluster 54fde54459049788', PREV),
  systemd(at(START - 0.6), 'Stopping etcd.service - etcd...', PREV),
  systemd(at(START - 0.4), 'etcd.service: Main process exited, code=exited, status=143/n/a', PREV),
  systemd(at(START - 0.3), 'etcd.service: Failed with result \'exit-code\'.', PREV),
  systemd(at(START + 0.1), 'Started etcd.service - etcd.', CUR),
  etcd(at(START + 0.5), 'ready to serve client requests', CUR),
];

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hw-journal-window-'));
  writeFileSync(path.join(dir, 'journalctl.awk'), JOURNALCTL_AWK);
  for (const [name, text] of Object.entries(STUBS)) {
    writeFileSync(path.join(dir, name), text);
    chmodSync(path.join(dir, name), 0o755);
  }
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(entries: Entry[], env: { active: string; invocation?: string; changed?: string }, opts: { sinceSeconds?: number } = {}): { out: string; calls: string[] } {
  writeFileSync(path.join(dir, 'journal.jsonl'), entries.map(jsonLine).join('\n') + '\n');
  const r = spawnSync('sh', ['-c', journalScript(opts)], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      STUB_DIR: dir,
      STUB_ACTIVE: env.active,
      STUB_INVOCATION: env.invocation ?? '',
      STUB_START: String(START),
      STUB_CHANGED: env.changed ?? String(MTIME),
    },
  });
  expect(r.status, r.stderr).toBe(0);
  return { out: r.stdout, calls: readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') };
}

const journalctlCalls = (calls: string[]): string[] => calls.filter((c) => c.startsWith('journalctl '));
const messages = (out: string): string[] => parseJournal(out).map((e) => e.message);
const idsOf = (out: string): string[] => diagnoseJournal(parseJournal(out)).map((f) => f.id);

describe('journalScript: the window of etcd journal verify/doctor judge', () => {
  it("active unit: asks for the current invocation's entries, so the previous run's status=143 is not a finding", () => {
    const { out, calls } = run(RESTART, { active: 'active', invocation: CUR });
    expect(idsOf(out)).not.toContain('SD-05');
    expect(messages(out)).toEqual(['Started etcd.service - etcd.', 'ready to serve client requests']);
    const jc = journalctlCalls(calls);
    expect(jc).toContainEqual(expect.stringContaining(`_SYSTEMD_INVOCATION_ID=${CUR} + INVOCATION_ID=${CUR}`));
    expect(jc.join('\n')).not.toContain(`--since=@${START - 1}`);
    expect(jc.some((c) => c.includes('-u etcd.service'))).toBe(false);
  });

  it("unit not active: everything since the unit file changed, the last run's exit included", () => {
    const failed = [systemd(at(MTIME - 60), 'etcd.service: Main process exited, code=exited, status=2/INVALIDARGUMENT', PREV), ...RESTART.slice(0, 4)];
    // A stopped unit still reports its last InvocationID: the script must not narrow to it.
    const { out, calls } = run(failed, { active: 'failed', invocation: PREV });
    const jc = journalctlCalls(calls);
    expect(jc).toContainEqual(expect.stringMatching(new RegExp(`^journalctl -u etcd\\.service .*--since=@${MTIME}\\b`)));
    expect(jc).toContainEqual(expect.stringMatching(new RegExp(`^journalctl _PID=1 .*--since=@${MTIME}\\b`)));
    expect(jc.join('\n')).not.toContain('INVOCATION_ID');
    expect(messages(out)).not.toContain('etcd.service: Main process exited, code=exited, status=2/INVALIDARGUMENT');
    const sd05 = diagnoseJournal(parseJournal(out)).find((f) => f.id === 'SD-05');
    expect(sd05).toMatchObject({ count: 1, facts: { exits: 1 } });
    expect(sd05?.details[0]).toContain('status=143/n');
  });

  it('systemd without InvocationID (older than 232) falls back to the unit file mtime', () => {
    const { calls } = run(RESTART, { active: 'active' });
    const jc = journalctlCalls(calls);
    expect(jc).toContainEqual(expect.stringMatching(new RegExp(`^journalctl -u etcd\\.service .*--since=@${MTIME}\\b`)));
    expect(jc.join('\n')).not.toContain('INVOCATION_ID');
  });

  it('a malformed InvocationID is not put on the command line', () => {
    const { calls } = run(RESTART, { active: 'active', invocation: `${CUR};rm` });
    expect(journalctlCalls(calls).join('\n')).not.toContain('INVOCATION_ID');
  });

  it('sinceSeconds caps the window, with or without an invocation', () => {
    const now = Math.floor(Date.now() / 1000);
    for (const env of [{ active: 'active', invocation: CUR }, { active: 'failed' }]) {
      const first = journalctlCalls(run(RESTART, env, { sinceSeconds: 600 }).calls)[0]!;
      const since = Number(/--since=@(\d+)/.exec(first)?.[1]);
      expect(Math.abs(since - (now - 600)), first).toBeLessThanOrEqual(5);
      rmSync(path.join(dir, 'calls'));
    }
  });

  it("still reads PID 1's complaints about the unit file since it changed", () => {
    const complaint = systemd(at(MTIME + 1), "/etc/systemd/system/etcd.service:8: Missing '=', ignoring line.");
    const { out, calls } = run([complaint, ...RESTART], { active: 'active', invocation: CUR });
    expect(journalctlCalls(calls)).toContainEqual(expect.stringMatching(new RegExp(`^journalctl _PID=1 .*--since=@${MTIME}\\b`)));
    expect(idsOf(out)).toContain('SD-01');
  });

  it('a bad unit put back within the same second: its complaints are about the file it replaced, not this one', () => {
    // up shipped a bad unit (systemd complained at the reload, .2 s into the second) and put the previous one back
    // with mv .5 s later: the file's change time is then, its mtime the old one's.
    const complaint = systemd(at(MTIME + 0.2), "/etc/systemd/system/etcd.service:8: Missing '=', ignoring line.");
    const { out, calls } = run([complaint, ...RESTART], { active: 'active', invocation: CUR, changed: `${MTIME}.700000000` });
    expect(journalctlCalls(calls)).toContainEqual(expect.stringMatching(new RegExp(`^journalctl _PID=1 .*--since=@${MTIME}\\.700000000\\b`)));
    expect(idsOf(out)).not.toContain('SD-01');
    // The same complaint after the file changed (its own daemon-reload) is about it.
    const later = systemd(at(MTIME + 0.9), "/etc/systemd/system/etcd.service:8: Missing '=', ignoring line.");
    expect(idsOf(run([later, ...RESTART], { active: 'active', invocation: CUR, changed: `${MTIME}.700000000` }).out)).toContain('SD-01');
  });
});

describe('journal entries returned twice', () => {
  it('an entry both queries return (same __CURSOR) is one finding, counted once', () => {
    // PID 1's complaint carries the current invocation: the invocation query and the complaint query both print it.
    const complaint = systemd(at(START + 0.2), "/etc/systemd/system/etcd.service:8: Missing '=', ignoring line.", CUR);
    const { out } = run([...RESTART, complaint], { active: 'active', invocation: CUR });
    expect(out.split('\n').filter((l) => l.includes('Missing'))).toHaveLength(2);
    const sd01 = diagnoseJournal(parseJournal(out)).filter((f) => f.id === 'SD-01');
    expect(sd01).toHaveLength(1);
    expect(sd01[0]!.count).toBe(1);
  });

  it('two identical -o json entries give one finding of count 1; equal pasted lines without cursors still count twice', () => {
    const exit = jsonLine(systemd(at(START), 'etcd.service: Main process exited, code=exited, status=1/FAILURE', CUR));
    const json = diagnoseJournal(parseJournal(`${exit}\n${exit}\n`)).filter((f) => f.id === 'SD-05');
    expect(json.map((f) => f.count)).toEqual([1]);
    const short = 'Nov 23 10:00:00 controller-0 systemd[1]: etcd.service: Main process exited, code=exited, status=1/FAILURE';
    const text = diagnoseJournal(parseJournal(`${short}\n${short}\n`, { year: 2026 })).filter((f) => f.id === 'SD-05');
    expect(text.map((f) => f.count)).toEqual([2]);
  });

  it('doctor --journal with two saves of one journal counts their shared entry once', async () => {
    const exit = jsonLine(systemd(at(START), 'etcd.service: Main process exited, code=exited, status=1/FAILURE', CUR));
    const files = ['unit.json', 'pid1.json'].map((f) => path.join(dir, f));
    for (const f of files) writeFileSync(f, `${exit}\n`);
    const r = await diagnoseFiles(files);
    expect(r.lines).toBe(1);
    expect(r.findings.filter((f) => f.id === 'SD-05').map((f) => f.count)).toEqual([1]);
  });

  it('entries with distinct cursors are all kept', () => {
    const a = systemd(at(START), 'etcd.service: Main process exited, code=exited, status=1/FAILURE', CUR);
    const es = parseJournal(`${jsonLine(a)}\n${jsonLine(a)}\n`);
    expect(es).toHaveLength(2);
  });
});
