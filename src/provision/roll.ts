import { shq } from '../ssh/remote.js';

/**
 * What a rolling change does on the member it restarts, as shell (pure): the files it replaces are kept beside the new
 * ones (`<path>.hardway-prev`) until the flow ends, so that a member that does not come back is put back on what it
 * ran before and started again. A killed run's copies are found by the next `up` (observe), which adopts them.
 */

export const PREV_SUFFIX = '.hardway-prev';

/**
 * Copies each existing file to `<path>.hardway-prev` (mode and times kept). A copy a killed run kept stays as it is:
 * it is what the member ran before that run, with the others kept then.
 */
export function keepPreviousScript(paths: string[]): string {
  return ['set -e', ...paths.map((p) => `if [ -f ${shq(p)} ] && [ ! -f ${shq(p + PREV_SUFFIX)} ]; then cp -p ${shq(p)} ${shq(p + PREV_SUFFIX)}; fi`)].join('\n');
}

/** Puts the kept copies back (atomically each), then reloads systemd: the member can start what it ran. */
export function putBackScript(paths: string[]): string {
  return ['set -e', ...paths.map((p) => `if [ -f ${shq(p + PREV_SUFFIX)} ]; then mv -f ${shq(p + PREV_SUFFIX)} ${shq(p)}; fi`), 'systemctl daemon-reload'].join('\n');
}

export function dropPreviousScript(paths: string[]): string {
  return `rm -f ${paths.map((p) => shq(p + PREV_SUFFIX)).join(' ')}`;
}

/** The unit's last journal lines, each as JSON with who wrote it: read by journalReason. */
export const JOURNAL_REASON = `journalctl -u etcd.service -n 60 --no-pager -o json --output-fields=SYSLOG_IDENTIFIER,MESSAGE 2>/dev/null`;

const SAYS_WHY = /cannot|error|fatal|panic|failed|unknown flag|invalid|no space left/i;
/** What a running member logs about its peers while one of them is away: never why this one stopped. */
const PEER_NOISE = /rejected connection|became inactive|failed to (read|write|dial)|lost the TCP streaming|prober detected/i;

/**
 * Why etcd stopped, from JOURNAL_REASON's lines: etcd's own last line that says so before systemd's ("Failed to start
 * etcd.service" says only that it failed), and a full disk said as such. Undefined when no line says anything. Pure.
 */
export function journalReason(jsonLines: string): string | undefined {
  const entries = jsonLines.split('\n').flatMap((l) => {
    try {
      const e = JSON.parse(l) as { SYSLOG_IDENTIFIER?: unknown; MESSAGE?: unknown };
      return typeof e.MESSAGE === 'string' ? [{ who: String(e.SYSLOG_IDENTIFIER ?? ''), message: e.MESSAGE.trim() }] : [];
    } catch {
      return [];
    }
  });
  const telling = entries.filter((e) => SAYS_WHY.test(e.message) && !PEER_NOISE.test(e.message));
  const line = (telling.filter((e) => e.who !== 'systemd').pop() ?? telling.pop())?.message;
  if (!line) return undefined;
  return /no space left on device/i.test(line) ? `${line} (its disk is full: free space there, then run hardway again)` : line;
}
