import { clientUrl, CLIENT_PORT, PEER_PORT } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { checkPki } from '../pki/check.js';
import { checkInstalled, type CertJudgement } from '../pki/installed.js';
import { askCluster } from '../etcd/cluster.js';
import { endpointAnswer } from '../etcd/health.js';
import { usable, type Host } from '../engine/hosts.js';
import { shq, type Remote } from '../ssh/remote.js';
import { probeFsync } from '../node/disk.js';
import type { DoctorFacts, Latency, MemberDisk, MemberFacts } from './cluster.js';
import { parseSystemdState, systemdStateScript } from '../node/unit-state.js';
import { clockOffset, portsScript } from '../node/probes.js';
import { readJournal } from '../journal/read.js';
import { parseJournal } from '../journal/parse.js';
import { etcdLatencies, readMetrics, readTlsFiles, type LatencyStats, type TlsFiles } from '../etcd/metrics.js';

/** Collects what the online doctor and `tune` judge, from every reachable node in parallel. */

export interface GatherOptions {
  /** Journal window (default 10 minutes). */
  journalSeconds?: number;
  /** Endpoint-status samples and the pause between them (default 3, 2 s). */
  samples?: number;
  sampleGapMs?: number;
  /** Measure fsync on the data dir when etcd's metrics cannot be read (default true). */
  probeDisk?: boolean;
}

function toLatency(s: LatencyStats): Latency | undefined {
  if (!s.count || s.p50 === null || s.p99 === null) return undefined;
  return { p50: s.p50, p99: s.p99, count: s.count, ...(s.mean !== null ? { mean: s.mean } : {}), ...(s.p99Range ? { p99Low: s.p99Range.low } : {}) };
}

export async function memberDisk(inv: Inventory, node: NodeSpec, remote: Remote, tls: TlsFiles | undefined, active: boolean, probe: boolean): Promise<MemberDisk> {
  if (active) {
    try {
      const lat = etcdLatencies(await readMetrics(remote, clientUrl(node), { timeoutMs: 10_000, ...(tls ? { tls } : {}) }));
      const walFsync = toLatency(lat.walFsync);
      const backendCommit = toLatency(lat.backendCommit);
      return { ...(walFsync ? { walFsync } : {}), ...(backendCommit ? { backendCommit } : {}), ...(lat.peerRtt.maxP99 !== null ? { peerRttP99: lat.peerRtt.maxP99 } : {}) };
    } catch (e) {
      if (!probe) return { error: (e as Error).message };
    }
  }
  if (!probe) return {};
  try {
    const r = await probeFsync(remote, inv.etcd.dataDir, { maxSeconds: 5 });
    return { probe: { method: r.method, p50: r.p50, p99: r.p99, samples: r.samples } };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export async function gatherDoctorFacts(inv: Inventory, hosts: Host[], opts: GatherOptions = {}): Promise<{ facts: DoctorFacts; probe?: Remote }> {
  const tls = await readTlsFiles(inv.pki.dir).catch(() => undefined);
  const samplesWanted = opts.samples ?? 3;
  const gap = opts.sampleGapMs ?? 2000;

  const membersP = Promise.all(
    hosts.map(async (h): Promise<MemberFacts> => {
      if (!usable(h)) return { node: h.node.name, reachable: false, error: h.outcome.reason ?? 'not connected', entries: [], ports: {} };
      const c = { node: h.node, remote: h.remote };
      const targets = inv.nodes.filter((n) => n.name !== c.node.name).flatMap((n) => [`${n.internalIp}:${PEER_PORT}`, `${n.internalIp}:${CLIENT_PORT}`]);
      try {
        const [sd, journal, misc, clock] = await Promise.all([
          c.remote.run(systemdStateScript, { timeoutMs: 20_000 }),
          readJournal(c.remote, { sinceSeconds: opts.journalSeconds ?? 600 }),
          c.remote.run(`echo "MODE $(stat -c %a ${shq(inv.etcd.dataDir)} 2>/dev/null || echo -)"\n${portsScript(targets)}`, { timeoutMs: 30_000 }),
          clockOffset(c.remote),
        ]);
        const systemd = parseSystemdState(sd.stdout);
        const ports: Record<string, boolean> = {};
        let dataDirMode: string | undefined;
        for (const line of misc.stdout.split('\n')) {
          const [tag, a, b] = line.split(' ');
          if (tag === 'MODE') dataDirMode = a;
          if (tag === 'PORT' && a) ports[a] = b === 'ok';
        }
        const disk = await memberDisk(inv, c.node, c.remote, tls, systemd.active === 'active', opts.probeDisk !== false);
        return {
          node: c.node.name,
          reachable: true,
          entries: parseJournal(journal),
          systemd,
          ports,
          disk,
          ...(dataDirMode ? { dataDirMode } : {}),
          ...(clock !== undefined ? { clockOffsetMs: clock } : {}),
        };
      } catch (e) {
        return { node: c.node.name, reachable: false, error: (e as Error).message, entries: [], ports: {} };
      }
    }),
  );

  // Endpoint status a few times, a few seconds apart: a climbing term is an election loop happening now.
  // Through the member that answers for the cluster (any node's etcdctl asks every endpoint).
  const probeP = askCluster(inv, hosts, { isActive: () => true }).then(({ answer }) => (answer?.asker ?? hosts.find(usable))?.remote);
  const samplesP = (async () => {
    const samples: DoctorFacts['statusSamples'] = [];
    const probe = await probeP;
    if (!probe) return samples;
    // An endpoint that did not answer the first time is not asked again: a stopped member costs etcdctl's whole
    // timeout each time, and only the members that answer can show a term climbing.
    let endpoints = inv.nodes.map((n) => clientUrl(n));
    for (let i = 0; i < samplesWanted && endpoints.length; i++) {
      if (i) await new Promise((r) => setTimeout(r, gap));
      const st = (await Promise.all(endpoints.map((e) => endpointAnswer(probe, e)))).flatMap((s) => (s.status ? [s.status] : []));
      samples.push({ at: new Date(), status: st });
      endpoints = endpoints.filter((e) => st.some((s) => s.endpoint === e));
    }
    return samples;
  })();

  // Plain HTTP on loopback (etcd.tls: false) has no certificates to check.
  const pkiProblems = inv.etcd.tls ? (await checkPki(inv).catch((e: Error) => ({ problems: [`pki check failed: ${e.message}`] }))).problems : [];
  const certsP = checkInstalled(inv, hosts).catch((e: Error): CertJudgement => ({ problems: [{ check: 'missing', severity: 'warning', message: `the installed certificates could not be read: ${e.message}`, fix: "'hardway verify' shows each node" }], rows: [] }));
  const [members, statusSamples, probe, certs] = await Promise.all([membersP, samplesP, probeP, certsP]);
  return { facts: { members, statusSamples, pkiProblems, certs: certs.problems }, ...(probe ? { probe } : {}) };
}
