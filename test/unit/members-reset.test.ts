import { describe, expect, it } from 'vitest';
import { runSteps } from '../../src/engine/runner.js';
import { resetReport, resetRun, resetSteps, type ResetOptions } from '../../src/members/reset.js';
import { fakeCluster, inv } from './members-fakes.js';

const NOW = new Date('2024-03-05T07:08:09Z');

async function reset(name: string, c: ReturnType<typeof fakeCluster>, opts: ResetOptions = { yes: true }) {
  const run = resetRun({ inv, hosts: c.hosts, log: () => {} }, name, { now: NOW, ...opts });
  const s = resetSteps;
  await runSteps(run, [s.reach, s.ask, s.check, s.confirm, s.removeMember, s.leave, s.purge, s.after]);
  return run;
}

const changes = (log: string[]) => log.flatMap((l) => {
  const m = /member remove \w+|move-leader \w+|mv -T|rm -f/.exec(l);
  return m ? [`${l.split(':')[0]}: ${m[0]}`] : [];
});

describe('reset', () => {
  it('removes the member, then stops etcd and moves the data dir aside; --purge then removes the installed files', async () => {
    const c = fakeCluster();
    const run = await reset('controller-2', c, { yes: true, purge: true });
    expect(changes(c.log)).toEqual(['controller-0: member remove a2', 'controller-2: mv -T', 'controller-2: rm -f']);
    expect(c.log.find((l) => l.includes('rm -f'))).toMatch(/rm -f \/etc\/systemd\/system\/etcd\.service \/usr\/local\/bin\/etcd \/usr\/local\/bin\/etcdctl \/usr\/local\/bin\/etcdutl \/etc\/etcd\/ca\.pem/);
    expect(c.log.find((l) => l.includes('rm -f'))).not.toMatch(/\/var\/lib\/etcd/);
    expect(resetReport(run)).toEqual([
      'removed member controller-2 (a2)',
      'controller-2: stopped and disabled etcd.service',
      'controller-2: moved /var/lib/etcd to /var/lib/etcd.removed-20240305T070809Z',
      'controller-2: removed /etc/systemd/system/etcd.service, /usr/local/bin/etcd, /usr/local/bin/etcdctl, /usr/local/bin/etcdutl, /etc/etcd/ca.pem, /etc/etcd/kubernetes.pem, /etc/etcd/kubernetes-key.pem',
      'now 2 members: quorum 2, survives 0 failures',
      "controller-2 is still in the inventory /i.yaml: remove it there, or a later 'hardway up' sets it up again",
    ]);
  });

  it('cleans a node that is not a member without touching the membership', async () => {
    const c = fakeCluster();
    c.state.members = [0, 1];
    await reset('controller-2', c);
    expect(changes(c.log)).toEqual(['controller-2: mv -T']);
  });

  it('refuses the last member unless --force, which leaves the membership and resets the node', async () => {
    const c = fakeCluster();
    c.state.members = [0];
    await expect(reset('controller-0', c)).rejects.toThrow('controller-0 (a0) is the last member of the cluster: resetting it ends the cluster (its data is moved aside, not deleted). --force resets it anyway');
    expect(changes(c.log)).toEqual([]);
    await reset('controller-0', c, { yes: true, force: true });
    expect(changes(c.log)).toEqual(['controller-0: mv -T']);
  });

  it('refuses what would cost quorum, a node it cannot reach, and (without --force) a node whose membership nobody can tell', async () => {
    const down = fakeCluster({ down: [1] });
    await expect(reset('controller-2', down)).rejects.toThrow(/^resetting controller-2 is refused: 2 voting members would be left, needing 2 healthy/);
    const unreachable = fakeCluster({ unreachable: [2] });
    await expect(reset('controller-2', unreachable)).rejects.toThrow('controller-2 cannot be reached (connect timed out): nothing was changed');
    const silent = fakeCluster({ silent: true });
    await expect(reset('controller-2', silent)).rejects.toThrow(/^no member answered: .*; so whether controller-2 is a member cannot be told/);
    for (const c of [down, unreachable, silent]) expect(changes(c.log)).toEqual([]);
    await reset('controller-2', silent, { yes: true, force: true });
    expect(changes(silent.log)).toEqual(['controller-2: mv -T']);
  });

  it('a node not in the inventory is a usage error', () => {
    expect(() => resetRun({ inv, hosts: [], log: () => {} }, 'controller-3', {})).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/controller-3 is not in the inventory .*controller-0, controller-1, controller-2/) }));
  });
});
