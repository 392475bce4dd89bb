import { OperationError, UsageError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { reachableClientUrl } from '../etcd/health.js';
import { askMembers, memberLabel, memberNamed, type MemberRow, type MembersView } from '../etcd/members.js';
import { etcdClient } from '../etcd/client.js';

/** `hardway leader move [NODE]`: leadership handed to a named member, or to the follower closest to the leader. */

const lag = (leader: MemberRow, m: MemberRow) => (leader.status?.raftIndex ?? 0) - (m.status?.raftIndex ?? 0);
const appliedLag = (leader: MemberRow, m: MemberRow) => (leader.status?.raftAppliedIndex ?? 0) - (m.status?.raftAppliedIndex ?? 0);

/**
 * The member to hand leadership to, pure: the named one if it can lead (a started voting member that answers), or
 * the answering started voting follower with the lowest raft lag (then applied lag, then member-list order). Undefined
 * when the named member already leads. A named member that cannot lead is a usage error; no leader, or nobody to
 * move to, an operation error.
 */
export function leaderTarget(rows: MemberRow[], named?: MemberRow): MemberRow | undefined {
  const leader = rows.find((r) => r.isLeader);
  if (!leader) throw new OperationError('no member reports a leader: there is no leadership to move (is a quorum up? run hardway verify)');
  if (named) {
    if (!named.started) throw new UsageError(`${memberLabel(named)} has not started: only a started member can lead`);
    if (named.isLearner) throw new UsageError(`${memberLabel(named)} is a learner: only a voting member can lead`);
    if (named.isLeader) return undefined;
    if (!named.status) throw new OperationError(`${memberLabel(named)} does not answer endpoint status: not handing it the leadership`);
    return named;
  }
  const candidates = rows.filter((r) => r.started && !r.isLearner && !r.isLeader && r.status);
  const best = [...candidates].sort((a, b) => lag(leader, a) - lag(leader, b) || appliedLag(leader, a) - appliedLag(leader, b))[0];
  if (!best) throw new OperationError(`no started voting follower answers endpoint status: nowhere to move the leadership from ${memberLabel(leader)}`);
  return best;
}

export interface LeaderMove {
  before: MemberRow;
  after: MemberRow;
  moved: boolean;
}

const short = (r: MemberRow) => ({ id: r.id, name: r.name });
export const leaderMoveJson = (m: LeaderMove) => ({ before: short(m.before), after: short(m.after), moved: m.moved });

/** Moves the leadership, then asks again until a member reports the target leading (or says who does). */
export async function moveLeader(inv: Inventory, view: MembersView, name?: string): Promise<LeaderMove> {
  const before = view.rows.find((r) => r.isLeader);
  const target = leaderTarget(view.rows, name === undefined ? undefined : memberNamed(inv, view, name));
  if (!target) return { before: before!, after: before!, moved: false };
  const urls = view.rows.flatMap((r) => (r.started ? (reachableClientUrl(r) ?? []) : []));
  // The transfer takes up to an election timeout; etcdctl finds the leader among the endpoints itself.
  const timeoutS = Math.max(5, Math.ceil((2 * inv.etcd.electionTimeout) / 1000));
  await etcdClient(view.asker.remote, urls).moveLeader(target.id, { timeoutS });
  const deadline = Date.now() + timeoutS * 1000;
  let now: MembersView = view;
  for (;;) {
    now = await askMembers(inv, [view.asker]);
    if (now.leader?.id === target.id || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  if (now.leader?.id !== target.id) throw new OperationError(`move-leader to ${memberLabel(target)} returned, but ${now.leader ? `${memberLabel(now.leader)} leads` : 'no member reports a leader'}`);
  return { before: before!, after: now.leader, moved: true };
}

/** `hardway leader`: who leads now, as the members answered. */
export interface CurrentLeader {
  name: string;
  id: string;
  /** Its client URL as the status answered it. */
  endpoint: string;
  term: number;
  /** Its inventory node, when the inventory lists it. */
  node?: string;
}

/** The leader in a members view, pure; no member reporting one is an operation error. */
export function currentLeader(view: Pick<MembersView, 'rows' | 'leader'>): CurrentLeader {
  const l = view.leader ?? view.rows.find((r) => r.isLeader);
  if (!l) throw new OperationError(`no member reports a leader (${view.rows.filter((r) => r.status).length} of ${view.rows.length} answered endpoint status): is a quorum up? run hardway verify`);
  return { name: l.name, id: l.id, endpoint: l.status?.endpoint ?? reachableClientUrl(l) ?? l.clientURLs[0] ?? '', term: l.status?.raftTerm ?? Math.max(0, ...view.rows.map((r) => r.status?.raftTerm ?? 0)), ...(l.node ? { node: l.node.name } : {}) };
}

export const currentLeaderText = (l: CurrentLeader) => `${l.name || '(unnamed)'} (${l.id}) at ${l.endpoint}, term ${l.term}${l.node && l.node !== l.name ? `, inventory node ${l.node}` : ''}`;
