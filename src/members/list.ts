import { faultTolerance, quorum } from '../inventory/derive.js';
import { renderTable } from '../output.js';
import { toleranceLine } from './quorum.js';
import type { MembersView } from './view.js';

/** `hardway member list`, pure: the table, the fault-tolerance line and the JSON. */

export function listText(view: Pick<MembersView, 'rows' | 'notMembers'>): string {
  const table = renderTable(
    ['ID', 'NAME', 'STATUS', 'LEARNER', 'PEER URLS', 'CLIENT URLS', 'LEADER', 'IN INVENTORY'],
    view.rows.map((m) => [m.id, m.name, m.started ? 'started' : 'unstarted', m.isLearner ? 'yes' : 'no', m.peerURLs.join(','), m.clientURLs.join(','), m.isLeader ? 'yes' : '', m.node ? 'yes' : 'no']),
  );
  const voting = view.rows.filter((m) => !m.isLearner).length;
  const lines = [table, toleranceLine(voting, view.rows.length - voting)];
  for (const m of view.rows.filter((r) => !r.node)) lines.push(`${m.name || m.id} is not in the inventory ('hardway member remove ${m.name || m.id}' removes it)`);
  for (const n of view.notMembers) lines.push(`${n.name} is in the inventory but not a member ('hardway up' adds it)`);
  if (!view.rows.some((m) => m.isLeader)) lines.push('no member reports a leader');
  return lines.join('\n');
}

export function listJson(view: Pick<MembersView, 'clusterId' | 'rows' | 'notMembers'>) {
  const voting = view.rows.filter((m) => !m.isLearner).length;
  return {
    clusterId: view.clusterId,
    leader: view.rows.find((m) => m.isLeader)?.id ?? null,
    members: view.rows.map((m) => ({
      id: m.id,
      name: m.name,
      status: m.started ? 'started' : 'unstarted',
      isLearner: m.isLearner,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
      isLeader: m.isLeader,
      inInventory: !!m.node,
      ...(m.node ? { node: m.node.name } : {}),
    })),
    voting,
    quorum: quorum(voting),
    faultTolerance: faultTolerance(voting),
    notMembers: view.notMembers.map((n) => n.name),
  };
}
