import { describe, expect, it } from 'vitest';
import type { LiveFacts, LiveMember, NodeFacts } from '../../src/cluster/condition.js';
import { nodeFacts, peerUrlOf } from './condition-fixtures.js';

// The cluster condition's verdicts: how severe each is, which command repairs a degraded cluster, the words of a lost
// quorum. The module is imported inside the first test so that its word helpers, built when it loads, are credited
// to that test.
const condition = () => import('../../src/cluster/condition.js');
const url = peerUrlOf;
const node = nodeFacts;
const member = (i: number, extra: Partial<LiveMember> = {}): LiveMember => ({ id: `a${i}`, name: `c${i}`, peerURLs: [url(i)], clientURLs: [], isLearner: false, ...extra });
const live = (count: number, healthy: number[], extra: Partial<LiveFacts> = {}): LiveFacts => ({
  clusterId: 'c1',
  members: Array.from({ length: count }, (_, i) => member(i)),
  healthy: healthy.map((i) => `a${i}`),
  ...extra,
});
const empty: Partial<NodeFacts> = { hasData: false, wal: undefined };

describe('a lost quorum, member by member', () => {
  it('names the members that run with their revisions (or that it is unknown), those stopped, emptied and not reached', async () => {
    const { clusterCondition } = await condition();
    const l = live(5, []);
    l.members[4] = { id: 'f4', name: 'elsewhere', peerURLs: ['https://10.9.9.9:2380'], clientURLs: [], isLearner: false };
    const c = clusterCondition({ nodes: [node(0, { revision: 7 }), node(1), node(2, { active: false, revision: 5 }), node(3, empty)], live: l });
    expect(c.kind).toBe('quorum-lost');
    expect(c.severity).toBe('error');
    expect(c.startable).toBe(true);
    expect(c.headline).toBe(
      'quorum lost: 2 of 5 members run (c0, revision 7; c1, revision unknown); c2 (revision 5) is stopped, ready to start; c3 has an empty data dir; elsewhere could not be reached; the cluster accepts no writes.',
    );
    expect(c.fix).toBe("'hardway up' starts c2: with 3 members holding data the quorum (3) comes back, nothing is lost");
    // Two stopped: plural words.
    const two = clusterCondition({ nodes: [node(0, { revision: 7 }), node(1, { active: false }), node(2, { active: false, revision: 5 })], live: live(3, []) });
    expect(two.headline).toBe('quorum lost: 1 of 3 members runs (c0, revision 7); c1 (revision unknown) and c2 (revision 5) are stopped, ready to start; the cluster accepts no writes.');
    expect(two.fix).toBe("'hardway up' starts c1 and c2: with 3 members holding data the quorum (2) comes back, nothing is lost");
  });

  it('recovers from a healthy member as from any other holding data, and a member of no node is never one', async () => {
    const { chooseSource } = await condition();
    const m = (name: string, state: 'healthy' | 'stopped', revision: number) => ({ name, node: name, isLearner: false, state, revision });
    expect(chooseSource([m('a', 'stopped', 3), m('b', 'healthy', 9)])?.name).toBe('b');
  });
});

describe('how severe a verdict is', () => {
  it('every verdict a person must act on is an error: degraded, no leader, quorum lost, stopped, moved, two clusters', async () => {
    const { clusterCondition } = await condition();
    const verdicts = [
      clusterCondition({ nodes: [node(0), node(1), node(2, { active: false })], live: live(3, [0, 1]) }),
      clusterCondition({ nodes: [node(0), node(1), node(2)], live: live(3, []) }),
      clusterCondition({ nodes: [node(0, { revision: 3 }), node(1, empty), node(2, empty)], live: live(3, []) }),
      clusterCondition({ nodes: [node(0), node(1), node(2, { peerUrl: 'https://10.0.0.99:2380' })], live: live(3, [0, 1, 2]) }),
      clusterCondition({ nodes: [node(0, { active: false }), node(1, { active: false }), node(2, { active: false })] }),
      clusterCondition({ nodes: [0, 1, 2].map((i) => node(i, { active: false, unitPeerUrl: `https://192.168.9.${i}:2380` })) }),
      clusterCondition({ nodes: [node(0, { active: false }), node(1, { active: false, wal: { memberId: 'b', clusterId: 'c2' } })] }),
    ];
    expect(verdicts.map((c) => [c.kind, c.severity])).toEqual([
      ['degraded', 'error'],
      ['no-leader', 'error'],
      ['quorum-lost', 'error'],
      ['address-changed', 'error'],
      ['stopped', 'error'],
      ['address-changed', 'error'],
      ['two-clusters', 'error'],
    ]);
  });
});

describe('what repairs a degraded cluster', () => {
  it("up, as soon as one member down is stopped, emptied or added unstarted, each alone; doctor when they all run or are not reached", async () => {
    const { clusterCondition } = await condition();
    const down = (extra: Partial<NodeFacts>, name = 'c4') => {
      const l = live(5, [0, 1, 2]);
      l.members[4] = member(4, { name });
      return clusterCondition({ nodes: [node(0), node(1), node(2), node(3), node(4, extra)], live: l }).fix;
    };
    const UP = "'hardway up' starts or re-adds them";
    const DOCTOR = "'hardway doctor' tells why";
    expect(down({ active: false })).toBe(UP);
    expect(down(empty)).toBe(UP);
    expect(down({ ...empty, active: false }, '')).toBe(UP);
    // c3 runs without answering; c4 is not reached: nothing for up to start.
    expect(down({ observed: false, reason: 'no route' })).toBe(DOCTOR);
  });
});

describe('the members of the condition', () => {
  it('are in inventory order, those of no node after them by member ID, whatever order etcd lists them in', async () => {
    const { clusterCondition } = await condition();
    const stranger = (id: string) => ({ id, name: id, peerURLs: [`https://10.9.9.${id.length}:2380`], clientURLs: [], isLearner: false });
    const l: LiveFacts = { clusterId: 'c1', members: [member(2), stranger('zz'), member(0), stranger('b'), member(1)], healthy: ['a0', 'a1', 'a2', 'zz', 'b'] };
    const c = clusterCondition({ nodes: [node(0), node(1), node(2)], live: l });
    expect(c.members.map((m) => m.name)).toEqual(['c0', 'c1', 'c2', 'b', 'zz']);
  });

  it('told from the nodes alone, are all voters: a learner is known only from a live member list', async () => {
    const { clusterCondition } = await condition();
    const c = clusterCondition({ nodes: [node(0, { active: false }), node(1, { active: false }), node(2, empty)] });
    expect(c.members.map((m) => m.isLearner)).toEqual([false, false, false]);
  });

  it('a member listed under two peer URLs that moved is told with both', async () => {
    const { clusterCondition } = await condition();
    const l = live(3, [0, 1, 2]);
    l.members[2] = member(2, { peerURLs: ['https://10.0.0.12:2380', 'https://10.1.0.12:2380'] });
    const c = clusterCondition({ nodes: [node(0), node(1), node(2, { peerUrl: 'https://10.0.0.99:2380' })], live: l });
    expect(c.headline).toBe('c2 (member a2) moved from https://10.0.0.12:2380,https://10.1.0.12:2380 to https://10.0.0.99:2380: the cluster still lists the old address');
  });
});
