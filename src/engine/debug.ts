import type { ProgressStream } from './progress.js';
import type { RunnerOptions } from './runner.js';

/**
 * `HARDWAY_DEBUG=1`: every flow's steps traced on stderr as they start, each with the milliseconds since the process
 * started (where a slow run spends its time, without a profiler), and every clean-up that failed — runSteps keeps
 * the step's own error as the one reported, so without this such a failure would vanish.
 */
export function stepTrace(env: NodeJS.ProcessEnv = process.env, stream: ProgressStream = process.stderr, now: () => number = () => performance.now()): RunnerOptions {
  if (!env.HARDWAY_DEBUG) return {};
  const at = () => `${Math.round(now())} ms`;
  return {
    onStep: (title) => void stream.write(`debug: ${at()}: step ${title}\n`),
    onCleanUpError: (title, e) => void stream.write(`debug: ${at()}: the clean-up of step ${title} failed: ${e instanceof Error ? e.message : String(e)}\n`),
  };
}
