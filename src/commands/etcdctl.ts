import type { Command } from 'commander';
import { runEtcdctl } from '../members/etcdctl.js';
import { loadInventory, withInventory, type CommonOptions } from './options.js';

type Opts = CommonOptions & { node?: string; acceptNew?: boolean };

export function registerEtcdctl(program: Command): void {
  const cmd = program
    .command('etcdctl')
    .description("run etcdctl on a node (the leader unless --node) with the cluster's endpoints and certificates; stdin, stdout and stderr pass through, the exit code is etcdctl's")
    .usage('[-i FILE] [--node NAME] [--] ARGS…')
    .argument('[args...]', "etcdctl's arguments and options: every option hardway's etcdctl does not own passes through, with or without --")
    .option('--node <name>', "run on this node, against its endpoint only")
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)')
    // `-w table`, `--prefix`, `--keys-only`… are etcdctl's: kept, in their order, among the arguments.
    .allowUnknownOption();
  withInventory(cmd).action(async (args: string[], opts: Opts) => {
    const inv = await loadInventory(opts);
    process.exitCode = await runEtcdctl(inv, args, { ...(opts.node !== undefined ? { node: opts.node } : {}), acceptNew: !!opts.acceptNew });
  });
}
