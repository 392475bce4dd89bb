import type { Command } from 'commander';
import { newHosts } from '../engine/hosts.js';
import { withPartial } from '../errors.js';
import { resetNode, resetReport, resetRun } from '../members/reset.js';
import { info, printJson, println } from '../output.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { acceptNew?: boolean; yes?: boolean; purge?: boolean; force?: boolean };

export function registerReset(program: Command): void {
  const cmd = program
    .command('reset')
    .description('take a node out cleanly: member remove (quorum checked), etcd stopped and disabled, data dir moved aside; --purge also removes what up installed')
    .argument('<node>', 'an inventory node')
    .option('--purge', 'also remove the binaries, unit and certificates hardway installed')
    .option('--force', 'also reset the last member, or a node when no member answers')
    .option('--yes', 'do not ask (required without a terminal)')
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)');
  withJson(withInventory(cmd)).action(async (node: string, opts: Opts) => {
    const inv = await loadInventory(opts);
    const run = resetRun({ inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log: info }, node, { yes: !!opts.yes, purge: !!opts.purge, force: !!opts.force });
    await withPartial(() => resetNode(run), () => ({ node, done: run.done }));
    if (opts.json) printJson({ node, done: run.done, ...(run.members ? { members: run.members.map((m) => ({ id: m.id, name: m.name, isLearner: m.isLearner })) } : {}) });
    else println(resetReport(run).join('\n'));
  });
}
