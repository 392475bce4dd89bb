/**
 * Rendering and checking etcd.service: what the `render` and `lint-unit` commands and the provisioning code use.
 */
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { lintUnit, sortProblems, type LintProblem } from './lint.js';
import { installedPaths } from './paths.js';
import { mergeSystemdProblems, systemdAnalyzeVerify } from './systemd-verify.js';
import { renderUnit, type RenderOptions } from './template.js';

export { etcdMinor, etcdFlag, etcdFlags, ETCD_MINORS, type EtcdFlagSpec, type EtcdMinor } from './etcd-flags.js';
export { formatLintProblem, hasErrors, lintUnit, sortProblems, type LintOptions, type LintProblem, type LintRule, type LintSeverity } from './lint.js';
export { DEFAULT_DATA_DIR, installedPaths, REMOTE_PATHS, type InstalledPaths } from './paths.js';
export { findSystemdAnalyze, mergeSystemdProblems, systemdAnalyzeVerify, type SystemdVerifyResult } from './systemd-verify.js';
export {
  BUILTIN_TEMPLATES_DIR,
  renderUnit,
  resolveTemplatesDir,
  systemdArg,
  UNIT_TEMPLATE,
  unitContext,
  type RenderOptions,
  type TemplatesSource,
  type UnitContext,
} from './template.js';

export interface RenderAndLintOptions extends RenderOptions {
  /** The name problems carry (default `<node>/etcd.service`). */
  file?: string;
  /** Also run `systemd-analyze verify` when the machine has it (default false: lint only). */
  systemdAnalyze?: boolean;
}

/** Renders one node's unit and lints it against the inventory's etcd version and installed paths. */
export async function renderAndLint(
  inv: Inventory,
  node: NodeSpec,
  opts: RenderAndLintOptions = {},
): Promise<{ text: string; problems: LintProblem[] }> {
  const text = await renderUnit(inv, node, opts);
  const file = opts.file ?? `${node.name}/etcd.service`;
  let problems = lintUnit(text, { file, etcdVersion: inv.etcd.version, installedPaths: installedPaths(inv) });
  if (opts.systemdAnalyze) {
    const verified = await systemdAnalyzeVerify(text, { file });
    problems = mergeSystemdProblems(problems, verified.problems);
  }
  return { text, problems: sortProblems(problems) };
}
