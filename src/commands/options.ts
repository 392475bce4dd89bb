import path from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_INVENTORY, readInventory } from '../inventory/read.js';
import type { Inventory } from '../inventory/types.js';

/** Options shared by commands: `-i/--inventory` and `--json`. */
export interface CommonOptions {
  inventory: string;
  json?: boolean;
}

/** The environment variable that names the inventory when `-i` is not given. */
export const INVENTORY_ENV = 'HARDWAY_INVENTORY';

/** `-i, --inventory <file>`: HARDWAY_INVENTORY, else ./inventory.yaml, unless given. */
export function inventoryOption(description = 'inventory file'): Option {
  return new Option('-i, --inventory <file>', description).env(INVENTORY_ENV).default(DEFAULT_INVENTORY);
}

export function withInventory(cmd: Command): Command {
  return cmd.addOption(inventoryOption());
}

export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'one JSON document on stdout, on failure too: {"ok": false, "error": …}');
}

/** `--accept-new`: the host-key policy every command that connects offers. */
export function withAcceptNew(cmd: Command): Command {
  return cmd.option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)');
}

/** `--nodes a,b`: limit a run to some nodes. */
export function withNodes(cmd: Command): Command {
  return cmd.addOption(
    new Option('--nodes <names>', 'only these nodes (comma-separated names)').argParser((v: string) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  );
}

/** The inventory read before the command's module loaded (commands/early.ts), for the file it names. */
let early: { file: string; inv: Promise<Inventory> } | undefined;

/** Reads `file` now; the command's loadInventory for the same file takes this read (its warnings are printed once). */
export function readInventoryEarly(file: string): Promise<Inventory> {
  const inv = readInventory(file);
  // Taken by loadInventory, which reports the error: never an unhandled rejection here.
  inv.catch(() => {});
  early = { file: path.resolve(file), inv };
  return inv;
}

export function dropEarlyInventory(): void {
  early = undefined;
}

export function loadInventory(opts: CommonOptions): Promise<Inventory> {
  const e = early;
  early = undefined;
  return e && e.file === path.resolve(opts.inventory) ? e.inv : readInventory(opts.inventory);
}
