import type { Command } from 'commander';
import { runEtcdctl } from '../members/etcdctl.js';
import { loadInventory, withInventory, type CommonOptions } from './options.js';

type Opts = CommonOptions & { node?: string; acceptNew?: boolean };

export function registerEtcdctl(program: Command): void {
  const cmd = program
    .command('etcdctl')
    .description("run etcdctl on a node (the leader unless --node) with the cluster's endpoints and certificates; stdin, stdout and stderr pass through, the exit code is etcdctl's")
    .usage('[--node NAME] -- ARGS…')
    .argument('[args...]', "etcdctl's arguments (after --)")
    .option('--node <name>', "run on this node, against its endpoint only")
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)');
  withInventory(cmd).action(async (args: string[], opts: Opts) => {
    const inv = await loadInventory(opts);
    process.exitCode = await runEtcdctl(inv, args, { ...(opts.node !== undefined ? { node: opts.node } : {}), acceptNew: !!opts.acceptNew });
  });
}
