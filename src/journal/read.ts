import type { Remote } from '../ssh/remote.js';

/** Reads etcd's journal on a node for `verify` and `doctor` (the remote half; parsing is journal.ts). */

const UNIT = 'etcd.service';
const UNIT_RE = UNIT.replace('.', '\\.');

/**
 * Shell that sets `c` to when the unit file last changed, to the nanosecond, and `m` to its whole second. The change
 * time, not the modification time: a file put back with `mv` (up's put-back of a member's previous unit) keeps its
 * old mtime, and systemd's complaints about the bad file it replaced, logged the same second, would still count.
 * PID 1 logs its complaints at the daemon-reload after the write, so `--since=@$c` keeps exactly those about the file
 * as it is now. A `stat` without `%.9Z` (coreutils before 8.x) gives whole seconds.
 */
export const UNIT_CHANGED_SCRIPT = [
  `c=$(stat -c %.9Z /etc/systemd/system/${UNIT} 2>/dev/null)`,
  `case "$c" in ''|*[!0-9.]*) c=$(stat -c %Z /etc/systemd/system/${UNIT} 2>/dev/null || echo 0) ;; esac`,
  'm=${c%.*}',
].join('\n');

/** PID 1's lines about the unit file (`etcd.service:7: Missing '='…`) since it last changed (after UNIT_CHANGED_SCRIPT). */
export function unitComplaintsScript(format: 'json' | 'cat', lines: number): string {
  return `journalctl _PID=1 -o ${format} --no-pager -n 3000 --since=@$c 2>/dev/null | grep -E '${UNIT_RE}:[0-9]+:' | tail -n ${lines}`;
}

export interface JournalWindow {
  /** Look back at most this far (for counting elections over minutes). */
  sinceSeconds?: number;
  /** Entries of etcd's unit to read at most (default 5000). */
  lines?: number;
}

/**
 * The journal that describes the unit as it is now, in `-o json`. A problem that a later `up` repaired is history,
 * not a finding, so:
 *  - unit active: the current invocation only, i.e. etcd's lines (`_SYSTEMD_INVOCATION_ID`) or systemd's lines
 *    about that run (`INVOCATION_ID`). A start time would be a guess: the previous process's exit can fall in the
 *    same second as the new start, and its `status=143` is not about the running etcd.
 *  - not active, or no InvocationID (systemd < 232): `journalctl -u` since the unit file last changed, plus PID 1's
 *    lines about the unit over that span.
 *  - always: PID 1's complaints about the unit file (`etcd.service:7: Missing '='…`) since the file changed;
 *    they are logged at the daemon-reload and carry no invocation of the run they spoil.
 * Both queries can return the same entry; the parser drops repeated `__CURSOR`s.
 */
export function journalScript(opts: JournalWindow = {}): string {
  const n = opts.lines ?? 5000;
  return [
    UNIT_CHANGED_SCRIPT,
    `a=$(systemctl show -p ActiveState --value ${UNIT} 2>/dev/null)`,
    // A stopped unit keeps its last InvocationID: it names the run that ended, not the file as it is now.
    `id=; [ "$a" = active ] && id=$(systemctl show -p InvocationID --value ${UNIT} 2>/dev/null)`,
    // 32 hex digits or nothing: anything else goes nowhere near the command line.
    `case "$id" in *[!0-9a-f]*) id= ;; esac`,
    `since=$m; [ -n "$id" ] && since=0`,
    opts.sinceSeconds ? `w=$(( $(date +%s) - ${opts.sinceSeconds} )); [ "$w" -gt "$since" ] && since=$w` : 'true',
    `o=; [ "$since" -gt 0 ] && o="--since=@$since"`,
    `if [ -n "$id" ]; then journalctl -o json --no-pager -n ${n} $o _SYSTEMD_INVOCATION_ID=$id + INVOCATION_ID=$id 2>/dev/null`,
    `else journalctl -u ${UNIT} -o json --no-pager -n ${n} $o 2>/dev/null; fi`,
    unitComplaintsScript('json', 100),
    `[ -n "$id" ] || journalctl _PID=1 -o json --no-pager -n 3000 $o 2>/dev/null | grep -F '${UNIT}' | grep -vE '${UNIT_RE}:[0-9]+:' | tail -n 200`,
    'true',
  ].join('\n');
}

export async function readJournal(remote: Remote, opts: { sinceSeconds?: number } = {}): Promise<string> {
  const r = await remote.run(journalScript(opts), { timeoutMs: 30_000 });
  return r.stdout;
}
