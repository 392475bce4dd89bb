import { newHosts, type HostsRun } from '../engine/hosts.js';
import { step, type Step } from '../engine/runner.js';
import { OperationError } from '../errors.js';
import { saveRun, saveSnapshot } from './save.js';
import { pruneSnapshots } from './store.js';

/**
 * A snapshot hardway takes by itself before a change that could cost data (an upgrade, a member removed or replaced,
 * a restore over a healthy cluster): into snapshots.dir, its manifest saying why; then the newest `snapshots.keep` of
 * this cluster kept. It connects on its own, so any flow can call it between its steps.
 */
export async function autoSnapshot(base: Pick<HostsRun, 'inv' | 'acceptNew' | 'log' | 'connect'>, reason: string): Promise<string> {
  const run = saveRun({ inv: base.inv, hosts: newHosts(base.inv.nodes), acceptNew: !!base.acceptNew, log: base.log, ...(base.connect ? { connect: base.connect } : {}) }, { reason });
  await saveSnapshot(run);
  base.log(`saved the ${reason} snapshot ${run.out} (revision ${run.manifest?.revision})`);
  const keep = base.inv.snapshots.keep ?? 10;
  const removed = await pruneSnapshots(base.inv.snapshots.dir, keep, base.inv.cluster.token);
  if (removed.length) base.log(`removed ${removed.length} older snapshot(s) of this cluster (snapshots.keep: ${keep}): ${removed.map((f) => f.split('/').pop()).join(', ')}`);
  return run.out;
}

/**
 * The step a destructive flow runs after its confirmation and before its first change: the snapshot, unless the run
 * was told `--no-snapshot` (or `when` says the cluster holds nothing worth it). Failing, it stops the flow there.
 */
export function snapshotFirst<R extends Pick<HostsRun, 'inv' | 'acceptNew' | 'log' | 'connect'> & { opts: { noSnapshot?: boolean } }>(reason: string, when: (r: R) => boolean = () => true): Step<R> {
  return step<R>(
    `save a ${reason} snapshot`,
    async (r) => {
      await autoSnapshot(r, reason).catch((e: Error) => {
        throw new OperationError(`the ${reason} snapshot could not be saved (${e.message}); nothing was changed. --no-snapshot goes ahead without one`);
      });
    },
    (r) => !r.opts.noSnapshot && when(r),
  );
}
