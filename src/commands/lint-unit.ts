import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkPasses, endCheck, withStrict } from './check-outcome.js';
import { readInventory } from '../inventory/read.js';
import { printJson, println } from '../output.js';
import { etcdMinor, ETCD_MINORS, installedPaths, lintUnit, mergeSystemdProblems, systemdAnalyzeVerify, type LintProblem } from '../render/index.js';
import { countProblems, formatProblemsReport, plural } from '../render/report.js';
import { withJson } from './options.js';

/** The inventory's default etcd release. */
export const DEFAULT_ETCD_VERSION = '3.4.23';

interface LintUnitCliOptions {
  etcdVersion?: string;
  inventory?: string;
  json?: boolean;
  systemdAnalyze: boolean;
  strict?: boolean;
}

export function registerLintUnit(program: Command): void {
  const cmd = program
    .command('lint-unit')
    .description('check an existing etcd.service: line continuations (the doubled backslash), keys systemd ignores, etcd flags the release refuses, paths hardway does not install')
    .argument('<file>', 'the unit file, e.g. a copy of /etc/systemd/system/etcd.service')
    .option('--etcd-version <version>', `etcd release the unit runs (default: the inventory's, else ${DEFAULT_ETCD_VERSION})`)
    .option('-i, --inventory <file>', "take the etcd version and the data directory from this inventory")
    .option('--no-systemd-analyze', 'do not run systemd-analyze verify, even where it is installed');
  withJson(cmd);
  withStrict(cmd);
  cmd.action(async (file: string, opts: LintUnitCliOptions) => {
    await runLintUnit(file, opts);
  });
}

export async function runLintUnit(file: string, opts: LintUnitCliOptions): Promise<LintProblem[]> {
  if (opts.etcdVersion !== undefined && !/^v?\d+\.\d+(\.\d+)?$/.test(opts.etcdVersion)) {
    throw new UsageError(`--etcd-version: '${opts.etcdVersion}' is not a release such as 3.4.23`);
  }
  const inv = opts.inventory ? await readInventory(opts.inventory) : undefined;
  const etcdVersion = opts.etcdVersion?.replace(/^v/, '') ?? inv?.etcd.version ?? DEFAULT_ETCD_VERSION;

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${file}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`${file}: is a directory, not a unit file`);
    throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
  }

  let problems = lintUnit(text, { file, etcdVersion, installedPaths: installedPaths(inv) });
  let systemdAnalyze: 'ran' | 'absent' | 'failed' | 'skipped' = 'skipped';
  if (opts.systemdAnalyze) {
    const verified = await systemdAnalyzeVerify(text, { file });
    systemdAnalyze = verified.status;
    problems = mergeSystemdProblems(problems, verified.problems);
  }
  const { errors, warnings } = countProblems(problems);

  if (opts.json) {
    printJson({ ok: checkPasses({ errors, warnings }, opts.strict), file, etcdVersion, systemdAnalyze, errors, warnings, problems });
  } else {
    if (problems.length > 0) println(formatProblemsReport(problems, text));
    const checked = etcdMinor(etcdVersion) ? `flags checked against etcd ${etcdVersion}` : `no flag list for etcd ${etcdVersion} (known: ${ETCD_MINORS.join(', ')})`;
    const sd = { ran: 'systemd-analyze verify ran', absent: 'systemd-analyze not installed', failed: 'systemd-analyze verify failed to run', skipped: 'systemd-analyze skipped' }[systemdAnalyze];
    println(`${file}: ${problems.length === 0 ? 'no problems' : `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`} (${checked}; ${sd})`);
  }
  endCheck(`lint-unit ${file}`, { errors, warnings }, opts.strict);
  return problems;
}
