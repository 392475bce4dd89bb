/**
 * Where hardway installs things on the nodes. Rendering, linting and provisioning all read these, so the unit
 * can never point at a file the tool does not put there.
 */

/** The fixed paths of the Kubernetes The Hard Way layout. */
export const REMOTE_PATHS = {
  etcd: '/usr/local/bin/etcd',
  etcdctl: '/usr/local/bin/etcdctl',
  /** Installed only from a release that has it (3.5+). */
  etcdutl: '/usr/local/bin/etcdutl',
  /** Directory of the certificates (0700 in KTHW's `mkdir -p /etc/etcd /var/lib/etcd`). */
  configDir: '/etc/etcd',
  caCert: '/etc/etcd/ca.pem',
  cert: '/etc/etcd/kubernetes.pem',
  key: '/etc/etcd/kubernetes-key.pem',
  unit: '/etc/systemd/system/etcd.service',
} as const;

/** KTHW's data directory; the inventory's `etcd.dataDir` default. */
export const DEFAULT_DATA_DIR = '/var/lib/etcd';

export interface InstalledPaths {
  etcd: string;
  etcdctl: string;
  configDir: string;
  caCert: string;
  cert: string;
  key: string;
  unit: string;
  /** `inv.etcd.dataDir`: created by hardway (mode 0700), never deleted. */
  dataDir: string;
}

/** Everything hardway installs on a node for this inventory (the data dir comes from the inventory). */
export function installedPaths(inv?: { etcd: { dataDir: string } }): InstalledPaths {
  // Not etcdutl: whether it is installed depends on the release, and the unit never refers to it.
  const { etcdutl: _etcdutl, ...always } = REMOTE_PATHS;
  return { ...always, dataDir: inv?.etcd.dataDir ?? DEFAULT_DATA_DIR };
}
