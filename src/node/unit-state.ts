import { UNIT_CHANGED_SCRIPT, unitComplaintsScript } from '../journal/read.js';

/** The systemd state of etcd's unit on one node, as verify and doctor judge it. */
export interface SystemdState {
  enabled: string;
  active: string;
  subState: string;
  restarts: number;
  loadState: string;
  /** systemd's own complaint when the unit file is bad (from its log), if any. */
  badReason?: string;
}

const UNIT = 'etcd.service';

export const systemdStateScript = [
  `systemctl show -p LoadState -p ActiveState -p SubState -p NRestarts -p UnitFileState ${UNIT}`,
  `echo "IsEnabled=$(systemctl is-enabled ${UNIT} 2>/dev/null)"`,
  // systemd's complaints about the unit file as it is now.
  UNIT_CHANGED_SCRIPT,
  `${unitComplaintsScript('cat', 5)} | sed 's/^/Complaint=/'`,
].join('\n');

export function parseSystemdState(out: string): SystemdState {
  const kv = new Map<string, string>();
  const complaints: string[] = [];
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1).trim();
    if (k === 'Complaint') complaints.push(v);
    else kv.set(k, v);
  }
  const state: SystemdState = {
    enabled: kv.get('IsEnabled') || kv.get('UnitFileState') || '',
    active: kv.get('ActiveState') ?? '',
    subState: kv.get('SubState') ?? '',
    restarts: Number(kv.get('NRestarts') ?? 0) || 0,
    loadState: kv.get('LoadState') ?? '',
  };
  if (complaints.length) state.badReason = complaints[complaints.length - 1];
  return state;
}

