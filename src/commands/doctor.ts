import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CheckFailed, UsageError } from '../errors.js';
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
}

export interface OfflineDoctorOptions {
  json?: boolean;
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
export function reportToJson(r: DoctorReport): Record<string, unknown> {
  const problems = problemsOf(r.findings);
  const { evidence, ...elections } = r.elections;
  return {
    ok: problems.length === 0,
    files: r.files,
    lines: r.lines,
    counts: countBySeverity(r.findings),
    findings: findingsToJson(r.findings),
    elections: {
      ...elections,
      evidence: evidence.map((e) => e.raw),
    },
  };
}

/**
 * Offline doctor: prints the findings (text or `--json`) and throws CheckFailed (exit 1) when a warning or an
 * error was found; a missing or unreadable file is a UsageError (exit 2).
 */
export async function runOfflineDoctor(files: string[], opts: OfflineDoctorOptions = {}): Promise<DoctorReport> {
  const report = await diagnoseFiles(files, { year: opts.year });
  const problems = problemsOf(report.findings);
  const counts = countBySeverity(report.findings);
  if (opts.json) {
    printJson(reportToJson(report));
  } else if (problems.length === 0) {
    const notes = report.findings.length ? ` (${report.findings.length} note${report.findings.length > 1 ? 's' : ''} below)` : '';
    println(`no problems found in ${report.lines} lines${notes}`);
    if (report.findings.length) println(renderFindings(report.findings));
  } else {
    const parts = [`${counts.error} error${counts.error === 1 ? '' : 's'}`, `${counts.warning} warning${counts.warning === 1 ? '' : 's'}`];
    if (counts.info) parts.push(`${counts.info} note${counts.info === 1 ? '' : 's'}`);
    println(`${report.lines} lines from ${files.length} file${files.length === 1 ? '' : 's'}: ${parts.join(', ')}`);
    println(renderFindings(report.findings));
    println();
  }
  if (problems.length > 0) {
    const parts = [counts.error ? `${counts.error} error${counts.error > 1 ? 's' : ''}` : '', counts.warning ? `${counts.warning} warning${counts.warning > 1 ? 's' : ''}` : ''].filter(Boolean);
    throw new CheckFailed(`doctor: ${parts.join(', ')} in ${report.lines} lines (${problems.map((f) => f.id).join(', ')})`);
  }
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
  const problems = problemsOf(findings);
  if (opts.json) printJson({ ok: problems.length === 0, counts: countBySeverity(findings), findings: findingsToJson(findings) });
  else println(problems.length ? renderFindings(findings) : `no problems found on ${inv.nodes.length} member(s)${findings.length ? `\n${renderFindings(findings)}` : ''}`);
  if (problems.length) {
    const members = [...new Set(problems.flatMap((f) => f.hosts))];
    throw new CheckFailed(`doctor: ${problems.map((f) => f.id).join(', ')}${members.length ? ` on ${members.join(', ')}` : ''}`);
  }
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
  cmd.action(async (opts: DoctorOptions) => {
    if (opts.journal && opts.journal.length > 0) {
      await runOfflineDoctor(opts.journal, { json: opts.json, year: opts.year });
      return;
    }
    await runOnlineDoctor(opts);
  });
}
