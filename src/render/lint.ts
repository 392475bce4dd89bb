import path from 'node:path';
import { isLoopbackHost } from '../inventory/derive.js';
import { compareVersions, etcdFlag, etcdFlags, etcdMinor, ETCD_MINORS, minorsWithFlag, type EtcdFlagSpec, type EtcdMinor } from './etcd-flags.js';
import { closest } from './levenshtein.js';
import type { InstalledPaths } from './paths.js';
import { SECTION_KEYS, SERVICE_TYPES } from './systemd-keys.js';
import { execWords, parseUnitText, unitEntries, type ContinuationIssue, type ExecWord, type LogicalLine, type UnitEntry } from './unit-parse.js';

/**
 * A linter for etcd.service: the systemd syntax mistakes that break KTHW's unit (the heredoc's doubled
 * backslash above all), and etcd flags the configured release would refuse. Pure: no file system, no
 * processes (systemd-analyze lives in systemd-verify.ts).
 */

export type LintSeverity = 'error' | 'warning';

export type LintRule =
  /** Line continuation: `\\`, `\` + spaces, `\` on the last line, into an empty line or a `Key=` line. */
  | 'continuation'
  /** A setting before any `[Section]`. */
  | 'outside-section'
  /** A line without `=` (systemd: `Missing '='`). */
  | 'missing-equals'
  /** A key systemd does not know in its section. */
  | 'unknown-key'
  /** A section systemd does not know, or a broken `[Section` header. */
  | 'unknown-section'
  /** An etcd flag the configured release does not know (or knows only from a later patch). */
  | 'unknown-flag'
  /** An etcd flag etcd accepts but deprecates or ignores. */
  | 'deprecated-flag'
  /** A flag's value: a boolean given as a separate word, a value etcd refuses, a missing value, a stray word. */
  | 'flag-value'
  /** The same etcd flag twice. */
  | 'duplicate-flag'
  /** A path in a flag that hardway does not install on the nodes. */
  | 'path'
  /** ExecStart itself: missing, relative, several of them, not the installed binary. */
  | 'exec-start'
  /** `Type=`: etcd speaks sd_notify, so `Type=notify`. */
  | 'service-type'
  /** A plain-HTTP URL on an address other than loopback: etcd's traffic, keys included, in clear on a network. */
  | 'plain-http'
  /** A complaint of `systemd-analyze verify`. */
  | 'systemd-analyze';

export interface LintProblem {
  file: string;
  line: number;
  col?: number;
  severity: LintSeverity;
  rule: LintRule;
  message: string;
  /** What to change, concretely. */
  fix: string;
}

export interface LintOptions {
  /** Name used in problems (and, by its base name, in the systemd messages quoted). */
  file: string;
  /** The etcd release the unit runs, e.g. `3.4.23`; flags are checked against its minor release. */
  etcdVersion: string;
  /** What hardway installs on the nodes; when given, paths in flags and ExecStart are checked against it. */
  installedPaths?: InstalledPaths;
}

export function formatLintProblem(p: LintProblem): string {
  const where = `${p.file}:${p.line}${p.col !== undefined ? `:${p.col}` : ''}`;
  return `${where}: ${p.severity}: ${p.message} — fix: ${p.fix}`;
}

export function hasErrors(problems: readonly LintProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

export function sortProblems(problems: LintProblem[]): LintProblem[] {
  return problems.sort((a, b) => a.line - b.line || (a.col ?? 0) - (b.col ?? 0) || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}

const KNOWN_SECTIONS = Object.keys(SECTION_KEYS);
const GO_BOOL = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Flags whose value is TLS material, and what hardway installs for them. */
const TLS_FLAGS: Record<string, 'cert' | 'key' | 'caCert' | undefined> = {
  'cert-file': 'cert',
  'peer-cert-file': 'cert',
  'client-cert-file': 'cert',
  'peer-client-cert-file': 'cert',
  'key-file': 'key',
  'peer-key-file': 'key',
  'client-key-file': 'key',
  'peer-client-key-file': 'key',
  'trusted-ca-file': 'caCert',
  'peer-trusted-ca-file': 'caCert',
};
const KIND_NAME = { cert: 'certificate', key: 'private key', caCert: 'CA certificate' } as const;

interface Ctx {
  file: string;
  base: string;
  problems: LintProblem[];
}

function report(ctx: Ctx, p: Omit<LintProblem, 'file'>): void {
  ctx.problems.push({ file: ctx.file, ...p });
}

export function lintUnit(text: string, opts: LintOptions): LintProblem[] {
  const ctx: Ctx = { file: opts.file, base: path.basename(opts.file), problems: [] };
  const parsed = parseUnitText(text);

  // What systemd itself says about each logical line, keyed by its first physical line.
  const structural = structuralProblems(ctx, unitEntries(parsed.systemd));
  const explained = new Set<number>();
  const firstDoubled = parsed.continuation.find((i) => i.kind === 'doubled')?.line;
  for (const issue of parsed.continuation) {
    continuationProblem(ctx, issue, parsed, structural, firstDoubled);
    if ((issue.kind === 'doubled' || issue.kind === 'trailing-space') && issue.nextLine !== undefined) explained.add(issue.nextLine);
  }
  for (const [startLine, problem] of structural) if (!explained.has(startLine)) ctx.problems.push(problem);

  checkService(ctx, unitEntries(parsed.intended), opts);
  return sortProblems(ctx.problems);
}

// ---- rules 2-4: what systemd's parser reports

function structuralProblems(ctx: Ctx, entries: UnitEntry[]): Map<number, LintProblem> {
  const out = new Map<number, LintProblem>();
  const put = (ll: LogicalLine, p: Omit<LintProblem, 'file'>) => out.set(ll.startLine, { file: ctx.file, ...p });
  let sectionKnown = true;
  let seenSection = false;
  for (const e of entries) {
    const line = e.ll.endLine;
    if (e.kind === 'section') {
      seenSection = true;
      if (!e.valid) {
        sectionKnown = false;
        put(e.ll, {
          line,
          col: 1,
          severity: 'error',
          rule: 'unknown-section',
          message: `invalid section header '${e.ll.text.trim()}': systemd logs "${ctx.base}:${line}: Invalid section header" and refuses to load the unit`,
          fix: `close the header: '[${e.name.replace(/\]$/, '')}]'`,
        });
        continue;
      }
      sectionKnown = KNOWN_SECTIONS.includes(e.name) || e.name.startsWith('X-');
      if (!sectionKnown) {
        const s = closest(e.name, KNOWN_SECTIONS);
        put(e.ll, {
          line,
          col: 1,
          severity: 'error',
          rule: 'unknown-section',
          message: `unknown section [${e.name}]: systemd logs "${ctx.base}:${line}: Unknown section '${e.name}'. Ignoring." and ignores every setting in it`,
          fix: s ? `rename it to [${s}]` : `use [Unit], [Service] or [Install]`,
        });
      }
      continue;
    }
    const text = e.ll.text.trim();
    const col = e.ll.pos[e.ll.text.length - e.ll.text.trimStart().length]?.col ?? 1;
    if (!seenSection) {
      put(e.ll, {
        line,
        col,
        severity: 'error',
        rule: 'outside-section',
        message: `'${clip(text)}' is outside any section: systemd logs "${ctx.base}:${line}: Assignment outside of section. Ignoring."`,
        fix: `move it under the section it belongs to ([Unit], [Service] or [Install]), or delete it`,
      });
      continue;
    }
    // systemd reads nothing of an unknown section (reported above at its header) nor of an X- section (silently).
    if (!sectionKnown || e.section === undefined || e.section.startsWith('X-')) continue;
    if (e.kind === 'no-equals') {
      const flag = text.startsWith('-');
      put(e.ll, {
        line,
        col,
        severity: 'error',
        rule: 'missing-equals',
        message:
          `'${clip(text)}' has no '=': systemd logs "${ctx.base}:${line}: Missing '=', ignoring line." ` +
          `(older systemd refuses the whole unit: "[${ctx.base}:${line}] Missing '='.")`,
        fix: flag
          ? `this etcd flag is not part of ExecStart=: end the line before it with a single '\\' (and no spaces after it)`
          : `write it as Key=value, or make it a comment with '#'`,
      });
      continue;
    }
    if (e.kind !== 'assignment') continue;
    const known = SECTION_KEYS[e.section] ?? [];
    if (known.includes(e.key) || e.key.startsWith('X-')) continue;
    const flag = e.key.startsWith('-');
    const s = flag ? undefined : closest(e.key, known);
    put(e.ll, {
      line,
      col: e.keyCol,
      severity: 'error',
      rule: 'unknown-key',
      message: `unknown key '${e.key}' in [${e.section}]: systemd logs "${ctx.base}:${line}: Unknown key '${e.key}' in section [${e.section}], ignoring." and the setting has no effect`,
      fix: flag
        ? `this etcd flag is not part of ExecStart=: end the line before it with a single '\\' (and no spaces after it)`
        : s
          ? `did you mean '${s}='?`
          : `remove it, or check the spelling against systemd.${e.section === 'Service' ? 'service' : 'unit'}(5)`,
    });
  }
  return out;
}

function clip(s: string, n = 60): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// ---- rule 1: continuation lines

function continuationProblem(
  ctx: Ctx,
  issue: ContinuationIssue,
  parsed: ReturnType<typeof parseUnitText>,
  structural: Map<number, LintProblem>,
  firstDoubled: number | undefined,
): void {
  const lineText = parsed.lines[issue.line - 1] ?? '';
  const next = issue.nextLine;
  const nextText = next !== undefined ? (parsed.lines[next - 1] ?? '').trim() : '';
  const isExecLine = /^\s*ExecStart\s*=/.test(lineText);
  // what systemd says about the line that should have been a continuation
  const consequence = (): string => {
    const p = next !== undefined ? structural.get(next) : undefined;
    const quoted = p ? /logs "([^"]+)"/.exec(p.message)?.[1] : undefined;
    if (quoted && p && p.line !== next) return `so lines ${next}-${p.line} become a setting of their own and systemd logs "${quoted}"`;
    if (quoted) return `so line ${next} becomes a line of its own and systemd logs "${quoted}"`;
    return `so line ${next} starts a new setting`;
  };
  const execArg = isExecLine ? `, and etcd is started with a literal '\\' argument: it exits with "'\\' is not a valid flag"` : '';
  const base = { line: issue.line, col: issue.col, severity: 'error' as LintSeverity, rule: 'continuation' as LintRule };
  switch (issue.kind) {
    case 'doubled':
      report(ctx, {
        ...base,
        message:
          issue.line === firstDoubled
            ? `line ends in a doubled backslash '\\\\': systemd reads it as an escaped backslash, not a line continuation ` +
              `(the heredoc of Kubernetes The Hard Way writes '\\\\' to produce '\\'; pasted into a file it stays doubled), ${consequence()}${execArg}`
            : `line ends in a doubled backslash '\\\\' (as line ${firstDoubled}), ${consequence()}${execArg}`,
        fix: `replace the trailing '\\\\' by a single '\\'`,
      });
      return;
    case 'multiple':
      report(ctx, {
        ...base,
        message: `line ends in ${/\\+\s*$/.exec(lineText)?.[0].trim().length ?? 3} backslashes: the last one continues the line, the others leave a literal '\\' in the value (etcd then exits with "'\\' is not a valid flag")`,
        fix: `end the line with exactly one '\\'`,
      });
      return;
    case 'trailing-space':
      report(ctx, {
        ...base,
        message: `the backslash at the end of the line is followed by spaces: systemd does not continue the line (the backslash escapes the space), ${consequence()}`,
        fix: `delete the spaces after the '\\'`,
      });
      return;
    case 'eof':
      report(ctx, {
        ...base,
        message: `the last line of the file ends in '\\': the value continues into nothing`,
        fix: `remove the trailing '\\'`,
      });
      return;
    case 'blank-next':
      report(ctx, {
        ...base,
        severity: 'warning',
        message: `line ends in '\\' but line ${next} is empty: the value ends at the empty line, and any flag after it is read as a key of its own`,
        fix: `remove the trailing '\\' if this is the last flag, or remove the empty line ${next}`,
      });
      return;
    case 'swallows':
      report(ctx, {
        ...base,
        message:
          `line ends in '\\', so line ${next} ('${clip(nextText, 40)}') becomes part of this value` +
          (isExecLine || /^\s*-/.test(lineText) ? `: etcd gets '${clip(nextText, 40)}' as an argument and exits with "'${clip(nextText, 40)}' is not a valid flag"` : ''),
        fix: `remove the '\\' at the end of line ${issue.line}: the last line of a continued value must not end in '\\'`,
      });
      return;
  }
}

// ---- [Service], ExecStart and the etcd flags (rules 5-7)

function checkService(ctx: Ctx, entries: UnitEntry[], opts: LintOptions): void {
  const sections = entries.filter((e): e is Extract<UnitEntry, { kind: 'section' }> => e.kind === 'section');
  const service = entries.filter((e): e is Extract<UnitEntry, { kind: 'assignment' }> => e.kind === 'assignment' && e.section === 'Service');
  if (!sections.some((s) => s.valid && s.name === 'Service')) {
    report(ctx, {
      line: 1,
      severity: 'error',
      rule: 'exec-start',
      message: 'the unit has no [Service] section, so it has no ExecStart= and systemd cannot start etcd',
      fix: 'add a [Service] section with Type=notify and ExecStart=/usr/local/bin/etcd …',
    });
    return;
  }

  let execs: typeof service = [];
  let type: (typeof service)[number] | undefined;
  for (const e of service) {
    if (e.key === 'ExecStart') execs = e.value === '' ? [] : [...execs, e];
    if (e.key === 'Type') type = e;
  }

  const serviceLine = sections.find((s) => s.name === 'Service')!.ll.startLine;
  if (!type) {
    report(ctx, {
      line: serviceLine,
      severity: 'warning',
      rule: 'service-type',
      message: `no Type= in [Service]: systemd uses Type=simple and considers etcd started as soon as it runs, before it has joined the cluster`,
      fix: `add Type=notify (etcd reports readiness with sd_notify, as in Kubernetes The Hard Way)`,
    });
  } else if (!SERVICE_TYPES.includes(type.value)) {
    report(ctx, {
      line: type.ll.endLine,
      col: type.keyCol,
      severity: 'error',
      rule: 'service-type',
      message: `Type=${type.value} is not a service type systemd knows (${SERVICE_TYPES.join(', ')}); systemd refuses the setting`,
      fix: 'Type=notify',
    });
  } else if (type.value !== 'notify') {
    report(ctx, {
      line: type.ll.endLine,
      col: type.keyCol,
      severity: 'warning',
      rule: 'service-type',
      message: `Type=${type.value}: etcd reports readiness with sd_notify; with another type, 'systemctl start etcd' does not wait for etcd to be ready`,
      fix: 'Type=notify',
    });
  }

  if (execs.length === 0) {
    report(ctx, {
      line: serviceLine,
      severity: 'error',
      rule: 'exec-start',
      message: 'no ExecStart= in [Service]: systemd refuses the unit ("Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.")',
      fix: 'add ExecStart=/usr/local/bin/etcd with its flags, one per continued line',
    });
    return;
  }
  if (execs.length > 1 && type?.value !== 'oneshot') {
    const second = execs[1]!;
    report(ctx, {
      line: second.ll.startLine,
      col: second.keyCol,
      severity: 'error',
      rule: 'exec-start',
      message: `a second ExecStart= (the first is on line ${execs[0]!.ll.startLine}): systemd logs "Service has more than one ExecStart= setting, which is only allowed for Type=oneshot services. Refusing."`,
      fix: 'keep a single ExecStart=',
    });
  }
  checkExecStart(ctx, execs[execs.length - 1]!, opts);
}

function checkExecStart(ctx: Ctx, exec: Extract<UnitEntry, { kind: 'assignment' }>, opts: LintOptions): void {
  const words = execWords(exec.ll, exec.valueStart);
  const first = words[0];
  if (!first) return;
  // prefixes: '-', '@', ':', '+', '!', '!!'
  const prefix = /^[-@:+!]*/.exec(first.value)?.[0] ?? '';
  const binary = first.value.slice(prefix.length);
  const argStart = prefix.includes('@') ? 2 : 1;
  const installed = opts.installedPaths;
  if (!binary.startsWith('/')) {
    report(ctx, {
      line: first.line,
      col: first.col,
      severity: 'error',
      rule: 'exec-start',
      message: `ExecStart= runs '${binary}', which is not an absolute path (older systemd refuses it; newer ones search a fixed PATH)`,
      fix: `use the absolute path: ExecStart=${installed?.etcd ?? '/usr/local/bin/etcd'}`,
    });
  } else if (installed && binary !== installed.etcd) {
    report(ctx, {
      line: first.line,
      col: first.col,
      severity: 'error',
      rule: 'path',
      message: `ExecStart= runs ${binary}, but hardway installs etcd at ${installed.etcd}: systemd fails with status=203/EXEC ("Failed to locate executable ${binary}: No such file or directory")`,
      fix: `ExecStart=${installed.etcd}`,
    });
  }
  if (path.posix.basename(binary) !== 'etcd') {
    report(ctx, {
      line: first.line,
      col: first.col,
      severity: 'warning',
      rule: 'exec-start',
      message: `ExecStart= does not run etcd directly ('${binary}'), so its etcd flags were not checked`,
      fix: `run ${installed?.etcd ?? '/usr/local/bin/etcd'} directly; put wrappers in a drop-in instead`,
    });
    return;
  }
  checkEtcdArgs(ctx, words.slice(argStart), opts);
}

interface FlagUse {
  name: string;
  word: ExecWord;
  value?: string;
  valueWord?: ExecWord;
  dynamic: boolean;
}

function checkEtcdArgs(ctx: Ctx, args: ExecWord[], opts: LintOptions): void {
  const minor = etcdMinor(opts.etcdVersion);
  if (!minor && args[0]) warnUnknownRelease(ctx, args[0], opts.etcdVersion);
  const uses = flagUses(ctx, args, minor);
  checkFlagNames(ctx, uses, minor, opts.etcdVersion);
  checkDuplicates(ctx, uses);
  checkPlainHttp(ctx, uses);
  if (opts.installedPaths) checkPaths(ctx, uses, opts.installedPaths, minor);
}

function warnUnknownRelease(ctx: Ctx, first: ExecWord, version: string): void {
  report(ctx, {
    line: first.line,
    severity: 'warning',
    rule: 'unknown-flag',
    message: `hardway has no flag list for etcd ${version} (it knows ${ETCD_MINORS.join(', ')}): the flags were not checked against this release`,
    fix: `use an etcd ${ETCD_MINORS.join('/')} release, or check the flags with 'etcd --help'`,
  });
}

/**
 * The flags of etcd's command line with their values, as etcd's flag parser reads the words: `--name=value`, or
 * `--name value` for a flag that is not boolean. What it would refuse or misread is reported on the way.
 */
function flagUses(ctx: Ctx, args: ExecWord[], minor: EtcdMinor | undefined): FlagUse[] {
  // for boolean-ness without a known release, any release's opinion will do
  const specOf = (name: string): EtcdFlagSpec | undefined => (minor ? etcdFlag(minor, name) : ETCD_MINORS.map((m) => etcdFlag(m, name)).find(Boolean));
  const uses: FlagUse[] = [];
  let positionalReported = false;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const v = w.value;
    if (v === '--') {
      const rest = args[i + 1];
      if (rest) positional(ctx, rest, positionalReported, 'after "--"');
      break;
    }
    if (!v.startsWith('-') || v === '-') {
      positional(ctx, w, positionalReported);
      positionalReported = true;
      continue;
    }
    const body = v.startsWith('--') ? v.slice(2) : v.slice(1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    let value = eq < 0 ? undefined : body.slice(eq + 1);
    let valueWord: ExecWord | undefined = eq < 0 ? undefined : w;
    if (name === '' || name.startsWith('-') || name.startsWith('=')) {
      reportBadSyntax(ctx, w);
      continue;
    }
    const spec = specOf(name);
    const next = args[i + 1];
    if (spec?.bool) {
      if (checkBoolValue(ctx, name, w, value, next)) i++;
    } else if (value === undefined) {
      const taken = takeValue(ctx, name, w, spec, next);
      if (taken) {
        value = taken.value;
        valueWord = taken;
        i++;
      }
    }
    uses.push({ name, word: w, value, valueWord, dynamic: (valueWord ?? w).dynamic });
  }
  return uses;
}

function reportBadSyntax(ctx: Ctx, w: ExecWord): void {
  report(ctx, {
    line: w.line,
    col: w.col,
    severity: 'error',
    rule: 'flag-value',
    message: `'${w.raw}' is not flag syntax etcd understands: it exits with "bad flag syntax: ${w.value}"`,
    fix: `write flags as --name=value`,
  });
}

/** A boolean flag's value: a Go boolean as the next word is not its value (reported; true: that word is used up), nor is anything but one after `=`. */
function checkBoolValue(ctx: Ctx, name: string, w: ExecWord, value: string | undefined, next: ExecWord | undefined): boolean {
  if (value === undefined && next && GO_BOOL.has(next.value)) {
    report(ctx, {
      line: next.line,
      col: next.col,
      severity: 'error',
      rule: 'flag-value',
      message: `--${name} is a boolean flag: it takes no separate value, so '${next.value}' becomes a positional argument and etcd exits with "'${next.value}' is not a valid flag"`,
      fix: `write --${name}=${next.value}${/^(1|t|true)$/i.test(next.value) ? ` (or just --${name})` : ''}`,
    });
    return true;
  }
  if (value !== undefined && !GO_BOOL.has(value) && !w.dynamic) {
    report(ctx, {
      line: w.line,
      col: w.col,
      severity: 'error',
      rule: 'flag-value',
      message: `--${name}=${value}: etcd exits with 'invalid boolean value "${value}" for -${name}'`,
      fix: `--${name}=true or --${name}=false`,
    });
  }
  return false;
}

/**
 * The word a flag without `=` takes as its value: the next one (a known flag takes it even when it looks like a
 * flag, which is reported); none when it is the last word (a known flag then makes etcd exit, reported).
 */
function takeValue(ctx: Ctx, name: string, w: ExecWord, spec: EtcdFlagSpec | undefined, next: ExecWord | undefined): ExecWord | undefined {
  if (!next) {
    if (spec) {
      report(ctx, {
        line: w.line,
        col: w.col,
        severity: 'error',
        rule: 'flag-value',
        message: `--${name} needs a value and is the last argument: etcd exits with "flag needs an argument: -${name}"`,
        fix: `--${name}=<value>`,
      });
    }
    return undefined;
  }
  if (!spec && next.value.startsWith('-')) return undefined;
  if (spec && next.value.startsWith('-') && next.value.length > 1) {
    report(ctx, {
      line: next.line,
      col: next.col,
      severity: 'error',
      rule: 'flag-value',
      message: `--${name} takes a value, so it swallows the next argument '${clip(next.value, 40)}' as its value (and that flag is not set)`,
      fix: `give --${name} its value: --${name}=<value>`,
    });
  }
  return next;
}

/** Flags whose values are URLs etcd listens on, advertises or dials. */
const URL_FLAGS = new Set(['listen-peer-urls', 'listen-client-urls', 'initial-advertise-peer-urls', 'advertise-client-urls', 'initial-cluster', 'listen-metrics-urls']);

/**
 * Plain HTTP is what the current edition of the guide runs, bound to loopback, where nothing leaves the machine; on
 * any other address it sends every key and value (Secrets included) in clear across the network.
 */
function checkPlainHttp(ctx: Ctx, uses: FlagUse[]): void {
  for (const u of uses) {
    if (!URL_FLAGS.has(u.name) || u.value === undefined || u.dynamic) continue;
    for (const m of u.value.matchAll(/http:\/\/(\[[^\]]*\]|[^:/,]+)/g)) {
      if (isLoopbackHost(m[1]!)) continue;
      const w = u.valueWord ?? u.word;
      report(ctx, {
        line: w.line,
        col: w.col,
        severity: 'error',
        rule: 'plain-http',
        message: `--${u.name} has plain http://${m[1]}: etcd's traffic, every Secret included, would cross the network unencrypted`,
        fix: `use https:// with certificates (etcd.tls: true, hardway's default), or bind plain HTTP to 127.0.0.1 only (a single node)`,
      });
    }
  }
}

function positional(ctx: Ctx, w: ExecWord, already: boolean, where = ''): void {
  if (already) return;
  const v = w.value;
  let why = '';
  if (v === '\\' || /^\\+$/.test(v)) why = ` It is a leftover backslash: a continued line ends in '\\\\' or in '\\' followed by a space.`;
  else if (/^[A-Z][A-Za-z]*=/.test(v)) why = ` It is a unit setting: the line before it ends in '\\', so it became part of ExecStart=.`;
  report(ctx, {
    line: w.line,
    col: w.col,
    severity: 'error',
    rule: 'flag-value',
    message: `'${clip(v, 40)}' ${where ? `${where} ` : ''}is not a flag: etcd stops reading flags there and exits with "'${clip(v, 40)}' is not a valid flag" (every flag after it is ignored).${why}`,
    fix: why ? 'fix the line continuation so that only flags are passed to etcd' : `remove it, or attach it to its flag: --flag=${clip(v, 30)}`,
  });
}

function replacementIn(minor: EtcdMinor, name: string, spec: EtcdFlagSpec | undefined): string | undefined {
  if (spec?.deprecated?.startsWith('--')) return spec.deprecated;
  if (name.startsWith('experimental-') && etcdFlag(minor, name.slice('experimental-'.length))) return `--${name.slice('experimental-'.length)}`;
  if (name === 'debug') return '--log-level=debug';
  if (name === 'log-package-levels') return '--log-level';
  return undefined;
}

function checkFlagNames(ctx: Ctx, uses: FlagUse[], minor: EtcdMinor | undefined, version: string): void {
  if (!minor) return;
  for (const u of uses) {
    const spec = etcdFlag(minor, u.name);
    const at = { line: u.word.line, col: u.word.col };
    if (!spec) {
      const others = minorsWithFlag(u.name);
      const refused = `etcd ${version} exits with "flag provided but not defined: -${u.name}" (status=2/INVALIDARGUMENT under systemd)`;
      if (others.length > 0) {
        const newer = others.filter((m) => compareVersions(m, minor) > 0);
        const older = others.filter((m) => compareVersions(m, minor) < 0);
        if (newer.length > 0 && older.length === 0) {
          report(ctx, {
            ...at,
            severity: 'error',
            rule: 'unknown-flag',
            message: `--${u.name} is not an etcd ${minor} flag (it exists in etcd ${others.join(', ')}): ${refused}`,
            fix: `remove it, or set etcd.version to an etcd ${newer[0]} release`,
          });
        } else {
          const last = older[older.length - 1]!;
          const repl = replacementIn(minor, u.name, etcdFlag(last, u.name));
          report(ctx, {
            ...at,
            severity: 'error',
            rule: 'unknown-flag',
            message: `--${u.name} is not an etcd ${minor} flag (it was removed after etcd ${last}): ${refused}`,
            fix: repl ? `use ${repl} instead` : `remove it`,
          });
        }
        continue;
      }
      const s = closest(u.name, etcdFlags(minor).keys());
      report(ctx, {
        ...at,
        severity: 'error',
        rule: 'unknown-flag',
        message: `--${u.name} is not an etcd flag (etcd ${minor}): ${refused}`,
        fix: s ? `did you mean --${s}?` : `remove it (see 'etcd --help' of etcd ${version})`,
      });
      continue;
    }
    if (spec.addedAfter && compareVersions(version, spec.addedAfter) <= 0) {
      report(ctx, {
        ...at,
        severity: 'error',
        rule: 'unknown-flag',
        message: `--${u.name} is not in etcd ${version}: it was added after ${spec.addedAfter}, so etcd ${version} exits with "flag provided but not defined: -${u.name}"`,
        fix: `remove it, or use an etcd release newer than ${spec.addedAfter}`,
      });
      continue;
    }
    if (spec.ignored) {
      report(ctx, {
        ...at,
        severity: 'warning',
        rule: 'deprecated-flag',
        message: `--${u.name} is accepted by etcd and ignored (a leftover of etcd 0.4/2.x)`,
        fix: u.name === 'config' ? `use --config-file, or remove it` : `remove it`,
      });
      continue;
    }
    if (spec.deprecated) {
      report(ctx, {
        ...at,
        severity: 'warning',
        rule: 'deprecated-flag',
        message: `--${u.name} is deprecated in etcd ${minor}`,
        fix: spec.deprecated.startsWith('--') ? `use ${spec.deprecated} instead` : `use ${spec.deprecated}`,
      });
    }
    if (spec.values && u.value !== undefined && !u.dynamic && !spec.values.includes(u.value)) {
      const capnslog = u.name === 'logger' && u.value === 'capnslog';
      report(ctx, {
        line: (u.valueWord ?? u.word).line,
        col: (u.valueWord ?? u.word).col,
        severity: 'error',
        rule: 'flag-value',
        message: capnslog
          ? `--logger=capnslog exists in etcd 3.4 only; etcd ${version} refuses to start with it`
          : `--${u.name}=${u.value}: etcd ${minor} accepts only ${spec.values.map((x) => `'${x}'`).join(', ')}`,
        fix: capnslog ? `--logger=zap (the default since 3.5), or remove the flag` : `use one of: ${spec.values.join(', ')}`,
      });
    }
  }
}

function checkDuplicates(ctx: Ctx, uses: FlagUse[]): void {
  const seen = new Map<string, FlagUse>();
  for (const u of uses) {
    const first = seen.get(u.name);
    if (!first) {
      seen.set(u.name, u);
      continue;
    }
    report(ctx, {
      line: u.word.line,
      col: u.word.col,
      severity: 'error',
      rule: 'duplicate-flag',
      message:
        `--${u.name} is given twice, on line ${first.word.line} and on line ${u.word.line}` +
        (first.value !== undefined && u.value !== undefined && first.value !== u.value ? ` ('${clip(first.value, 40)}' and '${clip(u.value, 40)}')` : '') +
        `: etcd keeps the last one without a word`,
      fix: `keep only one --${u.name} (with hardway, remove it from etcd.extraFlags if the template already sets it)`,
    });
  }
}

function normalize(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

function checkPaths(ctx: Ctx, uses: FlagUse[], inst: InstalledPaths, minor: EtcdMinor | undefined): void {
  const files = new Map<string, 'cert' | 'key' | 'caCert'>([
    [normalize(inst.cert), 'cert'],
    [normalize(inst.key), 'key'],
    [normalize(inst.caCert), 'caCert'],
  ]);
  for (const u of uses) {
    if (u.value === undefined || u.dynamic) continue;
    const spec = minor ? etcdFlag(minor, u.name) : ETCD_MINORS.map((m) => etcdFlag(m, u.name)).find(Boolean);
    if (!spec?.path) continue;
    const w = u.valueWord ?? u.word;
    const at = { line: w.line, col: w.col };
    const value = normalize(u.value);
    if (spec.path === 'file') {
      const want = TLS_FLAGS[u.name];
      const have = files.get(value);
      if (want && have === want) continue;
      if (want && have) {
        report(ctx, {
          ...at,
          severity: 'error',
          rule: 'path',
          message: `--${u.name}=${u.value} points at the ${KIND_NAME[have]} hardway installs, but this flag needs the ${KIND_NAME[want]}: TLS fails (etcd cannot load the key pair, or rejects every peer)`,
          fix: `--${u.name}=${inst[want]}`,
        });
        continue;
      }
      report(ctx, {
        ...at,
        severity: 'error',
        rule: 'path',
        message:
          u.name === 'config-file'
            ? `--config-file=${u.value}: hardway installs no etcd config file, and with --config-file etcd ignores every other flag`
            : `--${u.name}=${u.value}: hardway installs no file there, so etcd exits with "open ${u.value}: no such file or directory"`,
        fix: want ? `--${u.name}=${inst[want]} (the ${KIND_NAME[want]} hardway installs)` : `remove --${u.name}`,
      });
      continue;
    }
    // directories
    if (u.name === 'data-dir') {
      if (value === normalize(inst.dataDir)) continue;
      report(ctx, {
        ...at,
        severity: 'warning',
        rule: 'path',
        message: `--data-dir=${u.value} is not the data directory hardway creates (${inst.dataDir}, mode 0700): etcd creates it itself, and hardway's checks and backups look at ${inst.dataDir}`,
        fix: `set etcd.dataDir in the inventory to ${u.value}, or use --data-dir=${inst.dataDir}`,
      });
      continue;
    }
    report(ctx, {
      ...at,
      severity: 'warning',
      rule: 'path',
      message: `--${u.name}=${u.value}: hardway does not create or check this directory (only ${inst.dataDir}); etcd creates it at start`,
      fix: `make sure ${u.value} exists on a fast disk with mode 0700, or remove --${u.name}`,
    });
  }
}
