import { Option, type Command } from 'commander';
import { access } from 'node:fs/promises';
import { printJson, println, warn } from '../output.js';
import { etcdctlEnv, renderEnv, SHELLS, type Shell } from '../etcd/env.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { shell: Shell };

export function registerEnv(program: Command): void {
  const cmd = program
    .command('env')
    .description('print ETCDCTL_* variables for etcdctl on this machine with pki.dir\'s certificates: eval "$(hardway env)"')
    .addOption(new Option('--shell <shell>', 'the shell to print for').choices([...SHELLS]).default('sh'));
  withJson(withInventory(cmd)).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const vars = etcdctlEnv(inv);
    const missing = [];
    for (const [k, file] of vars.filter(([k]) => /CERT|KEY/.test(k))) if (await access(file).then(() => false, () => true)) missing.push(`${k} ${file}`);
    if (missing.length) warn(`not there yet: ${missing.join(', ')} (run 'hardway pki')`);
    if (opts.json) printJson(Object.fromEntries(vars));
    else println(renderEnv(vars, opts.shell));
  });
}
