import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeElections, extractRaftEvents, maxOf, minOf, parseRaftEvent } from '../../src/journal/elections.js';
import { parseJournal, type JournalEntry } from '../../src/journal/parse.js';

const FIX = path.join(import.meta.dirname, '../fixtures/journal');
const read = (name: string): JournalEntry[] => parseJournal(readFileSync(path.join(FIX, name), 'utf8'), { year: 2026 });

/** Raft lines of one member, `raft…` 3.4 style, at t0 + seconds. */
function raftLines(lines: [number, string][], member = 'b71f75320dc06a6c', host = 'n1'): JournalEntry[] {
  const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
  const text = lines
    .map(([s, msg]) => {
      const d = new Date(t0 + s * 1000);
      const hms = d.toISOString().slice(11, 19);
      return `Nov 23 ${hms} ${host} etcd[7]: raft2026/11/23 ${hms} INFO: ${msg.replaceAll('@', member)}`;
    })
    .join('\n');
  return parseJournal(text, { year: 2026 });
}

describe('parseRaftEvent', () => {
  it('reads the raft texts (same in 3.4, 3.5 and 3.6)', () => {
    expect(parseRaftEvent('b71f75320dc06a6c is starting a new election at term 1')).toEqual({ kind: 'election', member: 'b71f75320dc06a6c', term: 1 });
    expect(parseRaftEvent('b71f75320dc06a6c became pre-candidate at term 4')).toEqual({ kind: 'pre-candidate', member: 'b71f75320dc06a6c', term: 4 });
    expect(parseRaftEvent('b71f75320dc06a6c became leader at term 2')).toEqual({ kind: 'leader', member: 'b71f75320dc06a6c', term: 2, leader: 'b71f75320dc06a6c' });
    expect(parseRaftEvent('raft.node: eed2010be9a63041 elected leader 1ec55d2fb473165c at term 2')).toEqual({
      kind: 'elected',
      member: 'eed2010be9a63041',
      leader: '1ec55d2fb473165c',
      term: 2,
    });
    expect(parseRaftEvent('raft.node: a changed leader from b to c at term 9')).toEqual({ kind: 'changed', member: 'a', leader: 'c', term: 9 });
    expect(parseRaftEvent('raft.node: a lost leader b at term 9')).toEqual({ kind: 'lost', member: 'a', leader: 'b', term: 9 });
    expect(parseRaftEvent('a stepped down to follower since quorum is not active')).toEqual({ kind: 'stepped-down', member: 'a' });
    expect(parseRaftEvent('b71f75320dc06a6c [logterm: 1, index: 3] sent MsgVote request to 9e737febb6b99eee at term 2')).toBeUndefined();
  });

  it('ignores raft-looking text from other programs', () => {
    const es = parseJournal('Nov 23 10:00:00 h myapp[3]: abc is starting a new election at term 3', { year: 2026 });
    expect(extractRaftEvents(es)).toEqual([]);
  });
});

describe('analyzeElections', () => {
  it('the 3.4 loop fixture: 12 elections every 3 s, term 1→13, no leader → loop', () => {
    const a = analyzeElections(read('etcd34-election-loop.short.txt'));
    expect(a).toMatchObject({
      elections: 12,
      candidacies: 12,
      leaderEvents: 0,
      termStart: 1,
      termEnd: 13,
      electionsPerMinute: 12,
      recentElections: 12,
      loop: true,
      flapping: false,
      churn: false,
    });
    expect(a.stableLeader).toBeUndefined();
    expect(a.leader).toBeUndefined();
    expect(a.members).toHaveLength(1);
    expect(a.members[0]).toMatchObject({ id: 'eed2010be9a63041', hosts: ['controller-0'], elections: 12, termStart: 1, termEnd: 13, loop: true });
    // 10:17:52 … 10:17:58 (3 elections), 10:18:01 … 10:18:25 (9 elections)
    expect(a.perMinute).toEqual([
      { minute: '2026-11-23T10:17', member: 'eed2010be9a63041', elections: 3 },
      { minute: '2026-11-23T10:18', member: 'eed2010be9a63041', elections: 9 },
    ]);
    expect(a.evidence.map((e) => e.message)).toEqual([
      'eed2010be9a63041 is starting a new election at term 1',
      'eed2010be9a63041 is starting a new election at term 7',
      'eed2010be9a63041 is starting a new election at term 12',
    ]);
    expect(a.summary).toMatch(/election loop on eed2010be9a63041: 12 elections, term 1→13/);
  });

  it("the seed's loop (3 elections 2 s apart, term 1→3) is a loop too", () => {
    const a = analyzeElections(read('seed-qiita-election-loop.short.txt'));
    expect(a).toMatchObject({ elections: 3, termStart: 1, termEnd: 3, loop: true });
  });

  it('a healthy start with one election: a leader, no loop, no churn', () => {
    const a = analyzeElections(read('unrelated.short.txt'));
    expect(a).toMatchObject({ elections: 1, loop: false, churn: false, flapping: false, termStart: 1, termEnd: 2 });
    expect(a.leader).toMatchObject({ id: '36549770f2856ae8', term: 2 });
    expect(a.members[0]!.loop).toBe(false);
  });

  it('a stable leader needs a quiet period of stableSeconds up to the end of the window', () => {
    const es = raftLines([
      [0, '@ is starting a new election at term 1'],
      [0, '@ became candidate at term 2'],
      [1, '@ became leader at term 2'],
      [1, 'raft.node: @ elected leader @ at term 2'],
    ]);
    expect(analyzeElections(es).stableLeader).toBeUndefined();
    expect(analyzeElections(es).leader).toMatchObject({ id: 'b71f75320dc06a6c', term: 2 });
    const later = analyzeElections(es, { windowEnd: new Date(Date.UTC(2026, 10, 23, 10, 1, 0)) });
    expect(later.stableLeader).toEqual({ id: 'b71f75320dc06a6c', term: 2, since: new Date(Date.UTC(2026, 10, 23, 10, 0, 1)) });
    expect(analyzeElections(es, { windowEnd: new Date(Date.UTC(2026, 10, 23, 10, 0, 20)), stableSeconds: 10 }).stableLeader).toBeDefined();
  });

  it('elections that end in a leader are churn, not a loop', () => {
    const es = raftLines([
      [0, '@ is starting a new election at term 1'],
      [0, '@ became candidate at term 2'],
      [2, '@ is starting a new election at term 2'],
      [2, '@ became candidate at term 3'],
      [4, '@ is starting a new election at term 3'],
      [4, '@ became candidate at term 4'],
      [5, '@ became leader at term 4'],
      [5, 'raft.node: @ elected leader @ at term 4'],
    ]);
    const a = analyzeElections(es);
    expect(a).toMatchObject({ elections: 3, loop: false, churn: true, termStart: 1, termEnd: 4, electionsPerMinute: 3 });
  });

  it('old elections are not a loop: the last minute decides', () => {
    const es = raftLines([
      [0, '@ is starting a new election at term 1'],
      [2, '@ is starting a new election at term 2'],
      [4, '@ is starting a new election at term 3'],
      [300, 'raft.node: @ lost leader 9e737febb6b99eee at term 3'],
    ]);
    // The member stopped campaigning 5 minutes ago (it went quiet: stopped, or logs cut).
    expect(analyzeElections(es).loop).toBe(false);
    expect(analyzeElections(es.slice(0, 3)).loop).toBe(true);
  });

  it('pre-vote (3.5 default): repeated pre-candidacy at one term is a loop without term growth', () => {
    const es = raftLines([
      [0, '@ is starting a new election at term 5'],
      [0, '@ became pre-candidate at term 5'],
      [2, '@ is starting a new election at term 5'],
      [2, '@ became pre-candidate at term 5'],
      [4, '@ is starting a new election at term 5'],
      [4, '@ became pre-candidate at term 5'],
    ]);
    expect(analyzeElections(es)).toMatchObject({ loop: true, termStart: 5, termEnd: 5, preCandidacies: 3 });
  });

  it('the same term repeated without pre-vote is not called a loop', () => {
    const es = raftLines([
      [0, '@ is starting a new election at term 5'],
      [2, '@ is starting a new election at term 5'],
      [4, '@ is starting a new election at term 5'],
    ]);
    expect(analyzeElections(es).loop).toBe(false);
  });

  it('leader flapping: two leader changes within 5 minutes while a leader exists', () => {
    const es = raftLines([
      [0, 'raft.node: @ elected leader 9e737febb6b99eee at term 2'],
      [60, 'raft.node: @ lost leader 9e737febb6b99eee at term 3'],
      [61, 'raft.node: @ elected leader ddd67b312462fd7b at term 3'],
      [120, 'raft.node: @ changed leader from ddd67b312462fd7b to 9e737febb6b99eee at term 4'],
      [400, '@ [term: 4] received a MsgHeartbeat message'],
    ]);
    const a = analyzeElections(es);
    expect(a).toMatchObject({ flapping: true, loop: false, lostLeader: 1, changedLeader: 1 });
    expect(a.leader).toMatchObject({ id: '9e737febb6b99eee', term: 4 });
    // One change is not flapping.
    expect(analyzeElections(es.slice(0, 3)).flapping).toBe(false);
  });

  it('counts per member when several journals are combined', () => {
    const a = analyzeElections([
      ...raftLines([[0, '@ is starting a new election at term 1'], [0, '@ became candidate at term 2']], 'aaaaaaaaaaaaaaaa', 'n1'),
      ...raftLines([[1, 'raft.node: @ elected leader aaaaaaaaaaaaaaaa at term 2']], 'bbbbbbbbbbbbbbbb', 'n2'),
    ]);
    expect(a.members.map((m) => [m.id, m.hosts, m.elections, m.electedLeader])).toEqual([
      ['aaaaaaaaaaaaaaaa', ['n1'], 1, 0],
      ['bbbbbbbbbbbbbbbb', ['n2'], 0, 1],
    ]);
    expect(a.leader?.id).toBe('aaaaaaaaaaaaaaaa');
  });

  it('works without timestamps (bare raft lines): counts only', () => {
    const es = parseJournal(
      ['a1 is starting a new election at term 1', 'a1 is starting a new election at term 2', 'a1 is starting a new election at term 3'].join('\n'),
    );
    const a = analyzeElections(es);
    expect(a).toMatchObject({ elections: 3, electionsPerMinute: 0, loop: true });
    expect(a.window).toEqual({});
  });

  it('no raft lines: nothing to report', () => {
    const a = analyzeElections([]);
    expect(a).toMatchObject({ elections: 0, loop: false, flapping: false, churn: false, summary: 'no raft election lines' });
  });
});

describe('per-member accounting', () => {
  it("counts each raft event of a member's own lines by kind, with its terms, first and last election, and the leader it knows last", () => {
    const other = '9e737febb6b99eee';
    const evs = raftLines([
      [0, '@ is starting a new election at term 2'],
      [0, '@ became pre-candidate at term 2'],
      [1, '@ became candidate at term 3'],
      [2, '@ is starting a new election at term 3'],
      [3, '@ became candidate at term 4'],
      [4, '@ became leader at term 4'],
      [5, 'raft.node: @ elected leader @ at term 4'],
      [50, `raft.node: @ changed leader from @ to ${other} at term 5`],
      [60, `raft.node: @ lost leader ${other} at term 5`],
      [61, '@ stepped down to follower since quorum is not active'],
    ]);
    const a = analyzeElections(evs, { windowEnd: new Date(Date.UTC(2026, 10, 23, 10, 2, 0)) });
    const t = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, s));
    expect(a.members).toEqual([
      expect.objectContaining({
        id: 'b71f75320dc06a6c',
        hosts: ['n1'],
        elections: 2,
        candidacies: 2,
        preCandidacies: 1,
        becameLeader: 1,
        electedLeader: 1,
        changedLeader: 1,
        lostLeader: 1,
        steppedDown: 1,
        termStart: 2,
        termEnd: 5,
        firstElection: t(0),
        lastElection: t(2),
        leader: other,
        loop: false,
      }),
    ]);
    expect(a).toMatchObject({ elections: 2, candidacies: 2, preCandidacies: 1, leaderEvents: 2, changedLeader: 1, lostLeader: 1, steppedDown: 1, termStart: 2, termEnd: 5 });
    // The term went up from 2 to 3, 3 to 4 and 4 to 5: three changes.
    expect(a.termChanges).toBe(3);
  });

  it('counts the most elections in any 60 s window, and elections per member per calendar minute, in minute then member order', () => {
    const evs = [
      ...raftLines([[0, '@ is starting a new election at term 2'], [59, '@ is starting a new election at term 3'], [61, '@ is starting a new election at term 4'], [130, '@ is starting a new election at term 5']]),
      ...raftLines([[62, '@ is starting a new election at term 4']], 'aaaa', 'n2'),
    ];
    const a = analyzeElections(evs);
    // 59, 61 and 62 s fall within one 60 s window (0 and 59 too, but nothing else with them).
    expect(a.electionsPerMinute).toBe(3);
    expect(a.perMinute).toEqual([
      { minute: '2026-11-23T10:00', member: 'b71f75320dc06a6c', elections: 2 },
      { minute: '2026-11-23T10:01', member: 'aaaa', elections: 1 },
      { minute: '2026-11-23T10:01', member: 'b71f75320dc06a6c', elections: 1 },
      { minute: '2026-11-23T10:02', member: 'b71f75320dc06a6c', elections: 1 },
    ]);
  });
});

describe('what the analysis says, and which lines show it', () => {
  const L = 'ddd67b312462fd7b';

  it('churn: the first and last elections and the leader that won; the summary names the leader', () => {
    const es = raftLines([
      [0, '@ is starting a new election at term 1'],
      [2, '@ is starting a new election at term 2'],
      [4, '@ is starting a new election at term 3'],
      [5, '@ became leader at term 3'],
    ]);
    const a = analyzeElections(es);
    expect(a.churn).toBe(true);
    expect(a.evidence.map((e) => e.message)).toEqual([
      'b71f75320dc06a6c is starting a new election at term 1',
      'b71f75320dc06a6c is starting a new election at term 3',
      'b71f75320dc06a6c became leader at term 3',
    ]);
    expect(a.summary).toBe('leader b71f75320dc06a6c elected (3 election(s))');
    expect(a.leader).toEqual({ id: 'b71f75320dc06a6c', term: 3, since: new Date(Date.UTC(2026, 10, 23, 10, 0, 5)) });
    // Two elections in a minute are no churn.
    expect(analyzeElections(es.slice(1)).churn).toBe(false);
  });

  it('a stable leader: its id and since when; no leader at all: how many elections', () => {
    const stable = analyzeElections(raftLines([[0, '@ is starting a new election at term 1'], [1, `raft.node: @ elected leader ${L} at term 2`], [40, '@ [term: 2] received a MsgHeartbeat message']]));
    expect(stable.summary).toBe(`stable leader ${L} since 2026-11-23T10:00:01.000Z (1 election(s))`);
    expect(stable.stableLeader).toEqual({ id: L, since: new Date(Date.UTC(2026, 10, 23, 10, 0, 1)), term: 2 });
    const none = analyzeElections(raftLines([[0, '@ is starting a new election at term 1'], [1, '@ became candidate at term 2']]));
    expect(none.summary).toBe('1 election(s), no leader seen');
    expect(none.evidence.map((e) => e.message)).toEqual(['b71f75320dc06a6c is starting a new election at term 1']);
  });

  it('a leader elected before the last campaign is no leader now', () => {
    const a = analyzeElections(raftLines([[0, `raft.node: @ elected leader ${L} at term 2`], [5, '@ is starting a new election at term 2'], [5, '@ became candidate at term 3']]));
    expect(a.leader).toBeUndefined();
    expect(a.members[0]!.leader).toBeUndefined();
  });

  it('flapping: the last three losses are the evidence, the summary counts them and names the leader now', () => {
    const es = raftLines([
      [0, `raft.node: @ elected leader ${L} at term 2`],
      [30, `raft.node: @ lost leader ${L} at term 3`],
      [31, `raft.node: @ elected leader ${L} at term 3`],
      [60, `raft.node: @ changed leader from ${L} to 9e737febb6b99eee at term 4`],
      [90, '@ stepped down to follower since quorum is not active'],
      [91, `raft.node: @ elected leader ${L} at term 5`],
    ]);
    const a = analyzeElections(es);
    expect(a.flapping).toBe(true);
    expect(a.summary).toBe(`leader flapping: 3 leader losses/changes within 300s; leader now ${L}`);
    expect(a.evidence.map((e) => e.message)).toEqual([
      `raft.node: b71f75320dc06a6c lost leader ${L} at term 3`,
      `raft.node: b71f75320dc06a6c changed leader from ${L} to 9e737febb6b99eee at term 4`,
      'b71f75320dc06a6c stepped down to follower since quorum is not active',
    ]);
  });

  it('leader losses further apart than flapSeconds are not flapping; without times every distinct term counts', () => {
    const apart = raftLines([
      [0, `raft.node: @ elected leader ${L} at term 2`],
      [10, `raft.node: @ lost leader ${L} at term 3`],
      [11, `raft.node: @ elected leader ${L} at term 3`],
      [400, `raft.node: @ lost leader ${L} at term 4`],
      [401, `raft.node: @ elected leader ${L} at term 4`],
    ]);
    expect(analyzeElections(apart).flapping).toBe(false);
    expect(analyzeElections(apart, { flapSeconds: 400 }).flapping).toBe(true);
    const bare = parseJournal([`raft.node: a1 lost leader ${L} at term 3`, `raft.node: a1 lost leader ${L} at term 3`, `raft.node: a1 elected leader ${L} at term 3`].join('\n'));
    expect(analyzeElections(bare).flapping).toBe(false);
    const twoTerms = parseJournal([`raft.node: a1 lost leader ${L} at term 3`, `raft.node: a1 lost leader ${L} at term 4`, `raft.node: a1 elected leader ${L} at term 4`].join('\n'));
    expect(analyzeElections(twoTerms).flapping).toBe(true);
  });

  it('the window runs from the first to the last line, or to the end given; recent means its last recentSeconds', () => {
    const es = raftLines([[0, '@ is starting a new election at term 1'], [50, '@ is starting a new election at term 2'], [100, '@ is starting a new election at term 3']]);
    expect(analyzeElections(es).window).toEqual({ start: new Date(Date.UTC(2026, 10, 23, 10, 0, 0)), end: new Date(Date.UTC(2026, 10, 23, 10, 1, 40)), seconds: 100 });
    expect(analyzeElections(es).recentElections).toBe(2);
    expect(analyzeElections(es, { recentSeconds: 50 }).recentElections).toBe(2);
    expect(analyzeElections(es, { recentSeconds: 49 }).recentElections).toBe(1);
    expect(analyzeElections(es, { windowEnd: new Date(Date.UTC(2026, 10, 23, 10, 10, 0)) }).recentElections).toBe(0);
  });

  it('term 0 (raft before any term) is no term; the range is that of the lines with one', () => {
    const a = analyzeElections(raftLines([[0, '@ became follower at term 0'], [1, '@ is starting a new election at term 1'], [1, '@ became candidate at term 2']]));
    expect([a.termStart, a.termEnd, a.members[0]!.termStart]).toEqual([1, 2, 1]);
    expect(a.termChanges).toBe(1);
  });

  it('a loop counts as one only with enough elections recently (minElections)', () => {
    const es = raftLines([[0, '@ is starting a new election at term 1'], [2, '@ is starting a new election at term 2'], [4, '@ is starting a new election at term 3']]);
    expect(analyzeElections(es).loop).toBe(true);
    expect(analyzeElections(es, { minElections: 4 }).loop).toBe(false);
    expect(analyzeElections(es.slice(0, 2)).loop).toBe(false);
  });
});

describe('the analysis at its edges', () => {
  const L = 'ddd67b312462fd7b';
  it('of four losses, the last three are the evidence, in time order', () => {
    const es = raftLines([
      [0, `raft.node: @ elected leader ${L} at term 2`],
      [10, `raft.node: @ lost leader ${L} at term 3`],
      [20, `raft.node: @ lost leader ${L} at term 4`],
      [30, `raft.node: @ lost leader ${L} at term 5`],
      [40, `raft.node: @ lost leader ${L} at term 6`],
      [41, `raft.node: @ elected leader ${L} at term 6`],
    ]);
    expect(analyzeElections(es).evidence.map((e) => /term (\d+)/.exec(e.message)![1])).toEqual(['4', '5', '6']);
  });

  it('a leader is stable from exactly stableSeconds of quiet', () => {
    const es = raftLines([[0, '@ is starting a new election at term 1'], [1, `raft.node: @ elected leader ${L} at term 2`], [31, '@ [term: 2] received a MsgHeartbeat message']]);
    expect(analyzeElections(es).stableLeader?.id).toBe(L);
    expect(analyzeElections(es, { stableSeconds: 31 }).stableLeader).toBeUndefined();
  });

  it("systemd's lines and other programs' never count, even with raft words in them", () => {
    const text = ['Nov 23 10:00:00 n1 systemd[1]: b71f75320dc06a6c is starting a new election at term 1', 'Nov 23 10:00:01 n1 nginx[5]: b71f75320dc06a6c became leader at term 2'].join('\n');
    expect(analyzeElections(parseJournal(text, { year: 2026 })).summary).toBe('no raft election lines');
  });
});

describe('min and max without spreading', () => {
  it('are those of the numbers, and ±Infinity for none', () => {
    expect([minOf([3, -1, 2]), maxOf([3, -1, 2]), minOf([]), maxOf([])]).toEqual([-1, 3, Infinity, -Infinity]);
  });
});

describe('the analysis, sentence and window', () => {
  const L = 'ddd67b312462fd7b';

  it('a loop is summed up with its members, elections, terms, recent elections and the missing leader', () => {
    const a = analyzeElections(raftLines([[0, '@ is starting a new election at term 1'], [70, '@ is starting a new election at term 2'], [72, '@ is starting a new election at term 3'], [74, '@ is starting a new election at term 4']]));
    expect(a.summary).toBe('election loop on b71f75320dc06a6c: 4 elections, term 1→4, 3 in the last 60s, no leader elected after the last one');
    // First, middle and last election are the evidence.
    expect(a.evidence.map((e) => /term (\d+)/.exec(e.message)![1])).toEqual(['1', '3', '4']);
  });

  it('repeated elections with no leader line at all: first, middle and last election are the evidence', () => {
    const es = raftLines([[0, '@ is starting a new election at term 1'], [2, '@ is starting a new election at term 2'], [4, '@ is starting a new election at term 3'], [6, '@ is starting a new election at term 4'], [300, '@ [term: 4] received a MsgHeartbeat message']]);
    const a = analyzeElections(es);
    expect(a).toMatchObject({ churn: true, loop: false });
    expect(a.evidence.map((e) => /term (\d+)/.exec(e.message)![1])).toEqual(['1', '3', '4']);
  });

  it('the window is counted in whole seconds, rounded', () => {
    const es = parseJournal(['Nov 23 10:00:00.000 n1 etcd[7]: a1 is starting a new election at term 1', 'Nov 23 10:00:09.600 n1 etcd[7]: a1 is starting a new election at term 2'].join('\n'), { year: 2026 });
    expect(analyzeElections(es).window.seconds).toBe(10);
  });

  it('a leader is there since the first member reported it, whichever line comes first in the input', () => {
    const a = analyzeElections([
      ...raftLines([[0, '@ is starting a new election at term 1'], [5, `raft.node: @ elected leader ${L} at term 2`]], 'aaaaaaaaaaaaaaaa', 'n1'),
      ...raftLines([[3, `raft.node: @ elected leader ${L} at term 2`]], 'bbbbbbbbbbbbbbbb', 'n2'),
    ]);
    expect(a.leader).toEqual({ id: L, term: 2, since: new Date(Date.UTC(2026, 10, 23, 10, 0, 3)) });
  });

  it('a term of losses stays in the flapping window while one of its lines is in it', () => {
    // Two members lose the leader at term 3 (0 s and 200 s); term 4 at 400 s: with 300 s, the first line has left the
    // window but term 3 has not, so two terms are inside it.
    const a = analyzeElections([
      ...raftLines([[0, `raft.node: @ lost leader ${L} at term 3`]], 'aaaaaaaaaaaaaaaa', 'n1'),
      ...raftLines([[200, `raft.node: @ lost leader ${L} at term 3`], [400, `raft.node: @ lost leader ${L} at term 4`], [401, `raft.node: @ elected leader ${L} at term 4`]], 'bbbbbbbbbbbbbbbb', 'n2'),
    ]);
    expect(a.flapping).toBe(true);
    // Without the second line of term 3, only term 4 is inside the last 300 s.
    const b = analyzeElections([
      ...raftLines([[0, `raft.node: @ lost leader ${L} at term 3`]], 'aaaaaaaaaaaaaaaa', 'n1'),
      ...raftLines([[400, `raft.node: @ lost leader ${L} at term 4`], [401, `raft.node: @ elected leader ${L} at term 4`]], 'bbbbbbbbbbbbbbbb', 'n2'),
    ]);
    expect(b.flapping).toBe(false);
  });

  it('step-downs carry no term: each one counts as a leader loss of its own', () => {
    const a = analyzeElections(raftLines([[0, `raft.node: @ elected leader ${L} at term 2`], [10, '@ stepped down to follower since quorum is not active'], [20, '@ stepped down to follower since quorum is not active'], [21, `raft.node: @ elected leader ${L} at term 2`]]));
    expect(a).toMatchObject({ flapping: true, steppedDown: 2 });
  });
});

describe('flapping and churn, at their bounds', () => {
  const L = 'ddd67b312462fd7b';

  it('two leader losses exactly flapSeconds apart are not within it', () => {
    const es = (gap: number) => raftLines([[0, `raft.node: @ lost leader ${L} at term 3`], [gap, `raft.node: @ lost leader ${L} at term 4`], [gap + 1, `raft.node: @ elected leader ${L} at term 4`]]);
    expect(analyzeElections(es(300)).flapping).toBe(false);
    expect(analyzeElections(es(299)).flapping).toBe(true);
  });

  it('losses with no leader after them are not flapping: there is no leader to flap', () => {
    const a = analyzeElections(raftLines([[0, `raft.node: @ lost leader ${L} at term 3`], [10, `raft.node: @ lost leader ${L} at term 4`]]));
    expect(a).toMatchObject({ flapping: false, lostLeader: 2 });
    expect(a.leader).toBeUndefined();
  });

  it('without times, repeated elections that found a leader are churn by their number alone', () => {
    const bare = parseJournal(['a1 is starting a new election at term 1', 'a1 is starting a new election at term 2', 'a1 is starting a new election at term 3', 'a1 became leader at term 3'].join('\n'));
    expect(analyzeElections(bare)).toMatchObject({ churn: true, loop: false, electionsPerMinute: 0 });
    expect(analyzeElections(bare.slice(1))).toMatchObject({ churn: false });
  });

  it('a leader confirmed again after a failed pre-vote at its own term leads since the confirmation', () => {
    const a = analyzeElections(raftLines([[0, `raft.node: @ elected leader ${L} at term 2`], [5, '@ became pre-candidate at term 2'], [6, `raft.node: @ elected leader ${L} at term 2`]]));
    expect(a.leader).toEqual({ id: L, term: 2, since: new Date(Date.UTC(2026, 10, 23, 10, 0, 6)) });
  });
});
