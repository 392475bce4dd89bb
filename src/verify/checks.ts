import { clientUrl, faultTolerance, peerUrl, quorum } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import type { EndpointHealth, MemberInfo } from '../etcd/etcdctl.js';
import type { SystemdState } from '../node/unit-state.js';
import type { EndpointAnswer } from '../etcd/health.js';

export type { SystemdState };

/**
 * The verdicts of `verify`, from what etcdctl and systemctl reported. Pure: the gathering is elsewhere.
 */

export type Severity = 'error' | 'warning';

export interface Problem {
  check: 'cluster' | 'members' | 'status' | 'health' | 'quorum' | 'systemd' | 'journal' | 'perf' | 'ssh' | 'certs';
  node?: string;
  severity: Severity;
  message: string;
}

export interface NodeReport {
  node: string;
  reachable: boolean;
  error?: string;
  systemd?: SystemdState;
  /** Old data dirs kept on the node (moved aside by a restore or a removal): said, never a problem. */
  asideDirs?: string[];
}

export interface ClusterFacts {
  members?: MemberInfo[];
  membersError?: string;
  /** One entry per inventory endpoint: its status, or why there is none. */
  status: EndpointAnswer[];
  health: EndpointHealth[];
  nodes: NodeReport[];
}

export interface QuorumSummary {
  healthy: number;
  total: number;
  quorum: number;
  /** How many more members may fail before the cluster loses quorum (-1: quorum already lost). */
  canLose: number;
  text: string;
}

/** Raft index lag beyond which a member is flagged as behind. */
export const RAFT_LAG_LIMIT = 100;

const nodeOfEndpoint = (inv: Inventory, endpoint: string) => inv.nodes.find((n) => clientUrl(n) === endpoint)?.name;

export function quorumSummary(healthy: number, total: number): QuorumSummary {
  const q = quorum(total);
  const canLose = healthy >= q ? healthy - q : -1;
  const text =
    canLose >= 0
      ? `${healthy}/${total} healthy: can survive ${canLose} more failure${canLose === 1 ? '' : 's'} (quorum ${q}; a ${total}-member cluster tolerates ${faultTolerance(total)})`
      : `${healthy}/${total} healthy: NO QUORUM (needs ${q}); the cluster cannot accept writes`;
  return { healthy, total, quorum: q, canLose, text };
}

export function memberProblems(inv: Inventory, members: MemberInfo[]): Problem[] {
  const problems: Problem[] = [];
  for (const node of inv.nodes) {
    const m = members.find((x) => x.name === node.name) ?? members.find((x) => x.peerURLs.includes(peerUrl(node)));
    if (!m) {
      problems.push({ check: 'members', node: node.name, severity: 'error', message: `${node.name} is not a member of the cluster (no member named ${node.name} or with peer URL ${peerUrl(node)})` });
      continue;
    }
    if (!m.started) problems.push({ check: 'members', node: node.name, severity: 'error', message: `member ${m.id} (${peerUrl(node)}) was added but has never started` });
    if (m.name && m.name !== node.name) problems.push({ check: 'members', node: node.name, severity: 'error', message: `member with peer URL ${peerUrl(node)} is named '${m.name}', not '${node.name}'` });
    if (!m.peerURLs.includes(peerUrl(node))) problems.push({ check: 'members', node: node.name, severity: 'error', message: `member ${m.name} has peer URLs ${m.peerURLs.join(',')}, expected ${peerUrl(node)}` });
    if (m.started && !m.clientURLs.includes(clientUrl(node))) problems.push({ check: 'members', node: node.name, severity: 'error', message: `member ${m.name} advertises client URLs ${m.clientURLs.join(',') || '(none)'}, expected ${clientUrl(node)}` });
    if (m.isLearner) problems.push({ check: 'members', node: node.name, severity: 'warning', message: `member ${m.name} is still a learner (not voting)` });
  }
  for (const m of members) {
    const known = inv.nodes.some((n) => n.name === m.name || m.peerURLs.includes(peerUrl(n)));
    if (!known) problems.push({ check: 'members', severity: 'error', message: `unexpected member ${m.id} (${m.name || 'unstarted'}, ${m.peerURLs.join(',')}) is not in the inventory` });
  }
  return problems;
}

export function statusProblems(inv: Inventory, status: ClusterFacts['status']): Problem[] {
  const problems: Problem[] = [];
  const ok = status.flatMap((s) => (s.status ? [s.status] : []));
  for (const s of status) {
    if (!s.status) {
      problems.push({ check: 'status', node: nodeOfEndpoint(inv, s.endpoint) ?? s.endpoint, severity: 'error', message: `no status from ${s.endpoint}: ${s.error ?? 'no answer'}` });
    }
  }
  const leaders = new Set(ok.map((s) => s.leader || 'none'));
  if (leaders.size > 1) {
    const who = ok.map((s) => `${nodeOfEndpoint(inv, s.endpoint) ?? s.endpoint} → ${s.leader || 'none'}`).join(', ');
    problems.push({ check: 'status', severity: 'error', message: `members disagree on the leader: ${who}` });
  } else if (ok.length && leaders.has('none')) {
    problems.push({ check: 'status', severity: 'error', message: 'no member reports a leader' });
  }
  const maxIndex = Math.max(0, ...ok.map((s) => s.raftIndex));
  for (const s of ok) {
    const node = nodeOfEndpoint(inv, s.endpoint) ?? s.endpoint;
    if (maxIndex - s.raftIndex > RAFT_LAG_LIMIT) {
      problems.push({ check: 'status', node, severity: 'warning', message: `raft index ${s.raftIndex} lags the most advanced member (${maxIndex}) by ${maxIndex - s.raftIndex}` });
    }
    if (s.raftIndex - s.raftAppliedIndex > RAFT_LAG_LIMIT) {
      problems.push({ check: 'status', node, severity: 'warning', message: `applied index ${s.raftAppliedIndex} lags its raft index ${s.raftIndex}: applying is slow` });
    }
    for (const e of s.errors) problems.push({ check: 'status', node, severity: 'error', message: `reports: ${e}` });
  }
  return problems;
}

export function systemdProblems(n: NodeReport): Problem[] {
  const s = n.systemd;
  if (!s) return [];
  const problems: Problem[] = [];
  if (s.loadState === 'bad-setting' || s.loadState === 'error' || s.enabled === 'bad') {
    problems.push({ check: 'systemd', node: n.node, severity: 'error', message: `etcd.service unit file is bad (${s.loadState})${s.badReason ? `: ${s.badReason}` : ''}` });
  } else if (s.loadState === 'not-found') {
    problems.push({ check: 'systemd', node: n.node, severity: 'error', message: 'etcd.service is not installed' });
  }
  if (s.enabled !== 'enabled' && s.loadState !== 'not-found') problems.push({ check: 'systemd', node: n.node, severity: 'warning', message: `etcd.service is ${s.enabled || 'not enabled'}: it will not start at boot (systemctl enable etcd)` });
  if (s.active !== 'active' && s.loadState !== 'not-found') problems.push({ check: 'systemd', node: n.node, severity: 'error', message: `etcd.service is ${s.active} (${s.subState})` });
  if (s.restarts > 0) problems.push({ check: 'systemd', node: n.node, severity: 'warning', message: `etcd.service was restarted ${s.restarts} time(s) by systemd (Restart=on-failure): it crashed` });
  return problems;
}

export interface VerifyVerdict {
  problems: Problem[];
  quorum: QuorumSummary;
}

export function verifyVerdict(inv: Inventory, facts: ClusterFacts): VerifyVerdict {
  const problems: Problem[] = [];
  for (const n of facts.nodes) {
    if (!n.reachable) problems.push({ check: 'ssh', node: n.node, severity: 'error', message: `not observed (no SSH connection): ${n.error}` });
    problems.push(...systemdProblems(n));
  }
  if (facts.members) problems.push(...memberProblems(inv, facts.members));
  else problems.push({ check: 'members', severity: 'error', message: `member list failed: ${facts.membersError ?? 'no member answered'}` });
  problems.push(...statusProblems(inv, facts.status));
  for (const h of facts.health) {
    if (!h.health) problems.push({ check: 'health', node: nodeOfEndpoint(inv, h.endpoint) ?? h.endpoint, severity: 'error', message: `${h.endpoint} is unhealthy: ${h.error ?? 'no answer'}` });
  }
  const total = facts.members?.length || inv.nodes.length;
  const q = quorumSummary(facts.health.filter((h) => h.health).length, total);
  if (q.canLose < 0) problems.push({ check: 'quorum', severity: 'error', message: q.text });
  return { problems, quorum: q };
}
