import { describe, expect, it } from 'vitest';
import { lineOf, listText } from '../../src/members/list.js';
import { MEMBER_COLUMNS, MEMBER_WIDE_COLUMNS, memberLines, renderClusterMembers, renderMembers, versionsLine } from '../../src/cluster/members-table.js';
import { memberRows } from '../../src/etcd/members.js';
import { inv, member, status } from './members-fakes.js';

/** The one member table (members/table.ts): the same columns and words in verify, member list, up and restore. */

const head = (text: string) => text.split('\n')[0]!.split(/ {2,}/);
const cells = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(`${name} `))!.split(/ {2,}/);

describe('the member table', () => {
  const members = [member(0), member(1, { isLearner: true }), member(5, { name: 'stranger' }), member(3, { name: '', clientURLs: [], started: false })];
  const statuses = [status(0, 0), { ...status(1, 0), version: '3.5.16' }];

  it('has the columns NAME STATUS VERSION LEARNER LEADER CLIENT URLS; -o wide adds ID, PEER URLS, IN INVENTORY', () => {
    const lines = memberLines(members, statuses, { inv });
    expect(head(renderMembers(lines))).toEqual([...MEMBER_COLUMNS]);
    expect(head(renderMembers(lines, { wide: true }))).toEqual([...MEMBER_WIDE_COLUMNS]);
    expect(MEMBER_WIDE_COLUMNS.slice(0, MEMBER_COLUMNS.length)).toEqual([...MEMBER_COLUMNS]);
  });

  it('says yes/no for LEARNER, LEADER and IN INVENTORY, started/unstarted, `-` for what is unknown', () => {
    const text = renderMembers(memberLines(members, statuses, { inv }), { wide: true });
    expect(cells(text, 'controller-0')).toEqual(['controller-0', 'started', '3.4.23', 'no', 'yes', 'https://10.240.0.10:2379', 'a0', 'https://10.240.0.10:2380', 'yes']);
    expect(cells(text, 'controller-1')).toEqual(['controller-1', 'started', '3.5.16', 'yes', 'no', 'https://10.240.0.11:2379', 'a1', 'https://10.240.0.11:2380', 'yes']);
    // Not in the inventory, and silent: no version.
    expect(cells(text, 'stranger')).toEqual(['stranger', 'started', '-', 'no', 'no', 'https://10.240.0.15:2379', 'a5', 'https://10.240.0.15:2380', 'no']);
    // Added, never started: no name, no client URL. Its peer URL is controller-3's, which the inventory does not have.
    expect(cells(text, '-')).toEqual(['-', 'unstarted', '-', 'no', 'no', '-', 'a3', 'https://10.240.0.13:2380', 'no']);
    expect(text).not.toMatch(/\btrue\b|\bfalse\b/);
  });

  it('takes the leader from the statuses, or from the view when it says', () => {
    expect(memberLines(members, statuses, { inv }).filter((l) => l.isLeader).map((l) => l.id)).toEqual(['a0']);
    expect(memberLines(members, statuses, { inv, leader: 'a1' }).filter((l) => l.isLeader).map((l) => l.id)).toEqual(['a1']);
    expect(memberLines(members, [], { inv }).some((l) => l.isLeader)).toBe(false);
    // A status with leader 0 (no leader) names nobody.
    expect(memberLines(members, [{ ...status(0, 0), leader: '0' }], { inv }).some((l) => l.isLeader)).toBe(false);
  });

  it('draws the same rows from member list\'s view as from etcdctl\'s answers (verify, up)', () => {
    const rows = memberRows(inv, members, statuses);
    const fromView = renderMembers(rows.map(lineOf), { wide: true });
    expect(fromView).toBe(renderMembers(memberLines(members, statuses, { inv }), { wide: true }));
    expect(listText({ rows, notMembers: [] }).startsWith(renderMembers(rows.map(lineOf)))).toBe(true);
  });

  it('the versions line: all on one version, or which run which', () => {
    const same = memberLines([member(0), member(1)], [status(0, 0), status(1, 0)], { inv });
    expect(versionsLine(same, '3.4.0')).toBe('all 2 members on 3.4.23; cluster version 3.4');
    expect(versionsLine(memberLines(members, [], { inv }))).toBeUndefined();
    expect(versionsLine(memberLines(members, statuses, { inv }), '3.4.0')).toMatch(/3\.5\.16/);
  });

  it('up and restore: the table of a cluster view, then its versions', () => {
    const text = renderClusterMembers({ members: [member(0), member(1)], status: [status(0, 1), status(1, 1)], leader: 'a1' }, inv);
    expect(head(text)).toEqual([...MEMBER_COLUMNS]);
    expect(cells(text, 'controller-1')[4]).toBe('yes');
    expect(text.split('\n').at(-1)).toBe('Versions: all 2 members on 3.4.23');
  });
});
