import type { Inventory, NodeSpec } from '../inventory/types.js';
import { connectStep, newHosts, type HostsRun } from './hosts.js';
import { runSteps, step } from './runner.js';

/**
 * The flow of the commands that only look (verify, doctor, tune's measuring): connect to the nodes, do `work`,
 * and close every connection whatever happens.
 */
export async function withHosts<T>(inv: Inventory, nodes: NodeSpec[], opts: { acceptNew?: boolean; log?: (line: string) => void }, work: (run: HostsRun) => Promise<T>): Promise<T> {
  const run: HostsRun = { inv, hosts: newHosts(nodes), acceptNew: !!opts.acceptNew, log: opts.log ?? (() => {}) };
  let result: T | undefined;
  await runSteps(run, [connectStep<HostsRun>(), step<HostsRun>('work', async (r) => void (result = await work(r)))]);
  return result as T;
}
