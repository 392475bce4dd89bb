import { stepTrace } from './debug.js';

/**
 * The step runner every flow (`up`, `plan`, `tune`, later snapshots and member changes) is built on: a flow is a
 * list of steps over one run-wide record, run in order. A step may say it does not apply (`shouldRun`), and may
 * leave something to undo (`cleanUp`: close connections, remove a temp file). Clean-up runs for every step that
 * started, last first, on every path — success, a failing step, a throw in a later one — so a flow never leaves
 * connections open or temp files behind, and the first error is the one reported.
 */

export interface Step<R> {
  title: string;
  /** False skips the step (and its clean-up). Default: run. */
  shouldRun?(run: R): boolean;
  run(run: R): Promise<void>;
  cleanUp?(run: R): Promise<void>;
}

export interface RunnerOptions {
  /** Told of each step as it starts (a debug trace, or a progress line). */
  onStep?: (title: string) => void;
  /** Told of a clean-up that failed; such failures never replace the step's own error. */
  onCleanUpError?: (title: string, error: unknown) => void;
}

/**
 * Runs `steps` in order over `run`; clean-ups of the started steps run in reverse order whatever happens. Every flow
 * gets HARDWAY_DEBUG's trace here, unless its caller passes hooks of its own.
 */
export async function runSteps<R>(run: R, steps: readonly Step<R>[], hooks: RunnerOptions = {}): Promise<void> {
  const opts = { ...stepTrace(), ...hooks };
  const started: Step<R>[] = [];
  try {
    for (const step of steps) {
      if (step.shouldRun && !step.shouldRun(run)) continue;
      opts.onStep?.(step.title);
      started.push(step);
      await step.run(run);
    }
  } finally {
    for (const step of started.reverse()) {
      if (!step.cleanUp) continue;
      try {
        await step.cleanUp(run);
      } catch (e) {
        opts.onCleanUpError?.(step.title, e);
      }
    }
  }
}

/** A step with nothing to undo, from a title and a function: most steps are this. */
export function step<R>(title: string, run: (r: R) => Promise<void>, shouldRun?: (r: R) => boolean): Step<R> {
  return { title, run, ...(shouldRun ? { shouldRun } : {}) };
}
