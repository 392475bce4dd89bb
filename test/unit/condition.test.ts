import { describe, expect, it } from 'vitest';
import { chooseSource, clusterCondition, type LiveFacts, type NodeFacts } from '../../src/cluster/condition.js';
import { parseNodeFacts } from '../../src/cluster/gather.js';

const url = (i: number) => `https://10.0.0.${10 + i}:2380`;
const id = (i: number) => `a${i}`;
const node = (i: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({
  node: `c${i}`,
  peerUrl: url(i),
  observed: true,
  active: true,
  hasData: true,
  wal: { memberId: id(i), clusterId: 'c1' },
  ...extra,
});
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
});

describe('members that run but cannot keep a leader', () => {
  it('is no lost quorum: the members are up, doctor names the cause', () => {
    const c = clusterCondition({ nodes: [node(0), node(1), node(2)], live: live([]) });
    expect(c.kind).toBe('no-leader');
    expect(c.headline).toMatch(/^no leader: 3 of 3 members run but none answers/);
    expect(c.fix).toMatch(/hardway doctor/);
  });
});
