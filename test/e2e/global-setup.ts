/**
 * Global setup of the `e2e` project: one lab for the whole run (3 nodes on its own bridge hwlab3,
 * 10.240.3.0/24), in .hardway/e2e-lab, started fresh (a lab left by an earlier, killed run is cleaned up first)
 * and torn down at the end, checking that nothing (process, mount, interface) is left behind.
 *
 * It never uses the demo lab's bridge and subnet (hwlab0, 10.240.0.0/24: `hardway lab up`'s default, brought
 * up by `npm run demo` in .hardway/lab), so the demo and the tests run side by side, in either order, and the
 * demo lab is left as it was. Nor those of the second lab lab.test.ts starts (hwlab1, 10.240.1.0/24); bench/
 * uses hwlab5–7. On a bridge other than hwlab0 the lab names its machines `<bridge>-n<i>` (veths
 * `vb-<bridge>-n<i>`, cgroups `hardway-<bridge>-n<i>`); the inventory's node names stay controller-<i>.
 *
 * Test files get it with `inject('lab')` — use test/e2e/lab-helpers.ts rather than inject directly.
 *
 * Not Linux or not root: the lab cannot run, so e2e tests are skipped with one line saying why — unless
 * CI=true, where that is a failure. A lab that does not come up (or a `lab down` that leaves something behind)
 * fails the run with one line `e2e: …` and exit code 1; the e2e tests are then reported as skipped, the
 * other projects still run. HARDWAY_DEBUG=1 adds the stack of an unexpected error.
 *
 * Environment:
 *   HARDWAY_E2E_KEEP_LAB=1      reuse a running lab and leave it up afterwards (for iterating on a test)
 *   HARDWAY_E2E_LAB_DIR=<dir>   the lab directory (default .hardway/e2e-lab, relative to the repo)
 *   HARDWAY_E2E_BRIDGE=<name>   the lab's bridge (default hwlab3)
 *   HARDWAY_E2E_SUBNET=<cidr>   the lab's private /24 (default 10.240.3.0/24)
 * Two runs at once need a dir, a bridge and a subnet each (the second lab of lab.test.ts, in <dir>-down on
 * hwlab1, is the one thing they would share).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { HardwayError } from '../../src/errors.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { DEFAULT_BRIDGE, DEFAULT_SUBNET, planNodes, parseBridge, parseSubnet } from '../../src/lab/plan.js';
import { platformProblem } from '../../src/lab/prereq.js';
import { readState } from '../../src/lab/state.js';
import { mountPointsUnder } from '../../src/lab/sys.js';
import type { ProvidedLab } from './lab-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODES = 3;

/** The e2e lab's own bridge and subnet (HARDWAY_E2E_BRIDGE / HARDWAY_E2E_SUBNET override them). */
export const E2E_BRIDGE = 'hwlab3';
export const E2E_SUBNET = '10.240.3.0/24';
/** The second lab the `lab down` test of lab.test.ts starts next to the shared one. */
export const SECOND_LAB = { bridge: 'hwlab1', subnet: '10.240.1.0/24' } as const;

/** Whatever of the lab in `dir` on `bridge` still exists: processes, mounts, interfaces. */
export async function labLeftovers(dir: string, bridge: string, prefix: string): Promise<string[]> {
  const left: string[] = [];
  for (const m of await mountPointsUnder(dir)) left.push(`mount ${m}`);
  const links = await readdir('/sys/class/net').catch(() => [] as string[]);
  const veths = planNodes({ bridge, prefix }, 7).map((n) => n.veth);
  for (const l of links) if (l === bridge || veths.includes(l)) left.push(`interface ${l}`);
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (cmd.includes(dir)) left.push(`process ${pid}: ${cmd.trim()}`);
  }
  return left;
}

/** The bridge and subnet the e2e lab runs on: the defaults or the env's, never the demo's or the second lab's. */
export function e2eNet(env: NodeJS.ProcessEnv = process.env): { bridge: string; subnet: string; prefix: string } {
  const named = <T>(variable: string, parse: () => T): T => {
    try {
      return parse();
    } catch (e) {
      throw new HardwayError(`${variable}: ${(e as Error).message}`);
    }
  };
  const bridge = named('HARDWAY_E2E_BRIDGE', () => parseBridge(env.HARDWAY_E2E_BRIDGE || E2E_BRIDGE));
  const subnet = env.HARDWAY_E2E_SUBNET || E2E_SUBNET;
  const prefix = named('HARDWAY_E2E_SUBNET', () => parseSubnet(subnet));
  const taken = [
    { bridge: DEFAULT_BRIDGE, subnet: DEFAULT_SUBNET, by: "the demo lab's (`hardway lab up`'s default)" },
    { ...SECOND_LAB, by: "the second lab's of lab.test.ts" },
  ];
  for (const t of taken) {
    if (bridge === t.bridge) throw new HardwayError(`HARDWAY_E2E_BRIDGE=${bridge} is ${t.by}: give the e2e lab a bridge of its own (default ${E2E_BRIDGE})`);
    if (prefix === parseSubnet(t.subnet)) throw new HardwayError(`HARDWAY_E2E_SUBNET=${subnet} is ${t.by}: give the e2e lab a subnet of its own (default ${E2E_SUBNET})`);
  }
  return { bridge, subnet: `${prefix}.0/24`, prefix };
}

/**
 * `lab down` of the e2e dir. With a state file, on the bridge that file names: whatever lab the dir holds, an older one
 * on another bridge too (when that bridge is now another running lab's, lab down refuses and touches nothing).
 * Without one, on the e2e bridge: node dirs a killed run left are then planned as the e2e lab's machines, never as
 * the demo lab's controller-<i> (whose veths and cgroups those names would be).
 */
async function downE2eLab(dir: string, net: { bridge: string; subnet: string } | undefined): Promise<void> {
  const state = await readState(dir).catch(() => undefined);
  await labDown(state || !net ? { dir } : { dir, bridge: net.bridge, subnet: net.subnet });
}

/** One line for an error: hardway's own errors are made to be read as they are; anything else is named. */
function oneLine(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const text = err instanceof HardwayError ? err.message : `${err.name}: ${err.message}`;
  if (process.env.HARDWAY_DEBUG && !(err instanceof HardwayError) && err.stack) return `${text}\n${err.stack}`;
  return text;
}

/** Fails the run (exit 1) with `line` on stderr, without a stack; vitest keeps a non-zero exitCode. */
function fail(line: string): void {
  console.error(line);
  process.exitCode = 1;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const problem = platformProblem();
  if (problem) {
    if (process.env.CI === 'true') {
      const line = `e2e: the lab cannot run here, and CI=true makes that a failure: ${problem}`;
      fail(line);
      project.provide('lab', { skip: line } satisfies ProvidedLab);
      // Said again at the end, below the summary that lists the e2e tests as skipped.
      return async () => fail(line);
    }
    console.log(`e2e: lab tests skipped: ${problem}`);
    project.provide('lab', { skip: problem } satisfies ProvidedLab);
    return async () => undefined;
  }
  const dir = path.resolve(REPO, process.env.HARDWAY_E2E_LAB_DIR ?? '.hardway/e2e-lab');
  const keep = process.env.HARDWAY_E2E_KEEP_LAB === '1';
  const started = Date.now();
  let net: ReturnType<typeof e2eNet> | undefined;
  let failure: string | undefined;
  /** Past the clean-up of an earlier run: from here on, what the dir holds is this run's. */
  let upStarted = false;
  try {
    net = e2eNet();
    if (!keep) {
      try {
        await downE2eLab(dir, net);
      } catch (e) {
        const old = await readState(dir).catch(() => undefined);
        const on = old ? ` (it is recorded on ${old.net.bridge}, ${old.net.prefix}.0/24)` : '';
        throw new HardwayError(`the lab an earlier run left there${on} could not be taken down: ${oneLine(e)}`);
      }
    }
    upStarted = true;
    const up = await labUp({ dir, nodes: NODES, bridge: net.bridge, subnet: net.subnet });
    console.log(
      `e2e: lab ${up.noop ? 'reused' : 'up'} in ${((Date.now() - started) / 1000).toFixed(1)} s on ${net.bridge} (${net.subnet}) in ${dir}: ` +
        up.nodes.map((n) => `${n.name} ${n.address} ${n.state}`).join(', '),
    );
    project.provide('lab', { dir, inventoryPath: up.inventoryPath, bridge: net.bridge, subnet: net.subnet } satisfies ProvidedLab);
  } catch (e) {
    failure = `e2e: the lab in ${dir} did not come up, so no e2e test ran: ${oneLine(e)}`;
    fail(failure);
    project.provide('lab', { skip: failure } satisfies ProvidedLab);
  }

  return async () => {
    if (failure) fail(failure);
    if (keep) {
      if (!failure) console.log(`e2e: lab left up in ${dir} (HARDWAY_E2E_KEEP_LAB=1)`);
      return;
    }
    // Nothing of ours to take down when the env was refused or the earlier run's lab could not be (said above).
    if (!upStarted) return;
    // After a failed `up` too: a lab that came up halfway is taken down. One that never started (its bridge taken by
    // another lab, say) has no state file, and what is on its bridge then is someone else's: not checked.
    const ranUp = !failure || (await readState(dir).catch(() => undefined)) !== undefined;
    try {
      await downE2eLab(dir, net);
    } catch (e) {
      fail(`e2e: 'lab down' of ${dir} failed: ${oneLine(e)}`);
      return;
    }
    if (!net || !ranUp) return;
    const left = await labLeftovers(dir, net.bridge, net.prefix);
    if (left.length) fail(`e2e: 'lab down' left things behind: ${left.join('; ')}`);
  };
}
