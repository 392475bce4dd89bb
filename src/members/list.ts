import { faultTolerance, quorum } from '../inventory/derive.js';
import { toleranceLine } from '../etcd/quorum.js';
import { renderMembers, versionsLine, type MemberLine } from '../cluster/members-table.js';
import type { MemberRow, MembersView } from '../etcd/members.js';

/** `hardway member list`, pure: the table, the fault-tolerance line and the JSON. */

/** A member row as the one member table (members/table.ts) shows it. */
export function lineOf(m: MemberRow): MemberLine {
  return {
    id: m.id,
    name: m.name,
    started: m.started,
    isLearner: m.isLearner,
    isLeader: m.isLeader,
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs,
    ...(m.status?.version ? { version: m.status.version } : {}),
    ...(m.node ? { node: m.node.name } : {}),
  };
}

export function listText(view: Pick<MembersView, 'rows' | 'notMembers'>, clusterVersion?: string, opts: { wide?: boolean } = {}): string {
  const lines = view.rows.map(lineOf);
  const table = renderMembers(lines, opts);
  const voting = view.rows.filter((m) => !m.isLearner).length;
  const versions = versionsLine(lines, clusterVersion);
  const out = [table, toleranceLine(voting, view.rows.length - voting), ...(versions ? [versions] : [])];
  for (const m of view.rows.filter((r) => !r.node)) out.push(`${m.name || m.id} is not in the inventory ('hardway member remove ${m.name || m.id}' removes it)`);
  for (const n of view.notMembers) out.push(`${n.name} is in the inventory but not a member ('hardway up' adds it)`);
  if (!view.rows.some((m) => m.isLeader)) out.push('no member reports a leader');
  return out.join('\n');
}

export function listJson(view: Pick<MembersView, 'clusterId' | 'rows' | 'notMembers'>, clusterVersion?: string) {
  const voting = view.rows.filter((m) => !m.isLearner).length;
  return {
    clusterId: view.clusterId,
    ...(clusterVersion ? { clusterVersion } : {}),
    leader: view.rows.find((m) => m.isLeader)?.id ?? null,
    members: view.rows.map((m) => ({
      id: m.id,
      name: m.name,
      status: m.started ? 'started' : 'unstarted',
      isLearner: m.isLearner,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
      isLeader: m.isLeader,
      ...(m.status?.version ? { version: m.status.version } : {}),
      inInventory: !!m.node,
      ...(m.node ? { node: m.node.name } : {}),
    })),
    voting,
    quorum: quorum(voting),
    faultTolerance: faultTolerance(voting),
    notMembers: view.notMembers.map((n) => n.name),
  };
}
