import { OperationError } from '../errors.js';
import { peerUrl } from '../inventory/derive.js';
import type { NodeSpec } from '../inventory/types.js';
import { connectStep, usable, type HostsRun, type Connected } from '../engine/hosts.js';
import { runSteps, step } from '../engine/runner.js';
import { snapshotFirst } from '../snapshot/auto.js';
import { applyFiles, observeNode, systemdStep } from '../provision/apply.js';
import { must, retry } from '../engine/must.js';
import { desiredNode, type Artifacts } from '../provision/desired.js';
import { reachableClientUrl, waitHealthy } from '../etcd/health.js';
import { planNode } from '../provision/plan.js';
import { joiningCluster } from '../etcd/joining.js';
import { prepareArtifacts, renderUnits, type PrepareOptions } from '../provision/prepare.js';
import { idHex, parseEtcdJson } from '../etcd/etcdctl.js';
import { confirm } from '../engine/confirm.js';
import { membersHealth, quorumProblem } from '../etcd/member-health.js';
import { movedAsidePath } from '../node/ops.js';
import { removalVerdict, toleranceLine } from '../etcd/quorum.js';
import { dropMember, leaveNode } from './remove.js';
import { nodeNamed } from './resolve.js';
import { askMembers, memberLabel, type MemberRow, type MembersView } from '../etcd/members.js';
import { etcdClient } from '../etcd/client.js';

/**
 * `hardway member replace NODE`, for a node re-imaged or whose disk is gone: its old member removed (when the
 * cluster still has it), its data dir moved aside, its files installed with `--initial-cluster-state=existing`, then
 * added as a learner (etcd 3.4+), started, promoted once it has caught up. Quorum is checked before each change.
 */

export interface ReplaceOptions extends Pick<PrepareOptions, 'lint' | 'templates' | 'json'> {
  yes?: boolean;
  /** No pre-replace snapshot. */
  noSnapshot?: boolean;
  isTTY?: boolean;
  acceptNew?: boolean;
  now?: Date;
  /** How long the new member may take to catch up and be healthy (default 60 s). */
  waitMs?: number;
}

export interface ReplaceRun extends HostsRun {
  node: NodeSpec;
  opts: ReplaceOptions;
  host?: Connected;
  view?: MembersView;
  /** The node's member as the cluster still has it. */
  old?: MemberRow;
  artifacts?: Artifacts;
  movedTo: string;
  plan: string[];
  done: string[];
  newId?: string;
  /** The members healthy before any change: the ones waited for at the end, with the new one. */
  healthyBefore: Set<string>;
  members?: MemberRow[];
}

/** Learners came with etcd 3.4. */
export function supportsLearners(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 4);
}


/** The new member's ID from `member add -w json` (hex). */
export function addedMemberId(stdout: string): string {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('{'));
  const id = line ? parseEtcdJson<{ member?: { ID?: string | number } }>(line).member?.ID : undefined;
  if (id === undefined) throw new OperationError(`etcdctl member add printed no member ID: ${stdout.trim().slice(0, 200)}`);
  return idHex(id);
}

const remaining = (r: ReplaceRun) => r.view!.rows.filter((m) => m.id !== r.old?.id);
const endpointsLeft = (r: ReplaceRun) => remaining(r).flatMap((m) => reachableClientUrl(m) ?? []);
const learners = (r: ReplaceRun) => supportsLearners(r.inv.etcd.version);
const waitMsOf = (r: ReplaceRun) => r.opts.waitMs ?? 60_000;

async function checkQuorumLeft(r: ReplaceRun, what: string): Promise<void> {
  const problem = quorumProblem(await membersHealth(r.view!.asker.remote, remaining(r)));
  if (problem) throw new OperationError(`not ${what}: ${problem}`);
}

export const replaceSteps = {
  reach: step<ReplaceRun>('reach the node', async (r) => {
    const h = r.hosts.find((x) => x.node === r.node)!;
    if (!usable(h)) throw new OperationError(`${r.node.name} cannot be reached (${h.outcome.reason}): nothing was changed`);
    r.host = h;
  }),

  ask: step<ReplaceRun>('ask the cluster', async (r) => {
    // Through the other nodes: this node's etcdctl is about to be replaced, or gone with its disk.
    r.view = await askMembers(r.inv, r.hosts.filter((h) => h !== r.host));
    r.old = r.view.rows.find((m) => m.node === r.node);
  }),

  check: step<ReplaceRun>('check quorum', async (r) => {
    const health = await membersHealth(r.view!.asker.remote, r.view!.rows);
    r.healthyBefore = new Set(health.filter((m) => m.healthy).map((m) => m.id));
    if (r.old) {
      const verdict = removalVerdict(health, health.find((m) => m.id === r.old!.id)!, `replacing ${r.node.name}`);
      if (!verdict.ok) throw new OperationError(verdict.text);
      r.log(`quorum: ${verdict.text}`);
    } else {
      const problem = quorumProblem(health);
      if (problem) throw new OperationError(`not replacing ${r.node.name}: ${problem}`);
    }
  }),

  /** Before any change: a missing release or a unit that does not lint stops the run here. */
  prepare: step<ReplaceRun>('prepare the artifacts', async (r) => {
    const prep: PrepareOptions = { json: !!r.opts.json, ...(r.opts.lint === false ? { lint: false } : {}), ...(r.opts.templates ? { templates: r.opts.templates } : {}) };
    const artifacts = await prepareArtifacts(r.inv, [r.node], prep, r.log);
    const joining = { ...r.inv, cluster: { ...r.inv.cluster, initialState: 'existing' as const } };
    const cluster = joiningCluster(r.inv, remaining(r), r.node);
    const units = await renderUnits(joining, [r.node], prep, r.log, () => false, () => cluster);
    r.artifacts = { ...artifacts, units: new Map(artifacts.units).set(r.node.name, units.get(r.node.name)!) };
  }),

  confirm: step<ReplaceRun>('confirm', async (r) => {
    const o = r.old;
    if (o) r.plan.push(`${o.isLeader ? 'move the leadership to another member, then ' : ''}remove the old member ${memberLabel(o)}`);
    else r.plan.push(`${r.node.name} is not a member: no old member to remove`);
    r.plan.push(`on ${r.node.name}: stop and disable etcd.service, move ${r.inv.etcd.dataDir} to ${r.movedTo} (nothing is deleted)`);
    r.plan.push(`on ${r.node.name}: install etcd, etcdctl, the certificates and etcd.service (--initial-cluster-state=existing)`);
    r.plan.push(learners(r) ? `add ${r.node.name} as a learner, start it, wait until it has caught up, promote it` : `add ${r.node.name} (etcd ${r.inv.etcd.version} has no learners), start it, wait until it is healthy`);
    r.log(['this will:', ...r.plan.map((l) => `  - ${l}`)].join('\n'));
    await confirm(`replace ${r.node.name}?`, r.opts);
  }),

  removeOld: step<ReplaceRun>('remove the old member', async (r) => void r.done.push(...(await dropMember(r.inv, r.view!, r.old!))), (r) => !!r.old),

  leave: step<ReplaceRun>('stop etcd, move the data dir aside', async (r) => {
    r.done.push(...(await leaveNode(r.host!.remote, r.node.name, r.inv.etcd.dataDir, r.movedTo)));
  }),

  install: step<ReplaceRun>('install the files', async (r) => {
    const want = desiredNode(r.inv, r.node, r.artifacts!);
    const plan = planNode(r.inv, want, await observeNode(r.host!.remote, want, r.inv.etcd.dataDir, true));
    if (plan.conflict) throw new OperationError(`${r.node.name}: ${plan.conflict}`);
    const done: string[] = [];
    await applyFiles(r.host!.remote, plan, () => {}, done);
    const sd = systemdStep(plan, false);
    if (sd.command) await must(r.host!.remote, sd.command, sd.done.join(', '));
    r.done.push(`${r.node.name}: ${[...done, ...sd.done].join(', ') || 'its files were already in place'}`);
  }),

  add: step<ReplaceRun>('add the member', async (r) => {
    await checkQuorumLeft(r, `adding ${r.node.name}`);
    const client = etcdClient(r.view!.asker.remote, endpointsLeft(r));
    // etcd refuses a membership change until the leader has heard from every member for a few seconds.
    const out = await retry(() => client.memberAdd(r.node.name, peerUrl(r.node), { learner: learners(r), json: true }), 30_000);
    r.newId = addedMemberId(out);
    r.done.push(`added ${r.node.name} (${r.newId})${learners(r) ? ' as a learner' : ''}`);
    await must(r.host!.remote, 'systemctl start --no-block etcd.service', 'systemctl start etcd');
    r.done.push(`${r.node.name}: started etcd (joining as existing)`);
  }),

  promote: step<ReplaceRun>(
    'promote the learner',
    async (r) => {
      r.log(`waiting for ${r.node.name} to catch up, then promoting it`);
      // etcd refuses the promotion until the learner's log has caught up with the leader's.
      await retry(async () => {
        await checkQuorumLeft(r, `promoting ${r.node.name}`);
        await etcdClient(r.view!.asker.remote, endpointsLeft(r)).memberPromote(r.newId!);
      }, waitMsOf(r));
      r.done.push(`${r.node.name}: caught up, promoted to a voting member`);
    },
    (r) => learners(r),
  ),

  healthy: step<ReplaceRun>('wait until healthy', async (r) => {
    // A member already down before (quorum allowing) is not waited for: it is not this run's to fix.
    const nodes = [...remaining(r).flatMap((m) => (r.healthyBefore.has(m.id) && m.node ? [m.node] : [])), r.node];
    await waitHealthy(r.view!.asker.remote, nodes, waitMsOf(r), r.log);
    r.members = (await askMembers(r.inv, [r.view!.asker])).rows;
  }),
};

export function replaceRun(base: HostsRun, name: string, opts: ReplaceOptions): ReplaceRun {
  const node = nodeNamed(base.inv, name);
  return { ...base, node, opts, movedTo: movedAsidePath(base.inv.etcd.dataDir, opts.now ?? new Date()), plan: [], done: [], healthyBefore: new Set() };
}

export async function replaceMember(run: ReplaceRun): Promise<ReplaceRun> {
  const s = replaceSteps;
  await runSteps(run, [connectStep<ReplaceRun>(), s.reach, s.ask, s.check, s.prepare, s.confirm, snapshotFirst<ReplaceRun>('pre-replace'), s.removeOld, s.leave, s.install, s.add, s.promote, s.healthy], { flow: 'member-replace' });
  return run;
}

export function replaceReport(r: ReplaceRun): string[] {
  const voting = (r.members ?? []).filter((m) => !m.isLearner).length;
  return [...r.done, ...(r.members ? [`now ${toleranceLine(voting, r.members.length - voting)}`] : [])];
}
