import { describe, expect, it } from 'vitest';
import { clusterCondition, type ClusterFacts, type LiveFacts, type NodeFacts } from '../../src/cluster/condition.js';
import { HardwayError, OperationError, UsageError } from '../../src/errors.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { decideRecover } from '../../src/recover/recover.js';

const inv = validateInventory(
  'cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\nnodes:\n' + [0, 1, 2].map((i) => `  - name: c${i}\n    address: 10.0.0.${10 + i}\n`).join(''),
  { file: '/i.yaml' },
).inventory!;

const url = (i: number) => `https://10.0.0.${10 + i}:2380`;
const node = (i: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({ node: `c${i}`, peerUrl: url(i), observed: true, active: true, hasData: true, wal: { memberId: `a${i}`, clusterId: 'c1' }, ...extra });
const empty = (i: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({ node: `c${i}`, peerUrl: url(i), observed: true, active: false, hasData: false, ...extra });
const live = (ids: number[], healthy: number[]): LiveFacts => ({
  clusterId: 'c1',
  members: ids.map((i) => ({ id: `a${i}`, name: `c${i}`, peerURLs: [url(i)], clientURLs: [url(i).replace('2380', '2379')], isLearner: false })),
  healthy: healthy.map((i) => `a${i}`),
});
const decide = (facts: ClusterFacts, opts: { from?: string; force?: boolean } = {}) => decideRecover(inv, facts, clusterCondition(facts), opts);
const refusal = (facts: ClusterFacts, opts: { from?: string; force?: boolean } = {}): HardwayError => {
  try {
    decide(facts, opts);
  } catch (e) {
    return e as HardwayError;
  }
  throw new Error('not refused');
};

describe('what recover does, from the condition of the whole cluster', () => {
  it('rebuilds from the member with the highest revision when a majority lost its data', () => {
    const facts = { nodes: [node(0, { revision: 90 }), empty(1), empty(2, { active: true })], live: live([0, 1, 2], []) };
    expect(decide(facts).source?.node).toBe('c0');
  });

  it('--from chooses another member that holds data; a node without data or not in the inventory is refused', () => {
    const facts = { nodes: [node(0, { revision: 90 }), node(1, { active: false, revision: 80 }), empty(2)], live: live([0, 1, 2], []) };
    // Two members hold data: up starts c1 and the quorum is back, so only --force rebuilds.
    expect(refusal(facts)).toBeInstanceOf(OperationError);
    expect(refusal(facts).message).toMatch(/'hardway up' starts c1.*no rebuild is needed\. Nothing was changed\./);
    expect(decide(facts, { force: true, from: 'c1' }).source?.node).toBe('c1');
    expect(refusal(facts, { force: true, from: 'c2' }).message).toMatch(/--from c2: its data dir holds no etcd data/);
    expect(refusal(facts, { from: 'c9' })).toBeInstanceOf(UsageError);
  });

  it('refuses a cluster whose quorum is healthy, unless --force', () => {
    const facts = { nodes: [node(0), node(1), node(2)], live: { ...live([0, 1, 2], [0, 1, 2]), leader: 'a1' } };
    expect(refusal(facts).message).toMatch(/quorum is healthy .*nothing to recover\. Nothing was changed\. \(--force/);
    expect(decide(facts, { force: true }).source?.node).toBe('c1');
  });

  it('finishes an earlier rebuild: a healthy cluster of the source alone and empty inventory nodes means joins only', () => {
    const facts = { nodes: [node(0, { revision: 90 }), empty(1), empty(2)], live: live([0], [0]) };
    expect(decide(facts)).toEqual({ joinOnly: true });
    // …but not when a node that is not a member still holds data: that is for --force or up.
    expect(refusal({ ...facts, nodes: [node(0), empty(1), node(2, { active: false, wal: { memberId: 'zz', clusterId: 'c1' } })] })).toBeInstanceOf(OperationError);
  });

  it('offline, one node holding data of three: rebuilt from it (starting it alone cannot make a quorum)', () => {
    const facts = { nodes: [node(0, { active: false, revision: 33 }), empty(1), empty(2)] };
    expect(clusterCondition(facts).kind).toBe('quorum-lost');
    expect(decide(facts).source?.node).toBe('c0');
  });

  it('offline with every member stopped on its data: up starts them, no rebuild', () => {
    const facts = { nodes: [node(0, { active: false }), node(1, { active: false }), node(2, { active: false })] };
    expect(refusal(facts).message).toMatch(/no member runs.*'hardway up' starts them: no rebuild is needed/);
  });

  it('with the quorum on the old addresses, an address change is for up; without one, recover rebuilds', () => {
    const movedLive = { nodes: [node(0), node(1), node(2, { peerUrl: 'https://10.0.0.99:2380', active: false })], live: live([0, 1, 2], [0, 1]) };
    expect(refusal(movedLive).message).toMatch(/'hardway up' updates the member's peer URL/);
    const moved = (i: number) => node(i, { active: false, unitPeerUrl: `https://192.168.1.${i}:2380`, revision: 10 + i });
    expect(decide({ nodes: [moved(0), moved(1), moved(2)] }).source?.node).toBe('c2');
  });

  it('two clusters on the nodes need --from', () => {
    const facts = { nodes: [node(0, { active: false }), node(1, { active: false, wal: { memberId: 'b', clusterId: 'c2' } }), empty(2)] };
    expect(refusal(facts).message).toMatch(/--from NODE/);
    expect(decide(facts, { from: 'c1' }).source?.node).toBe('c1');
  });
});
