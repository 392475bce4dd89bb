import { OperationError } from '../errors.js';
import { clientUrl, isLoopbackHost } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Remote } from '../ssh/remote.js';
import {
  endpointsOf,
  etcdctlCommand,
  parseEndpointHealth,
  parseEndpointStatus,
  parseMemberList,
  type EndpointHealth,
  type EndpointStatus,
  type MemberInfo,
} from './etcdctl.js';
import { etcdClient } from './client.js';

/** Cluster health as seen through etcdctl on one node. */

export interface ClusterView {
  members: MemberInfo[];
  health: EndpointHealth[];
  status: EndpointStatus[];
  leader?: string;
}

export async function endpointHealth(probe: Remote, nodes: NodeSpec[], timeoutS = 3): Promise<EndpointHealth[]> {
  return endpointHealthOf(probe, nodes.map(clientUrl), timeoutS);
}

/** `endpoint health` of these URLs; when etcdctl prints no table, every URL gets its reason. */
export async function endpointHealthOf(probe: Remote, urls: string[], timeoutS = 3): Promise<EndpointHealth[]> {
  if (!urls.length) return [];
  const r = await probe.run(etcdctlCommand(urls, ['endpoint', 'health', '-w', 'json'], { timeoutS }), {
    timeoutMs: (timeoutS + 5) * 1000,
  });
  const parsed = parseEndpointHealth(r.stdout);
  if (parsed.length) return parsed;
  const why = r.timedOut ? 'etcdctl timed out' : r.stderr.trim().split('\n').filter((l) => !l.startsWith('{')).pop() || `exit ${r.code}`;
  return urls.map((endpoint) => ({ endpoint, health: false, took: '', error: why }));
}

/**
 * A member's client URL that the asking node can reach: not loopback, which would be the asker's own etcd. A
 * plain-HTTP member on loopback only is the one-node cluster of etcd.tls: false, asked from its own node: its URL.
 */
export function reachableClientUrl(m: MemberInfo): string | undefined {
  return m.clientURLs.find((u) => !isLoopbackHost(new URL(u).hostname)) ?? (m.clientURLs.every((u) => u.startsWith('http://')) ? m.clientURLs[0] : undefined);
}

/** Polls `endpoint health` until every endpoint is healthy, or throws after `timeoutMs`. */
export async function waitHealthy(probe: Remote, nodes: NodeSpec[], timeoutMs: number, report?: (m: string) => void, healthTimeoutS = 3): Promise<EndpointHealth[]> {
  const deadline = Date.now() + timeoutMs;
  let last: EndpointHealth[] = [];
  let lastReport = Date.now();
  // A member just started needs a moment to listen: polling at once costs a dial timeout instead.
  await new Promise((r) => setTimeout(r, 300));
  for (;;) {
    last = await endpointHealth(probe, nodes, healthTimeoutS);
    if (last.length && last.every((h) => h.health)) return last;
    if (Date.now() > deadline) {
      const bad = last.filter((h) => !h.health).map((h) => `${h.endpoint}: ${h.error ?? 'unhealthy'}`);
      throw new OperationError(`cluster not healthy after ${Math.round(timeoutMs / 1000)} s: ${bad.join('; ')}`);
    }
    if (report && Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      report(`waiting: ${last.filter((h) => h.health).length}/${nodes.length} healthy`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function memberList(probe: Remote, nodes: NodeSpec[]): Promise<{ clusterId: string; members: MemberInfo[] }> {
  const r = await probe.run(etcdctlCommand(endpointsOf(nodes), ['member', 'list', '-w', 'json']), { timeoutMs: 15_000 });
  if (r.code !== 0) throw new OperationError(`etcdctl member list failed: ${r.stderr.trim().split('\n').pop()}`);
  return parseMemberList(r.stdout);
}

export async function endpointStatus(probe: Remote, nodes: NodeSpec[]): Promise<EndpointStatus[]> {
  const r = await probe.run(etcdctlCommand(endpointsOf(nodes), ['endpoint', 'status', '-w', 'json']), { timeoutMs: 15_000 });
  return parseEndpointStatus(r.stdout);
}

/** One endpoint's status, or why there is none. */
export interface EndpointAnswer {
  endpoint: string;
  status?: EndpointStatus;
  error?: string;
}

/** `endpoint status` of one endpoint, with a deadline that a loaded member still meets; what failed said in etcdctl's words, without its `Failed to get the status of endpoint URL` lead. */
export async function endpointAnswer(probe: Remote, endpoint: string): Promise<EndpointAnswer> {
  const { status, reason } = await etcdClient(probe, [endpoint]).readStatus({ timeoutS: 8, waitS: 20 });
  const s = status[0];
  if (s) return { endpoint, status: s };
  return { endpoint, error: (reason ?? '').replace(/^Failed to get the status of endpoint \S+ /, '').trim() };
}

/** The leader's member name, if a member reports one (given `members`, only the status is asked for). */
export async function leaderName(probe: Remote, inv: Inventory, members?: MemberInfo[]): Promise<string | undefined> {
  try {
    const [list, status] = await Promise.all([members ?? memberList(probe, inv.nodes).then((r) => r.members), endpointStatus(probe, inv.nodes)]);
    const leaderId = status.find((s) => s.leader)?.leader;
    return list.find((m) => m.id === leaderId)?.name;
  } catch {
    return undefined;
  }
}

export async function clusterHealth(probe: Remote, inv: Inventory, nodes: NodeSpec[]): Promise<ClusterView> {
  const [members, health, status] = await Promise.all([memberList(probe, nodes), endpointHealth(probe, inv.nodes), endpointStatus(probe, inv.nodes)]);
  return clusterView(members.members, health, status);
}

/** The view from the three answers, the leader taken from the status. Pure. */
export function clusterView(members: MemberInfo[], health: EndpointHealth[], status: EndpointStatus[]): ClusterView {
  const leaderId = status.find((s) => s.leader)?.leader;
  return { members, health, status, ...(leaderId ? { leader: leaderId } : {}) };
}
