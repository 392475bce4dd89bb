import { describe, expect, it } from 'vitest';
import { runSteps } from '../../src/engine/runner.js';
import { joiningCluster } from '../../src/etcd/joining.js';
import { addedMemberId, replaceReport, replaceRun, replaceSteps, supportsLearners, type ReplaceRun } from '../../src/members/replace.js';
import { memberRows } from '../../src/etcd/members.js';
import { fakeCluster, inv, member } from './members-fakes.js';

const NOW = new Date('2024-03-05T07:08:09Z');

/** The flow without the steps that need the release and the node's files (prepare, install): those are up's. */
async function replace(name: string, c: ReturnType<typeof fakeCluster>, opts: Partial<ReplaceRun['opts']> = {}) {
  const run = replaceRun({ inv, hosts: c.hosts, log: () => {} }, name, { yes: true, now: NOW, waitMs: 5000, ...opts });
  const s = replaceSteps;
  await runSteps(run, [s.reach, s.ask, s.check, s.confirm, s.removeOld, s.leave, s.add, s.promote, s.healthy]);
  return run;
}

const changes = (log: string[]) => log.flatMap((l) => {
  const m = /member (remove|promote) \w+|member add controller-\d[^']*--learner|move-leader \w+|mv -T|systemctl start/.exec(l);
  return m ? [`${l.split(':')[0]}: ${m[0].replace(/ --peer-urls=\S+/, '')}`] : [];
});

describe('member replace', () => {
  it('removes the old member, moves the data dir aside, adds the node as a learner through another node, starts it, promotes it once caught up', async () => {
    const c = fakeCluster({ leader: 0, promoteRefusals: 1 });
    const run = await replace('controller-2', c);
    expect(changes(c.log)).toEqual([
      'controller-0: member remove a2',
      'controller-2: mv -T',
      'controller-0: member add controller-2 --learner',
      'controller-2: systemctl start',
      'controller-0: member promote a2',
      'controller-0: member promote a2',
    ]);
    expect(c.state.learners.size).toBe(0);
    expect(run.plan).toEqual([
      'remove the old member controller-2 (a2)',
      'on controller-2: stop and disable etcd.service, move /var/lib/etcd to /var/lib/etcd.removed-20240305T070809Z (nothing is deleted)',
      'on controller-2: install etcd, etcdctl, the certificates and etcd.service (--initial-cluster-state=existing)',
      'add controller-2 as a learner, start it, wait until it has caught up, promote it',
    ]);
    expect(replaceReport(run).at(-1)).toBe('now 3 members: quorum 2, survives 1 failure');
  });

  it('adds a node that is no member any more without removing anything', async () => {
    const c = fakeCluster();
    c.state.members = [0, 1];
    await replace('controller-2', c);
    expect(changes(c.log)).toEqual(['controller-2: mv -T', 'controller-0: member add controller-2 --learner', 'controller-2: systemctl start', 'controller-0: member promote a2']);
  });

  it('replaces the member that is down (its disk gone), the two others keeping quorum throughout', async () => {
    const c = fakeCluster({ down: [2] });
    const run = await replace('controller-2', c);
    expect(changes(c.log)[0]).toBe('controller-0: member remove a2');
    expect(run.done).toContain('controller-2: caught up, promoted to a voting member');
  });

  it('refuses, changing nothing, when removing the old member would cost quorum or the node cannot be reached', async () => {
    const down = fakeCluster({ down: [0] });
    await expect(replace('controller-2', down)).rejects.toThrow(/^replacing controller-2 is refused: 2 voting members would be left, needing 2 healthy for quorum, and 1 healthy \(controller-1\) and 1 not \(controller-0\)/);
    const unreachable = fakeCluster({ unreachable: [2] });
    await expect(replace('controller-2', unreachable)).rejects.toThrow('controller-2 cannot be reached (connect timed out): nothing was changed');
    for (const c of [down, unreachable]) expect(changes(c.log)).toEqual([]);
  });

  it('gives up when the learner never catches up', async () => {
    const c = fakeCluster({ promoteRefusals: 100 });
    await expect(replace('controller-1', c, { waitMs: 1500 })).rejects.toThrow(/member promote a1: Error: etcdserver: can only promote a learner member which is in sync with leader/);
  });
});

describe('replace helpers', () => {
  it("joins the cluster as it will be, in up's order: inventory nodes as the inventory lists them, then the other members", () => {
    const rows = memberRows(inv, [member(1), member(3, { name: 'old-node' }), member(0), member(4, { name: '', started: false })], []);
    expect(joiningCluster(inv, rows, inv.nodes[2]!)).toBe('controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380,controller-2=https://10.240.0.12:2380,old-node=https://10.240.0.13:2380');
  });

  it('reads the new member ID from member add -w json, beyond 2^53', () => {
    expect(addedMemberId('{"header":{"cluster_id":17300217494677100477},"member":{"ID":14345410872984472670,"peerURLs":["https://10.240.8.12:2380"],"isLearner":true}}\n')).toBe('c715232f09440c5e');
    expect(() => addedMemberId('Member added\n')).toThrow(/printed no member ID/);
  });

  it('uses learners from etcd 3.4 on', () => {
    expect([supportsLearners('3.3.27'), supportsLearners('3.4.0'), supportsLearners('3.5.17'), supportsLearners('4.0.0')]).toEqual([false, true, true, true]);
  });
});
