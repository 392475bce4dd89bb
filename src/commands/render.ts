import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { CheckFailed, UsageError } from '../errors.js';
import { selectNodes, unknownNodesMessage } from '../inventory/derive.js';
import { info, printJson, println } from '../output.js';
import { findSystemdAnalyze, hasErrors, renderAndLint, type LintProblem } from '../render/index.js';
import { countProblems, formatProblemsReport, plural } from '../render/report.js';
import { loadInventory, withInventory, withJson, withNodes, type CommonOptions } from './options.js';

interface RenderCliOptions extends CommonOptions {
  out: string;
  templates?: string;
  nodes?: string[];
  systemdAnalyze: boolean;
}

export interface RenderedNode {
  node: string;
  /** Where the unit goes (relative to the working directory when below it). */
  file: string;
  /** False when the unit has lint errors: it is then not written. */
  written: boolean;
  problems: LintProblem[];
}

export function registerRender(program: Command): void {
  const cmd = program
    .command('render')
    .description("render each node's etcd.service from the template, lint it, and write <out>/<node>/etcd.service (units with errors are not written)");
  withInventory(cmd);
  cmd
    .option('--out <dir>', 'output directory', './out')
    .option('--templates <dir>', "directory holding etcd.service.hbs (beats the inventory's 'templates' and the built-in template)");
  withNodes(cmd);
  cmd.option('--no-systemd-analyze', 'do not run systemd-analyze verify, even where it is installed');
  withJson(cmd);
  cmd.action(async (opts: RenderCliOptions) => {
    await runRender(opts);
  });
}

function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Writes through a temporary file in the same directory, so a reader never sees half a unit. */
async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}

export async function runRender(opts: RenderCliOptions): Promise<RenderedNode[]> {
  const inv = await loadInventory(opts);
  const { nodes, unknown } = selectNodes(inv, opts.nodes);
  if (unknown.length > 0) {
    throw new UsageError(unknownNodesMessage(inv, unknown));
  }
  const outDir = path.resolve(opts.out);
  const systemdAnalyze = opts.systemdAnalyze ? Boolean(await findSystemdAnalyze()) : false;

  const results: (RenderedNode & { text: string })[] = [];
  for (const node of nodes) {
    const target = path.join(outDir, node.name, 'etcd.service');
    const file = display(target);
    const { text, problems } = await renderAndLint(inv, node, { templatesDir: opts.templates, file, systemdAnalyze });
    const written = !hasErrors(problems);
    if (written) await writeAtomic(target, text);
    results.push({ node: node.name, file, written, problems, text });
  }

  const failed = results.filter((r) => !r.written);
  if (opts.json) {
    printJson(results.map(({ node, file, written, problems }) => ({ node, file, written, problems })));
  } else {
    for (const r of results) {
      if (r.problems.length > 0) info(formatProblemsReport(r.problems, r.text));
      if (r.written) println(r.file);
    }
    if (opts.systemdAnalyze && !systemdAnalyze) info('note: systemd-analyze is not installed here, so only hardway\'s own checks ran');
    for (const r of failed) {
      info(`not written: ${r.file} (${plural(countProblems(r.problems).errors, 'error')}; a file already there was left unchanged)`);
    }
  }
  if (failed.length > 0) {
    throw new CheckFailed(`${plural(failed.length, 'unit')} of ${results.length} failed the lint and ${failed.length === 1 ? 'was' : 'were'} not written: ${failed.map((r) => r.node).join(', ')}`);
  }
  return results.map(({ node, file, written, problems }) => ({ node, file, written, problems }));
}
