import { describe, expect, it } from 'vitest';
import { currentLeader, currentLeaderText, leaderTarget } from '../../src/members/leader.js';
import { memberRows } from '../../src/etcd/members.js';
import { inv, member, status } from './members-fakes.js';

const rowsOf = (statuses: ReturnType<typeof status>[], members = [member(0), member(1), member(2)]) => memberRows(inv, members, statuses);

describe('leaderTarget', () => {
  it('by default picks the answering follower with the lowest raft lag', () => {
    expect(leaderTarget(rowsOf([status(0, 0, 100), status(1, 0, 90), status(2, 0, 99)]))?.name).toBe('controller-2');
    expect(leaderTarget(rowsOf([status(0, 0, 100), status(1, 0, 100), status(2, 0, 99)]))?.name).toBe('controller-1');
    // Same log index: the one that applied more; then member-list order.
    expect(leaderTarget(rowsOf([status(0, 0, 100), status(1, 0, 100, { raftAppliedIndex: 98 }), status(2, 0, 100)]))?.name).toBe('controller-2');
    expect(leaderTarget(rowsOf([status(0, 1, 100), status(1, 1, 100), status(2, 1, 100)]))?.name).toBe('controller-0');
  });

  it('never picks a follower that does not answer, a learner or an unstarted member', () => {
    const members = [member(0), member(1, { isLearner: true }), member(2)];
    // The learner is closest, controller-2 far behind: controller-2 all the same.
    expect(leaderTarget(rowsOf([status(0, 0, 100), status(1, 0, 100), status(2, 0, 10)], members))?.name).toBe('controller-2');
    const unstarted = [member(0), member(1, { name: '', started: false, clientURLs: [] }), member(2)];
    expect(leaderTarget(rowsOf([status(0, 0, 100), status(2, 0, 10)], unstarted))?.name).toBe('controller-2');
    expect(() => leaderTarget(rowsOf([status(0, 0, 100), status(1, 0, 100)], members))).toThrow(/no started voting follower answers endpoint status: nowhere to move the leadership from controller-0/);
  });

  it('hands it to a named member that can lead, and does nothing when it already leads', () => {
    const rows = rowsOf([status(0, 0, 100), status(1, 0, 50), status(2, 0, 100)]);
    expect(leaderTarget(rows, rows[1])?.name).toBe('controller-1');
    expect(leaderTarget(rows, rows[0])).toBeUndefined();
  });

  it('refuses a named learner or unstarted member as a usage error, a silent one as an operation error', () => {
    const rows = rowsOf([status(0, 0), status(1, 0)], [member(0), member(1, { isLearner: true }), member(2, { name: '', started: false, clientURLs: [] })]);
    expect(() => leaderTarget(rows, rows[1])).toThrow(expect.objectContaining({ exitCode: 2, message: 'controller-1 (a1) is a learner: only a voting member can lead' }));
    expect(() => leaderTarget(rows, rows[2])).toThrow(expect.objectContaining({ exitCode: 2, message: 'a2 (unstarted) has not started: only a started member can lead' }));
    const silent = rowsOf([status(0, 0)]);
    expect(() => leaderTarget(silent, silent[2])).toThrow(expect.objectContaining({ exitCode: 1, message: expect.stringMatching(/does not answer endpoint status/) }));
  });

  it('without a leader there is nothing to move', () => {
    expect(() => leaderTarget(rowsOf([]))).toThrow(/no member reports a leader/);
  });
});

describe('currentLeader (hardway leader)', () => {
  it('names the leader: member name, ID, the endpoint that answered, the raft term, its inventory node', () => {
    const rows = rowsOf([status(0, 1, 100, { raftTerm: 7 }), status(1, 1, 100, { raftTerm: 7 }), status(2, 1)]);
    const l = currentLeader({ rows });
    expect(l).toEqual({ name: 'controller-1', id: 'a1', endpoint: 'https://10.240.0.11:2379', term: 7, node: 'controller-1' });
    expect(currentLeaderText(l)).toBe('controller-1 (a1) at https://10.240.0.11:2379, term 7');
  });

  it('no member reporting a leader is an operation error saying how many answered', () => {
    const rows = rowsOf([status(0, 9), status(1, 9)]);
    expect(() => currentLeader({ rows })).toThrow(expect.objectContaining({ exitCode: 1, message: expect.stringMatching(/^no member reports a leader \(2 of 3 answered endpoint status\)/) }));
  });
});
