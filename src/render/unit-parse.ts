/**
 * A reader for systemd unit files that keeps physical line numbers.
 *
 * systemd's conf-parser (v252) reads a unit like this: blank lines and lines starting with `#` or `;` are
 * skipped; a line whose backslashes leave an escape open at its end (an odd run of trailing `\`, nothing after
 * it) continues: its last `\` becomes a space and the next line is appended (comment lines inside a
 * continuation are skipped, an empty line ends it). A logical line is reported with the number of its LAST
 * physical line. `\\` at the end is an escaped backslash, not a continuation; neither is `\` followed by
 * spaces (the backslash escapes the space).
 *
 * Two views are built: `systemd` (exactly what systemd does, to predict its messages) and `intended` (a
 * doubled or space-followed trailing backslash is taken as the continuation its author meant, and a
 * continuation never swallows a following `Key=` line or section header), so that the ExecStart flags can
 * still be checked once the continuation mistakes are reported.
 */

export interface CharPos {
  line: number;
  col: number;
}

export interface LogicalLine {
  /** First and last physical line (1-based). systemd reports `endLine`. */
  startLine: number;
  endLine: number;
  /** The joined text; each continuation's backslash (run) replaced by one space. */
  text: string;
  /** Position of every character of `text` in the file. */
  pos: CharPos[];
}

export type ContinuationKind =
  /** `\\` (or any even run) at the end: systemd does not continue. */
  | 'doubled'
  /** an odd run longer than one (`\\\`): continues, but leaves a literal backslash in the value. */
  | 'multiple'
  /** `\` followed by spaces/tabs: systemd does not continue. */
  | 'trailing-space'
  /** the last non-blank line continues into nothing. */
  | 'eof'
  /** continues into an empty line, where the value ends. */
  | 'blank-next'
  /** continues into a section header or a `Key=` line, which becomes part of the value. */
  | 'swallows';

export interface ContinuationIssue {
  kind: ContinuationKind;
  /** The line with the trailing backslash(es). */
  line: number;
  /** Column of the first backslash of the run. */
  col: number;
  /** The line after it (for doubled/trailing-space/blank-next/swallows). */
  nextLine?: number;
}

export interface ParsedUnitText {
  /** Physical lines, without line terminators. */
  lines: string[];
  systemd: LogicalLine[];
  intended: LogicalLine[];
  continuation: ContinuationIssue[];
}

const SECTION_HEADER = /^\s*\[[^\]]*\]\s*$/;
/** A line that looks like a systemd assignment written at column 1 (`Restart=on-failure`). */
const KEY_LINE = /^[A-Z][A-Za-z0-9]*=/;

export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const isBlank = (s: string) => s.trim() === '';
const isComment = (s: string) => /^\s*[#;]/.test(s);

interface TrailingRun {
  /** Number of trailing backslashes. */
  count: number;
  /** Column (1-based) of the first backslash of the run. */
  col: number;
  /** Whitespace after the run. */
  spaces: boolean;
}

function trailingBackslashes(text: string): TrailingRun | undefined {
  const m = /(\\+)([ \t]*)$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { count: m[1].length, col: m.index + 1, spaces: m[2].length > 0 };
}

function startLogical(): LogicalLine {
  return { startLine: 0, endLine: 0, text: '', pos: [] };
}

function appendPart(ll: LogicalLine, line: number, text: string): void {
  if (ll.startLine === 0) ll.startLine = line;
  ll.endLine = line;
  for (let i = 0; i < text.length; i++) {
    ll.text += text[i];
    ll.pos.push({ line, col: i + 1 });
  }
}

/** Exactly systemd's grouping of physical lines into logical lines. */
function systemdView(lines: string[]): LogicalLine[] {
  const out: LogicalLine[] = [];
  let cont: LogicalLine | undefined;
  lines.forEach((text, i) => {
    const n = i + 1;
    if (cont) {
      if (isComment(text)) return;
    } else if (isBlank(text) || isComment(text)) {
      return;
    }
    const ll = cont ?? startLogical();
    const run = trailingBackslashes(text);
    if (run && !run.spaces && run.count % 2 === 1) {
      // the last backslash becomes a space
      appendPart(ll, n, `${text.slice(0, -1)} `);
      cont = ll;
      return;
    }
    appendPart(ll, n, text);
    out.push(ll);
    cont = undefined;
  });
  if (cont) out.push(cont);
  return out;
}

/** The author's intent, and every continuation mistake found on the way. */
function intendedView(lines: string[]): { logical: LogicalLine[]; issues: ContinuationIssue[] } {
  const out: LogicalLine[] = [];
  const issues: ContinuationIssue[] = [];
  let cont: LogicalLine | undefined;
  const lastContent = (() => {
    for (let i = lines.length - 1; i >= 0; i--) if (!isBlank(lines[i]!) && !isComment(lines[i]!)) return i + 1;
    return 0;
  })();

  lines.forEach((text, i) => {
    const n = i + 1;
    if (cont) {
      if (isComment(text)) return;
    } else if (isBlank(text) || isComment(text)) {
      return;
    }
    const ll = cont ?? startLogical();
    const run = trailingBackslashes(text);
    if (!run) {
      appendPart(ll, n, text);
      out.push(ll);
      cont = undefined;
      return;
    }
    const systemdContinues = !run.spaces && run.count % 2 === 1;
    if (run.spaces) issues.push({ kind: 'trailing-space', line: n, col: run.col, nextLine: n + 1 });
    else if (run.count % 2 === 0) issues.push({ kind: 'doubled', line: n, col: run.col, nextLine: n + 1 });
    else if (run.count > 1) issues.push({ kind: 'multiple', line: n, col: run.col });

    const next = lines[i + 1];
    let continues = true;
    if (n >= lastContent) {
      issues.push({ kind: 'eof', line: n, col: run.col });
      continues = false;
    } else if (next === undefined || isBlank(next)) {
      if (systemdContinues) issues.push({ kind: 'blank-next', line: n, col: run.col, nextLine: n + 1 });
      continues = false;
    } else if (SECTION_HEADER.test(next) || KEY_LINE.test(next)) {
      if (systemdContinues) issues.push({ kind: 'swallows', line: n, col: run.col, nextLine: n + 1 });
      continues = false;
    }
    // the value without the backslash run (and what follows it)
    appendPart(ll, n, `${text.slice(0, run.col - 1)} `);
    if (continues) {
      cont = ll;
    } else {
      out.push(ll);
      cont = undefined;
    }
  });
  if (cont) out.push(cont);
  return { logical: out, issues };
}

export function parseUnitText(text: string): ParsedUnitText {
  const lines = splitLines(text);
  const { logical, issues } = intendedView(lines);
  return { lines, systemd: systemdView(lines), intended: logical, continuation: issues };
}

// ---- entries: what a logical line means

export type UnitEntry =
  | { kind: 'section'; name: string; valid: boolean; ll: LogicalLine }
  | { kind: 'assignment'; section: string | undefined; key: string; keyCol: number; value: string; valueStart: number; ll: LogicalLine }
  | { kind: 'no-equals'; section: string | undefined; ll: LogicalLine };

/** Classifies logical lines as systemd's parse_line does (sections, `key=value`, lines without `=`). */
export function unitEntries(logical: LogicalLine[]): UnitEntry[] {
  const out: UnitEntry[] = [];
  let section: string | undefined;
  for (const ll of logical) {
    const lead = ll.text.length - ll.text.trimStart().length;
    const t = ll.text.trim();
    if (t.startsWith('[')) {
      const valid = t.endsWith(']') && t.length > 2;
      const name = valid ? t.slice(1, -1) : t.slice(1);
      section = valid ? name : undefined;
      out.push({ kind: 'section', name, valid, ll });
      continue;
    }
    const eq = ll.text.indexOf('=');
    if (eq < 0) {
      out.push({ kind: 'no-equals', section, ll });
      continue;
    }
    const key = ll.text.slice(0, eq).trim();
    let valueStart = eq + 1;
    while (valueStart < ll.text.length && /\s/.test(ll.text[valueStart]!)) valueStart++;
    out.push({
      kind: 'assignment',
      section,
      key,
      keyCol: ll.pos[lead]?.col ?? 1,
      value: ll.text.slice(valueStart).trimEnd(),
      valueStart,
      ll,
    });
  }
  return out;
}

// ---- ExecStart words

export interface ExecWord {
  /** The argument after unquoting, C-unescaping and `%%`/`$$` un-doubling. */
  value: string;
  /** As written. */
  raw: string;
  line: number;
  col: number;
  /** It references an environment variable (`$X`, `${X}`) or a specifier (`%n`): the final value is unknown. */
  dynamic: boolean;
}

const C_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', s: ' ', '\\': '\\', '"': '"', "'": "'", ';': ';' };

/**
 * Splits an ExecStart value into words as systemd does (whitespace-separated, `"…"`/`'…'` quoting anywhere in
 * a word, backslash escapes). `text` is the whole logical line; `start` is where the value begins.
 */
export function execWords(ll: LogicalLine, start: number): ExecWord[] {
  const s = ll.text;
  const words: ExecWord[] = [];
  let i = start;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const begin = i;
    let value = '';
    let quote: string | undefined;
    let dynamic = false;
    while (i < s.length) {
      const c = s[i]!;
      if (!quote && /\s/.test(c)) break;
      if (quote && c === quote) {
        quote = undefined;
        i++;
        continue;
      }
      if (!quote && (c === '"' || c === "'")) {
        quote = c;
        i++;
        continue;
      }
      if (c === '\\' && i + 1 < s.length && quote !== "'") {
        const n = s[i + 1]!;
        value += C_ESCAPES[n] ?? n;
        i += 2;
        continue;
      }
      if ((c === '%' || c === '$') && s[i + 1] === c) {
        value += c;
        i += 2;
        continue;
      }
      if (c === '%' || (c === '$' && /[A-Za-z_{]/.test(s[i + 1] ?? ''))) dynamic = true;
      value += c;
      i++;
    }
    const p = ll.pos[begin] ?? { line: ll.startLine, col: 1 };
    words.push({ value, raw: s.slice(begin, i), line: p.line, col: p.col, dynamic });
  }
  return words;
}
