import { peerUrl } from '../inventory/derive.js';
import { REMOTE_PATHS } from '../render/paths.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { DesiredFile, DesiredNode, FileRole } from './desired.js';
import { computeClusterId, computeMemberId, hexId } from '../etcd/ids.js';
import { execStartArgv } from '../render/unit-flags.js';
import { argvDiffers, compareUnits, unitDiffLines } from './unit-diff.js';
import type { ObservedFile, ObservedNode } from './observe.js';

/** The diff between what a node has and what it should have, and what `up` will do about it. Pure. */

export type FileReason = 'missing' | 'content differs' | 'mode differs';

export interface FileAction {
  path: string;
  mode: number;
  role: FileRole;
  reason: FileReason;
  /** false when only the mode differs (chmod, no transfer). */
  upload: boolean;
  /** For a unit whose content differs: what differs, flag by flag (see unit-diff.ts). */
  diff?: string[];
  /**
   * Written without a restart: a unit that differs only in what etcd does not see (defaults, bootstrap flags), or a
   * leaf certificate or key from the same CA (etcd reads them again for every new connection).
   */
  noRestart?: boolean;
  /**
   * It changes what the running member does, so it is written only just before that member's own restart (the
   * rolling restart), never ahead: what is on disk can always start what runs, should the run stop halfway.
   */
  needsRestart?: boolean;
  bytes: number;
  file: DesiredFile;
}

export interface DirAction {
  path: string;
  mode: number;
  reason: 'missing' | 'mode differs';
}

/** new: no data yet; member: holds this cluster's member; foreign: holds something else (nothing is done). */
export type NodeState = 'new' | 'member' | 'foreign';

export interface NodePlan {
  node: string;
  state: NodeState;
  running: boolean;
  /** Why nothing will be done on this node (data from another cluster or member). */
  conflict?: string;
  /**
   * This empty node must join the running cluster as `existing`: its old member (wiped or replaced node) is removed,
   * it is added unless the cluster already lists it as added-but-unstarted, then started.
   */
  rejoin?: {
    removeId?: string;
    add: boolean;
    /** Its etcd is in a crash loop on the empty dir (`member … has already been bootstrapped`): stopped before anything else. */
    stopFirst?: boolean;
    /**
     * Its data dir holds a member this cluster removed (`recover` rebuilt without it, or `etcdctl member remove`):
     * etcd never lets that member back, so the dir is moved aside (never deleted) and the node joins as a new member.
     */
    moveAside?: { memberId: string };
  };
  dirs: DirAction[];
  files: FileAction[];
  daemonReload: boolean;
  enable: boolean;
  start: boolean;
  restart: boolean;
  /** Why a member whose files are all right is restarted: it runs something else than they say. */
  stale?: string;
  /**
   * Its member (the ID in its WAL, and its name) is in the running cluster under another peer URL: the node moved to
   * another address. `up` runs `member update` from the quorum before the member starts on the new one.
   */
  moved?: { memberId: string; from: string[]; to: string };
}

export interface ClusterPlan {
  nodes: NodePlan[];
  /** bootstrap: no member runs, start all together; rolling: restart changed members one at a time. */
  mode: 'bootstrap' | 'rolling';
  changed: boolean;
}

export function fileChange(want: DesiredFile, have: ObservedFile | undefined): FileAction | undefined {
  const base = { path: want.path, mode: want.mode, role: want.role, file: want };
  if (!have?.exists) return { ...base, reason: 'missing', upload: true, bytes: want.source.size };
  if (have.sha256 !== want.source.sha256) return { ...base, reason: 'content differs', upload: true, bytes: want.source.size };
  if (have.mode !== want.mode) return { ...base, reason: 'mode differs', upload: false, bytes: 0 };
  return undefined;
}

/** What a running member says about the cluster: its ID and members (hex IDs). */
export interface LiveCluster {
  clusterId: string;
  members: { id: string; name: string; peerURLs: string[] }[];
}

/**
 * Members of the running cluster that no inventory node's peer URL matches (a node taken out of the inventory).
 * `up` only says so: removing a member changes the quorum, which is the user's call.
 */
export function membersNotInInventory(inv: Inventory, live: LiveCluster, moved: string[] = []): string[] {
  return live.members
    .filter((m) => !inv.nodes.some((n) => m.peerURLs.includes(peerUrl(n))) && !moved.includes(m.id))
    .map(
      (m) =>
        `member ${m.id} (${m.name || 'unstarted'}, ${m.peerURLs.join(',')}) of the running cluster is not in ${inv.file}: up does not remove members, ` +
        `and the quorum counts it until it is removed ('etcdctl member remove ${m.id}', then stop etcd on that machine)`,
    );
}

/** The cluster ID etcd computes when it bootstraps this inventory's members (peer URLs and token). */
function bootstrapClusterId(inv: Inventory): bigint {
  return computeClusterId(inv.nodes.map((n) => computeMemberId([peerUrl(n)], inv.cluster.token)));
}

/** What the nodes' WALs tell when no member runs to ask (see offlineView). */
export interface OfflineView {
  /**
   * The cluster the nodes' data belongs to when it is not the one this inventory would bootstrap (the inventory grew
   * or shrank since, or members were re-added): the only such cluster on the nodes, and one at least of its members
   * has the ID etcd gave it at bootstrap with this token and this node's peer URL, so it is this cluster's lineage.
   */
  cluster?: bigint;
  /** Some node holds data this inventory would not bootstrap (any cluster but the bootstrap one, or an unreadable WAL). */
  foreignData: boolean;
  /** A member is active but did not answer `member list`: what the cluster is cannot be told. */
  unanswered?: string;
}

export function offlineView(inv: Inventory, observed: { node: NodeSpec; have: ObservedNode }[], unanswered?: string): OfflineView {
  if (inv.cluster.initialState !== 'new') return { foreignData: false, ...(unanswered ? { unanswered } : {}) };
  const bootstrap = bootstrapClusterId(inv);
  const others = observed.filter((o) => o.have.hasData && o.have.wal?.clusterId !== bootstrap);
  const lineage = new Set(
    others.flatMap((o) => (o.have.wal && o.have.wal.memberId === computeMemberId([peerUrl(o.node)], inv.cluster.token) ? [o.have.wal.clusterId] : [])),
  );
  const clusters = new Set(others.map((o) => o.have.wal?.clusterId));
  const cluster = lineage.size === 1 && clusters.size === 1 ? [...lineage][0] : undefined;
  return { foreignData: others.length > 0, ...(cluster !== undefined ? { cluster } : {}), ...(unanswered ? { unanswered } : {}) };
}

/**
 * Explains a data dir that does not hold this inventory's member, or undefined when it does (or is empty). With a
 * running cluster to ask, its cluster ID and member list decide (a member re-added by `up` has a new, time-based ID);
 * otherwise the IDs etcd computes at bootstrap from the peer URLs and the token, or, when the nodes hold this
 * cluster as it grew or shrank (`offline.cluster`), that cluster ID and no other node's bootstrap ID.
 */
export function dataConflict(inv: Inventory, want: DesiredNode, have: ObservedNode, live?: LiveCluster, offline?: OfflineView): string | undefined {
  const dir = inv.etcd.dataDir;
  const choices =
    `Nothing on ${want.node.name} was changed. Choices: ` +
    `(1) reset that node: on it, 'systemctl stop etcd && mv ${dir} ${dir}.old-$(date +%s)' (keeps the old data aside), then run 'hardway up' again` +
    `${live ? ' (it joins the running cluster as a new member)' : ''}; ` +
    `(2) if it is a member of a running cluster you want to keep, set cluster.initialState: existing in the inventory and add it with 'etcdctl member add'.`;
  if (!have.wal) {
    // An unreadable WAL next to data of another cluster: nothing to tell which one it belongs to.
    return have.hasData && !live && offline?.foreignData ? `${dir} has a WAL that cannot be read, and other nodes hold data of another cluster. ${choices}` : undefined;
  }
  const walMember = hexId(have.wal.memberId);
  const walCluster = hexId(have.wal.clusterId);
  if (live) {
    if (walCluster !== live.clusterId) return `${dir} holds member ${walMember} of cluster ${walCluster}, but the running cluster is ${live.clusterId}. ${choices}`;
    const m = live.members.find((x) => x.id === walMember);
    // A member this cluster removed: planned as a re-join with the dir moved aside (see removedMember).
    if (!m) return undefined;
    if (!m.peerURLs.includes(peerUrl(want.node)) && !movedMember(inv, want.node, have, live)) {
      return `${dir} holds member ${walMember} (${m.name || 'unstarted'}, ${m.peerURLs.join(',')}), not ${want.node.name} at ${peerUrl(want.node)}. ${choices}`;
    }
    return undefined;
  }
  if (inv.cluster.initialState !== 'new') return undefined;
  const expectedMember = computeMemberId([peerUrl(want.node)], inv.cluster.token);
  const elsewhere = inv.nodes.find((n) => n.name !== want.node.name && computeMemberId([peerUrl(n)], inv.cluster.token) === have.wal!.memberId);
  if (elsewhere) return `${dir} holds member ${walMember}, which is ${elsewhere.name}'s (${peerUrl(elsewhere)}), not ${want.node.name}'s. ${choices}`;
  if (offline?.cluster !== undefined) {
    // The peer URL of a re-added member (time-based ID) cannot be checked until the cluster runs: its cluster can.
    if (have.wal.clusterId === offline.cluster) return undefined;
    return `${dir} holds member ${walMember} of cluster ${walCluster}, but this inventory's nodes hold cluster ${hexId(offline.cluster)}. ${choices}`;
  }
  const expectedCluster = bootstrapClusterId(inv);
  if (have.wal.clusterId !== expectedCluster) {
    return (
      `${dir} holds member ${walMember} of cluster ${walCluster}, ` +
      `not of this inventory's cluster ${hexId(expectedCluster)} (token '${inv.cluster.token}', ${inv.nodes.length} members). ${choices}`
    );
  }
  if (have.wal.memberId !== expectedMember) {
    return `${dir} holds member ${walMember}, which is not in the inventory (${want.node.name} would be ${hexId(expectedMember)}). ${choices}`;
  }
  return undefined;
}

/** The member ID in the node's WAL when it is of the running cluster but no longer in its member list (it was removed). */
export function removedMember(have: ObservedNode, live: LiveCluster): string | undefined {
  if (!have.wal || hexId(have.wal.clusterId) !== live.clusterId) return undefined;
  const id = hexId(have.wal.memberId);
  return live.members.some((m) => m.id === id) ? undefined : id;
}

/**
 * The node's own member, under another peer URL than the inventory now gives the node: its WAL holds that member's
 * ID, the member has the node's name, and no other inventory node has that URL. etcd's way for a changed address is
 * `member update` from the quorum, then the member restarted on the new one: its ID and data are kept.
 */
export function movedMember(inv: Inventory, node: NodeSpec, have: ObservedNode, live: LiveCluster): NodePlan['moved'] | undefined {
  if (!have.wal) return undefined;
  const m = live.members.find((x) => x.id === hexId(have.wal!.memberId));
  if (!m || m.peerURLs.includes(peerUrl(node))) return undefined;
  if (m.name && m.name !== node.name) return undefined;
  if (inv.nodes.some((n) => n.name !== node.name && m.peerURLs.includes(peerUrl(n)))) return undefined;
  return { memberId: m.id, from: m.peerURLs, to: peerUrl(node) };
}

/** Why an empty node must not be started now, with --initial-cluster-state=new, when no member runs to join. */
function emptyNodeMustWait(name: string, offline: OfflineView): string | undefined {
  const unchanged = `Nothing on ${name} was changed`;
  if (offline.unanswered) {
    return `${name} is empty, and a member runs but did not answer 'member list' (${offline.unanswered}): started now, ${name} could bootstrap a second cluster. ${unchanged}; run 'hardway verify' to see the cluster, then 'hardway up' again.`;
  }
  if (offline.cluster !== undefined) {
    return `${name} is empty and can join the cluster the other nodes hold (${hexId(offline.cluster)}) only while it runs, and none of its members is running. ${unchanged}; this run starts the others: run 'hardway up' again to add ${name}.`;
  }
  if (offline.foreignData) {
    return `${name} is empty, and other nodes hold data this inventory would not bootstrap (see their conflicts): started now, ${name} could bootstrap a second cluster next to it. ${unchanged}; settle those nodes first.`;
  }
  return undefined;
}

export function planNode(inv: Inventory, want: DesiredNode, have: ObservedNode, live?: LiveCluster, offline?: OfflineView): NodePlan {
  const running = have.unit.active === 'active' || have.unit.active === 'activating' || have.unit.active === 'reloading';
  const conflict = dataConflict(inv, want, have, live, offline) ?? (!live && offline && !have.hasData ? emptyNodeMustWait(want.node.name, offline) : undefined);
  const empty = { dirs: [], files: [], daemonReload: false, enable: false, start: false, restart: false };
  if (conflict) return { node: want.node.name, state: 'foreign', running, conflict, ...empty };

  const dirs: DirAction[] = [];
  for (const d of want.dirs) {
    const h = have.dirs.get(d.path);
    if (!h?.exists) dirs.push({ ...d, reason: 'missing' });
    else if (h.mode !== d.mode) dirs.push({ ...d, reason: 'mode differs' });
  }
  const files = want.files
    .map((f) => fileChange(f, have.files.get(f.path)))
    .filter((f): f is FileAction => !!f)
    // A member with data ignores --initial-cluster-state: a unit differing only there needs no rewrite or restart.
    .filter((f) => !(f.role === 'unit' && f.reason === 'content differs' && have.hasData && f.file.source.stateFreeSha256 !== undefined && f.file.source.stateFreeSha256 === have.unitStateFreeSha256));
  const wantUnit = want.files.find((f) => f.role === 'unit')?.source.data?.toString('utf8');
  for (const f of files) {
    if (f.role !== 'unit' || f.reason !== 'content differs' || !have.unitText || wantUnit === undefined) continue;
    const c = compareUnits(have.unitText, wantUnit, inv.etcd.version, have.hasData);
    f.diff = unitDiffLines(c, have.hasData);
    // Only flags read at bootstrap: said as such below (bootstrapOnly), not as a no-restart edit.
    const onlyBootstrap = have.hasData && f.file.source.bootstrapFreeSha256 !== undefined && f.file.source.bootstrapFreeSha256 === have.unitBootstrapFreeSha256;
    if (!c.restartNeeded && !onlyBootstrap) f.noRestart = true;
  }
  // etcd reads its own certificate and key again for every new TLS connection (since 3.2; not its trusted CA file):
  // a new leaf from the same CA takes effect without a restart, so a reissued kubernetes.pem restarts nobody.
  if (!files.some((f) => f.path === REMOTE_PATHS.caCert && f.upload)) {
    for (const f of files) if ((f.path === REMOTE_PATHS.cert || f.path === REMOTE_PATHS.key) && f.upload) f.noRestart = true;
  }
  const unitChanged = files.some((f) => f.role === 'unit' && f.upload);
  // A mode fix does not change what etcd runs or reads, so it restarts nothing; nor does a unit that differs only in
  // flags a member with data ignores (a node added to the cluster changes everyone's --initial-cluster).
  const bootstrapOnly = (f: FileAction) =>
    f.role === 'unit' && have.hasData && f.file.source.bootstrapFreeSha256 !== undefined && f.file.source.bootstrapFreeSha256 === have.unitBootstrapFreeSha256;
  for (const f of files) if (f.upload && !bootstrapOnly(f) && !f.noRestart) f.needsRestart = true;
  const contentChanged = files.some((f) => f.needsRestart);
  const stale = running && !contentChanged ? staleReason(have, wantUnit, inv.etcd.version) : undefined;
  const moved = live ? movedMember(inv, want.node, have, live) : undefined;
  return {
    node: want.node.name,
    state: have.hasData ? 'member' : 'new',
    running,
    dirs,
    files,
    daemonReload: unitChanged || have.unit.needsDaemonReload,
    enable: have.unit.enabled !== 'enabled',
    start: !running,
    restart: running && (contentChanged || !!stale),
    ...(stale ? { stale } : {}),
    ...(moved ? { moved } : {}),
  };
}

/**
 * A running etcd that is not what its files say: its binary was replaced on disk, or it was started with other
 * flags than the ExecStart systemd has loaded, drop-ins included (or, when systemd has not reloaded the unit yet, than
 * the unit this run reloads); bootstrap-only flags aside. What a run killed after writing the files, or a rolling
 * restart stopped halfway, leaves: the files already match, so only the process tells.
 */
export function staleReason(have: ObservedNode, unitText?: string, version = ''): string | undefined {
  if (!have.running) return undefined;
  if (have.running.binaryReplaced) return 'the running etcd binary was replaced on disk after it started';
  // Not reloaded yet (a run killed before daemon-reload): this run reloads, so the file's ExecStart is what counts.
  const loaded = have.unit.needsDaemonReload ? (unitText ? execStartArgv(unitText) : undefined) : have.loadedExecStart;
  if (!loaded) return undefined;
  // systemd shows the loaded argv joined by spaces, unquoted and unexpanded: compare only plain arguments, both
  // sides split alike, and only when the same program runs (a wrapper such as the lab's slow disk is left alone).
  const words = (argv: string[]) => argv.join(' ').split(' ').filter(Boolean);
  const [wanted, actual] = [words(loaded), words(have.running.args)];
  if (wanted[0] !== actual[0] || wanted.some((w) => /["'$\\%]/.test(w))) return undefined;
  // A flag given its default on one side and left out on the other is the same to etcd.
  const differ = argvDiffers(actual, wanted, version).map((c) => `--${c.flag}`);
  if (!differ.length) return undefined;
  return `the running etcd was started with other flags than its unit (${differ.join(', ')})`;
}

/** `othersRunning`: a member runs on a node outside `nodes` (not named by --nodes): its quorum is kept too. */
export function planCluster(nodes: NodePlan[], othersRunning = false): ClusterPlan {
  const anyRunning = othersRunning || nodes.some((n) => n.running);
  const changed = nodes.some(
    (n) => n.conflict || n.dirs.length || n.files.length || n.daemonReload || n.enable || n.start || n.restart || n.moved,
  );
  return { nodes, mode: anyRunning ? 'rolling' : 'bootstrap', changed: !!changed };
}

/** Restart order for a rolling update: followers first, the leader last, so the cluster elects once at most. */
export function rollingOrder(plans: NodePlan[], leader?: string): NodePlan[] {
  const toRestart = plans.filter((p) => p.restart);
  return [...toRestart.filter((p) => p.node !== leader), ...toRestart.filter((p) => p.node === leader)];
}

