import { askCluster, type Asked } from '../etcd/cluster.js';
import type { Connected, Host } from '../engine/hosts.js';
import { CLIENT_PORT, clientUrl, peerUrl } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import { coversMembers, votersOf } from '../etcd/member-health.js';
import { endpointHealthOf, reachableClientUrl } from '../etcd/health.js';
import { endpointStatus } from '../etcd/health.js';
import type { EndpointHealth, EndpointStatus } from '../etcd/etcdctl.js';
import { hexId, parseWalMetadata } from '../etcd/ids.js';
import { boundedStatusCommand, parseSnapshotStatus } from '../etcd/tools.js';
import { shq, type Remote } from '../ssh/remote.js';
import { clusterCondition, type ClusterFacts, type Condition, type LiveFacts, type NodeFacts } from './condition.js';

/**
 * Fills `ClusterFacts` over SSH: one script per node (the unit's state, the WAL's IDs, the unit's peer URL, and,
 * for a stopped member, the revision its db holds), then what the live members answer (member list, health, the
 * revision of each running member). Everything in parallel; nothing is changed anywhere.
 */

const TAG = 'hardway-cond';

/** The per-node script: tagged lines, parsed by parseNodeFacts. `etcd.version` picks the tool that reads a db file. */
export function nodeFactsScript(dataDir: string, version: string, unit = 'etcd.service'): string {
  const dir = dataDir.replace(/\/+$/, '');
  const dbFile = `${dir}/member/snap/db`;
  const db = shq(dbFile);
  const unitFile = shq(`/etc/systemd/system/${unit}`);
  return [
    `active=$(systemctl is-active ${shq(unit)} 2>/dev/null || true); echo "${TAG} A $active"`,
    `echo "${TAG} R $(systemctl show -p NRestarts --value ${shq(unit)} 2>/dev/null || echo 0)"`,
    // Whether anything listens on the client port: a member restarting in a loop is "activating" but answers nothing.
    `if command -v ss >/dev/null 2>&1; then if [ -n "$(ss -Hltn 'sport = :${CLIENT_PORT}' 2>/dev/null)" ]; then echo "${TAG} L 1"; else echo "${TAG} L 0"; fi; fi`,
    `wal=$(ls ${shq(`${dir}/member/wal`)}/*.wal 2>/dev/null | head -n 1)`,
    `if [ -n "$wal" ]; then echo "${TAG} M 1"; echo "${TAG} W $(head -c 8192 "$wal" | base64 | tr -d '\\n')"; else echo "${TAG} M 0"; fi`,
    // The unit's own advertised peer URL: what the member was created with, to tell an address that changed.
    `if [ -f ${unitFile} ]; then echo "${TAG} P $(tr '\\\\\\n' '  ' < ${unitFile} | grep -oE -- '--initial-advertise-peer-urls[= ]+[^ ]+' | head -n 1 | sed -E 's/^--initial-advertise-peer-urls[= ]+//')"; fi`,
    // A stopped member's revision from its db, read-only (a running etcd holds the db's lock: it is asked instead).
    `case "$active" in active|activating|reloading) ;; *) if [ -n "$wal" ] && [ -f ${db} ]; then echo "${TAG} V $(${boundedStatusCommand(dbFile, version, 20)} 2>/dev/null | tr -d '\\n')"; fi;; esac`,
  ].join('\n');
}

export function parseNodeFacts(node: string, peer: string, output: string): NodeFacts {
  const f: NodeFacts = { node, peerUrl: peer, observed: true, hasData: false };
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${TAG} `)) continue;
    const tag = line.slice(TAG.length + 1, TAG.length + 2);
    const value = line.slice(TAG.length + 3).trim();
    if (tag === 'A') f.active = value === 'active' || value === 'activating' || value === 'reloading';
    if (tag === 'R') f.restarts = Number(value) || 0;
    if (tag === 'L') f.listening = value === '1';
    if (tag === 'M') f.hasData = value === '1';
    if (tag === 'P' && value) f.unitPeerUrl = value.split(',')[0]!;
    if (tag === 'W') {
      const meta = parseWalMetadata(Buffer.from(value, 'base64'));
      if (meta) f.wal = { memberId: hexId(meta.memberId), clusterId: hexId(meta.clusterId) };
    }
    if (tag === 'V') {
      const st = parseSnapshotStatus(value);
      if (st) f.revision = st.revision;
    }
  }
  return f;
}

export async function readNodeFacts(inv: Inventory, h: Host): Promise<NodeFacts> {
  // A host in conflict is still connected: what it shows counts (only one never reached is "not observed").
  if (!h.remote) return { node: h.node.name, peerUrl: peerUrl(h.node), observed: false, reason: h.outcome.reason ?? 'not connected' };
  const r = await h.remote.run(nodeFactsScript(inv.etcd.dataDir, inv.etcd.version), { timeoutMs: 40_000 });
  if (r.code !== 0 && !r.stdout.includes(TAG)) return { node: h.node.name, peerUrl: peerUrl(h.node), observed: false, reason: r.stderr.trim() || `exit ${r.code}` };
  return parseNodeFacts(h.node.name, peerUrl(h.node), r.stdout);
}

/** Every endpoint's health and status as another part of the flow asked them through a host, when it did. */
export type LiveAnswers = (asker: Remote) => Promise<{ health: EndpointHealth[]; status: EndpointStatus[] } | undefined>;

/**
 * What the live members say, asked through `asker`: health of every member and the revision of each that runs.
 * `stopped`: the nodes seen with etcd not running or not listening, not asked (each would cost etcdctl its whole dial timeout, one
 * after another in `endpoint status`). The status comes first: when no member that answers has a leader, no member
 * is healthy, and `endpoint health` (a read through the quorum) would only wait out its timeout to say so.
 */
export async function readLiveFacts(
  inv: Inventory,
  asker: Remote,
  answer: { clusterId: string; members: LiveFacts['members'] },
  answered?: LiveAnswers,
  stopped: ReadonlySet<string> = new Set(),
): Promise<{ live: LiveFacts; revisions: Map<string, number> }> {
  const rows = answer.members.map((m) => ({ ...m, started: !!m.name }));
  // Answers the flow already has through the same host are used, not asked for again (`verify`).
  const had = await answered?.(asker);
  let health: EndpointHealth[];
  let status: EndpointStatus[];
  if (had && coversMembers(rows, had.health)) [health, status] = [had.health, had.status];
  else {
    const running = inv.nodes.filter((n) => !stopped.has(n.name));
    const stoppedUrls = new Set(inv.nodes.filter((n) => stopped.has(n.name)).map((n) => clientUrl(n)));
    status = running.length ? await endpointStatus(asker, running).catch(() => []) : [];
    const noLeader = status.length > 0 && status.every((s) => !s.leader || s.leader === '0');
    const urls = rows.flatMap((m) => reachableClientUrl(m) ?? []).filter((u) => !stoppedUrls.has(u));
    health = noLeader || !urls.length ? [] : await endpointHealthOf(asker, urls);
  }
  const voters = votersOf(rows, health);
  const leader = status.find((s) => s.leader && s.leader !== '0')?.leader;
  return {
    live: { clusterId: answer.clusterId, members: answer.members, healthy: voters.filter((v) => v.healthy).map((v) => v.id), ...(leader ? { leader } : {}) },
    revisions: new Map(status.map((s) => [s.memberId, s.revision])),
  };
}

/** Live revisions onto the nodes whose WAL is that member's. */
export function withRevisions(nodes: NodeFacts[], revisions: Map<string, number>, live?: LiveFacts): NodeFacts[] {
  return nodes.map((n) => {
    const id = n.wal?.memberId ?? live?.members.find((m) => m.peerURLs.includes(n.peerUrl))?.id;
    const rev = id ? revisions.get(id) : undefined;
    return rev !== undefined ? { ...n, revision: rev } : n;
  });
}

/**
 * Facts and condition of the cluster, from hosts already connected (unreachable ones are "not observed"). `asked`: the
 * member lists other parts of the flow asked or are asking, not asked again.
 */
export async function gatherCondition(inv: Inventory, hosts: Host[], opts: { asked?: Asked; answered?: LiveAnswers } = {}): Promise<{ facts: ClusterFacts; condition: Condition; asker?: Connected }> {
  let nodes = await Promise.all(hosts.map((h) => readNodeFacts(inv, h).catch((e: Error): NodeFacts => ({ node: h.node.name, peerUrl: peerUrl(h.node), observed: false, reason: e.message }))));
  const active = new Set(nodes.filter((n) => n.active).map((n) => n.node));
  const { answer } = await askCluster(inv, hosts, { isActive: (h) => active.has(h.node.name), ...(opts.asked ? { asked: opts.asked } : {}) });
  let live: LiveFacts | undefined;
  if (answer) {
    const stopped = new Set(nodes.filter((n) => n.observed && (n.active === false || n.listening === false)).map((n) => n.node));
    const got = await readLiveFacts(inv, answer.asker.remote, answer, opts.answered, stopped);
    live = got.live;
    nodes = withRevisions(nodes, got.revisions, live);
  }
  const facts: ClusterFacts = { nodes, ...(live ? { live } : {}) };
  return { facts, condition: clusterCondition(facts), ...(answer ? { asker: answer.asker } : {}) };
}
