/**
 * From matches to findings: one finding per signature with count, time span, hosts, 1–3 evidence lines, the
 * numbers that matter (durations, files and lines, peers, terms), the cause and the fix. Plus the findings the
 * election analysis derives (ELECT-LOOP, ELECT-FLAP, ELECT-CHURN). Also the shared text printer.
 */
import { color, renderTable } from '../output.js';
import { formatSeconds } from '../render/seconds.js';
import { analyzeElections, maxOf, minOf, type ElectionAnalysis, type ElectionOptions } from './elections.js';
import { entryLine, formatTime, type JournalEntry } from './parse.js';
import {
  fillTemplate,
  loadCatalog,
  matchSignatures,
  SEVERITIES,
  type Match,
  type Severity,
  type Signature,
} from './signatures.js';


export interface Finding {
  id: string;
  severity: Severity;
  title: string;
  /** Matching lines (for derived findings: the elections counted). */
  count: number;
  first?: Date;
  last?: Date;
  hosts: string[];
  /** 1–3 log lines, as readable lines. */
  evidence: string[];
  /** The numbers and values pulled from the lines (durations, files, peers, terms…). */
  facts: Record<string, string | number>;
  /** What these particular lines say, in sentences (file:line, which flag, the related exit…). */
  details: string[];
  meaning: string;
  fix: string;
  /** Section of the reference. */
  ref?: string;
  /** The problem is over: the journal shows it ended after its last line (the finding is then a note). */
  resolved?: { at?: Date; evidence: string };
}

export interface Diagnosis {
  /** Entries read. */
  lines: number;
  findings: Finding[];
  elections: ElectionAnalysis;
  matches: Match[];
}

export interface DiagnoseOptions {
  catalog?: Signature[];
  elections?: ElectionOptions;
  /**
   * 'journal' (default): a finding whose end the journal shows becomes a note. 'live': it keeps its severity and
   * carries `resolved`, for a caller that checks the live cluster (`asHistory` then).
   */
  history?: 'journal' | 'live';
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Go durations (`1.200572091s`, `312.5ms`, `1m2.5s`, `850µs`) → seconds. */
export function parseGoDuration(s: string): number | undefined {
  const text = s.trim();
  if (text === '0' || text === '0s') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const n = Number(m[1]);
    const unit = m[2]!;
    const factor =
      unit === 'h' ? 3600 : unit === 'm' ? 60 : unit === 's' ? 1 : unit === 'ms' ? 1e-3 : unit === 'ns' ? 1e-9 : 1e-6;
    total += n * factor;
    consumed = re.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function distinct(values: (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
}

function groupValues(matches: Match[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of matches) {
    for (const [k, v] of Object.entries(m.groups)) {
      const vs = (out[k] ??= []);
      if (!vs.includes(v)) vs.push(v);
    }
  }
  return out;
}

/** First, second-to-middle and last matching lines: at most 3, distinct. */
function pickEvidence(entries: JournalEntry[], max = 3): string[] {
  const picks = entries.length <= max ? entries : [entries[0]!, entries[Math.floor(entries.length / 2)]!, entries[entries.length - 1]!];
  return distinct(picks.map(entryLine)).slice(0, max);
}

function timeSpan(entries: JournalEntry[]): { first?: Date; last?: Date } {
  const ts = entries.map((e) => e.time?.getTime()).filter((t): t is number => t !== undefined);
  if (!ts.length) return {};
  return { first: new Date(minOf(ts)), last: new Date(maxOf(ts)) };
}

function list(values: string[], max = 5): string {
  return values.length <= max ? values.join(', ') : `${values.slice(0, max).join(', ')} (+${values.length - max} more)`;
}

/** Durations found in a group, as numbers for the report: count, max, median. */
function durationFacts(matches: Match[], group: string, facts: Record<string, string | number>, label: string): number[] {
  const secs = matches.map((m) => (m.groups[group] ? parseGoDuration(m.groups[group]) : undefined)).filter((s): s is number => s !== undefined);
  if (secs.length) {
    facts[`${label}Max`] = formatSeconds(maxOf(secs));
    facts[`${label}Median`] = formatSeconds(median(secs));
  }
  return secs;
}

interface Context {
  all: Match[];
  /** Position of each entry in the input. */
  index: Map<JournalEntry, number>;
}

type Describer = (matches: Match[], ctx: Context) => { facts: Record<string, string | number>; details: string[] };

function unitLineDetails(matches: Match[], what: (m: Match) => string): string[] {
  const byFile = new Map<string, Match[]>();
  for (const m of matches) {
    const f = m.groups.file ?? '?';
    const list = byFile.get(f);
    if (list) list.push(m);
    else byFile.set(f, [m]);
  }
  const out: string[] = [];
  for (const [file, ms] of byFile) {
    const lines = distinct(ms.map((m) => m.groups.line)).sort((a, b) => Number(a) - Number(b));
    out.push(`${file}: line${lines.length > 1 ? 's' : ''} ${list(lines, 8)}: ${what(ms[0]!)}`);
  }
  return out;
}

const DESCRIBE: Record<string, Describer> = {
  'SD-01': (ms) => {
    // systemd that ignores the line says so (`, ignoring line.`); without it the unit is not loaded at all.
    const ignoring = ms.some((m) => m.groups.ignoring);
    const old = ms.some((m) => !m.groups.ignoring);
    const details = unitLineDetails(
      ms,
      () => "no '=' on that line: it is an ExecStart= continuation that systemd did not join, because the line before ends in a doubled backslash (\\\\) instead of a single one",
    );
    if (ignoring) details.push("This systemd ignores those lines and starts etcd with a cut-down command line: etcd then exits with `'\\' is not a valid flag` (BOOT-14).");
    if (old) details.push("This (older) systemd refuses to load the unit at all (`Missing '='.` without `ignoring line`): `systemctl enable` fails and the unit file state is `bad`.");
    const files = distinct(ms.map((m) => m.groups.file));
    const lines = distinct(ms.map((m) => m.groups.line));
    return { facts: { files: files.join(', '), lines: lines.join(', ') }, details };
  },
  'SD-02': (ms) => {
    const keys = distinct(ms.map((m) => m.groups.key));
    const flagLike = keys.some((k) => k.startsWith('-'));
    const details = unitLineDetails(ms, () => 'read as a setting instead of a part of ExecStart=');
    details.push(`Keys: ${list(keys.map((k) => `'${k}'`), 6)}.`);
    if (flagLike) details.push('These are etcd flags: the line continuation before them is broken (a doubled backslash, as SD-01), so etcd starts without them.');
    return { facts: { files: distinct(ms.map((m) => m.groups.file)).join(', '), keys: keys.join(' ') }, details };
  },
  'SD-05': (ms, ctx) => {
    const statuses = new Map<string, number>();
    for (const m of ms) {
      const k = `code=${m.groups.code}, status=${m.groups.status}/${m.groups.statusName}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
    }
    const details = [...statuses].map(([k, n]) => `${k} (${n}×)`);
    // The cause: the last etcd error/warning match before each exit, on the same host.
    const causes = new Set<string>();
    const etcdErrors = ctx.all.filter((m) => m.signature.sources.includes('etcd') && m.signature.severity !== 'info');
    for (const exit of ms.slice(0, 50)) {
      const idx = ctx.index.get(exit.entry) ?? 0;
      let last: Match | undefined;
      for (const m of etcdErrors) {
        const i = ctx.index.get(m.entry) ?? -1;
        if (i >= idx) break;
        const sameHost = m.entry.host === undefined || exit.entry.host === undefined || m.entry.host === exit.entry.host;
        if (i >= idx - 30 && sameHost) last = m;
      }
      if (last) causes.add(`${last.id} (${last.signature.title})`);
    }
    if (causes.size) details.push(`Preceded by: ${[...causes].join('; ')}.`);
    else details.push("No known etcd error in the lines just before the exit: look at etcd's last lines before it.");
    return { facts: { exits: ms.length }, details };
  },
  'SD-07': (ms) => {
    const counters = ms.map((m) => Number(m.groups.counter)).filter(Number.isFinite);
    const facts: Record<string, string | number> = { restarts: ms.length };
    if (counters.length) facts.restartCounter = maxOf(counters);
    return { facts, details: [] };
  },
  'BOOT-07': (ms) => {
    const paths = distinct(ms.map((m) => m.groups.path));
    const reasons = distinct(ms.map((m) => m.groups.reason));
    const hosts = distinct(ms.map((m) => m.entry.host));
    return {
      facts: { files: paths.join(' '), reason: reasons.join(', ') },
      details: paths.map((p) => `${p}: ${distinct(ms.filter((m) => m.groups.path === p).map((m) => m.groups.reason)).join(', ')}${hosts.length ? ` (on ${hosts.join(', ')})` : ''}`),
    };
  },
  'BOOT-14': (ms) => {
    const args = distinct(ms.map((m) => m.groups.arg?.replace(/^\\\\$/, '\\')));
    const details = args.map((a) =>
      a === '\\'
        ? "'\\' as an argument: a doubled backslash at the end of an ExecStart= line (SD-01); systemd passed the second one to etcd."
        : /^[A-Z][A-Za-z]+=/.test(a)
          ? `'${a}' is a unit setting: the last ExecStart= line ends in a backslash and swallowed the next line.`
          : `'${a}': a stray word on etcd's command line (a missing '--' or a broken line continuation).`,
    );
    return { facts: { arguments: args.map((a) => `'${a}'`).join(' ') }, details };
  },
  'DISK-01': (ms) => {
    const facts: Record<string, string | number> = { syncs: ms.length };
    durationFacts(ms, 'took', facts, 'sync');
    const expected = distinct(ms.map((m) => m.groups.expected));
    if (expected.length) facts.threshold = expected.join(', ');
    const details = facts.syncMax ? [`${ms.length} slow fdatasync(s): max ${facts.syncMax}, median ${facts.syncMedian} (threshold ${facts.threshold ?? '1s'}; healthy p99 is under 10ms).`] : [];
    return { facts, details };
  },
  'DISK-02': (ms) => {
    const facts: Record<string, string | number> = { requests: ms.length };
    durationFacts(ms, 'took', facts, 'apply');
    return { facts, details: facts.applyMax ? [`${ms.length} slow request(s): max ${facts.applyMax}, median ${facts.applyMedian} (warning threshold 100ms).`] : [] };
  },
  'DISK-03': (ms) => {
    const facts: Record<string, string | number> = { misses: ms.length };
    durationFacts(ms, 'took', facts, 'late');
    const peers = distinct(ms.map((m) => m.groups.peer));
    if (peers.length) facts.peers = peers.join(', ');
    return { facts, details: facts.lateMax ? [`Heartbeats late by up to ${facts.lateMax} (median ${facts.lateMedian}).`] : [] };
  },
  'PEER-01': (ms) => {
    const peers = distinct(ms.map((m) => m.groups.peer));
    const details = peers.map((p) => {
      const errs = distinct(ms.filter((m) => m.groups.peer === p).map((m) => m.groups.error));
      return `peer ${p}: ${list(errs, 2)}`;
    });
    return { facts: { peers: peers.join(', ') }, details };
  },
  'CLOCK-01': (ms) => {
    const drifts = distinct(ms.map((m) => m.groups.drift));
    const secs = drifts.map(parseGoDuration).filter((s): s is number => s !== undefined);
    const facts: Record<string, string | number> = { peers: distinct(ms.map((m) => m.groups.peer)).join(', ') };
    if (secs.length) facts.driftMax = formatSeconds(maxOf(secs));
    return { facts, details: [] };
  },
};

/** Generic facts: the distinct values of every group (a few of each). */
function genericFacts(matches: Match[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, vs] of Object.entries(groupValues(matches))) {
    if (k === 'ignoring') continue;
    out[k] = list(vs, 4);
  }
  return out;
}

function findingFromMatches(sig: Signature, ms: Match[], ctx: Context): Finding {
  const entries = ms.map((m) => m.entry);
  const groups = groupValues(ms);
  const described = DESCRIBE[sig.id]?.(ms, ctx);
  const facts = described && Object.keys(described.facts).length ? described.facts : genericFacts(ms);
  const f: Finding = {
    id: sig.id,
    severity: sig.severity,
    title: sig.title,
    count: ms.length,
    ...timeSpan(entries),
    hosts: distinct(entries.map((e) => e.host)),
    evidence: pickEvidence(entries),
    facts,
    details: described?.details ?? [],
    meaning: fillTemplate(sig.meaning, groups),
    fix: fillTemplate(sig.fix, groups),
  };
  if (sig.ref) f.ref = sig.ref;
  if (sig.minCount !== undefined && ms.length < sig.minCount && f.severity !== 'info') {
    return { ...f, severity: 'info', title: `${f.title} (isolated: ${ms.length}×; a problem from ${sig.minCount}×)` };
  }
  return f;
}

function derivedFinding(
  sig: Signature | undefined,
  id: string,
  fallback: { severity: Severity; title: string },
  a: ElectionAnalysis,
  related: Set<string>,
): Finding {
  const facts: Record<string, string | number> = {
    elections: a.elections,
    electionsPerMinute: a.electionsPerMinute,
    recentElections: a.recentElections,
  };
  if (a.termStart !== undefined) facts.termStart = a.termStart;
  if (a.termEnd !== undefined) facts.termEnd = a.termEnd;
  if (a.lostLeader) facts.lostLeader = a.lostLeader;
  if (a.changedLeader) facts.changedLeader = a.changedLeader;
  const details: string[] = [];
  for (const m of a.members) {
    if (m.elections === 0 && m.candidacies === 0 && m.preCandidacies === 0 && m.lostLeader === 0 && m.changedLeader === 0) continue;
    const terms = m.termStart !== undefined ? `, term ${m.termStart}→${m.termEnd}` : '';
    const where = m.hosts.length ? ` (${m.hosts.join(', ')})` : '';
    const leader = m.leader ? `, leader ${m.leader} known after` : ', no leader after its last election';
    details.push(
      // Only the figures there are: "0 election(s)" under a title about leader changes reads as a contradiction.
      `member ${m.id}${where}: ${[
        // A journal filtered to candidacies has no election lines: its campaigns are the figure (never an empty one).
        m.elections ? `${m.elections} election(s)` : m.candidacies ? `${m.candidacies} campaign(s)` : '',
        m.preCandidacies ? `${m.preCandidacies} pre-vote(s)` : '',
        m.lostLeader + m.changedLeader ? `${m.lostLeader + m.changedLeader} leader loss(es)/change(s)` : '',
      ]
        .filter(Boolean)
        .join(', ')}${terms}${id === 'ELECT-LOOP' || id === 'ELECT-CHURN' ? leader : ''}`,
    );
  }
  if (details.length !== 1) details.push(`${a.summary}.`);
  if (id === 'ELECT-LOOP') {
    if (related.has('PEER-01')) details.push('Peers are unreachable (PEER-01): without a majority the loop goes on until enough members run and can connect.');
    if ([...related].some((r) => r.startsWith('TLS-'))) details.push('TLS errors (TLS-*) keep members from talking: fix them first.');
    if (related.has('DISK-01') || related.has('DISK-03')) details.push('The disk is slow (DISK-01/DISK-03): late heartbeats make followers start elections.');
  }
  const span = a.window;
  const f: Finding = {
    id,
    severity: sig?.severity ?? fallback.severity,
    title: sig?.title ?? fallback.title,
    count: a.elections || a.candidacies + a.preCandidacies,
    ...(span.start ? { first: a.evidence[0]?.time ?? span.start } : {}),
    ...(span.end ? { last: a.evidence[a.evidence.length - 1]?.time ?? span.end } : {}),
    hosts: distinct(a.members.flatMap((m) => m.hosts)),
    evidence: distinct(a.evidence.map(entryLine)).slice(0, 3),
    facts,
    details,
    meaning: sig?.meaning ?? '',
    fix: sig?.fix ?? '',
  };
  if (id === 'ELECT-FLAP') f.count = a.lostLeader + a.changedLeader + a.steppedDown;
  if (sig?.ref) f.ref = sig.ref;
  return f;
}

/**
 * etcd's prober reports a peer's failed health checks on a timer, from results up to half a minute old (3.4
 * monitors every 30 s): lines that say "could not connect" this long after the peer "became active" are that lag.
 */
export const PROBER_LAG_MS = 35_000;

/**
 * When the journal shows that a finding's problem ended (the signature's `resolvedBy`: a peer that "became active"
 * again), per host and key (the peer): the last line saying so. Every host/key of the finding must have ended after
 * its first line, with no line of the finding later than the prober's lag after the end. A peer refused during a
 * start-up and active a second later is history, not a problem now.
 */
function resolution(ms: Match[], entries: JournalEntry[], ctx: Context): Match | undefined {
  const sig = ms[0]!.signature;
  if (!sig.resolver) return undefined;
  const key = sig.resolvedBy?.key;
  const ends = matchSignatures(entries, [sig.resolver]);
  const pos = (m: Match): number => ctx.index.get(m.entry) ?? -1;
  const groupOf = (m: Match): string => `${m.entry.host ?? ''}\u0000${key ? (m.groups[key] ?? '') : ''}`;
  const byGroup = new Map<string, Match[]>();
  for (const m of ms) byGroup.set(groupOf(m), [...(byGroup.get(groupOf(m)) ?? []), m]);
  let latest: Match | undefined;
  for (const group of byGroup.values()) {
    const first = group[0]!;
    const sameGroup = (r: Match): boolean =>
      (r.entry.host === undefined || first.entry.host === undefined || r.entry.host === first.entry.host) &&
      (key === undefined || first.groups[key] === undefined || r.groups[key] === first.groups[key]);
    const end = ends.filter((r) => sameGroup(r) && pos(r) > pos(first)).pop();
    if (!end) return undefined;
    const endMs = end.entry.time?.getTime();
    const after = group.filter((m) => pos(m) > pos(end));
    const lag = (m: Match): boolean => endMs !== undefined && m.entry.time !== undefined && m.entry.time.getTime() - endMs <= PROBER_LAG_MS;
    if (!after.every(lag)) return undefined;
    if (!latest || pos(end) > pos(latest)) latest = end;
  }
  return latest;
}

/** A finding whose problem is over: a note that says so and since when, not a warning or an error. */
export function asHistory(f: Finding, over: { at?: Date; evidence: string }): Finding {
  return {
    ...f,
    severity: 'info',
    title: `${f.title} (over${over.at ? ` since ${formatTime(over.at)}` : ''})`,
    details: [...f.details, `It ended: ${over.evidence}`],
    resolved: over,
  };
}

/**
 * A journal finding about peers (PEER-01) judged by what is seen now: over when every peer it names answers now
 * (`peerNow` says how it was seen), a problem while one does not, and by the journal's own word when nothing live
 * is known about them. Other findings pass through unchanged.
 */
export function judgeNow(f: Finding, peerNow: (memberId: string) => string | false | undefined, catalog: Signature[] = loadCatalog()): Finding {
  // Only a finding that a peer coming back ends (its signature's `resolvedBy`) is judged by the peers now: a leader's
  // late heartbeats (DISK-03) name peers too, and a peer answering now says nothing about the disk.
  if (!catalog.find((s) => s.id === f.id)?.resolvedBy) return f;
  const peers = f.facts.peers !== undefined ? String(f.facts.peers).split(', ').filter(Boolean) : [];
  const seen = peers.map(peerNow);
  const { resolved, ...open } = f;
  if (peers.length && seen.every((v) => typeof v === 'string')) return asHistory(open, { evidence: `now: ${(seen as string[]).join('; ')}` });
  if (seen.some((v) => v === false)) return open;
  return resolved && f.severity !== 'info' ? asHistory(open, resolved) : f;
}

/**
 * Severity first (error, warning, info), then the catalog's order (causes before consequences: a unit-file
 * error before etcd's exit, etcd's exit before systemd's restart loop), then the most frequent.
 */
export function sortFindings(findings: Finding[], catalog: Signature[] = loadCatalog()): Finding[] {
  const rank = new Map(catalog.map((s, i) => [s.id, i]));
  // The whole cluster's condition (doctor-cluster.ts) leads whatever the members' own findings are.
  const pos = (f: Finding): number => (f.id === 'CLUSTER' ? -1 : (rank.get(f.id) ?? catalog.length));
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || pos(a) - pos(b) || b.count - a.count || a.id.localeCompare(b.id),
  );
}

/** The whole diagnosis: findings, the election analysis and the raw matches. */
export function diagnose(entries: JournalEntry[], opts: DiagnoseOptions = {}): Diagnosis {
  const catalog = opts.catalog ?? loadCatalog();
  const matches = matchSignatures(entries, catalog);
  const bySig = new Map<string, Match[]>();
  for (const m of matches) {
    if (m.signature.analysis) continue; // RAFT-*: counted by the election analysis below
    const list = bySig.get(m.id);
    if (list) list.push(m);
    else bySig.set(m.id, [m]);
  }
  const ctx: Context = { all: matches, index: new Map(entries.map((e, i) => [e, i])) };
  const findings: Finding[] = [];
  for (const ms of bySig.values()) {
    const f = findingFromMatches(ms[0]!.signature, ms, ctx);
    const end = resolution(ms, entries, ctx);
    const over = end ? { ...(end.entry.time ? { at: end.entry.time } : {}), evidence: entryLine(end.entry) } : undefined;
    // Online, what is seen now decides (the caller); the journal's word stands where nothing live says otherwise.
    findings.push(over && opts.history !== 'live' ? asHistory(f, over) : over ? { ...f, resolved: over } : f);
  }

  const elections = analyzeElections(entries, opts.elections);
  const related = new Set(bySig.keys());
  const byId = (id: string): Signature | undefined => catalog.find((s) => s.id === id);
  if (elections.loop) {
    findings.push(derivedFinding(byId('ELECT-LOOP'), 'ELECT-LOOP', { severity: 'error', title: 'Election loop' }, elections, related));
  } else if (elections.flapping) {
    findings.push(derivedFinding(byId('ELECT-FLAP'), 'ELECT-FLAP', { severity: 'warning', title: 'Leader flapping' }, elections, related));
  } else if (elections.churn) {
    findings.push(derivedFinding(byId('ELECT-CHURN'), 'ELECT-CHURN', { severity: 'info', title: 'Repeated elections' }, elections, related));
  }
  return { lines: entries.length, findings: sortFindings(findings, catalog), elections, matches };
}

/** Findings for a journal, ordered by severity. */
export function diagnoseJournal(entries: JournalEntry[], opts: DiagnoseOptions = {}): Finding[] {
  return diagnose(entries, opts).findings;
}

/** Problems = findings that should fail a check (warnings and errors). */
export function problemsOf(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.severity !== 'info');
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const out: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) out[f.severity]++;
  return out;
}

function severityLabel(s: Severity): string {
  const text = s.toUpperCase().padEnd(7);
  return s === 'error' ? color.red(color.bold(text)) : s === 'warning' ? color.yellow(color.bold(text)) : color.cyan(text);
}

function when(f: Finding): string {
  if (!f.first) return '';
  const a = formatTime(f.first);
  const b = f.last ? formatTime(f.last) : a;
  return a === b ? a : `${a} → ${b.slice(0, 10) === a.slice(0, 10) ? b.slice(11) : b}`;
}

function truncate(s: string, n = 220): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

/** JSON-friendly findings (dates as ISO strings). */
export function findingsToJson(findings: Finding[]): Record<string, unknown>[] {
  return findings.map((f) => ({
    ...f,
    ...(f.first ? { first: f.first.toISOString() } : {}),
    ...(f.last ? { last: f.last.toISOString() } : {}),
    ...(f.resolved ? { resolved: { ...f.resolved, ...(f.resolved.at ? { at: f.resolved.at.toISOString() } : {}) } } : {}),
  }));
}

/**
 * The text report shared by the offline and the online doctor: a summary table, then each finding with its
 * evidence, what it found, the cause and the fix. Returns '' for no findings.
 */
export function renderFindings(findings: Finding[]): string {
  if (findings.length === 0) return '';
  const sorted = sortFindings(findings);
  const out: string[] = [];
  out.push(
    renderTable(
      ['severity', 'id', 'problem', 'lines', 'hosts', 'when'],
      sorted.map((f) => [f.severity, f.id, f.title, f.count, f.hosts.join(', '), when(f)]),
    ),
  );
  const headings: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };
  for (const [i, f] of sorted.entries()) {
    // Errors, then warnings, then notes, each under its word: what fails the check is never mixed with what does not.
    if (sorted[i - 1]?.severity !== f.severity) {
      out.push('', color.bold(`${headings[f.severity]} (${sorted.filter((x) => x.severity === f.severity).length}):`));
    }
    out.push('');
    const head = `${severityLabel(f.severity)} ${color.bold(f.id)}  ${f.title}`;
    const meta = [`${f.count}×`, f.hosts.length ? `on ${f.hosts.join(', ')}` : '', when(f)].filter(Boolean).join(', ');
    out.push(`${head}  ${color.dim(`(${meta})`)}`);
    if (f.evidence.length) {
      out.push(`  ${color.bold('evidence')}`);
      for (const e of f.evidence) out.push(`    ${color.dim('|')} ${truncate(e)}`);
    }
    const facts = Object.entries(f.facts);
    if (f.details.length || facts.length) {
      out.push(`  ${color.bold('found')}`);
      for (const d of f.details) out.push(indent(d, '    - '));
      if (facts.length) out.push(`    ${facts.map(([k, v]) => `${k}=${v}`).join('  ')}`);
    }
    out.push(`  ${color.bold('cause')}  ${f.meaning}`);
    out.push(`  ${color.bold('fix')}    ${f.fix}`);
  }
  return out.join('\n');
}

export { SEVERITIES };
