import type { Command } from 'commander';
import { CheckFailed, UsageError } from '../errors.js';
import { color, info, printJson, println, renderTable, warn } from '../output.js';
import type { CertRow } from '../pki/check.js';
import type { FileAction } from '../pki/ensure.js';
import { loadInventory, withAcceptNew, withInventory, withJson, type CommonOptions } from './options.js';

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
function checkOptions<T extends CommonOptions>(cmd: Command): T {
  const own = cmd.opts<T>();
  const parent = cmd.parent;
  if (!parent) return own;
  const merged: T = { ...own };
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
      if (result.rotation) println(color.yellow(result.rotation));
      for (const p of result.problems) println(color.red(p));
    }
    if (!result.ok) {
      const n = result.problems.length + result.certs.reduce((sum, c) => sum + c.problems.length, 0);
      throw new CheckFailed(`pki check: ${n} problem${n === 1 ? '' : 's'} in ${result.dir}`);
    }
  });
  registerPkiCluster(pki);
}

type ClusterOpts = CommonOptions & { yes?: boolean; wait: string; acceptNew?: boolean };

/** `renew` and `rotate-ca`: they change the running cluster, so they say what they will do and ask. */
function clusterCommand(pki: Command, name: string, description: string): Command {
  return withJson(
    withInventory(
      withAcceptNew(
        pki
          .command(name)
          .description(description)
          .option('--yes', 'do not ask (required without a terminal)')
          .option('--wait <seconds>', 'how long each member may take to be healthy', '60'),
      ),
    ),
  );
}

/** The run's options from the command line, checked: `--wait` in seconds, `--yes`, `--json` (no progress then). */
async function clusterRun(cmd: Command) {
  const opts = checkOptions<ClusterOpts>(cmd);
  if (!(Number(opts.wait) > 0)) throw new UsageError(`--wait ${opts.wait}: not a number of seconds`);
  const inv = await loadInventory(opts);
  const runOpts = { yes: !!opts.yes, json: !!opts.json, waitMs: Number(opts.wait) * 1000, acceptNew: !!opts.acceptNew };
  return { inv, json: !!opts.json, runOpts, log: opts.json ? () => {} : info };
}

const caJson = (c: { subject: string; fingerprint: string; notAfter: Date }) => ({ subject: c.subject, fingerprint: c.fingerprint, notAfter: c.notAfter.toISOString() });

export function registerPkiCluster(pki: Command): void {
  clusterCommand(
    pki,
    'renew',
    'a new kubernetes.pem from the same CA, for the key in use, installed on every member and taken into use with the fewest restarts (etcd reads it for each new connection); starts a cluster that is down because its leaves expired',
  ).action(async (_o: ClusterOpts, cmd: Command) => {
    const { inv, json, runOpts, log } = await clusterRun(cmd);
    const { newRenewRun, renewCluster } = await import('../certs/renew.js');
    const run = await renewCluster(newRenewRun(inv, runOpts, log));
    if (json) printJson({ ok: true, serial: run.leaf?.serial, notAfter: run.leaf?.notAfter.toISOString(), serving: Object.fromEntries(run.serving), done: run.done });
    else println(`every member serves kubernetes.pem serial ${run.leaf!.serial}: ${[...run.serving].map(([n, how]) => `${n} (${how})`).join(', ')}`);
  });

  clusterCommand(
    pki,
    'rotate-ca',
    "move the cluster to a new CA (or pki.dir's, when the nodes trust another) with no downtime: both CAs trusted, new leaves, the new CA alone, each phase rolling with quorum kept; resumes where a killed run stopped",
  ).action(async (_o: ClusterOpts, cmd: Command) => {
    const { inv, json, runOpts, log } = await clusterRun(cmd);
    const { keptAside, newRotateRun, rotateCa } = await import('../certs/rotate.js');
    const run = await rotateCa(newRotateRun(inv, runOpts, log));
    if (json) printJson({ ok: true, newCa: run.newCa ? caJson(run.newCa) : null, oldCas: run.oldCas.map(caJson), keptAside: keptAside(run), done: run.done });
    else {
      println(`the cluster now trusts ${run.newCa!.subject} (sha256 ${run.newCa!.fingerprint}) alone; every member serves a leaf it issued`);
      const kept = keptAside(run);
      if (kept.length) println(`the old CA is kept aside: ${kept.join(', ')} (never deleted: remove them once you no longer need them)`);
    }
  });
}
