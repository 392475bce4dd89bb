import { describe, expect, it } from 'vitest';
import { guideUnit } from '../guide-unit.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { bufferSource } from '../../src/release/artifacts.js';
import { desiredNode, type Artifacts } from '../../src/provision/desired.js';
import type { ObservedNode } from '../../src/provision/observe.js';
import { planNode, staleReason } from '../../src/provision/plan.js';
import { argvDiffers, compareUnits, etcdDefault, flagChanges, flagMap, unitDiffLines } from '../../src/provision/unit-diff.js';
import { bootstrapFreeSha256, execStartArgv, stateFreeSha256 } from '../../src/render/unit-flags.js';

const guide = (ip: string) => guideUnit('controller-0', ip);
const hardway = (ip: string, extra = '--heartbeat-interval=100 \\\n  --election-timeout=1000') => guide(ip).replace('--data-dir=/var/lib/etcd\n', `--data-dir=/var/lib/etcd \\\n  ${extra}\n`);

describe('comparing units the way etcd sees them', () => {
  it("the guide's unit against hardway's: only etcd's two default timings differ, so no restart", () => {
    const c = compareUnits(guide('10.0.0.10'), hardway('10.0.0.10'), '3.4.23', true);
    expect(c.restartNeeded).toBe(false);
    expect(c.flags.map((f) => [f.flag, f.to, f.equivalent])).toEqual([
      ['election-timeout', '1000', true],
      ['heartbeat-interval', '100', true],
    ]);
    expect(unitDiffLines(c, true)).toEqual([
      "+ --election-timeout=1000 (etcd's default 1000: no change to what etcd does)",
      "+ --heartbeat-interval=100 (etcd's default 100: no change to what etcd does)",
    ]);
  });

  it('a timing other than the default is a change etcd sees: restart', () => {
    const c = compareUnits(guide('10.0.0.10'), hardway('10.0.0.10', '--heartbeat-interval=250 \\\n  --election-timeout=1000'), '3.4.23', true);
    expect(c.restartNeeded).toBe(true);
    expect(unitDiffLines(c, true)).toContain('+ --heartbeat-interval=250');
  });

  it('flags read only at bootstrap restart nothing on a member with data, but do on an empty node', () => {
    const a = guide('10.0.0.10');
    const b = a.replace('--initial-cluster controller-0=https://10.0.0.10:2380', '--initial-cluster controller-0=https://10.0.0.10:2380,controller-1=https://10.0.0.11:2380');
    expect(compareUnits(a, b, '3.4.23', true).restartNeeded).toBe(false);
    expect(compareUnits(a, b, '3.4.23', false).restartNeeded).toBe(true);
    expect(unitDiffLines(compareUnits(a, b, '3.4.23', true), true)[0]).toMatch(/^~ --initial-cluster: .* \(read only when a member bootstraps: no restart\)$/);
  });

  it('a changed listen address, another program, or another [Service] setting is a restart', () => {
    expect(compareUnits(guide('10.0.0.10'), guide('10.0.0.99'), '3.4.23', true).restartNeeded).toBe(true);
    expect(compareUnits(guide('10.0.0.10'), guide('10.0.0.10').replace('ExecStart=/usr/local/bin/etcd', 'ExecStart=/opt/etcd'), '3.4.23', true).program).toEqual({ from: '/usr/local/bin/etcd', to: '/opt/etcd' });
    const c = compareUnits(guide('10.0.0.10'), guide('10.0.0.10').replace('RestartSec=5', 'RestartSec=10'), '3.4.23', true);
    expect(c.restartNeeded).toBe(true);
    expect(c.service).toEqual({ removed: ['RestartSec=5'], added: ['RestartSec=10'] });
    // [Unit] and [Install] do not change the process.
    expect(compareUnits(guide('10.0.0.10'), guide('10.0.0.10').replace('Description=etcd', 'Description=etcd (hardway)'), '3.4.23', true).restartNeeded).toBe(false);
  });

  it('reads --flag value, --flag=value, -flag and bare booleans alike; a boolean left out is false', () => {
    expect([...flagMap(['etcd', '--name', 'a', '--x=1', '-y', '--client-cert-auth'])]).toEqual([
      ['name', 'a'],
      ['x', '1'],
      ['y', 'true'],
      ['client-cert-auth', 'true'],
    ]);
    expect(flagChanges(['etcd', '--enable-v2=false'], ['etcd'], '3.4.23')[0]).toMatchObject({ flag: 'enable-v2', equivalent: true });
    expect(flagChanges(['etcd', '--client-cert-auth'], ['etcd'], '3.4.23')[0]).toMatchObject({ flag: 'client-cert-auth', equivalent: false });
  });

  it('defaults follow the release: pre-vote on from 3.5, snapshot-count 10000 from 3.6', () => {
    expect(etcdDefault('pre-vote', '3.4.23')).toBe('false');
    expect(etcdDefault('pre-vote', '3.5.16')).toBe('true');
    expect(etcdDefault('snapshot-count', '3.5.16')).toBe('100000');
    expect(etcdDefault('snapshot-count', '3.6.5')).toBe('10000');
    expect(argvDiffers(['etcd', '--pre-vote=true'], ['etcd'], '3.5.16')).toEqual([]);
    expect(argvDiffers(['etcd', '--pre-vote=true'], ['etcd'], '3.4.23').map((c) => c.flag)).toEqual(['pre-vote']);
  });
});

describe('planning a hand-made member', () => {
  const inv = validateInventory('cluster:\n  token: etcd-cluster-0\netcd:\n  tarball: /t.tgz\nnodes:\n  - name: controller-0\n    address: 10.0.0.10\n', { file: '/i.yaml' }).inventory!;
  const src = (sha: string) => ({ data: Buffer.alloc(1), size: 1, sha256: sha.padEnd(64, '0') });
  const wanted = hardway('10.0.0.10');
  const unitSrc = { ...bufferSource(Buffer.from(wanted)), stateFreeSha256: stateFreeSha256(wanted), bootstrapFreeSha256: bootstrapFreeSha256(wanted) };
  const artifacts: Artifacts = { etcd: src('e'), etcdctl: src('c'), ca: src('ca'), cert: src('ce'), key: src('k'), units: new Map([['controller-0', unitSrc]]) };
  const want = desiredNode(inv, inv.nodes[0]!, artifacts);
  const installed = guide('10.0.0.10');
  const have = (extra: Partial<ObservedNode> = {}): ObservedNode => ({
    files: new Map(want.files.map((f) => [f.path, f.role === 'unit' ? { exists: true, mode: 0o644, sha256: 'other' } : { exists: true, mode: f.mode, sha256: f.source.sha256 }])),
    dirs: new Map(want.dirs.map((d) => [d.path, { exists: true, mode: d.mode }])),
    unit: { enabled: 'enabled', active: 'active', mainPid: 7, needsDaemonReload: false, restarts: 0 },
    hasData: true,
    unitText: installed,
    loadedExecStart: execStartArgv(installed),
    running: { args: execStartArgv(installed), binaryReplaced: false },
    ...extra,
  });

  it("writes the unit with the flags shown, and restarts nothing: the guide's unit runs what hardway's would", () => {
    const p = planNode(inv, want, have());
    const unit = p.files.find((f) => f.role === 'unit')!;
    expect(unit).toMatchObject({ reason: 'content differs', noRestart: true });
    expect(unit.diff).toEqual(["+ --election-timeout=1000 (etcd's default 1000: no change to what etcd does)", "+ --heartbeat-interval=100 (etcd's default 100: no change to what etcd does)"]);
    expect(p.restart).toBe(false);
    expect(p.daemonReload).toBe(true);
  });

  it('once written, the process started from the old unit is not stale: the two flags are etcd defaults', () => {
    const after = have({ unitText: wanted, loadedExecStart: execStartArgv(wanted), files: new Map(want.files.map((f) => [f.path, { exists: true, mode: f.mode, sha256: f.source.sha256 }])) });
    expect(staleReason(after, wanted, '3.4.23')).toBeUndefined();
    expect(planNode(inv, want, after).restart).toBe(false);
    // Another value than the default is a real difference: that restart stands.
    const tuned = hardway('10.0.0.10', '--heartbeat-interval=250 \\\n  --election-timeout=2500');
    expect(staleReason(have({ loadedExecStart: execStartArgv(tuned) }), tuned, '3.4.23')).toMatch(/--election-timeout, --heartbeat-interval/);
  });
});

describe('a unit systemd would read otherwise', () => {
  it('a doubled backslash at a line end is a change etcd may see: restart, whatever the flags look like', () => {
    const broken = hardway('10.0.0.10').replace('--name controller-0 \\\n', '--name controller-0 \\\\\n');
    expect(compareUnits(hardway('10.0.0.10'), broken, '3.4.23', true).restartNeeded).toBe(true);
  });
});
