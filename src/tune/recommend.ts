import { MAX_ELECTION_TIMEOUT_MS, MIN_ELECTION_TO_HEARTBEAT } from '../inventory/derive.js';
import { FSYNC_P99_GOAL_S } from '../etcd/latency-goals.js';
import { formatSeconds as formatSecondsIn } from '../render/seconds.js';

/**
 * Heartbeat interval and election timeout from measured latencies, following etcd's tuning guide (tuning.md, faq.md):
 *
 * - heartbeat ≈ the maximum round trip between members. The leader's raft loop also waits for its WAL fsync before
 *   it can send the next heartbeat, so on a slow disk one fsync delays a heartbeat by that much: the heartbeat
 *   must cover max(RTT, fsync p99), times a margin, rounded up to a multiple of 50 ms, and at least etcd's default;
 * - election timeout = 10 × heartbeat (etcd: at least 10× the RTT; it refuses less than 5× the heartbeat), which
 *   also keeps it well above one fsync so that a single slow sync cannot start an election;
 * - election timeout ≤ 50000 ms (etcd's limit); the heartbeat is then capped so that the 5× rule still holds.
 *
 * Pure: numbers in, numbers and explanation lines out.
 */

export const DEFAULT_HEARTBEAT_MS = 100;
export const DEFAULT_ELECTION_MS = 1000;
/** etcd's tuning guide: election timeout ≈ 10× the heartbeat (and at least 10× the RTT). */
export const ELECTION_TO_HEARTBEAT = 10;
/** Margin over the worst measured delay (RTT or fsync p99). */
export const DEFAULT_MARGIN = 1.5;
/** Heartbeats are rounded up to a multiple of this. */
export const HEARTBEAT_STEP_MS = 50;
/** The election timeout must outlast this many consecutive worst-case fsyncs. */
export const ELECTION_MIN_FSYNCS = 5;

export interface Timing {
  heartbeatInterval: number;
  electionTimeout: number;
}

export interface TimingInput {
  /** p99 of etcd_disk_wal_fsync_duration_seconds (or of the fsync probe), seconds; null/undefined when not measured. */
  fsyncP99S?: number | null;
  /** The largest p99 peer round trip (etcd_network_peer_round_trip_time_seconds, max across peers), seconds. */
  rttP99S?: number | null;
  /** The inventory's current values (ms). */
  current: Timing;
  /** Default 1.5. */
  margin?: number;
}

export interface TimingRecommendation extends Timing {
  /** false when the current values already satisfy the recommendation (then they are returned unchanged). */
  changed: boolean;
  /** false when etcd's limits cannot cover the measured latency: only a faster disk/network helps. */
  feasible: boolean;
  /** What was measured, the rule applied and the result, in numbers; one sentence a line. */
  explanation: string[];
}

const formatSeconds = (s: number) => formatSecondsIn(s, 'figure');

function checkInput(name: string, v: number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number of seconds ≥ 0 (got ${v})`);
  return v;
}

export function recommendTiming(input: TimingInput): TimingRecommendation {
  const fsync = checkInput('fsyncP99S', input.fsyncP99S);
  const rtt = checkInput('rttP99S', input.rttP99S);
  const margin = input.margin ?? DEFAULT_MARGIN;
  if (!(margin >= 1)) throw new RangeError(`margin must be ≥ 1 (got ${margin})`);
  const { current } = input;
  const cur = `${current.heartbeatInterval}/${current.electionTimeout} ms`;
  const explanation: string[] = [];

  if (fsync === null && rtt === null) {
    return {
      ...current,
      changed: false,
      feasible: true,
      explanation: [`Nothing was measured (no fsync or round-trip latency): keeping heartbeat/election ${cur}.`],
    };
  }

  if (fsync !== null) {
    const ratio = fsync / FSYNC_P99_GOAL_S;
    explanation.push(
      `Measured WAL fsync p99: ${formatSeconds(fsync)} (etcd wants < ${formatSeconds(FSYNC_P99_GOAL_S)}${ratio >= 2 ? `; this is ${Math.round(ratio)}× that` : ''}).` +
        ' The leader waits for its fsync before the next heartbeat, so a heartbeat can be that late.',
    );
  } else explanation.push('WAL fsync latency: not measured.');
  if (rtt !== null) explanation.push(`Measured peer round trip p99 (worst peer): ${formatSeconds(rtt)}.`);
  else explanation.push('Peer round trip: not measured (a single member has no peers).');

  const worstMs = Math.max(fsync ?? 0, rtt ?? 0) * 1000;
  const worstName = (fsync ?? 0) >= (rtt ?? 0) ? 'fsync p99' : 'round trip';
  const rawHeartbeat = worstMs * margin;
  let heartbeat = Math.max(DEFAULT_HEARTBEAT_MS, Math.ceil(rawHeartbeat / HEARTBEAT_STEP_MS - 1e-9) * HEARTBEAT_STEP_MS);
  explanation.push(
    `Heartbeat ≥ max(round trip, fsync p99) × ${margin} = ${worstName} ${formatSeconds(worstMs / 1000)} × ${margin} = ${Number(rawHeartbeat.toFixed(rawHeartbeat < 10 ? 1 : 0))} ms` +
      ` → ${heartbeat} ms (rounded up to ${HEARTBEAT_STEP_MS} ms, at least etcd's default ${DEFAULT_HEARTBEAT_MS} ms).`,
  );

  let election = ELECTION_TO_HEARTBEAT * heartbeat;
  const fsyncFloor = fsync !== null ? Math.ceil(fsync * 1000 * ELECTION_MIN_FSYNCS) : 0;
  explanation.push(
    `Election timeout = ${ELECTION_TO_HEARTBEAT}× heartbeat = ${election} ms (etcd's ${ELECTION_TO_HEARTBEAT}× rule; it refuses less than ${MIN_ELECTION_TO_HEARTBEAT}×)` +
      (fsync !== null ? `, which outlasts ${Math.floor(election / (fsync * 1000 || 1))} fsyncs of ${formatSeconds(fsync)}.` : '.'),
  );
  if (election < fsyncFloor) election = fsyncFloor; // not reachable with margin ≥ 1, kept as a guard

  let feasible = true;
  if (election > MAX_ELECTION_TIMEOUT_MS) {
    election = MAX_ELECTION_TIMEOUT_MS;
    const maxHeartbeat = Math.floor(MAX_ELECTION_TIMEOUT_MS / MIN_ELECTION_TO_HEARTBEAT / HEARTBEAT_STEP_MS) * HEARTBEAT_STEP_MS;
    explanation.push(`That is over etcd's limit of ${MAX_ELECTION_TIMEOUT_MS} ms: election timeout capped at ${MAX_ELECTION_TIMEOUT_MS} ms.`);
    if (heartbeat > maxHeartbeat) {
      explanation.push(`Heartbeat capped at ${maxHeartbeat} ms so that the election timeout stays ≥ ${MIN_ELECTION_TO_HEARTBEAT}× the heartbeat.`);
      heartbeat = maxHeartbeat;
    }
    if (heartbeat < rawHeartbeat || election < fsyncFloor) {
      feasible = false;
      explanation.push(`No setting within etcd's limits covers a ${worstName} of ${formatSeconds(worstMs / 1000)}: only a faster disk or network will stop the elections.`);
    }
  }

  // The current values pass when they reach the unrounded needs (the rounding is only for new values).
  const heartbeatNeeded = Math.max(DEFAULT_HEARTBEAT_MS, Math.min(rawHeartbeat, heartbeat));
  const electionNeeded = Math.max(fsyncFloor, Math.min(election, ELECTION_TO_HEARTBEAT * heartbeatNeeded));
  const satisfied =
    current.heartbeatInterval >= heartbeatNeeded &&
    current.electionTimeout >= electionNeeded &&
    current.electionTimeout >= MIN_ELECTION_TO_HEARTBEAT * current.heartbeatInterval &&
    current.electionTimeout <= MAX_ELECTION_TIMEOUT_MS;
  if (satisfied) {
    explanation.push(`The current heartbeat/election ${cur} already cover this: no change needed.`);
    if (current.heartbeatInterval >= 4 * heartbeat) {
      explanation.push(`(They could be lowered to ${heartbeat}/${election} ms for faster failure detection.)`);
    }
    return { ...current, changed: false, feasible, explanation };
  }
  explanation.push(
    `Change heartbeat ${current.heartbeatInterval} → ${heartbeat} ms and election timeout ${current.electionTimeout} → ${election} ms (current ${cur} is too low for these latencies).`,
  );
  if (fsync !== null && fsync > FSYNC_P99_GOAL_S) {
    explanation.push(`This only stops needless elections: every write still waits ≥ ${formatSeconds(fsync)} for the disk; a faster disk is the real fix.`);
  }
  return { heartbeatInterval: heartbeat, electionTimeout: election, changed: true, feasible, explanation };
}
