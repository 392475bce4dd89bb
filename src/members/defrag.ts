import { OperationError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { formatBytes, renderTable } from '../output.js';
import { reachableClientUrl } from '../etcd/health.js';
import { membersHealth, quorumProblem } from '../etcd/member-health.js';
import { statusOf, type MemberRow, type MembersView } from '../etcd/members.js';
import { etcdClient } from '../etcd/client.js';

/** `hardway defrag`: one member at a time, followers first and the leader last, health checked in between. */

/** Pure: the members to defragment in order (answering ones; followers and learners first, the leader last), and the others. */
export function defragOrder(rows: MemberRow[], answering: Set<string>): { order: MemberRow[]; skipped: MemberRow[] } {
  const can = (r: MemberRow) => r.started && !!reachableClientUrl(r) && answering.has(r.id);
  const order = [...rows.filter((r) => can(r) && !r.isLeader), ...rows.filter((r) => can(r) && r.isLeader)];
  return { order, skipped: rows.filter((r) => !can(r)) };
}

export interface DefragResult {
  member: string;
  id: string;
  role: 'leader' | 'follower' | 'learner';
  before?: number;
  after?: number;
  result: string;
}

const roleOf = (r: MemberRow): DefragResult['role'] => (r.isLeader ? 'leader' : r.isLearner ? 'learner' : 'follower');

/** Waits until every member that answered before answers again; throws after `ms` naming the ones that do not. */
async function waitAnswering(view: MembersView, ids: Set<string>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const down = (await membersHealth(view.asker.remote, view.rows)).filter((m) => ids.has(m.id) && !m.healthy);
    if (!down.length) return;
    if (Date.now() > deadline) throw new OperationError(`not healthy ${Math.round(ms / 1000)} s after the defrag: ${down.map((m) => m.name || m.id).join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Refused without a quorum. A member that does not answer is skipped (the run then fails); a member that is not
 * healthy again after its defrag stops the run, so no second member is taken out while one is down.
 */
export async function defragAll(inv: Inventory, view: MembersView, log: (line: string) => void): Promise<DefragResult[]> {
  const health = await membersHealth(view.asker.remote, view.rows);
  const problem = quorumProblem(health);
  if (problem) throw new OperationError(`not defragmenting: ${problem}`);
  const answering = new Set(health.filter((m) => m.healthy).map((m) => m.id));
  const { order, skipped } = defragOrder(view.rows, answering);
  const results: DefragResult[] = [];
  // Defrag blocks the member's backend while it copies the database: allow for a big one.
  const timeoutS = 120;
  let failed = false;
  for (const r of order) {
    const result: DefragResult = { member: r.name || r.id, id: r.id, role: roleOf(r), ...(r.status ? { before: r.status.dbSize } : {}), result: 'not done: stopped at the failure above' };
    results.push(result);
    if (failed) continue;
    const url = reachableClientUrl(r)!;
    log(`defragmenting ${result.member} (${result.role})`);
    try {
      await etcdClient(view.asker.remote, [url]).defrag({ timeoutS });
      await waitAnswering(view, answering, 30_000);
    } catch (e) {
      result.result = `failed: ${(e as Error).message}`;
      failed = true;
      continue;
    }
    const after = (await statusOf(view.asker.remote, [url])).find((s) => s.memberId === r.id);
    if (after) result.after = after.dbSize;
    result.result = 'defragmented';
  }
  for (const r of skipped) results.push({ member: r.name || r.id, id: r.id, role: roleOf(r), result: 'skipped: not healthy' });
  return results;
}

const size = (n?: number) => (n === undefined ? '' : formatBytes(n));

export function defragTable(results: DefragResult[]): string {
  return renderTable(['MEMBER', 'ROLE', 'DB SIZE BEFORE', 'DB SIZE AFTER', 'RESULT'], results.map((r) => [r.member, r.role, size(r.before), size(r.after), r.result]));
}
