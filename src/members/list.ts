import { faultTolerance, quorum } from '../inventory/derive.js';
import { renderTable } from '../output.js';
import { toleranceLine } from './quorum.js';
import type { MembersView } from './view.js';
import { mixedVersions } from '../upgrade/preflight.js';

/** `hardway member list`, pure: the table, the fault-tolerance line and the JSON. */

/** `all 3 members on 3.4.23; cluster version 3.4`, or which members run which version while they differ. */
export function versionsLine(rows: Pick<MembersView, 'rows'>['rows'], clusterVersion?: string): string | undefined {
  const members = rows.map((m) => ({ name: m.name || m.id, healthy: true, ...(m.status?.version ? { version: m.status.version } : {}) }));
  const known = members.filter((m) => m.version);
  if (!known.length) return undefined;
  const cv = clusterVersion ? `; cluster version ${clusterVersion.split('.').slice(0, 2).join('.')}` : '';
  return mixedVersions(members, clusterVersion) ?? `all ${known.length} members on ${known[0]!.version}${cv}`;
}

export function listText(view: Pick<MembersView, 'rows' | 'notMembers'>, clusterVersion?: string): string {
  const table = renderTable(
    ['ID', 'NAME', 'STATUS', 'VERSION', 'LEARNER', 'PEER URLS', 'CLIENT URLS', 'LEADER', 'IN INVENTORY'],
    view.rows.map((m) => [m.id, m.name, m.started ? 'started' : 'unstarted', m.status?.version ?? '', m.isLearner ? 'yes' : 'no', m.peerURLs.join(','), m.clientURLs.join(','), m.isLeader ? 'yes' : '', m.node ? 'yes' : 'no']),
  );
  const voting = view.rows.filter((m) => !m.isLearner).length;
  const versions = versionsLine(view.rows, clusterVersion);
  const lines = [table, toleranceLine(voting, view.rows.length - voting), ...(versions ? [versions] : [])];
  for (const m of view.rows.filter((r) => !r.node)) lines.push(`${m.name || m.id} is not in the inventory ('hardway member remove ${m.name || m.id}' removes it)`);
  for (const n of view.notMembers) lines.push(`${n.name} is in the inventory but not a member ('hardway up' adds it)`);
  if (!view.rows.some((m) => m.isLeader)) lines.push('no member reports a leader');
  return lines.join('\n');
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
