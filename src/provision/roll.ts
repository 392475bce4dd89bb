import { shq } from '../ssh/remote.js';

/**
 * What a rolling change does on the member it restarts, as shell (pure): the files it replaces are kept beside the new
 * ones (`<path>.hardway-prev`) until the flow ends, so that a member that does not come back is put back on what it
 * ran before and started again. A killed run's copies are removed by the next `up` (observe).
 */

export const PREV_SUFFIX = '.hardway-prev';

/** Copies each existing file to `<path>.hardway-prev` (mode and times kept). */
export function keepPreviousScript(paths: string[]): string {
  return ['set -e', ...paths.map((p) => `if [ -f ${shq(p)} ]; then cp -p ${shq(p)} ${shq(p + PREV_SUFFIX)}; fi`)].join('\n');
}

/** Puts the kept copies back (atomically each), then reloads systemd: the member can start what it ran. */
export function putBackScript(paths: string[]): string {
  return ['set -e', ...paths.map((p) => `if [ -f ${shq(p + PREV_SUFFIX)} ]; then mv -f ${shq(p + PREV_SUFFIX)} ${shq(p)}; fi`), 'systemctl daemon-reload'].join('\n');
}

export function dropPreviousScript(paths: string[]): string {
  return `rm -f ${paths.map((p) => shq(p + PREV_SUFFIX)).join(' ')}`;
}

/** The last line of the unit's journal that says why etcd stopped (for the report). */
export const JOURNAL_REASON = `journalctl -u etcd.service -n 40 --no-pager -o cat 2>/dev/null | grep -iE 'cannot|error|fatal|panic|failed|unknown flag|invalid' | tail -n 1`;
