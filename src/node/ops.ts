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
 * `hardway:no-data-dir` when there is none. A data dir that is a mount point (a disk of its own, as etcd's hardware
 * guide advises) cannot be renamed (EBUSY): its `member` dir, where etcd keeps everything, is renamed beside it on
 * that disk instead (`member.<why>-<UTC>`, no copy), and `hardway:moved-inside <path>` said.
 */
export function moveAsideLines(dataDir: string, to: string): string[] {
  const d = shq(dataDir);
  const inside = memberAsidePath(dataDir, to);
  return [
    `if ${isMountPointTest(dataDir)}; then`,
    `  if [ -e ${d}/member ]; then`,
    `    if [ -e ${shq(inside)} ]; then echo "${inside} already exists: not moving ${dataDir}/member" >&2; exit 3; fi`,
    `    mv -T ${d}/member ${shq(inside)}; echo "hardway:moved-inside ${inside}"`,
    '  else echo hardway:no-data-dir; fi',
    `elif [ -e ${d} ]; then`,
    `  if [ -e ${shq(to)} ]; then echo "${to} already exists: not moving ${dataDir}" >&2; exit 3; fi`,
    `  mv -T ${d} ${shq(to)}; echo hardway:moved`,
    'else echo hardway:no-data-dir; fi',
  ];
}

/** A shell test: `dir` is a mount point (util-linux's mountpoint, or a device other than its parent's). */
export function isMountPointTest(dir: string): string {
  const d = shq(dir.replace(/\/+$/, '') || '/');
  return `[ -d ${d} ] && { mountpoint -q ${d} 2>/dev/null || [ "$(stat -c %d ${d})" != "$(stat -c %d ${d}/..)" ]; }`;
}

/** Where a mount point's `member` dir goes when its data dir is moved aside to `to`: `<dataDir>/member.<why>-<UTC>`. */
export function memberAsidePath(dataDir: string, to: string): string {
  const base = dataDir.replace(/\/+$/, '');
  return `${base}/member${to.slice(base.length)}`;
}

/** What moveAsideLines did, from its output: what was moved where (undefined: there was nothing to move). */
export function movedAside(out: string, dataDir: string, to: string): { from: string; to: string; text: string } | undefined {
  const inside = /^hardway:moved-inside (.+)$/m.exec(out)?.[1];
  if (inside) {
    const from = `${dataDir.replace(/\/+$/, '')}/member`;
    return { from, to: inside, text: `${from} to ${inside} (${dataDir} is a mount point: its member dir is moved on its own disk)` };
  }
  return /^hardway:moved$/m.test(out) ? { from: dataDir, to, text: `${dataDir} to ${to}` } : undefined;
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
