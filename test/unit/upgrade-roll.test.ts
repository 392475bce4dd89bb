import { describe, expect, it } from 'vitest';
import { newHosts } from '../../src/engine/hosts.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { desiredNode, type Artifacts } from '../../src/provision/desired.js';
import { computeMemberId } from '../../src/etcd/ids.js';
import { fileChange, type NodePlan } from '../../src/provision/plan.js';
import { upStep, type UpRun } from '../../src/provision/up-steps.js';
import { FakeEtcd, scriptedRemote, type ScriptedRemote } from './scripted-remote.js';

const inv = validateInventory(
  'cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\nnodes:\n' + [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''),
  { file: '/i.yaml' },
).inventory!;
const src = (sha: string, size = 10) => ({ data: Buffer.alloc(size), size, sha256: sha.padEnd(64, '0') });
const artifacts: Artifacts = { etcd: src('e2'), etcdctl: src('c2'), ca: src('ca'), cert: src('ce'), key: src('ke'), units: new Map(inv.nodes.map((n) => [n.name, src(`u-${n.name}`)])) };

/** A running member whose new etcd binary changes its process: written only just before its own restart. */
function binaryPlan(i: number): NodePlan {
  const want = desiredNode(inv, inv.nodes[i]!, artifacts);
  const etcd = { ...fileChange(want.files[0]!, { exists: true, mode: 0o755, sha256: 'old' })!, needsRestart: true };
  return { node: inv.nodes[i]!.name, state: 'member', running: true, dirs: [], files: [etcd], daemonReload: false, enable: false, start: false, restart: true };
}

function cluster(failRestartOn?: string) {
  const log: string[] = [];
  const etcd = new FakeEtcd(inv.nodes.map((n) => ({ name: n.name, ip: n.internalIp, id: computeMemberId([`https://${n.internalIp}:2380`], 'tok-1') })));
  let failed = false;
  const remotes: ScriptedRemote[] = inv.nodes.map((n) => {
    const r = scriptedRemote(n.name, log, [...etcd.rules(n.name, n.internalIp)]);
    if (n.name === failRestartOn) {
      // Its first restart on the new binary fails as a 3.4 etcd does next to a 3.5 cluster; on the put-back one it starts.
      r.rules.unshift(
        [/systemctl restart etcd/, () => (failed ? (etcd.started(n.name, n.internalIp), {}) : ((failed = true), etcd.down.add(n.internalIp), { code: 1, stderr: 'Job for etcd.service failed because the control process exited with error code.\n' }))],
        [/journalctl/, { stdout: `${JSON.stringify({ SYSLOG_IDENTIFIER: 'etcd', MESSAGE: 'membership: cluster cannot be downgraded (current version: 3.4.23 is lower than determined cluster version: 3.5).' })}\n${JSON.stringify({ SYSLOG_IDENTIFIER: 'systemd', MESSAGE: 'Failed to start etcd.service - etcd.' })}\n` }],
      );
    }
    return r;
  });
  const hosts = newHosts(inv.nodes).map((h, i) => ({ ...h, remote: remotes[i]!, plan: binaryPlan(i) }));
  const run: UpRun = { inv, hosts, opts: { waitMs: 1500 }, log: () => {}, artifacts, plan: { nodes: hosts.map((h) => h.plan), mode: 'rolling', changed: true } };
  return { log, etcd, run };
}

const restarts = (log: string[]) => log.filter((l) => /: systemctl restart etcd/.test(l)).map((l) => l.split(':')[0]);

describe('a rolling change over a cluster', () => {
  it('writes each member its new binary just before its own restart, followers first, the leader last after a hand-off', async () => {
    const { log, run } = cluster();
    await upStep.rollingRestart.run(run);
    // FakeEtcd's leader is the first member up: controller-0.
    expect(restarts(log)).toEqual(['controller-1', 'controller-2', 'controller-0']);
    const order = log.filter((l) => /upload \/usr\/local\/bin\/etcd$|systemctl restart etcd|move-leader/.test(l)).map((l) => l.replace(/ETCDCTL_API.*move-leader.*/, 'move-leader'));
    expect(order).toEqual([
      'controller-1: upload /usr/local/bin/etcd',
      'controller-1: systemctl restart etcd.service',
      'controller-2: upload /usr/local/bin/etcd',
      'controller-2: systemctl restart etcd.service',
      'controller-0: move-leader',
      'controller-0: upload /usr/local/bin/etcd',
      'controller-0: systemctl restart etcd.service',
    ]);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'ok', 'ok']);
    expect([...run.kept!.keys()].sort()).toEqual(['controller-0', 'controller-1', 'controller-2']);
  });

  it('puts back the previous binary of the member that does not come back, starts it again, and goes no further', async () => {
    const { log, run, etcd } = cluster('controller-1');
    await upStep.rollingRestart.run(run);
    expect(restarts(log)).toEqual(['controller-1', 'controller-1']);
    const c1 = log.filter((l) => l.startsWith('controller-1: ')).map((l) => l.slice('controller-1: '.length));
    const kept = c1.findIndex((l) => l.includes('cp -p /usr/local/bin/etcd /usr/local/bin/etcd.hardway-prev'));
    const upload = c1.indexOf('upload /usr/local/bin/etcd');
    const putBack = c1.findIndex((l) => l.includes('mv -f /usr/local/bin/etcd.hardway-prev /usr/local/bin/etcd'));
    expect(kept).toBeGreaterThanOrEqual(0);
    expect(upload).toBeGreaterThan(kept);
    expect(putBack).toBeGreaterThan(upload);
    expect(run.hosts[1]!.outcome).toMatchObject({ status: 'failed', reason: expect.stringMatching(/its journal: membership: cluster cannot be downgraded/) });
    expect(run.hosts[1]!.outcome.done).toContain('put back its previous /usr/local/bin/etcd and restarted it');
    // The others keep what they ran: nothing written to them, no restart; the cluster keeps its quorum.
    expect(log.filter((l) => /^controller-[02]: upload/.test(l))).toEqual([]);
    expect(etcd.hasQuorum()).toBe(true);
  });

  it('a member a killed run left on its new binary with the old one kept: put back on that copy when its restart fails', async () => {
    const { log, run } = cluster('controller-1');
    // Nothing left to write on controller-1 (the killed run wrote it); only its restart remains, and its kept copy.
    run.hosts[1]!.plan = { ...binaryPlan(1), files: [] };
    run.kept = new Map([['controller-1', ['/usr/local/bin/etcd']]]);
    await upStep.rollingRestart.run(run);
    const c1 = log.filter((l) => l.startsWith('controller-1: ')).map((l) => l.slice('controller-1: '.length));
    expect(c1.some((l) => l.includes('upload'))).toBe(false);
    expect(c1.findIndex((l) => l.includes('mv -f /usr/local/bin/etcd.hardway-prev /usr/local/bin/etcd'))).toBeGreaterThan(c1.indexOf('systemctl restart etcd.service'));
    expect(run.hosts[1]!.outcome.done).toContain('put back its previous /usr/local/bin/etcd and restarted it');
  });

  it('a downgrade (etcd 3.6+, asked for) is validated and enabled through the quorum before the first member gets the older binary', async () => {
    const { log, run } = cluster();
    run.preflight = { kind: 'upgrade', from: '3.6.5', to: '3.5.26', clusterVersion: '3.6', notes: [], downgrade: '3.5' };
    run.opts = { ...run.opts, noSnapshot: true };
    await upStep.rollingRestart.run(run);
    const steps = log.filter((l) => /downgrade (validate|enable)|systemctl restart etcd/.test(l)).map((l) => (/downgrade (validate|enable) 3\.5/.exec(l)?.[0] ?? l.replace(/^(controller-\d): .*/, '$1 restart')));
    expect(steps.slice(0, 3)).toEqual(['downgrade validate 3.5', 'downgrade enable 3.5', 'controller-1 restart']);
    expect(restarts(log)).toHaveLength(3);
  });
});
