import type { Inventory, NodeSpec } from '../inventory/types.js';
import { connectStep, newHosts, notObserved, usable, type HostsRun } from './hosts.js';
import { runSteps, step } from './runner.js';

/**
 * The flow of the commands that only look (verify, doctor, tune's measuring): connect to the nodes, do `work`,
 * and close every connection whatever happens. With no node reached there is nothing to conclude from: that is
 * said (never a verdict about the cluster), exit 2 when the cause is on this side (the inventory's key, user or
 * known hosts), exit 1 otherwise.
 */
export async function withHosts<T>(inv: Inventory, nodes: NodeSpec[], opts: { acceptNew?: boolean; log?: (line: string) => void }, work: (run: HostsRun) => Promise<T>): Promise<T> {
  const run: HostsRun = { inv, hosts: newHosts(nodes), acceptNew: !!opts.acceptNew, log: opts.log ?? (() => {}) };
  let result: T | undefined;
  await runSteps(run, [
    connectStep<HostsRun>(),
    step<HostsRun>('observable', async (r) => {
      if (r.hosts.length && !r.hosts.some(usable)) throw notObserved(inv, r.hosts);
    }),
    step<HostsRun>('work', async (r) => void (result = await work(r))),
  ]);
  return result as T;
}

