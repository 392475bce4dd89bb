import { OperationError } from '../errors.js';
import { peerUrl, quorum } from '../inventory/derive.js';
import type { NodeSpec } from '../inventory/types.js';
import { warn } from '../output.js';
import { askCluster, askFirstHost, type Asked, type ClusterAnswer } from '../etcd/cluster.js';
import { connectStep, eachHost, failHost, usable, type Connected, type Host, type HostsRun } from '../engine/hosts.js';
import { eachHostListed } from '../engine/progress.js';
import { hostFailpoint } from '../engine/failpoint.js';
import { perHost, step, type Step } from '../engine/runner.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq, type Remote } from '../ssh/remote.js';
import { binaryDiffLines, certDiffLines, keyDiffLines } from './file-diff.js';
import { endpointsOf, type EndpointHealth, type EndpointStatus } from '../etcd/etcdctl.js';
import { applyFiles, observeNode, systemdStep } from './apply.js';
import { must, retry } from '../engine/must.js';
import { artifactsFor, desiredNode, type Artifacts } from './desired.js';
import { clusterHealth, clusterView, endpointHealth, endpointStatus, leaderName, memberList, waitHealthy, type ClusterView } from '../etcd/health.js';
import { membersHealth } from '../etcd/member-health.js';
import type { Voter } from '../etcd/quorum.js';
import type { ObservedNode } from './observe.js';
import { archOfUname, releaseName } from './elf.js';
import { moveAsideLines, movedAside, movedAsidePath } from '../node/ops.js';
import { joiningCluster } from '../etcd/joining.js';
import { membersNotInInventory, removedMember, offlineView, planCluster, planNode, rollingOrder, type ClusterPlan, type NodePlan, type OfflineView } from './plan.js';
import { prepareArtifacts, prepareRelease, renderUnits, type Release } from './prepare.js';
import { bufferSource } from '../release/artifacts.js';
import type { Condition } from '../cluster/condition.js';
import { gatherCondition } from '../cluster/gather.js';
import { clientUrl } from '../inventory/derive.js';
import { autoSnapshot } from '../snapshot/auto.js';
import { clusterVersion, memberVersions, releaseVersion } from '../upgrade/facts.js';
import { preflight, preflightText, type Preflight } from '../upgrade/preflight.js';
import { dropPreviousScript, JOURNAL_REASON, journalReason, keepPreviousScript, putBackScript } from './roll.js';
import { flagMap } from './unit-diff.js';
import { execStartArgv } from '../render/unit-flags.js';
import { trustGuard } from '../certs/trust.js';
import { etcdClient } from '../etcd/client.js';
import { readInstalled, type NodeCerts } from '../pki/installed.js';

/** The steps of `up` and `plan`, over one run-wide record. */

export interface UpOptions {
  nodes?: string[];
  acceptNew?: boolean;
  dryRun?: boolean;
  json?: boolean;
  lint?: boolean;
  templates?: string;
  /** How long to wait for the cluster to become healthy (default 60 s). */
  waitMs?: number;
  /**
   * Restart changed running members all at once instead of one by one: for a cluster with no quorum to keep
   * (an election loop), where a rolling restart would wait for a health that cannot come.
   */
  restartTogether?: boolean;
  /** No pre-upgrade snapshot before a version change rolls. */
  noSnapshot?: boolean;
  /** A downgrade one minor down is asked for (etcd 3.6+: through its downgrade API). */
  downgrade?: boolean;
}

/** A host as `up` works on it: what was observed there, and what is planned for it. */
export interface UpHost extends Host {
  observed?: ObservedNode;
  plan?: NodePlan;
}

export interface UpRun extends HostsRun<UpHost> {
  opts: UpOptions;
  artifacts?: Artifacts;
  /** The running cluster, as a member answered (see engine/cluster.ts). */
  live?: ClusterAnswer;
  /** What the nodes' WALs say when no member answered. */
  offline?: OfflineView;
  plan?: ClusterPlan;
  /** The cluster at the end: member list, health, leader. */
  view?: ClusterView;
  /** The whole cluster's condition, judged when the plan changes membership or no running member answered. */
  condition?: Condition;
  /** The verdict on a version change (a running member's binary differs), when there is one. */
  preflight?: Preflight;
  /** Kept copies of the files a rolling change replaced, per node: dropped once the flow ends well. */
  kept?: Map<string, string[]>;
  /** The cluster asked early, through the first node reached (see askEarly). */
  early?: EarlyAsk;
  /** The certificates installed on the nodes, read from the start of the run for the trust check (see askEarly). */
  installed?: Promise<NodeCerts[]>;
  /** The units and binaries, prepared while the nodes are connected to and asked (see startRelease). */
  release?: Promise<Release>;
  /** Each node's observation, started as soon as it is connected and the units are rendered (see askEarly). */
  observing?: Map<Host, Promise<ObservedNode>>;
}

export interface EarlyAsk {
  host: Connected<UpHost>;
  /** `member list` through `host`, as askCluster asks it. */
  asked: Asked;
  /** Once the members answered (`up` only): every endpoint's health and status, what the final table shows. */
  answers: Promise<{ health: EndpointHealth[]; status: EndpointStatus[] } | undefined>;
}

const selectedUsable = (r: UpRun) => r.hosts.filter((h) => h.selected && usable(h)) as (Connected<UpHost>)[];
/** The node whose etcdctl waits for health: the first selected node still in the run. */
const probeOf = (r: UpRun) => selectedUsable(r)[0]?.remote;
const waitMsOf = (r: UpRun) => r.opts.waitMs ?? 60_000;
/** A health check is a linearizable read: allow it a few heartbeats on a slow (tuned) cluster. */
const healthTimeoutS = (r: UpRun) => Math.max(3, Math.ceil((2 * r.inv.etcd.heartbeatInterval) / 1000) + 2);
const waitFor = (r: UpRun, probe: Remote, nodes: NodeSpec[]) => waitHealthy(probe, nodes, waitMsOf(r), r.log, healthTimeoutS(r));

const selectedNodes = (r: UpRun) => r.hosts.filter((h) => h.selected).map((h) => h.node);

/**
 * The units and binaries, started before connecting: nothing from pki.dir, so this need not wait for the trust check,
 * and rendering (handlebars, lint) runs while the nodes' sshd and etcd answer. Taken by `prepare`.
 */
const startRelease = step<UpRun>('start rendering the units', async (r) => {
  r.release = prepareRelease(r.inv, selectedNodes(r), r.opts, r.log);
  // Awaited by `prepare`; a run that stops before it reports its own error, never an unhandled rejection.
  r.release.catch(() => {});
});

const prepare = step<UpRun>('prepare the artifacts', async (r) => {
  r.artifacts = await prepareArtifacts(r.inv, selectedNodes(r), r.opts, r.log, await r.release);
});

/**
 * What a node holds is read with the paths of the files alone (and the unit's text, for --wal-dir), which the release
 * gives before pki.dir is checked or issued: the certificates' contents stand empty here, they are compared later.
 */
const observeWith = (r: UpRun, h: Connected<UpHost>, release: Release) =>
  observeNode(h.remote, desiredNode(r.inv, h.node, { ...release, ca: NO_CONTENT, cert: NO_CONTENT, key: NO_CONTENT }), r.inv.etcd.dataDir, !r.opts.dryRun && h.selected);
const NO_CONTENT = bufferSource(Buffer.alloc(0));

/** Every node, named by --nodes or not; only the named ones record file sums (plan and the others write nothing). */
const observe = step<UpRun>('observe the nodes', async (r) => {
  await eachHost(
    r.hosts,
    async (h) => {
      // Started early (askEarly) on every node then connected; read now only for a node that was not.
      h.observed = await (r.observing?.get(h) ?? observeNode(h.remote, desiredNode(r.inv, h.node, r.artifacts!), r.inv.etcd.dataDir, !r.opts.dryRun && h.selected));
      // A killed run's copies, kept while this member was not running: what it ran before, as if this run had kept
      // them — put back if it does not come back, dropped once it is healthy.
      if (h.selected && h.observed.kept?.length) (r.kept ??= new Map()).set(h.node.name, h.observed.kept);
    },
    { which: () => true },
  );
  // Binaries for another CPU would only crash-loop there: that node stops before any upload, the others go on.
  for (const h of r.hosts) {
    const why = h.observed && archMismatch(r, h.observed.machine);
    if (why) failHost(h, `${h.node.name}: ${why}`);
  }
  for (const h of r.hosts.filter((x) => !x.selected && !x.observed)) {
    warn(`${h.node.name} (not named by --nodes) could not be observed, so the plan does not know what it holds: ${h.outcome.reason}`);
  }
});

/** Why this release cannot run on a node whose `uname -m` is `machine`, naming the release it needs. */
function archMismatch(r: UpRun, machine: string | undefined): string | undefined {
  const need = machine ? archOfUname(machine) : undefined;
  if (r.artifacts?.byArch && machine && !(need && artifactsFor(r.artifacts, need))) {
    const release = need ? releaseName(r.inv.etcd.version, need) : `a release built for ${machine}`;
    return `the node is ${machine} (uname -m) and etcd.tarball (or etcd.url) names no release for it (only ${[...r.artifacts.byArch.keys()].join(', ')}): nothing was uploaded; add ${need ? `${need.release}: …/` : ''}${release}`;
  }
  const have = r.artifacts && need ? artifactsFor(r.artifacts, need)?.arch : r.artifacts?.arch;
  if (!have || !machine || have.uname === machine || (need && need.uname === have.uname)) return undefined;
  const release = need ? releaseName(r.inv.etcd.version, need) : `a release built for ${machine}`;
  return `the node is ${machine} (uname -m) but the etcd release's binaries are built for ${have.uname}: nothing was uploaded; it needs ${release}`;
}

/** The binaries of the node's CPU when the release is given per architecture (a node without one was stopped). */
function nodeArtifacts(r: UpRun, h: UpHost): Artifacts {
  const arch = h.observed?.machine ? archOfUname(h.observed.machine) : undefined;
  return artifactsFor(r.artifacts!, arch) ?? r.artifacts!;
}

/**
 * The cluster is asked while the nodes are checked and observed, not after: `member list` through the first node
 * reached starts now, and `ask` takes its answer when that node's etcd runs (askCluster asks the running nodes in
 * inventory order, so it is the node it would ask first), else asks as it always does. For `up` a cluster that answered
 * is also asked every endpoint's health and status at once: a run that changes nothing shows those in its final table
 * instead of asking again. Nothing waits here; an answer no step takes is left unread.
 */
const askEarly = step<UpRun>('ask the cluster early', async (r) => {
  // The trust check's reading starts now too, while the units are still being rendered.
  if (r.inv.etcd.tls) {
    r.installed = readInstalled(r.hosts);
    r.installed.catch(() => {});
  }
  // And each node's observation, once the units are rendered: a read, which the trust check and pki.dir need not
  // precede (only the sums cache it keeps on the node is written). The observe step takes it.
  const release = r.release;
  if (release) {
    r.observing = new Map(
      r.hosts.filter(usable).map((h) => {
        const observed = release.then((rel) => observeWith(r, h as Connected<UpHost>, rel));
        // Taken by the observe step, which reports its error; a run that stops first leaves it unread.
        observed.catch(() => {});
        return [h, observed] as const;
      }),
    );
  }
  const { asked, first: host } = askFirstHost(r.inv, r.hosts);
  if (!host) return;
  const members = asked.get(host)!;
  const answers = r.opts.dryRun
    ? Promise.resolve(undefined)
    : members.then(async (m) => {
        if (m.code !== 0) return undefined;
        const [health, status] = await Promise.all([endpointHealth(host.remote, r.inv.nodes), endpointStatus(host.remote, r.inv.nodes)]);
        return { health, status };
      });
  // Unread when its node's etcd is not running, or the run stops first: never an unhandled rejection.
  r.early = { host, asked, answers: answers.catch(() => undefined) };
});

/** A running member knows the truth about membership: ask it once, for every node's plan. */
const ask = step<UpRun>('ask the running cluster', async (r) => {
  const { answer, unanswered } = await askCluster(r.inv, r.hosts, { isActive: (h) => h.observed?.unit.active === 'active', asked: r.early?.asked ?? new Map() });
  if (answer) r.live = answer;
  else r.offline = offlineView(r.inv, r.hosts.flatMap((h) => (h.observed ? [{ node: h.node, have: h.observed }] : [])), unanswered);
});

const planNodes = step<UpRun>('plan', async (r) => {
  const live = r.live ? { clusterId: r.live.clusterId, members: r.live.members } : undefined;
  // Stopped members that --nodes leaves out stay stopped: a node waiting for them must say so.
  const heldBack = r.hosts.filter((h) => !h.selected && h.observed?.hasData && !h.observed.unit.active.startsWith('activ')).map((h) => h.node.name);
  const unnamed = heldBack.length
    ? ` (But ${heldBack.join(', ')} ${heldBack.length === 1 ? 'is' : 'are'} not named by --nodes, so this run does not start ${heldBack.length === 1 ? 'it' : 'them'}: run 'hardway up' without --nodes.)`
    : '';
  for (const h of r.hosts) {
    if (!h.observed) continue;
    h.plan = planNode(r.inv, desiredNode(r.inv, h.node, nodeArtifacts(r, h)), h.observed, live, r.offline);
    if (h.plan.conflict && !h.observed.hasData) h.plan.conflict += unnamed;
    if (h.plan.conflict && h.selected) failHost(h, h.plan.conflict, 'conflict');
  }
  if (r.live) {
    await planRejoins(r, r.live);
    const moved = r.hosts.flatMap((h) => (h.plan?.moved ? [h.plan.moved.memberId] : []));
    for (const line of membersNotInInventory(r.inv, r.live, moved)) warn(line);
  }
  const plans = (hs: UpHost[]) => hs.flatMap((h) => (h.plan && !h.plan.conflict ? [h.plan] : []));
  r.plan = planCluster(plans(r.hosts.filter((h) => h.selected)), plans(r.hosts.filter((h) => !h.selected)).some((p) => p.running));
});

/**
 * A version change is judged before any file is written: when a running member is to get another etcd binary, the
 * members' server versions and health, the cluster version and the release's own `etcd --version` go through the
 * preflight (upgrade/preflight.ts). A downgrade or a refused upgrade stops the run here; an upgrade rolls with a
 * snapshot first. A rebuilt binary of the same version is a plain rolling restart.
 */
const judgeRelease = step<UpRun>('judge the release', async (r) => {
  const changing = r.hosts.filter((h) => h.selected && h.plan?.running && h.plan.files.some((f) => f.path === REMOTE_PATHS.etcd && f.needsRestart));
  if (!changing.length || !r.live) return;
  const asker = r.live.asker;
  const [status, health, cluster, release] = await Promise.all([
    endpointStatus(asker.remote, r.inv.nodes).catch(() => []),
    membersHealth(asker.remote, r.live.members),
    clusterVersion(r.inv, asker.remote, asker.node),
    releaseVersion(asker.remote, nodeArtifacts(r, asker).etcd),
  ]);
  const flags = [...new Set(r.hosts.flatMap((h) => [...flagMap(execStartArgv(r.artifacts!.units.get(h.node.name)?.data?.toString('utf8') ?? '')).keys()]))];
  r.preflight = preflight({
    members: memberVersions(r.live.members.filter((m) => !m.isLearner), status, (id) => health.some((v) => v.id === id && v.healthy)),
    ...(cluster ? { clusterVersion: cluster } : {}),
    release,
    inventory: r.inv.etcd.version,
    flags,
    ...(r.opts.downgrade ? { downgrade: true } : {}),
  });
  if (r.preflight.kind === 'refused' || r.preflight.kind === 'downgrade') throw new OperationError(`etcd ${release}: ${preflightText(r.preflight)}. Nothing was written.`);
  if (r.preflight.kind === 'upgrade') r.log(`etcd: ${preflightText(r.preflight)}`);
});

/**
 * A membership change needs a healthy quorum, and an empty node must not bootstrap next to members that run without
 * answering: whenever the plan changes membership (a re-join, an address update) or a member runs but no member
 * answered, the whole cluster's condition is judged first (one more round trip, only then). With the quorum lost and
 * not to be brought back by starting stopped members, nothing is changed on any node: the condition names the repair.
 */
const judge = step<UpRun>('judge the cluster', async (r) => {
  const membership = r.hosts.some((h) => h.selected && !h.plan?.conflict && (h.plan?.rejoin || h.plan?.moved));
  // Offline, data the inventory would not bootstrap may be this cluster under addresses that changed since.
  const foreignOffline = !r.live && r.hosts.some((h) => h.plan?.conflict && h.observed?.hasData);
  if (!(r.live && membership) && !(!r.live && r.offline?.unanswered) && !foreignOffline) return;
  const { condition } = await gatherCondition(r.inv, r.hosts);
  r.condition = condition;
  if ((condition.kind === 'quorum-lost' && !condition.startable) || (condition.kind === 'address-changed' && !r.live) || (condition.kind === 'no-leader' && membership)) {
    throw new OperationError(`${condition.headline} Nothing was changed on any node.`);
  }
});

/**
 * A member whose node moved to another address: its peer URL is updated from the quorum (etcd's documented way: the
 * member keeps its ID and data) before it starts on the new address, which its new unit and certificate carry.
 */
const updateMoved = step<UpRun>(
  'update moved members',
  (r) =>
    eachHost(
      r.hosts,
      async (h) => {
        const { memberId, from, to } = h.plan!.moved!;
        const asker = r.live!.asker;
        if (asker === h || !usable(asker)) throw new OperationError(`no running member to update ${h.node.name}'s peer URL through`);
        const eps = endpointsOf(r.hosts.filter((x) => x !== h && x.plan?.running && usable(x)).map((x) => x.node));
        r.log(`${h.node.name}: member ${memberId} moved from ${from.join(',')} to ${to}: updating its peer URL`);
        await retry(() => etcdClient(asker.remote, eps).memberUpdate(memberId, to), 30_000);
        h.outcome.done.push(`member update ${memberId} --peer-urls=${to}`);
      },
      { limit: 1, which: (h) => h.selected && !!h.plan?.moved },
    ),
  (r) => !!r.live && selectedUsable(r).some((h) => h.plan?.moved),
);

/** How an empty node the running cluster may know joins it, or undefined when its plan stands as it is. */
function rejoinOf(h: UpHost, live: ClusterAnswer): NodePlan['rejoin'] | undefined {
  const m = live.members.find((x) => x.peerURLs.includes(peerUrl(h.node)));
  // Listed with a name but never published: a bootstrap member that has not started yet joins with `new`.
  if (m && m.name && m.clientURLs.length === 0) return undefined;
  const published = !!m?.name;
  // Its etcd runs (or loops) on the empty dir: a member that ran once was wiped, or it keeps failing; a first start
  // still in progress is left alone.
  const stopFirst = h.plan!.running;
  if (stopFirst && !published && h.observed!.unit.restarts === 0) return undefined;
  return { ...(m ? (published ? { removeId: m.id, add: true } : { add: false }) : { add: true }), ...(stopFirst ? { stopFirst } : {}) };
}

/**
 * An empty node whose member the running cluster already knows (it published client URLs, so it ran once) was
 * wiped or replaced: started with --initial-cluster-state=new it never joins (etcd refuses, in a crash loop). Its
 * plan becomes a re-join with a unit for `existing`, rendered and linted like every other unit.
 */
async function planRejoins(r: UpRun, live: ClusterAnswer): Promise<void> {
  const joins = r.hosts.flatMap((h) => {
    if (!h.selected || !h.observed || h.plan?.conflict) return [];
    const removed = removedMember(h.observed, live);
    if (removed) return [{ h, rejoin: { add: true, moveAside: { memberId: removed }, ...(h.plan?.running ? { stopFirst: true } : {}) } }];
    if (h.plan?.state !== 'new') return [];
    const rejoin = rejoinOf(h, live);
    return rejoin ? [{ h, rejoin }] : [];
  });
  if (!joins.length) return;
  const joining = { ...r.inv, cluster: { ...r.inv.cluster, initialState: 'existing' as const } };
  const units = await renderUnits(joining, joins.map((j) => j.h.node), r.opts, r.log);
  for (const { h, rejoin } of joins) {
    const own = nodeArtifacts(r, h);
    const artifacts = { ...own, units: new Map(own.units).set(h.node.name, units.get(h.node.name)!) };
    // Planned as the stopped node it will be once its loop is stopped (and, with removed data, the empty node it will be).
    const { running: _running, wal: _wal, ...rest } = h.observed!;
    const stopped: ObservedNode = rejoin.stopFirst ? { ...rest, ...(h.observed!.wal ? { wal: h.observed!.wal } : {}), unit: { ...rest.unit, active: 'inactive' } } : h.observed!;
    const have: ObservedNode = rejoin.moveAside ? { ...rest, hasData: false, unit: stopped.unit } : stopped;
    h.plan = { ...planNode(r.inv, desiredNode(r.inv, h.node, artifacts), have), rejoin };
  }
}

/**
 * All selected nodes at once: files, daemon-reload, enable; a stopped member starts as soon as its own files are in.
 * Starts stay 200 ms apart: etcd 3.4 asks each peer whether the cluster exists (1 s timeout each) and members
 * started in the same instant keep each other waiting (measured on 7 nodes: 9.4 s to healthy, 4.9 s spaced).
 */
const writeFiles = step<UpRun>('write files and enable', async (r) => {
  let nextStartAt = 0;
  const spacedStart = async () => {
    const at = Math.max(Date.now(), nextStartAt);
    nextStartAt = at + 200;
    await new Promise((res) => setTimeout(res, at - Date.now()));
  };
  await eachHostListed(
    r.hosts,
    async (h, report) => {
      const plan = h.plan!;
      const done = h.outcome.done;
      if (plan.rejoin?.stopFirst) {
        await must(h.remote, 'systemctl stop etcd.service', `systemctl stop etcd (${plan.rejoin.moveAside ? 'it holds a removed member' : 'its data dir is empty: etcd cannot start'})`);
        done.push(plan.rejoin.moveAside ? 'stop (it runs a member the cluster removed)' : 'stop (crash loop on an empty data dir)');
      }
      if (plan.rejoin?.moveAside) {
        const to = movedAsidePath(r.inv.etcd.dataDir, new Date());
        const out = await must(h.remote, ['set -e', ...moveAsideLines(r.inv.etcd.dataDir, to)].join('\n'), `moving ${r.inv.etcd.dataDir} aside`);
        const moved = movedAside(out, r.inv.etcd.dataDir, to);
        if (moved) done.push(`moved ${moved.from} (member ${plan.rejoin.moveAside.memberId}, removed from the cluster) to ${moved.to}`);
      }
      // A member that will be restarted gets what changes its process only just before its own restart.
      const rolled = plan.running && plan.restart && r.plan!.mode === 'rolling' && !r.opts.restartTogether;
      const now = rolled ? { ...plan, files: plan.files.filter((f) => !f.needsRestart) } : plan;
      if (now.dirs.length || now.files.length) await applyFiles(h.remote, now, report, done);
      const start = plan.start && !plan.rejoin;
      const sd = systemdStep({ ...plan, daemonReload: rolled ? now.files.some((f) => f.role === 'unit' && f.upload) || plan.daemonReload && !plan.files.some((f) => f.role === 'unit' && f.needsRestart) : plan.daemonReload }, start);
      if (sd.command) {
        if (start) await spacedStart();
        await must(h.remote, sd.command, sd.done.join(', '));
        done.push(...sd.done);
      }
      return done.length ? `${done.length} change(s)` : 'files up to date';
    },
    { quiet: !!r.opts.json },
  );
});

/** Re-joins one at a time (etcd refuses a second unstarted member while one is pending), through a running member. */
const rejoin = step<UpRun>(
  're-join emptied members',
  async (r) => {
    await eachHost(
      r.hosts,
      async (h) => {
        const asker = r.live!.asker;
        if (asker === h || !usable(asker)) throw new OperationError('no running member to re-add it through');
        const running = r.hosts.filter((x) => x.plan?.running && !x.plan.rejoin && usable(x)).map((x) => x.node);
        const eps = endpointsOf(running);
        const { removeId, add } = h.plan!.rejoin!;
        if (removeId) {
          r.log(`${h.node.name}: its data dir is empty but the cluster has its old member ${removeId}: removing it`);
          await etcdClient(asker.remote, eps).memberRemove(removeId);
          h.outcome.done.push(`removed old member ${removeId}`);
        }
        if (add) {
          r.log(`${h.node.name}: adding it to the running cluster`);
          // etcd accepts a membership change only once the leader has been connected to a quorum for a few seconds.
          await retry(() => etcdClient(asker.remote, eps).memberAdd(h.node.name, peerUrl(h.node)), 30_000);
          h.outcome.done.push('member add');
        }
        await writeJoiningUnit(r, h, asker.remote);
        await must(h.remote, 'systemctl start --no-block etcd.service', 'systemctl start etcd');
        h.outcome.done.push('start (joining as existing)');
        await waitFor(r, asker.remote, [...running, h.node]);
      },
      { limit: 1, which: (h) => h.selected && !!h.plan?.rejoin },
    );
    // A member that joined before the next one did started with the members it met then; once all have joined,
    // its unit shows the cluster as it is (flags read only at bootstrap: no restart), so the next run changes nothing.
    const joined = r.hosts.filter((h) => h.outcome.done.includes('start (joining as existing)') && usable(h)) as (Connected<UpHost>)[];
    if (joined.length > 1) for (const h of joined) await writeJoiningUnit(r, h, r.live!.asker.remote, true);
  },
  (r) => !!r.live && selectedUsable(r).some((h) => h.plan?.rejoin),
);

/**
 * The unit a joining member starts with lists the members it will meet, as the member list now has them: when
 * nodes join one after another (1 → 3), the first meets 2 members, not the inventory's 3, and etcd refuses another
 * count. Written only when it differs from the unit already in place; linted like every unit.
 */
async function writeJoiningUnit(r: UpRun, h: Connected<UpHost>, asker: Remote, final = false): Promise<void> {
  const { members } = await memberList(asker, r.inv.nodes);
  const joining = { ...r.inv, cluster: { ...r.inv.cluster, initialState: 'existing' as const } };
  const units = await renderUnits(joining, [h.node], r.opts, r.log, undefined, () => joiningCluster(r.inv, members));
  const unit = units.get(h.node.name)!;
  const planned = h.plan!.files.find((f) => f.role === 'unit')?.file.source ?? r.artifacts?.units.get(h.node.name);
  if (final) {
    const have = await h.remote.run(`sha256sum < ${REMOTE_PATHS.unit}`, { timeoutMs: 15_000 });
    if (have.stdout.split(' ')[0] === unit.sha256) return;
  } else if (planned?.sha256 === unit.sha256) return;
  await h.remote.upload(unit, REMOTE_PATHS.unit, 0o644);
  await must(h.remote, 'systemctl daemon-reload', 'systemctl daemon-reload');
  h.outcome.done.push(`wrote ${REMOTE_PATHS.unit} (--initial-cluster of the ${members.length} members it joins)`);
}

/**
 * A member systemd keeps restarting (its unit `activating`: etcd failed, e.g. for a missing certificate) that got its
 * files comes back by itself on its next restart, with no restart of ours: waited for as a started one is.
 */
const looping = (h: UpHost) => h.plan!.running && h.observed?.unit.active === 'activating' && !h.plan!.restart && !h.plan!.rejoin && h.outcome.done.length > 0;

const awaitStarted = step<UpRun>('wait for the started members', async (r) => {
  const started = selectedUsable(r).filter((h) => h.plan!.start && !h.plan!.rejoin);
  const recovering = selectedUsable(r).filter(looping);
  const probe = probeOf(r);
  if (!(started.length || recovering.length) || !probe) return;
  if (started.length) r.log(`started etcd on ${started.map((h) => h.node.name).join(', ')}; waiting for the cluster to be healthy`);
  if (recovering.length) r.log(`etcd on ${recovering.map((h) => h.node.name).join(', ')} was failing and restarts by itself with its files in place; waiting for the cluster to be healthy`);
  // Reported per node at the end (the health table says which); 'hardway doctor' explains why.
  await waitFor(r, probe, selectedUsable(r).map((h) => h.node)).catch((e: Error) => r.log(`${e.message}\nrun 'hardway doctor' to find out why`));
});

/** With no quorum to keep: every changed member restarted at once; a node whose restart fails is that node's failure. */
const restartTogether = step<UpRun>(
  'restart together',
  async (r) => {
    const which = (h: UpHost) => h.selected && !!h.plan?.restart;
    await eachHost(
      r.hosts,
      async (h) => {
        await must(h.remote, 'systemctl restart --no-block etcd.service', 'systemctl restart etcd');
        h.outcome.done.push('restart');
      },
      { which },
    );
    const restarted = r.hosts.filter((h) => which(h) && h.outcome.done.includes('restart'));
    const probe = probeOf(r);
    if (!restarted.length || !probe) return;
    r.log(`restarted etcd on ${restarted.map((h) => h.node.name).join(', ')} together; waiting for a leader`);
    await waitFor(r, probe, selectedUsable(r).map((h) => h.node)).catch((e: Error) => r.log(e.message));
  },
  (r) => !!r.opts.restartTogether,
);

/**
 * Refuses, with the arithmetic, a restart that would leave fewer than a quorum of the member list healthy: every
 * member counts, unreachable ones and ones the inventory no longer lists as well. A member just restarted may take
 * a moment to answer, so a short count is asked again for a few seconds.
 */
export async function checkQuorumWithout(probe: Remote, inventoryNodes: NodeSpec[], node: NodeSpec, timeoutS = 3): Promise<void> {
  let why = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt) await new Promise((res) => setTimeout(res, 1000));
    const { members } = await memberList(probe, inventoryNodes);
    const own = members.find((m) => m.peerURLs.includes(peerUrl(node)))?.id;
    const voters = (await membersHealth(probe, members, timeoutS)).filter((v) => !v.isLearner);
    const others = voters.filter((v) => v.id !== own);
    const up = others.filter((v) => v.healthy);
    const need = quorum(voters.length);
    if (up.length >= need) return;
    const name = (v: Voter) => v.name || v.id;
    const down = others.filter((v) => !v.healthy);
    why =
      `not restarting ${node.name}: the cluster has ${voters.length} voting members and needs ${need} healthy for quorum; ` +
      `besides ${node.name}, ${up.length} ${up.length === 1 ? 'is' : 'are'} healthy (${up.map(name).join(', ') || 'none'}) and ${down.length} ${down.length === 1 ? 'is' : 'are'} not ` +
      `(${down.map(name).join(', ')}): restarting it would leave ${up.length} < ${need}. Bring the others back first ('hardway verify' shows them).`;
  }
  throw new OperationError(why);
}

/**
 * Followers first, the leader last (its leadership handed to a member already restarted first); each restart only while
 * the rest keep quorum, stopping at the first failure. A member's files that change its process are written just before
 * its own restart, the ones they replace kept beside them: a member that does not come back healthy is put back on
 * them and started again, and the run stops there (exit 1, with its journal's reason). A version change saves a
 * `pre-upgrade` snapshot before the first restart.
 */
const rollingRestart = step<UpRun>(
  'rolling restart',
  async (r) => {
    const probe = probeOf(r);
    // Nothing to restart: no need for the leader's name either.
    if (!probe || !selectedUsable(r).some((h) => h.plan?.restart)) return;
    const leader = await leaderName(probe, r.inv, r.live?.members);
    const order = rollingOrder(selectedUsable(r).map((h) => h.plan!), leader);
    if (order.length && r.preflight?.kind === 'upgrade' && !r.opts.noSnapshot) await preUpgradeSnapshot(r);
    if (order.length && r.preflight?.kind === 'upgrade' && r.preflight.downgrade) await enableDowngrade(r, probe, r.preflight.downgrade);
    const restarted: string[] = [];
    for (const p of order) {
      const h = r.hosts.find((x) => x.node.name === p.node)! as Connected<UpHost>;
      const nodes = selectedUsable(r).map((x) => x.node);
      const deferred = p.files.filter((f) => f.needsRestart);
      let replaced = false;
      let restarting = false;
      hostFailpoint(p.node, 'before');
      try {
        // The arithmetic first: a member that is down for good would otherwise be waited for in vain.
        await checkQuorumWithout(probe, r.inv.nodes, h.node, healthTimeoutS(r));
        const others = nodes.filter((n) => n.name !== p.node);
        if (others.length) await waitFor(r, probe, others);
        if (p.node === leader && restarted.length) await handOffLeadership(r, h, restarted);
        if (deferred.length) {
          await must(h.remote, keepPreviousScript(deferred.map((f) => f.path)), 'keeping the files it replaces');
          (r.kept ??= new Map()).set(h.node.name, [...new Set([...(r.kept.get(h.node.name) ?? []), ...deferred.map((f) => f.path)])]);
          replaced = true;
          await applyFiles(h.remote, { ...p, dirs: [], files: deferred }, (line) => r.log(`${h.node.name}: ${line}`), h.outcome.done);
          if (deferred.some((f) => f.role === 'unit')) await must(h.remote, 'systemctl daemon-reload', 'systemctl daemon-reload');
        }
        r.log(`restarting etcd on ${p.node}${p.stale ? ` (${p.stale})` : ''}`);
        restarting = true;
        await must(h.remote, 'systemctl restart etcd.service', 'systemctl restart etcd', waitMsOf(r));
        h.outcome.done.push('restart');
        await waitFor(r, probe, nodes);
        restarted.push(p.node);
        hostFailpoint(p.node, 'after');
      } catch (e) {
        const journal = await h.remote.run(JOURNAL_REASON, { timeoutMs: 15_000 }).catch(() => undefined);
        const why = journal && journalReason(journal.stdout);
        failHost(h, why ? `${(e as Error).message}; its journal: ${why}` : e);
        if (replaced || r.kept?.has(h.node.name)) await putBack(r, h);
        // Restarting more members while one is unhealthy could lose quorum.
        r.log(`stopping the rolling restart: ${p.node} ${h.outcome.done.includes('restart') ? 'did not come back healthy' : restarting ? 'failed to restart' : 'was not restarted'}`);
        break;
      }
    }
    if (r.preflight?.kind === 'upgrade' && restarted.length === order.length && order.length) await awaitClusterVersion(r, probe);
  },
  (r) => r.plan!.mode === 'rolling' && !r.opts.restartTogether,
);

/** Before the first restart of a version change: a snapshot in snapshots.dir, its manifest saying why. */
async function preUpgradeSnapshot(r: UpRun): Promise<void> {
  // Taken with the tools of the release that runs now (the inventory already names the new one).
  const from = r.preflight?.kind === 'upgrade' ? r.preflight.from : r.inv.etcd.version;
  await autoSnapshot({ ...r, inv: { ...r.inv, etcd: { ...r.inv.etcd, version: from } } }, 'pre-upgrade');
}

/**
 * etcd 3.6+ lets members of the next lower minor join only once the downgrade is enabled: validated, then enabled,
 * through the quorum, before the first member gets the older binaries (etcd ends the downgrade by itself once every
 * member runs them).
 */
async function enableDowngrade(r: UpRun, probe: Remote, to: string): Promise<void> {
  const eps = endpointsOf(selectedUsable(r).map((h) => h.node));
  await etcdClient(probe, eps).downgrade('validate', to);
  await etcdClient(probe, eps).downgrade('enable', to);
  r.log(`downgrade to ${to} validated and enabled`);
}

/** The leader restarts last, once it has handed its leadership to a member already restarted (no election on its stop). */
async function handOffLeadership(r: UpRun, h: Connected<UpHost>, restarted: string[]): Promise<void> {
  const { members } = await memberList(h.remote, r.inv.nodes);
  const to = members.find((m) => m.name === restarted[restarted.length - 1]);
  if (!to) return;
  await retry(() => etcdClient(h.remote, [clientUrl(h.node)]).moveLeader(to.id), 10_000).then(
    () => r.log(`moved the leadership from ${h.node.name} to ${to.name}`),
    (e: Error) => r.log(`could not move the leadership from ${h.node.name} first (${e.message}): restarting it anyway`),
  );
}

/** A member that did not come back: put back on what it ran before, and started again. */
async function putBack(r: UpRun, h: Connected<UpHost>): Promise<void> {
  const paths = r.kept?.get(h.node.name) ?? [];
  try {
    await must(h.remote, putBackScript(paths), 'putting the previous files back');
    await must(h.remote, 'systemctl restart etcd.service', 'systemctl restart etcd', waitMsOf(r));
    r.kept?.delete(h.node.name);
    h.outcome.done.push(`put back its previous ${paths.join(', ')} and restarted it`);
    r.log(`${h.node.name}: put back its previous files and restarted it`);
  } catch (e) {
    r.log(`${h.node.name}: putting its previous files back failed: ${(e as Error).message}`);
  }
}

/** etcd raises the cluster version once every member runs the new minor: waited for, briefly, and said. */
async function awaitClusterVersion(r: UpRun, probe: Remote): Promise<void> {
  if (r.preflight?.kind !== 'upgrade') return;
  const want = r.preflight.to.split('.').slice(0, 2).join('.');
  const node = selectedUsable(r).find((h) => h.remote === probe)?.node;
  if (!node) return;
  let got: string | undefined;
  const deadline = Date.now() + Math.min(30_000, waitMsOf(r));
  while (Date.now() < deadline) {
    got = await clusterVersion(r.inv, probe, node);
    if (got?.startsWith(want)) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  r.log(got?.startsWith(want) ? `cluster version ${got}: every member runs ${r.preflight.to}` : `the cluster version is still ${got ?? 'unknown'} (wanted ${want}): 'hardway verify' shows each member's version`);
}

/** Drops the kept copies once the flow ended with every member healthy. */
const dropKept = step<UpRun>('drop the kept files', async (r) => {
  await eachHost(
    r.hosts,
    async (h) => {
      await must(h.remote, dropPreviousScript(r.kept!.get(h.node.name)!), 'removing the kept files');
    },
    { which: (h) => !!r.kept?.has(h.node.name) && h.outcome.status === 'ok' },
  );
});

/** For a member that is not healthy: when its etcd is not even running (failing, restarting), why, from its journal. */
async function notRunningReason(remote: Remote): Promise<string> {
  const active = await remote.run('systemctl is-active etcd.service', { timeoutMs: 15_000 }).catch(() => undefined);
  if (!active || active.stdout.trim() === 'active') return '';
  const journal = await remote.run(JOURNAL_REASON, { timeoutMs: 15_000 }).catch(() => undefined);
  const why = journal && journalReason(journal.stdout);
  return `; etcd is ${active.stdout.trim() || 'not running'}${why ? `, its journal: ${why}` : ''}`;
}

/**
 * The member table, and every selected node whose etcd is not healthy marked so. When the run changed nothing, the
 * cluster's answers from the start of the run are the answers now: not asked again.
 */
const finalHealth = step<UpRun>('check health', async (r) => {
  const probe = probeOf(r);
  if (!probe) return;
  const live = selectedUsable(r);
  const unchanged = r.hosts.every((h) => !h.outcome.done.length);
  const early = unchanged && r.live && r.live.asker === r.early?.host ? await r.early.answers : undefined;
  try {
    r.view = early ? clusterView(r.live!.members, early.health, early.status) : await clusterHealth(probe, r.inv, live.map((h) => h.node));
    for (const bad of r.view.health.filter((x) => !x.health)) {
      const h = live.find((x) => bad.endpoint.includes(`//${x.node.internalIp}:`));
      if (h) failHost(h, `etcd is not healthy: ${bad.error ?? 'no answer'}${await notRunningReason(h.remote)}`);
    }
  } catch (e) {
    for (const h of live) failHost(h, e);
  }
});

/**
 * `plan` only: what differs in each file to be rewritten that is not a unit (units are compared when planned):
 * certificates field by field, binaries by version, keys never shown. One read per such file, only then.
 */
const explainFiles = step<UpRun>('explain the differences', async (r) => {
  await eachHost(
    r.hosts,
    async (h) => {
      for (const f of h.plan?.files ?? []) {
        if (f.reason !== 'content differs' || f.diff) continue;
        if (f.role === 'key') f.diff = keyDiffLines();
        else if (f.role === 'cert' && f.file.source.data) {
          const have = await h.remote.run(`head -c 65536 ${shq(f.path)}`, { timeoutMs: 15_000 });
          f.diff = certDiffLines(have.stdout, f.file.source.data.toString('utf8'));
        } else if (f.role === 'binary') {
          // etcd says its version with --version; etcdctl and etcdutl with `version`.
          const ask = f.path === REMOTE_PATHS.etcd ? '--version' : 'version';
          const have = await h.remote.run(`${shq(f.path)} ${ask} 2>/dev/null | head -n 1`, { timeoutMs: 15_000 });
          f.diff = binaryDiffLines(have.stdout, f.file.source, r.inv.etcd.version);
        }
      }
    },
    { which: (h) => h.selected && !!h.plan && !h.plan.conflict },
  );
});

const printPlan = (print: (r: UpRun) => void) => step<UpRun>('print the plan', async (r) => print(r));

/**
 * Up to the plan: shared by `plan` and `up`. The nodes' trust is checked before pki.dir is issued or anything is
 * written: a missing pki.dir must not become a new CA over a running cluster (see certs/trust.ts).
 */
const planning: Step<UpRun>[] = [startRelease, connectStep<UpRun>(), askEarly, trustGuard<UpRun>((r) => r.installed), prepare, observe, ask, planNodes, judgeRelease, judge];

export const planSteps = (print: (r: UpRun) => void): Step<UpRun>[] => [...planning, explainFiles, printPlan(print)];

export const upSteps: Step<UpRun>[] = [...planning, perHost(updateMoved), perHost(writeFiles), perHost(rejoin), awaitStarted, perHost(restartTogether), perHost(rollingRestart), finalHealth, perHost(dropKept)];

/** Each step by name, for tests that run part of a flow over scripted hosts. */
export const upStep = { startRelease, askEarly, prepare, observe, ask, planNodes, judgeRelease, judge, updateMoved, writeFiles, rejoin, awaitStarted, restartTogether, rollingRestart, finalHealth };
