import type { Inventory } from '../inventory/types.js';
import type { ClusterView } from '../etcd/health.js';
import { renderTable } from '../output.js';
import { mixedVersions } from '../etcd/versions.js';
import type { EndpointStatus, MemberInfo } from '../etcd/etcdctl.js';
import { nodeOfMember } from '../etcd/members.js';

/**
 * The one member table: `verify`, `member list`, `up` and `snapshot restore` show the members with the same columns
 * and the same words. Pure.
 *
 *   NAME  STATUS  VERSION  LEARNER  LEADER  CLIENT URLS                 (-o wide adds: ID  PEER URLS  IN INVENTORY)
 *
 * STATUS is `started` or `unstarted` (added, never started: no name yet), LEARNER, LEADER and IN INVENTORY are `yes`
 * or `no`, an unknown cell (no name, no version: the member did not answer `endpoint status`) is `-`.
 */

export interface MemberLine {
  id: string;
  /** '' for an added member that never started. */
  name: string;
  started: boolean;
  isLearner: boolean;
  isLeader: boolean;
  peerURLs: string[];
  clientURLs: string[];
  /** Its server version, when it answered `endpoint status`. */
  version?: string;
  /** The inventory node it is (by peer URL, else by name); undefined when the inventory does not list it. */
  node?: string;
}

export const MEMBER_COLUMNS = ['NAME', 'STATUS', 'VERSION', 'LEARNER', 'LEADER', 'CLIENT URLS'] as const;
export const MEMBER_WIDE_COLUMNS = [...MEMBER_COLUMNS, 'ID', 'PEER URLS', 'IN INVENTORY'] as const;

/** What `-o` may say where a member table is printed. */
export const TABLE_OUTPUTS = ['wide'] as const;
export type TableOutput = (typeof TABLE_OUTPUTS)[number];

export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const orDash = (s: string | undefined): string => (s ? s : '-');
const urls = (u: string[]): string => orDash(u.join(','));

/**
 * The lines from what etcdctl said: the member list, the endpoint statuses that came back (each member's version,
 * and who leads unless `leader` says), the inventory the members are matched with.
 */
export function memberLines(members: MemberInfo[], status: EndpointStatus[], opts: { inv: Inventory; leader?: string }): MemberLine[] {
  const leader = opts.leader ?? status.find((s) => s.leader && s.leader !== '0')?.leader;
  // In the inventory's order, as every other report lists nodes (etcd lists members by ID); members the inventory
  // does not name come last, in etcd's order.
  const rank = (m: MemberInfo): number => {
    const node = nodeOfMember(opts.inv, m);
    return node ? opts.inv.nodes.indexOf(node) : opts.inv.nodes.length;
  };
  const ordered = members.map((m, i) => ({ m, i })).sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i).map((x) => x.m);
  return ordered.map((m) => {
    const version = status.find((s) => s.memberId === m.id)?.version;
    const node = nodeOfMember(opts.inv, m)?.name;
    return {
      id: m.id,
      name: m.name,
      started: m.started,
      isLearner: m.isLearner,
      isLeader: !!leader && m.id === leader,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
      ...(version ? { version } : {}),
      ...(node ? { node } : {}),
    };
  });
}

export function renderMembers(lines: MemberLine[], opts: { wide?: boolean } = {}): string {
  return renderTable(
    [...(opts.wide ? MEMBER_WIDE_COLUMNS : MEMBER_COLUMNS)],
    lines.map((m) => {
      const cells = [orDash(m.name), m.started ? 'started' : 'unstarted', orDash(m.version), yesNo(m.isLearner), yesNo(m.isLeader), urls(m.clientURLs)];
      return opts.wide ? [...cells, m.id, urls(m.peerURLs), yesNo(m.node !== undefined)] : cells;
    }),
  );
}

/** `all 3 members on 3.4.23; cluster version 3.4`, or which members run which version while they differ. */
export function versionsLine(lines: Pick<MemberLine, 'id' | 'name' | 'version'>[], clusterVersion?: string): string | undefined {
  const members = lines.map((m) => ({ name: m.name || m.id, healthy: true, ...(m.version ? { version: m.version } : {}) }));
  const known = members.filter((m) => m.version);
  if (!known.length) return undefined;
  const cv = clusterVersion ? `; cluster version ${clusterVersion.split('.').slice(0, 2).join('.')}` : '';
  return mixedVersions(members, clusterVersion) ?? `all ${known.length} members on ${known[0]!.version}${cv}`;
}

/** The table and the versions line for a cluster as `up` and `snapshot restore` leave it (provision/health.ts's view). */
export function renderClusterMembers(view: Pick<ClusterView, 'members' | 'status' | 'leader'>, inv: Inventory, opts: { wide?: boolean } = {}): string {
  const lines = memberLines(view.members, view.status, { inv, ...(view.leader ? { leader: view.leader } : {}) });
  const versions = versionsLine(lines);
  return [renderMembers(lines, opts), ...(versions ? [`Versions: ${versions}`] : [])].join('\n');
}
