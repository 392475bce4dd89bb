import type { Command } from 'commander';
import { withHosts } from '../engine/session.js';
import { currentLeader, currentLeaderText, leaderMoveJson, moveLeader } from '../members/leader.js';
import { askMembers, memberLabel } from '../etcd/members.js';
import { printJson, println } from '../output.js';
import { loadInventory, withAcceptNew, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { acceptNew?: boolean };

export function registerLeader(program: Command): void {
  const leader = withJson(withInventory(withAcceptNew(program.command('leader').description('the current leader: name, client URL, member ID, raft term; `leader move` hands the leadership over'))));
  leader.action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const now = currentLeader(await withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (run) => askMembers(inv, run.hosts)));
    if (opts.json) printJson(now);
    else println(currentLeaderText(now));
  });
  const move = leader
    .command('move')
    .description('hand the leadership to NODE, or by default to the follower with the lowest raft lag; prints the leader before and after')
    .argument('[node]', 'a started voting member (inventory node or member name)')
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)');
  withJson(withInventory(move)).action(async (node: string | undefined, opts: Opts) => {
    const inv = await loadInventory(opts);
    const result = await withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (run) => moveLeader(inv, await askMembers(inv, run.hosts), node));
    if (opts.json) printJson(leaderMoveJson(result));
    else if (!result.moved) println(`${memberLabel(result.after)} is already the leader: nothing moved`);
    else println(`leader before: ${memberLabel(result.before)}\nleader after:  ${memberLabel(result.after)}`);
  });
}
