import { idHex, parseEtcdJson } from './etcdctl.js';
import type { MemberRow } from './members.js';

/** Alarms as etcdctl prints them, and as said of members, pure: for `hardway alarm`, `snapshot save` and `doctor` (which loads nothing more). */

/** etcd's AlarmType enum (etcdserverpb). */
const ALARM_TYPES: Record<number, string> = { 0: 'NONE', 1: 'NOSPACE', 2: 'CORRUPT' };

export interface Alarm {
  /** Hex, as etcdctl prints member IDs. */
  memberId: string;
  alarm: string;
}

/** `etcdctl alarm list -w json`: `{"alarms":[{"memberID":…,"alarm":1}]}` (no `alarms` key when there is none). */
export function parseAlarmList(stdout: string): Alarm[] {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('{'));
  if (!line) return [];
  const raw = parseEtcdJson<{ alarms?: { memberID?: string | number; alarm?: number | string }[] }>(line);
  return (raw.alarms ?? []).map((a) => ({ memberId: idHex(a.memberID ?? 0), alarm: typeof a.alarm === 'string' ? a.alarm : (ALARM_TYPES[a.alarm ?? 0] ?? String(a.alarm)) }));
}

/** The alarms in `endpoint status` errors: `memberID:12345 alarm:NOSPACE ` (the ID in decimal). */
export function alarmsInStatusErrors(errors: string[]): Alarm[] {
  return errors.flatMap((e) => {
    const m = /memberID:(\d+)\s+alarm:(\w+)/.exec(e);
    return m ? [{ memberId: idHex(m[1]!), alarm: m[2]! }] : [];
  });
}

/** The name of the member an alarm is on, else its ID. */
export const alarmMemberName = (id: string, rows: MemberRow[]) => rows.find((r) => r.id === id)?.name || id;

export const alarmText = (alarms: Alarm[], rows: MemberRow[]) => alarms.map((a) => `${a.alarm} on ${alarmMemberName(a.memberId, rows)}`).join(', ');
