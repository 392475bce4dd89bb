import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { addJournalSyncs, diagnoseCluster, fsyncFigure, memberFsync, termMovement, type DoctorFacts, type MemberFacts } from '../../src/verify/doctor-cluster.js';
import type { EndpointStatus } from '../../src/verify/etcdctl.js';
import { parseJournal } from '../../src/verify/journal.js';

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
