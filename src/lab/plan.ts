import path from 'node:path';
import { createHash } from 'node:crypto';
import { Document } from 'yaml';
import { UsageError } from '../errors.js';

/**
 * The lab's pure logic: names, addresses, the files written into every node, apt sources, mountinfo,
 * what is stale. No I/O here, so that all of it is unit-tested (test/unit/lab-plan.test.ts).
 */

export const MIN_NODES = 1;
export const MAX_NODES = 7;
export const DEFAULT_NODES = 3;

/** The default lab: KTHW's 10.240.0.0/24, host at .1, controllers at .10 upward. */
export const DEFAULT_BRIDGE = 'hwlab0';
export const DEFAULT_SUBNET = '10.240.0.0/24';
/** Where lab state lives, relative to the current directory, unless `--dir` says otherwise. */
export const DEFAULT_LAB_DIR = '.hardway/lab';
/** The base rootfs cache (one directory per package-list hash). */
export const DEFAULT_CACHE_DIR = '/var/cache/hardway';

export const ROOTFS_SUITE = 'bookworm';
export const ROOTFS_VARIANT = 'minbase';
/** What every node has. Changing this list (or ROOTFS_RECIPE) changes the hash, so the cache is rebuilt. */
export const ROOTFS_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'sudo', 'strace', 'procps'];
/** Bump when the customisation done to the base rootfs after debootstrap changes. */
export const ROOTFS_RECIPE = 2;

/** A /24 the lab owns: `prefix` is its first three octets. */
export interface LabNet {
  bridge: string;
  /** e.g. '10.240.0' */
  prefix: string;
}

export interface PlannedNode {
  index: number;
  name: string;
  address: string;
  /** systemd-nspawn's machine name (-M); its host-side veth is `vb-<machine>`. */
  machine: string;
  veth: string;
}

/** Linux interface names are at most 15 bytes; nspawn's veth is `vb-` + machine name. */
const IFNAMSIZ_MAX = 15;

export function parseNodeCount(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < MIN_NODES || n > MAX_NODES) {
    throw new UsageError(`--nodes must be a whole number from ${MIN_NODES} to ${MAX_NODES} (got '${value}')`);
  }
  return n;
}

export function parseBridge(value: string): string {
  if (!/^[a-z][a-z0-9]{1,7}$/.test(value)) {
    throw new UsageError(`--bridge '${value}': use 2 to 8 lower-case letters and digits, starting with a letter (e.g. hwlab1)`);
  }
  if (value === 'eth0' || value === 'lo') throw new UsageError(`--bridge '${value}' is a host interface; the lab never touches it`);
  return value;
}

/** `10.240.0.0/24` → `10.240.0`. Only private /24s: the lab's traffic must never look routable. */
export function parseSubnet(value: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(value.trim());
  const octets = m ? [m[1], m[2], m[3]].map(Number) : [];
  const [a, b] = octets;
  const ok =
    m !== null &&
    octets.every((o) => o <= 255) &&
    (a === 10 || (a === 172 && b !== undefined && b >= 16 && b <= 31) || (a === 192 && b === 168));
  if (!ok) throw new UsageError(`--subnet '${value}': give a private /24 such as 10.240.0.0/24`);
  return octets.join('.');
}

export function nodeName(index: number): string {
  return `controller-${index}`;
}

export function hostAddress(net: LabNet): string {
  return `${net.prefix}.1`;
}

export function nodeAddress(net: LabNet, index: number): string {
  return `${net.prefix}.${10 + index}`;
}

/**
 * nspawn names the host side of a node's veth `vb-<machine>`, so the machine name must stay short (12) and
 * differ between two labs running at once: the default lab uses the node name, any other lab `<bridge>-n<i>`.
 */
export function machineName(net: LabNet, index: number): string {
  return net.bridge === DEFAULT_BRIDGE ? nodeName(index) : `${net.bridge}-n${index}`;
}

export function planNode(net: LabNet, index: number): PlannedNode {
  const machine = machineName(net, index);
  const veth = `vb-${machine}`;
  if (veth.length > IFNAMSIZ_MAX) throw new Error(`veth name ${veth} is longer than ${IFNAMSIZ_MAX}`);
  return { index, name: nodeName(index), address: nodeAddress(net, index), machine, veth };
}

export function planNodes(net: LabNet, count: number): PlannedNode[] {
  return Array.from({ length: count }, (_, i) => planNode(net, i));
}

export interface ResizePlan {
  keep: number[];
  add: number[];
  remove: number[];
}

/** Nodes are controller-0…N-1: growing adds the missing indexes, shrinking removes the highest. */
export function planResize(existing: number[], wanted: number): ResizePlan {
  const have = new Set(existing);
  const keep = [...have].filter((i) => i < wanted).sort((a, b) => a - b);
  const add = Array.from({ length: wanted }, (_, i) => i).filter((i) => !have.has(i));
  const remove = [...have].filter((i) => i >= wanted).sort((a, b) => b - a);
  return { keep, add, remove };
}

/** systemd-networkd config for the node's `host0`: a static address, no gateway (nothing routes off the bridge). */
export function renderNetworkFile(address: string): string {
  return [
    '# Written by hardway lab: the node\'s address on the lab bridge. No Gateway= on purpose:',
    '# lab traffic stays on the bridge.',
    '[Match]',
    'Name=host0',
    '',
    '[Network]',
    `Address=${address}/24`,
    'LinkLocalAddressing=no',
    'IPv6AcceptRA=no',
    // A cut link (host side down) must not drop the address: restoring it is then instant, like a cable.
    'ConfigureWithoutCarrier=yes',
    'IgnoreCarrierLoss=yes',
    '',
  ].join('\n');
}

export function renderHostsFile(name: string, nodes: { name: string; address: string }[]): string {
  const lines = ['127.0.0.1\tlocalhost', `127.0.1.1\t${name}`, '::1\tlocalhost ip6-localhost ip6-loopback', ''];
  for (const n of nodes) lines.push(`${n.address}\t${n.name}`);
  return `${lines.join('\n')}\n`;
}

/** sshd settings for the lab: only the node's own ed25519 host key, key login only, no DNS lookups. */
export function renderSshdConfig(): string {
  return [
    '# Written by hardway lab.',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    '',
  ].join('\n');
}

/** A fresh 128-bit machine id as /etc/machine-id wants it, from 16 random bytes. */
export function formatMachineId(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new Error('a machine id needs 16 bytes');
  return `${Buffer.from(bytes).toString('hex')}\n`;
}

/** One known_hosts line from an OpenSSH public key file's text (`type base64 comment`). */
export function knownHostsLine(address: string, publicKey: string): string {
  const [type, key] = publicKey.trim().split(/\s+/);
  if (!type || !key) throw new Error(`not an OpenSSH public key: ${publicKey.slice(0, 40)}`);
  return `${address} ${type} ${key}`;
}

/** The cache key of the base rootfs: suite, variant, package list (order-insensitive) and recipe. */
export function rootfsHash(packages: string[] = ROOTFS_PACKAGES, suite = ROOTFS_SUITE, variant = ROOTFS_VARIANT, recipe = ROOTFS_RECIPE): string {
  const input = JSON.stringify({ suite, variant, recipe, packages: [...new Set(packages)].sort() });
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/**
 * The Debian mirror this machine already uses, from its apt sources: deb822 (`URIs:` in
 * /etc/apt/sources.list.d/*.sources) or one-line (`deb URI suite comp`). Security and updates
 * repositories are skipped: debootstrap needs the main archive. undefined when none is found.
 */
export function parseAptMirror(sources: { deb822?: string[]; lists?: string[] }, suite = ROOTFS_SUITE): string | undefined {
  const candidates: { uri: string; exact: boolean }[] = [];
  const consider = (uri: string, suites: string[]) => {
    const clean = uri.replace(/\/+$/, '');
    if (!/^(https?|file):\/\//.test(clean)) return;
    if (/security/.test(clean)) return;
    if (suites.some((s) => /-security$/.test(s)) && !suites.includes(suite)) return;
    candidates.push({ uri: clean, exact: suites.includes(suite) });
  };
  for (const text of sources.deb822 ?? []) {
    // Stanzas are separated by blank lines; a field may continue on indented lines.
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = new Map<string, string>();
      let last: string | undefined;
      for (const line of stanza.split('\n')) {
        if (/^\s*#/.test(line)) continue;
        const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
        if (m) {
          last = m[1]!.toLowerCase();
          fields.set(last, m[2]!.trim());
        } else if (last && /^\s+\S/.test(line)) {
          fields.set(last, `${fields.get(last)} ${line.trim()}`);
        }
      }
      if (fields.get('enabled')?.toLowerCase() === 'no') continue;
      const types = (fields.get('types') ?? '').split(/\s+/);
      if (!types.includes('deb')) continue;
      const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
      for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) consider(uri, suites);
    }
  }
  for (const text of sources.lists ?? []) {
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*$/, '').trim();
      // deb [options] uri suite components…
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m) consider(m[1]!, [m[2]!]);
    }
  }
  return (candidates.find((c) => c.exact) ?? candidates[0])?.uri;
}

export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

/** /proc/self/mountinfo → mount points (octal escapes such as \040 decoded) and their fs types. */
export function parseMountinfo(text: string): MountEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    const f = (left ?? '').split(' ');
    const mountPoint = f[4];
    const fsType = (right ?? '').split(' ')[0];
    if (mountPoint && fsType) out.push({ mountPoint: unescape(mountPoint), fsType });
  }
  return out;
}

/**
 * The cgroups a node's nspawn is started in: `hardway-<machine>` below our own cgroup, in the `name=systemd` (v1) and
 * the v2 hierarchy, from /proc/self/mountinfo and /proc/self/cgroup. Why: without machined (`--register=no
 * --keep-unit`), nspawn puts each container in a `payload` group below the cgroup it was started from, so containers
 * started from one cgroup share one tree, and their systemds remove each other's unit cgroups ("Failed at step
 * CGROUP spawning …", a login that fails at random, a node "degraded" after boot). One cgroup per node keeps them apart.
 */
export function nodeCgroupDirs(mountinfo: string, procSelfCgroup: string, machine: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const own = new Map<string, string>();
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[1]!, m[2]!);
  }
  const dirs: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fsType, , superOptions = ''] = right.split(' ');
    const key = fsType === 'cgroup2' ? '' : fsType === 'cgroup' && superOptions.split(',').includes('name=systemd') ? 'name=systemd' : undefined;
    const ownPath = key === undefined ? undefined : own.get(key);
    if (ownPath === undefined) continue;
    const f = left.split(' ');
    const [root, mountPoint] = [unescape(f[3] ?? '/'), unescape(f[4] ?? '')];
    // The mount shows the hierarchy from `root` on: our path is below it, or the mount is no use to us.
    if (ownPath !== root && !ownPath.startsWith(root === '/' ? '/' : `${root}/`)) continue;
    const dir = path.posix.join(mountPoint, ownPath.slice(root === '/' ? 0 : root.length), `hardway-${machine}`);
    if (!dirs.includes(dir)) dirs.push(dir);
  }
  return dirs;
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(mounts: MountEntry[], dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  return mounts
    .map((m) => m.mountPoint)
    .filter((p) => p === base || p.startsWith(`${base}/`))
    .filter((p, i, all) => all.indexOf(p) === i)
    .sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** Is this /proc/<pid>/cmdline (NUL-separated) the nspawn the lab started for this root? */
export function isLabNspawn(cmdline: string, root: string): boolean {
  const argv = cmdline.split('\0').filter(Boolean);
  if (!argv[0] || !/(^|\/)systemd-nspawn$/.test(argv[0])) return false;
  const i = argv.indexOf('-D');
  return (i >= 0 && argv[i + 1] === root) || argv.includes(`--directory=${root}`);
}

/** Temp build directories of the rootfs cache: `.tmp-rootfs-<hash>-<pid>`. */
export function parseTempRootfsName(name: string): { hash: string; pid: number } | undefined {
  const m = /^\.tmp-rootfs-([0-9a-f]+)-(\d+)$/.exec(name);
  return m ? { hash: m[1]!, pid: Number(m[2]) } : undefined;
}

/** `systemctl is-system-running` output that means the node is up for the lab's purposes. */
export function isSystemUp(state: string): boolean {
  return state === 'running' || state === 'degraded';
}

/** `etcd --version` → `3.4.23`. */
export function parseEtcdVersion(output: string): string | undefined {
  return /etcd Version:\s*(\d+\.\d+\.\d+)/.exec(output)?.[1];
}

export function goArch(nodeArch: string): string {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'arm64' ? 'arm64' : nodeArch;
}

export function etcdReleaseName(version: string, arch: string): string {
  return `etcd-v${version}-linux-${arch}`;
}

export interface LabInventoryInput {
  nodes: { name: string; address: string }[];
  keyPath: string;
  knownHostsPath: string;
  tarballPath: string;
  etcdVersion: string;
  pkiDir: string;
}

/** The lab's ready inventory.yaml (absolute paths), in the format src/inventory/validate.ts accepts. */
export function renderLabInventory(input: LabInventoryInput): string {
  const doc = new Document({
    cluster: { token: 'etcd-cluster-0', initialState: 'new' },
    etcd: { version: input.etcdVersion, tarball: input.tarballPath },
    pki: { dir: input.pkiDir },
    ssh: { user: 'root', port: 22, identityFile: input.keyPath, knownHosts: input.knownHostsPath, sudo: false },
    nodes: input.nodes.map((n) => ({ name: n.name, address: n.address, internalIp: n.address })),
  });
  doc.commentBefore =
    ' Written by `hardway lab up`: the lab\'s nodes, its SSH key and known_hosts, and an etcd release\n' +
    ' tarball packed from Debian\'s etcd packages (`lab up --etcd`). Rewritten on every `lab up`; copy it to change it.';
  return doc.toString({ lineWidth: 0 });
}
