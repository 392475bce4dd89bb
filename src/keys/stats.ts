import { resourceName, resourceOf } from './keyspace.js';
import type { KeyInfo } from '../etcd/sized-get.js';

/**
 * `hardway keys stats`: what the keyspace holds per resource type — count, bytes, largest object. Keys that carry
 * an etcd lease (events: kube-apiserver gives each a TTL, one lease per minute or so) are counted apart: they are
 * deleted when their lease expires, so they measure churn rather than state. Pure.
 */

export interface ResourceStats {
  /** `pods`, `certificates.cert-manager.io`, or (outside /registry/) the key's first path segment. */
  resource: string;
  group?: string;
  outside?: true;
  /** These keys carry a lease (and expire with it). */
  leased: boolean;
  count: number;
  bytes: number;
  largest: { key: string; size: number };
  /** How many distinct leases the keys hold (leased groups only). */
  leases?: number;
}

export interface KeyStats {
  count: number;
  bytes: number;
  leasedCount: number;
  leasedBytes: number;
  /** By bytes, largest first; leased groups after the others. */
  groups: ResourceStats[];
}

export function keyStats(keys: Iterable<Pick<KeyInfo, 'key' | 'size' | 'lease'>>): KeyStats {
  const groups = new Map<string, ResourceStats & { leaseIds: Set<string> }>();
  const out: KeyStats = { count: 0, bytes: 0, leasedCount: 0, leasedBytes: 0, groups: [] };
  for (const k of keys) {
    const r = resourceOf(k.key);
    const leased = k.lease !== undefined;
    const id = `${leased ? 'L' : 'N'} ${r.outside ? 'o' : 'r'} ${resourceName(r)}`;
    let g = groups.get(id);
    if (!g) {
      g = { resource: resourceName(r), ...(r.group ? { group: r.group } : {}), ...(r.outside ? { outside: true as const } : {}), leased, count: 0, bytes: 0, largest: { key: k.key, size: k.size }, leaseIds: new Set() };
      groups.set(id, g);
    }
    g.count++;
    g.bytes += k.size;
    if (k.size > g.largest.size) g.largest = { key: k.key, size: k.size };
    if (k.lease !== undefined) g.leaseIds.add(k.lease);
    out.count++;
    out.bytes += k.size;
    if (leased) (out.leasedCount++, (out.leasedBytes += k.size));
  }
  out.groups = [...groups.values()]
    .map(({ leaseIds, ...g }) => (g.leased ? { ...g, leases: leaseIds.size } : g))
    .sort((a, b) => Number(a.leased) - Number(b.leased) || b.bytes - a.bytes || a.resource.localeCompare(b.resource));
  return out;
}
