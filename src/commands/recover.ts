import type { Command } from 'commander';
import { newHosts } from '../engine/hosts.js';
import { UsageError, withPartial } from '../errors.js';
import { info, printJson, println } from '../output.js';
import { recoverCluster, recoverReport, recoverRun } from '../recover/recover.js';
import { loadInventory, withAcceptNew, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { acceptNew?: boolean; from?: string; force?: boolean; yes?: boolean; wait?: string; templates?: string };

export function registerRecover(program: Command): void {
  const cmd = withAcceptNew(
    program
      .command('recover')
      .description(
        'rebuild a cluster that lost its quorum from the member with the newest data (its whole WAL kept; the others moved aside, never deleted, and added back one at a time)',
      )
      .option('--from <node>', 'the member to rebuild from (default: the highest revision among the data dirs)')
      .option('--force', 'rebuild even though a quorum is healthy, or starting the stopped members would do')
      .option('--yes', 'do not ask (required without a terminal)')
      .option('--templates <dir>', 'directory with your own etcd.service.hbs')
      .option('--wait <seconds>', 'how long each member may take to be healthy', '60'),
  );
  withJson(withInventory(cmd)).action(async (opts: Opts) => {
    if (!(Number(opts.wait) > 0)) throw new UsageError(`--wait ${opts.wait}: not a number of seconds`);
    const inv = await loadInventory(opts);
    const run = recoverRun(
      { inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log: opts.json ? () => {} : info },
      { ...(opts.from ? { from: opts.from } : {}), force: !!opts.force, yes: !!opts.yes, json: !!opts.json, waitMs: Number(opts.wait) * 1000, ...(opts.templates ? { templates: opts.templates } : {}) },
    );
    await withPartial(() => recoverCluster(run), () => ({ source: run.source ?? null, movedTo: run.movedTo, done: run.done, checks: run.checks }));
    if (opts.json) printJson({ ok: true, source: run.source ?? null, condition: run.condition, movedTo: run.movedTo, done: run.done, checks: run.checks });
    else println(recoverReport(run).join('\n'));
  });
}
