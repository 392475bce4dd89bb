import { OperationError, UsageError } from '../errors.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { SshConnectError } from '../ssh/ssh2-remote.js';
import { connectStep, newHosts, usable, type Host, type HostsRun } from './hosts.js';
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

/** Why no node could be observed, one line per node; a UsageError when every cause is on this machine's side. */
export function notObserved(inv: Inventory, hosts: Host[]): OperationError | UsageError {
  const ours = hosts.every((h) => h.outcome.cause instanceof SshConnectError && h.outcome.cause.inventorySide);
  // One line per distinct cause, naming its nodes: a key no node accepts is one line, not one per node.
  const byCause = new Map<string, string[]>();
  for (const h of hosts) {
    const cause = (h.outcome.reason ?? 'not connected').replace(/^\S+(?: \([^)]*\))?: /, '');
    byCause.set(cause, [...(byCause.get(cause) ?? []), h.node.name]);
  }
  const lines = [...byCause].map(([cause, names]) => `  ${names.join(', ')}: ${cause}`).join('\n');
  if (ours) {
    return new UsageError(`the cluster could not be observed: no node accepted the SSH connection:\n${lines}\n(fix the ssh settings in ${inv.file}: ssh.identityFile, ssh.user, ssh.knownHosts; nothing about the cluster is known)`);
  }
  return new OperationError(`the cluster could not be observed: no node answered over SSH:\n${lines}\n(nothing about the cluster is known: the members may be running)`);
}
