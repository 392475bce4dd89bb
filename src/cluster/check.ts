import { CheckFailed } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { retry } from '../engine/must.js';
import { clusterHealth, type ClusterView } from '../etcd/health.js';
import type { Remote } from '../ssh/remote.js';
import { endpointsOf } from '../etcd/etcdctl.js';
import { etcdClient } from '../etcd/client.js';

/**
 * After a rebuild (snapshot restore, recover): the members form one cluster, hold the same keyspace, and nothing
 * older than what the rebuild started from. Throws CheckFailed naming what differs; returns what was checked.
 */
export async function checkRebuilt(probe: Remote, inv: Inventory, want: { revision: number; note?: string }): Promise<{ view: ClusterView; checks: string[] }> {
  const view = await clusterHealth(probe, inv, inv.nodes);
  const ids = new Set(view.status.map((s) => s.clusterId));
  if (ids.size !== 1) throw new CheckFailed(`the members report ${ids.size} cluster IDs (${[...ids].join(', ')}): a split cluster`);
  const low = view.status.filter((s) => s.revision < want.revision);
  if (low.length) throw new CheckFailed(`revision below ${want.revision}: ${low.map((s) => `${s.endpoint} at ${s.revision}`).join(', ')}`);
  // Members apply the same entries a moment apart: equal hashes are waited for, briefly.
  const hashes = await retry(async () => {
    const hk = await etcdClient(probe, endpointsOf(inv.nodes)).hashKv({ what: 'etcdctl endpoint hashkv' });
    if (hk.length !== inv.nodes.length || new Set(hk.map((h) => h.hash)).size !== 1) throw new CheckFailed(`endpoint hashkv differs: ${hk.map((h) => `${h.endpoint} ${h.hash}`).join(', ')}`);
    return hk;
  }, 10_000);
  return {
    view,
    checks: [`one cluster ID ${[...ids][0]}`, `every member's hashkv ${hashes[0]!.hash}`, `revision ${Math.min(...view.status.map((s) => s.revision))} ≥ ${want.revision}${want.note ? ` (${want.note})` : ''}`],
  };
}
