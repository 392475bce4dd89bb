import { OperationError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { formatBytes, renderTable } from '../output.js';
import { reachableClientUrl } from '../etcd/health.js';
import { alarmMemberName, alarmText, type Alarm } from '../etcd/alarms.js';
import { memberLabel, type MemberRow, type MembersView } from '../etcd/members.js';
import { etcdClient } from '../etcd/client.js';

/** `hardway alarm list | disarm`. */

export type { Alarm } from '../etcd/alarms.js';
export { alarmsInStatusErrors, alarmText, parseAlarmList } from '../etcd/alarms.js';

export const DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3;

/** The backend quota the inventory gives etcd (`etcd.extraFlags.quota-backend-bytes`), else etcd's default 2 GiB. */
export function quotaBytes(inv: Inventory): number {
  const v = Number(inv.etcd.extraFlags['quota-backend-bytes'] ?? 0);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_QUOTA_BYTES;
}

/**
 * Below this share of the quota a NOSPACE alarm may be disarmed. etcd raises it when a write would take the
 * database past the quota, so a database still near it raises it again at the next write.
 */
export const DISARM_BELOW = 0.9;

/** Undefined when disarming is safe; otherwise why not, per member, with the numbers and the fix. Pure. */
export function disarmProblem(alarms: Alarm[], rows: MemberRow[], quota: number): string | undefined {
  const corrupt = alarms.filter((a) => a.alarm === 'CORRUPT');
  if (corrupt.length) return `not disarming: CORRUPT on ${corrupt.map((a) => a.memberId).join(', ')} means the members' data differ; replace the corrupt member ('hardway member replace NODE') instead`;
  if (!alarms.some((a) => a.alarm === 'NOSPACE')) return undefined;
  const full = rows.filter((r) => r.status && r.status.dbSize >= quota * DISARM_BELOW);
  const silent = rows.filter((r) => r.started && !r.status);
  if (!full.length && !silent.length) return undefined;
  const sizes = full.map((r) => `${r.name || r.id}'s database is ${formatBytes(r.status!.dbSize)}, ${Math.round((100 * r.status!.dbSize) / quota)} % of the ${formatBytes(quota)} quota`);
  const unknown = silent.map((r) => `${memberLabel(r)} does not answer, so its size is unknown`);
  return (
    `not disarming NOSPACE: ${[...sizes, ...unknown].join('; ')}: etcd would raise the alarm again at the next write. ` +
    `First compact ('hardway etcdctl -- compact REVISION', the revision from 'hardway etcdctl -- endpoint status -w json') and defragment every member ('hardway defrag'), ` +
    `or raise etcd.extraFlags.quota-backend-bytes and run 'hardway up'`
  );
}

const endpoints = (view: MembersView) => view.rows.flatMap((r) => (r.started ? (reachableClientUrl(r) ?? []) : []));

export async function listAlarms(view: MembersView): Promise<Alarm[]> {
  return etcdClient(view.asker.remote, endpoints(view)).alarmList();
}

/** Disarms every alarm once disarmProblem has nothing against it; returns the alarms disarmed. */
export async function disarmAlarms(inv: Inventory, view: MembersView): Promise<Alarm[]> {
  const alarms = await listAlarms(view);
  if (!alarms.length) return [];
  const problem = disarmProblem(alarms, view.rows, quotaBytes(inv));
  if (problem) throw new OperationError(problem);
  await etcdClient(view.asker.remote, endpoints(view)).alarmDisarm();
  const left = await listAlarms(view);
  if (left.length) throw new OperationError(`alarm disarm returned, but alarms are still active: ${alarmText(left, view.rows)}`);
  return alarms;
}


export function alarmTable(alarms: Alarm[], rows: MemberRow[]): string {
  if (!alarms.length) return 'no active alarms';
  return renderTable(['MEMBER', 'ID', 'ALARM'], alarms.map((a) => [alarmMemberName(a.memberId, rows), a.memberId, a.alarm]));
}

export const alarmJson = (alarms: Alarm[], rows: MemberRow[]) => alarms.map((a) => ({ memberId: a.memberId, member: alarmMemberName(a.memberId, rows), alarm: a.alarm }));
