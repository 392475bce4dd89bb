import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { memberProblems, quorumSummary, statusProblems, systemdProblems, verifyVerdict, type ClusterFacts } from '../../src/verify/checks.js';
import type { EndpointStatus, MemberInfo } from '../../src/etcd/etcdctl.js';
import { parseSystemdState } from '../../src/node/unit-state.js';
import { parseCheckPerf } from '../../src/etcd/perf.js';

const inv = validateInventory(
  'nodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''),
  { file: '/i.yaml' },
).inventory!;

const member = (i: number, extra: Partial<MemberInfo> = {}): MemberInfo => ({
  id: `a${i}`,
  name: `controller-${i}`,
  peerURLs: [`https://10.240.0.${10 + i}:2380`],
  clientURLs: [`https://10.240.0.${10 + i}:2379`],
  isLearner: false,
  started: true,
  ...extra,
});
const status = (i: number, extra: Partial<EndpointStatus> = {}): EndpointStatus => ({
  endpoint: `https://10.240.0.${10 + i}:2379`,
  memberId: `a${i}`,
  version: '3.4.23',
  dbSize: 20480,
  leader: 'a0',
  isLeader: i === 0,
  raftTerm: 2,
  raftIndex: 10,
  raftAppliedIndex: 10,
  errors: [],
  isLearner: false,
  revision: 100,
  clusterId: 'c1',
  ...extra,
});
const healthy = (i: number, health = true) => ({ endpoint: `https://10.240.0.${10 + i}:2379`, health, took: '10ms', ...(health ? {} : { error: 'context deadline exceeded' }) });
const sd = { enabled: 'enabled', active: 'active', subState: 'running', restarts: 0, loadState: 'loaded' };

function facts(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    members: [0, 1, 2].map((i) => member(i)),
    status: [0, 1, 2].map((i) => ({ endpoint: status(i).endpoint, status: status(i) })),
    health: [0, 1, 2].map((i) => healthy(i)),
    nodes: [0, 1, 2].map((i) => ({ node: `controller-${i}`, reachable: true, systemd: sd })),
    ...over,
  };
}

describe('verify verdicts', () => {
  it('passes a healthy cluster', () => {
    const v = verifyVerdict(inv, facts());
    expect(v.problems).toEqual([]);
    expect(v.quorum.text).toMatch(/^3\/3 healthy: can survive 1 more failure /);
  });

  it('reports 2/3 surviving 0 more failures when one member is down', () => {
    const v = verifyVerdict(
      inv,
      facts({
        health: [healthy(0), healthy(1), healthy(2, false)],
        status: [0, 1].map((i) => ({ endpoint: status(i).endpoint, status: status(i) })).concat([{ endpoint: status(2).endpoint, error: 'context deadline exceeded' } as never]),
        nodes: [0, 1, 2].map((i) => ({ node: `controller-${i}`, reachable: true, systemd: i === 2 ? { ...sd, active: 'inactive', subState: 'dead' } : sd })),
      }),
    );
    expect(v.quorum).toMatchObject({ healthy: 2, total: 3, canLose: 0 });
    expect(v.quorum.text).toMatch(/^2\/3 healthy: can survive 0 more failures/);
    const names = new Set(v.problems.map((p) => p.node));
    expect(names).toEqual(new Set(['controller-2']));
    expect(v.problems.map((p) => p.check).sort()).toEqual(['health', 'status', 'systemd']);
  });

  it('reports lost quorum', () => {
    const v = verifyVerdict(inv, facts({ health: [healthy(0), healthy(1, false), healthy(2, false)] }));
    expect(v.quorum.canLose).toBe(-1);
    expect(v.problems.some((p) => p.check === 'quorum' && /NO QUORUM/.test(p.message))).toBe(true);
  });

  it('compares the member list with the inventory', () => {
    const probs = memberProblems(inv, [
      member(0),
      member(1, { clientURLs: ['https://10.9.9.9:2379'] }),
      { id: 'ff', name: '', peerURLs: ['https://10.240.0.99:2380'], clientURLs: [], isLearner: false, started: false },
    ]);
    const msgs = probs.map((p) => `${p.node ?? '-'}: ${p.message}`);
    expect(msgs).toContain('controller-1: member controller-1 advertises client URLs https://10.9.9.9:2379, expected https://10.240.0.11:2379');
    expect(msgs).toContain('controller-2: controller-2 is not a member of the cluster (no member named controller-2 or with peer URL https://10.240.0.12:2380)');
    expect(msgs.some((m) => /unexpected member ff \(unstarted, https:\/\/10\.240\.0\.99:2380\)/.test(m))).toBe(true);
    const unstarted = memberProblems(inv, [member(0), member(1), member(2, { name: '', started: false, clientURLs: [] })]);
    expect(unstarted.map((p) => p.message)).toEqual(['member a2 (https://10.240.0.12:2380) was added but has never started']);
  });

  it('flags leader disagreement and raft lag', () => {
    const probs = statusProblems(inv, [
      { endpoint: status(0).endpoint, status: status(0, { raftIndex: 1000, raftAppliedIndex: 1000 }) },
      { endpoint: status(1).endpoint, status: status(1, { leader: 'a1', raftIndex: 1000, raftAppliedIndex: 1000 }) },
      { endpoint: status(2).endpoint, status: status(2, { raftIndex: 500, raftAppliedIndex: 500 }) },
    ]);
    expect(probs.map((p) => p.message)).toEqual([
      'members disagree on the leader: controller-0 → a0, controller-1 → a1, controller-2 → a0',
      'raft index 500 lags the most advanced member (1000) by 500',
    ]);
  });

  it('reads systemd state and flags a bad or crashing unit', () => {
    const s = parseSystemdState(
      "LoadState=loaded\nActiveState=activating\nSubState=auto-restart\nNRestarts=4\nUnitFileState=enabled\nIsEnabled=enabled\nComplaint=/etc/systemd/system/etcd.service:7: Missing '=', ignoring line.\n",
    );
    expect(s).toEqual({ enabled: 'enabled', active: 'activating', subState: 'auto-restart', restarts: 4, loadState: 'loaded', badReason: "/etc/systemd/system/etcd.service:7: Missing '=', ignoring line." });
    const msgs = systemdProblems({ node: 'n', reachable: true, systemd: s }).map((p) => p.message);
    expect(msgs).toEqual(['etcd.service is activating (auto-restart)', 'etcd.service was restarted 4 time(s) by systemd (Restart=on-failure): it crashed']);
    expect(systemdProblems({ node: 'n', reachable: true, systemd: { ...s, loadState: 'bad-setting' } })[0]!.message).toMatch(/unit file is bad \(bad-setting\): .*Missing '='/);
  });

  it('summarises quorum with the fault-tolerance table', () => {
    expect(quorumSummary(5, 5).canLose).toBe(2);
    expect(quorumSummary(3, 4).canLose).toBe(0);
    expect(quorumSummary(1, 1).text).toMatch(/^1\/1 healthy: can survive 0 more failures/);
  });
});

describe('check perf output', () => {
  it('reads the PASS lines out of the 3.4 progress bar written without a TTY', () => {
    const out = '\r 0 / 60    0.00%\r 19 / 60   31.67% 00m40s\r 60 / 60  100.00% 1m0s\nPASS: Throughput is 150 writes/s\nPASS: Slowest request took 0.072605s\nPASS: Stddev is 0.002304s\nPASS\n';
    const r = parseCheckPerf(out);
    expect(r).toMatchObject({ pass: true, throughput: { pass: true, writesPerSec: 150 }, slowest: { pass: true, seconds: 0.072605 }, stddev: { pass: true, seconds: 0.002304 } });
    expect(r.lines).toHaveLength(4);
  });

  it('reads a result that follows the last progress frame on the same line', () => {
    const r = parseCheckPerf('\r 59 / 60   98.33% 00m01s\r 60 / 60  100.00% 1m0sPASS: Throughput is 151 writes/s\nPASS: Slowest request took 0.096119s\nPASS: Stddev is 0.002269s\nPASS\n');
    expect(r).toMatchObject({ pass: true, throughput: { pass: true, writesPerSec: 151 }, slowest: { pass: true, seconds: 0.096119 } });
    expect(r.lines).toEqual(['PASS: Throughput is 151 writes/s', 'PASS: Slowest request took 0.096119s', 'PASS: Stddev is 0.002269s', 'PASS']);
  });

  it('reads failures, including those printed without FAIL:', () => {
    const r = parseCheckPerf('FAIL: Throughput too low: 98 writes/s\nSlowest request took too long: 1.204s\nStddev too high: 0.31s\nFAIL: too many errors\nFAIL: ERROR(context deadline exceeded) -> 3\nFAIL\n');
    expect(r).toMatchObject({ pass: false, throughput: { pass: false, writesPerSec: 98 }, slowest: { pass: false, seconds: 1.204 }, stddev: { pass: false, seconds: 0.31 } });
    expect(r.errors).toEqual(['too many errors', 'ERROR(context deadline exceeded) -> 3']);
  });
});
