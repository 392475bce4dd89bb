/**
 * What verify and doctor conclude must hold now: a leadership transfer is no election, a peer refused minutes ago
 * and connected now is history, a p99 of a handful of samples is no verdict, and no node observed is never a
 * verdict about the cluster. The journal lines are etcd 3.4's own, from the lab (two `leader move`s, a member
 * stopped and started).
 */
import { describe, expect, it } from 'vitest';
import { checkPasses, endCheck } from '../../src/commands/check-outcome.js';
import { failHost, newHosts, notObserved } from '../../src/engine/hosts.js';
import { EXIT_FAILED, EXIT_USAGE, HardwayError } from '../../src/errors.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { SshConnectError } from '../../src/ssh/ssh2-remote.js';
import { diagnose, judgeNow, PROBER_LAG_MS, type Finding } from '../../src/journal/diagnose.js';
import { diagnoseCluster, MIN_P99_SAMPLES, type MemberFacts } from '../../src/doctor/cluster.js';
import { analyzeElections, transferTerms } from '../../src/journal/elections.js';
import { parseJournal } from '../../src/journal/parse.js';

const journal = (text: string) => parseJournal(text.trim().replace(/^\s+/gm, ''), { year: 2026 });

// controller-0 led at term 2 and handed over twice (`hardway leader move` ×2): to 3a57… at term 3, back at term 4.
const leaderSide = journal(`
  Dec 07 13:58:34 controller-0 etcd[145]: f98dc20bce6225a0 starts leadership transfer from f98dc20bce6225a0 to 3a57933972cb5131
  Dec 07 13:58:34 controller-0 etcd[145]: raft2026/12/07 13:58:34 INFO: f98dc20bce6225a0 [term 2] starts to transfer leadership to 3a57933972cb5131
  Dec 07 13:58:34 controller-0 etcd[145]: raft2026/12/07 13:58:34 INFO: f98dc20bce6225a0 became follower at term 3
  Dec 07 13:58:34 controller-0 etcd[145]: raft2026/12/07 13:58:34 INFO: raft.node: f98dc20bce6225a0 lost leader f98dc20bce6225a0 at term 3
  Dec 07 13:58:34 controller-0 etcd[145]: raft2026/12/07 13:58:34 INFO: raft.node: f98dc20bce6225a0 elected leader 3a57933972cb5131 at term 3
  Dec 07 13:58:35 controller-0 etcd[145]: raft2026/12/07 13:58:35 INFO: f98dc20bce6225a0 [term 3] received MsgTimeoutNow from 3a57933972cb5131 and starts an election to get leadership.
  Dec 07 13:58:35 controller-0 etcd[145]: raft2026/12/07 13:58:35 INFO: f98dc20bce6225a0 became candidate at term 4
  Dec 07 13:58:35 controller-0 etcd[145]: raft2026/12/07 13:58:35 INFO: raft.node: f98dc20bce6225a0 lost leader 3a57933972cb5131 at term 4
  Dec 07 13:58:35 controller-0 etcd[145]: raft2026/12/07 13:58:35 INFO: f98dc20bce6225a0 became leader at term 4
  Dec 07 13:58:35 controller-0 etcd[145]: raft2026/12/07 13:58:35 INFO: raft.node: f98dc20bce6225a0 elected leader f98dc20bce6225a0 at term 4
`);
// controller-1 only saw votes and leader changes: nothing in its own journal says "transfer".
const bystander = journal(`
  Dec 07 13:58:34 controller-1 etcd[295]: raft2026/12/07 13:58:34 INFO: ffed16798470cab5 became follower at term 3
  Dec 07 13:58:34 controller-1 etcd[295]: raft2026/12/07 13:58:34 INFO: raft.node: ffed16798470cab5 lost leader f98dc20bce6225a0 at term 3
  Dec 07 13:58:34 controller-1 etcd[295]: raft2026/12/07 13:58:34 INFO: raft.node: ffed16798470cab5 elected leader 3a57933972cb5131 at term 3
  Dec 07 13:58:35 controller-1 etcd[295]: raft2026/12/07 13:58:35 INFO: ffed16798470cab5 became follower at term 4
  Dec 07 13:58:35 controller-1 etcd[295]: raft2026/12/07 13:58:35 INFO: raft.node: ffed16798470cab5 lost leader 3a57933972cb5131 at term 4
  Dec 07 13:58:35 controller-1 etcd[295]: raft2026/12/07 13:58:35 INFO: raft.node: ffed16798470cab5 elected leader f98dc20bce6225a0 at term 4
`);

describe('leadership transfers are not elections', () => {
  it('finds the terms a transfer started, from the old leader and from the new one', () => {
    expect([...transferTerms(leaderSide)].sort()).toEqual([3, 4]);
    expect(transferTerms(bystander).size).toBe(0);
    // etcd 3.5+ logs raft's text as the zap message: the same words.
    const zap = journal(`{"level":"info","ts":"2026-12-07T13:58:34.100Z","logger":"raft","caller":"etcdserver/zap_raft.go:77","msg":"f98dc20bce6225a0 [term 7] starts to transfer leadership to 3a57933972cb5131"}`);
    expect([...transferTerms(zap)]).toEqual([8]);
  });

  it("a member that only saw two moves is not flapping once the other members' transfers are known", () => {
    // Alone, its journal looks like two leader losses within a second: flapping.
    expect(analyzeElections(bystander).flapping).toBe(true);
    const told = analyzeElections(bystander, { transferTerms: transferTerms(leaderSide) });
    expect(told.flapping).toBe(false);
    expect(told.transfers).toBe(2);
    // Who leads after the moves is still known.
    expect(told.leader?.id).toBe('f98dc20bce6225a0');
    expect(diagnose(bystander, { elections: { transferTerms: transferTerms(leaderSide) } }).findings).toEqual([]);
  });

  it("the old leader's own journal shows its transfers", () => {
    const a = analyzeElections(leaderSide);
    expect(a.flapping).toBe(false);
    expect(a.elections + a.candidacies).toBe(0);
    expect(a.transfers).toBe(2);
  });

  it('leader losses at other terms still count as flapping', () => {
    const real = journal(`
      Dec 07 14:00:01 controller-1 etcd[295]: raft2026/12/07 14:00:01 INFO: raft.node: ffed16798470cab5 lost leader f98dc20bce6225a0 at term 5
      Dec 07 14:00:02 controller-1 etcd[295]: raft2026/12/07 14:00:02 INFO: raft.node: ffed16798470cab5 elected leader 3a57933972cb5131 at term 5
      Dec 07 14:00:20 controller-1 etcd[295]: raft2026/12/07 14:00:20 INFO: raft.node: ffed16798470cab5 lost leader 3a57933972cb5131 at term 6
      Dec 07 14:00:21 controller-1 etcd[295]: raft2026/12/07 14:00:21 INFO: raft.node: ffed16798470cab5 elected leader f98dc20bce6225a0 at term 6
    `);
    const a = analyzeElections(real, { transferTerms: transferTerms(leaderSide) });
    expect(a.flapping).toBe(true);
    const flap = diagnose(real).findings.find((f) => f.id === 'ELECT-FLAP')!;
    expect(flap.severity).toBe('warning');
    // The figures are the leader changes the title is about, never "0 election(s)".
    expect(flap.details.join('\n')).toContain('2 leader loss(es)/change(s)');
    expect(flap.details.join('\n')).not.toMatch(/\b0 election/);
  });
});

// controller-0 while controller-2 (3a57…) was stopped and started again.
const refusedThenBack = (lagSeconds: number) =>
  journal(`
    Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused
    Dec 07 14:04:43 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused
    Dec 07 14:04:48 controller-0 etcd[145]: peer 3a57933972cb5131 became active
    Dec 07 14:04:48 controller-0 etcd[145]: established a TCP streaming connection with peer 3a57933972cb5131 (stream MsgApp v2 reader)
    Dec 07 14:${lagSeconds < 12 ? '04' : '05'}:${String((48 + lagSeconds) % 60).padStart(2, '0')} controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused
  `);

describe('a peer refused earlier and connected now is history', () => {
  it("lines up to the prober's lag after the peer became active are the same episode: a note, saying since when", () => {
    const f = diagnose(refusedThenBack(2)).findings;
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ id: 'PEER-01', severity: 'info' });
    expect(f[0]!.title).toMatch(/\(over since 2026-12-07 14:04:48\)$/);
    expect(f[0]!.resolved?.evidence).toMatch(/(became active|established a TCP streaming connection) with peer 3a57933972cb5131|peer 3a57933972cb5131 became active/);
  });

  it('a refusal well after the peer came back is a problem again', () => {
    expect(PROBER_LAG_MS).toBeLessThan(60_000);
    const f = diagnose(refusedThenBack(60)).findings;
    expect(f[0]).toMatchObject({ id: 'PEER-01', severity: 'warning' });
    expect(f[0]!.resolved).toBeUndefined();
  });

  it("another peer's return ends nothing", () => {
    const text = journal(`
      Dec 07 14:04:33 controller-0 etcd[145]: health check for peer 3a57933972cb5131 could not connect: dial tcp 10.240.0.12:2380: connect: connection refused
      Dec 07 14:04:48 controller-0 etcd[145]: peer ffed16798470cab5 became active
    `);
    expect(diagnose(text).findings[0]).toMatchObject({ id: 'PEER-01', severity: 'warning' });
  });

  it('the zap form ends it too (etcd 3.5+)', () => {
    const zap = journal(`
      {"level":"warn","ts":"2026-12-07T14:04:33.000Z","caller":"rafthttp/probing_status.go:68","msg":"prober detected unhealthy status","round-tripper-name":"ROUND_TRIPPER_RAFT_MESSAGE","remote-peer-id":"3a57933972cb5131","rtt":"0s","error":"dial tcp 10.240.0.12:2380: connect: connection refused"}
      {"level":"info","ts":"2026-12-07T14:04:48.000Z","caller":"rafthttp/peer_status.go:53","msg":"peer became active","peer-id":"3a57933972cb5131"}
    `);
    expect(diagnose(zap).findings[0]).toMatchObject({ id: 'PEER-01', severity: 'info' });
  });

  it('online, what is seen now decides over what the journal says', () => {
    const live = diagnose(refusedThenBack(60), { history: 'live' }).findings[0]!;
    expect(live.severity).toBe('warning');
    expect(judgeNow(live, () => 'controller-0 connects to 10.240.0.12:2380')).toMatchObject({ severity: 'info' });
    const endedInJournal = diagnose(refusedThenBack(2), { history: 'live' }).findings[0]!;
    expect(endedInJournal.severity).toBe('warning');
    expect(endedInJournal.resolved).toBeDefined();
    // Refused now: a problem, whatever the journal said.
    expect(judgeNow(endedInJournal, () => false)).toMatchObject({ severity: 'warning' });
    expect(judgeNow(endedInJournal, () => false).resolved).toBeUndefined();
    // Nothing known now: the journal's word.
    expect(judgeNow(endedInJournal, () => undefined)).toMatchObject({ severity: 'info' });
  });

  it('a peer answering now ends only what its return ends: late heartbeats to it are still a slow disk', () => {
    const late = journal(`
      Dec 07 16:50:46 controller-0 etcd[22018]: failed to send out heartbeat on time (exceeded the 100ms timeout for 1.001830205s, to 6217f31c7297113d)
      Dec 07 16:50:58 controller-0 etcd[22018]: failed to send out heartbeat on time (exceeded the 100ms timeout for 1.095808903s, to 6217f31c7297113d)
      Dec 07 16:51:06 controller-0 etcd[22018]: failed to send out heartbeat on time (exceeded the 100ms timeout for 1.084369053s, to 4a6f474674839a76)
    `);
    const f = diagnose(late, { history: 'live' }).findings.find((x) => x.id === 'DISK-03')!;
    expect(f.facts.peers).toBe('6217f31c7297113d, 4a6f474674839a76');
    const judged = judgeNow(f, (id) => `controller-0 connects to peer ${id}`);
    expect(judged.severity).toBe(f.severity);
    expect(judged.severity).not.toBe('info');
    expect(judged.title).toBe(f.title);
    expect(judged.resolved).toBeUndefined();
  });
});

const inv = validateInventory('nodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''), { file: '/i.yaml' }).inventory!;
const sd = { enabled: 'enabled', active: 'active', subState: 'running', restarts: 0, loadState: 'loaded' };
const member = (over: Partial<MemberFacts>): MemberFacts => ({ node: 'controller-0', reachable: true, entries: [], systemd: sd, dataDirMode: '700', clockOffsetMs: 3, ports: {}, ...over });
const severityOf = (findings: Finding[], id: string) => findings.find((f) => f.id === id)?.severity;

describe('a p99 needs samples', () => {
  const lat = (p99: number, count: number) => ({ p50: p99 / 2, p99, count, mean: p99 / 2 });
  it('over the target within the heartbeat: a warning with enough samples, a note with a handful', () => {
    const judge = (count: number) => diagnoseCluster(inv, { members: [member({ disk: { walFsync: lat(0.03, count), backendCommit: lat(0.05, count) } })], statusSamples: [], pkiProblems: [] });
    expect(severityOf(judge(MIN_P99_SAMPLES), 'DISK-FSYNC')).toBe('warning');
    expect(severityOf(judge(MIN_P99_SAMPLES), 'DISK-COMMIT')).toBe('warning');
    expect(severityOf(judge(6), 'DISK-FSYNC')).toBe('info');
    expect(severityOf(judge(6), 'DISK-COMMIT')).toBe('info');
  });
  it('over the heartbeat interval: an error whatever the count (the election loop needs no statistics)', () => {
    const f = diagnoseCluster(inv, { members: [member({ disk: { walFsync: lat(1.2, 6) } })], statusSamples: [], pkiProblems: [] });
    expect(severityOf(f, 'DISK-FSYNC')).toBe('error');
  });
});

describe('one rule from severity to exit code', () => {
  it('errors fail; warnings fail only with --strict', () => {
    expect(checkPasses({ errors: 0, warnings: 3 })).toBe(true);
    expect(checkPasses({ errors: 0, warnings: 3 }, true)).toBe(false);
    expect(checkPasses({ errors: 1, warnings: 0 })).toBe(false);
    expect(() => endCheck('verify', { errors: 0, warnings: 2 }, false)).not.toThrow();
    expect(() => endCheck('verify', { errors: 0, warnings: 2 }, true)).toThrow('verify: 2 warnings (--strict: warnings fail)');
    try {
      endCheck('doctor', { errors: 1, warnings: 1 }, false, 'on controller-1');
      expect.unreachable();
    } catch (e) {
      expect((e as HardwayError).exitCode).toBe(EXIT_FAILED);
      expect((e as Error).message).toBe('doctor: 1 error, 1 warning on controller-1');
    }
  });
});

describe('no node observed is no verdict about the cluster', () => {
  const failed = (causes: Error[]) => {
    const hosts = newHosts(inv.nodes);
    hosts.forEach((h, i) => failHost(h, causes[i]));
    return notObserved(inv, hosts);
  };
  it("a key every node refuses: exit 2, one line naming the key and the nodes, pointing at the inventory's ssh settings", () => {
    const e = failed(inv.nodes.map((n) => new SshConnectError(`${n.name} (${n.internalIp}:22): authentication failed: key /k/id not accepted for user root`, true)));
    expect(e.exitCode).toBe(EXIT_USAGE);
    expect(e.message).toContain('controller-0, controller-1, controller-2: authentication failed: key /k/id not accepted for user root');
    expect(e.message).toContain('/i.yaml: ssh.identityFile');
    expect(e.message).not.toMatch(/quorum|down/i);
  });
  it('nodes that do not answer (sshd stopped, host down): exit 1, the cluster could not be observed', () => {
    const e = failed([new SshConnectError('controller-0 (10.240.0.10:22): connection refused (is sshd running?)', false), ...inv.nodes.slice(1).map((n) => new SshConnectError(`${n.name} (${n.internalIp}:22): authentication failed: key /k not accepted for user root`, true))]);
    expect(e.exitCode).toBe(EXIT_FAILED);
    expect(e.message).toMatch(/^the cluster could not be observed/);
    expect(e.message).toContain('controller-0: connection refused');
  });
});

describe("etcd's single outliers", () => {
  const slowApply = (n: number) =>
    journal(
      Array.from({ length: n }, (_, i) => `Dec 07 14:10:0${i} controller-0 etcd[145]: read-only range request "key:\\"/registry/x\\" " with result "range_response_count:0 size:5" took too long (144.3ms) to execute`).join('\n'),
    );
  it('one slow apply on a busy machine is a note; three are a warning', () => {
    expect(diagnose(slowApply(1)).findings[0]).toMatchObject({ id: 'DISK-02', severity: 'info' });
    expect(diagnose(slowApply(3)).findings[0]).toMatchObject({ id: 'DISK-02', severity: 'warning' });
  });
});

describe("the cluster's condition names members in one order", () => {
  it("in the inventory's order, whatever order etcd lists its members in", async () => {
    const { clusterCondition } = await import('../../src/cluster/condition.js');
    const url = (i: number) => `https://10.0.0.${10 + i}:2380`;
    const node = (i: number, extra: object = {}) => ({ node: `c${i}`, peerUrl: url(i), observed: true, active: true, hasData: true, wal: { memberId: `m${i}`, clusterId: 'c1' }, ...extra });
    const nodes = [node(0, { revision: 41 }), node(1, { hasData: false }), node(2, { hasData: false })];
    // etcd lists members by ID: here c2's before c1's.
    const members = [2, 0, 1].map((i) => ({ id: `m${i}`, name: `c${i}`, peerURLs: [url(i)], clientURLs: [url(i).replace('2380', '2379')], isLearner: false }));
    const c = clusterCondition({ nodes, live: { clusterId: 'c1', members, healthy: [] } });
    expect(c.headline).toContain('c1 and c2 have empty data dirs');
    expect(c.members.map((m) => m.name)).toEqual(['c0', 'c1', 'c2']);
  });
});
