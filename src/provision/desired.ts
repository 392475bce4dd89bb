import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { UploadSource } from '../ssh/remote.js';
import type { Arch } from './elf.js';
import { REMOTE_PATHS } from '../render/paths.js';

/** What a node should have after `up`: pure data, computed from the inventory and the local artifacts. */

export type FileRole = 'binary' | 'cert' | 'key' | 'unit';

export interface DesiredFile {
  path: string;
  mode: number;
  role: FileRole;
  source: UploadSource;
}

export interface DesiredDir {
  path: string;
  mode: number;
}

export interface DesiredNode {
  node: NodeSpec;
  dirs: DesiredDir[];
  files: DesiredFile[];
}

/** The local inputs: binaries from the release tarball, the PKI files, and each node's rendered unit. */
export interface Artifacts {
  etcd: UploadSource;
  etcdctl: UploadSource;
  /** From releases that ship it (3.5+); a 3.4 release installs exactly what it did before. */
  etcdutl?: UploadSource;
  /** The certificates (not shipped with etcd.tls: false: plain HTTP on loopback has no PKI). */
  ca: UploadSource;
  cert: UploadSource;
  key: UploadSource;
  /** Rendered etcd.service per node name. */
  units: ReadonlyMap<string, UploadSource>;
  /** The CPU the release's binaries are built for (their ELF header), when known. */
  arch?: Arch;
  /** With etcd.tarball (or url) given per architecture: each one's binaries; a node takes its CPU's. */
  byArch?: ReadonlyMap<string, ReleaseBinaries>;
}

export type ReleaseBinaries = Pick<Artifacts, 'etcd' | 'etcdctl' | 'etcdutl' | 'arch'>;

/** The artifacts a node of this CPU (`uname -m`) installs, or undefined when the inventory gives no release for it. */
export function artifactsFor(a: Artifacts, arch: Arch | undefined): Artifacts | undefined {
  if (!a.byArch) return a;
  const own = arch ? a.byArch.get(arch.release) : undefined;
  return own ? { ...a, ...own } : undefined;
}

export function desiredNode(inv: Inventory, node: NodeSpec, a: Artifacts): DesiredNode {
  const unit = a.units.get(node.name);
  if (!unit) throw new Error(`no rendered unit for ${node.name}`);
  return {
    node,
    // 0700: etcd ≥ 3.4.10 warns about a data dir others can read; /etc/etcd holds the private key.
    dirs: [
      { path: REMOTE_PATHS.configDir, mode: 0o700 },
      { path: inv.etcd.dataDir, mode: 0o700 },
    ],
    files: [
      { path: REMOTE_PATHS.etcd, mode: 0o755, role: 'binary', source: a.etcd },
      { path: REMOTE_PATHS.etcdctl, mode: 0o755, role: 'binary', source: a.etcdctl },
      ...(a.etcdutl ? [{ path: REMOTE_PATHS.etcdutl, mode: 0o755, role: 'binary' as const, source: a.etcdutl }] : []),
      ...(inv.etcd.tls
        ? [
            { path: REMOTE_PATHS.caCert, mode: 0o600, role: 'cert' as const, source: a.ca },
            { path: REMOTE_PATHS.cert, mode: 0o600, role: 'cert' as const, source: a.cert },
            { path: REMOTE_PATHS.key, mode: 0o600, role: 'key' as const, source: a.key },
          ]
        : []),
      { path: REMOTE_PATHS.unit, mode: 0o644, role: 'unit', source: unit },
    ],
  };
}
