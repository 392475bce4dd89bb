import { chmod, mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { unknownName } from '../suggest.js';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.js';
import { info, warn } from '../output.js';
import { ensureBridge, removeBridge, setVethUp, vethAttached } from './net.js';
import {
  DEFAULT_BRIDGE,
  DEFAULT_CACHE_DIR,
  DEFAULT_NODES,
  DEFAULT_SUBNET,
  MAX_NODES,
  isSystemUp,
  knownHostsLine,
  parseBridge,
  parseSubnet,
  planNode,
  planResize,
  renderLabInventory,
  type LabNet,
} from './plan.js';
import { ensureHost, platformProblem } from './prereq.js';
import { ensureRootfs, removeTree, rootfsDir } from './rootfs.js';
import {
  bootNode,
  createNode,
  destroyNodeFs,
  isInitOf,
  isNodeRunning,
  nodeState,
  powerOffNode,
  systemState,
  waitReady,
  writeHosts,
} from './node.js';
import { readState, statePath, writeState, type LabState, type NodeState } from './state.js';
import { exists, linkExists, mountPointsUnder, run, unmountAll } from './sys.js';
import { isAlive } from '../processes.js';
import { ensureEtcdTarball } from './tarball.js';
import { DEFAULT_LAB_ETCD, type LabEtcd } from './debs.js';

/** `hardway lab up/down/status` and the per-node operations the e2e helpers use. */

export interface LabOptions {
  /** The lab directory (state, overlays, key, known_hosts, tarball, inventory). */
  dir: string;
  /** Bridge and subnet: only for a second lab next to the default one. */
  bridge?: string;
  subnet?: string;
  /** Base rootfs cache (default /var/cache/hardway, or HARDWAY_LAB_CACHE); trixie's etcd is cached there too. */
  cacheDir?: string;
  /** The etcd the inventory installs (default: as the running lab has it, else the host's 3.4). */
  etcd?: LabEtcd;
}

export interface LabNodeStatus {
  name: string;
  address: string;
  state: string;
}

export interface UpResult {
  noop: boolean;
  inventoryPath: string;
  nodes: LabNodeStatus[];
  added: string[];
  removed: string[];
  rootfsBuilt: boolean;
  /** The etcd release the inventory names (only when this run wrote the inventory). */
  etcd?: { version: string; tarball: string; fetched: boolean };
}

function paths(dir: string) {
  return {
    keyPath: path.join(dir, 'id_ed25519'),
    knownHostsPath: path.join(dir, 'known_hosts'),
    inventoryPath: path.join(dir, 'inventory.yaml'),
    pkiDir: path.join(dir, 'pki'),
    nodesDir: path.join(dir, 'nodes'),
    lockPath: path.join(dir, '.lock'),
  };
}

function cacheDirOf(opts: LabOptions): string {
  return path.resolve(opts.cacheDir ?? process.env.HARDWAY_LAB_CACHE ?? DEFAULT_CACHE_DIR);
}

function resolveNet(opts: LabOptions, prev?: LabState): LabNet {
  if (!opts.bridge && !opts.subnet && prev) return prev.net;
  return { bridge: parseBridge(opts.bridge ?? DEFAULT_BRIDGE), prefix: parseSubnet(opts.subnet ?? DEFAULT_SUBNET) };
}

/** One `lab up`/`down` at a time per lab dir; a lock left by a killed run (its PID gone) is taken over. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const { lockPath } = paths(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.write(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (!holder || !isAlive(holder) || holder === process.pid) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (attempt > 600) throw new OperationError(`${dir} is locked by process ${holder} (another hardway lab command)`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/** Serialises state writes (nodes boot in parallel). */
function stateWriter(state: LabState) {
  let chain: Promise<void> = Promise.resolve();
  return {
    update(node: NodeState | { remove: string }) {
      if ('remove' in node) state.nodes = state.nodes.filter((n) => n.name !== node.remove);
      else state.nodes = [...state.nodes.filter((n) => n.name !== node.name), node];
      chain = chain.then(() => writeState(state));
      return chain;
    },
    flush: () => (chain = chain.then(() => writeState(state))),
  };
}

/** Which lab dir uses a bridge: two labs on one bridge would fight over its veths. */
const OWNER_DIR = '/run/hardway-lab';

function ownerFile(bridge: string): string {
  return path.join(OWNER_DIR, `${bridge}.dir`);
}

async function checkBridgeOwner(net: LabNet, dir: string): Promise<void> {
  const owner = (await readFile(ownerFile(net.bridge), 'utf8').catch(() => '')).trim();
  if (!owner || owner === dir) return;
  const other = await readState(owner);
  for (const n of other?.nodes ?? []) {
    if (await isNodeRunning(n)) {
      throw new UsageError(
        `bridge ${net.bridge} (${net.prefix}.0/24) is used by the running lab in ${owner}: run 'hardway lab down --dir ${owner}' first, ` +
          `or give this lab its own --bridge and --subnet`,
      );
    }
  }
}

async function claimBridge(net: LabNet, dir: string): Promise<void> {
  await mkdir(OWNER_DIR, { recursive: true });
  await writeFile(ownerFile(net.bridge), `${dir}\n`);
}

async function releaseBridge(net: LabNet, dir: string): Promise<void> {
  const owner = (await readFile(ownerFile(net.bridge), 'utf8').catch(() => '')).trim();
  if (owner === dir) await rm(ownerFile(net.bridge), { force: true });
}

/** Nodes in the state file plus node directories it does not know (a state write lost to a kill). */
async function knownNodes(dir: string, net: LabNet, prev?: LabState): Promise<NodeState[]> {
  const nodes = [...(prev?.nodes ?? [])];
  for (const name of await readdir(paths(dir).nodesDir).catch(() => [] as string[])) {
    const m = /^controller-(\d+)$/.exec(name);
    if (!m || Number(m[1]) >= MAX_NODES || nodes.some((n) => n.name === name)) continue;
    nodes.push(nodeState(dir, planNode(net, Number(m[1]))));
  }
  for (const n of nodes) {
    // nspawn.pid is written the moment nspawn starts, before state.json knows about it.
    if (!n.pid) {
      const pid = Number((await readFile(path.join(n.dir, 'nspawn.pid'), 'utf8').catch(() => '')).trim());
      if (pid) n.pid = pid;
    }
  }
  return nodes;
}

/** Everything a killed run can leave of a node: processes (by recorded PID), mounts, veth, files. */
async function cleanStaleNode(node: NodeState): Promise<void> {
  await powerOffNode(node, 10_000);
  await destroyNodeFs(node);
}

async function nodeStatuses(state: LabState, nodes: NodeState[]): Promise<LabNodeStatus[]> {
  return Promise.all(
    nodes.map(async (n) => {
      let s = 'stopped';
      if (await isNodeRunning(n)) {
        s = await systemState(state, n.address, 1);
        if (!(await vethAttached(n.veth, state.net.bridge)) || !(await linkUpState(n.veth))) s = `${s} (link cut)`;
      }
      return { name: n.name, address: n.address, state: s };
    }),
  );
}

async function linkUpState(veth: string): Promise<boolean> {
  const flags = Number(await readFile(`/sys/class/net/${veth}/flags`, 'utf8').catch(() => '0'));
  return (flags & 1) === 1;
}

async function ensureKey(keyPath: string): Promise<string> {
  if (!(await exists(keyPath)) || !(await exists(`${keyPath}.pub`))) {
    await rm(keyPath, { force: true });
    await rm(`${keyPath}.pub`, { force: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hardway-lab', '-f', keyPath]);
  }
  await chmod(keyPath, 0o600);
  return readFile(`${keyPath}.pub`, 'utf8');
}

async function writeIfChanged(file: string, text: string, mode = 0o644): Promise<void> {
  const old = await readFile(file, 'utf8').catch(() => undefined);
  if (old !== text) await writeFile(file, text, { mode });
}

async function writeLabFiles(state: LabState, etcdVersion: string): Promise<void> {
  const { pkiDir } = paths(state.dir);
  const nodes = [...state.nodes].sort((a, b) => a.index - b.index);
  await writeIfChanged(state.knownHostsPath, nodes.map((n) => `${knownHostsLine(n.address, n.hostKey)}\n`).join(''), 0o600);
  await writeIfChanged(
    state.inventoryPath,
    renderLabInventory({
      nodes,
      keyPath: state.keyPath,
      knownHostsPath: state.knownHostsPath,
      tarballPath: state.tarballPath,
      etcdVersion,
      pkiDir,
    }),
  );
}

/** The result of a `lab up` with nothing to do, or undefined when a file is missing or a node does not answer. */
async function labAsItIs(prev: LabState, alive: NodeState[], keyPath: string, opts: LabOptions): Promise<UpResult | undefined> {
  const files = await Promise.all([keyPath, prev.knownHostsPath, prev.tarballPath, prev.inventoryPath].map(exists));
  if (!files.every(Boolean)) return undefined;
  const statuses = await nodeStatuses(prev, alive);
  if (!statuses.every((s) => isSystemUp(s.state))) return undefined;
  if (prev.rootfs !== rootfsDir(cacheDirOf(opts))) {
    warn(`the nodes run on an older base rootfs (its package list changed): 'hardway lab down && hardway lab up' rebuilds them`);
  }
  return { noop: true, inventoryPath: prev.inventoryPath, nodes: statuses, added: [], removed: [], rootfsBuilt: false };
}

/** What a `lab up` starts from: the last state, the nodes that run and those left by a killed run, what is wanted. */
interface LabSurvey {
  dir: string;
  p: ReturnType<typeof paths>;
  prev?: LabState;
  net: LabNet;
  alive: NodeState[];
  stale: NodeState[];
  wanted: number;
  etcd: LabEtcd;
}

async function surveyLab(dir: string, opts: LabOptions & { nodes?: number }): Promise<LabSurvey> {
  const prev = await readState(dir);
  const net = resolveNet(opts, prev);
  const candidates = await knownNodes(dir, net, prev);
  const alive: NodeState[] = [];
  const stale: NodeState[] = [];
  for (const n of candidates) ((await isNodeRunning(n)) ? alive : stale).push(n);
  if (prev && alive.length && (prev.net.bridge !== net.bridge || prev.net.prefix !== net.prefix)) {
    throw new UsageError(
      `the lab in ${dir} runs on ${prev.net.bridge} (${prev.net.prefix}.0/24); run 'hardway lab down' first to move it to ${net.bridge} (${net.prefix}.0/24)`,
    );
  }
  const wanted = opts.nodes ?? (alive.length || DEFAULT_NODES);
  const etcd = opts.etcd ?? (alive.length ? prev?.etcd : undefined) ?? DEFAULT_LAB_ETCD;
  return { dir, p: paths(dir), ...(prev ? { prev } : {}), net, alive, stale, wanted, etcd };
}

/** Leftovers of a run killed halfway: processes by recorded PID, mounts, veths, node dirs, an unused bridge. */
async function clearLeftovers({ p, net, alive, stale }: LabSurvey): Promise<void> {
  for (const n of stale) {
    info(`lab: cleaning up stale ${n.name} (left by an earlier run)`);
    await cleanStaleNode(n);
  }
  const aliveRoots = alive.map((n) => n.dir);
  for (const m of await mountPointsUnder(p.nodesDir)) {
    if (!aliveRoots.some((r) => m === r || m.startsWith(`${r}/`))) {
      info(`lab: unmounting stale ${m}`);
      await unmountAll(m);
    }
  }
  if (alive.length === 0 && (await linkExists(net.bridge))) {
    const r = await removeBridge(net.bridge, Array.from({ length: MAX_NODES }, (_, i) => planNode(net, i).veth));
    if (r === 'removed') info(`lab: removed stale bridge ${net.bridge}`);
  }
}

/** The state the run starts writing: the nodes that run, on the rootfs they were booted from. */
function startingState({ dir, p, prev, net, alive }: LabSurvey, rootfs: string): LabState {
  const state: LabState = {
    version: 1,
    dir,
    net,
    rootfs,
    bridge: net.bridge,
    keyPath: p.keyPath,
    knownHostsPath: p.knownHostsPath,
    tarballPath: prev?.tarballPath ?? '',
    // What the inventory names until the new one is written (a failed fetch leaves the lab as it was).
    ...(prev?.etcd ? { etcd: prev.etcd } : {}),
    inventoryPath: p.inventoryPath,
    nodes: [...alive],
  };
  if (alive.length > 0 && prev && prev.rootfs !== rootfs) {
    warn(`running nodes use an older base rootfs (${prev?.rootfs}); 'hardway lab down && hardway lab up' rebuilds them on the new one`);
    state.rootfs = prev.rootfs;
  }
  return state;
}

type StateWriter = ReturnType<typeof stateWriter>;

/** Powers off and removes the nodes past --nodes; returns their names. */
async function removeNodes(indexes: number[], { alive, wanted }: LabSurvey, writer: StateWriter): Promise<string[]> {
  const removed: string[] = [];
  for (const i of indexes) {
    const n = alive.find((a) => a.index === i)!;
    info(`lab: removing ${n.name} (--nodes ${wanted})`);
    await powerOffNode(n);
    await destroyNodeFs(n);
    await writer.update({ remove: n.name });
    removed.push(n.name);
  }
  return removed;
}

/** Creates and boots the nodes at `indexes` on the bridge, and tells every other node the new hosts; returns their names. */
async function addNodes(indexes: number[], { dir, p, net, wanted }: LabSurvey, state: LabState, writer: StateWriter): Promise<string[]> {
  await ensureBridge(net);
  await claimBridge(net, dir);
  const pub = await ensureKey(p.keyPath);
  const planned = Array.from({ length: wanted }, (_, i) => planNode(net, i));
  const added = indexes.map((i) => planned[i]!.name);
  if (added.length) info(`lab: booting ${added.join(', ')}…`);
  await Promise.all(
    indexes.map(async (i) => {
      let node = nodeState(dir, planned[i]!);
      node = await createNode(node, state.rootfs, pub, planned);
      await writer.update(node);
      node = await bootNode(node, net, state.rootfs);
      await writer.update(node);
    }),
  );
  await writer.flush();
  for (const n of state.nodes) if (!added.includes(n.name)) await writeHosts(n, planned);
  return added;
}

/** The etcd release tarball and the inventory naming it: the inventory first, then the state that says it is written (a run killed in between is redone). */
async function writeRelease({ dir, etcd }: LabSurvey, state: LabState, writer: StateWriter, opts: LabOptions) {
  const tarball = await ensureEtcdTarball(dir, etcd, cacheDirOf(opts));
  state.tarballPath = tarball.path;
  await writeLabFiles(state, tarball.version);
  state.etcd = etcd;
  await writer.flush();
  return tarball;
}

export async function labUp(opts: LabOptions & { nodes?: number }): Promise<UpResult> {
  await ensureHost();
  const dir = path.resolve(opts.dir);
  return withLock(dir, async () => {
    const lab = await surveyLab(dir, opts);
    await checkBridgeOwner(lab.net, dir);

    // Fast path: everything is there and answers.
    const { prev, alive, stale, wanted, etcd } = lab;
    const same = prev && stale.length === 0 && alive.length === wanted && alive.every((n) => n.index < wanted) && (prev.etcd ?? DEFAULT_LAB_ETCD) === etcd;
    const noop = same ? await labAsItIs(prev, alive, lab.p.keyPath, opts) : undefined;
    if (noop) return noop;

    await clearLeftovers(lab);
    const rootfs = await ensureRootfs(cacheDirOf(opts));
    if (rootfs.built) info(`lab: base rootfs built in ${rootfs.seconds.toFixed(0)} s: ${rootfs.dir}`);
    const state = startingState(lab, rootfs.dir);
    const writer = stateWriter(state);
    await writer.flush();

    const plan = planResize(
      alive.map((n) => n.index),
      wanted,
    );
    const removed = await removeNodes(plan.remove, lab, writer);
    const added = await addNodes(plan.add, lab, state, writer);
    const tarball = await writeRelease(lab, state, writer, opts);
    await Promise.all(state.nodes.map((n) => waitReady(state, n)));
    const nodes = await nodeStatuses(state, [...state.nodes].sort((a, b) => a.index - b.index));
    const etcdInfo = { version: tarball.version, tarball: tarball.path, fetched: tarball.fetched };
    return { noop: false, inventoryPath: state.inventoryPath, nodes, added, removed, rootfsBuilt: rootfs.built, etcd: etcdInfo };
  });
}

export interface DownResult {
  stopped: string[];
  bridge: 'removed' | 'absent' | string[];
}

export async function labDown(opts: LabOptions): Promise<DownResult> {
  await ensureHost({ install: false });
  const dir = path.resolve(opts.dir);
  if (!(await exists(dir))) return { stopped: [], bridge: 'absent' };
  return withLock(dir, async () => {
    const prev = await readState(dir);
    const net = resolveNet(opts, prev);
    const nodes = await knownNodes(dir, net, prev);
    const owner = (await readFile(ownerFile(net.bridge), 'utf8').catch(() => '')).trim();
    // Nothing of this lab is left, and the bridge is someone else's (or no one's): leave it alone.
    if (!prev && nodes.length === 0 && owner !== dir) return { stopped: [], bridge: 'absent' as const };
    await checkBridgeOwner(net, dir);
    const stopped: string[] = [];
    await Promise.all(
      nodes.map(async (n) => {
        if ((await isNodeRunning(n)) || (await isInitOf(n.initPid, n))) stopped.push(n.name);
        await powerOffNode(n);
        await destroyNodeFs(n);
      }),
    );
    await unmountAll(paths(dir).nodesDir);
    await removeTree(paths(dir).nodesDir);
    const veths = Array.from({ length: MAX_NODES }, (_, i) => planNode(net, i).veth);
    const bridge = await removeBridge(net.bridge, veths);
    await releaseBridge(net, dir);
    await rm(statePath(dir), { force: true });
    return { stopped: stopped.sort(), bridge };
  });
}

export interface StatusResult {
  dir: string;
  inventory: string;
  up: boolean;
  nodes: LabNodeStatus[];
}

export async function labStatus(opts: LabOptions): Promise<StatusResult> {
  const problem = platformProblem();
  if (problem) throw new UsageError(problem);
  const dir = path.resolve(opts.dir);
  const state = await readState(dir);
  const inventory = state?.inventoryPath ?? paths(dir).inventoryPath;
  if (!state) return { dir, inventory, up: false, nodes: [] };
  const nodes = await nodeStatuses(state, [...state.nodes].sort((a, b) => a.index - b.index));
  return { dir, inventory, up: nodes.length > 0 && nodes.every((n) => isSystemUp(n.state)), nodes };
}

/** The lab's state, or a usage error saying to run `lab up`. */
export async function requireState(dir: string): Promise<LabState> {
  const state = await readState(path.resolve(dir));
  if (!state || state.nodes.length === 0) throw new UsageError(`no lab in ${path.resolve(dir)}: run 'hardway lab up' first`);
  return state;
}

function requireNode(state: LabState, name: string): NodeState {
  const n = state.nodes.find((x) => x.name === name || x.address === name);
  const names = state.nodes.map((x) => x.name);
  if (!n) throw new UsageError(unknownName(`no node '${name}' in the lab`, name, names, `nodes: ${names.join(', ')}`));
  return n;
}

/** Powers a node off, keeping its overlay (its files survive until `startNode`). */
export async function stopNode(dirArg: string, name: string): Promise<void> {
  const dir = path.resolve(dirArg);
  await withLock(dir, async () => {
    const state = await requireState(dir);
    const node = requireNode(state, name);
    const off = await powerOffNode(node);
    await stateWriter(state).update(off);
  });
}

/** Boots a stopped node again on its kept overlay and waits until it is ready. No-op when it runs. */
export async function startNode(dirArg: string, name: string): Promise<void> {
  const dir = path.resolve(dirArg);
  await withLock(dir, async () => {
    const state = await requireState(dir);
    const node = requireNode(state, name);
    if (await isNodeRunning(node)) return;
    // A node killed rather than powered off may have left its container PID 1 behind.
    const clean = await powerOffNode(node, 5_000);
    await ensureBridge(state.net);
    const booted = await bootNode(clean, state.net, state.rootfs);
    await stateWriter(state).update(booted);
    await waitReady(state, booted);
  });
}

/** Cuts (down) or restores (up) the host side of a node's veth. */
export async function setLink(dirArg: string, name: string, up: boolean): Promise<void> {
  const state = await requireState(dirArg);
  const node = requireNode(state, name);
  if (!(await isNodeRunning(node))) throw new UsageError(`${node.name} is not running`);
  await setVethUp(node.veth, up);
}
