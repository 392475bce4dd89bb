import { describe, expect, it } from 'vitest';
import { asHistory, diagnose, diagnoseJournal, findingsToJson, judgeNow, parseGoDuration, renderFindings, type Finding } from '../../src/journal/diagnose.js';
import { parseJournal } from '../../src/journal/parse.js';
import { etcd, exit, find, journal, sd } from '../journal-lines.js';

// The findings' figures and sentences at their edges: what a describer says when a line lacks a value, the bounds of
// "just before", odd and even counts, and how a finding reads as text and as JSON.
const missing = (host: string, t: string) => etcd(host, t, 'open /etc/etcd/kubernetes.pem: no such file or directory');
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const f = (id: string, severity: Finding['severity'], extra: Partial<Finding> = {}): Finding => ({ id, severity, title: `${id} title`, count: 1, hosts: [], evidence: [], facts: {}, details: [], meaning: 'm', fix: 'x', ...extra });

describe('Go durations, unit by unit', () => {
  it('milliseconds, minutes, hours and both spellings of micro (µ U+00B5 and μ U+03BC) are their own units', () => {
    expect(parseGoDuration('312.5ms')).toBeCloseTo(0.3125);
    expect(parseGoDuration('2m')).toBe(120);
    expect(parseGoDuration('1.5h')).toBe(5400);
    expect(parseGoDuration('4μs')! * 1e6).toBeCloseTo(4);
    expect(parseGoDuration('4µs')! * 1e6).toBeCloseTo(4);
    expect(parseGoDuration('7ns')! * 1e9).toBeCloseTo(7);
  });
});

describe("an exit's cause: the etcd error just before it", () => {
  it('an error 30 lines before the exit is still just before it; 31 lines is not', () => {
    const filler = (n: number) => Array.from({ length: n }, (_, i) => etcd('c0', '10:00:30', `ordinary line ${i}`));
    const near = find('SD-05', missing('c0', '10:00:00'), ...filler(29), exit('c0', '10:00:59'));
    expect(near.details.at(-1)).toBe('Preceded by: BOOT-07 (A file named by a flag is missing or unreadable).');
    const far = find('SD-05', missing('c0', '10:00:00'), ...filler(30), exit('c0', '10:00:59'));
    expect(far.details.at(-1)).toMatch(/^No known etcd error/);
  });

  it('the last error before the exit is its cause, not an earlier one', () => {
    const f1 = find('SD-05', etcd('c0', '10:00:00', "error verifying flags, 'x' is not a valid flag. See 'etcd --help'."), missing('c0', '10:00:01'), exit('c0', '10:00:02'));
    expect(f1.details.at(-1)).toBe('Preceded by: BOOT-07 (A file named by a flag is missing or unreadable).');
  });

  it('each exit has its own cause; the causes are listed once each', () => {
    const f1 = find(
      'SD-05',
      missing('c0', '10:00:00'),
      exit('c0', '10:00:01'),
      etcd('c0', '10:00:02', "error verifying flags, 'x' is not a valid flag. See 'etcd --help'."),
      exit('c0', '10:00:03'),
      missing('c0', '10:00:04'),
      exit('c0', '10:00:05'),
    );
    expect(f1.details.at(-1)).toBe(
      "Preceded by: BOOT-07 (A file named by a flag is missing or unreadable); BOOT-14 (Stray argument on etcd's command line (broken line continuation)).",
    );
  });
});

describe('what a describer says when the lines lack a value', () => {
  it('a missing file read on lines without a host names no host', () => {
    const f1 = diagnoseJournal(parseJournal('open /etc/etcd/ca.pem: permission denied')).find((x) => x.id === 'BOOT-07')!;
    expect(f1.details).toEqual(['/etc/etcd/ca.pem: permission denied']);
  });

  it("a doubled backslash quoted by etcd ('\\\\') is the same stray backslash as a single one", () => {
    const f1 = find('BOOT-14', etcd('c0', '10:00:01', "error verifying flags, '\\\\' is not a valid flag. See 'etcd --help'."), etcd('c0', '10:00:02', "error verifying flags, '\\' is not a valid flag. See 'etcd --help'."));
    expect(f1.facts).toEqual({ arguments: "'\\'" });
    expect(f1.details).toHaveLength(1);
    expect(f1.details[0]).toMatch(/^'\\' as an argument: a doubled backslash/);
  });

  it('slow syncs without the expected duration are judged against 1s; the median of an odd count is the middle one', () => {
    const lines = ['3s', '1.5s', '2s'].map((d, i) => etcd('c0', `10:00:0${i}`, `{"level":"warn","ts":"2026-11-23T10:00:0${i}Z","caller":"wal/wal.go:805","msg":"slow fdatasync","took":"${d}"}`));
    const f1 = find('DISK-01', ...lines);
    expect(f1.facts).toEqual({ syncs: 3, syncMax: '3s', syncMedian: '2s' });
    expect(f1.details).toEqual(['3 slow fdatasync(s): max 3s, median 2s (threshold 1s; healthy p99 is under 10ms).']);
  });

  it('durations etcd did not write in Go form give counts only, and no sentence about them', () => {
    const sync = find('DISK-01', etcd('c0', '10:00:01', 'sync duration of soon, expected less than 1s'));
    expect(sync.facts).toEqual({ syncs: 1, threshold: '1s' });
    expect(sync.details).toEqual([]);
    const slow = (n: number) => Array.from({ length: n }, (_, i) => etcd('c0', `10:00:0${i}`, 'read-only range request "key" took too long (a while) to execute'));
    const apply = find('DISK-02', ...slow(3));
    expect(apply.facts).toEqual({ requests: 3 });
    expect(apply.details).toEqual([]);
    const late = (n: number) => Array.from({ length: n }, (_, i) => etcd('c0', `10:00:0${i}`, 'failed to send out heartbeat on time (exceeded the 100ms timeout for a while, to 8e9e05c52164694d)'));
    const hb = find('DISK-03', ...late(3));
    expect(hb.facts).toEqual({ misses: 3, peers: '8e9e05c52164694d' });
    expect(hb.details).toEqual([]);
    const clock = find('CLOCK-01', etcd('c0', '10:00:01', 'the clock difference against peer 9e737febb6b99eee is too high [much > 1s]'), etcd('c0', '10:00:02', 'the clock difference against peer 1ec55d2fb473165c is too high [much > 1s]'));
    expect(clock.facts).toEqual({ peers: '9e737febb6b99eee, 1ec55d2fb473165c' });
    expect(clock.details).toEqual([]);
  });

  it('a restart counter is the highest one systemd printed; holdoff lines count as restarts without one', () => {
    const f1 = find('SD-07', sd('c0', '10:00:01', 'etcd.service holdoff time over, scheduling restart.'), sd('c0', '10:00:02', 'etcd.service holdoff time over, scheduling restart.'));
    expect(f1.facts).toEqual({ restarts: 2 });
    expect(f1.details).toEqual([]);
  });

  it('generic facts list four values of a group in full, and leave out the ignoring marker of systemd', () => {
    const lines = [1, 2, 3, 4].map((i) => etcd('c0', `10:00:0${i}`, `listen tcp 10.240.0.${i}:2380: bind: address already in use`));
    const f1 = diagnoseJournal(journal(...lines, lines[0]!)).find((x) => x.severity === 'error')!;
    // A value seen twice is listed once; a finding without a describer has no details.
    expect(Object.values(f1.facts)).toContain('10.240.0.1:2380, 10.240.0.2:2380, 10.240.0.3:2380, 10.240.0.4:2380');
    expect(f1.details).toEqual([]);
  });
});

describe('evidence and time span', () => {
  it('the same line logged twice is one line of evidence; four lines give the first, the middle one and the last', () => {
    const same = find('DISK-01', ...[1, 2].map(() => etcd('c0', '10:00:01', 'sync duration of 2s, expected less than 1s')));
    expect(same.evidence).toHaveLength(1);
    const four = find('DISK-01', ...[1, 2, 3, 4].map((i) => etcd('c0', `10:00:0${i}`, `sync duration of ${i}s, expected less than 1s`)));
    expect(four.evidence.map((e) => /of (\d)s/.exec(e)![1])).toEqual(['1', '3', '4']);
  });

  it('lines without a time give a finding without a time span', () => {
    const f1 = diagnoseJournal(parseJournal('sync duration of 2s, expected less than 1s')).find((x) => x.id === 'DISK-01')!;
    expect(f1).not.toHaveProperty('first');
    expect(f1).not.toHaveProperty('last');
    expect(f1.hosts).toEqual([]);
  });

  it('a single slow apply is isolated: a note whose title says how many make a problem', () => {
    const f1 = find('DISK-02', etcd('c0', '10:00:01', 'read-only range request "key" took too long (312.5ms) to execute'));
    expect(f1.severity).toBe('info');
    expect(f1.title).toMatch(/ \(isolated: 1×; a problem from 3×\)$/);
  });
});

describe('a finding that is over', () => {
  it('without a time it says only that it is over; its details end with the line that ended it', () => {
    const h = asHistory(f('PEER-01', 'warning', { details: ['d'] }), { evidence: 'peer x became active' });
    expect(h).toMatchObject({ severity: 'info', title: 'PEER-01 title (over)', details: ['d', 'It ended: peer x became active'], resolved: { evidence: 'peer x became active' } });
  });

  it('as JSON, the time it ended is an ISO string too', () => {
    const at = new Date(Date.UTC(2026, 11, 7, 14, 4, 48));
    expect(findingsToJson([f('A', 'info', { resolved: { at, evidence: 'e' } })])[0]!.resolved).toEqual({ at: '2026-12-07T14:04:48.000Z', evidence: 'e' });
    expect(findingsToJson([f('A', 'info', { resolved: { evidence: 'e' } })])[0]!.resolved).toEqual({ evidence: 'e' });
  });

  it('offline, a finding the journal shows ended is a note; online it keeps its severity and says it ended', () => {
    const lines = journal(
      'Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
      'Dec 07 14:04:48 controller-0 etcd[145]: peer 3a57933972cb5131 became active',
    );
    const offline = diagnose(lines).findings[0]!;
    expect(offline).toMatchObject({ severity: 'info', resolved: { at: new Date(Date.UTC(2026, 11, 7, 14, 4, 48)), evidence: 'Dec 07 14:04:48 controller-0 etcd[145]: peer 3a57933972cb5131 became active' } });
    const live = diagnose(lines, { history: 'live' }).findings[0]!;
    expect(live).toMatchObject({ severity: 'warning', resolved: { evidence: offline.resolved!.evidence } });
    expect(live.title).not.toMatch(/over/);
  });

  it('a peer refused again later than the lag after it came back is open; within the lag it is the same episode', () => {
    const at = (s: number) => `Dec 07 14:${String(4 + Math.floor((48 + s) / 60)).padStart(2, '0')}:${String((48 + s) % 60).padStart(2, '0')}`;
    const lines = (lag: number) =>
      journal(
        'Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
        `${at(0)} controller-0 etcd[145]: peer 3a57933972cb5131 became active`,
        `${at(lag)} controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused`,
      );
    expect(diagnose(lines(35)).findings[0]!.severity).toBe('info');
    expect(diagnose(lines(36)).findings[0]!.severity).toBe('warning');
  });

  it("a refusal on another host is not ended by this host's peer coming back", () => {
    const lines = journal(
      'Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
      'Dec 07 14:04:34 controller-1 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
      'Dec 07 14:04:48 controller-0 etcd[145]: peer 3a57933972cb5131 became active',
    );
    expect(diagnose(lines).findings[0]!.severity).toBe('warning');
    const both = journal(
      'Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
      'Dec 07 14:04:34 controller-1 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
      'Dec 07 14:04:48 controller-0 etcd[145]: peer 3a57933972cb5131 became active',
      'Dec 07 14:04:50 controller-1 etcd[145]: peer 3a57933972cb5131 became active',
    );
    // Over since the last of the ends, whichever host's came last.
    expect(diagnose(both).findings[0]).toMatchObject({ severity: 'info', resolved: { evidence: expect.stringContaining('controller-1') } });
    const swapped = journal(
      'Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
      'Dec 07 14:04:34 controller-1 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
      'Dec 07 14:04:48 controller-1 etcd[145]: peer 3a57933972cb5131 became active',
      'Dec 07 14:04:50 controller-0 etcd[145]: peer 3a57933972cb5131 became active',
    );
    expect(diagnose(swapped).findings[0]).toMatchObject({ severity: 'info', resolved: { evidence: expect.stringContaining('controller-0') } });
  });

  it('a peer that became active before it was refused has not come back', () => {
    const lines = journal(
      'Dec 07 14:04:30 controller-0 etcd[145]: peer 3a57933972cb5131 became active',
      'Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused',
    );
    expect(diagnose(lines).findings[0]!.severity).toBe('warning');
  });
});

describe('findings as text', () => {
  it('errors, warnings and notes each under a heading with their number, in that order', () => {
    const text = plain(renderFindings([f('N', 'info'), f('W1', 'warning'), f('E', 'error'), f('W2', 'warning')]));
    const at = (s: string) => text.lastIndexOf(s);
    expect(text).toContain('\nErrors (1):\n');
    expect(text).toContain('\nWarnings (2):\n');
    expect(text).toContain('\nNotes (1):\n');
    expect(text.match(/Warnings/g)).toHaveLength(1);
    expect(at('Errors (1):')).toBeLessThan(at('Warnings (2):'));
    expect(at('Warnings (2):')).toBeLessThan(at('W1  W1 title'));
    expect(at('W2  W2 title')).toBeLessThan(at('Notes (1):'));
  });

  it('each finding starts with its severity in capitals, padded to one width', () => {
    const text = plain(renderFindings([f('E', 'error'), f('W', 'warning'), f('N', 'info')]));
    expect(text).toContain('\nERROR   E  E title  (1×)');
    expect(text).toContain('\nWARNING W  W title  (1×)');
    expect(text).toContain('\nINFO    N  N title  (1×)');
  });

  it('one instant is shown once; a finding without evidence, details or facts has no such parts', () => {
    const t = new Date(Date.UTC(2026, 10, 23, 10, 0, 0));
    const text = plain(renderFindings([f('A', 'error', { first: t, last: t }), f('B', 'error', { first: t })]));
    expect(text).toContain('A  A title  (1×, 2026-11-23 10:00:00)\n');
    expect(text).toContain('B  B title  (1×, 2026-11-23 10:00:00)\n');
    expect(text).not.toContain('evidence');
    expect(text).not.toContain('found');
  });

  it('facts alone make a found part; evidence of 220 characters is not cut', () => {
    const text = plain(renderFindings([f('A', 'error', { facts: { n: 1, m: 'x' }, evidence: ['y'.repeat(220)] })]));
    expect(text).toContain('  evidence\n');
    expect(text).toContain(`    | ${'y'.repeat(220)}\n`);
    expect(text).toContain('  found\n    n=1  m=x\n');
  });
});

describe('the election finding, at its edges', () => {
  const raft = (t: string, msg: string, host = 'c0') => etcd(host, t, `raft2026/11/23 ${t} INFO: ${msg}`);
  const loop = [1, 4, 7, 10].map((s, i) => raft(`10:00:${String(s).padStart(2, '0')}`, `b71f75320dc06a6c is starting a new election at term ${i + 1}`));

  it('raft lines feed the election analysis and are never findings of their own', () => {
    const ids = diagnoseJournal(journal(...loop)).map((x) => x.id);
    expect(ids).toEqual(['ELECT-LOOP']);
  });

  it('late heartbeats next to a loop are named as a cause, as slow syncs are', () => {
    const late = [11, 12, 13].map((s) => etcd('c0', `10:00:${s}`, 'failed to send out heartbeat on time (exceeded the 100ms timeout for 401.2ms, to 8e9e05c52164694d)'));
    const f1 = find('ELECT-LOOP', ...loop, ...late);
    expect(f1.details).toContain('The disk is slow (DISK-01/DISK-03): late heartbeats make followers start elections.');
    expect(f1.details.some((d) => d.includes('PEER-01') || d.includes('TLS-'))).toBe(false);
  });

  it('without election lines, candidacies and pre-candidacies together are the count', () => {
    const cands = [1, 3, 5].flatMap((s, i) => [raft(`10:00:0${s}`, `b71f75320dc06a6c became pre-candidate at term ${i + 2}`), raft(`10:00:0${s}`, `b71f75320dc06a6c became candidate at term ${i + 2}`)]);
    expect(find('ELECT-LOOP', ...cands).count).toBe(6);
  });

  it('bare raft lines (no time, no host) give a loop without a time span or hosts', () => {
    const bare = parseJournal(['a1 is starting a new election at term 1', 'a1 is starting a new election at term 2', 'a1 is starting a new election at term 3'].join('\n'));
    const f1 = diagnoseJournal(bare).find((x) => x.id === 'ELECT-LOOP')!;
    expect(f1).not.toHaveProperty('first');
    expect(f1).not.toHaveProperty('last');
    expect(f1.hosts).toEqual([]);
    expect(f1.details[0]).toBe('member a1: 3 election(s), term 1→3, no leader after its last election');
    expect(f1.evidence).toEqual(['a1 is starting a new election at term 1', 'a1 is starting a new election at term 2', 'a1 is starting a new election at term 3']);
  });

  it('the time span of a loop is that of its evidence: first and last election', () => {
    const f1 = find('ELECT-LOOP', etcd('c0', '09:59:00', 'ordinary line'), ...loop);
    expect([f1.first, f1.last]).toEqual([new Date(Date.UTC(2026, 10, 23, 10, 0, 1)), new Date(Date.UTC(2026, 10, 23, 10, 0, 10))]);
  });
});

describe('judging a finding by what is seen now', () => {
  const peer = (extra: Partial<Finding> = {}) => f('PEER-01', 'warning', { facts: { peers: 'p1, p2' }, ...extra });

  it('over only when every peer it names answers now; the evidence says how each was seen', () => {
    const seen = judgeNow(peer(), (id) => `${id} answers`);
    expect(seen).toMatchObject({ severity: 'info', details: ['It ended: now: p1 answers; p2 answers'] });
    expect(judgeNow(peer(), (id) => (id === 'p1' ? 'p1 answers' : undefined))).toMatchObject({ severity: 'warning' });
    expect(judgeNow(peer(), (id) => (id === 'p1' ? 'p1 answers' : false))).toMatchObject({ severity: 'warning' });
  });

  it("with nothing seen now, the journal's end stands; a finding without one is left as it is", () => {
    const ended = peer({ resolved: { evidence: 'became active' } });
    expect(judgeNow(ended, () => undefined)).toMatchObject({ severity: 'info', details: ['It ended: became active'] });
    const open = peer();
    expect(judgeNow(open, () => undefined)).toBe(open);
    // A finding that no peer's return ends (no `resolvedBy`) is not judged by the peers at all.
    const other = f('DISK-01', 'warning', { facts: { peers: 'a1' } });
    expect(judgeNow(other, () => 'x')).toBe(other);
    // A peer finding that names no peer: nothing live to ask about, the journal's word stands.
    const none = f('PEER-01', 'warning', { facts: { peers: '' }, resolved: { evidence: 'e' } });
    expect(judgeNow(none, () => 'answers')).toMatchObject({ severity: 'info', details: ['It ended: e'] });
  });

  it('a finding that is already a note is not made history twice', () => {
    const note = f('PEER-01', 'info', { title: 't (over)', resolved: { evidence: 'e' } });
    expect(judgeNow(note, () => undefined)).toBe(note);
  });
});


describe('more of what the lines tell', () => {
  it("Missing '=' from an older systemd only: it refused the unit, and nothing says it ignored lines; two files are both named", () => {
    const old = find('SD-01', sd('c0', '10:00:01', "[/etc/systemd/system/etcd.service:9] Missing '='."), sd('c0', '10:00:02', "[/etc/systemd/system/etcd-2.service:4] Missing '='."));
    expect(old.details.slice(-1)).toEqual(["This (older) systemd refuses to load the unit at all (`Missing '='.` without `ignoring line`): `systemctl enable` fails and the unit file state is `bad`."]);
    expect(old.details.some((d) => d.startsWith('This systemd ignores'))).toBe(false);
    expect(old.facts.files).toBe('/etc/systemd/system/etcd.service, /etc/systemd/system/etcd-2.service');
  });

  it('keys read as settings, some of them etcd flags: the flag sentence; two files are both named', () => {
    const f1 = find(
      'SD-02',
      sd('c0', '10:00:01', "/etc/systemd/system/etcd.service:9: Unknown key '--cert-file' in section [Service], ignoring."),
      sd('c0', '10:00:01', "/etc/systemd/system/other-etcd.service:4: Unknown key 'Restartt' in section [Service], ignoring."),
    );
    expect(f1.details.at(-1)).toMatch(/^These are etcd flags/);
    expect(f1.facts.files).toBe('/etc/systemd/system/etcd.service, /etc/systemd/system/other-etcd.service');
  });

  it("etcd quoting a doubled backslash alone: the stray backslash, once", () => {
    const f1 = find('BOOT-14', etcd('c0', '10:00:01', "error verifying flags, '\\\\' is not a valid flag. See 'etcd --help'."));
    expect(f1.facts).toEqual({ arguments: "'\\'" });
    expect(f1.details).toHaveLength(1);
  });

  it('slow syncs against two thresholds name both', () => {
    const f1 = find('DISK-01', etcd('c0', '10:00:01', 'sync duration of 2s, expected less than 1s'), etcd('c0', '10:00:02', 'sync duration of 2s, expected less than 500ms'));
    expect(f1.facts.threshold).toBe('1s, 500ms');
  });

  it('a finding carries its section of the reference; a signature without one gives a finding without one', async () => {
    const { compileCatalog, loadCatalog } = await import('../../src/journal/signatures.js');
    const line = etcd('c0', '10:00:01', 'sync duration of 2s, expected less than 1s');
    const ref = loadCatalog().find((x) => x.id === 'DISK-01')!.ref;
    expect(find('DISK-01', line).ref).toBe(ref);
    const own = compileCatalog({ signatures: loadCatalog().map(({ re34: _a, reJson: _b, resolver: _c, ...def }) => (def.id === 'DISK-01' ? { ...def, ref: undefined } : def)) });
    expect(diagnose(journal(line), { catalog: own }).findings.find((x) => x.id === 'DISK-01')).not.toHaveProperty('ref');
  });

  it("an exit's cause on a line without a host, or an exit without one, counts as the same host", () => {
    const bareCause = parseJournal(['open /etc/etcd/ca.pem: no such file or directory', 'Nov 23 10:00:01 c0 systemd[1]: etcd.service: Main process exited, code=exited, status=1/FAILURE'].join('\n'), { year: 2026 });
    expect(diagnoseJournal(bareCause).find((x) => x.id === 'SD-05')!.details.at(-1)).toMatch(/^Preceded by: BOOT-07/);
    const bareExit = parseJournal([missing('c0', '10:00:00'), 'etcd.service: Main process exited, code=exited, status=1/FAILURE'].join('\n'), { year: 2026 });
    expect(diagnoseJournal(bareExit).find((x) => x.id === 'SD-05')!.details.at(-1)).toMatch(/^Preceded by: BOOT-07/);
  });
});

describe('the election finding: members, causes and titles', () => {
  const raft = (t: string, msg: string, host = 'c0') => etcd(host, t, `raft2026/11/23 ${t} INFO: ${msg}`);

  it('a member seen only campaigning (no election lines) is named with its campaigns', () => {
    const cands = [1, 3, 5].map((s, i) => raft(`10:00:0${s}`, `b71f75320dc06a6c became candidate at term ${i + 2}`));
    expect(find('ELECT-LOOP', ...cands).details[0]).toBe('member b71f75320dc06a6c (c0): 3 campaign(s), term 2→4, no leader after its last election');
  });

  it('a member seen only in pre-votes, or only changing leader, still has its line', () => {
    const pre = [1, 3, 5].map((s) => raft(`10:00:0${s}`, 'b71f75320dc06a6c became pre-candidate at term 5'));
    expect(find('ELECT-LOOP', ...pre).details[0]).toBe('member b71f75320dc06a6c (c0): 3 pre-vote(s), term 5→5, no leader after its last election');
    const L = 'ddd67b312462fd7b';
    const changes = [
      raft('10:00:00', `raft.node: 9e737febb6b99eee elected leader ${L} at term 2`, 'c1'),
      raft('10:00:30', `raft.node: 9e737febb6b99eee changed leader from ${L} to b71f75320dc06a6c at term 3`, 'c1'),
      raft('10:01:00', `raft.node: 9e737febb6b99eee changed leader from b71f75320dc06a6c to ${L} at term 4`, 'c1'),
    ];
    expect(find('ELECT-FLAP', ...changes).details[0]).toBe('member 9e737febb6b99eee (c1): 2 leader loss(es)/change(s), term 2→4');
  });

  it('only a loop is put down to unreachable peers; repeated elections that found a leader are not', () => {
    const churn = [0, 2, 4].map((s, i) => raft(`10:00:0${s}`, `b71f75320dc06a6c is starting a new election at term ${i + 1}`));
    const f1 = find('ELECT-CHURN', ...churn, raft('10:00:05', 'b71f75320dc06a6c became leader at term 3'), etcd('c0', '10:00:06', 'health check for peer 1ec55d2fb473165c could not connect: dial tcp 10.240.0.11:2380: connect: connection refused'));
    expect(f1.details.some((d) => d.startsWith('Peers are unreachable'))).toBe(false);
  });

  it("with the full catalog, the loop and the churn carry the catalog's titles and words", async () => {
    const { loadCatalog } = await import('../../src/journal/signatures.js');
    const sig = (id: string) => loadCatalog().find((x) => x.id === id)!;
    const loop = [1, 4, 7].map((s, i) => raft(`10:00:0${s}`, `b71f75320dc06a6c is starting a new election at term ${i + 1}`));
    expect(find('ELECT-LOOP', ...loop)).toMatchObject({ title: sig('ELECT-LOOP').title, meaning: sig('ELECT-LOOP').meaning });
    const churn = [...loop, raft('10:00:08', 'b71f75320dc06a6c became leader at term 3')];
    expect(find('ELECT-CHURN', ...churn)).toMatchObject({ title: sig('ELECT-CHURN').title, meaning: sig('ELECT-CHURN').meaning });
  });
});

describe('the end of a peer problem, when lines lack a host or a time', () => {
  const refused = 'health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused';
  const active = 'peer 3a57933972cb5131 became active';

  it('a return logged without a host ends a refusal logged with one, and the other way round', () => {
    expect(diagnose(parseJournal([`Dec 07 14:04:33 c0 etcd[1]: ${refused}`, active].join('\n'), { year: 2026 })).findings[0]!.severity).toBe('info');
    expect(diagnose(parseJournal([refused, `Dec 07 14:04:48 c0 etcd[1]: ${active}`].join('\n'), { year: 2026 })).findings[0]!.severity).toBe('info');
  });

  it('without any time, a return after the last refusal ends it; a refusal after the return keeps it open', () => {
    expect(diagnose(parseJournal([refused, active].join('\n'))).findings[0]!.severity).toBe('info');
    expect(diagnose(parseJournal([refused, active, refused].join('\n'))).findings[0]!.severity).toBe('warning');
  });

  it('a refusal without a time after a timed return is not within the lag: open', () => {
    // short-monotonic: the host, no wall clock.
    expect(diagnose(parseJournal([`Dec 07 14:04:33 c0 etcd[1]: ${refused}`, `Dec 07 14:04:48 c0 etcd[1]: ${active}`, `[  12.500000] c0 etcd[1]: ${refused}`].join('\n'), { year: 2026 })).findings[0]!.severity).toBe('warning');
  });

  it('one peer back and another still refused on the same host: open', () => {
    const other = refused.replaceAll('3a57933972cb5131', 'ffed16798470cab5');
    expect(diagnose(parseJournal([`Dec 07 14:04:33 c0 etcd[1]: ${refused}`, `Dec 07 14:04:34 c0 etcd[1]: ${other}`, `Dec 07 14:04:48 c0 etcd[1]: ${active}`].join('\n'), { year: 2026 })).findings[0]!.severity).toBe('warning');
  });
});

describe('the whole text report', () => {
  it('a table of every finding, then each under its heading, details without facts alone', () => {
    const text = plain(renderFindings([f('A', 'warning', { count: 2, hosts: ['c0', 'c1'], details: ['d'] })]));
    expect(text.split('\n')).toEqual([
      ...text.split('\n').slice(0, text.split('\n').indexOf('')),
      '',
      'Warnings (1):',
      '',
      'WARNING A  A title  (2×, on c0, c1)',
      '  found',
      '    - d',
      '  cause  m',
      '  fix    x',
    ]);
    const table = text.split('\n').slice(0, text.split('\n').indexOf(''));
    // The report opens with the table itself.
    expect(table[0]).toMatch(/SEVERITY|^[┌─+]/);
    expect(table.join('\n')).toMatch(/SEVERITY\s+ID\s+PROBLEM\s+LINES\s+HOSTS\s+WHEN/);
    expect(table.join('\n')).toMatch(/warning\s+A\s+A title\s+2\s+c0, c1/);
  });
});
