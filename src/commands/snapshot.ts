import type { Command } from 'commander';
import { newHosts } from '../engine/hosts.js';
import { CheckFailed, UsageError } from '../errors.js';
import { info, printJson, println } from '../output.js';
import { restoreReport, restoreRun, restoreSnapshot } from '../snapshot/restore.js';
import { saveReport, saveRun, saveSnapshot } from '../snapshot/save.js';
import { listSnapshots, pruneSnapshots, resolveSnapshot, snapshotFacts } from '../snapshot/store.js';
import { confirm } from '../engine/confirm.js';
import { listTable, statusJson, statusText } from '../snapshot/view.js';
import { loadInventory, withAcceptNew, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { snapshot?: boolean; acceptNew?: boolean; node?: string; out?: string; dir?: string; force?: boolean; yes?: boolean; wait?: string };


export function registerSnapshot(program: Command): void {
  const snapshot = program.command('snapshot').description('back the cluster up to a file on this machine, check such files, restore the whole cluster from one');

  const save = withAcceptNew(
    snapshot
      .command('save')
      .description("save the leader's (or a member's) snapshot into snapshots.dir (0600), checked with etcd's integrity hash, with a manifest FILE.json beside it")
      .option('--node <name>', 'the member to save from (default: the leader)')
      .option('--out <file>', 'where to write it (default: snapshots.dir/<token>-<UTC time>.db); never written over'),
  );
  withJson(withInventory(save)).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const run = saveRun({ inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log: info }, { ...(opts.node ? { node: opts.node } : {}), ...(opts.out ? { out: opts.out } : {}) });
    await saveSnapshot(run);
    if (opts.json) printJson({ ...run.manifest, file: run.out });
    else println(saveReport(run).join('\n'));
  });

  const status = snapshot
    .command('status')
    .description("a snapshot's manifest and a fresh check of its integrity hash, here; exit 1 when it is damaged. A NAME as 'snapshot list' shows it is looked up in snapshots.dir (the inventory is read only then)")
    .argument('<file>', 'a snapshot file, or the name of one in snapshots.dir');
  withJson(withInventory(status)).action(async (arg: string, opts: Opts) => {
    const file = await resolveSnapshot(arg, async () => (await loadInventory(opts)).snapshots.dir);
    const facts = await snapshotFacts(file);
    if (opts.json) printJson(statusJson(facts));
    else println(statusText(facts).join('\n'));
    if (facts.problem) throw new CheckFailed(`${file}: damaged`);
  });

  const list = withInventory(
    snapshot
      .command('list')
      .description("the snapshots in snapshots.dir, newest first: time, the name 'snapshot status' and 'snapshot restore' take, revision, database entries, size, member, verdict")
      .option('--dir <dir>', 'another directory to list (its snapshots are then named by their path)'),
  );
  withJson(list).action(async (opts: Opts) => {
    const dir = opts.dir ?? (await loadInventory(opts)).snapshots.dir;
    const all = await listSnapshots(dir);
    if (opts.json) printJson(all.map(statusJson));
    else println(all.length ? listTable(all, opts.dir !== undefined ? { dir: opts.dir } : {}) : `no snapshots in ${dir}`);
    if (all.some((f) => f.problem)) throw new CheckFailed(`${all.filter((f) => f.problem).length} damaged snapshot(s) in ${dir}`);
  });

  const prune = withInventory(
    snapshot
      .command('prune')
      .description('remove all but the newest snapshots of each cluster token in snapshots.dir (with their manifests; files without a manifest are kept)')
      .option('--keep <n>', 'how many to keep per cluster token (default: snapshots.keep, 10)')
      .option('--dir <dir>', 'another directory')
      .option('--yes', 'do not ask (required without a terminal)'),
  );
  withJson(prune).action(async (opts: Opts & { keep?: string }) => {
    const inv = opts.dir && opts.keep ? undefined : await loadInventory(opts);
    const dir = opts.dir ?? inv!.snapshots.dir;
    const keep = opts.keep !== undefined ? Number(opts.keep) : (inv?.snapshots.keep ?? 10);
    if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep ${opts.keep}: a whole number of snapshots, at least 1`);
    const all = await listSnapshots(dir);
    info(`keeping the newest ${keep} snapshot(s) of each cluster token in ${dir} (${all.length} there; files without a manifest are kept)`);
    await confirm(`remove the older snapshots in ${dir}?`, { yes: !!opts.yes });
    const removed = await pruneSnapshots(dir, keep);
    if (opts.json) printJson({ ok: true, dir, keep, removed });
    else println(removed.length ? removed.map((f) => `removed ${f} (and its manifest)`).join('\n') : 'nothing to remove');
  });

  const restore = withAcceptNew(
    snapshot
      .command('restore')
      .description('restore the whole cluster from a snapshot: every member stopped, its data dir moved aside (never deleted), restored with a new token, started together, checked')
      .argument('<file>', 'a snapshot file, or the name of one in snapshots.dir (as \'snapshot list\' shows it)')
      .option('--force', 'restore even though the cluster is healthy (what it holds since the snapshot is lost)')
      .option('--no-snapshot', 'with --force, no pre-restore snapshot of what the cluster holds now')
      .option('--yes', 'do not ask (required without a terminal)')
      .option('--wait <seconds>', 'how long the restored cluster may take to be healthy', '120'),
  );
  withJson(withInventory(restore)).action(async (arg: string, opts: Opts) => {
    if (!(Number(opts.wait) > 0)) throw new UsageError(`--wait ${opts.wait}: not a number of seconds`);
    const inv = await loadInventory(opts);
    const file = await resolveSnapshot(arg, async () => inv.snapshots.dir);
    const run = restoreRun({ inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log: info }, file, { force: !!opts.force, yes: !!opts.yes, waitMs: Number(opts.wait) * 1000, ...(opts.snapshot === false ? { noSnapshot: true } : {}) });
    await restoreSnapshot(run);
    if (opts.json) printJson({ file: run.file, token: run.token, movedTo: run.movedTo, done: run.done, checks: run.checks, members: run.after?.members ?? [] });
    else println(restoreReport(run).join('\n'));
  });
}
