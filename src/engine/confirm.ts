import { createInterface } from 'node:readline/promises';
import { OperationError, UsageError } from '../errors.js';

/**
 * Asks before a destructive change: on a terminal, y/N on stderr; without one, only `--yes` goes ahead (a script
 * must say so), otherwise a usage error. Either way the plan has been printed first.
 */
export async function confirm(question: string, opts: { yes?: boolean; isTTY?: boolean } = {}): Promise<void> {
  if (opts.yes) return;
  if (!(opts.isTTY ?? (process.stdin.isTTY && process.stderr.isTTY))) {
    throw new UsageError(`${question}: not asked without a terminal; run again with --yes to go ahead`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new OperationError('not confirmed: nothing was changed');
  } finally {
    rl.close();
  }
}
