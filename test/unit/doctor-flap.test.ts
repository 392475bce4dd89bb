import { describe, expect, it } from 'vitest';
import { clusterCondition, type LiveFacts, type NodeFacts } from '../../src/cluster/condition.js';
import { diagnoseCluster, type MemberFacts } from '../../src/doctor/cluster.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { parseJournal } from '../../src/journal/parse.js';

// A member whose journal shows the leader changing (flapping, no loop): what the doctor says of it, alone and next
// to a lost quorum.
const inv = validateInventory('nodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''), { file: '/i.yaml' }).inventory!;
const A = 'aaaaaaaaaaaaaaaa';
const L = 'ddd67b312462fd7b';
const flapping = parseJournal(
  [
    `Nov 23 10:00:00 controller-0 etcd[7]: raft2026/11/23 10:00:00 INFO: raft.node: ${A} lost leader ${L} at term 3`,
    `Nov 23 10:00:10 controller-0 etcd[7]: raft2026/11/23 10:00:10 INFO: raft.node: ${A} lost leader ${L} at term 4`,
    `Nov 23 10:00:20 controller-0 etcd[7]: raft2026/11/23 10:00:20 INFO: ${A} stepped down to follower since quorum is not active`,
    `Nov 23 10:00:30 controller-0 etcd[7]: raft2026/11/23 10:00:30 INFO: raft.node: ${A} elected leader ${L} at term 5`,
  ].join('\n'),
  { year: 2026 },
);
const sd = { enabled: 'enabled', active: 'active', subState: 'running', restarts: 0, loadState: 'loaded' };
const member0: MemberFacts = { node: 'controller-0', reachable: true, entries: flapping, systemd: sd, dataDirMode: '700', clockOffsetMs: 0, ports: {} };
const url = (i: number) => `https://10.240.0.${10 + i}:2380`;
const node = (i: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({ node: `controller-${i}`, peerUrl: url(i), observed: true, active: true, hasData: true, wal: { memberId: `a${i}`, clusterId: 'c1' }, ...extra });
const live: LiveFacts = { clusterId: 'c1', members: [0, 1, 2].map((i) => ({ id: `a${i}`, name: `controller-${i}`, peerURLs: [url(i)], clientURLs: [], isLearner: false })), healthy: [] };

describe('a leader that keeps changing', () => {
  it('is counted by its losses, changes and step-downs, over the journal, with its last three lines', () => {
    const f = diagnoseCluster(inv, { members: [member0], statusSamples: [], pkiProblems: [] }).find((x) => x.id === 'ELECT-FLAP')!;
    expect(f).toMatchObject({ severity: 'warning', title: 'the leader changed 3 times in 30 s (a leader exists now)', hosts: ['controller-0'] });
    expect(f.evidence).toHaveLength(3);
  });

  it('next to a lost quorum is its consequence, a note that points at the cluster', () => {
    const lost = clusterCondition({ nodes: [node(0), node(1, { active: false, hasData: false, wal: undefined }), node(2, { active: false, hasData: false, wal: undefined })], live });
    const f = diagnoseCluster(inv, { members: [member0], statusSamples: [], pkiProblems: [] }, lost).find((x) => x.id === 'ELECT-FLAP')!;
    expect(f.severity).toBe('info');
    expect(f.title).toBe('the leader changed 3 times in 30 s (a leader exists now): a consequence of the lost quorum');
  });
});
