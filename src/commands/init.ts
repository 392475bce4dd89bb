import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { EDITIONS, initInventory, type Edition } from '../init/inventory.js';
import { parseMachines } from '../init/machines.js';
import { validateInventory } from '../inventory/validate.js';
import { info } from '../output.js';

type Opts = { from?: string; edition: Edition; output: string };

export function registerInit(program: Command): void {
  program
    .command('init')
    .description("write an inventory to start from (the example's comments), for the guide's current edition or its 2020 one; never overwrites a file")
    .option('--from <machines.txt>', "the guide's machines.txt (IPV4_ADDRESS FQDN HOSTNAME [POD_SUBNET] per line)")
    .addOption(new Option('--edition <edition>', 'current: one server, plain HTTP on loopback; 2020: three controllers with TLS').choices([...EDITIONS]).default('current'))
    .option('-o, --output <file>', 'where to write it', 'inventory.yaml')
    .action(async (opts: Opts) => {
      let machines;
      if (opts.from) {
        const text = await readFile(opts.from, 'utf8').catch((e: NodeJS.ErrnoException) => {
          throw new UsageError(`${opts.from}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
        });
        machines = parseMachines(text, opts.from);
      }
      const text = await initInventory({ edition: opts.edition, ...(machines ? { machines, machinesFile: opts.from! } : {}) });
      // What init writes must be an inventory hardway accepts: checked before anything is written.
      const check = validateInventory(text, { file: path.resolve(opts.output) });
      if (check.errors.length) throw new Error(`init produced an invalid inventory: ${check.errors.map((e) => e.message).join('; ')}`);
      await writeFile(opts.output, text, { flag: 'wx', mode: 0o644 }).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(e.code === 'EEXIST' ? `${opts.output} exists: not overwriting it (move it away, or write elsewhere with -o)` : `${opts.output}: ${e.message}`);
      });
      const names = check.inventory!.nodes.map((n) => `${n.name} (${n.address})`).join(', ');
      info(`wrote ${opts.output}: ${opts.edition} edition, etcd on ${names}; set etcd.tarball to the release you downloaded, then run 'hardway plan'`);
    });
}
