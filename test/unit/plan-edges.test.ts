import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { desiredNode, type Artifacts } from '../../src/provision/desired.js';
import type { ObservedNode } from '../../src/provision/observe.js';
import { membersNotInInventory, planNode } from '../../src/provision/plan.js';
import { bootstrapFreeSha256, stateFreeSha256 } from '../../src/render/unit-flags.js';
import { REMOTE_PATHS } from '../../src/render/paths.js';

// The planner where a unit's mode, its bootstrap-only flags and a member's several peer URLs meet: each case is built
// inside its test.
const inventory = () =>
  validateInventory(
    `cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\nnodes:\n` + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''),
    { file: '/i.yaml' },
  ).inventory!;
const src = (sha: string, data = sha) => ({ data: Buffer.from(data), size: data.length, sha256: sha.padEnd(64, '0') });
const unitText = (initialCluster: string, heartbeat = 100) =>
  [
    '[Service]',
    'ExecStart=/usr/local/bin/etcd \\',
    '  --name controller-0 \\',
    `  --initial-cluster ${initialCluster} \\`,
    '  --initial-cluster-state new \\',
    `  --heartbeat-interval=${heartbeat}`,
    '',
  ].join('\n');
const unitSource = (text: string) => ({ ...src(`unit-${text.length}-${text.includes('controller-2') ? 3 : 2}`, text), stateFreeSha256: stateFreeSha256(text), bootstrapFreeSha256: bootstrapFreeSha256(text) });
const artifactsWith = (unit: ReturnType<typeof unitSource>): Artifacts => ({
  etcd: src('e1'), etcdctl: src('c1'), ca: src('ca'), cert: src('ce'), key: src('ke'), units: new Map([['controller-0', unit]]),
});
/** Node 0 with every file as wanted but its unit, which is `installed` (with that mode); a member with data, running. */
function observed(inv: ReturnType<typeof inventory>, wanted: Artifacts, installed: string, unitMode = 0o644): ObservedNode {
  const w = desiredNode(inv, inv.nodes[0]!, wanted);
  const files = new Map(w.files.map((f) => [f.path, { exists: true, mode: f.mode, sha256: f.source.sha256 }]));
  files.set(REMOTE_PATHS.unit, { exists: true, mode: unitMode, sha256: unitSource(installed).sha256 });
  return {
    files,
    dirs: new Map(w.dirs.map((d) => [d.path, { exists: true, mode: d.mode }])),
    unit: { enabled: 'enabled', active: 'active', mainPid: 42, needsDaemonReload: false, restarts: 0 },
    hasData: true,
    unitText: installed,
    unitStateFreeSha256: stateFreeSha256(installed),
    unitBootstrapFreeSha256: bootstrapFreeSha256(installed),
  };
}
const two = 'controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380';
const three = `${two},controller-2=https://10.240.0.12:2380`;

describe('a unit on a member with data', () => {
  it('of the right content but the wrong mode is chmod-ed, with no upload, no diff and no restart', () => {
    const inv = inventory();
    const text = unitText(two);
    const wanted = artifactsWith(unitSource(text));
    const plan = planNode(inv, desiredNode(inv, inv.nodes[0]!, wanted), observed(inv, wanted, text, 0o600));
    expect(plan.files.map((f) => ({ path: f.path, reason: f.reason, upload: f.upload, diff: f.diff, needsRestart: f.needsRestart }))).toEqual([
      { path: REMOTE_PATHS.unit, reason: 'mode differs', upload: false, diff: undefined, needsRestart: undefined },
    ]);
    expect(plan.restart).toBe(false);
  });

  it('differing only in flags read at bootstrap is written as such: neither a no-restart edit nor a restart', () => {
    const inv = inventory();
    const wanted = artifactsWith(unitSource(unitText(three)));
    const plan = planNode(inv, desiredNode(inv, inv.nodes[0]!, wanted), observed(inv, wanted, unitText(two)));
    const unit = plan.files.find((f) => f.path === REMOTE_PATHS.unit)!;
    expect([unit.reason, unit.upload, unit.noRestart, unit.needsRestart, plan.restart]).toEqual(['content differs', true, undefined, undefined, false]);
    // A flag read at every start, changed too: a restart, flag by flag.
    const heartbeat = artifactsWith(unitSource(unitText(three, 150)));
    const restarted = planNode(inv, desiredNode(inv, inv.nodes[0]!, heartbeat), observed(inv, heartbeat, unitText(two)));
    expect([restarted.files.find((f) => f.path === REMOTE_PATHS.unit)!.needsRestart, restarted.restart]).toEqual([true, true]);
  });
});

describe('members the inventory does not list', () => {
  it('a member with several peer URLs is named with all of them, comma-separated', () => {
    const inv = inventory();
    const live = { clusterId: 'c1', members: [{ id: 'b2', name: 'old', peerURLs: ['https://10.1.0.1:2380', 'https://10.1.0.2:2380'] }] };
    expect(membersNotInInventory(inv, live)[0]).toMatch(/^member b2 \(old, https:\/\/10\.1\.0\.1:2380,https:\/\/10\.1\.0\.2:2380\) of the running cluster/);
  });
});
