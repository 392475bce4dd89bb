/**
 * Election analysis (pure): from journal entries, the raft election events per member and whether the cluster
 * is in an election loop, has a stable leader, or flaps between leaders.
 *
 * The raft texts are the same in etcd 3.4 (raft's default logger, `raft2026/11/23 … INFO: …`) and in 3.5/3.6
 * (the zap `msg`), so this works on `entry.message` whatever the format (reference A2). Events are attributed
 * to the member that logged them (the first hex id of the line).
 *
 * Meant to be reused by the online doctor, which adds endpoint-status samples and fsync metrics.
 */
import type { JournalEntry } from './parse.js';

/** Math.min/max without spreading (large inputs would overflow the call stack). */
export function minOf(xs: number[]): number {
  let m = Infinity;
  for (const x of xs) if (x < m) m = x;
  return m;
}

export function maxOf(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

export type RaftEventKind =
  | 'election' // RAFT-01 `%x is starting a new election at term %d`
  | 'candidate' // RAFT-02 `%x became candidate at term %d`
  | 'pre-candidate' // RAFT-03 `%x became pre-candidate at term %d`
  | 'leader' // RAFT-07 `%x became leader at term %d`
  | 'follower' // RAFT-08 `%x became follower at term %d`
  | 'elected' // RAFT-12 `raft.node: %x elected leader %x at term %d`
  | 'changed' // RAFT-13 `raft.node: %x changed leader from %x to %x at term %d`
  | 'lost' // RAFT-14 `raft.node: %x lost leader %x at term %d`
  | 'stepped-down'; // RAFT-15 `%x stepped down to follower since quorum is not active`

export interface RaftEvent {
  kind: RaftEventKind;
  /** The member that logged the line. */
  member: string;
  term?: number;
  /** The leader the event names (elected / changed-to / lost / the member itself for `leader`). */
  leader?: string;
  time?: Date;
  /** Position in the input (entries' order). */
  index: number;
  entry: JournalEntry;
}

const RE_ELECTION = /\b([0-9a-f]{1,16}) is starting a new election at term (\d+)/;
const RE_BECAME = /\b([0-9a-f]{1,16}) became (candidate|pre-candidate|leader|follower) at term (\d+)/;
const RE_ELECTED = /raft\.node: ([0-9a-f]{1,16}) elected leader ([0-9a-f]{1,16}) at term (\d+)/;
const RE_CHANGED = /raft\.node: ([0-9a-f]{1,16}) changed leader from ([0-9a-f]{1,16}) to ([0-9a-f]{1,16}) at term (\d+)/;
const RE_LOST = /raft\.node: ([0-9a-f]{1,16}) lost leader ([0-9a-f]{1,16}) at term (\d+)/;
const RE_STEPPED = /\b([0-9a-f]{1,16}) stepped down to follower since quorum is not active/;
/**
 * A leadership transfer (`etcdctl move-leader`, hardway's leader hand-off before a restart, etcd handing over
 * before it stops): the leader logs `[term N] starts to transfer leadership to X`, the transferee `[term N]
 * received MsgTimeoutNow from L and starts an election to get leadership.`; the election then happens at N+1.
 */
const RE_TRANSFER = /\b[0-9a-f]{1,16} \[term (\d+)\] (?:starts to transfer leadership to [0-9a-f]{1,16}|received MsgTimeoutNow from [0-9a-f]{1,16} and starts an election)/;

/**
 * The terms whose election a leadership transfer started, from any member's journal: a transfer is logged only by
 * the old leader and the new one, so the other members' journals need these to tell it from an election.
 */
export function transferTerms(entries: JournalEntry[]): Set<number> {
  const out = new Set<number>();
  for (const e of entries) {
    if (!e.message.includes('transfer leadership') && !e.message.includes('MsgTimeoutNow')) continue;
    const m = RE_TRANSFER.exec(e.message);
    if (m) out.add(Number(m[1]) + 1);
  }
  return out;
}

/** The raft event a message describes, if any. */
export function parseRaftEvent(message: string): Pick<RaftEvent, 'kind' | 'member' | 'term' | 'leader'> | undefined {
  let m = RE_ELECTION.exec(message);
  if (m) return { kind: 'election', member: m[1]!, term: Number(m[2]) };
  m = RE_ELECTED.exec(message);
  if (m) return { kind: 'elected', member: m[1]!, leader: m[2]!, term: Number(m[3]) };
  m = RE_CHANGED.exec(message);
  if (m) return { kind: 'changed', member: m[1]!, leader: m[3]!, term: Number(m[4]) };
  m = RE_LOST.exec(message);
  if (m) return { kind: 'lost', member: m[1]!, leader: m[2]!, term: Number(m[3]) };
  m = RE_BECAME.exec(message);
  if (m) {
    const kind = m[2] as 'candidate' | 'pre-candidate' | 'leader' | 'follower';
    return { kind, member: m[1]!, term: Number(m[3]), ...(kind === 'leader' ? { leader: m[1]! } : {}) };
  }
  m = RE_STEPPED.exec(message);
  if (m) return { kind: 'stepped-down', member: m[1]! };
  return undefined;
}

/** Raft events of etcd entries (and entries of unknown origin), in input order. */
export function extractRaftEvents(entries: JournalEntry[]): RaftEvent[] {
  const out: RaftEvent[] = [];
  entries.forEach((entry, index) => {
    if (entry.source === 'systemd' || (entry.source === 'other' && entry.ident !== '')) return;
    if (!entry.message.includes(' at term ') && !entry.message.includes('stepped down')) return;
    const ev = parseRaftEvent(entry.message);
    if (ev) out.push({ ...ev, index, entry, ...(entry.time ? { time: entry.time } : {}) });
  });
  return out;
}

export interface ElectionOptions {
  /** A leader counts as stable after this many seconds without a new election (default 30). */
  stableSeconds?: number;
  /** "Recent" = the last this-many seconds of the window (default 60). */
  recentSeconds?: number;
  /** Elections needed in the recent part for a loop, and within a minute for churn (default 3). */
  minElections?: number;
  /** Leader changes (distinct terms) within `flapSeconds` that make flapping (default 2 within 300 s). */
  minLeaderChanges?: number;
  flapSeconds?: number;
  /** End of the observed window (default: the last entry's time). */
  windowEnd?: Date;
  /**
   * Terms a leadership transfer started, known from other members' journals (`transferTerms`); this journal's
   * own transfers are found anyway. Their elections and leader changes are not counted as elections.
   */
  transferTerms?: ReadonlySet<number>;
}

export interface MemberElections {
  id: string;
  hosts: string[];
  elections: number;
  candidacies: number;
  preCandidacies: number;
  becameLeader: number;
  electedLeader: number;
  changedLeader: number;
  lostLeader: number;
  steppedDown: number;
  termStart?: number;
  termEnd?: number;
  firstElection?: Date;
  lastElection?: Date;
  /** Elections in the recent part of the window. */
  recentElections: number;
  /** Leader this member knows after its last election, if any. */
  leader?: string;
  loop: boolean;
}

export interface ElectionAnalysis {
  /** `is starting a new election` lines (all members). */
  elections: number;
  candidacies: number;
  preCandidacies: number;
  /** `became leader` + `elected leader` lines. */
  leaderEvents: number;
  changedLeader: number;
  lostLeader: number;
  steppedDown: number;
  /** Lowest and highest term seen in any raft line. */
  termStart?: number;
  termEnd?: number;
  /** Times the term went up (per member, summed). */
  termChanges: number;
  /** The most elections in any 60-second window (0 without timestamps). */
  electionsPerMinute: number;
  /** Elections per member per calendar minute (`2026-11-23T10:17`, UTC). */
  perMinute: { minute: string; member: string; elections: number }[];
  members: MemberElections[];
  /** The leader known after the last election (whether or not it has been stable long enough). */
  leader?: { id: string; term?: number; since?: Date };
  /** A leader elected and no new election for at least `stableSeconds` up to the end of the window. */
  stableLeader?: { id: string; since: Date; term?: number };
  /** Election loop: ≥ minElections elections recently, terms still climbing (or pre-vote stuck), no leader after. */
  loop: boolean;
  /** The leader keeps changing: ≥ minLeaderChanges losses/changes (distinct terms) within flapSeconds. */
  flapping: boolean;
  /** ≥ minElections elections within a minute, but not a loop (a leader won in the end). */
  churn: boolean;
  /** Elections in the last `recentSeconds` of the window. */
  recentElections: number;
  window: { start?: Date; end?: Date; seconds?: number };
  /** Leader changes that leadership transfers made (not counted as elections, losses or flapping). */
  transfers: number;
  /** One sentence for people. */
  summary: string;
  /** Up to 3 lines that show it: first and last election, last leader event or loss. */
  evidence: JournalEntry[];
}

const ELECTION_KINDS: ReadonlySet<RaftEventKind> = new Set(['election']);
const CANDIDACY_KINDS: ReadonlySet<RaftEventKind> = new Set(['candidate', 'pre-candidate']);
const LEADER_KINDS: ReadonlySet<RaftEventKind> = new Set(['leader', 'elected', 'changed']);
const LOSS_KINDS: ReadonlySet<RaftEventKind> = new Set(['lost', 'changed', 'stepped-down']);

function minuteKey(d: Date): string {
  return d.toISOString().slice(0, 16);
}

/** The most events in any window of `seconds` (events must carry times). */
function peakInWindow(times: number[], seconds: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= seconds * 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** "Starts" of an election: RAFT-01 lines; when a journal has none (filtered), candidacies stand in. */
function electionStarts(events: RaftEvent[]): RaftEvent[] {
  const starts = events.filter((e) => ELECTION_KINDS.has(e.kind));
  return starts.length > 0 ? starts : events.filter((e) => CANDIDACY_KINDS.has(e.kind));
}

/** Events whose kind starts a campaign: an election or a (pre-)candidacy. */
function isCampaign(e: RaftEvent): boolean {
  return ELECTION_KINDS.has(e.kind) || CANDIDACY_KINDS.has(e.kind);
}

/** The last event that matches, from the end. */
function lastOf(events: RaftEvent[], match: (e: RaftEvent) => boolean): RaftEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (match(events[i]!)) return events[i];
  return undefined;
}

/** Terms above 0 (term 0 is raft's state before any term, `became follower at term 0`: not part of a range). */
function realTerms(events: RaftEvent[]): number[] {
  return events.map((e) => e.term).filter((t): t is number => t !== undefined && t > 0);
}

/** How many times the term went up, in the order one member logged them. */
function termRises(terms: number[]): number {
  let rises = 0;
  let highest: number | undefined;
  for (const t of terms) {
    if (highest !== undefined && t > highest) rises++;
    highest = highest === undefined ? t : Math.max(highest, t);
  }
  return rises;
}

function groupByMember(events: RaftEvent[]): Map<string, RaftEvent[]> {
  const byMember = new Map<string, RaftEvent[]>();
  for (const e of events) {
    const list = byMember.get(e.member) ?? [];
    list.push(e);
    byMember.set(e.member, list);
  }
  return byMember;
}

/** Election starts per member per calendar minute (UTC), in time order then member order. */
function startsPerMinute(byMember: Map<string, RaftEvent[]>): ElectionAnalysis['perMinute'] {
  const counts = new Map<string, number>();
  for (const [id, evs] of byMember) {
    for (const s of electionStarts(evs)) {
      if (!s.time) continue;
      const key = `${minuteKey(s.time)}\u0000${id}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .map(([k, n]) => {
      const [minute, member] = k.split('\u0000') as [string, string];
      return { minute, member, elections: n };
    })
    .sort((a, b) => a.minute.localeCompare(b.minute) || a.member.localeCompare(b.member));
}

/**
 * One member's elections, and whether it is in a loop: enough recent elections, no leader known after its last
 * campaign, and its terms still climbing (or its pre-votes stuck, which do not raise the term).
 */
function memberElections(id: string, evs: RaftEvent[], isRecent: (e: RaftEvent) => boolean, minElections: number): MemberElections {
  const starts = electionStarts(evs);
  const terms = realTerms(evs);
  const lastStart = starts[starts.length - 1];
  // Every start is a campaign, so the last campaign is at or after the last start.
  const lastCampaignIdx = lastOf(evs, isCampaign)?.index ?? -1;
  const leaderAfter = lastOf(evs, (e) => LEADER_KINDS.has(e.kind) && e.index > lastCampaignIdx);
  const recent = starts.filter(isRecent);
  const recentCampaigns = evs.filter((e) => isCampaign(e) && isRecent(e));
  const recentTerms = recentCampaigns.map((e) => e.term).filter((t): t is number => t !== undefined);
  // Fewer than two terms never climb: maxOf([]) is -Infinity, below minOf([]).
  const climbing = maxOf(recentTerms) > minOf(recentTerms);
  const preVoteStuck = recentCampaigns.filter((e) => e.kind === 'pre-candidate').length >= minElections;
  const count = (kind: RaftEventKind) => evs.filter((e) => e.kind === kind).length;
  const m: MemberElections = {
    id,
    hosts: [...new Set(evs.map((e) => e.entry.host).filter((h): h is string => !!h))],
    elections: count('election'),
    candidacies: count('candidate'),
    preCandidacies: count('pre-candidate'),
    becameLeader: count('leader'),
    electedLeader: count('elected'),
    changedLeader: count('changed'),
    lostLeader: count('lost'),
    steppedDown: count('stepped-down'),
    recentElections: recent.length,
    loop: recent.length >= minElections && !leaderAfter && (climbing || preVoteStuck),
  };
  if (terms.length) {
    m.termStart = minOf(terms);
    m.termEnd = maxOf(terms);
  }
  if (starts[0]?.time) m.firstElection = starts[0].time;
  if (lastStart?.time) m.lastElection = lastStart.time;
  if (leaderAfter?.leader) m.leader = leaderAfter.leader;
  return m;
}

/**
 * The leader after the last campaign, since its first event of that leadership; stable when that is at least
 * `stableSeconds` before the window's end.
 */
function leadership(
  events: RaftEvent[],
  lastLeaderEvent: RaftEvent | undefined,
  endMs: number | undefined,
  stableSeconds: number,
): Pick<ElectionAnalysis, 'leader' | 'stableLeader'> {
  const lastCampaign = lastOf(events, isCampaign);
  if (!lastLeaderEvent || (lastCampaign && lastLeaderEvent.index <= lastCampaign.index)) return {};
  const sameLeadership = events.filter(
    (e) =>
      LEADER_KINDS.has(e.kind) &&
      e.leader === lastLeaderEvent.leader &&
      e.term === lastLeaderEvent.term &&
      e.index > (lastCampaign?.index ?? -1),
  );
  const sinceMs = sameLeadership.map((e) => e.time?.getTime()).filter((t): t is number => t !== undefined);
  const since = sinceMs.length ? new Date(minOf(sinceMs)) : undefined;
  const leader = { id: lastLeaderEvent.leader!, ...(lastLeaderEvent.term !== undefined ? { term: lastLeaderEvent.term } : {}), ...(since ? { since } : {}) };
  if (since && endMs !== undefined && endMs - since.getTime() >= stableSeconds * 1000) {
    return { leader, stableLeader: { id: leader.id, since, ...(leader.term !== undefined ? { term: leader.term } : {}) } };
  }
  return { leader };
}

/** The most distinct terms of leader losses/changes within any `flapSeconds` (all of them when some have no time). */
function flapCountOf(losses: RaftEvent[], flapSeconds: number): number {
  const lossKey = (e: RaftEvent): string => (e.term !== undefined ? `t${e.term}` : `i${e.index}`);
  if (losses.some((e) => e.time === undefined)) return new Set(losses.map(lossKey)).size;
  // Sliding window over the losses in time order, counting distinct terms inside it.
  const sorted = [...losses].sort((a, b) => a.time!.getTime() - b.time!.getTime());
  const inWindow = new Map<string, number>();
  let most = 0;
  let lo = 0;
  for (const e of sorted) {
    inWindow.set(lossKey(e), (inWindow.get(lossKey(e)) ?? 0) + 1);
    while (e.time!.getTime() - sorted[lo]!.time!.getTime() >= flapSeconds * 1000) {
      const k = lossKey(sorted[lo]!);
      const n = (inWindow.get(k) ?? 1) - 1;
      if (n === 0) inWindow.delete(k);
      else inWindow.set(k, n);
      lo++;
    }
    most = Math.max(most, inWindow.size);
  }
  return most;
}

/** Up to 3 lines that show the verdict: first, middle and last election of a loop or churn, the losses of flapping. */
function evidenceOf(verdict: { loop: boolean; churn: boolean; flapping: boolean }, starts: RaftEvent[], losses: RaftEvent[], lastLeaderEvent: RaftEvent | undefined): JournalEntry[] {
  const evidence: JournalEntry[] = [];
  const push = (e: RaftEvent | undefined): void => {
    if (e && !evidence.includes(e.entry) && evidence.length < 3) evidence.push(e.entry);
  };
  if (verdict.loop || verdict.churn) {
    push(starts[0]);
    if (!verdict.churn || !lastLeaderEvent) push(starts[Math.floor(starts.length / 2)]);
    push(starts[starts.length - 1]);
    push(lastLeaderEvent);
  } else if (verdict.flapping) {
    for (const e of losses.slice(-3)) push(e);
  } else {
    push(starts[starts.length - 1]);
    push(lastLeaderEvent);
  }
  return evidence;
}

export function analyzeElections(entries: JournalEntry[], opts: ElectionOptions = {}): ElectionAnalysis {
  const stableSeconds = opts.stableSeconds ?? 30;
  const recentSeconds = opts.recentSeconds ?? 60;
  const minElections = opts.minElections ?? 3;
  const minLeaderChanges = opts.minLeaderChanges ?? 2;
  const flapSeconds = opts.flapSeconds ?? 300;

  const transfers = new Set([...(opts.transferTerms ?? []), ...transferTerms(entries)]);
  // A transfer's election is raft doing what it was asked: only the events of other terms are elections.
  const allEvents = extractRaftEvents(entries);
  // Its campaign and the losses it causes are dropped; who leads after it is kept (the leader now).
  const isTransfer = (e: RaftEvent): boolean => e.term !== undefined && transfers.has(e.term) && (isCampaign(e) || LOSS_KINDS.has(e.kind));
  const events = allEvents.filter((e) => !isTransfer(e));
  const times = entries.map((e) => e.time?.getTime()).filter((t): t is number => t !== undefined);
  const windowStart = times.length ? new Date(minOf(times)) : undefined;
  const windowEnd = opts.windowEnd ?? (times.length ? new Date(maxOf(times)) : undefined);
  const endMs = windowEnd?.getTime();
  const isRecent = (e: RaftEvent): boolean =>
    endMs === undefined || e.time === undefined || e.time.getTime() >= endMs - recentSeconds * 1000;

  const byMember = groupByMember(events);
  const members = [...byMember].map(([id, evs]) => memberElections(id, evs, isRecent, minElections));
  const termChanges = [...byMember.values()].reduce((sum, evs) => sum + termRises(realTerms(evs)), 0);

  const starts = electionStarts(events);
  const allTerms = realTerms(events);
  const startTimes = starts.map((e) => e.time?.getTime()).filter((t): t is number => t !== undefined);
  const electionsPerMinute = peakInWindow(startTimes, 60);
  const lastLeaderEvent = lastOf(events, (e) => LEADER_KINDS.has(e.kind) && e.leader !== undefined);
  const { leader, stableLeader } = leadership(events, lastLeaderEvent, endMs, stableSeconds);

  // Leader flapping: distinct terms of losses/changes within flapSeconds, while a leader exists at the end.
  const losses = events.filter((e) => LOSS_KINDS.has(e.kind));
  const flapCount = flapCountOf(losses, flapSeconds);
  const loop = members.some((m) => m.loop);
  const flapping = !loop && leader !== undefined && flapCount >= minLeaderChanges;
  const churnCount = startTimes.length === starts.length ? electionsPerMinute : starts.length;
  const churn = !loop && churnCount >= minElections;
  const recentElections = starts.filter(isRecent).length;

  const termStart = allTerms.length ? minOf(allTerms) : undefined;
  const termEnd = allTerms.length ? maxOf(allTerms) : undefined;
  const loopMembers = members.filter((m) => m.loop).map((m) => m.id);
  let summary: string;
  if (events.length === 0) summary = 'no raft election lines';
  else if (loop)
    summary = `election loop on ${loopMembers.join(', ')}: ${starts.length} elections, term ${termStart}→${termEnd}, ${recentElections} in the last ${recentSeconds}s, no leader elected after the last one`;
  else if (flapping) summary = `leader flapping: ${flapCount} leader losses/changes within ${flapSeconds}s; leader now ${leader?.id}`;
  else if (stableLeader) summary = `stable leader ${stableLeader.id} since ${stableLeader.since.toISOString()} (${starts.length} election(s))`;
  else if (leader) summary = `leader ${leader.id} elected (${starts.length} election(s))`;
  else summary = `${starts.length} election(s), no leader seen`;

  const count = (match: (e: RaftEvent) => boolean) => events.filter(match).length;
  const result: ElectionAnalysis = {
    elections: count((e) => e.kind === 'election'),
    candidacies: count((e) => e.kind === 'candidate'),
    preCandidacies: count((e) => e.kind === 'pre-candidate'),
    leaderEvents: count((e) => e.kind === 'leader' || e.kind === 'elected'),
    changedLeader: count((e) => e.kind === 'changed'),
    lostLeader: count((e) => e.kind === 'lost'),
    steppedDown: count((e) => e.kind === 'stepped-down'),
    termChanges,
    electionsPerMinute,
    perMinute: startsPerMinute(byMember),
    members,
    loop,
    flapping,
    churn,
    recentElections,
    window: {
      ...(windowStart ? { start: windowStart } : {}),
      ...(windowEnd ? { end: windowEnd } : {}),
      ...(windowStart && windowEnd ? { seconds: Math.round((windowEnd.getTime() - windowStart.getTime()) / 1000) } : {}),
    },
    transfers: new Set(allEvents.filter(isTransfer).map((e) => e.term)).size,
    summary,
    evidence: evidenceOf({ loop, churn, flapping }, starts, losses, lastLeaderEvent),
  };
  if (termStart !== undefined) result.termStart = termStart;
  if (termEnd !== undefined) result.termEnd = termEnd;
  if (leader) result.leader = leader;
  if (stableLeader) result.stableLeader = stableLeader;
  return result;
}
