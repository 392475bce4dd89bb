import type { Command } from 'commander';
import { CheckFailed } from '../errors.js';
import { writeEtcdTiming } from '../inventory/edit.js';
import { readInventory } from '../inventory/read.js';
import { info, printJson, println } from '../output.js';
import { askCluster } from '../engine/cluster.js';
import { usable } from '../engine/hosts.js';
import { withHosts } from '../engine/session.js';
import { addJournalSyncs, memberFsync } from '../verify/doctor-cluster.js';
import { gatherDoctorFacts } from '../verify/doctor-gather.js';
import { formatSeconds, recommendTiming } from '../verify/tune.js';
import { runUp } from '../provision/up.js';
import { endpointHealth } from '../provision/health.js';
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
    const { measured, healthy } = await withHosts(inv, inv.nodes, { acceptNew: !!opts.acceptNew }, async (r) => {
      // The same evidence as doctor: etcd's histograms, else etcd's own 'sync duration' lines, else a disk probe.
      const { facts } = await gatherDoctorFacts(inv, r.hosts, { samples: 1, journalSeconds: 600 });
      addJournalSyncs(facts);
      const measured = facts.members.map((m) => {
        const f = memberFsync(m);
        return {
          node: m.node,
          ...(f ? { fsync: f.seconds } : {}),
          ...(m.disk?.peerRttP99 !== undefined ? { rtt: m.disk.peerRttP99 } : {}),
          source: f?.source ?? (m.reachable ? (m.disk?.error ?? 'no measurement') : `unreachable: ${m.error}`),
        };
      });
      // Asked through the member that answers for the cluster (any node's etcdctl can reach it).
      const { answer } = await askCluster(inv, r.hosts, { isActive: (h) => facts.members.find((m) => m.node === h.node.name)?.systemd?.active === 'active', anyHost: true });
      const probe = answer?.asker ?? r.hosts.find(usable);
      const healthy = probe?.remote ? (await endpointHealth(probe.remote, inv.nodes, 5)).filter((h) => h.health).length : 0;
      return { measured, healthy };
    });
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
      for (const m of measured) println(`  ${m.node}: fsync ${m.fsync !== undefined ? formatSeconds(m.fsync) : '?'}, peer round trip p99 ${m.rtt !== undefined ? formatSeconds(m.rtt) : '?'} (${m.source})`);
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
