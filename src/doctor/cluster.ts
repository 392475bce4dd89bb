import { clientUrl, PEER_PORT } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import type { SystemdState } from '../verify/checks.js';
import { diagnose, judgeNow, parseGoDuration, sortFindings, type Finding } from '../journal/diagnose.js';
import type { EndpointStatus } from '../etcd/etcdctl.js';
import { entryLine, type JournalEntry } from '../journal/parse.js';
import { transferTerms, type ElectionAnalysis } from '../journal/elections.js';
import { signatureById } from '../journal/signatures.js';
import { alarmsInStatusErrors } from '../etcd/alarms.js';
import type { Condition } from '../cluster/condition.js';
import { certFindingId, type CertProblem } from '../pki/installed.js';
import { formatBytes } from '../output.js';
import { BACKEND_COMMIT_P99_GOAL_S, FSYNC_P99_GOAL_S } from '../etcd/latency-goals.js';

/**
 * The online doctor's judgement, pure: per-member journal findings plus what only the live cluster shows
 * (term movement across status samples, etcd's own latency histograms, reachability, clocks, modes, certs),
 * combined into findings with evidence, cause and fix.
 */

export interface Latency {
  p50: number;
  p99: number;
  count: number;
  /** sum / count, exact (the histogram's p99 is only known to lie in a bucket whose bounds double). */
  mean?: number;
  /** Lower bound of the bucket the p99 lies in. */
  p99Low?: number;
}

/**
 * The fsync latency to design timeouts for: the p99's bucket only bounds it within a factor of 2, so take the
 * higher of that bucket's lower bound and the exact mean — a figure the disk really reaches, not the bucket edge.
 */
export function fsyncFigure(l: Latency): number {
  return Math.max(l.p99Low ?? 0, l.mean ?? 0) || l.p99;
}

export interface MemberDisk {
  /** From etcd's /metrics (seconds). */
  walFsync?: Latency;
  backendCommit?: Latency;
  peerRttP99?: number;
  /** Measured directly on the data dir's filesystem when etcd is not up. */
  probe?: { method: string; p50: number; p99: number; samples: number };
  /** etcd's own `sync duration of …` / `slow fdatasync` lines (only syncs over 1 s are logged). */
  journal?: { p50: number; max: number; samples: number };
  error?: string;
}

export interface MemberFacts {
  node: string;
  reachable: boolean;
  error?: string;
  entries: JournalEntry[];
  systemd?: SystemdState;
  dataDirMode?: string;
  /** Node clock minus local clock (ms), ± half the round trip. */
  clockOffsetMs?: number;
  /** `host:port` → reachable from this node. */
  ports: Record<string, boolean>;
  disk?: MemberDisk;
}

export interface DoctorFacts {
  members: MemberFacts[];
  /** Endpoint status sampled a few times, a couple of seconds apart. */
  statusSamples: { at: Date; status: EndpointStatus[] }[];
  /** Problems `pki check` finds with the local certificates (SANs, expiry, issuer). */
  pkiProblems: string[];
  /** What is wrong with the certificates installed on the nodes (read there; see pki/installed.ts). */
  certs?: CertProblem[];
}

/** etcd's guidance (FAQ, tuning docs). */
export const CLOCK_WARN_MS = 500;
export const CLOCK_ERROR_MS = 1000;
/**
 * A p99 of fewer samples is their maximum: one slow write on a fresh cluster. Below this a figure within the
 * heartbeat interval is a note; one over it is an error whatever the count (the election loop's cause).
 */
export const MIN_P99_SAMPLES = 100;

const ms = (s: number) => (s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`);

function finding(f: Omit<Finding, 'count' | 'facts' | 'details'> & Partial<Pick<Finding, 'count' | 'facts' | 'details'>>): Finding {
  return { count: 1, facts: {}, details: [], ...f };
}

/**
 * How the raft term and the leader moved across the samples that got an answer; undefined when fewer than two did
 * (during an election loop a member may not answer at all: that is no evidence either way).
 */
export function termMovement(samples: DoctorFacts['statusSamples']): { from: number; to: number; seconds: number; leaderless: boolean } | undefined {
  const answered = samples.filter((s) => s.status.length > 0);
  if (answered.length < 2) return undefined;
  const term = (s: (typeof answered)[number]) => Math.max(...s.status.map((x) => x.raftTerm));
  const first = answered[0]!;
  const last = answered[answered.length - 1]!;
  return {
    from: term(first),
    to: term(last),
    seconds: (last.at.getTime() - first.at.getTime()) / 1000,
    leaderless: answered.some((s) => s.status.every((x) => !x.leader || x.leader === '0')),
  };
}

/**
 * etcd logs every WAL sync over 1 s with its duration: evidence from etcd itself, even when /metrics is not served
 * yet (3.4 serves its client listener only once the member has a leader). Adds it to members without metrics.
 */
export function addJournalSyncs(facts: DoctorFacts): void {
  for (const m of facts.members) {
    if (m.disk?.walFsync) continue;
    const secs = diagnose(m.entries)
      .matches.filter((x) => x.id === 'DISK-01' && x.groups.took)
      .map((x) => parseGoDuration(x.groups.took!))
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    if (secs.length) m.disk = { ...m.disk, journal: { p50: secs[Math.floor(secs.length / 2)]!, max: secs[secs.length - 1]!, samples: secs.length } };
  }
}

/** The fsync latency one member shows, best evidence first: etcd's histogram, etcd's log, a probe of the disk. */
export function memberFsync(m: MemberFacts): { seconds: number; source: string } | undefined {
  const d = m.disk;
  if (d?.walFsync) return { seconds: fsyncFigure(d.walFsync), source: `etcd metrics (${d.walFsync.count} WAL syncs)` };
  if (d?.journal) return { seconds: d.journal.p50, source: `etcd's log (${d.journal.samples} syncs over 1 s)` };
  if (d?.probe) return { seconds: d.probe.p99, source: `fsync probe (${d.probe.method}, p99)` };
  return undefined;
}

/** The cluster's condition as a finding (none when it is healthy or not created yet). */
export function conditionFinding(c: Condition): Finding | undefined {
  if (c.severity === 'ok') return undefined;
  const titles: Record<Condition['kind'], string> = {
    healthy: 'healthy',
    degraded: 'cluster degraded: a member is down',
    'quorum-lost': 'quorum lost: the cluster accepts no writes',
    'no-leader': 'no leader: the members run but none answers',
    'address-changed': "a member's address changed",
    'two-clusters': 'the nodes hold two clusters',
    stopped: 'no member runs',
    new: 'no cluster yet',
    'not-observed': 'the cluster could not be observed',
  };
  const hosts = c.members.filter((m) => m.node && m.state !== 'healthy').map((m) => m.node!);
  return finding({
    id: 'CLUSTER',
    severity: c.severity === 'error' ? 'error' : 'warning',
    title: titles[c.kind],
    hosts: [...new Set([...hosts, ...c.unobserved.map((u) => u.node)])],
    evidence: c.members.map((m) => `${m.name}${m.id ? ` (${m.id})` : ''}: ${m.state}${m.revision !== undefined ? `, revision ${m.revision}` : ''}${m.moved ? `, at ${m.moved.from.join(',')} in the cluster, ${m.moved.to} in the inventory` : ''}`),
    facts: { kind: c.kind, ...(c.quorum ? { voters: c.quorum.voters, healthy: c.quorum.healthy, need: c.quorum.need } : {}), ...(c.source ? { source: c.source.node } : {}) },
    details: [c.headline],
    meaning: c.kind === 'quorum-lost' ? 'fewer than a quorum of members can vote: no leader can be elected and no write or membership change can be committed' : c.headline,
    fix: c.fix ?? "'hardway verify' shows each member",
  });
}

export function diagnoseCluster(inv: Inventory, facts: DoctorFacts, condition?: Condition): Finding[] {
  const findings = judgeMembers(inv, facts);
  const found = condition && conditionFinding(condition);
  if (!found) return findings;
  // With a majority down, elections fail for want of voters, not for a slow disk: never the headline then.
  const noQuorum = condition.kind === 'quorum-lost';
  // Members that run and cannot keep a leader, or too few running: certificates they refuse may be why.
  const lead = noQuorum || condition.kind === 'no-leader' ? withCertCause(found, facts.certs ?? []) : found;
  const rest = findings.map((f) =>
    noQuorum && (f.id === 'ELECT-LOOP' || f.id === 'ELECT-FLAP')
      ? { ...f, severity: 'info' as const, title: `${f.title}: a consequence of the lost quorum`, fix: `see CLUSTER above: ${lead.fix}` }
      : f,
  );
  return [lead, ...sortFindings(rest)];
}

/** ELECT-LOOP or ELECT-FLAP for one member, from its journal's elections and the live status samples. */
function electionFinding(inv: Inventory, node: string, el: ElectionAnalysis, movement: ReturnType<typeof termMovement>, liveLoop: boolean | undefined, slowest: { node: string; p99: number } | undefined): Finding | undefined {
  const { heartbeatInterval: hbMs, electionTimeout: etMs } = inv.etcd;
  const climbing = (el.termEnd ?? 0) > (el.termStart ?? 0);
  const journalLoop = el.loop || (!el.stableLeader && el.electionsPerMinute >= 3 && climbing);
  if (journalLoop || el.flapping) {
    const seconds = Math.round(el.window.seconds ?? 0);
    const changes = el.lostLeader + el.changedLeader + el.steppedDown;
    // The figure a finding leads with is the one its title is about: elections for a loop, leader changes for flapping.
    const counted = journalLoop
      ? `${el.elections} elections in ${seconds} s of journal (peak ${el.electionsPerMinute}/min)`
      : `${changes} leader change(s)${el.elections ? ` and ${el.elections} election(s)` : ''} in ${seconds} s of journal`;
    const numbers = `${counted}, term ${el.termStart ?? '?'} → ${el.termEnd ?? '?'}${el.transfers ? ` (${el.transfers} leadership transfer(s) not counted)` : ''}, ${el.stableLeader ? `leader stable since ${el.stableLeader.since.toISOString()}` : 'no stable leader'}`;
    const live = movement
      ? `; endpoint status over ${movement.seconds.toFixed(0)} s: term ${movement.from} → ${movement.to}${movement.leaderless ? ', no leader' : ''}`
      : '; endpoint status: no answer (members busy electing)';
    const confirmed = journalLoop && liveLoop !== false;
    const cause =
      slowest && slowest.p99 * 1000 > hbMs
        ? `slow disk: WAL fsync ${ms(slowest.p99)} on ${slowest.node} is over the heartbeat interval (${hbMs} ms), so the leader cannot persist and send heartbeats in time and followers time out after ${etMs} ms`
        : undefined;
    return finding({
        id: confirmed ? 'ELECT-LOOP' : 'ELECT-FLAP',
        severity: confirmed ? 'error' : 'warning',
        title: confirmed ? `election loop${cause ? ' caused by slow disk' : ''}` : journalLoop ? `${el.elections} elections in ${seconds} s (a leader exists now)` : `the leader changed ${changes} times in ${seconds} s (a leader exists now)`,
        hosts: [node],
        evidence: el.evidence.slice(-3).map(entryLine),
        facts: { elections: el.elections, perMinute: el.electionsPerMinute, termStart: el.termStart ?? 0, termEnd: el.termEnd ?? 0, ...(movement ? { liveTermFrom: movement.from, liveTermTo: movement.to } : {}) },
        details: [numbers + live, ...(cause ? [`cause: ${cause}`] : [])],
        meaning: confirmed ? 'members keep electing and never keep a leader: the cluster accepts no writes' : 'leaders changed often recently',
        fix: cause
          ? `move ${inv.etcd.dataDir} to a faster disk, or run 'hardway tune' to raise --heartbeat-interval/--election-timeout above the measured fsync latency (with the disk still slow)`
          : 'check the disk (fsync p99 < 10 ms), the network between members and CPU load; see the findings above',
    });
  }
  return undefined;
}

/** DISK-FSYNC, DISK-COMMIT and NET-RTT for one member: its disk and network figures against etcd's goals and the heartbeat. */
function diskFindings(inv: Inventory, m: MemberFacts): Finding[] {
  const out: Finding[] = [];
  const { heartbeatInterval: hbMs, electionTimeout: etMs } = inv.etcd;
  const disk = m.disk;
  const fs =
    disk?.walFsync ??
    (disk?.journal ? { p50: disk.journal.p50, p99: disk.journal.max, count: disk.journal.samples } : undefined) ??
    (disk?.probe ? { p50: disk.probe.p50, p99: disk.probe.p99, count: disk.probe.samples } : undefined);
  const figure = memberFsync(m)?.seconds;
  if (fs && figure !== undefined && figure > FSYNC_P99_GOAL_S) {
    const over = figure * 1000 > hbMs;
    out.push(
      finding({
        id: 'DISK-FSYNC',
        severity: over ? 'error' : fs.count >= MIN_P99_SAMPLES ? 'warning' : 'info',
        title: `slow disk: WAL fsync takes ${ms(figure)} (etcd wants a p99 under 10 ms)`,
        hosts: [m.node],
        evidence: [
          disk?.walFsync
            ? `etcd_disk_wal_fsync_duration_seconds: ${fs.count} syncs, mean ${ms(disk.walFsync.mean ?? fs.p50)}, p50 ≈ ${ms(fs.p50)}, p99 ≈ ${ms(fs.p99)}${disk.walFsync.p99Low !== undefined ? ` (in the bucket above ${ms(disk.walFsync.p99Low)})` : ''}`
            : disk?.journal
              ? `etcd logged ${fs.count} WAL syncs over 1 s ('sync duration of …'): median ${ms(fs.p50)}, max ${ms(fs.p99)}`
              : `fsync probe (${disk?.probe?.method}) on ${inv.etcd.dataDir}: p50 ${ms(fs.p50)}, p99 ${ms(fs.p99)} over ${fs.count} writes`,
        ],
        facts: { fsyncSeconds: figure, p50: fs.p50, p99: fs.p99, heartbeatMs: hbMs, electionMs: etMs },
        details: [over ? `${ms(figure)} exceeds --heartbeat-interval ${hbMs} ms: heartbeats go out late and followers start elections` : `${ms(figure)} is within --heartbeat-interval ${hbMs} ms but above etcd's 10 ms target`],
        meaning: 'every write waits for the WAL fdatasync; a slow disk delays heartbeats and causes elections',
        fix: `put ${inv.etcd.dataDir} on a low-latency SSD (or --wal-dir on one); stop other IO on that disk; or 'hardway tune' to fit the timeouts to this disk`,
      }),
    );
  }
  if (disk?.backendCommit && disk.backendCommit.p99 > BACKEND_COMMIT_P99_GOAL_S) {
    out.push(finding({ id: 'DISK-COMMIT', severity: disk.backendCommit.count >= MIN_P99_SAMPLES ? 'warning' : 'info', title: `slow backend commit: p99 ${ms(disk.backendCommit.p99)} (etcd wants < 25 ms)`, hosts: [m.node], evidence: [`etcd_disk_backend_commit_duration_seconds p99 ${ms(disk.backendCommit.p99)} over ${disk.backendCommit.count}`], meaning: 'applying writes to the database is slow: the disk, or a large DB needing defrag', fix: 'a faster disk; etcdctl defrag on a large DB' }));
  }
  if (disk?.peerRttP99 !== undefined && disk.peerRttP99 * 1000 > hbMs) {
    out.push(finding({ id: 'NET-RTT', severity: 'warning', title: `peer round trip p99 ${ms(disk.peerRttP99)} exceeds the heartbeat interval (${hbMs} ms)`, hosts: [m.node], evidence: [`etcd_network_peer_round_trip_time_seconds p99 ${ms(disk.peerRttP99)}`], meaning: 'heartbeats take longer than their interval', fix: "'hardway tune' sets --heartbeat-interval to about the round trip and --election-timeout to 10× it" }));
  }

  return out;
}

/** DATA-PERM, CLOCK and PEER-PORT for one member: its data dir's mode, its clock, the ports it reaches. */
function hostFindings(inv: Inventory, facts: DoctorFacts, m: MemberFacts): Finding[] {
  const out: Finding[] = [];
  if (m.dataDirMode && m.dataDirMode !== '-' && m.dataDirMode !== '700') {
    out.push(finding({ id: 'DATA-PERM', severity: 'warning', title: `data dir mode ${m.dataDirMode}, not 700`, hosts: [m.node], evidence: [`stat -c %a ${inv.etcd.dataDir} → ${m.dataDirMode}`], meaning: 'etcd ≥ 3.4.10 warns ("check file permission") and others on the node can read the keyspace', fix: `chmod 700 ${inv.etcd.dataDir} (hardway up does it)` }));
  }
  if (m.clockOffsetMs !== undefined && Math.abs(m.clockOffsetMs) > CLOCK_WARN_MS) {
    out.push(finding({ id: 'CLOCK', severity: Math.abs(m.clockOffsetMs) > CLOCK_ERROR_MS ? 'error' : 'warning', title: `clock ${m.clockOffsetMs > 0 ? 'ahead' : 'behind'} by ${Math.abs(Math.round(m.clockOffsetMs))} ms`, hosts: [m.node], evidence: [`node clock − this machine's clock = ${Math.round(m.clockOffsetMs)} ms`], meaning: 'etcd warns about clock differences over 1 s between peers; leases and TLS validity depend on time', fix: 'run an NTP client (systemd-timesyncd or chrony) on every node' }));
  }
  for (const [target, ok] of Object.entries(m.ports)) {
    if (ok) continue;
    const to = facts.members.find((x) => target.startsWith(`${inv.nodes.find((n) => n.name === x.node)?.internalIp}:`));
    const active = to?.systemd?.active === 'active';
    out.push(finding({ id: 'PEER-PORT', severity: active ? 'error' : 'warning', title: `cannot connect to ${target}${to ? ` (${to.node})` : ''}`, hosts: [m.node], evidence: [`TCP connect from ${m.node} to ${target} failed${active ? ` while etcd on ${to?.node} is active` : ''}`], meaning: active ? 'a firewall or routing problem between members' : 'nothing listens there (etcd down on that node?)', fix: active ? `open TCP ${target.split(':')[1]} between the control-plane nodes (e.g. ufw allow from <subnet> to any port 2379,2380)` : `start etcd on ${to?.node ?? target}` }));
  }
  return out;
}

function judgeMembers(inv: Inventory, facts: DoctorFacts): Finding[] {
  const out: Finding[] = [];
  const movement = termMovement(facts.statusSamples);
  // Live evidence of a loop now: the term still climbs, or nobody knows a leader.
  const liveLoop = movement === undefined ? undefined : movement.to > movement.from || movement.leaderless;
  addJournalSyncs(facts);
  const slowest = facts.members
    .map((m) => ({ node: m.node, p99: memberFsync(m)?.seconds }))
    .filter((x): x is { node: string; p99: number } => x.p99 !== undefined)
    .sort((a, b) => b.p99 - a.p99)[0];

  // Leadership transfers seen in any member's journal: the other members' lines about them are no elections.
  const transfers = transferTerms(facts.members.flatMap((m) => m.entries));
  // Member ID → the node's IP, from the endpoint status samples (the journal names peers by member ID).
  const peerIps = new Map<string, string>();
  for (const st of facts.statusSamples.flatMap((x) => x.status)) {
    const n = inv.nodes.find((x) => clientUrl(x) === st.endpoint);
    if (st.memberId && n) peerIps.set(st.memberId, n.internalIp);
  }
  for (const m of facts.members) {
    if (!m.reachable) {
      out.push(finding({ id: 'SSH', severity: 'error', title: 'not observed: no SSH connection', hosts: [m.node], evidence: [m.error ?? ''], meaning: 'hardway cannot look at this node: nothing is known about its member from here (it may be running)', fix: `check the node is up and reachable (ssh ${m.node}); paste its 'journalctl -u etcd' into 'hardway doctor --journal FILE' to diagnose it offline` }));
      continue;
    }
    const d = diagnose(m.entries, { elections: { transferTerms: transfers }, history: 'live' });
    // A peer this node connects to now is no problem, whatever the journal said minutes ago.
    const peerNow = (id: string): string | false | undefined => {
      const ip = peerIps.get(id);
      const ok = ip === undefined ? undefined : m.ports[`${ip}:${PEER_PORT}`];
      return ok === undefined ? undefined : ok ? `${m.node} connects to ${ip}:${PEER_PORT}` : false;
    };
    for (const f of d.findings) {
      if (f.id === 'ELECT-LOOP' || f.id === 'ELECT-FLAP' || f.id === 'ELECT-CHURN') continue; // judged below, with the status samples
      out.push({ ...judgeNow(f, peerNow), hosts: [m.node] });
    }
    const elected = electionFinding(inv, m.node, d.elections, movement, liveLoop, slowest);
    if (elected) out.push(elected);
    out.push(...diskFindings(inv, m), ...hostFindings(inv, facts, m));
  }

  // pki.dir missing next to nodes that hold certificates is said by CERT-LOCAL, with the two ways out: 'hardway pki'
  // would make a CA the cluster does not trust.
  const localMissing = (facts.certs ?? []).some((c) => c.check === 'local' && !c.node);
  for (const p of facts.pkiProblems) {
    if (localMissing && / does not exist /.test(p)) continue;
    out.push(finding({ id: 'TLS-SAN', severity: 'error', title: 'certificate problem', hosts: [], evidence: [p], meaning: 'members or clients will reject the TLS handshake', fix: "'hardway pki' reissues kubernetes.pem, then 'hardway up' ships it" }));
  }
  for (const c of facts.certs ?? []) out.push(certFinding(c));
  return sortFindings(dedupe(withLiveNospace(inv, out, facts)));
}

/**
 * A NOSPACE alarm stays raised across restarts, after the journal lines that raised it have left the window: the
 * endpoint status of the last sample says whether it is active now. One finding for it, with the journal's lines as
 * more evidence, replaces the per-member journal ones.
 */
export function withLiveNospace(inv: Inventory, findings: Finding[], facts: Pick<DoctorFacts, 'statusSamples'>): Finding[] {
  const last = [...facts.statusSamples].reverse().find((s) => s.status.length > 0);
  const raisedBy = [...new Set((last?.status ?? []).flatMap((s) => alarmsInStatusErrors(s.errors)).filter((a) => a.alarm === 'NOSPACE').map((a) => a.memberId))];
  if (!raisedBy.length) return findings;
  const sig = signatureById('SPACE-01')!;
  const journal = findings.filter((f) => f.id === 'SPACE-01');
  const hostPort = (url: string) => url.replace(/^\w+:\/\//, '');
  const nodeAt = (endpoint: string) => inv.nodes.find((n) => hostPort(clientUrl(n)) === hostPort(endpoint))?.name;
  const nameOf = (id: string) => {
    const at = last!.status.find((s) => s.memberId === id);
    return at && nodeAt(at.endpoint) ? `${nodeAt(at.endpoint)} (${id})` : id;
  };
  const alarmed = last!.status.filter((s) => alarmsInStatusErrors(s.errors).some((a) => a.alarm === 'NOSPACE')).flatMap((s) => nodeAt(s.endpoint) ?? []);
  const live = finding({
    id: 'SPACE-01',
    severity: 'error',
    title: 'Database space exceeded: NOSPACE alarm active',
    hosts: [...new Set([...alarmed, ...journal.flatMap((f) => f.hosts)])],
    evidence: [
      ...last!.status.map((s) => `endpoint status ${s.endpoint}: db ${formatBytes(s.dbSize)}, ${s.errors.join('; ').trim() || 'no errors'}`),
      ...journal.flatMap((f) => f.evidence.slice(-1)),
    ],
    facts: { raisedBy: raisedBy.join(',') },
    details: [`raised by ${raisedBy.map(nameOf).join(', ')}; writes fail with 'mvcc: database space exceeded' until it is disarmed`],
    meaning: sig.meaning,
    fix: sig.fix,
    ...(sig.ref ? { ref: sig.ref } : {}),
  });
  return [live, ...findings.filter((f) => f.id !== 'SPACE-01')];
}

/** One finding per id and member. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.id}|${f.hosts.join(',')}|${f.title}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const CERT_TITLES: Record<CertProblem['check'], string> = {
  expiry: 'installed certificate expired or close to expiry',
  trust: "the nodes' trust files and leaves do not match",
  san: 'installed certificate does not cover the node',
  usage: 'installed certificate lacks serverAuth or clientAuth',
  local: "installed certificates are not pki.dir's",
  missing: 'certificate missing on the node',
};

const CERT_MEANINGS: Record<CertProblem['check'], string> = {
  expiry: 'an expired certificate is refused on every new connection, peer and client alike: the members stop hearing each other and the cluster loses its quorum',
  trust: 'a member trusts only the CAs in its --trusted-ca-file (read when it starts): one that does not verify its peers\' certificates cannot talk to them',
  san: 'etcd checks the peer certificate against the address it connects to, and against the address a peer connects from',
  usage: 'etcd uses one certificate as TLS server and as client of its peers',
  local: "'hardway up' and 'hardway env' use pki.dir's files",
  missing: 'etcd cannot start without its certificates',
};

/** A problem with the installed certificates as the doctor's finding: its own id per kind (CERT-EXPIRY, CERT-TRUST, …). */
export function certFinding(c: CertProblem): Finding {
  return finding({
    id: certFindingId(c),
    severity: c.severity,
    title: CERT_TITLES[c.check],
    hosts: c.node ? [c.node] : [],
    // Read on the node, not a log line: the whole sentence goes in the details (evidence lines are cut short).
    evidence: [`${c.node ?? 'every node'}: ${c.message}`],
    details: [c.message],
    meaning: CERT_MEANINGS[c.check],
    fix: c.fix,
  });
}

/**
 * Members that all run and still have no quorum, next to installed certificates that are expired or not trusted by
 * the others: the certificates are why (each new connection is refused), and their fix is the cluster's.
 */
export function withCertCause(lead: Finding, certs: CertProblem[]): Finding {
  const cause = certs.filter((c) => c.severity === 'error' && (c.check === 'expiry' || c.check === 'trust' || c.check === 'san'));
  if (!cause.length) return lead;
  const ids = [...new Set(cause.map(certFindingId))].join(', ');
  const fixes = [...new Set(cause.map((c) => c.fix))];
  return {
    ...lead,
    details: [...lead.details, `the members refuse each other's certificates (${ids} below): every new connection between them fails, so no quorum forms whatever runs`],
    fix: fixes.join('; '),
  };
}
