import type { Command } from 'commander';
import { withHosts } from '../engine/session.js';
import { CheckFailed } from '../errors.js';
import { defragAll, defragTable } from '../members/defrag.js';
import { askMembers } from '../etcd/members.js';
import { info, printJson, println } from '../output.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { acceptNew?: boolean };

export function registerDefrag(program: Command): void {
  const cmd = program
    .command('defrag')
    .description('defragment every member, one at a time, followers first and the leader last, health checked in between; DB size before and after')
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)');
  withJson(withInventory(cmd)).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const results = await withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (run) => defragAll(inv, await askMembers(inv, run.hosts), opts.json ? () => {} : info));
    if (opts.json) printJson({ members: results });
    else println(defragTable(results));
    const bad = results.filter((r) => r.result !== 'defragmented');
    if (bad.length) throw new CheckFailed(`defrag: ${bad.map((r) => `${r.member} ${r.result}`).join('; ')}`);
  });
}
