import { Command } from 'commander';
import { dropEarlyInventory, inventoryOption, readInventoryEarly } from './options.js';

/**
 * `up` and `verify` connect to every node of the inventory before anything else, and their modules (the flows, the
 * checks, the journal's signatures…) take node a good part of its start-up to load. So, for them, the inventory is
 * read and the SSH connections started first, and the module is loaded while the nodes' sshd answer: the command then
 * takes both (loadInventory, connectAll) instead of starting them. Anything unusual — help, options this parse does
 * not see the same way, an inventory that cannot be read — starts nothing early, and the command does it all as
 * always, reporting what is wrong.
 */
export const CONNECTS_FIRST = new Set(['up', 'verify']);

/** The inventory file and host-key policy `argv` gives command `name`, read the way the command reads them. */
export function earlyOptions(argv: string[], name: string): { inventory: string; acceptNew: boolean } | undefined {
  if (argv.some((a) => a === '-h' || a === '--help')) return undefined;
  let got: { inventory: string; acceptNew: boolean } | undefined;
  const quiet = { writeOut: () => {}, writeErr: () => {} };
  const program = new Command().exitOverride().configureOutput(quiet).helpOption(false).allowUnknownOption().allowExcessArguments();
  program
    .command(name)
    .exitOverride()
    .configureOutput(quiet)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .addOption(inventoryOption())
    .option('--accept-new')
    .action((o: { inventory: string; acceptNew?: boolean }) => void (got = { inventory: o.inventory, acceptNew: !!o.acceptNew }));
  try {
    program.parse(argv);
  } catch {
    return undefined;
  }
  return got;
}

/**
 * Reads the inventory and starts connecting to its nodes when command `name` is one of CONNECTS_FIRST. Resolves to
 * what the end of the run calls: it drops what the command did not take (connections closed, not left to hold the
 * process open).
 */
export async function startEarly(argv: string[], name: string | undefined): Promise<() => Promise<void>> {
  const opts = name && CONNECTS_FIRST.has(name) ? earlyOptions(argv, name) : undefined;
  if (!opts) return async () => {};
  const inv = await readInventoryEarly(opts.inventory).catch(() => undefined);
  if (!inv) return async () => dropEarlyInventory();
  const { closeEarly, connectEarly } = await import('../ssh/connect.js');
  // What fails here (an ssh config that cannot be read) fails again when the command connects, and is reported there.
  await connectEarly(inv, inv.nodes, { acceptNew: opts.acceptNew }).catch(() => {});
  return async () => {
    dropEarlyInventory();
    await closeEarly();
  };
}
