/**
 * Parsing of pasted `journalctl` output into entries (pure: text in, entries out).
 *
 * Accepted envelopes, in any mix, one entry per line:
 *  - `journalctl` short formats: `short` / `short-precise` (`Nov 23 10:17:52[.123456] host ident[pid]: msg`),
 *    `short-iso` / `short-iso-precise` (`2026-11-23T10:17:52[.123456]+00:00 host ident[pid]: msg`),
 *    `short-full` (`Mon 2026-11-23 10:17:52 UTC host ident[pid]: msg`), `short-unix` (`1795428472.123456 host …`)
 *    and `short-monotonic` (`[  123.456789] host …`, no wall clock);
 *  - `journalctl -o json` (one object per line; MESSAGE may be a byte array), `-o json-pretty` and `-o json-seq`;
 *  - bare payloads without any envelope (`journalctl -o cat`, or etcd's stderr pasted directly).
 *
 * Inner etcd payloads (see the reference's section 0): journald text (the message only), capnslog pretty
 * (`2026-11-23 09:55:41.962700 W | wal: sync duration of …`), raft's default logger
 * (`raft2026/11/23 10:17:52 INFO: …`), zap JSON (`{"level":"warn",…,"msg":"slow fdatasync",…}`) and the 3.6
 * console format (tab-separated). Lines that fit nothing are kept as plain text: the parser never throws.
 *
 * Times: a year-less short timestamp takes `opts.year` (default: the current year; a December→January step
 * adds a year). Timestamps without a zone are read as UTC: only differences between entries matter here, and
 * the printed times then show the same wall clock as the input. The envelope's time wins over the payload's,
 * so that etcd and systemd lines of one file share one clock.
 */

export type EntrySource = 'etcd' | 'systemd' | 'other';
export type EntryLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'panic' | 'fatal';
/** How the inner payload was written. `journald`: message text only (capnslog's journald formatter, systemd). */
export type PayloadFormat = 'journald' | 'capnslog' | 'raft' | 'zap' | 'console' | 'text';
/** The journal envelope the entry came in: a short-format line, a `-o json` object, or none (bare payload). */
export type Envelope = 'short' | 'json' | 'none';

export interface JournalEntry {
  time?: Date;
  host?: string;
  /** SYSLOG_IDENTIFIER (`etcd`, `systemd`, `strace` under the lab's slow-disk wrapper…); '' when unknown. */
  ident: string;
  pid?: number;
  source: EntrySource;
  level?: EntryLevel;
  /** The inner text: the journald message body, the capnslog/raft message without its prefix, or the zap `msg`. */
  message: string;
  /** All keys of a zap JSON (or console) payload, `msg` included. */
  fields?: Record<string, unknown>;
  /** The input line as given (for `-o json`, the whole object). */
  raw: string;
  format: PayloadFormat;
  envelope: Envelope;
  /** capnslog package (`wal`, `etcdserver`, …) or the journal's PACKAGE field. */
  package?: string;
  /** UNIT or _SYSTEMD_UNIT (only known from `-o json`). */
  unit?: string;
  /** `__CURSOR` (only known from `-o json`): names the entry in its journal. */
  cursor?: string;
  /** Where the entry starts in its input: file name (if given) and 1-based line. */
  file?: string;
  line: number;
}

export interface ParseOptions {
  /** Year for year-less short timestamps (default: the current year). */
  year?: number;
  /** File name recorded in each entry. */
  file?: string;
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** `Nov 23 10:17:52[.123456] ` (short, short-precise). */
const SHORT_TS = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)? +/;
/** `2026-11-23T10:17:52[.123456][+00:00|+0000|Z] ` (short-iso, short-iso-precise). */
const ISO_TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) +/;
/**
 * `Mon 2026-11-23 10:17:52[.123456] UTC ` (short-full). The zone is an abbreviation, or for zones without one the
 * numeric form glibc prints (`+04`, `+0545`).
 */
const FULL_TS = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([A-Za-z][A-Za-z0-9+:-]*|[+-]\d{2}(?::?\d{2})?) +/;
/** `[  123.456789] ` (short-monotonic: seconds since boot, no wall clock). */
const MONO_TS = /^\[\s*\d+\.\d+\] +/;
/** `1795428472.123456 ` (short-unix). */
const UNIX_TS = /^(\d{9,11}(?:\.\d+)?) +/;
/** After the timestamp: `host ident[pid]: message` (pid optional). */
const HOST_IDENT = /^(\S+) ([^\s[\]:]+)(?:\[(\d+)\])?: ?(.*)$/s;

/** capnslog PrettyFormatter: `2026-11-23 10:15:41.889696 I | etcdmain: etcd Version: 3.4.23`. */
const CAPNSLOG = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([CEWNIDT]) \| (.*)$/s;
const CAPNSLOG_PKG = /^([A-Za-z0-9_./-]+): (.*)$/s;
/** raft's DefaultLogger: `raft2026/11/23 10:17:52 INFO: …` (panics carry no level header). */
const RAFT = /^raft(\d{4})\/(\d{2})\/(\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) (?:(INFO|WARN|WARNING|ERROR|DEBUG|PANIC|FATAL): )?(.*)$/s;
/** zap console encoder (3.6 `--log-format=console`, etcdutl): ts, level, [logger], caller, msg, [JSON fields]. */
const CONSOLE =
  /^(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)\s+(debug|info|warn|error|dpanic|panic|fatal)\s+(?:(\S+)\s+)?(\S+\.go:\d+)\s+(.*?)(?:\s+(\{.*\}))?\s*$/s;

const CAPNSLOG_LEVELS: Record<string, EntryLevel> = {
  C: 'critical', E: 'error', W: 'warning', N: 'notice', I: 'info', D: 'debug', T: 'debug',
};
const WORD_LEVELS: Record<string, EntryLevel> = {
  debug: 'debug', info: 'info', notice: 'notice', warn: 'warning', warning: 'warning', error: 'error',
  dpanic: 'panic', panic: 'panic', fatal: 'fatal', crit: 'critical', critical: 'critical',
};
/** syslog PRIORITY → level. */
const PRIORITY_LEVELS: EntryLevel[] = ['critical', 'critical', 'critical', 'error', 'warning', 'notice', 'info', 'debug'];

/** Identifiers under which etcd's own output lands in the journal (the lab's slow-disk wrapper runs it under strace). */
const ETCD_IDENTS = /^(etcd[\w.-]*|strace|hw-slowdisk)$/i;

/** capnslog packages of etcd 3.4. */
const ETCD_PACKAGES = /^(etcdmain|etcdserver|embed|wal|rafthttp|raft|mvcc|auth|pkg\/|etcdserver\/|snap|v3rpc|membership|api|lease|backend|clientv3)/;
/** zap callers of etcd (3.4 `etcdserver/raft.go:…`, 3.5 `etcdserver/zap_raft.go:…`, 3.6 `v3@v3.6.0/raft.go:…`). */
const ETCD_CALLERS =
  /^(etcdmain|etcdserver|embed|wal|rafthttp|raft|mvcc|backend|fileutil|traceutil|membership|v3rpc|v3compactor|auth|lease|snap|schedule|osutil|transport|logutil|version|v3@v3\.\d+[^/]*)\/[\w./-]+\.go:\d+$/;

function levelFromWord(w: unknown): EntryLevel | undefined {
  return typeof w === 'string' ? WORD_LEVELS[w.toLowerCase()] : undefined;
}

/** `10:17:52.123456` + date parts → Date (UTC). */
function utcDate(y: number, mo: number, d: number, hms: string): Date | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(hms);
  if (!m) return undefined;
  const ms = m[4] ? Number(m[4].slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(y, mo, d, Number(m[1]), Number(m[2]), Number(m[3]), ms);
  return Number.isFinite(t) ? new Date(t) : undefined;
}

/** ISO-8601 as zap and `short-iso` print it; a missing zone is UTC; `+0000` is accepted. */
export function parseIsoTime(s: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(s.trim());
  if (!m) return undefined;
  const base = utcDate(Number(m[1]), Number(m[2]) - 1, Number(m[3]), m[4]!);
  if (!base) return undefined;
  const zone = m[5];
  if (!zone || zone === 'Z') return base;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const offsetMin = (Number(z[2]) * 60 + Number(z[3])) * (z[1] === '-' ? -1 : 1);
  return new Date(base.getTime() - offsetMin * 60_000);
}

/** zap `ts`: ISO string (3.4+/3.5+) or epoch seconds (3.5.0's fallback logger, etcdctl). */
function zapTime(ts: unknown): Date | undefined {
  if (typeof ts === 'number' && Number.isFinite(ts)) return new Date(Math.round(ts * 1000));
  if (typeof ts === 'string') return parseIsoTime(ts);
  return undefined;
}

interface Payload {
  message: string;
  format: PayloadFormat;
  level?: EntryLevel;
  time?: Date;
  fields?: Record<string, unknown>;
  package?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Splits an etcd payload (the text after `ident[pid]: `, or MESSAGE) into level, message and fields. */
export function parsePayload(text: string): Payload {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const obj = tryJson(trimmed);
    if (isObject(obj) && typeof obj.msg === 'string') {
      return { message: obj.msg, format: 'zap', level: levelFromWord(obj.level), time: zapTime(obj.ts), fields: obj };
    }
  }
  let m = CAPNSLOG.exec(trimmed);
  if (m) {
    const [, date, hms, lvl, rest] = m;
    const [y, mo, d] = date!.split('-').map(Number) as [number, number, number];
    const pm = CAPNSLOG_PKG.exec(rest!);
    return {
      message: pm ? pm[2]! : rest!,
      package: pm ? pm[1] : undefined,
      format: 'capnslog',
      level: CAPNSLOG_LEVELS[lvl!],
      time: utcDate(y, mo - 1, d, hms!),
    };
  }
  m = RAFT.exec(trimmed);
  if (m) {
    const [, y, mo, d, hms, lvl, msg] = m;
    return {
      message: msg!,
      format: 'raft',
      level: lvl ? levelFromWord(lvl) : /^panic|out of range/.test(msg!) ? 'panic' : undefined,
      time: utcDate(Number(y), Number(mo) - 1, Number(d), hms!),
    };
  }
  m = CONSOLE.exec(trimmed);
  if (m) {
    const [, ts, lvl, logger, caller, msg, json] = m;
    const extra = json ? tryJson(json) : undefined;
    const fields: Record<string, unknown> = { level: lvl, ts, caller, ...(logger ? { logger } : {}), msg };
    if (isObject(extra)) Object.assign(fields, extra);
    return { message: msg!, format: 'console', level: levelFromWord(lvl), time: parseIsoTime(ts!), fields };
  }
  return { message: text.replace(/\s+$/, ''), format: 'journald' };
}

function classify(ident: string, unit: string | undefined, payload: Payload, pid?: number): EntrySource {
  if (ident === 'systemd') return 'systemd';
  if (ETCD_IDENTS.test(ident)) return 'etcd';
  if (pid === 1) return 'systemd';
  if (unit && /etcd/i.test(unit) && ident !== 'systemd' && ident !== 'systemctl') {
    // `_SYSTEMD_UNIT=etcd.service` for etcd's own lines; PID 1's lines about etcd carry UNIT= instead.
    if (pid !== 1) return 'etcd';
  }
  const caller = typeof payload.fields?.caller === 'string' ? payload.fields.caller : undefined;
  if (ident === '') {
    // A bare payload (`journalctl -o cat`, pasted stderr): judge by its shape.
    if (payload.format === 'capnslog' || payload.format === 'raft' || payload.format === 'console' || (payload.format === 'zap' && caller)) {
      return 'etcd';
    }
    if (/\.service\b|Missing '='|Unknown (?:key|lvalue)|Failed to (?:enable|get) unit/.test(payload.message)) return 'systemd';
    return 'other';
  }
  // Another identifier: etcd only if the payload is unmistakably etcd's (raft's logger, capnslog with an etcd
  // package, zap with an etcd caller), e.g. etcd started by a wrapper with its own name.
  if (payload.format === 'raft') return 'etcd';
  if (payload.format === 'capnslog' && payload.package && ETCD_PACKAGES.test(payload.package)) return 'etcd';
  if ((payload.format === 'zap' || payload.format === 'console') && caller && ETCD_CALLERS.test(caller)) return 'etcd';
  return 'other';
}

function entryFrom(
  payloadText: string,
  env: { time?: Date; host?: string; ident: string; pid?: number; unit?: string; priority?: number; package?: string },
  raw: string,
  envelope: Envelope,
  line: number,
  file: string | undefined,
): JournalEntry {
  const p = parsePayload(payloadText);
  if (p.format === 'journald' && envelope === 'none') p.format = 'text';
  const level =
    p.level ??
    (env.priority !== undefined && env.priority >= 0 && env.priority <= 7 ? PRIORITY_LEVELS[env.priority] : undefined);
  const e: JournalEntry = {
    ident: env.ident,
    source: classify(env.ident, env.unit, p, env.pid),
    message: p.message,
    raw,
    format: p.format,
    envelope,
    line,
  };
  const time = env.time ?? p.time;
  if (time) e.time = time;
  if (env.host) e.host = env.host;
  if (env.pid !== undefined && Number.isFinite(env.pid)) e.pid = env.pid;
  if (level) e.level = level;
  if (p.fields) e.fields = p.fields;
  const pkg = p.package ?? env.package;
  if (pkg) e.package = pkg;
  if (env.unit) e.unit = env.unit;
  if (file !== undefined) e.file = file;
  return e;
}

/** A journal field value as text: strings as is, byte arrays decoded as UTF-8, repeated fields joined. */
function fieldText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((b) => typeof b === 'number')) return Buffer.from(v as number[]).toString('utf8');
    const parts = v.map(fieldText).filter((s): s is string => s !== undefined);
    return parts.length ? parts.join('\n') : undefined;
  }
  return undefined;
}

function isJournalObject(o: Record<string, unknown>): boolean {
  return 'MESSAGE' in o || '__REALTIME_TIMESTAMP' in o || '__CURSOR' in o || 'SYSLOG_IDENTIFIER' in o || '_PID' in o;
}

function fromJournalObject(o: Record<string, unknown>, raw: string, line: number, file: string | undefined): JournalEntry {
  const message = fieldText(o.MESSAGE) ?? '';
  const us = fieldText(o.__REALTIME_TIMESTAMP) ?? fieldText(o._SOURCE_REALTIME_TIMESTAMP);
  const time = us && /^\d+$/.test(us) ? new Date(Math.floor(Number(us) / 1000)) : undefined;
  const pidText = fieldText(o._PID) ?? fieldText(o.SYSLOG_PID);
  const prio = fieldText(o.PRIORITY);
  const e = entryFrom(
    message,
    {
      time,
      host: fieldText(o._HOSTNAME),
      ident: fieldText(o.SYSLOG_IDENTIFIER) ?? fieldText(o._COMM) ?? '',
      pid: pidText && /^\d+$/.test(pidText) ? Number(pidText) : undefined,
      unit: fieldText(o.UNIT) ?? fieldText(o.USER_UNIT) ?? fieldText(o._SYSTEMD_UNIT),
      priority: prio && /^\d$/.test(prio) ? Number(prio) : undefined,
      package: fieldText(o.PACKAGE),
    },
    raw,
    'json',
    line,
    file,
  );
  const cursor = fieldText(o.__CURSOR);
  if (cursor) e.cursor = cursor;
  return e;
}

/**
 * Drops repeats of one journal entry. verify and doctor read etcd's unit and PID 1's lines in separate queries that
 * can return the same entry, and a line counted twice is a finding counted twice. The key is the cursor with the
 * time and message, since hand-written journals (the fixtures) reuse placeholder cursors. Entries without a cursor
 * (pasted text) are all kept: two equal lines there are two events.
 */
export function dedupeEntries(entries: JournalEntry[]): JournalEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (e.cursor === undefined) return true;
    const key = `${e.cursor}\u0000${e.time?.getTime() ?? ''}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** State carried across lines: the year for year-less timestamps, bumped on a December → January step. */
interface YearState {
  year: number;
  lastMonth?: number;
}

function parseShortLine(line: string, ys: YearState): { time?: Date; rest: string } | undefined {
  let m = SHORT_TS.exec(line);
  if (m) {
    const month = MONTHS[m[1]!]!;
    if (ys.lastMonth !== undefined && month < ys.lastMonth && ys.lastMonth - month > 6) ys.year += 1;
    ys.lastMonth = month;
    const time = utcDate(ys.year, month, Number(m[2]), `${m[3]}:${m[4]}:${m[5]}${m[6] ?? ''}`);
    return { time, rest: line.slice(m[0].length) };
  }
  m = ISO_TS.exec(line);
  if (m) return { time: parseIsoTime(m[1]!), rest: line.slice(m[0].length) };
  m = FULL_TS.exec(line);
  if (m) {
    const zone = /^(UTC|GMT|Z)$/i.test(m[3]!) ? 'Z' : /^[+-]\d{2}:?\d{2}$/.test(m[3]!) ? m[3]! : /^[+-]\d{2}$/.test(m[3]!) ? `${m[3]}:00` : '';
    return { time: parseIsoTime(`${m[1]}T${m[2]}${zone}`), rest: line.slice(m[0].length) };
  }
  m = MONO_TS.exec(line);
  if (m && HOST_IDENT.test(line.slice(m[0].length))) return { rest: line.slice(m[0].length) };
  m = UNIX_TS.exec(line);
  if (m && HOST_IDENT.test(line.slice(m[0].length))) {
    return { time: new Date(Math.round(Number(m[1]) * 1000)), rest: line.slice(m[0].length) };
  }
  return undefined;
}

/** journalctl's own markers and `-x` catalog text: not entries. */
function isNoise(line: string): boolean {
  return /^-- /.test(line) || /^░░/.test(line) || /^\s*--\s*(No entries|Reboot)\s*--\s*$/.test(line);
}

/**
 * Parses one input line (short format, `-o json` object or bare payload). Returns undefined for blank lines and
 * journalctl's markers.
 */
export function parseJournalLine(line: string, opts: ParseOptions & { lineNo?: number } = {}, ys?: YearState): JournalEntry | undefined {
  const state = ys ?? { year: opts.year ?? new Date().getFullYear() };
  const text = line.replace(/^\u001e/, '').replace(/\r$/, '');
  if (text.trim() === '' || isNoise(text)) return undefined;
  const lineNo = opts.lineNo ?? 1;
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const obj = tryJson(trimmed);
    if (isObject(obj) && isJournalObject(obj)) return fromJournalObject(obj, trimmed, lineNo, opts.file);
  }
  const short = parseShortLine(text, state);
  if (short) {
    const m = HOST_IDENT.exec(short.rest);
    if (m) {
      const [, host, ident, pid, msg] = m;
      return entryFrom(
        msg!,
        { time: short.time, host, ident: ident!, pid: pid ? Number(pid) : undefined },
        text,
        'short',
        lineNo,
        opts.file,
      );
    }
    return entryFrom(short.rest, { time: short.time, ident: '' }, text, 'short', lineNo, opts.file);
  }
  return entryFrom(text, { ident: '' }, text, 'none', lineNo, opts.file);
}

/**
 * Parses pasted journal output. Never throws: what it cannot read becomes a plain-text entry with ident ''.
 * A `-o json` entry given twice (same cursor) is kept once.
 */
export function parseJournal(text: string, opts: ParseOptions = {}): JournalEntry[] {
  const ys: YearState = { year: opts.year ?? new Date().getFullYear() };
  const entries: JournalEntry[] = [];
  const whole = text.trim();
  // `journalctl -o json | jq -s .`: one array of journal objects.
  if (whole.startsWith('[') && whole.endsWith(']')) {
    const arr = tryJson(whole);
    if (Array.isArray(arr) && arr.length > 0 && arr.every((o) => isObject(o) && isJournalObject(o))) {
      arr.forEach((o, i) => entries.push(fromJournalObject(o as Record<string, unknown>, JSON.stringify(o), i + 1, opts.file)));
      return dedupeEntries(entries);
    }
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^\u001e/, '');
    // `-o json-pretty`: an object spread over lines, closed by a `}` at column 0.
    if (line === '{') {
      let end = i + 1;
      while (end < lines.length && end - i < 1000 && lines[end] !== '}') end++;
      if (end < lines.length && lines[end] === '}') {
        const block = lines.slice(i, end + 1).join('\n');
        const obj = tryJson(block);
        if (isObject(obj) && isJournalObject(obj)) {
          entries.push(fromJournalObject(obj, JSON.stringify(obj), i + 1, opts.file));
          i = end;
          continue;
        }
      }
    }
    const e = parseJournalLine(line, { ...opts, lineNo: i + 1 }, ys);
    if (e) entries.push(e);
  }
  return dedupeEntries(entries);
}

/**
 * Whether the parser read an entry as journal output: a short-format or `-o json` envelope, or an etcd payload
 * (capnslog, raft, zap, console). Plain text is kept by the parser whatever it is, so alone it proves nothing; a
 * plain line counts only if a signature matches it (`-o cat`, pasted systemctl output), which the caller judges.
 */
export function isJournalShaped(e: JournalEntry): boolean {
  return e.envelope !== 'none' || e.format !== 'text';
}

/**
 * Binary input (a `.journal` file itself, a tarball, a core dump): NUL bytes or undecodable UTF-8 (read as U+FFFD)
 * in most non-blank lines. A real text journal with a few mangled lines still passes.
 */
export function looksBinary(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const bad = lines.filter((l) => /[\u0000\uFFFD]/.test(l)).length;
  return bad > 0 && bad * 2 > lines.length;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2026-11-23 10:17:52` (UTC, i.e. the input's wall clock). */
export function formatTime(d: Date | undefined): string {
  if (!d) return '';
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(
    d.getUTCMinutes(),
  )}:${pad2(d.getUTCSeconds())}`;
}

/** One readable line for an entry: the input line itself, or a short-format line built from a `-o json` object. */
export function entryLine(e: JournalEntry): string {
  if (e.envelope !== 'json') return e.raw.trim();
  const ident = e.ident ? `${e.ident}${e.pid !== undefined ? `[${e.pid}]` : ''}: ` : '';
  const text = e.format === 'zap' && e.fields ? JSON.stringify(e.fields) : e.message;
  return [formatTime(e.time), e.host ?? '', `${ident}${text}`].filter(Boolean).join(' ');
}
