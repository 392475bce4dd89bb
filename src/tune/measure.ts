import type { Inventory } from '../inventory/types.js';
import { askCluster } from '../etcd/cluster.js';
import { usable } from '../engine/hosts.js';
import { withHosts } from '../engine/session.js';
import { addJournalSyncs, memberFsync } from '../doctor/cluster.js';
import { gatherDoctorFacts } from '../doctor/gather.js';
import { endpointHealth } from '../etcd/health.js';

/** One node's figures for `tune`: its WAL fsync p99 and worst peer round trip p99, where they came from. */
export interface MeasuredNode {
  node: string;
  fsync?: number;
  rtt?: number;
  source: string;
}

/**
 * What `tune` fits the timing to, from every node over SSH, and how many members are healthy now (the rolling or
 * together restart is chosen on it).
 */
export async function measureTiming(inv: Inventory, opts: { acceptNew?: boolean } = {}): Promise<{ measured: MeasuredNode[]; healthy: number }> {
  return withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (r) => {
    // The same evidence as doctor: etcd's histograms, else etcd's own 'sync duration' lines, else a disk probe.
    const { facts } = await gatherDoctorFacts(inv, r.hosts, { samples: 1, journalSeconds: 600 });
    addJournalSyncs(facts);
    const measured = facts.members.map((m) => {
      const f = memberFsync(m);
      return {
        node: m.node,
        ...(f ? { fsync: f.seconds } : {}),
        ...(m.disk?.peerRttP99 !== undefined ? { rtt: m.disk.peerRttP99 } : {}),
        source: f?.source ?? (m.reachable ? (m.disk?.error ?? 'no measurement') : `unreachable: ${m.error}`),
      };
    });
    // Asked through the member that answers for the cluster (any node's etcdctl can reach it).
    const { answer } = await askCluster(inv, r.hosts, { isActive: (h) => facts.members.find((m) => m.node === h.node.name)?.systemd?.active === 'active', anyHost: true });
    const probe = answer?.asker ?? r.hosts.find(usable);
    const healthy = probe?.remote ? (await endpointHealth(probe.remote, inv.nodes, 5)).filter((h) => h.health).length : 0;
    return { measured, healthy };
  });
}
