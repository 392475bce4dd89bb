import { describe, expect, it } from 'vitest';
import { newHosts } from '../../src/engine/hosts.js';
import { defragAll, defragOrder } from '../../src/members/defrag.js';
import { answers } from '../../src/etcd/member-health.js';
import { memberRows, type MembersView } from '../../src/etcd/members.js';
import { healthAnswer, scriptedRemote } from './scripted-remote.js';
import { health, inv, member, status, statusAnswer, url } from './members-fakes.js';

/** A view of three members with `leader` leading, asked through a scripted controller-0. */
function viewOf(leader: number, opts: { unhealthy?: Set<string>; healthError?: string; defragFails?: string } = {}) {
  const log: string[] = [];
  const remote = scriptedRemote('controller-0', log, [
    [/endpoint health/, (c) => {
      const out = healthAnswer(c, (u) => !opts.unhealthy?.has(u) && !opts.healthError);
      return opts.healthError ? { stdout: out.stdout!.replace(/context deadline exceeded/g, opts.healthError) } : out;
    }],
    [/endpoint status/, (c) => statusAnswer(c, leader, () => 5000)],
    [/ defrag$/, (c) => (opts.defragFails && c.includes(opts.defragFails) ? { code: 1, stderr: 'Failed to defragment etcd member: context deadline exceeded\n' } : { stdout: 'Finished defragmenting\n' })],
  ]);
  const rows = memberRows(inv, [member(0), member(1), member(2)], [0, 1, 2].map((i) => status(i, leader, 100, { dbSize: 9_000_000 })));
  const view: MembersView = { clusterId: 'c', asker: { ...newHosts([inv.nodes[0]!])[0]!, remote }, rows, notMembers: [] };
  const defragged = () => log.filter((l) => / defrag$/.test(l)).map((l) => /--endpoints=(\S+)/.exec(l)![1]);
  return { view, log, defragged };
}

describe('defragOrder', () => {
  it('followers (and learners) first in member-list order, the leader last, the silent ones left out', () => {
    const rows = memberRows(inv, [member(0), member(1), member(2, { isLearner: true })], [status(0, 0), status(1, 0), status(2, 0)]);
    expect(defragOrder(rows, new Set(['a0', 'a1', 'a2'])).order.map((r) => r.name)).toEqual(['controller-1', 'controller-2', 'controller-0']);
    const { order, skipped } = defragOrder(rows, new Set(['a0', 'a2']));
    expect([order.map((r) => r.name), skipped.map((r) => r.name)]).toEqual([['controller-2', 'controller-0'], ['controller-1']]);
  });

  it('counts a member that answers with an active alarm as up (NOSPACE is repaired through it)', () => {
    expect(answers(health(0))).toBe(true);
    expect(answers({ ...health(0, false), error: 'Active Alarm(s): NOSPACE ' })).toBe(true);
    expect(answers(health(0, false))).toBe(false);
    expect(answers(undefined)).toBe(false);
  });
});

describe('defragAll', () => {
  it('defragments one member at a time, the leader last, with the DB size before and after', async () => {
    const { view, defragged } = viewOf(1);
    const results = await defragAll(inv, view, () => {});
    expect(defragged()).toEqual([url(0), url(2), url(1)]);
    expect(results.map((r) => [r.member, r.role, r.before, r.after, r.result])).toEqual([
      ['controller-0', 'follower', 9_000_000, 5000, 'defragmented'],
      ['controller-2', 'follower', 9_000_000, 5000, 'defragmented'],
      ['controller-1', 'leader', 9_000_000, 5000, 'defragmented'],
    ]);
  });

  it('skips a member that does not answer while the others keep quorum', async () => {
    const { view, defragged } = viewOf(0, { unhealthy: new Set([url(2)]) });
    const results = await defragAll(inv, view, () => {});
    expect(defragged()).toEqual([url(1), url(0)]);
    expect(results.at(-1)).toMatchObject({ member: 'controller-2', result: 'skipped: not healthy' });
  });

  it('is refused without a quorum, defragmenting nothing', async () => {
    const { view, defragged } = viewOf(0, { unhealthy: new Set([url(1), url(2)]) });
    await expect(defragAll(inv, view, () => {})).rejects.toThrow('not defragmenting: the cluster has no quorum: 3 voting members need 2 healthy, 1 is (down: controller-1, controller-2)');
    expect(defragged()).toEqual([]);
  });

  it('stops at a member whose defrag fails: none after it is touched', async () => {
    const { view, defragged } = viewOf(2, { defragFails: url(0) });
    const results = await defragAll(inv, view, () => {});
    expect(defragged()).toEqual([url(0)]);
    expect(results.map((r) => r.result)).toEqual([expect.stringMatching(/^failed: etcdctl defrag .*context deadline exceeded/), 'not done: stopped at the failure above', 'not done: stopped at the failure above']);
  });

  it('goes ahead on a cluster whose members all report NOSPACE', async () => {
    const { view, defragged } = viewOf(0, { healthError: 'Active Alarm(s): NOSPACE ' });
    await defragAll(inv, view, () => {});
    expect(defragged()).toHaveLength(3);
  });
});
