import type { Inventory } from '../inventory/types.js';
import type { ExecResult } from '../ssh/remote.js';
import { endpointsOf, etcdctlCommand, parseMemberList, type MemberInfo } from './etcdctl.js';
import { etcdctlReason } from './errors.js';
import { usable, type Connected, type Host } from '../engine/hosts.js';

/**
 * Which member answers for the cluster, decided one way for every flow: ask `member list` (all the inventory's
 * endpoints, so any live member can answer) from the hosts whose etcd runs, in inventory order, until one answers;
 * with `anyHost`, then from the others too (their etcdctl can still reach a member elsewhere). "No answer" has two
 * meanings that flows treat differently: nothing runs to ask (`answer` and `unanswered` both unset), or a member
 * runs and none answered (`unanswered` says why; the cluster's state is then unknown, not empty).
 */

export interface ClusterAnswer<H extends Host = Host> {
  /** The host whose etcdctl answered: flows ask the cluster through it afterwards. */
  asker: Connected<H>;
  clusterId: string;
  members: MemberInfo[];
}

export interface AskResult<H extends Host = Host> {
  answer?: ClusterAnswer<H>;
  /** `<host>: etcdctl member list failed: <why>` of the last host asked, when none answered. */
  unanswered?: string;
  /** The same reason without the host and command. */
  reason?: string;
}

/** etcdctl's own time limit for the question; SSH gets this plus the dial and a margin. */
export const ASK_TIMEOUT_S = 5;

/** The question askCluster asks each host, on its own: a flow may ask it early and hand the answer over (`asked`). */
export function askMembers(inv: Inventory, h: Connected): Promise<ExecResult> {
  return h.remote.run(etcdctlCommand(endpointsOf(inv.nodes), ['member', 'list', '-w', 'json'], { timeoutS: ASK_TIMEOUT_S }), {
    timeoutMs: (ASK_TIMEOUT_S + 10) * 1000,
  });
}

/** What was asked of which host: askCluster records its questions there and awaits an answer already under way. */
export type Asked = Map<Host, Promise<ExecResult>>;

/**
 * `member list` started on the first host reached, before the flow knows whether its etcd runs, so that asking the
 * cluster overlaps observing the nodes. askCluster takes the answer when that host is one it asks (a host whose
 * etcd runs is asked first, in inventory order); otherwise it is never read.
 */
export function askFirstHost<H extends Host>(inv: Inventory, hosts: H[]): { asked: Asked; first?: Connected<H> } {
  const first = hosts.find(usable);
  if (!first) return { asked: new Map() };
  const members = askMembers(inv, first);
  // Unread when its host is not asked, or the flow stops first: never an unhandled rejection.
  members.catch(() => {});
  return { asked: new Map([[first as Host, members]]), first };
}

export async function askCluster<H extends Host>(
  inv: Inventory,
  hosts: H[],
  opts: { isActive: (h: H) => boolean; anyHost?: boolean; asked?: Asked },
): Promise<AskResult<H>> {
  const reachable = hosts.filter(usable);
  const active = reachable.filter(opts.isActive);
  const candidates = opts.anyHost ? [...active, ...reachable.filter((h) => !opts.isActive(h))] : active;
  let unanswered: string | undefined;
  let reason: string | undefined;
  for (const h of candidates) {
    // A host already asked (early, or by another part of the same flow) is not asked again: its answer is awaited.
    const asking = opts.asked?.get(h) ?? askMembers(inv, h);
    opts.asked?.set(h, asking);
    const r = await asking;
    if (r.code === 0) {
      const list = parseMemberList(r.stdout);
      return { answer: { asker: h, ...list } };
    }
    reason = etcdctlReason(r);
    unanswered = `${h.node.name}: etcdctl member list ${r.timedOut ? 'timed out' : `failed: ${reason}`}`;
  }
  return unanswered ? { unanswered, ...(reason ? { reason } : {}) } : {};
}
