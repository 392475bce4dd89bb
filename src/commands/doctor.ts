import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkPasses, endCheck, withStrict } from './check-outcome.js';
import { plural } from '../render/report.js';
import type { Severity } from '../journal/signatures.js';
import { printJson, println } from '../output.js';
import { countBySeverity, findingsToJson, problemsOf, renderFindings, type Finding } from '../journal/diagnose.js';
import { diagnoseFiles, type DoctorReport } from '../doctor/offline.js';
import { diagnoseLive } from '../doctor/online.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

/**
 * `hardway doctor`: diagnose etcd from its logs.
 *
 *  - offline (`--journal FILE…`): pasted `journalctl -u etcd` output (short formats or `-o json`, etcd and
 *    systemd lines mixed; `-` reads stdin). No inventory, no SSH.
 *  - online (no `--journal`): the journals, endpoint-status samples and fsync metrics over SSH with the
 *    inventory, printed with the same `renderFindings`.
 * The reading and the rules are in src/doctor/ and src/journal/; this file parses options and prints.
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
  const findings = await diagnoseLive(inv);
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
