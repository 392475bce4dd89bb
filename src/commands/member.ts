import type { Command } from 'commander';
import { newHosts } from '../engine/hosts.js';
import { UsageError, withPartial } from '../errors.js';
import { withHosts } from '../engine/session.js';
import { listJson, listText } from '../members/list.js';
import { removeMember, removeReport, removeRun } from '../members/remove.js';
import { replaceMember, replaceReport, replaceRun } from '../members/replace.js';
import { askMembers } from '../etcd/members.js';
import { clusterVersion } from '../upgrade/facts.js';
import { info, printJson, println } from '../output.js';
import { isWide, MEMBER_WIDE, withWide } from './table-option.js';
import { loadInventory, withAcceptNew, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { acceptNew?: boolean; yes?: boolean; snapshot?: boolean; wait?: string; lint?: boolean; templates?: string };


export function registerMember(program: Command): void {
  const member = program.command('member').description('list, remove and replace the members of the cluster');
  const list = withAcceptNew(member.command('list').description('the members: name, status, version, learner, leader, client URLs (-o wide: ID, peer URLs, whether the inventory lists them); then what the cluster survives'));
  withWide(withJson(withInventory(list)), MEMBER_WIDE).action(async (opts: Opts & { output?: string }) => {
    const inv = await loadInventory(opts);
    const { view, cluster } = await withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (run) => {
      const v = await askMembers(inv, run.hosts);
      return { view: v, cluster: await clusterVersion(inv, v.asker.remote, v.asker.node) };
    });
    if (opts.json) printJson(listJson(view, cluster));
    else println(listText(view, cluster, { wide: isWide(opts) }));
  });

  const remove = withAcceptNew(
    member
      .command('remove')
      .description('remove a member (refused when the members left could not keep quorum); on the node, stop and disable etcd and move the data dir aside')
      .argument('<node>', 'inventory node or member name')
      .option('--yes', 'do not ask (required without a terminal)')
      .option('--no-snapshot', 'no pre-remove snapshot into snapshots.dir'),
  );
  withJson(withInventory(remove)).action(async (node: string, opts: Opts) => {
    const inv = await loadInventory(opts);
    const run = removeRun({ inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log: info }, node, { yes: !!opts.yes, ...(opts.snapshot === false ? { noSnapshot: true } : {}) });
    await withPartial(() => removeMember(run), () => ({ done: run.done, notDone: run.left }));
    if (opts.json) printJson({ removed: run.target ? { id: run.target.id, name: run.target.name } : { name: run.name, already: true }, done: run.done, notDone: run.left, ...(run.members ? { members: run.members.map((m) => ({ id: m.id, name: m.name, isLearner: m.isLearner })) } : {}) });
    else println(removeReport(run).join('\n'));
  });

  const replace = withAcceptNew(
    member
      .command('replace')
      .description('for a node re-imaged or whose disk is gone: remove its old member, move its data dir aside, install its files, add it as a learner, start it, promote it once caught up')
      .argument('<node>', 'an inventory node')
      .option('--yes', 'do not ask (required without a terminal)')
      .option('--wait <seconds>', 'how long the new member may take to catch up and be healthy', '60')
      .option('--no-lint', 'ship the unit even if lint finds errors')
      .option('--templates <dir>', 'directory with your own etcd.service.hbs (as given to up)')
      .option('--no-snapshot', 'no pre-replace snapshot into snapshots.dir'),
  );
  withJson(withInventory(replace)).action(async (node: string, opts: Opts) => {
    if (!(Number(opts.wait) > 0)) throw new UsageError(`--wait ${opts.wait}: not a number of seconds`);
    const inv = await loadInventory(opts);
    const run = replaceRun({ inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log: info }, node, {
      yes: !!opts.yes,
      waitMs: Number(opts.wait) * 1000,
      json: !!opts.json,
      ...(opts.lint === false ? { lint: false } : {}),
      ...(opts.templates ? { templates: opts.templates } : {}),
      ...(opts.snapshot === false ? { noSnapshot: true } : {}),
    });
    await withPartial(() => replaceMember(run), () => ({ node, done: run.done }));
    if (opts.json) printJson({ node, id: run.newId, done: run.done, members: (run.members ?? []).map((m) => ({ id: m.id, name: m.name, isLearner: m.isLearner })) });
    else println(replaceReport(run).join('\n'));
  });
}
