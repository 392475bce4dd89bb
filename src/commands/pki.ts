import type { Command } from 'commander';
import { CheckFailed } from '../errors.js';
import { color, printJson, println, renderTable, warn } from '../output.js';
import type { CertRow } from '../pki/check.js';
import type { FileAction } from '../pki/ensure.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

/*
 * The pki modules are imported inside the actions: every hardway command pays for what this file loads, and
 * `hardway pki` itself starts its key generation before node-forge is loaded (see ensure.ts).
 */

const ACTION_COLOR: Record<FileAction, (s: string) => string> = {
  created: color.green,
  kept: color.dim,
  reissued: color.yellow,
};

/**
 * commander gives an option that both `pki` and `check` define to `pki`, wherever it is written
 * (`pki check -i x` too): an option given explicitly on either command wins over the subcommand's default.
 */
function checkOptions(cmd: Command): CommonOptions {
  const own = cmd.opts<CommonOptions>();
  const parent = cmd.parent;
  if (!parent) return own;
  const merged: CommonOptions = { ...own };
  const parentOpts = parent.opts<CommonOptions>();
  for (const key of ['inventory', 'json'] as const) {
    const explicit = (c: Command) => c.getOptionValueSource(key) !== undefined && c.getOptionValueSource(key) !== 'default';
    if (!explicit(cmd) && explicit(parent)) Object.assign(merged, { [key]: parentOpts[key] });
  }
  return merged;
}

function verdict(c: CertRow): string {
  return c.ok ? color.green('ok') : color.red(c.problems.join('\n'));
}

export function registerPki(program: Command): void {
  const pki = program
    .command('pki')
    .description('create the CA and the etcd certificate (kubernetes.pem) in pki.dir, or reissue what no longer fits');
  withJson(withInventory(pki)).action(async (opts: CommonOptions) => {
    const inv = await loadInventory(opts);
    const { ensurePki } = await import('../pki/ensure.js');
    const result = await ensurePki(inv);
    for (const note of result.notes) warn(note);
    if (opts.json) {
      printJson(result);
      return;
    }
    for (const f of result.files) {
      const why = f.action === 'reissued' && f.reasons.length ? `: ${f.reasons.join('; ')}` : '';
      println(`${f.name}: ${ACTION_COLOR[f.action](f.action)}${why}`);
    }
  });

  const check = pki
    .command('check')
    .description('check ca.pem and kubernetes.pem: SANs for every node, expiry, key match, issuer (exit 1 on a problem)');
  withJson(withInventory(check)).action(async (_opts: CommonOptions, cmd: Command) => {
    const opts = checkOptions(cmd);
    const inv = await loadInventory(opts);
    const { checkPki } = await import('../pki/check.js');
    const result = await checkPki(inv);
    if (opts.json) {
      printJson(result);
    } else {
      const rows = result.certs.map((c) => [
        c.file,
        c.subject ?? '-',
        c.sans.join('\n') || '-',
        c.notAfter?.slice(0, 10) ?? '-',
        c.daysLeft ?? '-',
        verdict(c),
      ]);
      println(renderTable(['cert', 'subject', 'SANs', 'not after', 'days left', 'verdict'], rows));
      for (const p of result.problems) println(color.red(p));
    }
    if (!result.ok) {
      const n = result.problems.length + result.certs.reduce((sum, c) => sum + c.problems.length, 0);
      throw new CheckFailed(`pki check: ${n} problem${n === 1 ? '' : 's'} in ${result.dir}`);
    }
  });
}
