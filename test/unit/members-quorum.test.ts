import { describe, expect, it } from 'vitest';
import { removalVerdict, toleranceLine, type Voter } from '../../src/etcd/quorum.js';

const v = (i: number, healthy = true, isLearner = false): Voter => ({ id: `a${i}`, name: `controller-${i}`, healthy, isLearner });

describe('toleranceLine', () => {
  it('gives quorum and failures survived per number of voting members', () => {
    expect(toleranceLine(3)).toBe('3 members: quorum 2, survives 1 failure');
    expect(toleranceLine(1)).toBe('1 member: quorum 1, survives 0 failures');
    expect(toleranceLine(4)).toBe('4 members: quorum 3, survives 1 failure');
    expect(toleranceLine(5)).toBe('5 members: quorum 3, survives 2 failures');
    expect(toleranceLine(2, 1)).toBe('2 voting members (+1 learner): quorum 2, survives 0 failures');
  });
});

describe('removalVerdict', () => {
  it('allows removing a healthy member of a healthy 3-member cluster, and a stopped one while the others are healthy', () => {
    expect(removalVerdict([v(0), v(1), v(2)], v(2))).toEqual({ ok: true, text: '2 voting members left, 2 healthy (controller-0, controller-1): quorum 2 kept' });
    expect(removalVerdict([v(0), v(1), v(2, false)], v(2, false)).ok).toBe(true);
  });

  it('refuses removing a healthy member while another is down, with the numbers', () => {
    const r = removalVerdict([v(0), v(1, false), v(2)], v(2));
    expect(r).toEqual({
      ok: false,
      text:
        "removing controller-2 is refused: 2 voting members would be left, needing 2 healthy for quorum, and 1 healthy (controller-0) and 1 not (controller-1): 1 < 2. Bring the others back first ('hardway verify' shows them)",
    });
  });

  it('refuses any change when the cluster has no quorum now, and the last member', () => {
    expect(removalVerdict([v(0), v(1, false), v(2, false)], v(2, false))).toEqual({
      ok: false,
      text: 'removing controller-2 is refused: the cluster has 3 voting members and needs 2 healthy for quorum, but 1 is (controller-0): a membership change cannot be committed',
    });
    expect(removalVerdict([v(0)], v(0))).toEqual({ ok: false, text: 'removing controller-0 is refused: controller-0 is the last member of the cluster' });
  });

  it('says how many are healthy, and which, in words that fit the count: none, one, several', () => {
    expect(removalVerdict([v(0, false), v(1, false), v(2, false)], v(2, false)).text).toBe(
      'removing controller-2 is refused: the cluster has 3 voting members and needs 2 healthy for quorum, but 0 are (none): a membership change cannot be committed',
    );
    expect(removalVerdict([v(0), v(1), v(2, false), v(3, false), v(4, false)], v(4, false)).text).toBe(
      'removing controller-4 is refused: the cluster has 5 voting members and needs 3 healthy for quorum, but 2 are (controller-0, controller-1): a membership change cannot be committed',
    );
  });

  it('counts learners out: removing one costs nothing, and they do not make up a quorum', () => {
    expect(removalVerdict([v(0), v(1), v(3, true, true)], v(3, true, true)).ok).toBe(true);
    // 2 voters, one down, a healthy learner: no quorum for the change.
    expect(removalVerdict([v(0), v(1, false), v(3, true, true)], v(3, true, true)).ok).toBe(false);
    // A 5-member cluster with 2 down can lose a healthy member? 4 left need 3, 2 healthy: no.
    expect(removalVerdict([v(0), v(1), v(2), v(3, false), v(4, false)], v(0)).ok).toBe(false);
    expect(removalVerdict([v(0), v(1), v(2), v(3, false), v(4, false)], v(4, false)).ok).toBe(true);
  });
});

describe('removalVerdict: the quorum of the members left', () => {
  it('lets a 4-member cluster with one member down lose a healthy member: the 3 left need 2 healthy, not 3', () => {
    expect(removalVerdict([v(0), v(1), v(2), v(3, false)], v(0))).toEqual({
      ok: true,
      text: '3 voting members left, 2 healthy (controller-1, controller-2) and 1 not (controller-3): quorum 2 kept',
    });
  });

  it('lets the learner of a one-member cluster go: the last voting member stays', () => {
    expect(removalVerdict([v(0), v(1, true, true)], v(1, true, true))).toEqual({ ok: true, text: 'controller-1 is a learner: the 1 voting members keep quorum 1' });
  });

  it('names a member by its ID when it has no name yet (added, never started)', () => {
    const unstarted: Voter = { id: 'beef', name: '', healthy: false, isLearner: false };
    expect(removalVerdict([v(0), v(1), v(2), unstarted], unstarted).text).toBe('3 voting members left, 3 healthy (controller-0, controller-1, controller-2): quorum 2 kept');
    expect(removalVerdict([v(0, false), v(1), unstarted], v(1))).toEqual({
      ok: false,
      text: 'removing controller-1 is refused: the cluster has 3 voting members and needs 2 healthy for quorum, but 1 is (controller-1): a membership change cannot be committed',
    });
    expect(removalVerdict([v(0), v(1), v(2), v(3), v(4, false), unstarted], v(0)).text).toBe(
      '5 voting members left, 3 healthy (controller-1, controller-2, controller-3) and 2 not (controller-4, beef): quorum 3 kept',
    );
  });
});
