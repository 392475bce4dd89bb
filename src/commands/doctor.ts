import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkPasses, endCheck, withStrict } from './check-outcome.js';
import { plural } from '../render/report.js';
import type { Severity } from '../verify/signatures.js';
import { printJson, println } from '../output.js';
import {
  countBySeverity,
  diagnose,
  findingsToJson,
  problemsOf,
  renderFindings,
  type Diagnosis,
} from '../verify/diagnose.js';
import { dedupeEntries, isJournalShaped, looksBinary, parseJournal, type JournalEntry } from '../verify/journal.js';
import { matchSignatures } from '../verify/signatures.js';
import { withHosts } from '../engine/session.js';
import { diagnoseCluster } from '../verify/doctor-cluster.js';
import { gatherDoctorFacts } from '../verify/doctor-gather.js';
import { gatherCondition } from '../cluster/gather.js';
import type { Finding } from '../verify/diagnose.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

/**
 * `hardway doctor`: diagnose etcd from its logs.
 *
 *  - offline (`--journal FILE…`): pasted `journalctl -u etcd` output (short formats or `-o json`, etcd and
 *    systemd lines mixed; `-` reads stdin). No inventory, no SSH.
 *  - online (no `--journal`): to be added here: collect the journals over SSH with the inventory, add
 *    endpoint-status samples and fsync metrics, and print with the same `renderFindings`.
 */
export interface DoctorOptions extends CommonOptions {
  journal?: string[];
  /** Year for year-less `journalctl` timestamps. */
  year?: number;
  strict?: boolean;
}

export interface OfflineDoctorOptions {
  json?: boolean;
  strict?: boolean;
  year?: number;
}

export interface DoctorReport extends Diagnosis {
  files: string[];
}

async function readJournalFile(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${file}: no such journal file (save it with: journalctl -u etcd --no-pager > ${file})`);
    if (code === 'EISDIR') throw new UsageError(`${file}: is a directory, not a journal file`);
    throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
  }
}

/**
 * The wrong file (an inventory, a binary `.journal`, an empty save) would otherwise pass as "no problems found in
 * 0 lines": a usage error instead. A file counts as a journal when one line has journalctl's or etcd's shape, or
 * a plain line is a known etcd/systemd message (`-o cat`, pasted systemctl output).
 */
function assertJournal(file: string, text: string, entries: JournalEntry[]): void {
  const name = file === '-' ? 'stdin' : file;
  const save = 'save the journal with: journalctl -u etcd --no-pager > FILE';
  if (looksBinary(text)) {
    const how = /\.journal~?$/.test(name) ? `read a journal file with: journalctl --file ${name} -u etcd --no-pager > FILE` : save;
    throw new UsageError(`no journal line was recognised in ${name}: it is binary data, not journalctl's text output; ${how}`);
  }
  if (entries.some(isJournalShaped) || matchSignatures(entries).length > 0) return;
  const what = entries.length ? `${entries.length} line${entries.length > 1 ? 's' : ''} of plain text, none from journalctl, etcd or systemd` : 'no line in it';
  throw new UsageError(`no journal line was recognised in ${name} (${what}); ${save}`);
}

/** Reads and analyses the files; no printing (for tests and for the online doctor). */
export async function diagnoseFiles(files: string[], opts: { year?: number } = {}): Promise<DoctorReport> {
  if (files.length === 0) throw new UsageError('doctor --journal needs at least one file');
  // Read and check everything first: a missing or wrong file is a usage error before any analysis.
  const texts = await Promise.all(files.map(readJournalFile));
  const entries: JournalEntry[] = [];
  texts.forEach((text, i) => {
    const parsed = parseJournal(text, { year: opts.year, file: files[i] });
    assertJournal(files[i]!, text, parsed);
    entries.push(...parsed);
  });
  // Two saves of one journal (`-u etcd` and `_PID=1`) share entries: count each once.
  return { ...diagnose(dedupeEntries(entries)), files };
}

/** The report as JSON: findings, counts and the election analysis (without the raw entries). */
export function reportToJson(r: DoctorReport, strict?: boolean): Record<string, unknown> {
  const counts = countBySeverity(r.findings);
  const { evidence, ...elections } = r.elections;
  return {
    ok: checkPasses({ errors: counts.error, warnings: counts.warning }, strict),
    files: r.files,
    lines: r.lines,
    counts,
    findings: findingsToJson(r.findings),
    elections: {
      ...elections,
      evidence: evidence.map((e) => e.raw),
    },
  };
}

/** "4 errors, 2 warnings, 1 note": only the kinds there are. */
function countsText(counts: Record<Severity, number>): string {
  return [counts.error ? plural(counts.error, 'error') : '', counts.warning ? plural(counts.warning, 'warning') : '', counts.info ? plural(counts.info, 'note') : ''].filter(Boolean).join(', ');
}

/**
 * The report and the exit, for both doctors: a headline, the findings under Errors / Warnings / Notes; exit 1 on
 * an error, on a warning only with --strict (check-outcome.ts).
 */
function endReport(findings: Finding[], where: { some: string; none: string }, opts: { json?: boolean; strict?: boolean }, json: () => Record<string, unknown>): void {
  const counts = countBySeverity(findings);
  const problems = problemsOf(findings);
  if (opts.json) printJson(json());
  else {
    const notes = counts.info ? ` (${plural(counts.info, 'note')} below)` : '';
    println(problems.length ? `${where.some}: ${countsText(counts)}` : `no problems found ${where.none}${notes}`);
    if (findings.length) println(renderFindings(findings));
  }
  const nodes = [...new Set(problems.flatMap((f) => f.hosts))];
  endCheck('doctor', { errors: counts.error, warnings: counts.warning }, opts.strict, `${where.none} (${problems.map((f) => f.id).join(', ')})${nodes.length ? ` on ${nodes.join(', ')}` : ''}`);
}

/**
 * Offline doctor: prints the findings (text or `--json`); exit 1 on an error (or a warning with --strict); a
 * missing or unreadable file is a UsageError (exit 2).
 */
export async function runOfflineDoctor(files: string[], opts: OfflineDoctorOptions = {}): Promise<DoctorReport> {
  const report = await diagnoseFiles(files, { year: opts.year });
  const where = { some: `${report.lines} lines from ${files.length} file${files.length === 1 ? '' : 's'}`, none: `in ${report.lines} lines` };
  endReport(report.findings, where, opts, () => reportToJson(report, opts.strict));
  return report;
}

/** Online doctor: every member over SSH, with the live cluster's evidence (status samples, metrics, ports, clocks). */
export async function runOnlineDoctor(opts: DoctorOptions): Promise<void> {
  const inv = await loadInventory(opts);
  if (!opts.json) process.stderr.write(`doctor: reading journals, metrics and status from ${inv.nodes.length} node(s)…\n`);
  const findings = await withHosts(inv, inv.nodes, {}, async (r) => {
    // The whole cluster's condition leads: read beside the journals and metrics, from the same connections.
    const [gathered, judged] = await Promise.all([gatherDoctorFacts(inv, r.hosts), gatherCondition(inv, r.hosts)]);
    return diagnoseCluster(inv, gathered.facts, judged.condition);
  });
  const counts = countBySeverity(findings);
  endReport(findings, { some: `${inv.nodes.length} node(s)`, none: `on ${inv.nodes.length} node(s)` }, opts, () => ({ ok: checkPasses({ errors: counts.error, warnings: counts.warning }, opts.strict), counts, findings: findingsToJson(findings) }));
}

export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('the cause, per member, with evidence: journals, election loops, disk latency, reachability, clocks, certificates (--journal FILE: offline, on pasted journalctl output)')
    .option('--journal <file...>', 'journalctl -u etcd output to analyse (short or -o json; repeatable; - for stdin)')
    .option('--year <year>', 'year for journalctl timestamps without one (default: this year)', (v: string) => {
      const n = Number(v);
      if (!/^\d{4}$/.test(v) || !Number.isInteger(n)) throw new UsageError(`--year: expected a year such as 2026, got '${v}'`);
      return n;
    });
  withInventory(cmd);
  withJson(cmd);
  withStrict(cmd);
  cmd.action(async (opts: DoctorOptions) => {
    if (opts.journal && opts.journal.length > 0) {
      await runOfflineDoctor(opts.journal, { json: opts.json, year: opts.year, strict: opts.strict });
      return;
    }
    await runOnlineDoctor(opts);
  });
}
