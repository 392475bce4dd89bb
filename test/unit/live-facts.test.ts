/**
 * What the live members answer, for the cluster's condition (cluster/gather.ts readLiveFacts): asked through the
 * member that answered for the cluster, or taken from answers the flow already has through that member (`verify`
 * asks every endpoint's health and status for its checks; the condition does not ask them again).
 */
import { describe, expect, it } from 'vitest';
import { readLiveFacts } from '../../src/cluster/gather.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { parseEndpointStatus, type EndpointHealth, type MemberInfo } from '../../src/etcd/etcdctl.js';
import { healthAnswer, scriptedRemote } from './scripted-remote.js';

const inv = validateInventory('nodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''), { file: '/i.yaml' }).inventory!;
const url = (i: number) => `https://10.240.0.${10 + i}:2379`;
const members: MemberInfo[] = [0, 1, 2].map((i) => ({ id: `a${i}`, name: `controller-${i}`, peerURLs: [`https://10.240.0.${10 + i}:2380`], clientURLs: [url(i)], isLearner: false, started: true }));
// controller-1 does not answer; controller-0 leads; revisions differ per member.
const statusJson = `[${[0, 2].map((i) => `{"Endpoint":"${url(i)}","Status":{"header":{"cluster_id":4660,"member_id":${0xa0 + i},"revision":${100 + i}},"version":"3.4.23","leader":${0xa0}}}`).join(',')}]\n`;
const down = (u: string) => u !== url(1);

function node() {
  const log: string[] = [];
  const remote = scriptedRemote('controller-0', log, [
    [/endpoint health/, (c) => healthAnswer(c, down)],
    [/endpoint status/, { stdout: statusJson }],
  ]);
  return { log, remote };
}

describe('readLiveFacts', () => {
  it('asks health and status once each through the asker, without answers already had', async () => {
    const { log, remote } = node();
    const got = await readLiveFacts(inv, remote, { clusterId: '1234', members });
    // The status first: whether any member has a leader decides whether health is worth asking.
    expect(log.map((l) => /endpoint (health|status)/.exec(l)?.[0])).toEqual(['endpoint status', 'endpoint health']);
    expect(got.live.healthy).toEqual(['a0', 'a2']);
    expect(got.live.leader).toBe('a0');
    expect([...got.revisions]).toEqual([['a0', 100], ['a2', 102]]);
  });

  it('takes the answers the flow had through the same node, asking nothing, with the same outcome', async () => {
    const { log, remote } = node();
    const health: EndpointHealth[] = [0, 1, 2].map((i) => ({ endpoint: url(i), health: down(url(i)), took: '1ms', ...(down(url(i)) ? {} : { error: 'context deadline exceeded' }) }));
    const asked = await readLiveFacts(inv, node().remote, { clusterId: '1234', members });
    const had = await readLiveFacts(inv, remote, { clusterId: '1234', members }, async (asker) => (asker === remote ? { health, status: parseEndpointStatus(statusJson) } : undefined));
    expect(log).toEqual([]);
    expect(had).toEqual(asked);
  });

  it('asks when the answers had miss a member, or were had through another node', async () => {
    const { log, remote } = node();
    const some: EndpointHealth[] = [{ endpoint: url(0), health: true, took: '1ms' }];
    await readLiveFacts(inv, remote, { clusterId: '1234', members }, async () => ({ health: some, status: [] }));
    expect(log).toHaveLength(2);
    const other = node();
    await readLiveFacts(inv, other.remote, { clusterId: '1234', members }, async (asker) => (asker === remote ? { health: some, status: [] } : undefined));
    expect(other.log).toHaveLength(2);
  });

  it('asks nothing of the members whose etcd is seen stopped: each would cost etcdctl its dial timeout', async () => {
    const { log, remote } = node();
    const got = await readLiveFacts(inv, remote, { clusterId: '1234', members }, undefined, new Set(['controller-1']));
    for (const l of log) expect(l).not.toContain(url(1));
    expect(log.map((l) => /endpoint (health|status)/.exec(l)?.[0])).toEqual(['endpoint status', 'endpoint health']);
    expect(got.live.healthy).toEqual(['a0', 'a2']);
  });

  it('no member that answers has a leader: none is healthy, and health (a read through the quorum) is not asked', async () => {
    const log: string[] = [];
    const leaderless = `[{"Endpoint":"${url(0)}","Status":{"header":{"cluster_id":4660,"member_id":${0xa0},"revision":7},"version":"3.4.23"}}]\n`;
    const remote = scriptedRemote('controller-0', log, [
      [/endpoint health/, (c) => healthAnswer(c, () => true)],
      [/endpoint status/, { stdout: leaderless }],
    ]);
    const got = await readLiveFacts(inv, remote, { clusterId: '1234', members }, undefined, new Set(['controller-1', 'controller-2']));
    expect(log.filter((l) => /endpoint health/.test(l))).toEqual([]);
    expect(got.live.healthy).toEqual([]);
    expect(got.live.leader).toBeUndefined();
    expect([...got.revisions]).toEqual([['a0', 7]]);
  });
});
