import { OperationError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { connectStep, usable, type Host, type HostsRun } from '../engine/hosts.js';
import { runSteps, step } from '../engine/runner.js';
import { snapshotFirst } from '../snapshot/auto.js';
import { must, retry } from '../engine/must.js';
import { reachableClientUrl } from '../etcd/health.js';
import type { Remote } from '../ssh/remote.js';
import { confirm } from '../engine/confirm.js';
import { membersHealth } from '../etcd/member-health.js';
import { moveLeader } from './leader.js';
import { leaveScript, movedAside, movedAsidePath } from '../node/ops.js';
import { removalVerdict, toleranceLine } from '../etcd/quorum.js';
import { askMembers, findMember, memberLabel, memberNamed, type MemberRow, type MembersView } from '../etcd/members.js';
import { shq } from '../ssh/remote.js';
import { etcdClient } from '../etcd/client.js';

/**
 * `hardway member remove NODE`: the member removed (after the quorum arithmetic), then on the node, when it can be
 * reached, etcd stopped and disabled and the data dir moved aside. A node that cannot be reached does not stop the
 * removal: a dead machine is the usual reason to remove its member; what is left on it is said.
 *
 * An inventory node that is no longer a member — a run killed between the removal and the node's part — is finished:
 * its etcd (a removed member, in a restart loop) stopped and disabled, its data dir moved aside, exit 0; with nothing
 * left there, nothing is done. Running the command again is how an interrupted removal is completed.
 */

export interface RemoveOptions {
  yes?: boolean;
  /** No pre-remove snapshot. */
  noSnapshot?: boolean;
  /** Asking on a terminal (default: whether stdin and stderr are one). */
  isTTY?: boolean;
  acceptNew?: boolean;
  now?: Date;
}

export interface RemoveRun extends HostsRun {
  name: string;
  opts: RemoveOptions;
  view?: MembersView;
  target?: MemberRow;
  /** The target's host, when it is an inventory node. */
  host?: Host;
  /** Where its data dir goes. */
  movedTo: string;
  plan: string[];
  done: string[];
  /** What could not be done on the node (unreachable), for the report. */
  left: string[];
  members?: MemberRow[];
  /** The node is in the inventory but no longer a member: an earlier run removed it. */
  already?: boolean;
  /** What an earlier removal left on that node (etcd enabled or running, a data dir), when it could be looked at. */
  leftOnNode?: string[];
}

const reachable = (r: RemoveRun) => !!r.host && usable(r.host);

export const removeSteps = {
  ask: step<RemoveRun>('ask the cluster', async (r) => {
    r.view = await askMembers(r.inv, r.hosts);
    const node = r.inv.nodes.find((n) => n.name === r.name);
    if (node && !findMember(r.view, r.name)) {
      r.already = true;
      r.host = r.hosts.find((h) => h.node === node);
      r.members = r.view.rows;
      if (r.host && usable(r.host)) r.leftOnNode = await leftOn(r.host.remote, r.inv.etcd.dataDir);
      return;
    }
    r.target = memberNamed(r.inv, r.view, r.name);
    r.host = r.target.node ? r.hosts.find((h) => h.node === r.target!.node) : undefined;
  }),

  check: step<RemoveRun>('check quorum', async (r) => {
    if (r.already) return;
    const health = await membersHealth(r.view!.asker.remote, r.view!.rows);
    const verdict = removalVerdict(health, health.find((m) => m.id === r.target!.id)!, `removing ${memberLabel(r.target!)}`);
    if (!verdict.ok) throw new OperationError(verdict.text);
    r.log(`quorum: ${verdict.text}`);
  }),

  confirm: step<RemoveRun>('confirm', async (r) => {
    if (r.already) return confirmLeftovers(r);
    const t = r.target!;
    r.plan.push(`${t.isLeader ? 'move the leadership to another member, then ' : ''}remove member ${memberLabel(t)} from the cluster`);
    if (!t.node) r.plan.push(`${t.name || t.id} is not in the inventory: nothing to do on a node`);
    else if (reachable(r)) r.plan.push(`on ${t.node.name}: stop and disable etcd.service, move ${r.inv.etcd.dataDir} to ${r.movedTo} (nothing is deleted)`);
    else r.plan.push(`${t.node.name} cannot be reached (${r.host?.outcome.reason}): etcd there is left as it is`);
    r.log(['this will:', ...r.plan.map((l) => `  - ${l}`)].join('\n'));
    await confirm(`remove ${memberLabel(t)}?`, r.opts);
  }),

  removeMember: step<RemoveRun>('remove the member', async (r) => {
    if (r.already) return;
    r.done.push(...(await dropMember(r.inv, r.view!, r.target!)));
    r.members = (await askMembers(r.inv, [r.view!.asker])).rows;
  }),

  leaveNode: step<RemoveRun>('stop etcd on the node, move its data dir aside', async (r) => {
    const node = r.already ? r.host?.node : r.target!.node;
    const h = r.host;
    if (!node || (r.already && !r.leftOnNode?.length)) return;
    if (!h || !usable(h)) {
      r.left.push(`${node.name} could not be reached: stop and disable etcd there and move ${r.inv.etcd.dataDir} aside when it is back ('hardway reset ${node.name}')`);
      return;
    }
    r.done.push(...(await leaveNode(h.remote, node.name, r.inv.etcd.dataDir, r.movedTo)));
  }),
};

/** What a node that is not a member still has of one: its etcd enabled or running, its data dir. */
async function leftOn(remote: Remote, dataDir: string): Promise<string[]> {
  const out = await remote.run(
    `systemctl is-enabled etcd.service 2>/dev/null | grep -qx enabled && echo enabled; systemctl is-active etcd.service 2>/dev/null | grep -qE '^(active|activating|reloading)$' && echo running; [ -e ${shq(dataDir)} ] && echo data; true`,
    { timeoutMs: 15_000 },
  );
  const seen = out.stdout.split('\n').map((l) => l.trim());
  return [
    ...(seen.includes('enabled') || seen.includes('running') ? [`etcd.service ${seen.includes('running') ? 'runs' : 'is enabled'}`] : []),
    ...(seen.includes('data') ? [`${dataDir} exists`] : []),
  ];
}

/** The named node was removed already: its leftovers are the plan (confirmed like any removal), or there is nothing to do. */
async function confirmLeftovers(r: RemoveRun): Promise<void> {
  const name = r.name;
  r.log(`${name} is in the inventory but no longer a member of the cluster (an earlier run removed it)`);
  if (!r.host || !usable(r.host)) {
    r.left.push(`${name} could not be reached (${r.host?.outcome.reason}): if etcd still runs there, stop and disable it and move ${r.inv.etcd.dataDir} aside when it is back ('hardway reset ${name}')`);
    return;
  }
  if (!r.leftOnNode?.length) {
    r.done.push(`${name} is not a member and its etcd is stopped, with no ${r.inv.etcd.dataDir}: nothing to do`);
    return;
  }
  r.plan.push(`on ${name} (${r.leftOnNode.join(', ')}): stop and disable etcd.service, move ${r.inv.etcd.dataDir} to ${r.movedTo} (nothing is deleted)`);
  r.log(['this will:', ...r.plan.map((l) => `  - ${l}`)].join('\n'));
  await confirm(`finish removing ${name}?`, r.opts);
}

/**
 * Removes a member through the others, handing the leadership on first when it leads (a leader removing itself
 * leaves the cluster leaderless for an election); what was done, as report lines.
 */
export async function dropMember(inv: Inventory, view: MembersView, t: MemberRow): Promise<string[]> {
  const done: string[] = [];
  // The arithmetic again, just before: a member that stopped answering since the check (its etcd hung, its link cut,
  // while a snapshot was saved) would otherwise be left to make up the quorum of a cluster one member smaller. etcd's
  // own check does not see it: a hung process keeps its peer connections open, and counts as active.
  const health = await membersHealth(view.asker.remote, view.rows);
  const target = health.find((m) => m.id === t.id);
  if (target) {
    const verdict = removalVerdict(health, target, `removing ${memberLabel(t)} now`);
    if (!verdict.ok) throw new OperationError(`${verdict.text}; the cluster changed since the check, nothing was removed`);
  }
  if (t.isLeader) {
    const moved = await moveLeader(inv, view);
    done.push(`moved the leadership to ${memberLabel(moved.after)}`);
  }
  const others = view.rows.filter((m) => m.id !== t.id).flatMap((m) => reachableClientUrl(m) ?? []);
  // A leader just elected refuses membership changes for a moment (it must have heard from a quorum first).
  await retry(() => etcdClient(view.asker.remote, others).memberRemove(t.id), 15_000);
  done.push(`removed member ${memberLabel(t)}`);
  return done;
}

/** Stops and disables etcd on a node, moves its data dir to `to`; what was done, as report lines. */
export async function leaveNode(remote: Remote, name: string, dataDir: string, to: string): Promise<string[]> {
  const out = await must(remote, leaveScript(dataDir, to), `${name}: stopping etcd and moving ${dataDir} aside`);
  const moved = movedAside(out, dataDir, to);
  return [
    out.split('\n').includes('hardway:stopped') ? `${name}: stopped and disabled etcd.service` : `${name}: no etcd.service: nothing to stop`,
    moved ? `${name}: moved ${moved.text}` : `${name}: ${dataDir} holds no member: nothing to move`,
  ];
}

export function removeRun(base: HostsRun, name: string, opts: RemoveOptions): RemoveRun {
  return { ...base, name, opts, movedTo: movedAsidePath(base.inv.etcd.dataDir, opts.now ?? new Date()), plan: [], done: [], left: [] };
}

export async function removeMember(run: RemoveRun): Promise<RemoveRun> {
  const s = removeSteps;
  await runSteps(run, [connectStep<RemoveRun>(), s.ask, s.check, s.confirm, snapshotFirst<RemoveRun>('pre-remove', (r) => !r.already), s.removeMember, s.leaveNode], { flow: 'member-remove' });
  return run;
}

/** The lines said at the end: what was done, what was not, what the cluster is now, the inventory to edit. */
export function removeReport(r: RemoveRun): string[] {
  const voting = (r.members ?? []).filter((m) => !m.isLearner).length;
  const lines = [...r.done, ...r.left.map((l) => `not done: ${l}`)];
  if (r.members) lines.push(`now ${toleranceLine(voting, r.members.length - voting)}`);
  const node = r.target ? r.target.node : r.already ? r.host?.node : undefined;
  if (node) lines.push(`${node.name} is still in the inventory ${r.inv.file}: remove it there, or a later 'hardway up' adds it back`);
  return lines;
}
