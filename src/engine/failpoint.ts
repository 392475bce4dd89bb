import { writeSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * Failpoints: a test's way to kill hardway at a chosen step boundary of a flow, as a power cut or a Ctrl-\ would, to
 * check that the next run finishes what the killed one began. `HARDWAY_FAILPOINT=<flow>:<step>[@<node>][:before|:after]`
 * (a comma-separated list) kills the process with SIGKILL — no clean-up, no finally — when the step runner reaches that
 * point; `HARDWAY_FAILPOINT=list` prints the flow's points and exits 0 before its first step; `trace` in the list says
 * each point as the run passes it (on stderr), for a test to learn which points a scenario reaches. Unset, nothing happens.
 * A step's id is its title as a slug (`rolling restart` → `rolling-restart`): titles are stable, and the runner refuses
 * two steps of one flow with the same id. `@<node>` names one host's part of a step that works host by host.
 */

export type When = 'before' | 'after';

export interface Failpoint {
  flow: string;
  step: string;
  /** Only that host's part of a per-host step. */
  node?: string;
  when: When;
}

export type FailpointSpec = { list: true } | { list: false; points: Failpoint[]; trace?: boolean };

/** What reaching a point does: the real ones kill this process or print and exit; unit tests record instead. */
export interface FailpointHooks {
  kill(name: string): void;
  list(names: string[]): void;
  /** `trace` in the list: each point passed is said (which of a flow's points a given run reaches). */
  passed(name: string): void;
}

export const SYNTAX = '<flow>:<step>[@<node>][:before|:after] or trace, comma-separated, or list';

/** A title as the id failpoints name it by: lower case, runs of anything but letters and digits as one dash. */
export function stepId(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export function parseFailpoints(text: string | undefined): FailpointSpec {
  const entries = (text ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 1 && entries[0] === 'list') return { list: true };
  const trace = entries.includes('trace');
  const points = entries.filter((e) => e !== 'trace').map((entry): Failpoint => {
    const m = /^([a-z0-9-]+):([a-z0-9-]+)(?:@([^:,@]+))?(?::(before|after))?$/.exec(entry);
    if (!m) throw new UsageError(`HARDWAY_FAILPOINT: '${entry}' is not ${SYNTAX} (HARDWAY_FAILPOINT=list hardway <command> … prints a flow's points)`);
    return { flow: m[1]!, step: m[2]!, ...(m[3] ? { node: m[3] } : {}), when: (m[4] as When | undefined) ?? 'before' };
  });
  return { list: false, points, ...(trace ? { trace } : {}) };
}

export function failpointName(p: Failpoint): string {
  return `${p.flow}:${p.step}${p.node ? `@${p.node}` : ''}:${p.when}`;
}

/** The points of a flow, one per line as `list` prints them: each step, and `@<node>` for those that go host by host. */
export function failpointNames(flow: string, steps: readonly { title: string; perHost?: boolean }[]): string[] {
  return steps.flatMap((s) => [`${flow}:${stepId(s.title)}`, ...(s.perHost ? [`${flow}:${stepId(s.title)}@<node>`] : [])]);
}

/**
 * HARDWAY_FAILPOINT_ACTION=stop: a point stops the process (SIGSTOP) instead of killing it, and the run goes on where it
 * was once a SIGCONT comes: a test injects a fault (a link cut, a frozen leader, a full disk) at an exact step boundary.
 */
export function failpointAction(env: NodeJS.ProcessEnv = process.env): 'kill' | 'stop' {
  const a = env.HARDWAY_FAILPOINT_ACTION;
  if (a === undefined || a === '' || a === 'kill') return 'kill';
  if (a === 'stop') return 'stop';
  throw new UsageError(`HARDWAY_FAILPOINT_ACTION: '${a}' is not kill or stop`);
}

export const processHooks: FailpointHooks = {
  kill(name) {
    if (failpointAction() === 'stop') {
      writeSync(2, `hardway: failpoint ${name}: stopping this process (SIGSTOP) until a SIGCONT\n`);
      process.kill(process.pid, 'SIGSTOP');
      writeSync(2, `hardway: failpoint ${name}: continued\n`);
      return;
    }
    // Written synchronously: the line must be out before the signal, which nothing after it survives.
    writeSync(2, `hardway: failpoint ${name}: killing this process (SIGKILL)\n`);
    process.kill(process.pid, 'SIGKILL');
  },
  list(names) {
    writeSync(1, `${names.join('\n')}\n`);
    process.exit(0);
  },
  passed(name) {
    writeSync(2, `hardway: failpoint ${name} passed\n`);
  },
};

let fromEnv: { text: string | undefined; spec: FailpointSpec } | undefined;

/** HARDWAY_FAILPOINT, parsed once per value. */
export function envFailpoints(): FailpointSpec {
  const text = process.env.HARDWAY_FAILPOINT;
  // A wrong action is said before the first step, not at the first point reached.
  failpointAction();
  if (!fromEnv || fromEnv.text !== text) fromEnv = { text, spec: parseFailpoints(text) };
  return fromEnv.spec;
}

/** Where a running flow is: the runner's record, read by per-host code through `hostFailpoint`. */
export interface FailpointScope {
  flow: string;
  step: string;
  points: Failpoint[];
  hooks: FailpointHooks;
  trace?: boolean;
}

/** Flows run inside steps of others (a snapshot before a removal): the innermost step is the one a host is in. */
const scopes: FailpointScope[] = [];

export function enterScope(scope: FailpointScope): void {
  scopes.push(scope);
}

export function leaveScope(scope: FailpointScope): void {
  const i = scopes.lastIndexOf(scope);
  if (i >= 0) scopes.splice(i, 1);
}

/** Fires a point set for this step (`node` undefined) or for this host's part of it. */
export function reach(scope: FailpointScope, when: When, node?: string): void {
  if (scope.trace) scope.hooks.passed(failpointName({ flow: scope.flow, step: scope.step, when, ...(node ? { node } : {}) }));
  for (const p of scope.points) {
    if (p.flow === scope.flow && p.step === scope.step && p.when === when && p.node === node) scope.hooks.kill(failpointName(p));
  }
}

/** Called by per-host loops as a host's part of the current step begins (`before`) and ends well (`after`). */
export function hostFailpoint(node: string, when: When): void {
  const scope = scopes[scopes.length - 1];
  if (scope) reach(scope, when, node);
}
