import { describe, expect, it } from 'vitest';
import { chooseSource, clusterCondition, type LiveFacts, type NodeFacts } from '../../src/cluster/condition.js';
import { parseNodeFacts } from '../../src/cluster/gather.js';
import { nodeFacts, peerUrlOf } from './condition-fixtures.js';

const url = peerUrlOf;
const id = (i: number) => `a${i}`;
const node = nodeFacts;
const live = (healthy: number[], extra: Partial<LiveFacts> = {}): LiveFacts => ({
  clusterId: 'c1',
  members: [0, 1, 2].map((i) => ({ id: id(i), name: `c${i}`, peerURLs: [url(i)], clientURLs: [url(i).replace('2380', '2379')], isLearner: false })),
  healthy: healthy.map(id),
  ...extra,
});

describe('the cluster condition', () => {
  it('is healthy when every voting member answers, and says how many failures it survives', () => {
    const c = clusterCondition({ nodes: [node(0), node(1), node(2)], live: live([0, 1, 2]) });
    expect(c.kind).toBe('healthy');
    expect(c.severity).toBe('ok');
    expect(c.headline).toBe('healthy: 3 members, all answer; it survives 1 failure');
  });

  it('is degraded while a quorum answers, naming each member that does not and what it shows', () => {
    const c = clusterCondition({ nodes: [node(0), node(1), node(2, { active: false, revision: 40 })], live: live([0, 1]) });
    expect(c.kind).toBe('degraded');
    expect(c.quorum).toEqual({ voters: 3, need: 2, healthy: 2, canLose: 0 });
    expect(c.headline).toContain('2 of 3 members healthy; c2 (stopped, holds its data at revision 40); it survives 0 more failures');
    expect(c.fix).toContain('hardway up');
  });

  it('with a majority wiped, names the survivor and its revision, the empty nodes, and recover from it', () => {
    const nodes = [node(0, { revision: 1234 }), node(1, { hasData: false, active: false }), node(2, { hasData: false, active: true, restarts: 9 })];
    delete nodes[1]!.wal;
    delete nodes[2]!.wal;
    const c = clusterCondition({ nodes, live: live([]) });
    expect(c.kind).toBe('quorum-lost');
    expect(c.startable).toBe(false);
    expect(c.source).toEqual({ node: 'c0', revision: 1234 });
    expect(c.fix).toBe('hardway recover');
    expect(c.headline).toBe(
      "quorum lost: 1 of 3 members runs (c0, revision 1234); c1 and c2 have empty data dirs; the cluster accepts no writes. 'hardway recover' rebuilds it from c0 (revision 1234, nothing it holds is lost); 'hardway snapshot restore FILE' from a snapshot.",
    );
  });

  it('picks the member with the highest revision as the source, whether it runs or is stopped', () => {
    const nodes = [node(0, { revision: 10 }), node(1, { active: false, revision: 12 }), node(2, { hasData: false })];
    delete nodes[2]!.wal;
    const five = live([]);
    five.members.push({ id: 'a3', name: 'c3', peerURLs: ['https://10.0.0.13:2380'], clientURLs: [], isLearner: false }, { id: 'a4', name: 'c4', peerURLs: ['https://10.0.0.14:2380'], clientURLs: [], isLearner: false });
    const c = clusterCondition({ nodes, live: five });
    expect(c.kind).toBe('quorum-lost');
    expect(c.source).toEqual({ node: 'c1', revision: 12 });
    expect(chooseSource(c.members)?.node).toBe('c1');
  });

  it('is repaired by up, not recover, when enough stopped members still hold their data', () => {
    const c = clusterCondition({ nodes: [node(0, { revision: 5 }), node(1, { active: false, revision: 5 }), node(2, { active: false, revision: 4 })], live: live([]) });
    expect(c.kind).toBe('quorum-lost');
    expect(c.startable).toBe(true);
    expect(c.fix).toMatch(/^'hardway up' starts c1 and c2/);
  });

  it('names unreachable nodes and says recover needs them reachable or out of the inventory', () => {
    const nodes = [node(0, { revision: 7 }), { node: 'c1', peerUrl: url(1), observed: false, reason: 'connect ETIMEDOUT' }, { node: 'c2', peerUrl: url(2), observed: false, reason: 'connect ETIMEDOUT' }];
    const c = clusterCondition({ nodes, live: live([]) });
    expect(c.kind).toBe('quorum-lost');
    expect(c.unobserved.map((u) => u.node)).toEqual(['c1', 'c2']);
    expect(c.headline).toContain('c1 and c2 could not be reached');
    expect(c.headline).toContain('take them out of the inventory to rebuild without them');
  });

  it('learners neither count for the quorum nor are chosen as its source', () => {
    const l = live([0, 1]);
    l.members[2]!.isLearner = true;
    const c = clusterCondition({ nodes: [node(0), node(1), node(2, { active: false })], live: l });
    expect(c.quorum).toEqual({ voters: 2, need: 2, healthy: 2, canLose: 0 });
    expect(c.kind).toBe('healthy');
  });

  it('knows a member by the ID in its WAL when its node moved to another address', () => {
    const c = clusterCondition({ nodes: [node(0), node(1), node(2, { peerUrl: 'https://10.0.0.99:2380', active: false })], live: live([0, 1]) });
    expect(c.kind).toBe('address-changed');
    expect(c.moved?.map((m) => [m.node, m.id, m.moved?.to])).toEqual([['c2', 'a2', 'https://10.0.0.99:2380']]);
    expect(c.headline).toContain('c2 (member a2) moved from https://10.0.0.12:2380 to https://10.0.0.99:2380');
    expect(c.fix).toContain('hardway up');
  });

  it('with no member running, says the cluster is stopped and up starts it', () => {
    const c = clusterCondition({ nodes: [node(0, { active: false }), node(1, { active: false }), node(2, { active: false, hasData: false })] });
    expect(c.kind).toBe('stopped');
    expect(c.fix).toBe('hardway up');
  });

  it('tells nodes holding data of different clusters apart', () => {
    const c = clusterCondition({ nodes: [node(0, { active: false }), node(1, { active: false, wal: { memberId: 'b', clusterId: 'c2' } })] });
    expect(c.kind).toBe('two-clusters');
  });

  it('offline, most members advertising another address than the inventory means recover with the new addresses', () => {
    const moved = (i: number) => node(i, { active: false, unitPeerUrl: `https://192.168.9.${i}:2380` });
    const c = clusterCondition({ nodes: [moved(0), moved(1), node(2, { active: false })] });
    expect(c.kind).toBe('address-changed');
    expect(c.fix).toBe('hardway recover');
  });

  it('with nothing observed, says so instead of any quorum verdict', () => {
    const c = clusterCondition({ nodes: [{ node: 'c0', peerUrl: url(0), observed: false, reason: 'key refused' }] });
    expect(c.kind).toBe('not-observed');
    expect(c.quorum).toBeUndefined();
  });
});

describe('node facts', () => {
  it('reads the tagged lines of the node script: state, restarts, data, WAL ids, unit peer URL, offline revision', () => {
    const f = parseNodeFacts(
      'c0',
      url(0),
      ['noise', 'hardway-cond A failed', 'hardway-cond R 4', 'hardway-cond M 1', 'hardway-cond P https://10.0.0.10:2380', 'hardway-cond V {"hash":1,"revision":77,"totalKey":3,"totalSize":20480}'].join('\n'),
    );
    expect(f).toMatchObject({ active: false, restarts: 4, hasData: true, unitPeerUrl: 'https://10.0.0.10:2380', revision: 77 });
  });

  it('says whether anything listens on the client port: a loop restarting etcd is activating but not listening', () => {
    expect(parseNodeFacts('c0', url(0), 'hardway-cond A activating\nhardway-cond L 0').listening).toBe(false);
    expect(parseNodeFacts('c0', url(0), 'hardway-cond A active\nhardway-cond L 1').listening).toBe(true);
    // No ss on the node: not known, so the member is still asked.
    expect(parseNodeFacts('c0', url(0), 'hardway-cond A active').listening).toBeUndefined();
  });
});

describe('members that run but cannot keep a leader', () => {
  it('is no lost quorum: the members are up, doctor names the cause', () => {
    const c = clusterCondition({ nodes: [node(0), node(1), node(2)], live: live([]) });
    expect(c.kind).toBe('no-leader');
    expect(c.headline).toMatch(/^no leader: 3 of 3 members run but none answers/);
    expect(c.fix).toMatch(/hardway doctor/);
  });
});

// Five members (quorum 3), built from the same helpers: room for two members down while a quorum still answers.
const five = (healthy: number[]): LiveFacts => {
  const l = live(healthy);
  for (const i of [3, 4]) l.members.push({ id: id(i), name: `c${i}`, peerURLs: [url(i)], clientURLs: [], isLearner: false });
  return l;
};
const nodes5 = (extra: Record<number, Partial<NodeFacts>> = {}): NodeFacts[] => [0, 1, 2, 3, 4].map((i) => node(i, extra[i]));
const unreached = (i: number, reason = 'connect ETIMEDOUT'): NodeFacts => ({ node: `c${i}`, peerUrl: url(i), observed: false, reason });

describe('what a member that does not answer shows (degraded: a quorum still answers)', () => {
  it('a member whose etcd runs without answering is a cause for doctor, not for up', () => {
    const c = clusterCondition({ nodes: nodes5(), live: five([0, 1, 2, 3]) });
    expect(c.kind).toBe('degraded');
    expect(c.members.map((m) => m.state)).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'running']);
    expect(c.headline).toBe('degraded: 4 of 5 members healthy; c4 (runs but does not answer); it survives 1 more failure');
    expect(c.fix).toBe("'hardway doctor' tells why");
  });

  it('an unreachable node and a member no inventory node is: nothing to start, doctor tells why', () => {
    const l = five([0, 1, 2]);
    l.members[4] = { id: 'f4', name: 'elsewhere', peerURLs: ['https://10.9.9.9:2380'], clientURLs: [], isLearner: false };
    const c = clusterCondition({ nodes: [node(0), node(1), node(2), unreached(3)], live: l });
    expect(c.members.map((m) => [m.name, m.state, m.node])).toEqual([
      ['c0', 'healthy', 'c0'], ['c1', 'healthy', 'c1'], ['c2', 'healthy', 'c2'], ['c3', 'unobserved', 'c3'], ['elsewhere', 'unknown', undefined],
    ]);
    expect(c.headline).toBe('degraded: 3 of 5 members healthy; c3 (not reached over SSH) and elsewhere (not in the inventory); it survives 0 more failures');
    expect(c.fix).toBe("'hardway doctor' tells why");
    expect(c.unobserved).toEqual([{ node: 'c3', reason: 'connect ETIMEDOUT' }]);
  });

  it('an emptied data dir, a stopped member and an added-but-unstarted one are all brought back by up', () => {
    const l = five([0, 1, 2]);
    // Added with 'member add', never started: the member list has no name for it yet, its node is empty.
    l.members[4] = { ...l.members[4]!, name: '' };
    const c = clusterCondition({ nodes: nodes5({ 3: { hasData: false, wal: undefined, revision: 9 }, 4: { hasData: false, wal: undefined, active: false } }), live: l });
    expect(c.members.map((m) => [m.name, m.state, m.revision])).toEqual([
      ['c0', 'healthy', undefined], ['c1', 'healthy', undefined], ['c2', 'healthy', undefined], ['c3', 'data-lost', undefined], ['c4', 'unstarted', undefined],
    ]);
    expect(c.headline).toBe('degraded: 3 of 5 members healthy; c3 (empty data dir) and c4 (added, not started yet); it survives 0 more failures');
    expect(c.fix).toBe("'hardway up' starts or re-adds them");
    const stopped = clusterCondition({ nodes: nodes5({ 4: { active: false } }), live: five([0, 1, 2, 3]) });
    expect(stopped.headline).toBe('degraded: 4 of 5 members healthy; c4 (stopped, holds its data); it survives 1 more failure');
    expect(stopped.fix).toBe("'hardway up' starts or re-adds them");
  });

  it('a node whose WAL holds another member holds nothing of this one', () => {
    const c = clusterCondition({ nodes: [node(0), node(1), node(2, { wal: { memberId: 'other', clusterId: 'c1' }, revision: 50 })], live: live([0, 1]) });
    expect(c.members[2]).toMatchObject({ name: 'c2', state: 'data-lost' });
    expect(c.members[2]!.revision).toBeUndefined();
  });
});

describe('which inventory node a member is', () => {
  it('by peer URL first, then by the member ID in a WAL, and by name only for an empty node', () => {
    // c2 holds another member's data under the member's name: it is not that member (not matched by name).
    const l = live([0, 1]);
    l.members[2] = { id: 'gone', name: 'c2', peerURLs: ['https://10.0.0.77:2380'], clientURLs: [], isLearner: false };
    const c = clusterCondition({ nodes: [node(0), node(1), node(2)], live: l });
    expect(c.members[2]).toMatchObject({ name: 'c2', state: 'unknown' });
    expect(c.members[2]!.node).toBeUndefined();
    // The same member, its node now empty: it is that node's member, moved and with its data lost.
    const empty = clusterCondition({ nodes: [node(0), node(1), node(2, { hasData: false, wal: undefined })], live: l });
    expect(empty.members[2]).toMatchObject({ node: 'c2', state: 'data-lost', moved: { from: ['https://10.0.0.77:2380'], to: url(2) } });
  });

  it('an unnamed member no node is keeps its ID as its name', () => {
    const l = live([0, 1]);
    l.members[2] = { id: 'f00d', name: '', peerURLs: ['https://10.0.0.77:2380'], clientURLs: [], isLearner: false };
    const c = clusterCondition({ nodes: [node(0), node(1), node(2)], live: l });
    expect(c.members[2]).toMatchObject({ name: 'f00d', state: 'unknown' });
  });
});

describe('the source recover rebuilds from', () => {
  it('is the highest revision among members holding data; the first in inventory order on a tie; unknown revisions last', () => {
    const m = (name: string, state: 'healthy' | 'running' | 'stopped' | 'data-lost' | 'unobserved', revision?: number, node: string | undefined = name) => ({
      name, ...(node ? { node } : {}), isLearner: false, state, ...(revision !== undefined ? { revision } : {}),
    });
    expect(chooseSource([m('a', 'stopped', 5), m('b', 'running', 5), m('c', 'healthy', 4)])?.name).toBe('a');
    expect(chooseSource([m('a', 'stopped'), m('b', 'running', 0)])?.name).toBe('b');
    expect(chooseSource([m('a', 'stopped'), m('b', 'running')])?.name).toBe('a');
    // An empty data dir, an unreached node, a member no node is: never a source, whatever they once held.
    expect(chooseSource([m('a', 'data-lost', 9), m('b', 'unobserved', 9), m('c', 'healthy', 9, ''), m('d', 'stopped', 1)])?.name).toBe('d');
    expect(chooseSource([m('a', 'data-lost', 9)])).toBeUndefined();
  });
});

describe('a lost quorum, in words a person acts on', () => {
  it('stopped members holding data, and an added one, are started by up: how many hold data, and that nothing is lost', () => {
    const l = five([]);
    l.members[4] = { ...l.members[4]!, name: '' };
    const c = clusterCondition({
      nodes: nodes5({ 1: { active: false, revision: 8 }, 2: { active: false }, 3: { hasData: false, wal: undefined }, 4: { hasData: false, wal: undefined, active: false } }),
      live: l,
    });
    expect(c.kind).toBe('quorum-lost');
    expect(c.startable).toBe(true);
    expect(c.headline).toBe(
      'quorum lost: 1 of 5 members runs (c0, revision unknown); c1 (revision 8), c2 (revision unknown) and c4 (added, not started) are stopped, ready to start; c3 has an empty data dir; the cluster accepts no writes.',
    );
    expect(c.fix).toBe("'hardway up' starts c1, c2 and c4: with 4 members holding data the quorum (3) comes back, nothing is lost");
  });

  it('one stopped member is and one member holding data is told in the singular', () => {
    const c = clusterCondition({ nodes: [node(0, { revision: 3 }), node(1, { active: false, revision: 2 }), unreached(2)], live: live([]) });
    expect(c.headline).toBe('quorum lost: 1 of 3 members runs (c0, revision 3); c1 (revision 2) is stopped, ready to start; c2 could not be reached; the cluster accepts no writes.');
    expect(c.fix).toBe("'hardway up' starts c1: with 2 members holding data the quorum (2) comes back, nothing is lost");
  });

  it('with no member holding data, only a snapshot rebuilds it; one unreached node is named in the singular', () => {
    const l = live([]);
    const c = clusterCondition({ nodes: [node(0, { hasData: false, wal: undefined }), node(1, { hasData: false, wal: undefined }), unreached(2)], live: l });
    expect(c.kind).toBe('quorum-lost');
    expect(c.source).toBeUndefined();
    expect(c.fix).toBe('hardway snapshot restore FILE');
    expect(c.headline).toBe(
      "quorum lost: 0 of 3 members run; c0 and c1 have empty data dirs; c2 could not be reached; the cluster accepts no writes. no member holds data: 'hardway snapshot restore FILE' rebuilds it from a snapshot. 'hardway recover' needs every inventory node reachable: bring c2 back, or take it out of the inventory to rebuild without it and grow back later with 'hardway up'.",
    );
  });

  it('recover from a member whose revision is unknown says so, and gives no revision', () => {
    const c = clusterCondition({ nodes: [node(0), node(1, { hasData: false, wal: undefined }), node(2, { hasData: false, wal: undefined })], live: live([]) });
    expect(c.source).toEqual({ node: 'c0' });
    expect(c.headline).toContain("'hardway recover' rebuilds it from c0 (revision unknown, nothing it holds is lost)");
    expect(c.headline).toContain('c1 and c2 have empty data dirs');
  });
});

describe('no member answered: the condition told from the nodes', () => {
  it('nothing observed names each node and why', () => {
    const c = clusterCondition({ nodes: [unreached(0, 'key refused'), unreached(1, 'no route')] });
    expect(c.headline).toBe('no node could be observed: c0: key refused; c1: no route');
    expect(c.severity).toBe('error');
    expect(c.members).toEqual([]);
  });

  it('an unreached node without a reason is "not reached"', () => {
    const c = clusterCondition({ nodes: [{ node: 'c0', peerUrl: url(0), observed: false }] });
    expect(c.unobserved).toEqual([{ node: 'c0', reason: 'not reached' }]);
  });

  it('names each cluster and the nodes holding it', () => {
    const c = clusterCondition({
      nodes: [node(0, { active: false }), node(1, { active: false, wal: { memberId: 'b', clusterId: 'c2' } }), node(2, { active: false }), node(3, { hasData: false, wal: undefined })],
    });
    expect(c.headline).toBe('the nodes hold data of 2 different clusters (c1 on c0 and c2; c2 on c1): they will not form one cluster');
    expect(c.fix).toBe("'hardway plan' names the nodes that do not belong");
    expect(c.severity).toBe('error');
  });

  it('no node holding data is a new cluster, up bootstraps it; an unreached node is not taken for an empty one', () => {
    const empty = (i: number) => node(i, { hasData: false, wal: undefined, active: false });
    const c = clusterCondition({ nodes: [empty(0), empty(1), unreached(2)] });
    expect(c.kind).toBe('new');
    expect(c.severity).toBe('ok');
    expect(c.fix).toBe('hardway up');
    expect(c.headline).toBe('no node holds etcd data yet: `hardway up` bootstraps the cluster');
    expect(c.members.map((m) => [m.name, m.state])).toEqual([['c0', 'data-lost'], ['c1', 'data-lost'], ['c2', 'unobserved']]);
  });

  it('stopped members holding data, with their revisions, are started by up', () => {
    const c = clusterCondition({ nodes: [node(0, { active: false, revision: 12 }), node(1, { active: false }), node(2, { active: false, hasData: false, wal: undefined })] });
    expect(c.kind).toBe('stopped');
    expect(c.headline).toBe("no member runs: c0 (revision 12) and c1 hold data; 'hardway up' starts them");
    expect(c.members.map((m) => [m.id, m.state, m.revision])).toEqual([['a0', 'stopped', 12], ['a1', 'stopped', undefined], [undefined, 'data-lost', undefined]]);
    const one = clusterCondition({ nodes: [node(0, { active: false, revision: 3 })] });
    expect(one.headline).toBe("no member runs: c0 (revision 3) holds data; 'hardway up' starts them");
  });

  it('too few nodes holding data to start a quorum is a lost quorum of the inventory members, recovered from the newest', () => {
    const c = clusterCondition({ nodes: [node(0, { active: false, revision: 4 }), node(1, { hasData: false, wal: undefined, active: false }), node(2, { hasData: false, wal: undefined, active: false })] });
    expect(c.kind).toBe('quorum-lost');
    expect(c.quorum).toEqual({ voters: 3, need: 2, healthy: 0, canLose: -2 });
    expect(c.source).toEqual({ node: 'c0', revision: 4 });
    expect(c.fix).toBe('hardway recover');
  });

  it('members that run without answering, a quorum of them, have no leader', () => {
    const c = clusterCondition({ nodes: [node(0), node(1), node(2, { active: false })] });
    expect(c.kind).toBe('no-leader');
    expect(c.members.map((m) => m.state)).toEqual(['running', 'running', 'stopped']);
  });

  it('one member advertising another address (fewer than a quorum) is not an address change of the cluster', () => {
    const c = clusterCondition({ nodes: [node(0, { active: false, unitPeerUrl: 'https://192.168.9.0:2380' }), node(1, { active: false }), node(2, { active: false, unitPeerUrl: url(2) })] });
    expect(c.kind).toBe('stopped');
    expect(c.members.map((m) => m.moved)).toEqual([{ from: ['https://192.168.9.0:2380'], to: url(0) }, undefined, undefined]);
  });

  it('an address change names each moved node, old and new address, and that recover rebuilds with the new ones', () => {
    const moved = (i: number) => node(i, { active: false, unitPeerUrl: `https://192.168.9.${i}:2380` });
    const c = clusterCondition({ nodes: [moved(0), moved(1), node(2, { active: false })] });
    expect(c.headline).toBe(
      "c0 moved from https://192.168.9.0:2380 to https://10.0.0.10:2380 and c1 moved from https://192.168.9.1:2380 to https://10.0.0.11:2380: no quorum answers on the old addresses, so no member update can be made. 'hardway recover' rebuilds the cluster with the new addresses from the member with the newest data",
    );
    expect(c.moved?.map((m) => m.node)).toEqual(['c0', 'c1']);
    // An empty node's unit says nothing about a member: it moved nothing.
    const empty = clusterCondition({ nodes: [node(0, { active: false }), node(1, { active: false }), node(2, { hasData: false, wal: undefined, unitPeerUrl: 'https://192.168.9.2:2380' })] });
    expect(empty.members[2]!.moved).toBeUndefined();
  });
});
