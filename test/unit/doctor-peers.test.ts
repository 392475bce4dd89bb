import { describe, expect, it } from 'vitest';
import { diagnoseCluster, type MemberFacts } from '../../src/doctor/cluster.js';
import type { EndpointStatus } from '../../src/etcd/etcdctl.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { parseJournal } from '../../src/journal/parse.js';

// A peer the journal says was refused, judged by what the doctor sees now: the endpoint status tells which IP that
// member has, the member's port checks whether it connects there now.
const inv = validateInventory('nodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''), { file: '/i.yaml' }).inventory!;
const PEER = '3a57933972cb5131';
const refused = parseJournal(`Dec 07 14:04:33 controller-0 etcd[145]: health check for peer ${PEER} could not connect: dial tcp 10.240.0.12:2380: connect: connection refused`, { year: 2026 });
const status = (i: number, memberId: string): EndpointStatus => ({ endpoint: `https://10.240.0.${10 + i}:2379`, memberId, version: '3.4.23', dbSize: 1, leader: 'a1', isLeader: false, raftTerm: 2, raftIndex: 1, raftAppliedIndex: 1, errors: [], isLearner: false, revision: 1, clusterId: 'c1' });
const sd = { enabled: 'enabled', active: 'active', subState: 'running', restarts: 0, loadState: 'loaded' };
const member0 = (ports: Record<string, boolean>): MemberFacts => ({ node: 'controller-0', reachable: true, entries: refused, systemd: sd, dataDirMode: '700', clockOffsetMs: 0, ports });
const peerFinding = (ports: Record<string, boolean>, statuses: EndpointStatus[]) =>
  diagnoseCluster(inv, { members: [member0(ports)], statusSamples: [{ at: new Date(Date.UTC(2026, 11, 7, 14, 10)), status: statuses }], pkiProblems: [] }).find((f) => f.id === 'PEER-01');

describe('a peer the journal says was refused', () => {
  it('is history once the member connects to that peer now, at the IP its endpoint status gives', () => {
    const f = peerFinding({ '10.240.0.12:2380': true }, [status(0, 'a0'), status(2, PEER)]);
    expect(f).toMatchObject({ severity: 'info', hosts: ['controller-0'] });
    // How it was seen now is said with it.
    expect(JSON.stringify(f)).toContain('now: controller-0 connects to 10.240.0.12:2380');
  });

  it('stays a problem while the member cannot connect there now', () => {
    expect(peerFinding({ '10.240.0.12:2380': false }, [status(2, PEER)])).toMatchObject({ severity: 'warning', hosts: ['controller-0'] });
  });

  it("is the journal's word when nothing now is known of that peer: no status of it, or no port check towards it", () => {
    expect(peerFinding({ '10.240.0.12:2380': true }, [status(0, 'a0')])).toMatchObject({ severity: 'warning' });
    expect(peerFinding({ '10.240.0.11:2380': true }, [status(2, PEER)])).toMatchObject({ severity: 'warning' });
    // A status whose endpoint is no inventory node's names no IP.
    expect(peerFinding({ '10.240.0.12:2380': true }, [{ ...status(2, PEER), endpoint: 'https://10.9.9.9:2379' }])).toMatchObject({ severity: 'warning' });
  });
});
