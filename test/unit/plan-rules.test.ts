import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { desiredNode, type Artifacts } from '../../src/provision/desired.js';
import { computeClusterId, computeMemberId } from '../../src/etcd/ids.js';
import type { ObservedNode } from '../../src/provision/observe.js';
import { dataConflict, movedMember, offlineView, planCluster, planNode, removedMember, rollingOrder, staleReason, type NodePlan } from '../../src/provision/plan.js';
import { REMOTE_PATHS } from '../../src/render/paths.js';

// The planner's rules, one by one, on a three-node inventory (token tok-1).
const yaml = (extra = '') =>
  `cluster:\n  token: tok-1\n${extra}etcd:\n  tarball: /t.tgz\nnodes:\n` + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join('');
const inv = validateInventory(yaml(), { file: '/i.yaml' }).inventory!;
const src = (sha: string, data?: string) => ({ data: Buffer.from(data ?? sha), size: (data ?? sha).length, sha256: sha.padEnd(64, '0') });
const artifacts: Artifacts = { etcd: src('e1'), etcdctl: src('c1'), ca: src('ca'), cert: src('ce'), key: src('ke'), units: new Map(inv.nodes.map((n) => [n.name, src(`u-${n.name}`)])) };
const want = (i = 0, a: Artifacts = artifacts) => desiredNode(inv, inv.nodes[i]!, a);
/** A node that has every file as wanted, its member running. */
function upToDate(i = 0, extra: Partial<ObservedNode> = {}, a: Artifacts = artifacts): ObservedNode {
  const w = want(i, a);
  return {
    files: new Map(w.files.map((f) => [f.path, { exists: true, mode: f.mode, sha256: f.source.sha256 }])),
    dirs: new Map(w.dirs.map((d) => [d.path, { exists: true, mode: d.mode }])),
    unit: { enabled: 'enabled', active: 'active', mainPid: 42, needsDaemonReload: false, restarts: 0 },
    hasData: true,
    ...extra,
  };
}
const member = (i: number, token = 'tok-1') => computeMemberId([`https://10.240.0.${10 + i}:2380`], token);
const bootstrapCluster = computeClusterId([0, 1, 2].map((i) => member(i)));
const differs = (have: ObservedNode, path: string) => have.files.set(path, { exists: true, mode: 0o600, sha256: 'old'.padEnd(64, '0') });

describe('the cluster plan', () => {
  const quiet: NodePlan = { node: 'n', state: 'member', running: true, dirs: [], files: [], daemonReload: false, enable: false, start: false, restart: false };

  it('is a change when any one node has anything to do, of any kind; otherwise none', () => {
    expect(planCluster([quiet, quiet]).changed).toBe(false);
    const one: Partial<NodePlan>[] = [
      { conflict: 'x' }, { dirs: [{ path: '/d', mode: 0o700, reason: 'missing' }] }, { files: [{} as NodePlan['files'][number]] },
      { daemonReload: true }, { enable: true }, { start: true }, { restart: true }, { moved: { memberId: 'a', from: [], to: 'b' } },
    ];
    for (const o of one) expect(planCluster([quiet, { ...quiet, ...o }]).changed, JSON.stringify(o)).toBe(true);
  });

  it('rolls when any member runs, here or outside the nodes named; bootstraps only when none does', () => {
    expect(planCluster([{ ...quiet, running: false }, quiet]).mode).toBe('rolling');
    expect(planCluster([{ ...quiet, running: false }], true).mode).toBe('rolling');
    expect(planCluster([{ ...quiet, running: false }, { ...quiet, running: false }]).mode).toBe('bootstrap');
  });

  it('restarts only the members that need it, followers first and the leader last', () => {
    const p = (node: string, restart: boolean) => ({ ...quiet, node, restart });
    expect(rollingOrder([p('a', true), p('b', false), p('c', true), p('d', true)], 'a').map((x) => x.node)).toEqual(['c', 'd', 'a']);
    expect(rollingOrder([p('a', true), p('b', false)]).map((x) => x.node)).toEqual(['a']);
  });
});

describe('certificates: what a new file restarts', () => {
  it('a new leaf certificate or key from the same CA is written without a restart (etcd reads them per connection)', () => {
    for (const path of [REMOTE_PATHS.cert, REMOTE_PATHS.key]) {
      const have = upToDate();
      differs(have, path);
      const p = planNode(inv, want(), have);
      expect(p.files.map((f) => [f.path, f.upload, f.noRestart, f.needsRestart])).toEqual([[path, true, true, undefined]]);
      expect(p.restart).toBe(false);
    }
  });

  it('with a new CA, the leaves and the CA restart the member (the trusted CA file is read at start only)', () => {
    const have = upToDate();
    for (const path of [REMOTE_PATHS.caCert, REMOTE_PATHS.cert, REMOTE_PATHS.key]) differs(have, path);
    const p = planNode(inv, want(), have);
    expect(p.files.map((f) => [f.path, f.noRestart, f.needsRestart])).toEqual([
      [REMOTE_PATHS.caCert, undefined, true],
      [REMOTE_PATHS.cert, undefined, true],
      [REMOTE_PATHS.key, undefined, true],
    ]);
    expect(p.restart).toBe(true);
  });

  it('a certificate whose mode alone differs restarts nothing and transfers nothing; a binary that differs restarts', () => {
    const have = upToDate();
    have.files.set(REMOTE_PATHS.caCert, { exists: true, mode: 0o644, sha256: artifacts.ca.sha256 });
    differs(have, REMOTE_PATHS.cert);
    const p = planNode(inv, want(), have);
    expect(p.files.map((f) => [f.path, f.upload, f.noRestart ?? false])).toEqual([[REMOTE_PATHS.caCert, false, false], [REMOTE_PATHS.cert, true, true]]);
    expect([p.restart, p.daemonReload]).toEqual([false, false]);
    const bin = upToDate();
    differs(bin, REMOTE_PATHS.etcd);
    expect(planNode(inv, want(), bin)).toMatchObject({ restart: true, daemonReload: false });
  });
});

describe('a unit that differs, read flag by flag', () => {
  const unit = (flags: string[]) => ['[Service]', `ExecStart=/usr/local/bin/etcd ${flags.join(' \\\n  ')}`, ''].join('\n');
  const installed = unit(['--name controller-0', '--heartbeat-interval=100']);
  const withUnit = (text: string): Artifacts => ({ ...artifacts, units: new Map([['controller-0', src(`unit-${text.length}`, text)]]) });
  const planFor = (text: string, extra: Partial<ObservedNode> = {}) => {
    const have = upToDate(0, { unitText: installed, ...extra });
    have.files.set(REMOTE_PATHS.unit, { exists: true, mode: 0o644, sha256: 'installed'.padEnd(64, '0') });
    return planNode(inv, want(0, withUnit(text)), have);
  };

  it("a flag given etcd's own default is written without a restart, and said to change nothing", () => {
    const p = planFor(unit(['--name controller-0', '--heartbeat-interval=100', '--snapshot-count=100000']));
    const f = p.files.find((x) => x.path === REMOTE_PATHS.unit)!;
    expect([f.noRestart, f.needsRestart, p.restart, p.daemonReload]).toEqual([true, undefined, false, true]);
    expect(f.diff?.join('\n')).toMatch(/snapshot-count.*etcd's default/);
  });

  it('a flag etcd reads at every start restarts the member, and the diff names it', () => {
    const p = planFor(unit(['--name controller-0', '--heartbeat-interval=150']));
    const f = p.files.find((x) => x.path === REMOTE_PATHS.unit)!;
    expect([f.noRestart, f.needsRestart, p.restart]).toEqual([undefined, true, true]);
    expect(f.diff?.join('\n')).toMatch(/heartbeat-interval/);
  });

  it('without the installed text nothing is compared: a unit that differs restarts the member', () => {
    const p = planFor(unit(['--name controller-0', '--heartbeat-interval=100', '--snapshot-count=100000']), { unitText: undefined });
    const f = p.files.find((x) => x.path === REMOTE_PATHS.unit)!;
    expect([f.diff, f.noRestart, p.restart]).toEqual([undefined, undefined, true]);
  });

  it('only the unit is compared flag by flag: another file that differs has no diff', () => {
    const have = upToDate(0, { unitText: installed });
    differs(have, REMOTE_PATHS.etcd);
    expect(planNode(inv, want(), have).files.map((f) => [f.path, f.diff])).toEqual([[REMOTE_PATHS.etcd, undefined]]);
  });

  it('a member whose unit changed but whose running etcd is stale is restarted once, for the change', () => {
    const p = planFor(unit(['--name controller-0', '--heartbeat-interval=150']), { running: { args: ['/usr/local/bin/etcd'], binaryReplaced: true } });
    expect(p.restart).toBe(true);
    expect(p.stale).toBeUndefined();
  });

  it('a stopped member is started, never restarted, and gets no stale reason', () => {
    const p = planNode(inv, want(), upToDate(0, { unit: { enabled: 'enabled', active: 'failed', mainPid: 0, needsDaemonReload: false, restarts: 3 }, running: { args: [], binaryReplaced: true } }));
    expect([p.start, p.restart, p.stale, p.running]).toEqual([true, false, undefined, false]);
  });
});

describe('whose data a node holds', () => {
  const wal = (memberId: bigint, clusterId: bigint) => ({ wal: { memberId, clusterId } });

  it('a conflict says nothing was changed on that node and gives both ways out; with a running cluster, that the node would join it', () => {
    const offline = dataConflict(inv, want(), upToDate(0, wal(member(0), 0x1234n)))!;
    expect(offline).toMatch(/Nothing on controller-0 was changed\. Choices: \(1\) reset that node: .*then run 'hardway up' again; \(2\) if it is a member of a running cluster you want to keep, set cluster\.initialState: existing/);
    expect(offline).not.toMatch(/joins the running cluster/);
    const live = { clusterId: 'c1', members: [] };
    expect(dataConflict(inv, want(), upToDate(0, wal(0xabn, 0xc2n)), live)).toMatch(/then run 'hardway up' again \(it joins the running cluster as a new member\); \(2\)/);
  });

  it('a member the running cluster lists at another node\'s address is that node\'s, named by its name or as unstarted', () => {
    const live = { clusterId: 'c1', members: [{ id: 'ab', name: '', peerURLs: ['https://10.240.0.11:2380', 'https://10.240.1.11:2380'] }] };
    expect(dataConflict(inv, want(), upToDate(0, wal(0xabn, 0xc1n)), live)).toMatch(/holds member ab \(unstarted, https:\/\/10\.240\.0\.11:2380,https:\/\/10\.240\.1\.11:2380\), not controller-0 at https:\/\/10\.240\.0\.10:2380/);
    const named = { clusterId: 'c1', members: [{ id: 'ab', name: 'controller-1', peerURLs: ['https://10.240.0.11:2380'] }] };
    expect(dataConflict(inv, want(), upToDate(0, wal(0xabn, 0xc1n)), named)).toMatch(/holds member ab \(controller-1, /);
    // Not a moved member either: another inventory node has that address.
    expect(movedMember(inv, inv.nodes[0]!, upToDate(0, wal(0xabn, 0xc1n)), { clusterId: 'c1', members: [{ id: 'ab', name: '', peerURLs: ['https://10.240.0.11:2380'] }] })).toBeUndefined();
  });

  it('the member in the WAL is looked up by its own ID among several', () => {
    const live = { clusterId: 'c1', members: [{ id: 'aa', name: 'controller-1', peerURLs: ['https://10.240.0.11:2380'] }, { id: 'ab', name: 'controller-0', peerURLs: ['https://10.240.0.10:2380'] }] };
    expect(dataConflict(inv, want(), upToDate(0, wal(0xabn, 0xc1n)), live)).toBeUndefined();
    expect(removedMember(upToDate(0, wal(0xabn, 0xc1n)), live)).toBeUndefined();
    expect(movedMember(inv, inv.nodes[0]!, upToDate(0, wal(0xabn, 0xc1n)), live)).toBeUndefined();
    const movedAmongOthers = { clusterId: 'c1', members: [live.members[0]!, { id: 'ab', name: 'controller-0', peerURLs: ['https://10.240.9.10:2380'] }] };
    expect(movedMember(inv, inv.nodes[0]!, upToDate(0, wal(0xabn, 0xc1n)), movedAmongOthers)).toEqual({ memberId: 'ab', from: ['https://10.240.9.10:2380'], to: 'https://10.240.0.10:2380' });
    // A member named after another node is not this node's, whatever its address.
    const other = { clusterId: 'c1', members: [{ id: 'ab', name: 'controller-2', peerURLs: ['https://10.240.9.10:2380'] }] };
    expect(movedMember(inv, inv.nodes[0]!, upToDate(0, wal(0xabn, 0xc1n)), other)).toBeUndefined();
    expect(movedMember(inv, inv.nodes[0]!, upToDate(0), other)).toBeUndefined();
  });

  it('with cluster.initialState existing, the bootstrap IDs say nothing: no conflict, and no offline view of foreign data', () => {
    const existing = validateInventory(yaml('  initialState: existing\n'), { file: '/i.yaml' }).inventory!;
    expect(dataConflict(existing, desiredNode(existing, existing.nodes[0]!, artifacts), upToDate(0, wal(0x99n, 0x1234n)))).toBeUndefined();
    const observed = [{ node: existing.nodes[0]!, have: upToDate(0, wal(0x99n, 0x1234n)) }];
    expect(offlineView(existing, observed)).toEqual({ foreignData: false });
    expect(offlineView(existing, observed, 'timeout')).toEqual({ foreignData: false, unanswered: 'timeout' });
  });

  it('offline, nodes of two different clusters are no lineage: no cluster is taken as this one', () => {
    const grownA = computeClusterId([member(0), member(1)]);
    const observed = [
      { node: inv.nodes[0]!, have: upToDate(0, wal(member(0), grownA)) },
      { node: inv.nodes[1]!, have: upToDate(1, wal(member(1), 0x777n)) },
      { node: inv.nodes[2]!, have: upToDate(2, { hasData: false }) },
    ];
    expect(offlineView(inv, observed)).toEqual({ foreignData: true });
    // One cluster, held by a node whose member is not the bootstrap one of its address: no lineage either.
    expect(offlineView(inv, [{ node: inv.nodes[0]!, have: upToDate(0, wal(0x5n, grownA)) }])).toEqual({ foreignData: true });
    expect(offlineView(inv, [{ node: inv.nodes[0]!, have: upToDate(0, wal(member(0), grownA)) }])).toEqual({ cluster: grownA, foreignData: true });
    // Data without a readable WAL is data of no known cluster.
    expect(offlineView(inv, [{ node: inv.nodes[0]!, have: upToDate(0) }, { node: inv.nodes[1]!, have: upToDate(1, wal(member(1), bootstrapCluster)) }])).toEqual({ foreignData: true });
  });

  it('an empty node waits while other nodes hold foreign data, saying nothing on it was changed', () => {
    const p = planNode(inv, want(2), upToDate(2, { hasData: false, unit: { enabled: 'enabled', active: 'inactive', mainPid: 0, needsDaemonReload: false, restarts: 0 } }), undefined, { foreignData: true });
    expect(p.state).toBe('foreign');
    expect(p.conflict).toMatch(/^controller-2 is empty, and other nodes hold data this inventory would not bootstrap .*Nothing on controller-2 was changed; settle those nodes first\.$/);
    expect(p).toMatchObject({ dirs: [], files: [], daemonReload: false, enable: false, start: false, restart: false });
  });
});

describe('a running etcd that is not what its files say', () => {
  const etcd = ['/usr/local/bin/etcd', '--name', 'controller-0', '--heartbeat-interval=100'];
  it('waiting for a daemon-reload with no unit text to compare: nothing can be told', () => {
    expect(staleReason(upToDate(0, { unit: { enabled: 'enabled', active: 'active', mainPid: 1, needsDaemonReload: true, restarts: 0 }, running: { args: etcd, binaryReplaced: false } }))).toBeUndefined();
  });
  it('compares words, whatever spaces systemd and /proc put between them', () => {
    expect(staleReason(upToDate(0, { loadedExecStart: ['/usr/local/bin/etcd', '', '--name  controller-0', '--heartbeat-interval=100'], running: { args: etcd, binaryReplaced: false } }))).toBeUndefined();
  });
});
