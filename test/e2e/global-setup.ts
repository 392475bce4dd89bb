/**
 * Global setup of the `e2e` project: one lab for the whole run (3 nodes on hwlab0, 10.240.0.0/24), in
 * .hardway/e2e-lab, started fresh (a lab left by an earlier, killed run is cleaned up first) and torn down at
 * the end, checking that nothing (process, mount, interface) is left behind.
 *
 * Test files get it with `inject('lab')` — use test/e2e/lab-helpers.ts rather than inject directly.
 *
 * Not Linux or not root: the lab cannot run, so e2e tests are skipped with one line saying why — unless
 * CI=true, where that is a failure. HARDWAY_E2E_KEEP_LAB=1 reuses a running lab and leaves it up afterwards
 * (for iterating on a test); HARDWAY_E2E_LAB_DIR changes the directory.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { labDown, labUp } from '../../src/lab/lab.js';
import { DEFAULT_BRIDGE, DEFAULT_SUBNET, planNodes, parseSubnet } from '../../src/lab/plan.js';
import { platformProblem } from '../../src/lab/prereq.js';
import { mountPointsUnder } from '../../src/lab/sys.js';
import type { ProvidedLab } from './lab-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODES = 3;

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

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const problem = platformProblem();
  if (problem) {
    if (process.env.CI === 'true') throw new Error(`e2e: the lab cannot run here, and CI=true makes that a failure: ${problem}`);
    console.log(`e2e: lab tests skipped: ${problem}`);
    project.provide('lab', { skip: problem } satisfies ProvidedLab);
    return;
  }
  const dir = path.resolve(REPO, process.env.HARDWAY_E2E_LAB_DIR ?? '.hardway/e2e-lab');
  const keep = process.env.HARDWAY_E2E_KEEP_LAB === '1';
  const started = Date.now();
  if (!keep) await labDown({ dir });
  const up = await labUp({ dir, nodes: NODES, bridge: DEFAULT_BRIDGE, subnet: DEFAULT_SUBNET });
  console.log(`e2e: lab ${up.noop ? 'reused' : 'up'} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${up.nodes.map((n) => `${n.name} ${n.address} ${n.state}`).join(', ')}`);
  project.provide('lab', { dir, inventoryPath: up.inventoryPath } satisfies ProvidedLab);

  return async () => {
    if (keep) {
      console.log(`e2e: lab left up in ${dir} (HARDWAY_E2E_KEEP_LAB=1)`);
      return;
    }
    await labDown({ dir });
    const left = await labLeftovers(dir, DEFAULT_BRIDGE, parseSubnet(DEFAULT_SUBNET));
    if (left.length) throw new Error(`e2e: 'lab down' left things behind:\n${left.join('\n')}`);
  };
}
