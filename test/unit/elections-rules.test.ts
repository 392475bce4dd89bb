import { describe, expect, it } from 'vitest';
import { parseJournal, type JournalEntry } from '../../src/journal/parse.js';

// Rules of the election analysis, each with a journal written out here. The module is imported inside the first test
// so that its kind sets, built when it loads, are credited to that test.
const elections = () => import('../../src/journal/elections.js');
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const L = 'ddd67b312462fd7b';

/** Raft lines (3.4 form) logged by `member` on `host`, each at t0 + seconds; `@` stands for the member's ID. */
function lines(member: string, rows: [number, string][], host = member === A ? 'n1' : 'n2'): JournalEntry[] {
  const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
  const text = rows
    .map(([s, msg]) => {
      const hms = new Date(t0 + s * 1000).toISOString().slice(11, 19);
      return `Nov 23 ${hms} ${host} etcd[7]: raft2026/11/23 ${hms} INFO: ${msg.replaceAll('@', member)}`;
    })
    .join('\n');
  return parseJournal(text, { year: 2026 });
}
/** Bare raft texts: no envelope, no time. */
const bare = (...texts: string[]) => parseJournal(texts.join('\n'));
const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, s));

describe('which lines count as what', () => {
  it('elections start at "starting a new election" lines; candidacies stand in only without them; a changed leader is a leader', async () => {
    const { analyzeElections } = await elections();
    // With election lines, the candidacies around them are no extra starts.
    const withStarts = lines(A, [[0, '@ is starting a new election at term 2'], [0, '@ became pre-candidate at term 1'], [1, '@ became candidate at term 2']]);
    expect(analyzeElections(withStarts).recentElections).toBe(1);
    // A journal filtered to candidacies: both kinds of candidacy are starts.
    const candidacies = lines(A, [[0, '@ became pre-candidate at term 1'], [1, '@ became pre-candidate at term 1'], [2, '@ became candidate at term 2']]);
    expect(analyzeElections(candidacies)).toMatchObject({ recentElections: 3, electionsPerMinute: 3 });
    // The last word on who leads is a "changed leader" line: its new leader leads, since then.
    const changed = analyzeElections(lines(A, [[0, `raft.node: @ elected leader ${B} at term 2`], [10, `raft.node: @ changed leader from ${B} to ${L} at term 3`]]));
    expect(changed.leader).toEqual({ id: L, term: 3, since: at(10) });
  });
});

describe('leadership transfers', () => {
  it('a MsgTimeoutNow its receiver cannot act on (not promotable) starts no transfer', async () => {
    const { transferTerms } = await elections();
    expect([...transferTerms(bare(`${A} received MsgTimeoutNow from ${B} but is not promotable`))]).toEqual([]);
  });
});

describe('counting elections in time', () => {
  it('elections a full minute apart are not within one minute', async () => {
    const { analyzeElections } = await elections();
    const es = lines(A, [[0, '@ is starting a new election at term 1'], [30, '@ is starting a new election at term 2'], [60, '@ is starting a new election at term 3'], [61, '@ became leader at term 3']]);
    expect(analyzeElections(es).electionsPerMinute).toBe(2);
  });

  it('elections spread over an hour that found a leader are no churn: their number alone does not make it', async () => {
    const { analyzeElections } = await elections();
    const es = lines(A, [[0, '@ is starting a new election at term 1'], [1200, '@ is starting a new election at term 2'], [2400, '@ is starting a new election at term 3'], [2401, '@ became leader at term 3']]);
    expect(analyzeElections(es)).toMatchObject({ churn: false, electionsPerMinute: 1 });
  });

  it("a member's recent elections are those in the last recentSeconds, like the cluster's", async () => {
    const { analyzeElections } = await elections();
    const es = lines(A, [[0, '@ is starting a new election at term 1'], [2, '@ is starting a new election at term 2'], [300, `raft.node: @ lost leader ${L} at term 2`]]);
    const a = analyzeElections(es);
    expect([a.recentElections, a.members[0]!.recentElections]).toEqual([0, 0]);
  });

  it('lines without a time among timed ones count as recent, and a leader line without one gives no since', async () => {
    const { analyzeElections } = await elections();
    const mixed = [
      ...lines(A, [[0, '@ is starting a new election at term 1']]),
      ...bare(`${A} is starting a new election at term 2`, `${A} is starting a new election at term 3`, `raft.node: ${A} elected leader ${L} at term 3`),
      ...lines(B, [[500, `raft.node: @ lost leader ${L} at term 3`]]),
    ];
    const a = analyzeElections(mixed);
    expect(a.recentElections).toBe(2);
    expect(a.leader).toEqual({ id: L, term: 3 });
    expect(a.stableLeader).toBeUndefined();
  });

  it('the window ends where it is told to even when no line has a time; it then has no start and no length', async () => {
    const { analyzeElections } = await elections();
    const end = at(100);
    expect(analyzeElections(bare(`${A} is starting a new election at term 1`), { windowEnd: end }).window).toEqual({ end });
  });
});

describe('terms', () => {
  it('a line repeating an older term is no rise: only a term above the highest seen counts', async () => {
    const { analyzeElections } = await elections();
    const es = lines(A, [[0, '@ became candidate at term 3'], [1, `raft.node: @ lost leader ${L} at term 2`], [2, '@ became leader at term 3']]);
    expect(analyzeElections(es).termChanges).toBe(0);
  });

  it('a member whose lines carry no term has no term range', async () => {
    const { analyzeElections } = await elections();
    const m = analyzeElections(bare(`${A} stepped down to follower since quorum is not active`)).members[0]!;
    expect(m).toMatchObject({ id: A, steppedDown: 1 });
    expect(m).not.toHaveProperty('termStart');
    expect(m).not.toHaveProperty('termEnd');
  });

  it('what is unknown is left out of the result, not set to undefined', async () => {
    const { analyzeElections } = await elections();
    const a = analyzeElections([]);
    for (const key of ['termStart', 'termEnd', 'leader', 'stableLeader']) expect(a).not.toHaveProperty(key);
    expect(a.window).toEqual({});
  });
});

describe('the leader', () => {
  it('is the one reported first, also by the very first line, when the journal has no campaign', async () => {
    const { analyzeElections } = await elections();
    const a = analyzeElections([
      ...lines(A, [[0, `raft.node: @ elected leader ${L} at term 2`]]),
      ...lines(B, [[3, `raft.node: @ elected leader ${L} at term 2`], [4, '@ became follower at term 2']]),
      ...lines(A, [[6, `raft.node: @ elected leader ${L} at term 2`]], 'n3'),
    ]);
    expect(a.leader).toEqual({ id: L, term: 2, since: at(0) });
    expect(a.members.map((m) => [m.id, m.leader])).toEqual([[A, L], [B, L]]);
    // The first line alone.
    expect(analyzeElections(lines(A, [[0, `raft.node: @ elected leader ${L} at term 2`]])).leader).toEqual({ id: L, term: 2, since: at(0) });
  });

  it('re-elected at a new term, leads since that term; a loss of the same leader before it is no report of it', async () => {
    const { analyzeElections } = await elections();
    const again = analyzeElections(lines(A, [[0, `raft.node: @ elected leader ${L} at term 2`], [5, `raft.node: @ lost leader ${L} at term 3`], [8, `raft.node: @ elected leader ${L} at term 3`]]));
    expect(again.leader).toEqual({ id: L, term: 3, since: at(8) });
  });

  it("a member's leader is the one after its last campaign of any kind: a failed pre-vote after a win leaves it none", async () => {
    const { analyzeElections } = await elections();
    const a = analyzeElections(lines(A, [[0, '@ is starting a new election at term 2'], [1, '@ became leader at term 2'], [5, '@ became pre-candidate at term 2']]));
    expect(a.members[0]!.leader).toBeUndefined();
    expect(a.leader).toBeUndefined();
  });

  it('without times, a leader has no since', async () => {
    const { analyzeElections } = await elections();
    expect(analyzeElections(bare(`raft.node: ${A} elected leader ${L} at term 4`)).leader).toEqual({ id: L, term: 4 });
  });
});

describe('a loop', () => {
  it('needs its recent campaigns to climb: an old election at a lower term does not make repeats at one term a loop', async () => {
    const { analyzeElections } = await elections();
    const es = lines(A, [[0, '@ is starting a new election at term 1'], [600, '@ is starting a new election at term 5'], [602, '@ is starting a new election at term 5'], [604, '@ is starting a new election at term 5']]);
    expect(analyzeElections(es).loop).toBe(false);
  });

  it('with minElections 2, two climbing elections are one', async () => {
    const { analyzeElections } = await elections();
    const es = lines(A, [[0, '@ is starting a new election at term 1'], [2, '@ is starting a new election at term 2']]);
    expect(analyzeElections(es, { minElections: 2 }).loop).toBe(true);
  });

  it('is summed up with the members in it only, each named once', async () => {
    const { analyzeElections } = await elections();
    const looping = (m: string) => lines(m, [[0, '@ is starting a new election at term 1'], [2, '@ is starting a new election at term 2'], [4, '@ is starting a new election at term 3']]);
    const a = analyzeElections([...looping(A), ...looping(B), ...lines(L, [[4, `raft.node: @ lost leader ${A} at term 1`]], 'n3')]);
    expect(a.summary).toBe(`election loop on ${A}, ${B}: 6 elections, term 1→3, 6 in the last 60s, no leader elected after the last one`);
  });

  it('shows three lines at most: first, middle and last election, not the leader line before them', async () => {
    const { analyzeElections } = await elections();
    const es = lines(A, [[0, `raft.node: @ elected leader ${L} at term 1`], [10, '@ is starting a new election at term 2'], [12, '@ is starting a new election at term 3'], [14, '@ is starting a new election at term 4']]);
    const a = analyzeElections(es);
    expect(a.loop).toBe(true);
    expect(a.evidence.map((e) => e.message)).toEqual([2, 3, 4].map((t) => `${A} is starting a new election at term ${t}`));
  });
});

describe('flapping', () => {
  it('losses are taken in time order, whatever order the journals were pasted in', async () => {
    const { analyzeElections } = await elections();
    const a = analyzeElections([
      ...lines(A, [[0, `raft.node: @ lost leader ${L} at term 3`], [1000, `raft.node: @ lost leader ${L} at term 4`], [1001, `raft.node: @ elected leader ${L} at term 4`]]),
      ...lines(B, [[500, `raft.node: @ lost leader ${L} at term 5`]]),
    ]);
    expect(a.flapping).toBe(false);
  });

  it('a loss without a time among timed ones: every distinct term counts', async () => {
    const { analyzeElections } = await elections();
    const a = analyzeElections([
      ...lines(A, [[0, `raft.node: @ lost leader ${L} at term 3`]]),
      ...bare(`raft.node: ${B} lost leader ${L} at term 9`),
      ...lines(A, [[1000, `raft.node: @ elected leader ${L} at term 10`]]),
    ]);
    expect(a.flapping).toBe(true);
  });
});
