import { clientUrl } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { endpointAnswer, endpointHealth } from '../etcd/health.js';
import { askCluster, type Asked } from '../etcd/cluster.js';
import { usable, type Host } from '../engine/hosts.js';
import { shq, type Remote } from '../ssh/remote.js';
import type { ClusterFacts, NodeReport } from './checks.js';
import { readJournal } from '../journal/read.js';
import { parseSystemdState, systemdStateScript } from '../node/unit-state.js';

/** Reads what `verify` and `doctor` judge: etcdctl over SSH, systemctl and the journal. */

/**
 * Data dirs hardway moved aside (restore, member remove/reset) or a restore left half done: kept until the user
 * removes them. Beside the data dir, or inside it as `member.*` when the data dir is a mount point (node/ops.ts).
 */
export function asideDirsScript(dataDir: string): string {
  const d = dataDir.replace(/\/+$/, '');
  const kinds = ['pre-restore', 'pre-recover', 'removed', 'restoring'];
  const globs = [...kinds.map((k) => `${shq(d)}.${k}-*`), ...kinds.map((k) => `${shq(`${d}/member`)}.${k}-*`)];
  return `for p in ${globs.join(' ')}; do [ -e "$p" ] && echo "Aside=$p"; done; true`;
}

export interface Gathered {
  facts: ClusterFacts;
  /** The node whose etcdctl answered for the cluster. */
  probe?: { node: NodeSpec; remote: Remote };
  journals: Map<string, string>;
}

/** Every endpoint's status and health, asked through one node's etcdctl. */
export async function askEndpoints(inv: Inventory, probe: Remote): Promise<Pick<ClusterFacts, 'status' | 'health'>> {
  const [status, health] = await Promise.all([
    Promise.all(inv.nodes.map((n) => endpointAnswer(probe, clientUrl(n)))),
    // One endpoint per etcdctl: a dead member then cannot delay the others' answers.
    Promise.all(inv.nodes.map(async (n) => (await endpointHealth(probe, [n]))[0]!)),
  ]);
  return { status, health };
}

export interface GatherOptions {
  journal?: boolean;
  asked?: Asked;
  /**
   * The endpoints asked early through one node (askEndpoints, started once its `member list` answered): taken when
   * that node is the one that answers for the cluster, instead of asking again after the nodes were read.
   */
  early?: { remote: Remote; endpoints: Promise<Pick<ClusterFacts, 'status' | 'health'>> };
}

export async function gatherFacts(inv: Inventory, hosts: Host[], opts: GatherOptions = {}): Promise<Gathered> {
  const journals = new Map<string, string>();
  const nodes: NodeReport[] = await Promise.all(
    hosts.map(async (h): Promise<NodeReport> => {
      if (!h.remote) return { node: h.node.name, reachable: false, error: h.outcome.reason ?? 'not connected' };
      try {
        const [sd, journal] = await Promise.all([
          // The systemd state and the moved-aside dirs in one round trip.
          h.remote.run(`${systemdStateScript}\n${asideDirsScript(inv.etcd.dataDir)}`, { timeoutMs: 20_000 }),
          opts.journal === false ? Promise.resolve('') : readJournal(h.remote),
        ]);
        journals.set(h.node.name, journal);
        const asideDirs = sd.stdout.split('\n').flatMap((l) => (l.startsWith('Aside=/') ? [l.slice('Aside='.length)] : []));
        return { node: h.node.name, reachable: true, systemd: parseSystemdState(sd.stdout), ...(asideDirs.length ? { asideDirs } : {}) };
      } catch (e) {
        return { node: h.node.name, reachable: false, error: (e as Error).message };
      }
    }),
  );
  // Any node with etcdctl can ask every endpoint: one whose etcd runs first, then the others.
  const isActive = (h: Host) => nodes.find((x) => x.node === h.node.name)?.systemd?.active === 'active';
  const { answer, reason } = await askCluster(inv, hosts, { isActive, anyHost: true, ...(opts.asked ? { asked: opts.asked } : {}) });
  const fallback = hosts.find(usable);
  const probe: Gathered['probe'] = answer ? { node: answer.asker.node, remote: answer.asker.remote } : fallback ? { node: fallback.node, remote: fallback.remote } : undefined;
  // Taken only from the node that answered for the cluster (a fallback probe asks again, as it always did).
  const early = opts.early && answer && opts.early.remote === answer.asker.remote ? await opts.early.endpoints.catch(() => undefined) : undefined;
  const { status, health } = early ?? (probe ? await askEndpoints(inv, probe.remote) : { status: inv.nodes.map((n) => ({ endpoint: clientUrl(n), error: 'no node reachable over SSH' })), health: [] });
  const facts: ClusterFacts = { status, health, nodes, ...(answer ? { members: answer.members } : reason ? { membersError: reason } : {}) };
  return { facts, ...(probe ? { probe } : {}), journals };
}
