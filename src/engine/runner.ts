/**
 * The step runner every flow (`up`, `plan`, `tune`, later snapshots and member changes) is built on: a flow is a
 * list of steps over one run-wide record, run in order. A step may say it does not apply (`shouldRun`), and may
 * leave something to undo (`cleanUp`: close connections, remove a temp file). Clean-up runs for every step that
 * started, last first, on every path — success, a failing step, a throw in a later one — so a flow never leaves
 * connections open or temp files behind, and the first error is the one reported.
 *
 * A flow that names itself (`flow`) can be killed at its step boundaries by HARDWAY_FAILPOINT (engine/failpoint.ts).
 */

import { stepTrace } from './debug.js';
import { enterScope, envFailpoints, failpointNames, leaveScope, processHooks, reach, stepId, type FailpointHooks, type FailpointScope, type FailpointSpec } from './failpoint.js';

export interface Step<R> {
  title: string;
  /** False skips the step (and its clean-up). Default: run. */
  shouldRun?(run: R): boolean;
  run(run: R): Promise<void>;
  cleanUp?(run: R): Promise<void>;
  /** The step works host by host and calls `hostFailpoint` for each: `list` offers its `@<node>` points. */
  perHost?: boolean;
}

export interface RunnerOptions {
  /** Told of each step as it starts (a debug trace, or a progress line). */
  onStep?: (title: string) => void;
  /** Told of a clean-up that failed; such failures never replace the step's own error. */
  onCleanUpError?: (title: string, error: unknown) => void;
  /** The flow's name for failpoints (`up`, `member-remove`): unnamed flows have none. */
  flow?: string;
  /** Failpoints and what reaching one does: HARDWAY_FAILPOINT and the real kill unless a test says otherwise. */
  failpoints?: { spec: FailpointSpec; hooks: FailpointHooks };
}

/**
 * Runs `steps` in order over `run`; clean-ups of the started steps run in reverse order whatever happens. Every flow
 * gets HARDWAY_DEBUG's trace here, unless its caller passes hooks of its own.
 */
export async function runSteps<R>(run: R, steps: readonly Step<R>[], hooks: RunnerOptions = {}): Promise<void> {
  const opts = { ...stepTrace(), ...hooks };
  const { flow } = opts;
  const fp = flow ? (opts.failpoints ?? { spec: envFailpoints(), hooks: processHooks }) : undefined;
  if (flow && fp) {
    const ids = steps.map((s) => stepId(s.title));
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice) throw new Error(`flow ${flow} has two steps named ${twice}: failpoints could not tell them apart`);
    if (fp.spec.list) return fp.hooks.list(failpointNames(flow, steps));
  }
  const points = fp && !fp.spec.list ? fp.spec.points.filter((p) => p.flow === flow) : [];
  const trace = !!fp && !fp.spec.list && !!fp.spec.trace;
  const started: Step<R>[] = [];
  try {
    for (const step of steps) {
      if (step.shouldRun && !step.shouldRun(run)) continue;
      const scope: FailpointScope | undefined = points.length || trace ? { flow: flow!, step: stepId(step.title), points, hooks: fp!.hooks, trace } : undefined;
      if (scope) reach(scope, 'before');
      opts.onStep?.(step.title);
      started.push(step);
      if (scope) enterScope(scope);
      try {
        await step.run(run);
      } finally {
        if (scope) leaveScope(scope);
      }
      if (scope) reach(scope, 'after');
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

/** A step that works host by host (through eachHost, or calling hostFailpoint itself): its `@<node>` failpoints are listed. */
export function perHost<R>(s: Step<R>): Step<R> {
  return { ...s, perHost: true };
}
