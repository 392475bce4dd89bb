import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, open, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import {
  formatMachineId,
  isSystemUp,
  nodeCgroupDirs,
  renderHostsFile,
  renderNetworkFile,
  type LabNet,
  type PlannedNode,
} from './plan.js';
import { removeTree } from './rootfs.js';
import { renderSlowDiskScript, SLOWDISK_SCRIPT_PATH } from './slowdisk.js';
import type { LabState, NodeState } from './state.js';
import { childrenOf, exists, isMountPoint, isNspawnOf, procStat, run, signal, sleep, unmountAll, waitFor } from './sys.js';
import { isAlive } from '../processes.js';

/** One node: its overlay, its files, its nspawn process. */

export function nodeState(labDir: string, p: PlannedNode): NodeState {
  const dir = path.join(labDir, 'nodes', p.name);
  return {
    index: p.index,
    name: p.name,
    address: p.address,
    machine: p.machine,
    veth: p.veth,
    dir,
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    root: path.join(dir, 'root'),
    log: path.join(dir, 'console.log'),
    machineId: '',
    hostKey: '',
  };
}

function checkOverlayPath(p: string): void {
  // mount -o lowerdir=…,upperdir=… cannot carry these characters.
  if (/[,:\s\\]/.test(p)) throw new OperationError(`lab path ${p} contains ',', ':', a space or '\\'; use another --dir`);
}

export function pidFile(node: NodeState): string {
  return path.join(node.dir, 'nspawn.pid');
}

export async function mountOverlay(node: NodeState, lower: string): Promise<void> {
  if (await isMountPoint(node.root)) return;
  for (const p of [lower, node.upper, node.work, node.root]) checkOverlayPath(p);
  await mkdir(node.upper, { recursive: true });
  await mkdir(node.work, { recursive: true });
  await mkdir(node.root, { recursive: true });
  await run('mount', ['-t', 'overlay', `hwlab-${node.machine}`, '-o', `lowerdir=${lower},upperdir=${node.upper},workdir=${node.work}`, node.root]);
}

/**
 * A fresh node: empty overlay on the base rootfs, then its own machine-id, hostname, address, SSH host key,
 * the lab's authorized key and the slow-disk wrapper. Returns the node with machineId and hostKey filled in.
 */
export async function createNode(node: NodeState, lower: string, labPubKey: string, allNodes: { name: string; address: string }[]): Promise<NodeState> {
  await destroyNodeFs(node);
  await mkdir(node.dir, { recursive: true, mode: 0o700 });
  await mountOverlay(node, lower);
  const r = node.root;
  const machineId = formatMachineId(randomBytes(16));
  await writeFile(path.join(r, 'etc/machine-id'), machineId);
  await writeFile(path.join(r, 'etc/hostname'), `${node.name}\n`);
  await writeFile(path.join(r, 'etc/hosts'), renderHostsFile(node.name, allNodes));
  await mkdir(path.join(r, 'etc/systemd/network'), { recursive: true });
  await writeFile(path.join(r, 'etc/systemd/network/10-hwlab-host0.network'), renderNetworkFile(node.address));
  // Its own host key: generated here, so the lab's known_hosts is written without trusting the network.
  const keyFile = path.join(r, 'etc/ssh/ssh_host_ed25519_key');
  await run('rm', ['-f', keyFile, `${keyFile}.pub`]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${node.name}`, '-f', keyFile]);
  const hostKey = (await readFile(`${keyFile}.pub`, 'utf8')).trim();
  await copyFile(`${keyFile}.pub`, path.join(node.dir, 'ssh_host_ed25519_key.pub'));
  await mkdir(path.join(r, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await chmod(path.join(r, 'root/.ssh'), 0o700);
  await writeFile(path.join(r, 'root/.ssh/authorized_keys'), `${labPubKey.trim()}\n`, { mode: 0o600 });
  await mkdir(path.join(r, path.dirname(SLOWDISK_SCRIPT_PATH)), { recursive: true });
  await writeFile(path.join(r, SLOWDISK_SCRIPT_PATH), renderSlowDiskScript(), { mode: 0o755 });
  return { ...node, machineId: machineId.trim(), hostKey };
}

/** Rewrites /etc/hosts of a node (through its mounted overlay), e.g. after nodes were added. */
export async function writeHosts(node: NodeState, allNodes: { name: string; address: string }[]): Promise<void> {
  if (await isMountPoint(node.root)) await writeFile(path.join(node.root, 'etc/hosts'), renderHostsFile(node.name, allNodes));
}

/** Unmounts and removes the node's directory (overlay upper/work, console log). The node must be stopped. */
export async function destroyNodeFs(node: NodeState): Promise<void> {
  await unmountAll(node.dir);
  await removeTree(node.dir);
}

/** This node's cgroups (see nodeCgroupDirs). */
async function nodeCgroups(node: NodeState): Promise<string[]> {
  const [mountinfo, own] = await Promise.all([readFile('/proc/self/mountinfo', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
  return nodeCgroupDirs(mountinfo, own, node.machine);
}

/** Removes a cgroup and its children, deepest first; one that still has processes stays (rmdir refuses). */
async function removeCgroupTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(path.join(dir, e.name));
  await rmdir(dir).catch(() => undefined);
}

/**
 * Boots the node detached: its own session, output to <node dir>/console.log, so that it outlives the
 * `hardway` process. Returns the node with pid and initPid.
 */
export async function bootNode(node: NodeState, net: LabNet, lower: string): Promise<NodeState> {
  await mountOverlay(node, lower);
  const log = await open(node.log, 'a');
  const args = [
    '-D', node.root,
    '-b',
    '--register=no',
    '--keep-unit',
    '-M', node.machine,
    `--hostname=${node.name}`,
    `--network-bridge=${net.bridge}`,
    '--link-journal=no',
    '--console=read-only',
    '--resolv-conf=off',
    '--timezone=off',
  ];
  // Its own cgroups, emptied of what an earlier boot left; one that cannot be made is done without (the old sharing).
  const cgroups: string[] = [];
  for (const dir of await nodeCgroups(node)) {
    await removeCgroupTree(dir);
    if (await mkdir(dir, { recursive: true }).then(() => true, () => false)) cgroups.push(dir);
  }
  // sh moves itself into them, then becomes nspawn (same PID, so the recorded PID is nspawn's).
  const enter = 'printf "%s\\n" "$HARDWAY_LAB_CGROUPS" | while IFS= read -r d; do [ -z "$d" ] || echo $$ > "$d/cgroup.procs"; done 2>/dev/null; exec systemd-nspawn "$@"';
  let child;
  try {
    await log.write(`\n--- hardway lab: booting ${node.name} at ${new Date().toISOString()} in ${cgroups.join(', ') || 'our cgroup'}: systemd-nspawn ${args.join(' ')}\n`);
    child = spawn('sh', ['-c', enter, 'systemd-nspawn', ...args], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: { ...process.env, HARDWAY_LAB_CGROUPS: cgroups.join('\n') },
    });
  } finally {
    await log.close();
  }
  const pid = child.pid;
  if (!pid) throw new OperationError(`cannot start systemd-nspawn for ${node.name}`);
  // Recorded at once: a run killed before state.json is written still leaves the PID to clean up by.
  writeFileSync(pidFile(node), `${pid}\n`);
  child.unref();
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  // The container's PID 1 is nspawn's child once it has set up the namespaces.
  let initPid: number | undefined;
  await waitFor(
    async () => {
      if (exited !== null) return true;
      for (const c of await childrenOf(pid)) {
        const st = await procStat(c);
        if (st && st.comm === 'systemd') initPid = c;
      }
      return initPid !== undefined;
    },
    30_000,
    50,
  );
  if (exited !== null || !initPid) {
    const tail = (await readFile(node.log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
    if (exited === null) signal(pid, 'SIGKILL');
    throw new OperationError(`${node.name}: systemd-nspawn did not boot (see ${node.log}):\n${tail}`);
  }
  return { ...node, pid, initPid };
}

/** Is this PID the node's container PID 1 (its root is the node's overlay)? Survives nspawn being killed. */
export async function isInitOf(pid: number | undefined, node: NodeState): Promise<boolean> {
  if (!pid || !isAlive(pid)) return false;
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  if (!environ.split('\0').includes('container=systemd-nspawn')) return false;
  const mountinfo = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
  return mountinfo.split('\n').some((l) => l.split(' ')[4] === '/' && l.includes(`upperdir=${node.upper}`));
}

export async function isNodeRunning(node: NodeState): Promise<boolean> {
  return isNspawnOf(node.pid, node.root);
}

/**
 * Powers the node off: SIGTERM makes nspawn ask the container's systemd for an orderly shutdown; after
 * `timeoutMs` the container's PID 1 and nspawn are killed. Only the recorded PIDs, after checking they are
 * still the lab's (cmdline / root), are ever signalled.
 */
export async function powerOffNode(node: NodeState, timeoutMs = 30_000): Promise<NodeState> {
  const nspawn = (await isNodeRunning(node)) ? node.pid : undefined;
  const init = (await isInitOf(node.initPid, node)) ? node.initPid : undefined;
  if (nspawn) {
    signal(nspawn, 'SIGTERM');
    const done = await waitFor(() => !isAlive(nspawn), timeoutMs, 100);
    if (!done) {
      if (init && (await isInitOf(init, node))) signal(init, 'SIGKILL');
      await waitFor(() => !isAlive(nspawn), 5_000, 100);
      if (isAlive(nspawn) && (await isNspawnOf(nspawn, node.root))) signal(nspawn, 'SIGKILL');
      await waitFor(() => !isAlive(nspawn), 5_000, 100);
    }
  }
  // An orphaned container (its nspawn was killed): killing PID 1 ends its whole PID namespace.
  if (init && (await isInitOf(init, node))) {
    signal(init, 'SIGKILL');
    await waitFor(() => !isAlive(init), 10_000, 100);
  }
  // The host side of the veth goes with the container's network namespace; wait for it.
  await waitFor(async () => !(await exists(`/sys/class/net/${node.veth}`)), 5_000, 100);
  if (await exists(`/sys/class/net/${node.veth}`)) await run('ip', ['link', 'del', node.veth], { allowFail: true });
  await rm(pidFile(node), { force: true });
  for (const dir of await nodeCgroups(node)) await removeCgroupTree(dir);
  const { pid: _p, initPid: _i, ...rest } = node;
  return rest;
}

/** Runs a command on a node over the lab's SSH key and known_hosts (plain OpenSSH). */
export async function sshNode(
  state: Pick<LabState, 'keyPath' | 'knownHostsPath'>,
  address: string,
  command: string,
  opts: { timeoutMs?: number; connectTimeoutS?: number } = {},
) {
  return run('ssh', [...sshOptions(state, opts.connectTimeoutS ?? 3), `root@${address}`, command], {
    allowFail: true,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
}

export function sshOptions(state: Pick<LabState, 'keyPath' | 'knownHostsPath'>, connectTimeoutS = 3): string[] {
  return [
    '-F', 'none',
    '-i', state.keyPath,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${state.knownHostsPath}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${connectTimeoutS}`,
    '-o', 'LogLevel=ERROR',
  ];
}

/** `systemctl is-system-running` over SSH, or 'unreachable'. */
export async function systemState(state: Pick<LabState, 'keyPath' | 'knownHostsPath'>, address: string, connectTimeoutS = 2): Promise<string> {
  const r = await sshNode(state, address, 'systemctl is-system-running', { timeoutMs: (connectTimeoutS + 5) * 1000, connectTimeoutS });
  const out = r.stdout.trim();
  return r.exitCode === 255 || !out ? 'unreachable' : out;
}

/** Waits until the node answers SSH and systemd says running or degraded. */
export async function waitReady(state: Pick<LabState, 'keyPath' | 'knownHostsPath'>, node: NodeState, timeoutMs = 120_000): Promise<void> {
  let last = 'unreachable';
  const ok = await waitFor(
    async () => {
      if (!(await isNodeRunning(node))) throw new OperationError(`${node.name}: systemd-nspawn exited while booting (see ${node.log})`);
      last = await systemState(state, node.address);
      return isSystemUp(last);
    },
    timeoutMs,
    250,
  );
  if (!ok) throw new OperationError(`${node.name} (${node.address}) is not ready after ${timeoutMs / 1000} s: ${last} (see ${node.log})`);
}

export { sleep };
