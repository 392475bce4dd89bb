import os from 'node:os';
import { OperationError } from '../errors.js';
import { clientUrl } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { usable, type Host, type Connected } from '../engine/hosts.js';
import { withHosts } from '../engine/session.js';
import { endpointHealthOf, endpointStatus } from '../etcd/health.js';
import type { EndpointHealth, EndpointStatus } from '../etcd/etcdctl.js';
import { streamUserEtcdctl } from '../etcd/client.js';
import { nodeNamed } from './resolve.js';

/** `hardway etcdctl`: the user's etcdctl arguments, run on a node with the cluster's endpoints and certificates. */

/**
 * The node to run on: the leader's, else the first healthy member's, else the first node reached (etcdctl then
 * says itself what is wrong). Only nodes SSH reached count. Pure.
 */
export function etcdctlTarget(nodes: NodeSpec[], reached: Set<string>, status: EndpointStatus[], health: EndpointHealth[] = []): { node: NodeSpec; why: string } | undefined {
  const byUrl = (url: string) => nodes.find((n) => clientUrl(n) === url && reached.has(n.name));
  const leader = status.find((s) => s.isLeader);
  const onLeader = leader && byUrl(leader.endpoint);
  if (onLeader) return { node: onLeader, why: 'the leader' };
  const healthy = health.filter((h) => h.health).map((h) => byUrl(h.endpoint)).find((n) => n);
  if (healthy) return { node: healthy, why: 'a healthy member (no leader answered)' };
  const first = nodes.find((n) => reached.has(n.name));
  return first ? { node: first, why: 'no member answered' } : undefined;
}

/** An exit status as a shell gives it: a command killed by a signal is 128 + its number. */
export function exitStatusOf(r: { code: number | null; signal?: string }): number {
  if (r.code !== null) return r.code;
  const n = r.signal ? os.constants.signals[`SIG${r.signal.replace(/^SIG/, '')}` as keyof typeof os.constants.signals] : undefined;
  return n ? 128 + n : 255;
}

export interface EtcdctlOptions {
  node?: string;
  acceptNew?: boolean;
}

async function pickHost(inv: Inventory, hosts: Host[]): Promise<Connected> {
  const reached = hosts.filter(usable);
  const probe = reached[0];
  if (!probe) throw new OperationError(`no node reachable: ${hosts.map((h) => `${h.node.name}: ${h.outcome.reason}`).join('; ')}`);
  const names = new Set(reached.map((h) => h.node.name));
  const status = await endpointStatus(probe.remote, inv.nodes);
  let target = etcdctlTarget(inv.nodes, names, status);
  if (target?.why !== 'the leader') target = etcdctlTarget(inv.nodes, names, status, await endpointHealthOf(probe.remote, inv.nodes.map(clientUrl)));
  return reached.find((h) => h.node.name === target!.node.name)!;
}

/** Runs etcdctl with stdin, stdout and stderr passed through; resolves with etcdctl's exit status. */
export async function runEtcdctl(inv: Inventory, args: string[], opts: EtcdctlOptions = {}): Promise<number> {
  const only = opts.node === undefined ? undefined : nodeNamed(inv, opts.node);
  const nodes = only ? [only] : inv.nodes;
  return withHosts(inv, nodes, { acceptNew: !!opts.acceptNew }, async (run) => {
    const h = only ? run.hosts[0]! : await pickHost(inv, run.hosts);
    if (!usable(h)) throw new OperationError(`${h.node.name}: ${h.outcome.reason}`);
    const abort = new AbortController();
    let caught: NodeJS.Signals | undefined;
    const onSignal = (s: NodeJS.Signals) => ((caught = s), abort.abort());
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const s of signals) process.once(s, onSignal);
    try {
      const r = await streamUserEtcdctl(h.remote, nodes.map(clientUrl), args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signal: abort.signal });
      // Interrupted here: the status a shell gives a command killed by that signal.
      return caught ? exitStatusOf({ code: null, signal: caught }) : exitStatusOf(r);
    } finally {
      for (const s of signals) process.off(s, onSignal);
    }
  });
}
