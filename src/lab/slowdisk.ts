/**
 * A slow disk without device-mapper: a systemd drop-in runs the unit's command under strace, which delays the
 * return of every fdatasync (etcd's WAL sync) by a given number of microseconds.
 *
 * The drop-in does not copy the unit's ExecStart: /usr/local/sbin/hw-slowdisk reads the unit's current
 * ExecStart (fragment and other drop-ins, continuations joined) each time it starts, so rewriting the unit
 * (e.g. `hardway tune` changing flags) keeps working with the disk still slow.
 */

export const SLOWDISK_SCRIPT_PATH = '/usr/local/sbin/hw-slowdisk';
export const SLOWDISK_DROPIN_NAME = 'hw-slowdisk.conf';

export function slowDiskDropInPath(unit = 'etcd'): string {
  return `/etc/systemd/system/${unitFile(unit)}.d/${SLOWDISK_DROPIN_NAME}`;
}

function unitFile(unit: string): string {
  return unit.endsWith('.service') ? unit : `${unit}.service`;
}

export function renderSlowDiskDropIn(micros: number, unit = 'etcd'): string {
  if (!Number.isInteger(micros) || micros < 0) throw new Error(`slow disk delay must be whole microseconds ≥ 0 (got ${micros})`);
  if (!/^[A-Za-z0-9@._-]+$/.test(unit)) throw new Error(`bad unit name '${unit}'`);
  return [
    `# Written by hardway lab: every fdatasync of ${unitFile(unit)} returns ${micros} µs late (strace fault injection).`,
    '# The wrapper reads the unit\'s current ExecStart when it starts; remove this file and restart to undo.',
    '[Service]',
    'Type=simple',
    'ExecStart=',
    `ExecStart=${SLOWDISK_SCRIPT_PATH} ${micros} ${unitFile(unit)}`,
    '',
  ].join('\n');
}

/** The wrapper installed on every node at SLOWDISK_SCRIPT_PATH. */
export function renderSlowDiskScript(): string {
  return String.raw`#!/bin/bash
# hw-slowdisk <microseconds> [unit]   (installed by hardway lab)
# Runs <unit>'s current ExecStart under strace, delaying the return of every fdatasync by <microseconds>.
# systemd in the lab's containers cannot kill a whole cgroup, so this wrapper stops its own child on
# SIGTERM/SIGINT: otherwise etcd would outlive it and the next start would fail with "address already in use".
set -u
delay="$\{1:?usage: hw-slowdisk <microseconds> [unit]}"
unit="$\{2:-etcd.service}"
case "$unit" in *.service) ;; *) unit="$unit.service" ;; esac

fragment="$(systemctl show -p FragmentPath --value "$unit")"
files=()
[ -n "$fragment" ] && [ -f "$fragment" ] && files+=("$fragment")
for f in $(systemctl show -p DropInPaths --value "$unit"); do
  case "$f" in */${SLOWDISK_DROPIN_NAME}) ;; *) [ -f "$f" ] && files+=("$f") ;; esac
done
if [ "$\{#files[@]}" -eq 0 ]; then echo "hw-slowdisk: no unit file for $unit" >&2; exit 1; fi

# The last ExecStart= of [Service], in systemd's order (fragment, then drop-ins); "ExecStart=" alone resets.
cmd="$(awk '
  function handle(l,   v) {
    if (l ~ /^[ \t]*\[/) { sect = l; gsub(/[ \t]/, "", sect); return }
    if (sect != "[Service]") return
    if (l ~ /^[ \t]*ExecStart[ \t]*=/) { v = l; sub(/^[ \t]*ExecStart[ \t]*=[ \t]*/, "", v); cmd = v }
  }
  FNR == 1 { if (buf != "") handle(buf); buf = ""; sect = "" }
  buf == "" && /^[ \t]*[#;]/ { next }
  {
    line = $0
    if (line ~ /\\$/) { sub(/\\$/, "", line); buf = buf line " "; next }
    buf = buf line; handle(buf); buf = ""
  }
  END { if (buf != "") handle(buf); print cmd }
' "$\{files[@]}")"
cmd="$(printf '%s' "$cmd" | sed -E 's/^[-@:+!]+//')"
eval "set -- $cmd"
if [ "$#" -eq 0 ]; then echo "hw-slowdisk: $unit has no ExecStart" >&2; exit 1; fi
echo "hw-slowdisk: fdatasync +$\{delay}us for: $*" >&2

strace -f -qq -o /dev/null --seccomp-bpf -e trace=fdatasync -e inject=fdatasync:delay_exit="$delay" -- "$@" &
tracer=$!

stop() {
  local kids i
  kids="$(cat /proc/$tracer/task/*/children 2>/dev/null)"
  for k in $kids; do kill -"$1" "$k" 2>/dev/null; done
  for i in $(seq 150); do kill -0 "$tracer" 2>/dev/null || return 0; sleep 0.1; done
  kids="$(cat /proc/$tracer/task/*/children 2>/dev/null)"
  for k in $kids; do kill -KILL "$k" 2>/dev/null; done
  kill -KILL "$tracer" 2>/dev/null
}
trap 'stop TERM' TERM
trap 'stop INT' INT

rc=0
while kill -0 "$tracer" 2>/dev/null; do
  wait "$tracer"; rc=$?
done
exit "$rc"
`.replaceAll('$\\{', '${');
}
