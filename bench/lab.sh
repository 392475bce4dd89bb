#!/usr/bin/env bash
# Timings of `hardway lab`: base rootfs build (cold cache), cold `lab up` of 3 and of 7 nodes (warm rootfs
# cache, no nodes), warm `lab up` (nodes already up: a no-op), and `lab down` of 7.
#
# Runs on its own bridge, subnet, lab dir and rootfs cache, so it never touches the default lab (hwlab0) or
# the shared cache in /var/cache/hardway. Root on Linux; `npm run build` first.
#   sudo bench/lab.sh            # prints a table; also written to bench/results/lab-<time>.txt
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "bench/lab.sh: needs root (the lab mounts overlays and boots containers)" >&2; exit 2; }
[ -f dist/cli.js ] || { echo "bench/lab.sh: run 'npm run build' first" >&2; exit 2; }

BRIDGE=${BENCH_BRIDGE:-hwlab5}
SUBNET=${BENCH_SUBNET:-10.240.5.0/24}
CACHE=$(mktemp -d /var/tmp/hw-bench-cache.XXXXXX)
DIR=$(mktemp -d /var/tmp/hw-bench-lab.XXXXXX)
LOG="$DIR.log"
export HARDWAY_LAB_CACHE="$CACHE" NO_COLOR=1
lab() { node bin/hardway lab "$@" --dir "$DIR" --bridge "$BRIDGE" --subnet "$SUBNET"; }

cleanup() {
  lab down >>"$LOG" 2>&1 || true
  rm -rf --one-file-system "$CACHE" "$DIR"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
results=()
timed() { # timed <label> <command…>
  local label=$1; shift
  local t0 t1
  t0=$(now_ms)
  if ! "$@" >>"$LOG" 2>&1; then echo "bench/lab.sh: '$label' failed; see $LOG" >&2; tail -20 "$LOG" >&2; exit 1; fi
  t1=$(now_ms)
  results+=("$(printf '%-40s %8.1f s' "$label" "$(echo "$t0 $t1" | awk '{print ($2-$1)/1000}')")")
  echo "${results[-1]}"
}

build_rootfs() {
  node --input-type=module -e "
    import { ensureRootfs } from './dist/lab/rootfs.js';
    const r = await ensureRootfs(process.env.HARDWAY_LAB_CACHE);
    if (!r.built) throw new Error('the cache was not cold');
  "
}

echo "hardway lab timings ($(nproc) cores, $(uname -r), bridge $BRIDGE, cache $CACHE)"
timed 'base rootfs build (cold cache)' build_rootfs
timed 'cold lab up --nodes 3' lab up --nodes 3
timed 'warm lab up --nodes 3 (no-op)' lab up --nodes 3
timed 'lab down (3 nodes)' lab down
timed 'cold lab up --nodes 7' lab up --nodes 7
timed 'warm lab up --nodes 7 (no-op)' lab up --nodes 7
timed 'lab down (7 nodes)' lab down

mkdir -p bench/results
out="bench/results/lab-$(date +%Y%m%dT%H%M%S).txt"
{ echo "hardway lab timings, $(date -Is), $(nproc) cores, kernel $(uname -r)"; printf '%s\n' "${results[@]}"; } >"$out"
rm -f "$LOG"
echo "written to $out"
