import { quorum } from '../inventory/derive.js';

/**
 * The cluster's condition, decided once from what every node shows and what live members answer, so that `doctor`,
 * `verify`, `plan`, `up` and `recover` say the same thing and act on the same facts. Pure: the I/O that fills
 * `ClusterFacts` is in gather.ts.
 *
 * The rule every flow follows from it: a membership change needs a healthy quorum; without one, the only ways back
 * are starting members that still hold their data (`up`), or rebuilding from the member with the newest data
 * (`recover`) or from a snapshot (`snapshot restore`).
 */

/** What one inventory node shows. */
export interface NodeFacts {
  node: string;
  /** The inventory's peer URL for it. */
  peerUrl: string;
  /** Reached over SSH; when not, `reason` says why and nothing else is known. */
  observed: boolean;
  reason?: string;
  /** Its etcd unit is active (or activating). */
  active?: boolean;
  /** systemd restarted it since it was started by hand (a crash loop shows here). */
  restarts?: number;
  /** Something listens on its client port (unknown without `ss`). */
  listening?: boolean;
  /** Its data dir holds a WAL (etcd's own test of "has data"). */
  hasData?: boolean;
  /** Member and cluster IDs from the WAL, hex. */
  wal?: { memberId: string; clusterId: string };
  /** The revision its data holds: from `endpoint status` while it runs, from its db file while it is stopped. */
  revision?: number;
  /** The peer URL its installed unit advertises (`--initial-advertise-peer-urls`), when the unit sets one. */
  unitPeerUrl?: string;
}

export interface LiveMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** What the running members answered: the member list, and which members answer a health check. */
export interface LiveFacts {
  clusterId: string;
  members: LiveMember[];
  /** Member IDs whose endpoint answered `endpoint health`. */
  healthy: string[];
  /** The leader's member ID, when a member reports one. */
  leader?: string;
}

export interface ClusterFacts {
  nodes: NodeFacts[];
  live?: LiveFacts;
}

export type MemberState =
  /** Answers a health check. */
  | 'healthy'
  /** Its etcd runs but does not answer (no quorum, or still starting). */
  | 'running'
  /** Stopped (or failing) with its data: starting it brings it back. */
  | 'stopped'
  /** Its node is reachable but its data dir holds no WAL: the member's data is gone. */
  | 'data-lost'
  /** Added to the cluster but never started, its node empty: starting it joins it (what `up` does next). */
  | 'unstarted'
  /** Its node could not be reached: nothing is known. */
  | 'unobserved'
  /** No inventory node is this member. */
  | 'unknown';

export interface MemberCondition {
  id?: string;
  /** The inventory node, when one is this member. */
  node?: string;
  name: string;
  isLearner: boolean;
  state: MemberState;
  revision?: number;
  /** Set when the member's node is in the inventory under another peer URL than the member has. */
  moved?: { from: string[]; to: string };
}

export type ConditionKind =
  | 'healthy'
  | 'degraded'
  | 'quorum-lost'
  /** A quorum of members runs but none answers: they cannot keep a leader (an election loop, a partition). */
  | 'no-leader'
  | 'address-changed'
  | 'two-clusters'
  | 'stopped'
  | 'new'
  | 'not-observed';

export interface Condition {
  kind: ConditionKind;
  severity: 'ok' | 'warning' | 'error';
  /** One sentence a person acts on. */
  headline: string;
  /** The command that repairs it (when one does). */
  fix?: string;
  members: MemberCondition[];
  quorum?: { voters: number; need: number; healthy: number; canLose: number };
  /** The member `recover` would rebuild from: the highest revision among those that hold data. */
  source?: { node: string; revision?: number };
  /** Starting the stopped members that hold data restores the quorum (`up` does it). */
  startable?: boolean;
  /** Members whose node moved to another address (`up` updates them). */
  moved?: MemberCondition[];
  /** Nodes not reached over SSH, with why. */
  unobserved: { node: string; reason: string }[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);
const isAre = (n: number) => (n === 1 ? 'is' : 'are');
const hasHave = (n: number) => (n === 1 ? 'has' : 'have');

/** Which inventory node is this member: by peer URL, else by the member ID in a node's WAL, else by name. */
export function nodeOfMember(nodes: NodeFacts[], m: LiveMember): NodeFacts | undefined {
  return (
    nodes.find((n) => m.peerURLs.includes(n.peerUrl)) ??
    nodes.find((n) => n.wal?.memberId === m.id) ??
    (m.name ? nodes.find((n) => n.node === m.name && !n.hasData) : undefined)
  );
}

function memberState(m: LiveMember, n: NodeFacts | undefined, healthy: Set<string>): MemberState {
  if (healthy.has(m.id)) return 'healthy';
  if (!n) return 'unknown';
  if (!n.observed) return 'unobserved';
  if (!m.name && !n.hasData) return 'unstarted';
  // A node whose WAL is another member's holds nothing of this one.
  if (!n.hasData || (n.wal && n.wal.memberId !== m.id)) return 'data-lost';
  return n.active ? 'running' : 'stopped';
}

/** The member to rebuild from: the highest revision among those that hold data (inventory order breaks ties). */
export function chooseSource(members: MemberCondition[]): MemberCondition | undefined {
  const withData = members.filter((m) => m.node && (m.state === 'healthy' || m.state === 'running' || m.state === 'stopped'));
  return withData.reduce<MemberCondition | undefined>((best, m) => (!best || (m.revision ?? -1) > (best.revision ?? -1) ? m : best), undefined);
}

const revisionText = (m: MemberCondition) => (m.revision !== undefined ? `revision ${m.revision}` : 'revision unknown');

export function clusterCondition(facts: ClusterFacts): Condition {
  const unobserved = facts.nodes.filter((n) => !n.observed).map((n) => ({ node: n.node, reason: n.reason ?? 'not reached' }));
  if (facts.live) return liveCondition(facts, facts.live, unobserved);
  return offlineCondition(facts, unobserved);
}

function liveCondition(facts: ClusterFacts, live: LiveFacts, unobserved: Condition['unobserved']): Condition {
  const healthy = new Set(live.healthy);
  const members: MemberCondition[] = live.members.map((m) => {
    const n = nodeOfMember(facts.nodes, m);
    const moved = n && !m.peerURLs.includes(n.peerUrl) && m.peerURLs.length ? { from: m.peerURLs, to: n.peerUrl } : undefined;
    const state = memberState(m, n, healthy);
    return {
      id: m.id,
      ...(n ? { node: n.node } : {}),
      name: m.name || n?.node || m.id,
      isLearner: m.isLearner,
      state,
      ...(n?.revision !== undefined && state !== 'data-lost' ? { revision: n.revision } : {}),
      ...(moved ? { moved } : {}),
    };
  });
  // In inventory order (members on no node last, by ID), not etcd's: every sentence names them in one stable order,
  // and the source's tie-break is the inventory's.
  const rank = (m: MemberCondition): number => (m.node ? facts.nodes.findIndex((n) => n.node === m.node) : facts.nodes.length);
  members.sort((a, b) => rank(a) - rank(b) || (a.id ?? '').localeCompare(b.id ?? ''));
  const voters = members.filter((m) => !m.isLearner);
  const up = voters.filter((m) => m.state === 'healthy');
  const need = quorum(voters.length);
  const q = { voters: voters.length, need, healthy: up.length, canLose: up.length - need };
  const moved = members.filter((m) => m.moved);
  const base = { members, quorum: q, unobserved, ...(moved.length ? { moved } : {}) };

  if (up.length >= need) {
    if (moved.length) {
      const what = moved.map((m) => `${m.node} (member ${m.id}) moved from ${m.moved!.from.join(',')} to ${m.moved!.to}`);
      return { ...base, kind: 'address-changed', severity: 'error', headline: `${list(what)}: the cluster still lists the old address`, fix: "'hardway up' updates the member's peer URL (member update), reissues the certificate with the new address and restarts that member" };
    }
    const down = voters.filter((m) => m.state !== 'healthy');
    if (!down.length) {
      return { ...base, kind: 'healthy', severity: 'ok', headline: `healthy: ${plural(voters.length, 'member')}, all answer; it survives ${plural(voters.length - need, 'failure')}` };
    }
    const why = down.map((m) => `${m.name} (${stateWords(m)})`);
    return {
      ...base,
      kind: 'degraded',
      severity: 'error',
      headline: `degraded: ${up.length} of ${voters.length} members healthy; ${list(why)}; it survives ${plural(q.canLose, 'more failure')}`,
      fix: down.some((m) => m.state === 'data-lost' || m.state === 'stopped' || m.state === 'unstarted') ? "'hardway up' starts or re-adds them" : "'hardway doctor' tells why",
    };
  }
  return quorumLost(base, voters);
}

function stateWords(m: MemberCondition): string {
  switch (m.state) {
    case 'running':
      return 'runs but does not answer';
    case 'stopped':
      return `stopped, holds its data${m.revision !== undefined ? ` at revision ${m.revision}` : ''}`;
    case 'data-lost':
      return 'empty data dir';
    case 'unstarted':
      return 'added, not started yet';
    case 'unobserved':
      return 'not reached over SSH';
    case 'unknown':
      return 'not in the inventory';
    default:
      return 'healthy';
  }
}

function quorumLost(base: Pick<Condition, 'members' | 'quorum' | 'unobserved' | 'moved'>, voters: MemberCondition[]): Condition {
  const { need } = base.quorum!;
  const running = voters.filter((m) => m.state === 'healthy' || m.state === 'running');
  const stopped = voters.filter((m) => m.state === 'stopped' || m.state === 'unstarted');
  const lost = voters.filter((m) => m.state === 'data-lost');
  const unreached = voters.filter((m) => m.state === 'unobserved' || m.state === 'unknown');
  const source = chooseSource(voters);
  const parts = [
    `quorum lost: ${running.length} of ${voters.length} members ${running.length === 1 ? 'runs' : 'run'}${running.length ? ` (${running.map((m) => `${m.name}, ${revisionText(m)}`).join('; ')})` : ''}`,
    ...(stopped.length ? [`${list(stopped.map((m) => `${m.name} (${m.state === 'unstarted' ? 'added, not started' : revisionText(m)})`))} ${isAre(stopped.length)} stopped, ready to start`] : []),
    ...(lost.length ? [`${list(lost.map((m) => m.name))} ${hasHave(lost.length)} ${lost.length === 1 ? 'an empty data dir' : 'empty data dirs'}`] : []),
    ...(unreached.length ? [`${list(unreached.map((m) => m.name))} could not be reached`] : []),
    'the cluster accepts no writes',
  ];
  // Enough members run: they are up but cannot keep a leader. Not a lost quorum of machines: the cause is elsewhere.
  if (running.length >= need) {
    const { quorum: _q, ...rest } = base;
    return {
      ...rest,
      quorum: base.quorum!,
      kind: 'no-leader',
      severity: 'error',
      headline: `no leader: ${running.length} of ${voters.length} members run but none answers (they keep electing, or cannot reach each other); the cluster accepts no writes`,
      fix: "'hardway doctor' names the cause (an election loop and its slow disk, a network partition, clocks)",
    };
  }
  // Members that kept their data come back by starting them: no rebuild, nothing lost.
  const startable = running.length + stopped.length >= need;
  if (startable) {
    return { ...base, kind: 'quorum-lost', severity: 'error', startable, headline: `${parts.join('; ')}.`, fix: `'hardway up' starts ${list(stopped.map((m) => m.name))}: with ${plural(running.length + stopped.length, 'member')} holding data the quorum (${need}) comes back, nothing is lost` };
  }
  const fromWhere = source ? `'hardway recover' rebuilds it from ${source.node} (${revisionText(source)}, nothing it holds is lost); 'hardway snapshot restore FILE' from a snapshot` : "no member holds data: 'hardway snapshot restore FILE' rebuilds it from a snapshot";
  const reach = unreached.length ? ` 'hardway recover' needs every inventory node reachable: bring ${list(unreached.map((m) => m.name))} back, or take ${unreached.length === 1 ? 'it' : 'them'} out of the inventory to rebuild without ${unreached.length === 1 ? 'it' : 'them'} and grow back later with 'hardway up'.` : '';
  return {
    ...base,
    kind: 'quorum-lost',
    severity: 'error',
    startable: false,
    headline: `${parts.join('; ')}. ${fromWhere}.${reach}`,
    fix: source ? 'hardway recover' : 'hardway snapshot restore FILE',
    ...(source ? { source: { node: source.node!, ...(source.revision !== undefined ? { revision: source.revision } : {}) } } : {}),
  };
}

/**
 * No member answered: decided from the WALs. Nodes holding data of one cluster are its members as far as can be
 * told (the member list lives in the data); with none running, the cluster is stopped and `up` starts it.
 */
function offlineCondition(facts: ClusterFacts, unobserved: Condition['unobserved']): Condition {
  const observed = facts.nodes.filter((n) => n.observed);
  const clusters = new Set(observed.flatMap((n) => (n.wal ? [n.wal.clusterId] : [])));
  const base = { members: [] as MemberCondition[], unobserved };
  if (!observed.length) {
    return { ...base, kind: 'not-observed', severity: 'error', headline: `no node could be observed: ${unobserved.map((u) => `${u.node}: ${u.reason}`).join('; ')}` };
  }
  if (clusters.size > 1) {
    const by = [...clusters].map((c) => `${c} on ${list(observed.filter((n) => n.wal?.clusterId === c).map((n) => n.node))}`);
    return { ...base, kind: 'two-clusters', severity: 'error', headline: `the nodes hold data of ${clusters.size} different clusters (${by.join('; ')}): they will not form one cluster`, fix: "'hardway plan' names the nodes that do not belong" };
  }
  const withData = observed.filter((n) => n.hasData);
  const members: MemberCondition[] = facts.nodes.map((n) => ({
    ...(n.wal ? { id: n.wal.memberId } : {}),
    node: n.node,
    name: n.node,
    isLearner: false,
    state: !n.observed ? 'unobserved' : !n.hasData ? 'data-lost' : n.active ? 'running' : 'stopped',
    ...(n.revision !== undefined ? { revision: n.revision } : {}),
    ...(n.unitPeerUrl && n.hasData && n.unitPeerUrl !== n.peerUrl ? { moved: { from: [n.unitPeerUrl], to: n.peerUrl } } : {}),
  }));
  if (!withData.length) return { ...base, members, kind: 'new', severity: 'ok', headline: 'no node holds etcd data yet: `hardway up` bootstraps the cluster', fix: 'hardway up' };
  const moved = members.filter((m) => m.moved);
  const runningOnes = withData.filter((n) => n.active);
  if (moved.length && moved.length >= quorum(withData.length)) {
    return {
      ...base,
      members,
      moved,
      kind: 'address-changed',
      severity: 'error',
      headline: `${list(moved.map((m) => `${m.node} moved from ${m.moved!.from[0]} to ${m.moved!.to}`))}: no quorum answers on the old addresses, so no member update can be made. 'hardway recover' rebuilds the cluster with the new addresses from the member with the newest data`,
      fix: 'hardway recover',
    };
  }
  // None runs: starting them brings the quorum back only if enough of them hold data (the inventory's nodes taken as
  // the members: the member list itself is in the data).
  if (!runningOnes.length && withData.length >= quorum(facts.nodes.length)) {
    return { ...base, members, kind: 'stopped', severity: 'error', headline: `no member runs: ${list(withData.map((n) => `${n.node}${n.revision !== undefined ? ` (revision ${n.revision})` : ''}`))} ${withData.length === 1 ? 'holds' : 'hold'} data; 'hardway up' starts them`, fix: 'hardway up' };
  }
  // Members run but none answered, or too few hold data: the inventory's nodes are taken as the members.
  const need = quorum(members.length);
  return quorumLost({ ...base, members, quorum: { voters: members.length, need, healthy: 0, canLose: -need } }, members);
}
