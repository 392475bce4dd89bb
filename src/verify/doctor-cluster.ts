import { clientUrl, peerUrl } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import type { SystemdState } from './checks.js';
import { diagnose, sortFindings, type Finding } from './diagnose.js';
import type { EndpointStatus } from './etcdctl.js';
import type { JournalEntry } from './journal.js';

/**
 * The online doctor's judgement, pure: per-member journal findings plus what only the live cluster shows
 * (term movement across status samples, etcd's own latency histograms, reachability, clocks, modes, certs),
 * combined into findings with evidence, cause and fix.
 */

export interface Latency {
  p50: number;
  p99: number;
  count: number;
}

export interface MemberDisk {
  /** From etcd's /metrics (seconds). */
  walFsync?: Latency;
  backendCommit?: Latency;
  peerRttP99?: number;
  /** Measured directly on the data dir's filesystem when etcd is not up. */
  probe?: { method: string; p50: number; p99: number; samples: number };
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
}

/** etcd's guidance (FAQ, tuning docs). */
export const FSYNC_P99_TARGET_S = 0.01;
export const COMMIT_P99_TARGET_S = 0.025;
export const CLOCK_WARN_MS = 500;
export const CLOCK_ERROR_MS = 1000;

const ms = (s: number) => (s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`);

function finding(f: Omit<Finding, 'count' | 'facts' | 'details'> & Partial<Pick<Finding, 'count' | 'facts' | 'details'>>): Finding {
  return { count: 1, facts: {}, details: [], ...f };
}

/** How far each endpoint's raft term moved across the samples. */
export function termMovement(samples: DoctorFacts['statusSamples']): { from: number; to: number; seconds: number; leaders: number } | undefined {
  if (samples.length < 2) return undefined;
  const terms = samples.map((s) => Math.max(0, ...s.status.map((x) => x.raftTerm)));
  const leaders = new Set(samples.flatMap((s) => s.status.map((x) => x.leader || 'none')));
  const seconds = (samples[samples.length - 1]!.at.getTime() - samples[0]!.at.getTime()) / 1000;
  return { from: terms[0]!, to: terms[terms.length - 1]!, seconds, leaders: leaders.size };
}

export function diagnoseCluster(inv: Inventory, facts: DoctorFacts): Finding[] {
  const out: Finding[] = [];
  const { heartbeatInterval: hbMs, electionTimeout: etMs } = inv.etcd;
  const movement = termMovement(facts.statusSamples);
  const termMoving = !!movement && movement.to > movement.from;
  const slowest = facts.members
    .map((m) => ({ node: m.node, p99: m.disk?.walFsync?.p99 ?? m.disk?.probe?.p99 }))
    .filter((x): x is { node: string; p99: number } => x.p99 !== undefined)
    .sort((a, b) => b.p99 - a.p99)[0];

  for (const m of facts.members) {
    if (!m.reachable) {
      out.push(finding({ id: 'SSH', severity: 'error', title: 'node unreachable over SSH', hosts: [m.node], evidence: [m.error ?? ''], meaning: 'hardway cannot look at this member', fix: `check the node is up and reachable (ssh ${m.node}); paste its 'journalctl -u etcd' into 'hardway doctor --journal FILE' to diagnose it offline` }));
      continue;
    }
    const d = diagnose(m.entries);
    for (const f of d.findings) {
      if (f.id === 'ELECT-LOOP' || f.id === 'ELECT-FLAP' || f.id === 'ELECT-CHURN') continue; // judged below, with the status samples
      out.push({ ...f, hosts: [m.node] });
    }
    const el = d.elections;
    if (el.loop || el.flapping) {
      const numbers = `${el.elections} elections in ${Math.round(el.window.seconds ?? 0)} s of journal (peak ${el.electionsPerMinute}/min), term ${el.termStart ?? '?'} → ${el.termEnd ?? '?'}, ${el.stableLeader ? `leader stable since ${el.stableLeader.since.toISOString()}` : 'no stable leader'}`;
      const live = movement ? `; endpoint status over ${movement.seconds.toFixed(0)} s: term ${movement.from} → ${movement.to}` : '';
      const confirmed = el.loop && (termMoving || !movement);
      const cause =
        slowest && slowest.p99 * 1000 > hbMs
          ? `slow disk: WAL fsync p99 ${ms(slowest.p99)} on ${slowest.node} is over the heartbeat interval (${hbMs} ms), so the leader cannot persist and send heartbeats in time and followers time out after ${etMs} ms`
          : undefined;
      out.push(
        finding({
          id: confirmed ? 'ELECT-LOOP' : 'ELECT-FLAP',
          severity: confirmed ? 'error' : 'warning',
          title: confirmed ? `election loop${cause ? ' caused by slow disk' : ''}` : 'repeated elections (a leader exists now)',
          hosts: [m.node],
          evidence: el.evidence.slice(-3).map((e) => e.raw),
          facts: { elections: el.elections, perMinute: el.electionsPerMinute, termStart: el.termStart ?? 0, termEnd: el.termEnd ?? 0, ...(movement ? { liveTermFrom: movement.from, liveTermTo: movement.to } : {}) },
          details: [numbers + live, ...(cause ? [`cause: ${cause}`] : [])],
          meaning: confirmed ? 'members keep electing and never keep a leader: the cluster accepts no writes' : 'leaders changed often recently',
          fix: cause
            ? `move ${inv.etcd.dataDir} to a faster disk, or run 'hardway tune' to raise --heartbeat-interval/--election-timeout above the measured fsync latency (with the disk still slow)`
            : 'check the disk (fsync p99 < 10 ms), the network between members and CPU load; see the findings above',
        }),
      );
    }

    const disk = m.disk;
    const fs = disk?.walFsync ?? (disk?.probe ? { p50: disk.probe.p50, p99: disk.probe.p99, count: disk.probe.samples } : undefined);
    if (fs && fs.p99 > FSYNC_P99_TARGET_S) {
      const over = fs.p99 * 1000 > hbMs;
      out.push(
        finding({
          id: 'DISK-FSYNC',
          severity: over ? 'error' : 'warning',
          title: `slow fsync: p99 ${ms(fs.p99)} (etcd wants < 10 ms)`,
          hosts: [m.node],
          evidence: [`${disk?.walFsync ? 'etcd_disk_wal_fsync_duration_seconds' : `fsync probe (${disk?.probe?.method})`}: p50 ${ms(fs.p50)}, p99 ${ms(fs.p99)} over ${fs.count} syncs`],
          facts: { p50: fs.p50, p99: fs.p99, heartbeatMs: hbMs, electionMs: etMs },
          details: [over ? `p99 ${ms(fs.p99)} exceeds --heartbeat-interval ${hbMs} ms: heartbeats go out late and followers start elections` : `p99 ${ms(fs.p99)} is within --heartbeat-interval ${hbMs} ms but above etcd's 10 ms target`],
          meaning: 'every write waits for the WAL fdatasync; a slow disk delays heartbeats and causes elections',
          fix: `put ${inv.etcd.dataDir} on a low-latency SSD (or --wal-dir on one); stop other IO on that disk; or 'hardway tune' to fit the timeouts to this disk`,
        }),
      );
    }
    if (disk?.backendCommit && disk.backendCommit.p99 > COMMIT_P99_TARGET_S) {
      out.push(finding({ id: 'DISK-COMMIT', severity: 'warning', title: `slow backend commit: p99 ${ms(disk.backendCommit.p99)} (etcd wants < 25 ms)`, hosts: [m.node], evidence: [`etcd_disk_backend_commit_duration_seconds p99 ${ms(disk.backendCommit.p99)} over ${disk.backendCommit.count}`], meaning: 'applying writes to the database is slow: the disk, or a large DB needing defrag', fix: 'a faster disk; etcdctl defrag on a large DB' }));
    }
    if (disk?.peerRttP99 !== undefined && disk.peerRttP99 * 1000 > hbMs) {
      out.push(finding({ id: 'NET-RTT', severity: 'warning', title: `peer round trip p99 ${ms(disk.peerRttP99)} exceeds the heartbeat interval (${hbMs} ms)`, hosts: [m.node], evidence: [`etcd_network_peer_round_trip_time_seconds p99 ${ms(disk.peerRttP99)}`], meaning: 'heartbeats take longer than their interval', fix: "'hardway tune' sets --heartbeat-interval to about the round trip and --election-timeout to 10× it" }));
    }

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
  }

  for (const p of facts.pkiProblems) {
    out.push(finding({ id: 'TLS-SAN', severity: 'error', title: 'certificate problem', hosts: [], evidence: [p], meaning: 'members or clients will reject the TLS handshake', fix: "'hardway pki' reissues kubernetes.pem, then 'hardway up' ships it" }));
  }
  // A URL the certificate will be asked for that the SAN list must cover (checked by pki check); listed for evidence.
  void clientUrl;
  void peerUrl;
  return sortFindings(dedupe(out));
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
