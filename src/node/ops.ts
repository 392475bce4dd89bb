import { REMOTE_PATHS } from '../render/paths.js';
import { shq } from '../ssh/remote.js';

/** What the member commands do on a node itself: stop etcd, move its data dir aside, remove hardway's files. Pure. */

/** `20240131T235959Z`: when a data dir was moved aside, in its new name. */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/** Where a data dir is moved aside: `<dataDir>.removed-<UTC>` by a removal, `.pre-restore-<UTC>` by a restore, `.pre-recover-<UTC>` by a recover. */
export function movedAsidePath(dataDir: string, d: Date | string, why: 'removed' | 'pre-restore' | 'pre-recover' = 'removed'): string {
  return `${dataDir.replace(/\/+$/, '')}.${why}-${typeof d === 'string' ? d : utcStamp(d)}`;
}

/**
 * Stops and disables etcd (when the unit exists) and renames the data dir to `to`: never deletes it, never moves it
 * into a dir already there. Prints `hardway:stopped` (when there was a unit), then `hardway:moved` or
 * `hardway:no-data-dir`, for the report.
 */
export function leaveScript(dataDir: string, to: string): string {
  return [
    'set -e',
    'if systemctl cat etcd.service >/dev/null 2>&1; then systemctl disable --now etcd.service >/dev/null; echo hardway:stopped; fi',
    ...moveAsideLines(dataDir, to),
  ].join('\n');
}

/**
 * Shell lines that rename the data dir to `to`, never into a dir already there: `hardway:moved`, or
 * `hardway:no-data-dir` when there is none.
 */
export function moveAsideLines(dataDir: string, to: string): string[] {
  const d = shq(dataDir);
  return [
    `if [ -e ${d} ]; then`,
    `  if [ -e ${shq(to)} ]; then echo "${to} already exists: not moving ${dataDir}" >&2; exit 3; fi`,
    `  mv -T ${d} ${shq(to)}; echo hardway:moved`,
    'else echo hardway:no-data-dir; fi',
  ];
}

/** What `reset --purge` removes: the files `up` installs (the data dir is only ever moved aside). */
export const PURGED = [REMOTE_PATHS.unit, REMOTE_PATHS.etcd, REMOTE_PATHS.etcdctl, REMOTE_PATHS.etcdutl, REMOTE_PATHS.caCert, REMOTE_PATHS.cert, REMOTE_PATHS.key] as const;

export function purgeScript(): string {
  return [
    'set -e',
    `rm -f ${PURGED.map(shq).join(' ')}`,
    // The dir only when hardway's files were all it held.
    `rmdir ${shq(REMOTE_PATHS.configDir)} 2>/dev/null || true`,
    'systemctl daemon-reload',
    'systemctl reset-failed etcd.service 2>/dev/null || true',
  ].join('\n');
}
