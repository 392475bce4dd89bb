import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { clusterCondition, type LiveFacts, type NodeFacts } from '../../src/cluster/condition.js';
import type { CertProblem } from '../../src/pki/installed.js';
import { addJournalSyncs, certFinding, conditionFinding, diagnoseCluster, fsyncFigure, memberFsync, termMovement, withCertCause, withLiveNospace, type DoctorFacts, type MemberFacts } from '../../src/doctor/cluster.js';
import { signatureById } from '../../src/journal/signatures.js';
import type { EndpointStatus } from '../../src/etcd/etcdctl.js';
import { parseJournal } from '../../src/journal/parse.js';

const inv = validateInventory('nodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''), { file: '/i.yaml' }).inventory!;
const loopJournal = parseJournal(readFileSync(new URL('../fixtures/journal/etcd34-election-loop.short.txt', import.meta.url), 'utf8'), { year: 2026 });
const sd = { enabled: 'enabled', active: 'active', subState: 'running', restarts: 0, loadState: 'loaded' };

const member = (i: number, over: Partial<MemberFacts> = {}): MemberFacts => ({
  node: `controller-${i}`,
  reachable: true,
  entries: [],
  systemd: sd,
  dataDirMode: '700',
  clockOffsetMs: 3,
  ports: {},
  ...over,
});
const status = (term: number, leader = 'a1'): EndpointStatus => ({ endpoint: 'https://10.240.0.10:2379', memberId: 'a1', version: '3.4.23', dbSize: 1, leader, isLeader: true, raftTerm: term, raftIndex: 1, raftAppliedIndex: 1, errors: [], isLearner: false, revision: 1, clusterId: 'c1' });
const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, s));
const facts = (members: MemberFacts[], samples: DoctorFacts['statusSamples'] = []): DoctorFacts => ({ members, statusSamples: samples, pkiProblems: [] });
const slowMetrics = { walFsync: { p50: 1.5, p99: 2.04, count: 40, mean: 1.2, p99Low: 1.024 } };

describe('online doctor judgement', () => {
  it('finds nothing on a healthy cluster', () => {
    expect(diagnoseCluster(inv, facts([0, 1, 2].map((i) => member(i)), [{ at: at(0), status: [status(2)] }, { at: at(4), status: [status(2)] }]))).toEqual([]);
  });

  it('calls an election loop caused by slow disk, with the numbers, when journal and live status agree', () => {
    const f = diagnoseCluster(inv, facts([member(0, { entries: loopJournal, disk: slowMetrics })], [{ at: at(0), status: [status(7, '')] }, { at: at(4), status: [status(9, '')] }]));
    const loop = f.find((x) => x.id === 'ELECT-LOOP')!;
    expect(loop.severity).toBe('error');
    expect(loop.title).toBe('election loop caused by slow disk');
    expect(loop.details[0]).toMatch(/12 elections in \d+ s of journal .*term 1 → 13, no stable leader; endpoint status over 4 s: term 7 → 9, no leader/);
    expect(loop.details[1]).toMatch(/WAL fsync 1\.20 s on controller-0 is over the heartbeat interval \(100 ms\)/);
    const disk = f.find((x) => x.id === 'DISK-FSYNC')!;
    expect(disk.facts.fsyncSeconds).toBe(1.2);
    expect(disk.evidence[0]).toMatch(/40 syncs, mean 1\.20 s/);
    expect(f.indexOf(loop)).toBeLessThan(f.findIndex((x) => x.severity === 'warning'));
  });

  it('does not call it a loop when the live term holds with a leader', () => {
    const f = diagnoseCluster(inv, facts([member(0, { entries: loopJournal })], [{ at: at(0), status: [status(13)] }, { at: at(4), status: [status(13)] }]));
    expect(f.some((x) => x.id === 'ELECT-LOOP')).toBe(false);
    expect(f.find((x) => x.id === 'ELECT-FLAP')?.severity).toBe('warning');
  });

  it("takes the fsync figure from etcd's own log when there are no metrics", () => {
    const fx = facts([member(0, { entries: loopJournal, disk: {} })]);
    addJournalSyncs(fx);
    const m = memberFsync(fx.members[0]!)!;
    expect(m.source).toMatch(/etcd's log/);
    expect(m.seconds).toBeGreaterThan(1);
  });

  it('prefers the higher of the p99 bucket floor and the mean', () => {
    expect(fsyncFigure({ p50: 1.5, p99: 2.04, count: 9, mean: 1.2, p99Low: 1.024 })).toBe(1.2);
    expect(fsyncFigure({ p50: 0.002, p99: 0.0075, count: 9, mean: 0.002, p99Low: 0.004 })).toBe(0.004);
    expect(fsyncFigure({ p50: 0.002, p99: 0.0075, count: 9 })).toBe(0.0075);
  });

  it('ignores status samples that got no answer', () => {
    expect(termMovement([{ at: at(0), status: [] }, { at: at(2), status: [] }])).toBeUndefined();
    expect(termMovement([{ at: at(0), status: [status(4)] }, { at: at(2), status: [] }, { at: at(6), status: [status(5)] }])).toEqual({ from: 4, to: 5, seconds: 6, leaderless: false });
  });

  it('flags data-dir mode, clock skew, a blocked peer port, and certificates', () => {
    const f = diagnoseCluster(inv, {
      ...facts([
        member(0, { dataDirMode: '755', clockOffsetMs: 1500, ports: { '10.240.0.11:2380': false, '10.240.0.12:2380': true } }),
        member(1),
        member(2),
      ]),
      pkiProblems: ['kubernetes.pem: SAN 10.240.0.12 (controller-2) missing'],
    });
    const byId = Object.fromEntries(f.map((x) => [x.id, x]));
    expect(byId['DATA-PERM']!.fix).toBe('chmod 700 /var/lib/etcd (hardway up does it)');
    expect(byId.CLOCK).toMatchObject({ severity: 'error', title: 'clock ahead by 1500 ms' });
    expect(byId['PEER-PORT']).toMatchObject({ severity: 'error', title: 'cannot connect to 10.240.0.11:2380 (controller-1)', hosts: ['controller-0'] });
    expect(byId['TLS-SAN']!.evidence).toEqual(['kubernetes.pem: SAN 10.240.0.12 (controller-2) missing']);
  });

  it('reports an unreachable member without hiding the others', () => {
    const f = diagnoseCluster(inv, facts([member(0, { reachable: false, error: 'host unreachable' }), member(1, { dataDirMode: '750' })]));
    expect(f.map((x) => `${x.id}@${x.hosts.join()}`).sort()).toEqual(['DATA-PERM@controller-1', 'SSH@controller-0']);
  });
});

describe('the cluster condition, as the finding that leads', () => {
  const url = (i: number) => `https://10.240.0.${10 + i}:2380`;
  const node = (i: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({ node: `controller-${i}`, peerUrl: url(i), observed: true, active: true, hasData: true, wal: { memberId: `a${i}`, clusterId: 'c1' }, ...extra });
  const live = (healthy: number[]): LiveFacts => ({
    clusterId: 'c1',
    members: [0, 1, 2].map((i) => ({ id: `a${i}`, name: `controller-${i}`, peerURLs: [url(i)], clientURLs: [], isLearner: false })),
    healthy: healthy.map((i) => `a${i}`),
  });

  it('a healthy cluster (or one not created yet) adds no finding', () => {
    expect(conditionFinding(clusterCondition({ nodes: [node(0), node(1), node(2)], live: live([0, 1, 2]) }))).toBeUndefined();
    const empty = (i: number) => node(i, { hasData: false, wal: undefined, active: false });
    expect(conditionFinding(clusterCondition({ nodes: [empty(0), empty(1), empty(2)] }))).toBeUndefined();
    expect(diagnoseCluster(inv, facts([member(0)]), clusterCondition({ nodes: [node(0), node(1), node(2)], live: live([0, 1, 2]) }))).toEqual([]);
  });

  it('degraded: the members not healthy and the unreached nodes are its hosts; each member, its state and revision, is evidence', () => {
    const c = clusterCondition({ nodes: [node(0), node(1, { active: false, revision: 40 }), { node: 'controller-2', peerUrl: url(2), observed: false, reason: 'timeout' }], live: live([0]) });
    const quorumLost = conditionFinding(c)!;
    expect(quorumLost).toMatchObject({ id: 'CLUSTER', severity: 'error', title: 'quorum lost: the cluster accepts no writes', hosts: ['controller-1', 'controller-2'], details: [c.headline], fix: c.fix });
    expect(quorumLost.meaning).toBe('fewer than a quorum of members can vote: no leader can be elected and no write or membership change can be committed');
    expect(quorumLost.evidence).toEqual(['controller-0 (a0): healthy', 'controller-1 (a1): stopped, revision 40', 'controller-2 (a2): unobserved']);
    expect(quorumLost.facts).toEqual({ kind: 'quorum-lost', voters: 3, healthy: 1, need: 2 });
    const degraded = conditionFinding(clusterCondition({ nodes: [node(0), node(1), node(2, { active: false })], live: live([0, 1]) }))!;
    expect(degraded).toMatchObject({ title: 'cluster degraded: a member is down', hosts: ['controller-2'], meaning: degraded.details[0] });
  });

  it('says where a moved member is listed and where the inventory has it, and which member recover rebuilds from', () => {
    const moved = conditionFinding(clusterCondition({ nodes: [node(0), node(1), node(2, { peerUrl: 'https://10.9.0.1:2380', active: false })], live: live([0, 1]) }))!;
    expect(moved.title).toBe("a member's address changed");
    expect(moved.evidence[2]).toBe('controller-2 (a2): stopped, at https://10.240.0.12:2380 in the cluster, https://10.9.0.1:2380 in the inventory');
    const lost = clusterCondition({ nodes: [node(0, { revision: 9 }), node(1, { hasData: false, wal: undefined }), node(2, { hasData: false, wal: undefined })], live: live([]) });
    expect(conditionFinding(lost)!.facts).toMatchObject({ source: 'controller-0' });
  });

  it('without a command that repairs it, points at verify; a warning stays a warning', () => {
    const c = clusterCondition({ nodes: [{ node: 'controller-0', peerUrl: url(0), observed: false, reason: 'key refused' }] });
    const f = conditionFinding(c)!;
    expect(f).toMatchObject({ title: 'the cluster could not be observed', fix: "'hardway verify' shows each member", hosts: ['controller-0'], evidence: [] });
    expect(f.facts).toEqual({ kind: 'not-observed' });
    expect(conditionFinding({ ...c, severity: 'warning' })!.severity).toBe('warning');
  });

  it('with the quorum lost, an election loop is its consequence, not the headline; with a quorum it stays what it is', () => {
    const lost = clusterCondition({ nodes: [node(0), node(1, { active: false, hasData: false, wal: undefined }), node(2, { active: false, hasData: false, wal: undefined })], live: live([]) });
    const f = diagnoseCluster(inv, facts([member(0, { entries: loopJournal })]), lost);
    expect(f[0]!.id).toBe('CLUSTER');
    const loop = f.find((x) => x.id.startsWith('ELECT-'))!;
    expect(loop.severity).toBe('info');
    expect(loop.title).toMatch(/: a consequence of the lost quorum$/);
    expect(loop.fix).toBe(`see CLUSTER above: ${f[0]!.fix}`);
    const degraded = clusterCondition({ nodes: [node(0), node(1), node(2, { active: false })], live: live([0, 1]) });
    const g = diagnoseCluster(inv, facts([member(0, { entries: loopJournal })]), degraded);
    expect(g[0]!.id).toBe('CLUSTER');
    expect(g.find((x) => x.id.startsWith('ELECT-'))!.severity).not.toBe('info');
  });

  it('certificates the members refuse are the cause of no quorum or no leader, never of a degraded cluster', () => {
    const expired: CertProblem = { check: 'expiry', node: 'controller-1', severity: 'error', message: 'expired', fix: "'hardway certs renew' reissues it" };
    const noLeader = clusterCondition({ nodes: [node(0), node(1), node(2)], live: live([]) });
    expect(diagnoseCluster(inv, { ...facts([member(0)]), certs: [expired] }, noLeader)[0]!.fix).toBe("'hardway certs renew' reissues it");
    const degraded = clusterCondition({ nodes: [node(0), node(1), node(2, { active: false })], live: live([0, 1]) });
    expect(diagnoseCluster(inv, { ...facts([member(0)]), certs: [expired] }, degraded)[0]!.fix).toBe(degraded.fix);
    const lost = clusterCondition({ nodes: [node(0), node(1, { active: false }), node(2, { active: false, hasData: false, wal: undefined })], live: live([]) });
    expect(diagnoseCluster(inv, { ...facts([member(0)]), certs: [expired] }, lost)[0]!.details.at(-1)).toMatch(/refuse each other's certificates \(CERT-EXPIRY below\)/);
  });
});

describe('what each member shows, judged against etcd\'s guidance', () => {
  const one = (m: MemberFacts, extra: Partial<DoctorFacts> = {}) => diagnoseCluster(inv, { ...facts([m, member(1), member(2)]), ...extra });
  const byId = (fs: ReturnType<typeof diagnoseCluster>, id: string) => fs.find((f) => f.id === id);

  it('an unreachable node: its error is the evidence, the fix says how to look at it offline', () => {
    const f = byId(one(member(0, { reachable: false, error: 'connect ECONNREFUSED' })), 'SSH')!;
    expect(f).toMatchObject({ severity: 'error', evidence: ['connect ECONNREFUSED'], hosts: ['controller-0'] });
    expect(f.fix).toBe("check the node is up and reachable (ssh controller-0); paste its 'journalctl -u etcd' into 'hardway doctor --journal FILE' to diagnose it offline");
    expect(byId(one(member(0, { reachable: false })), 'SSH')!.evidence).toEqual(['']);
  });

  it('WAL fsync: over 10 ms is slow, a warning within the heartbeat interval, an error beyond it; 10 ms itself is fine', () => {
    const metrics = (p99: number) => ({ walFsync: { p50: p99 / 2, p99, count: 500 } });
    expect(byId(one(member(0, { disk: metrics(0.01) })), 'DISK-FSYNC')).toBeUndefined();
    const warn = byId(one(member(0, { disk: metrics(0.05) })), 'DISK-FSYNC')!;
    expect(warn).toMatchObject({ severity: 'warning', title: 'slow disk: WAL fsync takes 50.0 ms (etcd wants a p99 under 10 ms)' });
    expect(warn.details).toEqual(["50.0 ms is within --heartbeat-interval 100 ms but above etcd's 10 ms target"]);
    expect(warn.evidence).toEqual(['etcd_disk_wal_fsync_duration_seconds: 500 syncs, mean 25.0 ms, p50 ≈ 25.0 ms, p99 ≈ 50.0 ms']);
    expect(warn.facts).toEqual({ fsyncSeconds: 0.05, p50: 0.025, p99: 0.05, heartbeatMs: 100, electionMs: 1000 });
    expect(warn.fix).toBe("put /var/lib/etcd on a low-latency SSD (or --wal-dir on one); stop other IO on that disk; or 'hardway tune' to fit the timeouts to this disk");
    const over = byId(one(member(0, { disk: metrics(0.1001) })), 'DISK-FSYNC')!;
    expect(over.severity).toBe('error');
    expect(over.details).toEqual(['100.1 ms exceeds --heartbeat-interval 100 ms: heartbeats go out late and followers start elections']);
    expect(byId(one(member(0, { disk: metrics(0.1) })), 'DISK-FSYNC')!.severity).toBe('warning');
  });

  it("the fsync evidence says where it comes from: etcd's log of syncs over 1 s, or a probe of the data dir", () => {
    const logged = byId(one(member(0, { disk: { journal: { p50: 1.5, max: 2.25, samples: 3 } } })), 'DISK-FSYNC')!;
    expect(logged.evidence).toEqual(["etcd logged 3 WAL syncs over 1 s ('sync duration of …'): median 1.50 s, max 2.25 s"]);
    expect(logged.title).toBe('slow disk: WAL fsync takes 1.50 s (etcd wants a p99 under 10 ms)');
    const probed = byId(one(member(0, { disk: { probe: { method: 'dd oflag=dsync', p50: 0.004, p99: 0.02, samples: 200 } } })), 'DISK-FSYNC')!;
    expect(probed.evidence).toEqual(['fsync probe (dd oflag=dsync) on /var/lib/etcd: p50 4.00 ms, p99 20.0 ms over 200 writes']);
    expect(memberFsync(member(0, { disk: { probe: { method: 'fio', p50: 0.004, p99: 0.02, samples: 200 } } }))).toEqual({ seconds: 0.02, source: 'fsync probe (fio, p99)' });
    expect(memberFsync(member(0, { disk: { journal: { p50: 1.5, max: 2.25, samples: 3 } } }))).toEqual({ seconds: 1.5, source: "etcd's log (3 syncs over 1 s)" });
    expect(memberFsync(member(0, { disk: { walFsync: { p50: 0.001, p99: 0.002, count: 7 } } }))).toEqual({ seconds: 0.002, source: 'etcd metrics (7 WAL syncs)' });
    expect(memberFsync(member(0))).toBeUndefined();
    const bucket = byId(one(member(0, { disk: { walFsync: { p50: 0.02, p99: 0.06, count: 10, p99Low: 0.032 } } })), 'DISK-FSYNC')!;
    expect(bucket.evidence[0]).toBe('etcd_disk_wal_fsync_duration_seconds: 10 syncs, mean 20.0 ms, p50 ≈ 20.0 ms, p99 ≈ 60.0 ms (in the bucket above 32.0 ms)');
  });

  it("etcd's log of slow syncs: the median and the longest, for members without metrics only", () => {
    const syncs = parseJournal(
      [2.5, 1.2, 3.1, 1.8].map((s, i) => `Nov 23 10:00:0${i} controller-0 etcd[1]: sync duration of ${s}s, expected less than 1s`).join('\n'),
      { year: 2026 },
    );
    const fx = facts([member(0, { entries: syncs }), member(1, { entries: syncs, disk: { walFsync: { p50: 0.001, p99: 0.002, count: 7 } } })]);
    addJournalSyncs(fx);
    expect(fx.members[0]!.disk?.journal).toEqual({ p50: 2.5, max: 3.1, samples: 4 });
    expect(fx.members[1]!.disk?.journal).toBeUndefined();
  });

  it('backend commit over 25 ms, and a peer round trip over the heartbeat interval, are warnings', () => {
    const f = one(member(0, { disk: { backendCommit: { p50: 0.01, p99: 0.04, count: 120 }, peerRttP99: 0.15 } }));
    expect(byId(f, 'DISK-COMMIT')).toMatchObject({ severity: 'warning', title: 'slow backend commit: p99 40.0 ms (etcd wants < 25 ms)', evidence: ['etcd_disk_backend_commit_duration_seconds p99 40.0 ms over 120'] });
    // A p99 of fewer than MIN_P99_SAMPLES commits is their maximum: a note.
    expect(byId(one(member(0, { disk: { backendCommit: { p50: 0.01, p99: 0.04, count: 90 } } })), 'DISK-COMMIT')?.severity).toBe('info');
    expect(byId(f, 'NET-RTT')).toMatchObject({ severity: 'warning', title: 'peer round trip p99 150.0 ms exceeds the heartbeat interval (100 ms)', evidence: ['etcd_network_peer_round_trip_time_seconds p99 150.0 ms'] });
    const fine = one(member(0, { disk: { backendCommit: { p50: 0.01, p99: 0.025, count: 90 }, peerRttP99: 0.1 } }));
    expect([byId(fine, 'DISK-COMMIT'), byId(fine, 'NET-RTT')]).toEqual([undefined, undefined]);
  });

  it('the data dir: 700 or absent (-) is right, anything else is named', () => {
    for (const mode of ['700', '-']) expect(byId(one(member(0, { dataDirMode: mode })), 'DATA-PERM'), mode).toBeUndefined();
    expect(byId(one(member(0, { dataDirMode: '750' })), 'DATA-PERM')).toMatchObject({ title: 'data dir mode 750, not 700', evidence: ['stat -c %a /var/lib/etcd → 750'] });
  });

  it('a clock more than 500 ms off warns, more than 1 s is an error; ahead or behind, rounded', () => {
    expect(byId(one(member(0, { clockOffsetMs: 500 })), 'CLOCK')).toBeUndefined();
    expect(byId(one(member(0, { clockOffsetMs: -500 })), 'CLOCK')).toBeUndefined();
    expect(byId(one(member(0, { clockOffsetMs: -700.6 })), 'CLOCK')).toMatchObject({ severity: 'warning', title: 'clock behind by 701 ms', evidence: ["node clock − this machine's clock = -701 ms"] });
    expect(byId(one(member(0, { clockOffsetMs: 1000 })), 'CLOCK')!.severity).toBe('warning');
    expect(byId(one(member(0, { clockOffsetMs: -1001 })), 'CLOCK')!.severity).toBe('error');
  });

  it('a peer port not answering: a firewall when etcd is active there, else etcd is down there', () => {
    const down = member(1, { systemd: { ...sd, active: 'failed' } });
    const f = diagnoseCluster(inv, facts([member(0, { ports: { '10.240.0.11:2380': false, '10.240.0.12:2379': false, '10.9.9.9:2380': false } }), down, member(2)]));
    const ports = f.filter((x) => x.id === 'PEER-PORT');
    expect(ports.map((p) => [p.severity, p.title, p.fix])).toEqual([
      ['error', 'cannot connect to 10.240.0.12:2379 (controller-2)', 'open TCP 2379 between the control-plane nodes (e.g. ufw allow from <subnet> to any port 2379,2380)'],
      ['warning', 'cannot connect to 10.240.0.11:2380 (controller-1)', 'start etcd on controller-1'],
      ['warning', 'cannot connect to 10.9.9.9:2380', 'start etcd on 10.9.9.9:2380'],
    ]);
    expect(ports[0]!.evidence).toEqual(['TCP connect from controller-0 to 10.240.0.12:2379 failed while etcd on controller-2 is active']);
    expect(ports[0]!.meaning).toBe('a firewall or routing problem between members');
    expect(ports[1]!.evidence).toEqual(['TCP connect from controller-0 to 10.240.0.11:2380 failed']);
    expect(ports[1]!.meaning).toBe('nothing listens there (etcd down on that node?)');
  });

  it('a missing pki.dir next to nodes holding certificates is said once, by CERT-LOCAL; the same problem twice is one finding', () => {
    const local: CertProblem = { check: 'local', severity: 'error', message: 'pki.dir /x/pki does not exist', fix: 'copy it back' };
    const f = diagnoseCluster(inv, { ...facts([member(0)]), pkiProblems: ['/x/pki/ca.pem does not exist (run hardway pki)', 'a SAN is missing', 'a SAN is missing'], certs: [local] });
    expect(f.filter((x) => x.id === 'TLS-SAN').map((x) => x.evidence[0])).toEqual(['a SAN is missing']);
    expect(f.filter((x) => x.id === 'CERT-LOCAL')).toHaveLength(1);
    const noLocal = diagnoseCluster(inv, { ...facts([member(0)]), pkiProblems: ['/x/pki/ca.pem does not exist (run hardway pki)'] });
    expect(noLocal.map((x) => x.id)).toEqual(['TLS-SAN']);
  });

  it('an election loop without a slow disk points at disk, network and load; with no status answer, says so', () => {
    // Its disk measured fast (metrics): the journal's slow syncs are not taken then.
    const f = diagnoseCluster(inv, facts([member(0, { entries: loopJournal, disk: { walFsync: { p50: 0.001, p99: 0.002, count: 9 } } })]));
    const loop = byId(f, 'ELECT-LOOP')!;
    expect(loop.title).toBe('election loop');
    expect(loop.details).toHaveLength(1);
    expect(loop.details[0]).toMatch(/; endpoint status: no answer \(members busy electing\)$/);
    expect(loop.fix).toBe('check the disk (fsync p99 < 10 ms), the network between members and CPU load; see the findings above');
    expect(loop.meaning).toBe('members keep electing and never keep a leader: the cluster accepts no writes');
    expect(loop.facts).toMatchObject({ elections: 12, termStart: 1, termEnd: 13 });
    expect(loop.facts).not.toHaveProperty('liveTermFrom');
  });

  it('a leader that is unknown (empty or 0) in every answer is a leaderless sample', () => {
    expect(termMovement([{ at: at(0), status: [status(4, '0')] }, { at: at(3), status: [status(4, '')] }])).toEqual({ from: 4, to: 4, seconds: 3, leaderless: true });
    expect(termMovement([{ at: at(0), status: [status(4, '0'), { ...status(5), memberId: 'a2' }] }, { at: at(3), status: [status(4)] }])).toEqual({ from: 5, to: 4, seconds: 3, leaderless: false });
    expect(termMovement([{ at: at(0), status: [status(4)] }])).toBeUndefined();
  });
});

describe('doctor-cluster: what each finding says and whom it is about', () => {
  const byId = (fs: ReturnType<typeof diagnoseCluster>, id: string) => fs.find((f) => f.id === id)!;
  const judge = (m: MemberFacts, extra: Partial<DoctorFacts> = {}) => diagnoseCluster(inv, { ...facts([m, member(1), member(2)]), ...extra });

  it("each member finding is about that member, with etcd's guidance as its cause and a concrete fix", () => {
    const f = judge(member(0, { disk: { walFsync: { p50: 0.01, p99: 0.05, count: 9 }, backendCommit: { p50: 0.01, p99: 0.03, count: 4 }, peerRttP99: 0.2 }, dataDirMode: '755', clockOffsetMs: 800 }));
    for (const id of ['DISK-FSYNC', 'DISK-COMMIT', 'NET-RTT', 'DATA-PERM', 'CLOCK']) expect(byId(f, id).hosts, id).toEqual(['controller-0']);
    expect(byId(f, 'DISK-FSYNC').meaning).toBe('every write waits for the WAL fdatasync; a slow disk delays heartbeats and causes elections');
    expect(byId(f, 'DISK-COMMIT')).toMatchObject({ meaning: 'applying writes to the database is slow: the disk, or a large DB needing defrag', fix: 'a faster disk; etcdctl defrag on a large DB' });
    expect(byId(f, 'NET-RTT')).toMatchObject({ meaning: 'heartbeats take longer than their interval', fix: "'hardway tune' sets --heartbeat-interval to about the round trip and --election-timeout to 10× it" });
    expect(byId(f, 'DATA-PERM')).toMatchObject({ severity: 'warning', meaning: 'etcd ≥ 3.4.10 warns ("check file permission") and others on the node can read the keyspace' });
    expect(byId(f, 'CLOCK')).toMatchObject({ meaning: 'etcd warns about clock differences over 1 s between peers; leases and TLS validity depend on time', fix: 'run an NTP client (systemd-timesyncd or chrony) on every node' });
    const ssh = byId(judge(member(0, { reachable: false, error: 'x' })), 'SSH');
    expect([ssh.title, ssh.meaning]).toEqual(['not observed: no SSH connection', 'hardway cannot look at this node: nothing is known about its member from here (it may be running)']);
    const san = byId(judge(member(0), { pkiProblems: ['kubernetes.pem lacks 10.240.0.12'] }), 'TLS-SAN');
    expect(san).toMatchObject({ severity: 'error', title: 'certificate problem', hosts: [], meaning: 'members or clients will reject the TLS handshake', fix: "'hardway pki' reissues kubernetes.pem, then 'hardway up' ships it" });
  });

  it('durations: a second or more in seconds, under 10 ms with two decimals, else one', () => {
    const title = (p99: number) => byId(judge(member(0, { disk: { backendCommit: { p50: 0, p99, count: 1 } } })), 'DISK-COMMIT').title;
    expect([title(1), title(0.5), title(0.026)]).toEqual([
      'slow backend commit: p99 1.00 s (etcd wants < 25 ms)', 'slow backend commit: p99 500.0 ms (etcd wants < 25 ms)', 'slow backend commit: p99 26.0 ms (etcd wants < 25 ms)',
    ]);
    expect(byId(judge(member(0, { disk: { walFsync: { p50: 0.01, p99: 0.011, count: 1, mean: 0.012, p99Low: 0.0099 } } })), 'DISK-FSYNC').evidence[0]).toMatch(/mean 12\.0 ms, p50 ≈ 10\.0 ms, p99 ≈ 11\.0 ms \(in the bucket above 9\.90 ms\)$/);
  });

  it('the slowest disk of all members is the cause named for a loop, and only when over the heartbeat interval', () => {
    const live = [{ at: at(0), status: [status(7, '')] }, { at: at(4), status: [status(9, '')] }];
    const f = diagnoseCluster(inv, facts([member(0, { entries: loopJournal, disk: { walFsync: { p50: 0.2, p99: 0.3, count: 5 } } }), member(1, { disk: { walFsync: { p50: 0.5, p99: 0.9, count: 5 } } }), member(2)], live));
    expect(byId(f, 'ELECT-LOOP').details[1]).toMatch(/^cause: slow disk: WAL fsync 900\.0 ms on controller-1 is over the heartbeat interval \(100 ms\)/);
    expect(byId(f, 'ELECT-LOOP').fix).toMatch(/^move \/var\/lib\/etcd to a faster disk, or run 'hardway tune'/);
    const atInterval = diagnoseCluster(inv, facts([member(0, { entries: loopJournal, disk: { walFsync: { p50: 0.05, p99: 0.1, count: 5 } } })], live));
    expect(byId(atInterval, 'ELECT-LOOP').title).toBe('election loop');
  });

  it("a journal's loop confirmed by the live term, or repeated elections while a leader holds; its hosts and last three lines", () => {
    const climbing = [{ at: at(0), status: [status(7)] }, { at: at(4), status: [status(9)] }];
    const loop = byId(diagnoseCluster(inv, facts([member(0, { entries: loopJournal, disk: { walFsync: { p50: 0.001, p99: 0.002, count: 5 } } })], climbing)), 'ELECT-LOOP');
    expect(loop.hosts).toEqual(['controller-0']);
    expect(loop.evidence).toHaveLength(3);
    expect(loop.facts).toMatchObject({ liveTermFrom: 7, liveTermTo: 9 });
    expect(loop.details[0]).toMatch(/; endpoint status over 4 s: term 7 → 9$/);
    const holding = [{ at: at(0), status: [status(13)] }, { at: at(4), status: [status(13)] }];
    const flap = byId(diagnoseCluster(inv, facts([member(0, { entries: loopJournal })], holding)), 'ELECT-FLAP');
    expect(flap).toMatchObject({ severity: 'warning', title: expect.stringMatching(/^\d+ elections in \d+ s \(a leader exists now\)$/), meaning: 'leaders changed often recently', hosts: ['controller-0'] });
  });

  it('elections that climb three a minute with no stable leader are a loop even when the analysis saw a leader win', () => {
    const raft = (s: number, msg: string) => `Nov 23 10:00:${String(s).padStart(2, '0')} controller-0 etcd[7]: raft2026/11/23 10:00:${String(s).padStart(2, '0')} INFO: ${msg}`;
    const entries = parseJournal([raft(0, 'a1 is starting a new election at term 1'), raft(2, 'a1 is starting a new election at term 2'), raft(4, 'a1 is starting a new election at term 3'), raft(5, 'a1 became leader at term 3')].join('\n'), { year: 2026 });
    const f = diagnoseCluster(inv, facts([member(0, { entries, disk: { walFsync: { p50: 0.001, p99: 0.002, count: 5 } } })]));
    expect(byId(f, 'ELECT-LOOP').details[0]).toMatch(/^3 elections in 5 s of journal \(peak 3\/min\), term 1 → 3, no stable leader; endpoint status: no answer/);
    // The same elections with the leader stable for a while after: not a loop, and no finding at all from the journal.
    const settled = parseJournal([raft(0, 'a1 is starting a new election at term 1'), raft(2, 'a1 is starting a new election at term 2'), raft(4, 'a1 is starting a new election at term 3'), raft(5, 'a1 became leader at term 3'), raft(59, 'a1 [term: 3] received MsgHeartbeat')].join('\n'), { year: 2026 });
    expect(diagnoseCluster(inv, facts([member(0, { entries: settled, disk: { walFsync: { p50: 0.001, p99: 0.002, count: 5 } } })])).filter((x) => x.id.startsWith('ELECT'))).toEqual([]);
  });

  it('a sample counts as leaderless when every answer has no leader or leader 0, in any sample', () => {
    expect(termMovement([{ at: at(0), status: [status(4)] }, { at: at(3), status: [status(4, '0'), { ...status(4, '0'), memberId: 'a2' }] }])?.leaderless).toBe(true);
  });

  it("slow syncs come from etcd's sync lines only", () => {
    const lines = parseJournal(['Nov 23 10:00:01 c0 etcd[1]: sync duration of 2s, expected less than 1s', 'Nov 23 10:00:02 c0 etcd[1]: read-only range request "k" took too long (3s) to execute'].join('\n'), { year: 2026 });
    const fx = facts([member(0, { entries: lines })]);
    addJournalSyncs(fx);
    expect(fx.members[0]!.disk?.journal).toEqual({ p50: 2, max: 2, samples: 1 });
  });

  it('a closed port towards a member outside the inventory, or one without systemd facts, is a warning, not a crash', () => {
    const stranger = { ...member(1), node: 'elsewhere' };
    const f = diagnoseCluster(inv, facts([member(0, { ports: { '10.240.0.11:2380': false } }), stranger, { ...member(2), systemd: undefined }]));
    expect(byId(f, 'PEER-PORT')).toMatchObject({ severity: 'warning', title: 'cannot connect to 10.240.0.11:2380' });
    const noSystemd = diagnoseCluster(inv, facts([member(0, { ports: { '10.240.0.12:2380': false } }), member(1), { ...member(2), systemd: undefined }]));
    expect(byId(noSystemd, 'PEER-PORT')).toMatchObject({ severity: 'warning', fix: 'start etcd on controller-2' });
  });

  it('a problem with one node\'s local certificates does not hide a missing pki.dir; a problem of every node names no host', () => {
    const local: CertProblem = { check: 'local', node: 'controller-1', severity: 'error', message: 'not the same file', fix: 'f' };
    const f = diagnoseCluster(inv, { ...facts([member(0)]), pkiProblems: ['/x/pki/ca.pem does not exist (run hardway pki)'], certs: [local] });
    expect(f.map((x) => x.id).sort()).toEqual(['CERT-LOCAL', 'TLS-SAN']);
    const every: CertProblem = { check: 'trust', severity: 'error', message: 'the CA changed', fix: 'g' };
    expect(certFinding(every)).toMatchObject({ hosts: [], evidence: ['every node: the CA changed'], details: ['the CA changed'] });
    expect(certFinding(local).evidence).toEqual(['controller-1: not the same file']);
  });

  it('untrusted or uncovering certificates are a cause of no quorum too, each fix once, in order', () => {
    const lead = { id: 'CLUSTER', severity: 'error' as const, title: 't', count: 1, hosts: [], evidence: [], facts: {}, details: ['d'], meaning: 'm', fix: 'x' };
    const trust: CertProblem = { check: 'trust', severity: 'error', message: 'm1', fix: 'fix trust' };
    const san: CertProblem = { check: 'san', node: 'controller-1', severity: 'error', message: 'm2', fix: 'fix san' };
    const usage: CertProblem = { check: 'usage', node: 'controller-1', severity: 'error', message: 'm3', fix: 'fix usage' };
    const got = withCertCause(lead, [trust, san, { ...san, node: 'controller-2' }, usage]);
    expect(got.fix).toBe('fix trust; fix san');
    expect(got.details.at(-1)).toBe("the members refuse each other's certificates (CERT-TRUST, CERT-SAN below): every new connection between them fails, so no quorum forms whatever runs");
    expect(withCertCause(lead, [usage])).toBe(lead);
  });

  it('titles of the conditions a person meets: no leader, two clusters, none running', () => {
    const url = (i: number) => `https://10.240.0.${10 + i}:2380`;
    const n = (i: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({ node: `controller-${i}`, peerUrl: url(i), observed: true, active: false, hasData: true, wal: { memberId: `a${i}`, clusterId: 'c1' }, ...extra });
    expect(conditionFinding(clusterCondition({ nodes: [n(0), n(1)] }))!.title).toBe('no member runs');
    expect(conditionFinding(clusterCondition({ nodes: [n(0), n(1, { wal: { memberId: 'b', clusterId: 'c2' } })] }))!.title).toBe('the nodes hold two clusters');
    expect(conditionFinding(clusterCondition({ nodes: [n(0, { active: true }), n(1, { active: true }), n(2, { active: true })] }))!.title).toBe('no leader: the members run but none answers');
  });
});

describe('an active NOSPACE alarm, from the last status sample that answered', () => {
  const ERR = 'memberID:14345410872984472670 alarm:NOSPACE ';
  const st = (i: number, errors: string[] = [], extra: Partial<EndpointStatus> = {}): EndpointStatus => ({ ...status(2), endpoint: `https://10.240.0.${10 + i}:2379`, memberId: `a${i}`, dbSize: 2_150_000, errors, ...extra });
  const journal = { id: 'SPACE-01', severity: 'error' as const, title: 'j', count: 1, hosts: ['controller-2'], evidence: ['old line', 'last line'], facts: {}, details: [], meaning: 'm', fix: 'f' };
  const other = { ...journal, id: 'DISK-01', hosts: ['controller-0'] };

  it('names the members whose status carries it, the sizes, and keeps the journal\'s last line; other findings stay', () => {
    const out = withLiveNospace(inv, [journal, other], { statusSamples: [{ at: at(0), status: [st(0), st(1, [ERR]), st(2, [' '])] }] });
    expect(out.map((f) => f.id)).toEqual(['SPACE-01', 'DISK-01']);
    const f = out[0]!;
    expect(f.hosts).toEqual(['controller-1', 'controller-2']);
    expect(f.evidence).toEqual([
      'endpoint status https://10.240.0.10:2379: db 2.1 MB, no errors',
      `endpoint status https://10.240.0.11:2379: db 2.1 MB, ${ERR.trim()}`,
      'endpoint status https://10.240.0.12:2379: db 2.1 MB, no errors',
      'last line',
    ]);
    expect(f.facts).toEqual({ raisedBy: 'c715232f09440c5e' });
    expect(f.details).toEqual(["raised by c715232f09440c5e; writes fail with 'mvcc: database space exceeded' until it is disarmed"]);
    expect(f.ref).toBe(signatureById('SPACE-01')!.ref);
  });

  it('a member raising it is named by its node when its status answered, by endpoint whatever the scheme', () => {
    const f = withLiveNospace(inv, [], { statusSamples: [{ at: at(0), status: [st(0, [ERR], { memberId: 'c715232f09440c5e', endpoint: 'http://10.240.0.10:2379' }), st(1, [ERR.replace('14345410872984472670', '1')])] }] })[0]!;
    expect(f.details[0]).toMatch(/^raised by controller-0 \(c715232f09440c5e\), 1;/);
    expect(f.facts).toEqual({ raisedBy: 'c715232f09440c5e,1' });
    expect(f.hosts).toEqual(['controller-0', 'controller-1']);
  });

  it('the last sample that answered decides; another alarm is not NOSPACE', () => {
    const raised = { at: at(0), status: [st(0, [ERR])] };
    const cleared = { at: at(2), status: [st(0)] };
    expect(withLiveNospace(inv, [other], { statusSamples: [raised, cleared] })).toEqual([other]);
    expect(withLiveNospace(inv, [other], { statusSamples: [cleared, raised] })).toHaveLength(2);
    expect(withLiveNospace(inv, [other], { statusSamples: [raised, { at: at(4), status: [] }] })).toHaveLength(2);
    expect(withLiveNospace(inv, [other], { statusSamples: [{ at: at(0), status: [st(0, [ERR.replace('NOSPACE', 'CORRUPT')])] }] })).toEqual([other]);
  });
});
