import type { Command } from 'commander';
import { CheckFailed } from '../errors.js';
import { writeEtcdTiming } from '../inventory/edit.js';
import { readInventory } from '../inventory/read.js';
import { info, printJson, println } from '../output.js';
import { recommendTiming } from '../tune/recommend.js';
import { formatSeconds } from '../render/seconds.js';
import { measureTiming } from '../tune/measure.js';
import { runUp } from '../provision/up.js';
import { quorum } from '../inventory/derive.js';
import { finishReport } from './up.js';
import { loadInventory, withInventory, withJson, type CommonOptions } from './options.js';

type Opts = CommonOptions & { dryRun?: boolean; acceptNew?: boolean; wait: string };

export function registerTune(program: Command): void {
  const cmd = program
    .command('tune')
    .description('fit --heartbeat-interval/--election-timeout to the measured fsync latency and peer round trip, write them to the inventory and apply them')
    .option('--dry-run', 'show the recommendation; change nothing')
    .option('--accept-new', 'record unknown host keys in knownHosts (never a changed one)')
    .option('--wait <seconds>', 'how long to wait for a healthy cluster after the restart', '180');
  withJson(withInventory(cmd)).action(async (opts: Opts) => {
    const inv = await loadInventory(opts);
    const { measured, healthy } = await measureTiming(inv, { acceptNew: opts.acceptNew });
    const fsyncs = measured.flatMap((m) => (m.fsync !== undefined ? [m.fsync] : []));
    const rtts = measured.flatMap((m) => (m.rtt !== undefined ? [m.rtt] : []));
    if (!fsyncs.length) throw new CheckFailed(`tune: no fsync measurement from any node (${measured.map((m) => `${m.node}: ${m.source}`).join('; ')})`);
    const rec = recommendTiming({
      fsyncP99S: Math.max(...fsyncs),
      rttP99S: rtts.length ? Math.max(...rtts) : null,
      current: { heartbeatInterval: inv.etcd.heartbeatInterval, electionTimeout: inv.etcd.electionTimeout },
    });
    const cur = inv.etcd;
    if (opts.json) {
      printJson({ measured, recommendation: rec, current: { heartbeatInterval: cur.heartbeatInterval, electionTimeout: cur.electionTimeout }, applied: rec.changed && !opts.dryRun });
    } else {
      println('Measured:');
      for (const m of measured) println(`  ${m.node}: fsync ${m.fsync !== undefined ? formatSeconds(m.fsync, 'figure') : '?'}, peer round trip p99 ${m.rtt !== undefined ? formatSeconds(m.rtt, 'figure') : '?'} (${m.source})`);
      for (const l of rec.explanation) println(`  ${l}`);
      println(
        rec.changed
          ? `Change: heartbeatInterval ${cur.heartbeatInterval} → ${rec.heartbeatInterval} ms, electionTimeout ${cur.electionTimeout} → ${rec.electionTimeout} ms`
          : `No change needed: heartbeatInterval ${cur.heartbeatInterval} ms, electionTimeout ${cur.electionTimeout} ms already fit.`,
      );
    }
    if (!rec.feasible) throw new CheckFailed('tune: no timing within etcd\'s limits covers this disk; only a faster disk helps');
    if (!rec.changed || opts.dryRun) return;

    const { changed } = await writeEtcdTiming(inv.file, { heartbeatInterval: rec.heartbeatInterval, electionTimeout: rec.electionTimeout });
    if (changed) info(`wrote heartbeatInterval and electionTimeout to ${inv.file} (comments kept)`);
    // Without quorum there is nothing a rolling restart could keep: restart every member together.
    const together = healthy < quorum(inv.nodes.length);
    info(together ? `only ${healthy}/${inv.nodes.length} members healthy: restarting all members together` : 'applying with a rolling restart (quorum kept)');
    const tuned = await readInventory(inv.file);
    const report = await runUp(tuned, { json: !!opts.json, restartTogether: together, waitMs: Number(opts.wait) * 1000 });
    finishReport(report, { json: false }, tuned);
  });
}
