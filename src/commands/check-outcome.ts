import type { Command } from 'commander';
import { CheckFailed } from '../errors.js';
import { plural } from '../render/report.js';

/**
 * The one rule from what a check found to its exit code, for every command that checks (verify, doctor, lint-unit):
 * errors fail (exit 1); warnings are printed apart and pass (exit 0) unless `--strict`, which CI uses.
 */

export function withStrict(cmd: Command): Command {
  return cmd.option('--strict', 'warnings fail too (exit 1), for CI');
}

export interface CheckCounts {
  errors: number;
  warnings: number;
}

/** Whether the check passes under the rule (what `--json` reports as `ok`). */
export function checkPasses(c: CheckCounts, strict?: boolean): boolean {
  return c.errors === 0 && (!strict || c.warnings === 0);
}

/** Throws CheckFailed (exit 1) when the check does not pass; `where` goes after the counts ("on controller-1"). */
export function endCheck(command: string, c: CheckCounts, strict: boolean | undefined, where = ''): void {
  if (checkPasses(c, strict)) return;
  const counted = [c.errors ? plural(c.errors, 'error') : '', c.warnings ? plural(c.warnings, 'warning') : ''].filter(Boolean).join(', ');
  throw new CheckFailed(`${command}: ${counted}${where ? ` ${where}` : ''}${c.errors === 0 ? ' (--strict: warnings fail)' : ''}`);
}
