/**
 * Helpers for e2e tests on the lab that test/e2e/global-setup.ts brings up once per run (3 nodes,
 * controller-0…2 at .10…12 of the e2e lab's own subnet — 10.240.3.0/24 on hwlab3 unless HARDWAY_E2E_BRIDGE /
 * HARDWAY_E2E_SUBNET say otherwise —, real systemd, sshd and journald in each). Never hard-code its addresses,
 * bridge or machine names: take them from `lab()` (node names, controller-<i>, are the inventory's and fixed).
 *
 *   import { describeLab, lab, sshRun, wipeNode, runHardway } from './lab-helpers.js';
 *
 *   describeLab('hardway up', () => {
 *     beforeAll(() => Promise.all(lab().nodes.map((n) => wipeNode(n))));
 *     it('bootstraps', async () => {
 *       const r = await runHardway(['up', '-i', lab().inventoryPath]);
 *       expect(r.exitCode).toBe(0);
 *       expect((await sshRun('controller-0', 'systemctl is-active etcd')).stdout.trim()).toBe('active');
 *     });
 *   });
 *
 * Rules of the shared lab: e2e files run one after another (fileParallelism: false) on the same nodes, so a
 * test starts from `wipeNode` (or wipes in beforeAll) instead of assuming fresh nodes, and gives back what it
 * broke (restoreLink, startNode, fastDisk) in a `finally` or afterEach. Every command here goes to a node's
 * address on the lab bridge; nothing targets any other address.
 *
 * A node is given as its name ('controller-1'), its address, an index (1) or a LabNode.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, inject } from 'vitest';
import * as labCore from '../../src/lab/lab.js';
import { sshOptions as labSshOptions } from '../../src/lab/node.js';
import { renderSlowDiskDropIn, slowDiskDropInPath } from '../../src/lab/slowdisk.js';
import type { LabState } from '../../src/lab/state.js';

/** What global-setup provides to every test file (vitest provide/inject). */
export interface ProvidedLab {
  /** Set when the lab cannot run here (not Linux, not root): lab tests are skipped. */
  skip?: string;
  dir?: string;
  inventoryPath?: string;
  /** The bridge and subnet (`10.240.3.0/24`) global-setup asked `lab up` for. */
  bridge?: string;
  subnet?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    lab: ProvidedLab;
  }
}

export interface LabNode {
  name: string;
  address: string;
  index: number;
  /** systemd-nspawn's machine name: `<bridge>-n<index>` on any bridge but hwlab0 (its cgroup is `hardway-<machine>`). */
  machine: string;
  /** Host side of the node's veth on the lab bridge (`vb-<machine>`). */
  veth: string;
}

export interface Lab {
  /** The lab directory (absolute). */
  dir: string;
  /** The lab's ready inventory.yaml (absolute paths inside). */
  inventoryPath: string;
  nodes: LabNode[];
  /** The lab's SSH private key (ed25519, 0600) and known_hosts with every node's host key. */
  keyPath: string;
  knownHostsPath: string;
  /** etcd-v3.4.23-linux-amd64.tar.gz, laid out like an upstream release. */
  tarballPath: string;
  bridge: string;
  /** The lab's /24, e.g. `10.240.3.0/24`; the host is at .1, controller-<i> at .(10+i). */
  subnet: string;
}

export type NodeRef = string | number | LabNode;

export interface CmdResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function provided(): ProvidedLab {
  try {
    return inject('lab') ?? { skip: 'global setup provided no lab' };
  } catch {
    return { skip: 'not running under vitest with test/e2e/global-setup.ts' };
  }
}

/** Why the lab is not available (tests skip), or undefined when it is up. */
export function labSkipReason(): string | undefined {
  return provided().skip;
}

/** `describe` that skips (global setup already said why, in one line) when there is no lab. */
export const describeLab: typeof describe.skip = ((name: string, fn: () => void, ...rest: unknown[]) =>
  (describe.skipIf(labSkipReason() !== undefined) as unknown as (...a: unknown[]) => void)(name, fn, ...rest)) as typeof describe.skip;

function readLabState(): LabState {
  const p = provided();
  if (p.skip || !p.dir) throw new Error(`no lab: ${p.skip ?? 'not provided'}`);
  return JSON.parse(readFileSync(path.join(p.dir, 'state.json'), 'utf8')) as LabState;
}

/** The lab as it is now (re-read each call: stop/start change it). */
export function lab(): Lab {
  const s = readLabState();
  return {
    dir: s.dir,
    inventoryPath: s.inventoryPath,
    nodes: [...s.nodes]
      .sort((a, b) => a.index - b.index)
      .map((n) => ({ name: n.name, address: n.address, index: n.index, machine: n.machine, veth: n.veth })),
    keyPath: s.keyPath,
    knownHostsPath: s.knownHostsPath,
    tarballPath: s.tarballPath,
    bridge: s.net.bridge,
    subnet: `${s.net.prefix}.0/24`,
  };
}

/** The bridge and subnet global-setup asked for (to check the lab against; `lab()` reads what it runs on). */
export function requestedNet(): { bridge: string; subnet: string } {
  const p = provided();
  if (p.skip || !p.bridge || !p.subnet) throw new Error(`no lab: ${p.skip ?? 'no bridge and subnet provided'}`);
  return { bridge: p.bridge, subnet: p.subnet };
}

/** An address (or any text) as a literal inside a RegExp. */
export function reLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Resolves a node by name, address, index or object. */
export function node(ref: NodeRef): LabNode {
  const nodes = lab().nodes;
  const n =
    typeof ref === 'number'
      ? nodes.find((x) => x.index === ref)
      : typeof ref === 'string'
        ? nodes.find((x) => x.name === ref || x.address === ref)
        : nodes.find((x) => x.name === ref.name);
  if (!n) throw new Error(`no lab node ${JSON.stringify(ref)} (nodes: ${nodes.map((x) => x.name).join(', ')})`);
  return n;
}

/**
 * The options of a plain OpenSSH `ssh` to a lab node: the lab key, the lab known_hosts, strict host key
 * checking, no agent, no user config. `ssh ...sshOptions() root@<address> <cmd>`.
 */
export function sshOptions(connectTimeoutS = 5): string[] {
  // The lab's own options (strict host keys against the lab known_hosts), without an agent, with keepalives.
  return [...labSshOptions(lab(), connectTimeoutS), '-o', 'IdentityAgent=none', '-o', 'ServerAliveInterval=5'];
}

export interface SshRunOptions {
  /** Whole command timeout (default 60 s); a timeout gives exitCode 124. */
  timeoutMs?: number;
  /** ssh's ConnectTimeout in seconds (default 5). */
  connectTimeoutS?: number;
  /** stdin for the remote command. */
  input?: string | Buffer;
  /** Throw (with stderr) unless the command exits 0. Default false: look at exitCode (255 = ssh failed). */
  check?: boolean;
}

/** Runs a shell command on a node as root over real OpenSSH. Never throws unless `check`. */
export async function sshRun(ref: NodeRef, command: string, opts: SshRunOptions = {}): Promise<CmdResult> {
  const n = node(ref);
  const r = await execa('ssh', [...sshOptions(opts.connectTimeoutS), `root@${n.address}`, command], {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    encoding: 'utf8',
  });
  const res = { exitCode: r.timedOut ? 124 : (r.exitCode ?? 1), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  if (opts.check && res.exitCode !== 0) {
    throw new Error(`${n.name}: '${command}' exited ${res.exitCode}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  return res;
}

/** sshRun with check: the stdout of a command that must succeed. */
export async function sshOk(ref: NodeRef, command: string, opts: Omit<SshRunOptions, 'check'> = {}): Promise<string> {
  return (await sshRun(ref, command, { ...opts, check: true })).stdout;
}

/** Writes a file on a node (through ssh stdin). */
export async function writeNodeFile(ref: NodeRef, remotePath: string, content: string | Buffer, mode = '0644'): Promise<void> {
  const dir = path.posix.dirname(remotePath);
  await sshOk(ref, `mkdir -p '${dir}' && cat > '${remotePath}.hwtmp' && chmod ${mode} '${remotePath}.hwtmp' && mv '${remotePath}.hwtmp' '${remotePath}'`, {
    input: content,
  });
}

/** Kills whatever is left in the cgroup of units named *etcd* (systemd here cannot kill a whole cgroup). */
const KILL_ETCD_LEFTOVERS = `for p in $(grep -l 'etcd[^/]*\\.service' /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3); do [ "$p" != "$$" ] && kill -9 "$p" 2>/dev/null; done; true`;

/**
 * Back to a fresh node as far as etcd goes: stops and removes every *etcd*.service unit (transient ones too) and its drop-ins
 * (the slow-disk one too), kills what they left, removes /etc/etcd, /var/lib/etcd, /usr/local/bin/etcd*,
 * then daemon-reload and reset-failed. The journal is kept (read it with `since`).
 */
export async function wipeNode(ref: NodeRef): Promise<void> {
  const script = [
    'units=$( (cd /etc/systemd/system 2>/dev/null && ls -d *etcd*.service 2>/dev/null); systemctl list-units --all --plain --no-legend --type=service "*etcd*" 2>/dev/null | awk \'{print $1}\')',
    'for u in etcd.service $units; do systemctl stop "$u" 2>/dev/null; systemctl disable "$u" 2>/dev/null; done',
    KILL_ETCD_LEFTOVERS,
    'rm -rf /etc/etcd /var/lib/etcd /var/lib/etcd.pre-restore-* /var/lib/etcd.pre-recover-* /var/lib/etcd.removed-* /var/lib/etcd.restoring-* /var/tmp/hardway-* /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/etcdutl',
    'rm -rf /etc/systemd/system/*etcd*.service /etc/systemd/system/*etcd*.service.d /run/systemd/transient/*etcd*',
    'systemctl daemon-reload',
    'systemctl reset-failed 2>/dev/null',
    'true',
  ].join('\n');
  await sshOk(ref, script, { timeoutMs: 120_000 });
}

/** Powers a node off; its overlay (all its files) is kept for `startNode`. */
export async function stopNode(ref: NodeRef): Promise<void> {
  await labCore.stopNode(lab().dir, node(ref).name);
}

/** Boots a stopped node again and waits until it answers SSH with systemd running. */
export async function startNode(ref: NodeRef): Promise<void> {
  await labCore.startNode(lab().dir, node(ref).name);
}

/**
 * Runs a shell command inside a node without SSH (nsenter into its container's namespaces): for what SSH cannot do,
 * such as starting the node's sshd again after a test stopped it.
 */
export async function inNode(ref: NodeRef, command: string): Promise<CmdResult> {
  const st = readLabState().nodes.find((n) => n.name === node(ref).name) as { initPid?: number } | undefined;
  if (!st?.initPid) throw new Error(`no init PID recorded for ${node(ref).name}`);
  const r = await execa('nsenter', ['-t', String(st.initPid), '-m', '-u', '-i', '-n', '-p', '--', 'sh', '-c', command], { reject: false, timeout: 60_000 });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Cuts a node off the lab network (host side of its veth down): SSH and peers cannot reach it. */
export async function cutLink(ref: NodeRef): Promise<void> {
  await labCore.setLink(lab().dir, node(ref).name, false);
}

export async function restoreLink(ref: NodeRef): Promise<void> {
  await labCore.setLink(lab().dir, node(ref).name, true);
  // Back when SSH answers again (ARP and the bridge port need a moment).
  await waitUntil(async () => (await sshRun(ref, 'true', { connectTimeoutS: 2, timeoutMs: 10_000 })).exitCode === 0, 30_000);
}

export interface DiskOptions {
  /** The unit whose fdatasync is slowed (default etcd). */
  unit?: string;
  /** Restart the unit if it is active, so the change takes effect now (default true). */
  restart?: boolean;
}

/**
 * Makes every fdatasync of the unit's process return `micros` µs late: a drop-in runs the unit's current
 * ExecStart (read at each start, so a rewritten unit stays slow) under strace fault injection.
 */
export async function slowDisk(ref: NodeRef, micros: number, opts: DiskOptions = {}): Promise<void> {
  const unit = opts.unit ?? 'etcd';
  await writeNodeFile(ref, slowDiskDropInPath(unit), renderSlowDiskDropIn(micros, unit));
  await sshOk(ref, `systemctl daemon-reload${opts.restart === false ? '' : ` && systemctl try-restart ${unit}`}`, { timeoutMs: 120_000 });
}

/** Removes the slow-disk drop-in (and restarts the unit if it is active, unless restart: false). */
export async function fastDisk(ref: NodeRef, opts: DiskOptions = {}): Promise<void> {
  const unit = opts.unit ?? 'etcd';
  await sshOk(ref, `rm -f '${slowDiskDropInPath(unit)}' && systemctl daemon-reload${opts.restart === false ? '' : ` && systemctl try-restart ${unit}`}`, {
    timeoutMs: 120_000,
  });
}

export interface JournalEntry {
  /** Microseconds since the epoch. */
  time: number;
  identifier: string;
  pid: number;
  message: string;
}

export interface Journal {
  /** `journalctl -u <unit>`: what the unit's processes logged (and systemd[1]'s lines tagged UNIT=<unit>). */
  unit: JournalEntry[];
  /** systemd[1]'s own lines that mention <unit>.service (unit file complaints, start/stop, failures). */
  systemd: JournalEntry[];
  /** Both, as text lines `ISO-time identifier[pid]: message`, in time order. */
  text: string;
}

function parseJournalJson(out: string, sinceUs: number): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      const time = Number(e.__REALTIME_TIMESTAMP);
      if (time < sinceUs) continue;
      const raw = e.MESSAGE;
      const message = Array.isArray(raw) ? Buffer.from(raw as number[]).toString('utf8') : String(raw ?? '');
      entries.push({ time, identifier: String(e.SYSLOG_IDENTIFIER ?? e._COMM ?? '?'), pid: Number(e._PID ?? 0), message });
    } catch {
      // a partial line
    }
  }
  return entries;
}

/**
 * A node's journal for a unit (default etcd), from `since` on (a Date, or a journalctl --since string),
 * with systemd[1]'s lines about the unit. Node clocks are the host's clock.
 */
export async function journal(ref: NodeRef, opts: { unit?: string; since?: Date | string } = {}): Promise<Journal> {
  const unit = (opts.unit ?? 'etcd').replace(/\.service$/, '');
  let sinceArg = '';
  let sinceUs = 0;
  if (opts.since instanceof Date) {
    sinceUs = opts.since.getTime() * 1000;
    sinceArg = `--since @${Math.floor(opts.since.getTime() / 1000) - 1}`;
  } else if (opts.since) {
    sinceArg = `--since '${opts.since.replace(/'/g, '')}'`;
  }
  const [u, s] = await Promise.all([
    sshOk(ref, `journalctl --no-pager -o json -u ${unit}.service ${sinceArg}`, { timeoutMs: 60_000 }),
    sshOk(ref, `journalctl --no-pager -o json _PID=1 ${sinceArg} | grep -F '${unit}.service' || true`, { timeoutMs: 60_000 }),
  ]);
  const unitEntries = parseJournalJson(u, sinceUs);
  const systemdEntries = parseJournalJson(s, sinceUs).filter((e) => e.message.includes(`${unit}.service`));
  // systemd[1]'s lines carry UNIT=<unit>, so `-u` often has them too: list each line once.
  const seen = new Set<string>();
  const all = [...unitEntries, ...systemdEntries]
    .sort((a, b) => a.time - b.time)
    .filter((e) => {
      const key = `${e.time} ${e.pid} ${e.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
  const text = all.map((e) => `${new Date(e.time / 1000).toISOString()} ${e.identifier}[${e.pid}]: ${e.message}`).join('\n');
  return { unit: unitEntries, systemd: systemdEntries, text };
}

/** Copies the lab's etcd tarball to a node and installs etcd and etcdctl into /usr/local/bin (as hardway would). */
export async function installEtcdBinaries(ref: NodeRef): Promise<void> {
  const l = lab();
  const top = path.basename(l.tarballPath).replace(/\.tar\.gz$/, '');
  await sshOk(
    ref,
    `set -e; d=$(mktemp -d); tar -xz -C "$d"; install -m 0755 "$d/${top}/etcd" "$d/${top}/etcdctl" /usr/local/bin/; rm -rf "$d"`,
    { input: readFileSync(l.tarballPath), timeoutMs: 120_000 },
  );
}

/** Polls `fn` until it returns true; throws after `timeoutMs` with the last error, if any. */
export async function waitUntil(fn: () => Promise<boolean>, timeoutMs = 30_000, stepMs = 250): Promise<void> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > end) throw new Error(`condition not met after ${timeoutMs} ms${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface RunHardwayOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/** Runs the built CLI (`node bin/hardway …`, so `npm run build` first); never throws on a non-zero exit. */
export async function runHardway(args: string[], opts: RunHardwayOptions = {}): Promise<CmdResult> {
  const r = await execa('node', [path.join(REPO, 'bin/hardway'), ...args], {
    reject: false,
    cwd: opts.cwd ?? REPO,
    env: { NO_COLOR: '1', ...opts.env },
    timeout: opts.timeoutMs ?? 600_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  return { exitCode: r.timedOut ? 124 : (r.exitCode ?? 1), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** The processes of the node's etcd unit (its cgroup's, found through /proc: systemd here cannot signal a cgroup). */
const ETCD_PIDS = `grep -l '/etcd\\.service' /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | grep -vx "$$"`;

/** Freezes the node's etcd (SIGSTOP): it holds its sockets and answers nothing, as a hung process would. */
export async function freezeEtcd(ref: NodeRef): Promise<void> {
  await sshOk(ref, `pids=$(${ETCD_PIDS}); [ -n "$pids" ] || { echo 'no etcd process' >&2; exit 1; }; kill -STOP $pids`);
}

/** Lets a frozen etcd run again; harmless when it is not frozen (or a killed run left it frozen). */
export async function thawEtcd(ref: NodeRef): Promise<void> {
  await sshOk(ref, `for p in $(${ETCD_PIDS}); do kill -CONT "$p" 2>/dev/null; done; true`);
}

/** The file fillDisk writes to use up a small disk, removed by freeDisk. */
export const DISK_FILLER = 'hw-lab-filler';

/**
 * Puts `dir` of a node on a disk of its own that has `spareMb` MB free beyond what `dir` holds now (a tmpfs, mounted
 * inside the node's mount namespace, its contents copied from the dir it covers). `unit`, if given, is stopped while
 * the contents are copied and started again after (a live data dir is not copied). A small disk a killed run left
 * mounted there is kept as it is.
 */
export async function mountSmallDisk(ref: NodeRef, dir: string, spareMb: number, opts: { unit?: string } = {}): Promise<void> {
  const d = shellQuote(dir);
  const script = [
    'set -e',
    `if mountpoint -q ${d}; then exit 0; fi`,
    opts.unit ? `systemctl stop ${opts.unit}` : '',
    `mkdir -p ${d} /run/hw-smalldisk`,
    't=$(mktemp -d /run/hw-smalldisk/m.XXXXXX)',
    `mb=$(( $(du -sm ${d} | cut -f1) + ${Math.ceil(spareMb)} ))`,
    `mount -t tmpfs -o size=\${mb}m,mode=$(stat -c %a ${d}) hw-smalldisk "$t"`,
    `cp -a ${d}/. "$t"/`,
    // Bound, then its first mount dropped (a move is refused under a shared mount, as the node's / is).
    `mount --bind "$t" ${d}`,
    'umount "$t"',
    'rmdir "$t"',
    opts.unit ? `systemctl start --no-block ${opts.unit}` : '',
  ].filter(Boolean).join('\n');
  await inNodeOk(ref, script);
}

/**
 * Fills the small disk at `dir` up to its last byte (a filler file): writes there fail with ENOSPC. Only a tmpfs of at
 * most 1 GiB mounted right there is filled: anything else is the node's overlay, that is the host's own disk.
 */
export async function fillDisk(ref: NodeRef, dir: string): Promise<void> {
  const d = shellQuote(dir);
  await inNodeOk(
    ref,
    [
      `mountpoint -q ${d} && [ "$(stat -f -c %T ${d})" = tmpfs ] || { echo '${dir} is not a small disk: not filled' >&2; exit 1; }`,
      `free=$(( $(stat -f -c '%a * %S' ${d}) / 65536 + 1 ))`,
      `[ "$(( $(stat -f -c '%b * %S' ${d}) ))" -le 1073741824 ] || { echo '${dir} is bigger than 1 GiB: not filled' >&2; exit 1; }`,
      `dd if=/dev/zero of=${d}/${DISK_FILLER} bs=64k count=$free 2>/dev/null`,
      `[ "$(stat -f -c %a ${d})" = 0 ]`,
    ].join('\n'),
  );
}

/** Frees the space fillDisk took. */
export async function freeDisk(ref: NodeRef, dir: string): Promise<void> {
  await inNodeOk(ref, `rm -f ${shellQuote(dir)}/${DISK_FILLER}`);
}

/**
 * Back on the node's own disk: the small disk's contents (what was written there since) copied over the dir it
 * covered, then unmounted; `unit` stopped for the copy and started again. Nothing to do when `dir` is no small disk.
 */
export async function unmountSmallDisk(ref: NodeRef, dir: string, opts: { unit?: string } = {}): Promise<void> {
  const d = shellQuote(dir);
  const script = [
    'set -e',
    `[ "$(stat -f -c %T ${d} 2>/dev/null)" = tmpfs ] && mountpoint -q ${d} || exit 0`,
    opts.unit ? `systemctl stop ${opts.unit}` : '',
    `rm -f ${d}/${DISK_FILLER}`,
    'mkdir -p /run/hw-smalldisk',
    'u=$(mktemp -d /run/hw-smalldisk/u.XXXXXX)',
    // The parent bound alone (no submounts): the dir the small disk covers, as it was left.
    `mount --bind ${shellQuote(path.posix.dirname(dir))} "$u"`,
    `under="$u"/${shellQuote(path.posix.basename(dir))}`,
    'find "$under" -mindepth 1 -maxdepth 1 -exec rm -rf {} +',
    `cp -a ${d}/. "$under"/`,
    'umount "$u"',
    'rmdir "$u"',
    `umount ${d}`,
    opts.unit ? `systemctl start --no-block ${opts.unit}` : '',
  ].filter(Boolean).join('\n');
  await inNodeOk(ref, script);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function inNodeOk(ref: NodeRef, command: string): Promise<string> {
  const r = await inNode(ref, command);
  if (r.exitCode !== 0) throw new Error(`${node(ref).name}: '${command.split('\n').join('; ')}' exited ${r.exitCode}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}
