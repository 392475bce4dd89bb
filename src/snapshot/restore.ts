import path from 'node:path';
import { CheckFailed, OperationError } from '../errors.js';
import { askCluster } from '../etcd/cluster.js';
import { checkRebuilt } from '../cluster/check.js';
import { snapshotFirst } from './auto.js';
import { connectStep, eachHost, type HostsRun, type Connected } from '../engine/hosts.js';
import { runSteps, step, type Step } from '../engine/runner.js';
import { writeClusterToken } from '../inventory/edit.js';
import { confirm } from '../engine/confirm.js';
import { nodeOfMember } from '../etcd/members.js';
import { membersHealth, quorumProblem } from '../etcd/member-health.js';
import { moveAsideLines, movedAside, movedAsidePath, utcStamp } from '../node/ops.js';
import { must } from '../engine/must.js';
import { endpointStatus, waitHealthy, type ClusterView } from '../etcd/health.js';
import { renderClusterMembers } from '../cluster/members-table.js';
import { renderUnits } from '../provision/prepare.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq } from '../ssh/remote.js';
import { snapshotFacts, type SnapshotFacts } from './store.js';
import { BUMP_REVISION, restoreScript, snapshotStatusOf, snapshotToolPath, supportsBumpRevision, type SnapshotStatus } from '../etcd/tools.js';
import { formatBytes } from '../output.js';
import { dbEntries } from './view.js';

/**
 * `hardway snapshot restore FILE`: the whole cluster from one snapshot. Every guard runs before anything is
 * stopped (the file's integrity here, every node reachable, a healthy cluster only with --force — refused before
 * anything is uploaded —, its SHA-256 on every node after upload, a confirmation); then every member is stopped,
 * its data dir moved aside (never deleted), restored with its own name and peer URL, the inventory's --initial-cluster and a new token (written
 * into the inventory, and into the units), and all are started together. A run killed halfway is finished by the
 * next: each node step works from whatever the last one left.
 */

export interface RestoreOptions {
  force?: boolean;
  /** No pre-restore snapshot of a healthy cluster (--force) before it is replaced. */
  noSnapshot?: boolean;
  yes?: boolean;
  isTTY?: boolean;
  /** How long the restored cluster may take to be healthy. */
  waitMs?: number;
  now?: Date;
}

export interface RestoreRun extends HostsRun {
  file: string;
  opts: RestoreOptions;
  stamp: string;
  token: string;
  /** The snapshot's copy on every node. */
  nodeFile: string;
  facts?: SnapshotFacts;
  status?: SnapshotStatus;
  /** The revision the live cluster is at, when it answered. */
  liveRevision?: number;
  /** The quorum answers: restoring would throw away what it holds now. */
  healthy?: boolean;
  /** The inventory node of the leader, when there is one. */
  leaderNode?: string;
  /** The nodes whose etcd runs. */
  running: Set<string>;
  movedTo: string;
  bump: boolean;
  done: string[];
  after?: ClusterView;
  checks: string[];
}

/** A token for the restored cluster: the inventory's with `-restored-<UTC>` (a previous suffix replaced). */
export function restoredToken(token: string, stamp: string): string {
  return `${token.replace(/-restored-\d{8}T\d{6}Z$/, '')}-restored-${stamp}`;
}

const probe = (r: RestoreRun) => r.hosts[0]!.remote!;
/** What was done, said as it is done (a restore takes a while) and kept for --json. */
const did = (r: RestoreRun, line: string) => {
  r.done.push(line);
  r.log(line);
};
const everyNode = (what: string) => ({ which: () => true, barrier: what });

/** What a restore throws away: the revisions since the snapshot's, when both are known. */
function lostText(live: number | undefined, snap: number | undefined): string {
  if (live === undefined) return `the snapshot is at revision ${snap ?? 'unknown (no manifest)'}; the cluster's revision could not be read, so what would be lost is unknown`;
  if (snap === undefined) return `the cluster is at revision ${live}; the snapshot's revision is unknown before it is read on a node (it has no manifest): anything written since it was taken would be lost`;
  return `the cluster is at revision ${live}, the snapshot at ${snap}: ${live > snap ? `the ${live - snap} revisions since` : 'anything written since'} would be lost`;
}

/** Whether the quorum answers, the revision it is at and its leader's node (nothing set when no member answers). */
async function readLive(r: RestoreRun): Promise<void> {
  // Only where etcd runs: a stopped member's etcdctl would wait out its dial timeout for nothing.
  const { answer } = await askCluster(r.inv, r.hosts, { isActive: (h) => r.running.has(h.node.name) });
  if (!answer) return;
  const health = await membersHealth(answer.asker.remote, answer.members);
  r.healthy = !quorumProblem(health);
  const status = await endpointStatus(answer.asker.remote, r.inv.nodes);
  if (status.length) r.liveRevision = Math.max(...status.map((s) => s.revision));
  const leader = answer.members.find((m) => status.some((s) => s.isLeader && s.memberId === m.id));
  r.leaderNode = leader && nodeOfMember(r.inv, leader)?.name;
}

export const restoreSteps = {
  checkFile: step<RestoreRun>('check the file', async (r) => {
    r.facts = await snapshotFacts(r.file);
    if (r.facts.problem) throw new CheckFailed(`${r.file}: ${r.facts.problem}; not restoring it (nothing was changed)`);
    r.nodeFile = `/var/tmp/hardway-restore-${r.facts.integrity.sha256.slice(0, 16)}.db`;
  }),

  reachable: step<RestoreRun>('every node reachable', async (r) => {
    await eachHost(r.hosts, async () => {}, everyNode('every node must be reachable before anything is stopped; nothing was changed'));
    const tool = snapshotToolPath(r.inv.etcd.version);
    await eachHost(
      r.hosts,
      async (h) => {
        const out = await must(h.remote, `test -x ${shq(tool)} && echo "active=$(systemctl is-active etcd.service)"`, `${tool} is not installed (run 'hardway up' first)`);
        if (/^active=(active|activating|reloading)$/m.test(out)) r.running.add(h.node.name);
      },
      everyNode('nothing was changed'),
    );
  }),

  live: step<RestoreRun>('read what the cluster holds now', (r) => readLive(r)),

  // Before anything goes to any node: a healthy cluster is refused here, with nothing uploaded.
  guard: step<RestoreRun>('is the cluster in use', async (r) => {
    if (r.healthy && !r.opts.force) {
      throw new OperationError(`the cluster is healthy (its quorum answers): restoring replaces what it holds now; ${lostText(r.liveRevision, r.facts!.manifest?.revision)}. Nothing was changed; run again with --force to restore anyway`);
    }
  }),

  upload: {
    title: 'upload the snapshot to every node',
    async run(r) {
      const i = r.facts!.integrity;
      // The upload checks the SHA-256 on the node before the file takes its name.
      await eachHost(r.hosts, (h) => h.remote.upload({ path: r.file, size: i.size, sha256: i.sha256 }, r.nodeFile, 0o600), everyNode('uploading the snapshot failed; nothing was changed'));
      r.log(`uploaded ${formatBytes(i.size)} to ${r.hosts.length} node(s), SHA-256 checked on each`);
      r.status = await snapshotStatusOf(probe(r), r.nodeFile, r.inv.etcd.version, `${r.hosts[0]!.node.name}: snapshot status`);
      if (!r.status) throw new OperationError(`${r.hosts[0]!.node.name}: snapshot status said nothing readable`);
      // A --force on a healthy cluster: what it loses, with the revision etcd read from the file itself.
      if (r.healthy !== undefined) r.log(`${r.healthy ? 'the cluster is healthy (--force): ' : ''}${lostText(r.liveRevision, r.status.revision)}`);
    },
    async cleanUp(r) {
      await Promise.all(r.hosts.map((h) => h.remote?.run(`rm -f ${shq(r.nodeFile)}`, { timeoutMs: 30_000 }).catch(() => {})));
    },
  } satisfies Step<RestoreRun>,

  confirm: step<RestoreRun>('confirm', async (r) => {
    const s = r.status!;
    const plan = [
      `restore ${path.basename(r.file)} (revision ${s.revision}, ${dbEntries(s.totalKey)}${r.facts!.manifest ? `, saved ${r.facts!.manifest.time} from ${r.facts!.manifest.member.name}` : ''}) onto ${r.hosts.map((h) => h.node.name).join(', ')}`,
      `stop etcd on every node; move ${r.inv.etcd.dataDir} to ${r.movedTo} on each (nothing is deleted)`,
      `restore each member with its own name and peer URL, new cluster token ${r.token}${r.bump ? `, revisions bumped by ${BUMP_REVISION} and marked compacted (watchers re-list)` : ''}`,
      `write cluster.token: ${r.token} into ${r.inv.file} and the units; start every member together`,
    ];
    r.log(['this will:', ...plan.map((l) => `  - ${l}`)].join('\n'));
    await confirm(`restore the cluster from ${path.basename(r.file)}?`, r.opts);
  }),

  stop: step<RestoreRun>('stop etcd everywhere', async (r) => {
    // The followers first, then the leader: a leader that stops hands its leadership to a follower, and waits out
    // etcd's transfer timeout (~7 s) when that follower is stopping too. Alone, with no follower left to take it,
    // it stops at once.
    const stop = async (h: Connected) => {
      await must(h.remote, 'systemctl stop etcd.service', 'systemctl stop etcd');
      h.outcome.done.push('stopped etcd');
    };
    const leader = r.hosts.find((h) => h.node.name === r.leaderNode);
    await eachHost(r.hosts, stop, { which: (h) => h !== leader, barrier: 'stopping etcd failed' });
    if (leader) await eachHost(r.hosts, stop, { which: (h) => h === leader, barrier: 'stopping etcd failed' });
    did(r, `stopped etcd on ${r.hosts.length} node(s)`);
  }),

  moveAside: step<RestoreRun>('move the data dirs aside', async (r) => {
    await eachHost(r.hosts, async (h) => {
      const out = await must(h.remote, ['set -e', ...moveAsideLines(r.inv.etcd.dataDir, r.movedTo)].join('\n'), `moving ${r.inv.etcd.dataDir} aside`);
      const moved = movedAside(out, r.inv.etcd.dataDir, r.movedTo);
      did(r, moved ? `${h.node.name}: moved ${moved.text}` : `${h.node.name}: no ${r.inv.etcd.dataDir} to move (a previous run moved it)`);
    }, everyNode('moving the data dirs aside failed'));
  }),

  restore: step<RestoreRun>('restore on every node', async (r) => {
    await eachHost(r.hosts, async (h) => {
      await must(h.remote, restoreScript(r.inv, h.node.name, { file: r.nodeFile, token: r.token, stamp: r.stamp }), 'snapshot restore', 10 * 60_000);
    }, everyNode('restoring failed'));
    did(r, `restored ${r.inv.etcd.dataDir} (mode 0700) on every node, token ${r.token}`);
  }),

  token: step<RestoreRun>('write the new token', async (r) => {
    if (r.inv.file !== '<memory>') await writeClusterToken(r.inv.file, r.token);
    r.inv = { ...r.inv, cluster: { ...r.inv.cluster, token: r.token } };
    did(r, `wrote cluster.token: ${r.token} into ${r.inv.file}`);
  }),

  start: step<RestoreRun>('start every member', async (r) => {
    // The units name the token too: `up` then finds them as they should be.
    const units = await renderUnits(r.inv, r.inv.nodes, { ...(r.inv.templates ? { templates: r.inv.templates } : {}) }, r.log);
    await eachHost(r.hosts, async (h) => {
      await h.remote.upload(units.get(h.node.name)!, REMOTE_PATHS.unit, 0o644);
      await must(h.remote, 'systemctl daemon-reload && systemctl enable etcd.service >/dev/null 2>&1 && systemctl start --no-block etcd.service', 'starting etcd');
    }, everyNode('starting etcd failed'));
    await waitHealthy(probe(r), r.inv.nodes, r.opts.waitMs ?? 120_000, r.log);
    did(r, `started etcd on every node; all ${r.inv.nodes.length} healthy`);
  }),

  check: step<RestoreRun>('check the restored cluster', async (r) => {
    const snap = r.status!.revision;
    const { view, checks } = await checkRebuilt(probe(r), r.inv, { revision: r.bump ? snap + BUMP_REVISION : snap, ...(r.bump ? { note: `the snapshot's ${snap} + ${BUMP_REVISION}` } : {}) });
    r.after = view;
    r.checks.push(...checks);
  }),
};

export function restoreRun(base: HostsRun, file: string, opts: RestoreOptions): RestoreRun {
  const stamp = utcStamp(opts.now ?? new Date());
  return {
    ...base,
    file: path.resolve(file),
    opts,
    stamp,
    token: restoredToken(base.inv.cluster.token, stamp),
    // Set from the file's SHA-256 once it is checked: a run killed after the upload leaves the name the next one uses.
    nodeFile: '',
    movedTo: movedAsidePath(base.inv.etcd.dataDir, stamp, 'pre-restore'),
    bump: supportsBumpRevision(base.inv.etcd.version),
    done: [],
    checks: [],
    running: new Set(),
  };
}

export async function restoreSnapshot(run: RestoreRun): Promise<RestoreRun> {
  const s = restoreSteps;
  await runSteps(run, [s.checkFile, connectStep<RestoreRun>(), s.reachable, s.live, s.guard, s.upload, s.confirm, snapshotFirst<RestoreRun>('pre-restore', (r) => !!r.healthy), s.stop, s.moveAside, s.restore, s.token, s.start, s.check], { flow: 'snapshot-restore' });
  return run;
}

/** What is printed at the end (what was done has been said as it was done). */
export function restoreReport(r: RestoreRun): string[] {
  return [
    `restored the cluster from ${r.file}`,
    ...r.checks.map((c) => `checked: ${c}`),
    ...(r.after ? [renderClusterMembers(r.after, r.inv)] : []),
    `the old data dirs stay in ${r.movedTo} on each node: hardway never deletes them; remove them once you no longer need them`,
  ];
}

