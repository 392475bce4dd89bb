import { shq } from '../ssh/remote.js';
import { parseWalMetadata } from '../etcd/ids.js';
import { PREV_SUFFIX } from './roll.js';
import { bootstrapFreeSha256, stateFreeSha256 } from '../render/unit-flags.js';

/**
 * What a node has, gathered by ONE remote command per node (stat + SHA-256 of every managed file, the unit's
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
  /** The data dir holds a member: `member/wal/` has a WAL file (etcd's own test). */
  hasData: boolean;
  /** The installed unit's SHA-256 without its --initial-cluster-state value. */
  unitStateFreeSha256?: string;
  /** The same with every bootstrap-only flag's value blanked. */
  unitBootstrapFreeSha256?: string;
  /** The installed unit's text (its first 64 KiB): what `plan` compares flag by flag. */
  unitText?: string;
  /** The ExecStart systemd has loaded for the unit (drop-ins applied), as an argv. */
  loadedExecStart?: string[];
  /** The running etcd process: its argv, and whether the binary it runs was replaced on disk since it started. */
  running?: { args: string[]; binaryReplaced: boolean };
  /** IDs read from the WAL, when there is one. */
  wal?: { memberId: bigint; clusterId: bigint };
  /** `uname -m`: the CPU the binaries must be built for. */
  machine?: string;
  /**
   * Files a killed rolling change kept beside their replacement (`<path>.hardway-prev`; the paths without the
   * suffix): what this member ran before that run.
   */
  kept?: string[];
}

/** Where a node keeps the SHA-256 of its managed files, so that a no-op run does not re-read 38 MB of binaries. */
export const SUMS_FILE = '/var/cache/hardway/sha256sums';

export interface ObserveScriptOptions {
  files: string[];
  dirs: string[];
  dataDir: string;
  /** Where the WAL is: `--wal-dir` when the unit sets it, else `<dataDir>/member/wal`. */
  walDir?: string;
  unit?: string;
  /** Write the sums cache (`up`); `plan` only reads it, so that it changes nothing on the node. */
  recordSums: boolean;
  sumsFile?: string;
  /**
   * A sum is recorded only for a file unchanged for this long (seconds): a file changed again within its
   * timestamps' resolution would keep its key (as git's "racy" index entries).
   */
  settleSeconds?: number;
}

/*
 * The sums cache: one line per file, `<key> <sha256> <path>`, the key made of device, inode, size, mtime and ctime
 * (nanoseconds where the file system has them). Any write, chmod, rename or replacement changes the ctime, which
 * nobody can set back, so a cached sum is used only for the very file it was computed from.
 */
/**
 * Reads `stat -c '%a|%Z|%d:%i:%s:%y:%z|%n'` lines and the cache file `sums`; prints `mode ctime key sum path` per
 * file, the key with its blanks made `_`, the sum `-` when the cache holds none for that key and path.
 */
const CACHED_SUMS_AWK =
  'BEGIN { while ((getline l < sums) > 0) { n = index(l, " "); k = substr(l, 1, n - 1); r = substr(l, n + 1); m = index(r, " "); cached[k SUBSEP substr(r, m + 1)] = substr(r, 1, m - 1) } } ' +
  '{ key = $3; gsub(/ /, "_", key); path = substr($0, length($1) + length($2) + length($3) + 4); sum = cached[key SUBSEP path]; print $1, $2, key, (sum == "" ? "-" : sum), path }';

export function observeScript(o: ObserveScriptOptions): string {
  const u = shq(o.unit ?? 'etcd.service');
  const unitFile = shq(`/etc/systemd/system/${o.unit ?? 'etcd.service'}`);
  const sums = shq(o.sumsFile ?? SUMS_FILE);
  const files = o.files.map(shq).join(' ');
  return [
    // Every fork counts on a busy node (the nodes share the machine with the laptop in a lab): what the node must
    // compute is computed by it, the rest here — the unit's sums from its text (parseObserved), base64 in blocks
    // (no `tr`), a glob instead of `ls | head`, builtins where the shell has them.
    `if [ -f ${unitFile} ]; then echo 'T<'; head -c ${UNIT_TEXT_BYTES} ${unitFile} | base64; echo '>'; fi`,
    `sums=${sums}; now=$(date +%s); fresh=''`,
    // One stat and one awk for every file (a fork per file and step was most of this command's time on a busy node):
    // each line `mode ctime key sum path`, the sum `-` when the cache has none for this very key and path.
    `known=$(stat -c '%a|%Z|%d:%i:%s:%y:%z|%n' -- ${files} 2>/dev/null | awk -F'|' -v sums="$sums" '${CACHED_SUMS_AWK}')`,
    'while read -r mode ctime key sum f; do',
    '  [ -f "$f" ] || continue',
    '  if [ "$sum" = - ]; then sum=$(sha256sum < "$f" | cut -d" " -f1); fi',
    // The newline inside the quotes ends the cache line.
    `  if [ $((now - ctime)) -ge ${o.settleSeconds ?? 2} ]; then fresh="$fresh$key $sum $f`,
    '"; fi',
    '  echo "F $mode $sum $f"',
    'done <<HARDWAY_KNOWN',
    '$known',
    'HARDWAY_KNOWN',
    `for f in ${files}; do [ -f "$f" ] || echo "F - - $f"; done`,
    ...(o.recordSums
      ? [
          // Written only when it would change: a run that changes nothing leaves the cache as it is (read by the shell).
          `old=''; if [ -n "$fresh" ] && [ -f "$sums" ]; then while IFS= read -r l; do old="$old$l`,
          '"; done < "$sums"; fi',
          `if [ -n "$fresh" ] && [ "$fresh" != "$old" ]; then (mkdir -p "\${sums%/*}" && chmod 700 "\${sums%/*}" && printf '%s' "$fresh" > "$sums.$$" && mv -f "$sums.$$" "$sums") 2>/dev/null || rm -f "$sums.$$"; fi`,
        ]
      : []),
    // Copies a rolling change keeps (roll.ts) that a killed run left: said, never removed here — the run adopts them
    // and drops them once the member is healthy (a restart the killed run began may still be under way now).
    `for f in ${o.files.map((f) => shq(`${f}${PREV_SUFFIX}`)).join(' ')}; do [ -f "$f" ] && echo "K $f"; done`,
    // The dirs that exist, their modes in one stat.
    `set --; for d in ${o.dirs.map(shq).join(' ')}; do if [ -d "$d" ]; then set -- "$@" "$d"; else echo "D - $d"; fi; done`,
    `if [ $# -gt 0 ]; then stat -c 'D %a %n' -- "$@"; fi`,
    "printf 'H '; uname -m",
    // is-enabled reads the unit files as they are on disk (show's UnitFileState is what systemd last loaded); an
    // empty answer still ends its line.
    `printf 'E '; systemctl is-enabled ${u} 2>/dev/null || echo`,
    // One systemctl call for the unit's state and the ExecStart systemd has loaded (drop-ins included); with the
    // running etcd's argv and whether its binary was replaced since, they tell a process that predates its unit.
    // Read by the shell itself, no grep or sed: each fork counts on a busy node.
    `show=$(systemctl show -p ActiveState -p MainPID -p NeedDaemonReload -p NRestarts -p ExecStart ${u} 2>/dev/null); pid=0; exec_start=''; active=''`,
    'while IFS= read -r line; do',
    '  case "$line" in',
    '    ActiveState=*) active=${line#ActiveState=};;',
    '    MainPID=*) echo "P $line"; pid=${line#MainPID=};;',
    '    NeedDaemonReload=*|NRestarts=*) echo "P $line";;',
    '    ExecStart=*) exec_start=${line#ExecStart=};;',
    '  esac',
    'done <<HARDWAY_SHOW',
    '$show',
    'HARDWAY_SHOW',
    'echo "A $active"',
    'if [ "\${pid:-0}" -gt 0 ] 2>/dev/null && [ -r "/proc/$pid/cmdline" ]; then',
    // One line as systemctl printed it: said as it is.
    '  if [ -n "$exec_start" ]; then echo "R $exec_start"; fi',
    "  echo 'C<'; base64 < \"/proc/$pid/cmdline\"; echo '>'",
    // Unreadable (not root, no sudo): nothing said rather than "not replaced".
    '  if exe=$(readlink "/proc/$pid/exe" 2>/dev/null); then case "$exe" in *" (deleted)") echo "X 1";; *) echo "X 0";; esac; fi',
    'fi',
    // What etcd itself asks (wal.Exist): a first start that failed can leave member/snap/db but no WAL, and then etcd
    // bootstraps again, reading every --initial-* flag. The glob is sorted as `ls` would.
    `wal=''; for w in ${shq(o.walDir ?? `${o.dataDir}/member/wal`)}/*.wal; do if [ -f "$w" ]; then wal=$w; break; fi; done`,
    `if [ -n "$wal" ]; then echo "M 1"; echo 'W<'; head -c 8192 "$wal" | base64; echo '>'; else echo "M 0"; fi`,
  ].join('\n');
}

export function parseObserved(output: string): ObservedNode {
  const obs: ObservedNode = {
    files: new Map(),
    dirs: new Map(),
    unit: { enabled: '', active: '', mainPid: 0, needsDaemonReload: false, restarts: 0 },
    hasData: false,
  };
  for (const line of unblocked(output)) {
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
      case 'H':
        if (rest[0]) obs.machine = rest[0];
        break;
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
        obs.unitBootstrapFreeSha256 = rest[1];
        break;
      case 'T':
        obs.unitText = Buffer.from(rest[0] ?? '', 'base64').toString('utf8');
        break;
      case 'M':
        obs.hasData = rest[0] === '1';
        break;
      case 'C': {
        // Empty when the process ended between reading its PID and its cmdline: nothing known then.
        const args = Buffer.from(rest[0] ?? '', 'base64').toString('utf8').split('\0').filter(Boolean);
        if (args.length) obs.running = { ...obs.running, args, binaryReplaced: obs.running?.binaryReplaced ?? false };
        break;
      }
      case 'L':
      case 'R': {
        // `{ path=… ; argv[]=/usr/local/bin/etcd --name … ; ignore_errors=no ; … }`: the last one is what runs.
        const shown = tag === 'R' ? rest.join(' ') : Buffer.from(rest[0] ?? '', 'base64').toString('utf8');
        const argvs = [...shown.matchAll(/argv\[\]=(.*?) ; /g)].map((m) => m[1]!.split(' ').filter(Boolean));
        obs.loadedExecStart = argvs[argvs.length - 1];
        break;
      }
      case 'K': {
        const p = rest.join(' ');
        if (p.endsWith(PREV_SUFFIX)) (obs.kept ??= []).push(p.slice(0, -PREV_SUFFIX.length));
        break;
      }
      case 'X':
        if (obs.running) obs.running.binaryReplaced = rest[0] === '1';
        break;
      case 'W': {
        const meta = parseWalMetadata(Buffer.from(rest[0] ?? '', 'base64'));
        if (meta) obs.wal = meta;
        break;
      }
    }
  }
  // The unit's sums with its bootstrap flags blanked, from its text as the node has it (the same functions as the
  // rendered unit's), unless the node said them.
  if (obs.unitText !== undefined && obs.unitStateFreeSha256 === undefined && Buffer.byteLength(obs.unitText) < UNIT_TEXT_BYTES) {
    obs.unitStateFreeSha256 = stateFreeSha256(obs.unitText);
    obs.unitBootstrapFreeSha256 = bootstrapFreeSha256(obs.unitText);
  }
  return obs;
}

/** How much of the unit the node sends: a longer one is not a unit hardway rendered, and its sums stay unknown. */
const UNIT_TEXT_BYTES = 65536;

/**
 * The output's lines with each block (`T<`, the lines of `base64`, `>`) made one line `T <base64>`: base64 wraps its
 * output, and the node saves a `tr` per block.
 */
function unblocked(output: string): string[] {
  const out: string[] = [];
  let block: { tag: string; parts: string[] } | undefined;
  for (const line of output.split('\n')) {
    if (block) {
      if (line === '>') {
        out.push(`${block.tag} ${block.parts.join('')}`);
        block = undefined;
      } else block.parts.push(line);
    } else if (/^[A-Z]<$/.test(line)) block = { tag: line[0]!, parts: [] };
    else out.push(line);
  }
  return out;
}
