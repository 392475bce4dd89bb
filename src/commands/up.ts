import type { Command } from 'commander';
import { CheckFailed } from '../errors.js';
import { color, printJson, println } from '../output.js';
import type { Inventory } from '../inventory/types.js';
import { renderClusterMembers } from '../cluster/members-table.js';
import { runUp, type UpOptions, type UpReport } from '../provision/up.js';
import { isWide, MEMBER_WIDE, withWide } from './table-option.js';
import { loadInventory, withInventory, withJson, withNodes, type CommonOptions } from './options.js';

type Opts = CommonOptions & { output?: string; nodes?: string[]; acceptNew?: boolean; dryRun?: boolean; lint: boolean; snapshot: boolean; downgrade?: boolean; templates?: string; wait: string };

/** The members (the one member table, `wide` adds columns), a per-node summary; exit 1 when any node failed. */
export function finishReport(report: UpReport, opts: { json?: boolean; dryRun?: boolean; wide?: boolean }, inv: Inventory): void {
  const failed = report.nodes.filter((n) => n.status !== 'ok');
  if (opts.json) {
    printJson({
      changed: report.changed,
      nodes: report.nodes.map(({ plan, ...n }) => ({
        ...n,
        ...(plan ? { plan: { ...plan, files: plan.files.map(({ file: _f, ...f }) => f) } } : {}),
      })),
      ...(report.cluster ? { members: report.cluster.members, health: report.cluster.health, leader: report.cluster.leader } : {}),
    });
  } else if (!opts.dryRun) {
    if (report.cluster) println(renderClusterMembers(report.cluster, inv, { wide: !!opts.wide }));
    // A per-node summary as lines: failure reasons are long and would make a table unreadable.
    const width = Math.max(...report.nodes.map((n) => n.node.length));
    for (const n of report.nodes) {
      const result = n.status === 'ok' ? color.green(n.done.length ? 'ok' : 'ok (no change)') : color.red(`${n.status}: ${n.reason}`);
      println(`${n.node.padEnd(width)}  ${result}`);
    }
    const changedNodes = report.nodes.filter((n) => n.done.length).length;
    if (report.changed) println(`changed ${changedNodes} of ${report.nodes.length} node(s)`);
    else if (!failed.length) println('nothing changed: every node already matched the inventory');
    else println('nothing changed');
  }
  if (failed.length) throw new CheckFailed(`${failed.length} of ${report.nodes.length} node(s) not ok: ${failed.map((f) => f.node).join(', ')}`);
}

export function registerUp(program: Command): void {
  const cmd = program
    .command('up')
    .description('install and start etcd on every node (idempotent; a second run changes nothing)')
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)')
    .option('--dry-run', 'only show what would be done (same as `hardway plan`)')
    .option('--no-lint', 'ship the unit even if lint finds errors')
    .option('--no-snapshot', 'no pre-upgrade snapshot before a version change rolls')
    .option('--downgrade', 'allow a downgrade one minor down (etcd 3.6+, through etcdctl downgrade validate|enable)')
    .option('--templates <dir>', 'directory with your own etcd.service.hbs')
    .option('--wait <seconds>', 'how long to wait for the cluster to become healthy', '60');
  withWide(withNodes(withJson(withInventory(cmd))), MEMBER_WIDE).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const upOpts: UpOptions = {
      ...(opts.nodes ? { nodes: opts.nodes } : {}),
      acceptNew: !!opts.acceptNew,
      dryRun: !!opts.dryRun,
      json: !!opts.json,
      lint: opts.lint,
      ...(opts.snapshot === false ? { noSnapshot: true } : {}),
      ...(opts.downgrade ? { downgrade: true } : {}),
      ...(opts.templates ? { templates: opts.templates } : {}),
      waitMs: Number(opts.wait) * 1000,
    };
    finishReport(await runUp(inv, upOpts), { ...upOpts, wide: isWide(opts) }, inv);
  });
}
