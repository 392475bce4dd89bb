import { UsageError } from '../errors.js';
import { selectNodes, unknownNodesMessage } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import { newHosts, type HostOutcome } from '../engine/hosts.js';
import { runSteps } from '../engine/runner.js';
import type { ClusterView } from '../etcd/health.js';
import type { ClusterPlan, NodePlan } from './plan.js';
import { planSteps, upSteps, type UpOptions, type UpRun } from './up-steps.js';

/** `hardway up` and `hardway plan`: a list of steps (up-steps.ts) over the nodes, and the report they leave. */

export { applyFiles, prepareCommand, systemdStep } from './apply.js';
export type { UpOptions } from './up-steps.js';

export interface NodeOutcome extends HostOutcome {
  node: string;
  plan?: NodePlan;
}

export interface UpReport {
  changed: boolean;
  nodes: NodeOutcome[];
  cluster?: ClusterView;
}

function describePlan(p: NodePlan): string[] {
  if (p.conflict) return [`CONFLICT: ${p.conflict}`];
  const lines = [
    ...p.dirs.map((d) => `${d.reason === 'missing' ? 'create' : 'chmod '} ${d.path} (${d.mode.toString(8)}, ${d.reason})`),
    ...p.files.flatMap((f) => [`${f.upload ? 'write ' : 'chmod '} ${f.path} (${f.mode.toString(8)}, ${f.reason}${f.upload ? `, ${f.bytes} bytes` : ''})`, ...(f.diff ?? []).map((d) => `    ${d}`)]),
  ];
  if (p.moved) lines.unshift(`etcdctl member update ${p.moved.memberId} --peer-urls=${p.moved.to} (the node moved from ${p.moved.from.join(',')}; same member, same data)`);
  if (p.rejoin?.moveAside) lines.unshift(`move ${'the data dir'} aside (it holds member ${p.rejoin.moveAside.memberId}, which the cluster removed; never deleted)`);
  if (p.rejoin?.stopFirst) lines.unshift(p.rejoin.moveAside ? 'systemctl stop etcd (it runs a member the cluster removed)' : 'systemctl stop etcd (it cannot start on its empty data dir: a crash loop)');
  if (p.daemonReload) lines.push('systemctl daemon-reload');
  if (p.enable) lines.push('systemctl enable etcd');
  if (p.rejoin?.removeId) lines.push(`etcdctl member remove ${p.rejoin.removeId} (its old member; the data dir is empty)`);
  if (p.rejoin?.add) lines.push(`etcdctl member add ${p.node} (joins the running cluster as existing)`);
  if (p.start) lines.push('systemctl start etcd');
  if (p.restart) lines.push(`systemctl restart etcd (rolling, one member at a time)${p.stale ? `: ${p.stale}` : ''}`);
  else if (p.running && p.files.some((f) => f.upload)) {
    const why = [
      ...(p.files.some((f) => f.noRestart && f.role === 'unit') ? ["the unit's changes do not change what etcd does (defaults, flags read only at bootstrap)"] : []),
      ...(p.files.some((f) => f.noRestart && f.role !== 'unit') ? ['etcd reads its certificate and key again for each new connection'] : []),
    ];
    lines.push(why.length ? `no restart: ${why.join('; ')}` : 'no restart: only flags etcd reads when it bootstraps a member changed');
  }
  return lines;
}

export function formatPlanText(plan: ClusterPlan, failed: NodeOutcome[]): string {
  const out: string[] = [];
  for (const p of plan.nodes) {
    const state = p.state === 'new' ? 'new node' : p.state === 'member' ? (p.running ? 'running member' : 'stopped member') : 'holds data from another cluster';
    const lines = describePlan(p);
    out.push(`${p.node} (${state}): ${lines.length ? '' : 'nothing to do'}`);
    for (const l of lines) out.push(`  ${l}`);
  }
  for (const f of failed) out.push(`${f.node}: unreachable: ${f.reason}`);
  return out.join('\n');
}

/** The selected nodes' outcomes, each with its plan: what `up` and `plan` report. */
function outcomes(r: UpRun): NodeOutcome[] {
  return r.hosts.filter((h) => h.selected).map((h) => {
    const { cause: _cause, ...outcome } = h.outcome;
    return { node: h.node.name, ...outcome, ...(h.plan ? { plan: h.plan } : {}) };
  });
}

export async function runUp(inv: Inventory, opts: UpOptions): Promise<UpReport> {
  const { nodes, unknown } = selectNodes(inv, opts.nodes);
  if (unknown.length) throw new UsageError(unknownNodesMessage(inv, unknown));
  const log = (line: string) => {
    if (!opts.json) process.stderr.write(`${line}\n`);
  };
  // Every inventory node is connected to and observed; only the selected ones are changed.
  const run: UpRun = { inv, opts, hosts: newHosts(inv.nodes, (n) => nodes.includes(n)), acceptNew: !!opts.acceptNew, log };
  if (opts.dryRun) {
    await runSteps(run, planSteps((r) => {
      if (!opts.json) process.stdout.write(`${formatPlanText(r.plan!, outcomes(r).filter((o) => o.status === 'failed'))}\n`);
    }), { flow: 'plan' });
    return { changed: run.plan!.changed, nodes: outcomes(run) };
  }
  await runSteps(run, upSteps, { flow: 'up' });
  const report = outcomes(run);
  return { changed: report.some((n) => n.done.length > 0), nodes: report, ...(run.view ? { cluster: run.view } : {}) };
}
