import { clientUrl } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { shq, type Remote, type UploadSource } from '../ssh/remote.js';
import { readMetrics, readTlsFiles } from '../etcd/metrics.js';
import type { EndpointStatus } from '../etcd/etcdctl.js';
import type { MemberVersion } from '../etcd/versions.js';

/** What the preflight needs to know, read from the cluster and the release itself. Nothing is changed. */

/** The release's own word: its etcd run with --version on a node (the laptop may not run Linux binaries). */
export async function releaseVersion(remote: Remote, etcd: UploadSource): Promise<string> {
  const tmp = `/var/tmp/hardway-etcd-version-${etcd.sha256.slice(0, 16)}`;
  await remote.upload(etcd, tmp, 0o700);
  const r = await remote.run(`${shq(tmp)} --version; rc=$?; rm -f ${shq(tmp)}; exit $rc`, { timeoutMs: 30_000 });
  return /etcd Version: (\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim().split('\n')[0] ?? '';
}

/**
 * The cluster version (the minor every member runs) from a member's `/version` answer,
 * `{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}`: given as that minor ("3.4"), as etcd's `etcd_cluster_version`
 * metric names it. Undefined before the cluster has decided one (`not_decided`) or on anything else.
 */
export function parseClusterVersion(versionJson: string): string | undefined {
  try {
    const v = (JSON.parse(versionJson) as { etcdcluster?: unknown }).etcdcluster;
    return typeof v === 'string' ? /^(\d+\.\d+)\.\d+$/.exec(v)?.[1] : undefined;
  } catch {
    return undefined;
  }
}

/** Asked of one member's client URL over the SSH connection: `/version` (a few bytes; /metrics says it in ~150 KB). */
export async function clusterVersion(inv: Inventory, remote: Remote, node: NodeSpec): Promise<string | undefined> {
  try {
    const tls = inv.etcd.tls ? await readTlsFiles(inv.pki.dir) : undefined;
    return parseClusterVersion(await readMetrics(remote, clientUrl(node), { timeoutMs: 10_000, path: '/version', ...(tls ? { tls } : {}) }));
  } catch {
    return undefined;
  }
}

/** Each member's server version (endpoint status) and health, by name. */
export function memberVersions(members: { id: string; name: string }[], status: EndpointStatus[], healthy: (id: string) => boolean): MemberVersion[] {
  return members.map((m) => {
    const v = status.find((s) => s.memberId === m.id)?.version;
    return { name: m.name || m.id, healthy: healthy(m.id), ...(v ? { version: v } : {}) };
  });
}
