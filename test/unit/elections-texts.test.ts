import { describe, expect, it } from 'vitest';

// raft's texts as etcd logs them, with real 16-digit member IDs and terms of several digits, and the kinds of events
// the analysis counts. The module is imported inside the test so that its patterns and sets, built when it loads,
// are credited to this test.
describe('raft texts and event kinds', () => {
  it('every text with full IDs and long terms, and each kind counted where it belongs', async () => {
    const { analyzeElections, parseRaftEvent, transferTerms } = await import('../../src/journal/elections.js');
    const { parseJournal } = await import('../../src/journal/parse.js');
    const A = 'b71f75320dc06a6c';
    const B = '9e737febb6b99eee';
    const C = 'ddd67b312462fd7b';
    expect(parseRaftEvent(`${A} is starting a new election at term 123`)).toEqual({ kind: 'election', member: A, term: 123 });
    for (const k of ['candidate', 'pre-candidate', 'follower'] as const) expect(parseRaftEvent(`${A} became ${k} at term 45`)).toEqual({ kind: k, member: A, term: 45 });
    expect(parseRaftEvent(`${A} became leader at term 45`)).toEqual({ kind: 'leader', member: A, term: 45, leader: A });
    expect(parseRaftEvent(`raft.node: ${A} elected leader ${B} at term 67`)).toEqual({ kind: 'elected', member: A, leader: B, term: 67 });
    expect(parseRaftEvent(`raft.node: ${A} changed leader from ${B} to ${C} at term 89`)).toEqual({ kind: 'changed', member: A, leader: C, term: 89 });
    expect(parseRaftEvent(`raft.node: ${A} lost leader ${B} at term 10`)).toEqual({ kind: 'lost', member: A, leader: B, term: 10 });
    expect(parseRaftEvent(`${A} stepped down to follower since quorum is not active`)).toEqual({ kind: 'stepped-down', member: A });
    const msgs = (...m: string[]) => parseJournal(m.join('\n'));
    expect([...transferTerms(msgs(`${A} [term 41] starts to transfer leadership to ${B}`, `${B} [term 51] received MsgTimeoutNow from ${A} and starts an election to get leadership.`))]).toEqual([42, 52]);

    // Elections, candidacies, leader events and losses each land in their own count.
    const a = analyzeElections(
      msgs(
        `raft.node: ${A} elected leader ${C} at term 10`,
        `${A} is starting a new election at term 11`,
        `${A} became pre-candidate at term 11`,
        `${A} became candidate at term 12`,
        `${A} became leader at term 12`,
        `raft.node: ${B} changed leader from ${C} to ${A} at term 12`,
        `raft.node: ${B} lost leader ${A} at term 13`,
        `${B} stepped down to follower since quorum is not active`,
        `raft.node: ${B} elected leader ${A} at term 13`,
      ),
    );
    expect(a).toMatchObject({ elections: 1, candidacies: 1, preCandidacies: 1, leaderEvents: 3, changedLeader: 1, lostLeader: 1, steppedDown: 1, flapping: true });
    expect(a.leader).toMatchObject({ id: A, term: 13 });
    expect(a.members.find((m) => m.id === A)!.leader).toBe(A);
    expect(a.summary).toBe(`leader flapping: 3 leader losses/changes within 300s; leader now ${A}`);
  });
});
