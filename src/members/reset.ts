import { OperationError } from '../errors.js';
import { connectStep, usable, type HostsRun, type Connected } from '../engine/hosts.js';
import { runSteps, step } from '../engine/runner.js';
import { must } from '../engine/must.js';
import { confirm } from '../engine/confirm.js';
import { membersHealth } from '../etcd/member-health.js';
import { movedAsidePath, PURGED, purgeScript } from '../node/ops.js';
import { removalVerdict, toleranceLine } from '../etcd/quorum.js';
import { dropMember, leaveNode } from './remove.js';
import { nodeNamed } from './resolve.js';
import { askMembers, memberLabel, type MemberRow, type MembersView } from '../etcd/members.js';

/**
 * `hardway reset NODE [--purge]`: the node leaves the cluster cleanly (member remove, with the quorum arithmetic,
 * when it is a member and not the last), etcd stopped and disabled, the data dir moved aside; --purge also removes
 * what `up` installed. The node must be reachable: nothing is changed anywhere otherwise.
 */

export interface ResetOptions {
  yes?: boolean;
  isTTY?: boolean;
  purge?: boolean;
  /** Reset the last member, or a node whose membership no member can tell. */
  force?: boolean;
  acceptNew?: boolean;
  now?: Date;
}

export interface ResetRun extends HostsRun {
  name: string;
  opts: ResetOptions;
  host?: Connected;
  view?: MembersView;
  /** Why no member answered, when none did. */
  unanswered?: string;
  target?: MemberRow;
  /** Remove the member (false for the last one, reset with --force). */
  removeIt: boolean;
  movedTo: string;
  plan: string[];
  done: string[];
  members?: MemberRow[];
}

export const resetSteps = {
  reach: step<ResetRun>('reach the node', async (r) => {
    const h = r.hosts.find((x) => x.node.name === r.name)!;
    if (!usable(h)) throw new OperationError(`${r.name} cannot be reached (${h.outcome.reason}): nothing was changed`);
    r.host = h;
  }),

  ask: step<ResetRun>('ask the cluster', async (r) => {
    // Through another node first: the node's own etcdctl may be purged.
    const order = [...r.hosts.filter((h) => h !== r.host), r.host!];
    try {
      r.view = await askMembers(r.inv, order);
    } catch (e) {
      if (!(e instanceof OperationError)) throw e;
      r.unanswered = e.message;
      return;
    }
    r.target = r.view.rows.find((m) => m.node === r.host!.node);
  }),

  check: step<ResetRun>('check quorum', async (r) => {
    if (!r.view) {
      if (r.opts.force) return;
      throw new OperationError(`${r.unanswered}; so whether ${r.name} is a member cannot be told, and its membership would stay in the others' data. Start the cluster first, or --force resets the node anyway`);
    }
    const t = r.target;
    if (!t) return;
    const health = await membersHealth(r.view.asker.remote, r.view.rows);
    const last = !t.isLearner && health.filter((m) => !m.isLearner).length === 1;
    if (last) {
      if (!r.opts.force) throw new OperationError(`${memberLabel(t)} is the last member of the cluster: resetting it ends the cluster (its data is moved aside, not deleted). --force resets it anyway`);
      r.removeIt = false;
      return;
    }
    const verdict = removalVerdict(health, health.find((m) => m.id === t.id)!, `resetting ${r.name}`);
    if (!verdict.ok) throw new OperationError(verdict.text);
    r.log(`quorum: ${verdict.text}`);
  }),

  confirm: step<ResetRun>('confirm', async (r) => {
    const t = r.target;
    if (t && r.removeIt) r.plan.push(`${t.isLeader ? 'move the leadership to another member, then ' : ''}remove member ${memberLabel(t)} from the cluster`);
    else if (t) r.plan.push(`leave member ${memberLabel(t)} in place: it is the last one (--force)`);
    else r.plan.push(r.view ? `${r.name} is not a member: no membership to remove` : `no member answered: no membership removed (--force)`);
    r.plan.push(`on ${r.name}: stop and disable etcd.service, move ${r.inv.etcd.dataDir} to ${r.movedTo} (nothing is deleted)`);
    if (r.opts.purge) r.plan.push(`on ${r.name}: remove ${PURGED.join(', ')}`);
    r.log(['this will:', ...r.plan.map((l) => `  - ${l}`)].join('\n'));
    await confirm(`reset ${r.name}?`, r.opts);
  }),

  removeMember: step<ResetRun>(
    'remove the member',
    async (r) => {
      r.done.push(...(await dropMember(r.inv, r.view!, r.target!)));
    },
    (r) => !!r.target && r.removeIt,
  ),

  leave: step<ResetRun>('stop etcd, move the data dir aside', async (r) => {
    r.done.push(...(await leaveNode(r.host!.remote, r.name, r.inv.etcd.dataDir, r.movedTo)));
  }),

  purge: step<ResetRun>(
    'remove the installed files',
    async (r) => {
      await must(r.host!.remote, purgeScript(), `${r.name}: removing the installed files`);
      r.done.push(`${r.name}: removed ${PURGED.join(', ')}`);
    },
    (r) => !!r.opts.purge,
  ),

  after: step<ResetRun>('ask the cluster again', async (r) => {
    if (r.view && r.target && r.removeIt) r.members = (await askMembers(r.inv, [r.view.asker])).rows;
  }),
};

export function resetRun(base: HostsRun, name: string, opts: ResetOptions): ResetRun {
  nodeNamed(base.inv, name);
  return { ...base, name, opts, removeIt: true, movedTo: movedAsidePath(base.inv.etcd.dataDir, opts.now ?? new Date()), plan: [], done: [] };
}

export async function resetNode(run: ResetRun): Promise<ResetRun> {
  const s = resetSteps;
  await runSteps(run, [connectStep<ResetRun>(), s.reach, s.ask, s.check, s.confirm, s.removeMember, s.leave, s.purge, s.after], { flow: 'reset' });
  return run;
}

export function resetReport(r: ResetRun): string[] {
  const lines = [...r.done];
  if (r.members) {
    const voting = r.members.filter((m) => !m.isLearner).length;
    lines.push(`now ${toleranceLine(voting, r.members.length - voting)}`);
  }
  lines.push(`${r.name} is still in the inventory ${r.inv.file}: remove it there, or a later 'hardway up' sets it up again`);
  return lines;
}
