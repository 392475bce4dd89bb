import { shq } from '../ssh/remote.js';
import { parseWalMetadata } from './etcd-ids.js';
import { STATE_FLAG_SED } from './unit-state.js';

/**
 * What a node has, gathered by ONE remote command per node (stat + sha256sum of every managed file, the unit's
 * systemd state, and the data dir's WAL metadata), and parsed here. Both halves are pure.
 */

export interface ObservedFile {
  exists: boolean;
  mode?: number;
  sha256?: string;
}

export interface ObservedDir {
  exists: boolean;
  mode?: number;
}

export interface ObservedUnit {
  /** `systemctl is-enabled`: enabled, disabled, static, bad, not-found, … */
  enabled: string;
  /** `systemctl is-active`: active, inactive, failed, activating, … */
  active: string;
  mainPid: number;
  needsDaemonReload: boolean;
  restarts: number;
}

export interface ObservedNode {
  files: Map<string, ObservedFile>;
  dirs: Map<string, ObservedDir>;
  unit: ObservedUnit;
  /** The data dir holds a member (`member/` exists). */
  hasData: boolean;
  /** The installed unit's SHA-256 without its --initial-cluster-state value. */
  unitStateFreeSha256?: string;
  /** IDs read from the WAL, when there is one. */
  wal?: { memberId: bigint; clusterId: bigint };
}

export function observeScript(files: string[], dirs: string[], dataDir: string, unit = 'etcd.service'): string {
  const u = shq(unit);
  const unitFile = shq(`/etc/systemd/system/${unit}`);
  return [
    `if [ -f ${unitFile} ]; then echo "U $(${STATE_FLAG_SED} ${unitFile} | sha256sum | cut -d" " -f1)"; fi`,
    `for f in ${files.map(shq).join(' ')}; do`,
    '  if [ -f "$f" ]; then echo "F $(stat -c %a "$f") $(sha256sum < "$f" | cut -d" " -f1) $f"; else echo "F - - $f"; fi',
    'done',
    `for d in ${dirs.map(shq).join(' ')}; do`,
    '  if [ -d "$d" ]; then echo "D $(stat -c %a "$d") $d"; else echo "D - $d"; fi',
    'done',
    `echo "E $(systemctl is-enabled ${u} 2>/dev/null || true)"`,
    `echo "A $(systemctl is-active ${u} 2>/dev/null || true)"`,
    `systemctl show -p MainPID -p NeedDaemonReload -p NRestarts ${u} 2>/dev/null | sed 's/^/P /'`,
    `if [ -d ${shq(`${dataDir}/member`)} ]; then`,
    '  echo "M 1"',
    `  wal=$(ls ${shq(`${dataDir}/member/wal`)}/*.wal 2>/dev/null | head -n 1)`,
    '  if [ -n "$wal" ]; then echo "W $(head -c 8192 "$wal" | base64 | tr -d "\\n")"; fi',
    'else echo "M 0"; fi',
  ].join('\n');
}

export function parseObserved(output: string): ObservedNode {
  const obs: ObservedNode = {
    files: new Map(),
    dirs: new Map(),
    unit: { enabled: '', active: '', mainPid: 0, needsDaemonReload: false, restarts: 0 },
    hasData: false,
  };
  for (const line of output.split('\n')) {
    const [tag, ...rest] = line.split(' ');
    switch (tag) {
      case 'F': {
        const [mode, sha, ...p] = rest;
        const path = p.join(' ');
        obs.files.set(path, mode === '-' ? { exists: false } : { exists: true, mode: parseInt(mode!, 8), sha256: sha! });
        break;
      }
      case 'D': {
        const [mode, ...p] = rest;
        obs.dirs.set(p.join(' '), mode === '-' ? { exists: false } : { exists: true, mode: parseInt(mode!, 8) });
        break;
      }
      case 'E':
        obs.unit.enabled = rest.join(' ').trim() || 'not-found';
        break;
      case 'A':
        obs.unit.active = rest.join(' ').trim() || 'unknown';
        break;
      case 'P': {
        const [k, v = ''] = rest.join(' ').split('=');
        if (k === 'MainPID') obs.unit.mainPid = Number(v) || 0;
        if (k === 'NeedDaemonReload') obs.unit.needsDaemonReload = v.trim() === 'yes';
        if (k === 'NRestarts') obs.unit.restarts = Number(v) || 0;
        break;
      }
      case 'U':
        obs.unitStateFreeSha256 = rest[0];
        break;
      case 'M':
        obs.hasData = rest[0] === '1';
        break;
      case 'W': {
        const meta = parseWalMetadata(Buffer.from(rest[0] ?? '', 'base64'));
        if (meta) obs.wal = meta;
        break;
      }
    }
  }
  return obs;
}
