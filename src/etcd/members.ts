import { OperationError, UsageError } from '../errors.js';
import { unknownName } from '../suggest.js';
import { peerUrl } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { askCluster } from './cluster.js';
import type { Connected, Host } from '../engine/hosts.js';
import { reachableClientUrl } from './health.js';
import type { Remote } from '../ssh/remote.js';
import { type EndpointStatus, type MemberInfo } from './etcdctl.js';
import { etcdClient } from './client.js';

/** The cluster as the member commands see it: the member list, each member's endpoint status, the inventory node it is. */

export interface MemberRow extends MemberInfo {
  /** The inventory node it is: by peer URL, else by name. */
  node?: NodeSpec;
  /** Its endpoint status, when it answered. */
  status?: EndpointStatus;
  isLeader: boolean;
}

export interface MembersView {
  clusterId: string;
  /** The host whose etcdctl answered. */
  asker: Connected;
  rows: MemberRow[];
  leader?: MemberRow;
  /** Inventory nodes that are not members. */
  notMembers: NodeSpec[];
}

export function nodeOfMember(inv: Inventory, m: MemberInfo): NodeSpec | undefined {
  return inv.nodes.find((n) => m.peerURLs.includes(peerUrl(n))) ?? inv.nodes.find((n) => m.name && n.name === m.name);
}

/** Pure: the rows from the member list and the statuses that came back. */
export function memberRows(inv: Inventory, members: MemberInfo[], status: EndpointStatus[]): MemberRow[] {
  return members.map((m) => {
    const s = status.find((x) => x.memberId === m.id);
    const node = nodeOfMember(inv, m);
    return { ...m, ...(node ? { node } : {}), ...(s ? { status: s } : {}), isLeader: status.some((x) => x.leader === m.id && x.leader !== '0') };
  });
}

/** `endpoint status` of these URLs (the ones that answer). */
export async function statusOf(remote: Remote, urls: string[], timeoutS = 3): Promise<EndpointStatus[]> {
  if (!urls.length) return [];
  return (await etcdClient(remote, urls).readStatus({ timeoutS })).status;
}

/** Member list and statuses through the first host whose etcdctl answers; no answer is an operation error. */
export async function askMembers(inv: Inventory, hosts: Host[]): Promise<MembersView> {
  const { answer, unanswered } = await askCluster(inv, hosts, { isActive: () => true });
  if (!answer) {
    const why = unanswered ?? `no node reachable (${hosts.map((h) => `${h.node.name}: ${h.outcome.reason ?? 'not connected'}`).join('; ')})`;
    throw new OperationError(`no member answered: ${why}`);
  }
  const status = await statusOf(answer.asker.remote, answer.members.flatMap((m) => reachableClientUrl(m) ?? []));
  const rows = memberRows(inv, answer.members, status);
  const leader = rows.find((r) => r.isLeader);
  const notMembers = inv.nodes.filter((n) => !rows.some((r) => r.node === n));
  return { clusterId: answer.clusterId, asker: answer.asker, rows, ...(leader ? { leader } : {}), notMembers };
}

export const memberLabel = (m: MemberInfo) => (m.name ? `${m.name} (${m.id})` : `${m.id} (unstarted)`);

/** The member a command names: by its name or its inventory node's; anything else is a usage error listing them. */
/** The member a name means: its member name, its inventory node's name, or its ID. */
export function findMember(view: Pick<MembersView, 'rows'>, name: string): MemberRow | undefined {
  return view.rows.find((r) => r.name === name || r.node?.name === name || r.id === name);
}

export function memberNamed(inv: Inventory, view: Pick<MembersView, 'rows'>, name: string): MemberRow {
  const row = findMember(view, name);
  if (row) return row;
  const where = inv.nodes.some((n) => n.name === name) ? 'is in the inventory but not a member of the cluster' : 'is neither a member nor in the inventory';
  const names = [...view.rows.flatMap((r) => [r.name, r.node?.name ?? '']), ...inv.nodes.map((n) => n.name)].filter(Boolean);
  throw new UsageError(unknownName(`${name} ${where}`, name, names, `members: ${view.rows.map(memberLabel).join(', ') || 'none'}`));
}
