import type { Command } from 'commander';
import { runUp } from '../provision/up.js';
import { loadInventory, withInventory, withJson, withNodes, type CommonOptions } from './options.js';
import { finishReport } from './up.js';

export function registerPlan(program: Command): void {
  const cmd = program
    .command('plan')
    .description('connect to every node and show what `up` would do; changes nothing')
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)')
    .option('--templates <dir>', 'directory with your own etcd.service.hbs');
  withNodes(withJson(withInventory(cmd))).action(async (opts: CommonOptions & { nodes?: string[]; acceptNew?: boolean; templates?: string }) => {
    const inv = await loadInventory(opts);
    const upOpts = {
      ...(opts.nodes ? { nodes: opts.nodes } : {}),
      acceptNew: !!opts.acceptNew,
      dryRun: true,
      json: !!opts.json,
      ...(opts.templates ? { templates: opts.templates } : {}),
    };
    finishReport(await runUp(inv, upOpts), upOpts, inv);
  });
}
