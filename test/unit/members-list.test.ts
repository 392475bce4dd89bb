import { describe, expect, it } from 'vitest';
import { listJson, listText } from '../../src/members/list.js';
import { memberNamed, memberRows } from '../../src/etcd/members.js';
import { inv, member, status } from './members-fakes.js';

describe('member rows', () => {
  it('pairs each member with its inventory node (by peer URL), its status and whether it leads', () => {
    const stranger = member(5, { name: 'old-node' });
    const rows = memberRows(inv, [member(0), member(1, { name: 'renamed' }), stranger], [status(0, 1), status(1, 1)]);
    expect(rows.map((r) => [r.name, r.node?.name, !!r.status, r.isLeader])).toEqual([
      ['controller-0', 'controller-0', true, false],
      ['renamed', 'controller-1', true, true],
      ['old-node', undefined, false, false],
    ]);
  });

  it('a name not in the member list is a usage error that lists the members', () => {
    const rows = memberRows(inv, [member(0), member(1)], []);
    expect(memberNamed(inv, { rows }, 'controller-1').id).toBe('a1');
    expect(() => memberNamed(inv, { rows }, 'controller-2')).toThrow('controller-2 is in the inventory but not a member of the cluster (members: controller-0 (a0), controller-1 (a1))');
    expect(() => memberNamed(inv, { rows }, 'nope')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/^nope is neither a member nor in the inventory/) }));
  });
});

describe('member list output', () => {
  const rows = memberRows(inv, [member(0), member(1), member(3, { name: '', clientURLs: [], started: false, isLearner: true })], [status(0, 0), status(1, 0)]);
  const view = { clusterId: 'c1', rows, notMembers: [inv.nodes[2]!] };

  it('prints the table, the fault-tolerance line and what the inventory and the cluster disagree on', () => {
    const text = listText(view);
    // The one member table (members/table.ts): NAME STATUS VERSION LEARNER LEADER CLIENT URLS, `-` for the unknown.
    expect(text.split('\n')[0]).toBe('NAME          STATUS     VERSION  LEARNER  LEADER  CLIENT URLS');
    expect(text).toMatch(/^controller-0 {2,}started {2,}3\.4\.23 {2,}no {2,}yes {2,}https:\/\/10\.240\.0\.10:2379$/m);
    expect(text).toMatch(/^- {2,}unstarted {2,}- {2,}yes {2,}no {2,}-$/m);
    // -o wide: the member ID, its peer URLs and whether the inventory lists it, too.
    const wide = listText(view, undefined, { wide: true });
    expect(wide.split('\n')[0]).toMatch(/^NAME +STATUS +VERSION +LEARNER +LEADER +CLIENT URLS +ID +PEER URLS +IN INVENTORY$/);
    expect(wide).toMatch(/^controller-0 .* https:\/\/10\.240\.0\.10:2379 {2}a0 {2}https:\/\/10\.240\.0\.10:2380 {2}yes$/m);
    expect(wide).toMatch(/^- .* a3 {2}https:\/\/10\.240\.0\.13:2380 {2}no$/m);
    expect(text.split('\n').slice(-4)).toEqual([
      '2 voting members (+1 learner): quorum 2, survives 0 failures',
      'all 2 members on 3.4.23',
      "a3 is not in the inventory ('hardway member remove a3' removes it)",
      "controller-2 is in the inventory but not a member ('hardway up' adds it)",
    ]);
  });

  it('names the versions, and which members run which while they differ', () => {
    const mixed = memberRows(inv, [member(0), member(1), member(2)], [status(0, 0), status(1, 0), { ...status(2, 0), version: '3.5.16' }]);
    expect(listText({ rows: mixed, notMembers: [] }, '3.4.0').split('\n')).toContain('1 of 3 members on 3.5.16, 2 on 3.4.23; cluster version 3.4 until all run 3.5');
    expect(listText(view, '3.4.0')).toContain('all 2 members on 3.4.23; cluster version 3.4');
    expect(listJson(view, '3.4.0')).toMatchObject({ clusterVersion: '3.4.0', members: [{ version: '3.4.23' }, { version: '3.4.23' }, {}] });
  });

  it('gives the same as JSON, IDs as hex strings', () => {
    const j = listJson(view);
    expect(j).toMatchObject({ clusterId: 'c1', leader: 'a0', voting: 2, quorum: 2, faultTolerance: 0, notMembers: ['controller-2'] });
    expect(j.members[2]).toEqual({ id: 'a3', name: '', status: 'unstarted', isLearner: true, peerURLs: ['https://10.240.0.13:2380'], clientURLs: [], isLeader: false, inInventory: false });
  });
});
