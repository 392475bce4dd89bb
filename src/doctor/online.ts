import type { Inventory } from '../inventory/types.js';
import type { Finding } from '../journal/diagnose.js';
import { withHosts } from '../engine/session.js';
import { gatherCondition } from '../cluster/gather.js';
import { diagnoseCluster } from './cluster.js';
import { gatherDoctorFacts } from './gather.js';

/** The online doctor's findings: every member over SSH, with the live cluster's evidence (status samples, metrics, ports, clocks). */
export async function diagnoseLive(inv: Inventory): Promise<Finding[]> {
  return withHosts(inv, inv.nodes, {}, async (r) => {
    // The whole cluster's condition leads: read beside the journals and metrics, from the same connections.
    const [gathered, judged] = await Promise.all([gatherDoctorFacts(inv, r.hosts), gatherCondition(inv, r.hosts)]);
    return diagnoseCluster(inv, gathered.facts, judged.condition);
  });
}
