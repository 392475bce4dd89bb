import { must } from '../engine/must.js';
import { initialCluster, peerUrl } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq, type Remote } from '../ssh/remote.js';
import { isMountPointTest } from '../node/ops.js';
import { etcdctlCommand } from './etcdctl.js';

/**
 * Which etcd tool does what to a snapshot file, by release, and the commands as run on a node (pure), and the
 * status of a file on a node.
 * 3.4: etcdctl does everything. 3.5 moved `snapshot status` and `snapshot restore` to etcdutl (etcdctl's are
 * deprecated) and 3.6 removed them from etcdctl; `snapshot save` talks to a member, so it stays with etcdctl.
 */

type Version = [number, number, number];

export function parseVersion(v: string): Version {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

const atLeast = (v: Version, w: Version) => v[0] !== w[0] ? v[0] > w[0] : v[1] !== w[1] ? v[1] > w[1] : v[2] >= w[2];

/** etcdutl for offline work on files from 3.5 on. */
export function usesEtcdutl(version: string): boolean {
  return atLeast(parseVersion(version), [3, 5, 0]);
}

/**
 * `--bump-revision` and `--mark-compacted` came to `snapshot restore` in 3.4.27 and 3.5.10 (and 3.6.0): restored
 * revisions then jump past any a kube-apiserver watch has seen, instead of going back in time under it.
 */
export function supportsBumpRevision(version: string): boolean {
  const v = parseVersion(version);
  if (v[0] !== 3) return v[0] > 3;
  if (v[1] === 4) return v[2] >= 27;
  if (v[1] === 5) return v[2] >= 10;
  return v[1] > 5;
}

export const BUMP_REVISION = 1_000_000_000;

/** Where the tool for file work of this release is installed on a node. */
export function snapshotToolPath(version: string): string {
  return usesEtcdutl(version) ? REMOTE_PATHS.etcdutl : REMOTE_PATHS.etcdctl;
}

/** The etcd tool for file work of this release, with ETCDCTL_API=3 for a 3.4 etcdctl. */
function fileTool(version: string): string {
  return usesEtcdutl(version) ? REMOTE_PATHS.etcdutl : `ETCDCTL_API=3 ${REMOTE_PATHS.etcdctl}`;
}

export function statusCommand(file: string, version: string): string {
  return `${fileTool(version)} snapshot status ${shq(file)} -w json`;
}

/**
 * statusCommand cut off after `timeoutS`, for a stopped member's db read inside a larger script. Through env: 3.4's
 * tool is `ETCDCTL_API=3 etcdctl`, and timeout runs a program, not an assignment.
 */
export function boundedStatusCommand(file: string, version: string, timeoutS: number): string {
  return `timeout ${timeoutS} env ${statusCommand(file, version)}`;
}

/** Saves a member's snapshot to `file` on its node: exactly one endpoint, the member's own. */
export function saveCommand(endpoint: string, file: string): string {
  // A 100 MB snapshot of a slow disk takes longer than the usual command timeout.
  return etcdctlCommand([endpoint], ['snapshot', 'save', file], { timeoutS: 600 });
}

export interface RestoreTarget {
  name: string;
  peerUrl: string;
  initialCluster: string;
  token: string;
  dataDir: string;
}

export function restoreCommand(file: string, version: string, t: RestoreTarget): string {
  const args = [
    'snapshot',
    'restore',
    file,
    `--name=${t.name}`,
    `--initial-cluster=${t.initialCluster}`,
    `--initial-cluster-token=${t.token}`,
    `--initial-advertise-peer-urls=${t.peerUrl}`,
    `--data-dir=${t.dataDir}`,
    ...(supportsBumpRevision(version) ? [`--bump-revision=${BUMP_REVISION}`, '--mark-compacted'] : []),
  ];
  return `${fileTool(version)} ${args.map(shq).join(' ')}`;
}

/**
 * The restore on one node, into a fresh dir renamed over the (moved aside) data dir once complete. A data dir that is
 * a mount point stays: the restore goes into a dir on that disk, whose `member` is renamed into the data dir. Pure.
 */
export function restoreScript(inv: Inventory, nodeName: string, r: { file: string; token: string; stamp: string }): string {
  const node = inv.nodes.find((n) => n.name === nodeName)!;
  const dir = inv.etcd.dataDir.replace(/\/+$/, '');
  const restoreInto = (tmp: string, target: string, from: string) => {
    const cmd = restoreCommand(r.file, inv.etcd.version, { name: node.name, peerUrl: peerUrl(node), initialCluster: initialCluster(inv), token: r.token, dataDir: tmp });
    return [
      `  if [ -e ${shq(target)} ]; then echo "${target} exists: it should have been moved aside" >&2; exit 3; fi`,
      `  if [ -e ${shq(tmp)} ]; then echo "${tmp} already exists (left by another run): not touching it" >&2; exit 3; fi`,
      // etcdctl/etcdutl log to stderr; only a failure's last words are kept.
      '  log=$(mktemp)',
      `  ${cmd} >/dev/null 2>"$log" || { tail -n 3 "$log" >&2; rm -f "$log"; exit 1; }`,
      '  rm -f "$log"',
      `  chmod 700 ${shq(tmp)}`,
      '  sync',
      `  mv -T ${shq(from)} ${shq(target)}`,
    ];
  };
  const inside = `${dir}/member.restoring-${r.stamp}`;
  return [
    'set -e',
    'umask 077',
    `if systemctl is-active --quiet etcd.service; then echo "etcd still runs: not restoring under it" >&2; exit 3; fi`,
    `if ${isMountPointTest(dir)}; then`,
    ...restoreInto(inside, `${dir}/member`, `${inside}/member`),
    `  rmdir ${shq(inside)}`,
    'else',
    ...restoreInto(`${dir}.restoring-${r.stamp}`, dir, `${dir}.restoring-${r.stamp}`),
    'fi',
  ].join('\n');
}

export interface SnapshotStatus {
  /** etcd's hash of the keyspace (CRC-32), as `snapshot status` prints it. */
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
  /** The storage version (etcdutl 3.5+ only). */
  version?: string;
}

export function parseSnapshotStatus(stdout: string): SnapshotStatus | undefined {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('{'));
  if (!line) return undefined;
  try {
    const raw = JSON.parse(line) as Partial<Record<keyof SnapshotStatus, unknown>>;
    if (typeof raw.revision !== 'number' || typeof raw.totalKey !== 'number') return undefined;
    return {
      hash: Number(raw.hash ?? 0),
      revision: raw.revision,
      totalKey: raw.totalKey,
      totalSize: Number(raw.totalSize ?? 0),
      ...(typeof raw.version === 'string' && raw.version ? { version: raw.version } : {}),
    };
  } catch {
    return undefined;
  }
}

/** `snapshot status` of a file on a node; undefined when the tool printed nothing readable. `what` names a failure. */
export async function snapshotStatusOf(remote: Remote, file: string, version: string, what: string): Promise<SnapshotStatus | undefined> {
  // A large file on a slow disk is read whole to hash it.
  return parseSnapshotStatus(await must(remote, statusCommand(file, version), what, 5 * 60_000));
}
