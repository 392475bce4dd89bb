import { describe, expect, it } from 'vitest';
import { countBySeverity, diagnose, diagnoseJournal, findingsToJson, parseGoDuration, problemsOf, renderFindings, sortFindings, type Finding } from '../../src/journal/diagnose.js';
import { formatSeconds } from '../../src/render/seconds.js';
import { parseJournal } from '../../src/journal/parse.js';
import { etcd, exit, find, journal, sd } from '../journal-lines.js';
import { compileCatalog, loadCatalog } from '../../src/journal/signatures.js';

// The offline doctor's rules, each on a few journal lines written for it (short format, as journalctl prints).

describe('Go durations and how they are shown', () => {
  it('reads every unit Go prints, sums the parts, and refuses anything else', () => {
    expect(parseGoDuration('1h2m3s')).toBeCloseTo(3723);
    expect(parseGoDuration('250ns')! * 1e9).toBeCloseTo(250);
    expect(parseGoDuration('3us')! * 1e6).toBeCloseTo(3);
    expect(parseGoDuration('3µs')! * 1e6).toBeCloseTo(3);
    expect(parseGoDuration(' 2s ')).toBe(2);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('0s')).toBe(0);
    for (const s of ['', '2', '2s junk', 'junk 2s', '1.5']) expect(parseGoDuration(s), s).toBeUndefined();
  });

  it('shows a second or more in seconds, less in milliseconds, without trailing zeros', () => {
    expect([formatSeconds(1), formatSeconds(2.5), formatSeconds(1.23456), formatSeconds(0.3125), formatSeconds(0.02), formatSeconds(0.99999)]).toEqual(['1s', '2.5s', '1.235s', '312.5ms', '20ms', '1000ms']);
  });
});

describe('what each kind of line tells', () => {
  it('unit-file keys read as settings: each file with its lines in order, the keys, and whether they are etcd flags', () => {
    const f = find(
      'SD-02',
      sd('c0', '10:00:01', "/etc/systemd/system/etcd.service:21: Unknown key '--initial-cluster-state' in section [Service], ignoring."),
      sd('c0', '10:00:01', "/etc/systemd/system/etcd.service:9: Unknown key '--cert-file' in section [Service], ignoring."),
      sd('c0', '10:00:02', "/etc/systemd/system/etcd.service:9: Unknown key '--cert-file' in section [Service], ignoring."),
    );
    expect(f.details).toEqual([
      '/etc/systemd/system/etcd.service: lines 9, 21: read as a setting instead of a part of ExecStart=',
      "Keys: '--initial-cluster-state', '--cert-file'.",
      'These are etcd flags: the line continuation before them is broken (a doubled backslash, as SD-01), so etcd starts without them.',
    ]);
    expect(f.facts).toEqual({ files: '/etc/systemd/system/etcd.service', keys: '--initial-cluster-state --cert-file' });
    const plain = find('SD-02', sd('c0', '10:00:01', "/etc/systemd/system/etcd.service:4: Unknown key 'Restartt' in section [Service], ignoring."));
    expect(plain.details).toEqual(['/etc/systemd/system/etcd.service: line 4: read as a setting instead of a part of ExecStart=', "Keys: 'Restartt'."]);
  });

  it("etcd's exit is put down to the last etcd error just before it on the same host, and counted by status", () => {
    const f = find(
      'SD-05',
      etcd('c0', '10:00:00', 'open /etc/etcd/kubernetes.pem: no such file or directory'),
      exit('c0', '10:00:01'),
      exit('c0', '10:00:05'),
      exit('c0', '10:00:09', '2/INVALIDARGUMENT'),
    );
    expect(f.details).toEqual(['code=exited, status=1/FAILURE (2×)', 'code=exited, status=2/INVALIDARGUMENT (1×)', 'Preceded by: BOOT-07 (A file named by a flag is missing or unreadable).']);
    expect(f.facts).toEqual({ exits: 3 });
    // Another host's error, or one more than 30 lines before, is not the cause.
    const other = find('SD-05', etcd('c1', '10:00:00', 'open /etc/etcd/kubernetes.pem: no such file or directory'), exit('c0', '10:00:01'));
    expect(other.details.at(-1)).toBe("No known etcd error in the lines just before the exit: look at etcd's last lines before it.");
    const filler = Array.from({ length: 31 }, (_, i) => etcd('c0', `10:00:${String(10 + (i % 40)).padStart(2, '0')}`, `ordinary line ${i}`));
    const far = find('SD-05', etcd('c0', '10:00:00', 'open /etc/etcd/kubernetes.pem: no such file or directory'), ...filler, exit('c0', '10:00:59'));
    expect(far.details.at(-1)).toMatch(/^No known etcd error/);
    // An info line (a raft election) is no cause either.
    const info = find('SD-05', etcd('c0', '10:00:00', 'raft2026/11/23 10:00:00 INFO: b71f75320dc06a6c is starting a new election at term 1'), exit('c0', '10:00:01'));
    expect(info.details.at(-1)).toMatch(/^No known etcd error/);
  });

  it('an etcd error after the exit is not its cause; lines without a host are taken as one host', () => {
    const after = find('SD-05', exit('c0', '10:00:01'), etcd('c0', '10:00:02', 'open /etc/etcd/kubernetes.pem: no such file or directory'));
    expect(after.details.at(-1)).toMatch(/^No known etcd error/);
    const bare = diagnoseJournal(parseJournal(['open /etc/etcd/ca.pem: no such file or directory', 'etcd.service: Main process exited, code=exited, status=1/FAILURE'].join('\n'))).find((x) => x.id === 'SD-05')!;
    expect(bare.details.at(-1)).toBe('Preceded by: BOOT-07 (A file named by a flag is missing or unreadable).');
  });

  it("Missing '=': this systemd ignores the line, an older one refuses the unit, and a journal may show both", () => {
    const both = find('SD-01', sd('c0', '10:00:01', "/etc/systemd/system/etcd.service:8: Missing '=', ignoring line."), sd('c1', '10:00:01', "[/etc/systemd/system/etcd.service:9] Missing '='."));
    expect(both.details.slice(1)).toEqual([
      "This systemd ignores those lines and starts etcd with a cut-down command line: etcd then exits with `'\\' is not a valid flag` (BOOT-14).",
      "This (older) systemd refuses to load the unit at all (`Missing '='.` without `ignoring line`): `systemctl enable` fails and the unit file state is `bad`.",
    ]);
    expect(both.facts).toEqual({ files: '/etc/systemd/system/etcd.service', lines: '8, 9' });
    const newOnly = find('SD-01', sd('c0', '10:00:01', "/etc/systemd/system/etcd.service:8: Missing '=', ignoring line."));
    expect(newOnly.details).toHaveLength(2);
  });

  it('a crash loop counts the restarts and the highest restart counter systemd reached', () => {
    const f = find('SD-07', sd('c0', '10:00:01', 'etcd.service: Scheduled restart job, restart counter is at 3.'), sd('c0', '10:00:06', 'etcd.service: Scheduled restart job, restart counter is at 12.'), sd('c0', '10:00:11', 'etcd.service: Scheduled restart job, restart counter is at 4.'));
    expect(f.facts).toEqual({ restarts: 3, restartCounter: 12 });
  });

  it("a stray argument is explained by what it is: a doubled backslash, a unit setting, or any other word", () => {
    const f = find(
      'BOOT-14',
      etcd('c0', '10:00:01', "error verifying flags, '\\' is not a valid flag. See 'etcd --help'."),
      etcd('c0', '10:00:02', "error verifying flags, 'Restart=on-failure' is not a valid flag. See 'etcd --help'."),
      etcd('c0', '10:00:03', "error verifying flags, 'initial-cluster' is not a valid flag. See 'etcd --help'."),
    );
    expect(f.details).toEqual([
      "'\\' as an argument: a doubled backslash at the end of an ExecStart= line (SD-01); systemd passed the second one to etcd.",
      "'Restart=on-failure' is a unit setting: the last ExecStart= line ends in a backslash and swallowed the next line.",
      "'initial-cluster': a stray word on etcd's command line (a missing '--' or a broken line continuation).",
    ]);
    expect(f.facts).toEqual({ arguments: "'\\' 'Restart=on-failure' 'initial-cluster'" });
  });

  it('a missing file names each path with its reasons and the hosts', () => {
    const f = find('BOOT-07', etcd('c0', '10:00:01', 'open /etc/etcd/ca.pem: no such file or directory'), etcd('c1', '10:00:01', 'open /etc/etcd/ca.pem: permission denied'), etcd('c1', '10:00:02', 'open /etc/etcd/k.pem: permission denied'));
    expect(f.details).toEqual(['/etc/etcd/ca.pem: no such file or directory, permission denied (on c0, c1)', '/etc/etcd/k.pem: permission denied (on c0, c1)']);
    expect(f.facts).toEqual({ files: '/etc/etcd/ca.pem /etc/etcd/k.pem', reason: 'no such file or directory, permission denied' });
  });

  it('slow syncs, slow requests and late heartbeats: how many, the longest and the median, against their thresholds', () => {
    const disk = find('DISK-01', etcd('c0', '10:00:01', 'sync duration of 1.5s, expected less than 1s'), etcd('c0', '10:00:02', 'sync duration of 3s, expected less than 1s'), etcd('c0', '10:00:03', 'sync duration of 2s, expected less than 1s'), etcd('c0', '10:00:04', 'sync duration of 4s, expected less than 1s'));
    expect(disk.facts).toEqual({ syncs: 4, syncMax: '4s', syncMedian: '2.5s', threshold: '1s' });
    expect(disk.details).toEqual(['4 slow fdatasync(s): max 4s, median 2.5s (threshold 1s; healthy p99 is under 10ms).']);
    const slow = find('DISK-02', etcd('c0', '10:00:01', 'read-only range request "key" took too long (312.5ms) to execute'), etcd('c0', '10:00:02', 'read-only range request "key" took too long (1.2s) to execute'));
    expect(slow.details).toEqual(['2 slow request(s): max 1.2s, median 756.3ms (warning threshold 100ms).']);
    expect(slow.facts).toMatchObject({ requests: 2, applyMax: '1.2s' });
    const late = find('DISK-03', etcd('c0', '10:00:01', 'failed to send out heartbeat on time (exceeded the 100ms timeout for 401.2ms, to 8e9e05c52164694d)'), etcd('c0', '10:00:02', 'failed to send out heartbeat on time (exceeded the 100ms timeout for 1.5s, to 9e737febb6b99eee)'));
    expect(late.facts).toMatchObject({ misses: 2, lateMax: '1.5s', peers: '8e9e05c52164694d, 9e737febb6b99eee' });
    expect(late.details).toEqual([`Heartbeats late by up to 1.5s (median ${late.facts.lateMedian}).`]);
  });

  it('unreachable peers, each with its errors; clock drift at its worst', () => {
    const peer = find(
      'PEER-01',
      etcd('c0', '10:00:01', 'health check for peer 1ec55d2fb473165c could not connect: dial tcp 10.240.0.11:2380: connect: connection refused'),
      etcd('c0', '10:00:02', 'health check for peer 1ec55d2fb473165c could not connect: dial tcp 10.240.0.11:2380: i/o timeout'),
      etcd('c0', '10:00:03', 'health check for peer 9e737febb6b99eee could not connect: dial tcp 10.240.0.12:2380: connect: no route to host'),
    );
    expect(peer.details).toEqual([
      'peer 1ec55d2fb473165c: dial tcp 10.240.0.11:2380: connect: connection refused, dial tcp 10.240.0.11:2380: i/o timeout',
      'peer 9e737febb6b99eee: dial tcp 10.240.0.12:2380: connect: no route to host',
    ]);
    const clock = find('CLOCK-01', etcd('c0', '10:00:01', 'the clock difference against peer 9e737febb6b99eee is too high [1.523s > 1s]'), etcd('c0', '10:00:02', 'the clock difference against peer 9e737febb6b99eee is too high [2.5s > 1s]'));
    expect(clock.facts).toEqual({ peers: '9e737febb6b99eee', driftMax: '2.5s' });
  });

  it('without a describer, the facts are the distinct values of each group, a few of each', () => {
    const lines = [1, 2, 3, 4, 5, 6].map((i) => etcd('c0', `10:00:0${i}`, `listen tcp 10.240.0.${i}:2380: bind: address already in use`));
    const f = diagnoseJournal(journal(...lines)).find((x) => x.severity === 'error')!;
    const many = Object.values(f.facts).find((v) => String(v).includes('more'));
    expect(many).toMatch(/^10\.240\.0\.1:2380, 10\.240\.0\.2:2380, 10\.240\.0\.3:2380, 10\.240\.0\.4:2380 \(\+2 more\)$/);
  });

  it('evidence is at most three lines: the first, one from the middle and the last', () => {
    const lines = [1, 2, 3, 4, 5].map((i) => etcd('c0', `10:00:0${i}`, `sync duration of ${i}s, expected less than 1s`));
    const f = find('DISK-01', ...lines);
    expect(f.evidence.map((e) => /sync duration of (\d)s/.exec(e)![1])).toEqual(['1', '3', '5']);
    expect(f).toMatchObject({ count: 5, first: new Date(Date.UTC(2026, 10, 23, 10, 0, 1)), last: new Date(Date.UTC(2026, 10, 23, 10, 0, 5)), hosts: ['c0'] });
  });
});

describe('the election finding', () => {
  const raft = (t: string, msg: string, host = 'c0') => etcd(host, t, `raft2026/11/23 ${t} INFO: ${msg}`);
  const loop = [1, 4, 7, 10].flatMap((s, i) => {
    const t = `10:00:${String(s).padStart(2, '0')}`;
    return [raft(t, `b71f75320dc06a6c is starting a new election at term ${i + 1}`), raft(t, `b71f75320dc06a6c became pre-candidate at term ${i + 1}`)];
  });

  it('a loop names each member, its elections, pre-votes and terms, and what else is wrong next to it', () => {
    const f = find(
      'ELECT-LOOP',
      ...loop,
      etcd('c0', '10:00:11', 'health check for peer 1ec55d2fb473165c could not connect: dial tcp 10.240.0.11:2380: connect: connection refused'),
      etcd('c0', '10:00:11', 'health check for peer 367bc27ac7e3f18f could not connect: x509: certificate is valid for 127.0.0.1, not 127.0.0.2'),
      etcd('c0', '10:00:11', 'sync duration of 1.5s, expected less than 1s'),
    );
    expect(f.details[0]).toBe('member b71f75320dc06a6c (c0): 4 election(s), 4 pre-vote(s), term 1→4, no leader after its last election');
    expect(f.details).toContain('Peers are unreachable (PEER-01): without a majority the loop goes on until enough members run and can connect.');
    expect(f.details).toContain('TLS errors (TLS-*) keep members from talking: fix them first.');
    expect(f.details).toContain('The disk is slow (DISK-01/DISK-03): late heartbeats make followers start elections.');
    expect(f.facts).toMatchObject({ elections: 4, termStart: 1, termEnd: 4 });
    expect(f.count).toBe(4);
    expect(f.severity).toBe('error');
  });

  it('several members: one line each, then the summary', () => {
    const two = [...loop, ...loop.map((l) => l.replaceAll('b71f75320dc06a6c', '9e737febb6b99eee').replace(' c0 ', ' c1 '))];
    const f = find('ELECT-LOOP', ...two);
    expect(f.details.filter((d) => d.startsWith('member '))).toHaveLength(2);
    expect(f.details.at(-1)).toMatch(/^election loop on .*\.$/);
    expect(f.hosts).toEqual(['c0', 'c1']);
  });

  it("a catalog without the election signatures still names the loop, as an error", () => {
    const own = compileCatalog({ signatures: loadCatalog().filter((s) => !s.id.startsWith('ELECT-')).map(({ re34: _a, reJson: _b, resolver: _c, ...def }) => def) });
    const f = diagnose(journal(...loop), { catalog: own }).findings.find((x) => x.id === 'ELECT-LOOP')!;
    expect(f).toMatchObject({ severity: 'error', title: 'Election loop', meaning: '', fix: '' });
  });
});

describe('leader flapping and repeated elections, as findings', () => {
  const raft = (t: string, msg: string, host = 'c0') => etcd(host, t, `raft2026/11/23 ${t} INFO: ${msg}`);
  const L = 'ddd67b312462fd7b';
  const flapping = [
    raft('10:00:00', `raft.node: b71f75320dc06a6c elected leader ${L} at term 2`),
    raft('10:00:30', `raft.node: b71f75320dc06a6c lost leader ${L} at term 3`),
    raft('10:00:31', `raft.node: b71f75320dc06a6c elected leader ${L} at term 3`),
    raft('10:01:00', `raft.node: b71f75320dc06a6c changed leader from ${L} to 9e737febb6b99eee at term 4`),
    raft('10:01:30', 'b71f75320dc06a6c stepped down to follower since quorum is not active'),
    raft('10:01:31', `raft.node: b71f75320dc06a6c elected leader ${L} at term 5`),
  ];
  const churn = [
    raft('10:00:00', 'b71f75320dc06a6c is starting a new election at term 1'),
    raft('10:00:02', 'b71f75320dc06a6c is starting a new election at term 2'),
    raft('10:00:04', 'b71f75320dc06a6c is starting a new election at term 3'),
    raft('10:00:05', 'b71f75320dc06a6c became leader at term 3'),
  ];
  const noElect = () => compileCatalog({ signatures: loadCatalog().filter((x) => !x.id.startsWith('ELECT-')).map(({ re34: _a, reJson: _b, resolver: _c, ...def }) => def) });

  it('flapping counts every loss, change and step-down; the member line says how many; the window is that of its evidence', () => {
    const f = find('ELECT-FLAP', ...flapping);
    expect(f.count).toBe(3);
    expect(f.facts).toMatchObject({ lostLeader: 1, changedLeader: 1, termStart: 2, termEnd: 5 });
    expect(f.details[0]).toBe('member b71f75320dc06a6c (c0): 2 leader loss(es)/change(s), term 2→5');
    expect(f.evidence).toHaveLength(3);
    expect([f.first, f.last]).toEqual([new Date(Date.UTC(2026, 10, 23, 10, 0, 30)), new Date(Date.UTC(2026, 10, 23, 10, 1, 30))]);
    expect(f.ref).toBe(loadCatalog().find((x) => x.id === 'ELECT-FLAP')!.ref);
    expect(diagnose(journal(...flapping), { catalog: noElect() }).findings.find((x) => x.id === 'ELECT-FLAP')).toMatchObject({ severity: 'warning', title: 'Leader flapping' });
  });

  it('repeated elections that found a leader are information: the member line names the leader it knows', () => {
    const f = find('ELECT-CHURN', ...churn);
    expect(f.severity).toBe('info');
    expect(f.details).toEqual(['member b71f75320dc06a6c (c0): 3 election(s), term 1→3, leader b71f75320dc06a6c known after']);
    expect(f.facts).not.toHaveProperty('lostLeader');
    expect(f.facts).not.toHaveProperty('changedLeader');
    expect(f.count).toBe(3);
    expect(diagnose(journal(...churn), { catalog: noElect() }).findings.find((x) => x.id === 'ELECT-CHURN')).toMatchObject({ severity: 'info', title: 'Repeated elections' });
  });

  it('a member that only followed (no election, loss or candidacy) gets no line of its own', () => {
    const f = find('ELECT-CHURN', ...churn, raft('10:00:06', `raft.node: 9e737febb6b99eee elected leader b71f75320dc06a6c at term 3`, 'c1'));
    expect(f.details.filter((d) => d.startsWith('member '))).toEqual(['member b71f75320dc06a6c (c0): 3 election(s), term 1→3, leader b71f75320dc06a6c known after']);
  });

  it('candidacies count when a journal has no election lines (filtered)', () => {
    const cands = [1, 3, 5].map((s, i) => raft(`10:00:0${s}`, `b71f75320dc06a6c became candidate at term ${i + 2}`));
    expect(find('ELECT-LOOP', ...cands).count).toBe(3);
  });
});

describe('the order of findings', () => {
  const f = (id: string, severity: Finding['severity'], count = 1): Finding => ({ id, severity, title: id, count, hosts: [], evidence: [], facts: {}, details: [], meaning: '', fix: '' });
  it("the cluster's condition first, then by severity, the catalog's order, the most frequent, the id", () => {
    const sorted = sortFindings([f('ZZ-2', 'error', 1), f('ZZ-1', 'error', 5), f('SD-05', 'error'), f('CLUSTER', 'error'), f('SD-01', 'error'), f('DISK-01', 'warning'), f('ZZ-3', 'error', 1)]);
    expect(sorted.map((x) => x.id)).toEqual(['CLUSTER', 'SD-01', 'SD-05', 'ZZ-1', 'ZZ-2', 'ZZ-3', 'DISK-01']);
  });
});

describe('findings as a list, as JSON and as text', () => {
  const f = (id: string, severity: Finding['severity'], extra: Partial<Finding> = {}): Finding => ({ id, severity, title: `${id} title`, count: 1, hosts: [], evidence: [], facts: {}, details: [], meaning: 'm', fix: 'x', ...extra });

  it('problems are the errors and warnings; info is not one', () => {
    const all = [f('A', 'error'), f('B', 'info'), f('C', 'warning'), f('D', 'error')];
    expect(problemsOf(all).map((x) => x.id)).toEqual(['A', 'C', 'D']);
    expect(countBySeverity(all)).toEqual({ error: 2, warning: 1, info: 1 });
  });

  it('JSON carries times as ISO strings, and no time when there is none', () => {
    const t = new Date(Date.UTC(2026, 10, 23, 10, 0, 0));
    expect(findingsToJson([f('A', 'error', { first: t, last: t })])[0]).toMatchObject({ first: '2026-11-23T10:00:00.000Z', last: '2026-11-23T10:00:00.000Z' });
    expect(findingsToJson([f('A', 'error')])[0]).not.toHaveProperty('first');
  });

  it('text: a table, then each finding with its count, hosts, time span, evidence (long lines cut), what was found, cause and fix', () => {
    const day = (h: number, d = 23) => new Date(Date.UTC(2026, 10, d, h, 0, 0));
    const text = renderFindings([
      f('A', 'warning', { count: 2, hosts: ['c0', 'c1'], first: day(10), last: day(11), evidence: ['x'.repeat(300)], details: ['two\nlines'], facts: { n: 3 } }),
      f('B', 'error', { first: day(10), last: day(10, 24) }),
    ]);
    expect(renderFindings([])).toBe('');
    const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain.indexOf('B  B title')).toBeLessThan(plain.indexOf('A  A title'));
    expect(plain).toMatch(/A {2}A title {2}\(2×, on c0, c1, 2026-11-23 10:00:00 → 11:00:00\)/);
    expect(plain).toMatch(/B {2}B title {2}\(1×, 2026-11-23 10:00:00 → 2026-11-24 10:00:00\)/);
    expect(plain).toContain(`    | ${'x'.repeat(219)}…\n`);
    expect(plain).toContain('  found\n    - two\n    - lines\n    n=3');
    expect(plain).toContain('  cause  m\n  fix    x');
  });
});
