import { OperationError, UsageError } from '../errors.js';
import { SshConnectError } from '../ssh/ssh2-remote.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { connectAll } from '../ssh/connect.js';
import type { Remote } from '../ssh/remote.js';
import { hostFailpoint } from './failpoint.js';
import type { Step } from './runner.js';

/** The per-host record every flow fills, and the one way flows act on hosts: `eachHost`. */

export interface HostOutcome {
  status: 'ok' | 'failed' | 'conflict';
  reason?: string;
  /** The error behind `reason` (its class says, e.g., whether an SSH failure is on this machine's side). */
  cause?: unknown;
  /** What was done on the host: uploads, chmods, systemd and membership actions. */
  done: string[];
}

export interface Host {
  node: NodeSpec;
  /** Set once connected. */
  remote?: Remote;
  /**
   * Named by the command (`--nodes`): only these are changed. The others are still connected to and observed,
   * read-only, so that what the cluster is never depends on which nodes were named.
   */
  selected: boolean;
  outcome: HostOutcome;
}

/** A host once connected: what flows act on (`usable` narrows to it). */
export type Connected<H extends Host = Host> = H & { remote: Remote };

/** What every flow's run-wide record has: the inventory, the hosts, and where progress lines go. */
export interface HostsRun<H extends Host = Host> {
  inv: Inventory;
  hosts: H[];
  acceptNew?: boolean;
  log: (line: string) => void;
  /** How hosts are connected to: SSH (connectAll) unless a test hands out scripted nodes. */
  connect?: typeof connectAll;
}

export function newHosts(nodes: NodeSpec[], selected: (n: NodeSpec) => boolean = () => true): Host[] {
  return nodes.map((node) => ({ node, selected: selected(node), outcome: { status: 'ok', done: [] } }));
}

export function failHost(h: Host, e: unknown, status: 'failed' | 'conflict' = 'failed'): void {
  h.outcome.status = status;
  h.outcome.reason = e instanceof Error ? e.message : String(e);
  h.outcome.cause = e;
}

/** A host that can still be worked on: connected, and neither failed nor in conflict. */
export const usable = <H extends Host>(h: H): h is Connected<H> => h.outcome.status === 'ok' && !!h.remote;

export interface EachOptions<H extends Host = Host> {
  /** Hosts worked on at once (default: all). */
  limit?: number;
  /** Which usable hosts to work on (default: the selected ones). */
  which?: (h: H) => boolean;
  /**
   * The step needs every host: after the work, a host that is not ok (now or before) fails the whole step with
   * one error naming them, and the flow stops there.
   */
  barrier?: string;
}

/**
 * fn over the usable hosts, `limit` at a time. A host whose fn throws is marked failed with the reason, and the
 * others go on: no host's error escapes as an internal error. Resolves when every host has finished.
 */
export async function eachHost<H extends Host>(hosts: H[], fn: (h: Connected<H>) => Promise<void>, opts: EachOptions<H> = {}): Promise<void> {
  const which = opts.which ?? ((h: H) => h.selected);
  const todo = hosts.filter((h): h is Connected<H> => which(h) && usable(h));
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const h = todo[next++]!;
      try {
        hostFailpoint(h.node.name, 'before');
        await fn(h);
        hostFailpoint(h.node.name, 'after');
      } catch (e) {
        failHost(h, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.limit ?? todo.length, todo.length) }, worker));
  if (opts.barrier) {
    const bad = hosts.filter((h) => which(h) && h.outcome.status !== 'ok');
    if (bad.length) throw new OperationError(`${opts.barrier}: ${bad.map((h) => `${h.node.name}: ${h.outcome.reason ?? h.outcome.status}`).join('; ')}`);
  }
}

/** Connects to every host in parallel (a host that fails is marked so); its clean-up closes every connection. */
export function connectStep<R extends HostsRun<Host>>(): Step<R> {
  return {
    title: 'connect',
    async run(r) {
      const conns = await (r.connect ?? connectAll)(r.inv, r.hosts.map((h) => h.node), { acceptNew: !!r.acceptNew });
      conns.forEach((c, i) => {
        const h = r.hosts[i]!;
        if ('remote' in c) h.remote = c.remote;
        else failHost(h, c.error);
      });
      // Not one node, each for a cause on this side (a key refused, a host key unknown): a usage error, whatever the flow.
      const e = r.hosts.length && !r.hosts.some(usable) ? notObserved(r.inv, r.hosts) : undefined;
      if (e instanceof UsageError) throw e;
    },
    async cleanUp(r) {
      await Promise.all(r.hosts.map((h) => h.remote?.close()));
    },
  };
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
