#!/usr/bin/env bash
# Benchmark (not a test, not run by CI) of `hardway keys stats` over 100 000 keys (~200 MB of values) against
# `etcdctl get "" --prefix -w json | jq` doing the same grouping on the node. See bench/keys.md.
#
#   npm run build && bash bench/keys.sh          # as root, Linux; ~5 minutes (most of it filling etcd)
#
# Knobs (environment): ROUNDS (timed rounds of each side, alternating which goes first, default 5),
# KEEP_LAB=1 (leave the lab up on exit). Do not rebuild dist/ while it runs.
#
# It owns one lab and touches nothing else: /tmp/benchkeys on hwlab5 (10.240.5.0/24, 3 nodes), taken down on
# exit (trap), also on failure or Ctrl-C. jq is not in the lab's nodes: the host's jq (apt-get install jq when
# missing) and its two libraries are copied to controller-0. Results: bench/results/keys-<stamp>/ (and keys-latest).
set -Eeuo pipefail

ROUNDS=${ROUNDS:-5}
KEEP_LAB=${KEEP_LAB:-0}
LAB=/tmp/benchkeys BR=hwlab5 NET=10.240.5.0/24
INV=$LAB/inventory.yaml

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init keys 'side,round,seconds,load1'
bench_need_jq

bench_lab_up

IP0=$(awk '/^ *address:/ {print $2; exit}' "$INV")
EPS=$(awk '/^ *address:/ {printf "%shttps://%s:2379", sep, $2; sep=","}' "$INV")
SSH=(ssh -i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR "root@$IP0")
ETCDCTL="ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS --cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem --command-timeout=120s"
node0() { "${SSH[@]}" "$@"; }

# ---------------------------------------------------------------------------------------------------------
# 100 000 keys, ~200 MB: a cluster's mix of resources, events with a lease (etcd takes at most 128 operations
# per transaction, so 128 puts a txn; values are plain text, which etcd stores as it would protobuf).

FILL=$(cat <<EOF
set -e
lease=\$($ETCDCTL lease grant 86400 | awk '{print \$2}')
fill() { # prefix count size [put flags]
  v=\$(head -c "\$3" /dev/zero | tr '\\0' v)
  i=0
  while [ \$i -lt \$2 ]; do
    { echo; j=0; while [ \$j -lt 128 ] && [ \$((i + j)) -lt \$2 ]; do n=\$((i + j)); printf 'put %s %sns-%02d/obj-%06d %s\\n' "\$4" "\$1" \$((n % 40)) \$n "\$v"; j=\$((j + 1)); done; echo; echo; } | $ETCDCTL txn >/dev/null
    i=\$((i + 128))
  done
}
fill /registry/pods/ 40000 3000 & a=\$!
fill /registry/configmaps/ 20000 1500 & b=\$!
fill /registry/secrets/ 10000 1000 & c=\$!
fill /registry/events/ 20000 700 "--lease=\$lease" & d=\$!
fill /registry/example.com/widgets/ 10000 2600 & e=\$!
for p in \$a \$b \$c \$d \$e; do wait \$p; done
EOF
)
# A lab kept from an earlier run (KEEP_LAB=1) already holds them.
HAVE=$(node0 "$ETCDCTL get '' --prefix --keys-only --limit=1 -w json" | jq '.count // 0')
if [[ $HAVE != 100000 ]]; then
  say "filling etcd with 100 000 keys (~200 MB)…"
  t0=$(date +%s)
  node0 "$FILL" >>"$OUT/setup.log" 2>&1 || die "filling etcd failed (see $OUT/setup.log)"
  say "filled in $(( $(date +%s) - t0 )) s"
fi
say "etcd's db is $(( $(node0 "$ETCDCTL endpoint status -w json" | jq '.[0].Status.dbSize') / 1000000 )) MB"

# jq for the node: the host's binary and its libraries, in a directory of their own.
node0 'mkdir -p /usr/local/lib/hwbench'
for f in /usr/bin/jq $(ldd /usr/bin/jq | awk '/libjq|libonig/ {print $3}'); do
  scp -q -i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes "$f" "root@$IP0:/usr/local/lib/hwbench/" || die "copying $f to the node failed"
done
JQ='LD_LIBRARY_PATH=/usr/local/lib/hwbench /usr/local/lib/hwbench/jq'

# The same grouping as `hardway keys stats`: resource per key (the API group for /registry/<group.with.dots>/…,
# services/specs and services/endpoints apart), keys with a lease apart; count, bytes, largest.
JQ_PROG='
def size: (.value // "") as $v | ($v | length) as $l
  | ($l / 4 * 3) - (if ($v | endswith("==")) then 2 elif ($v | endswith("=")) then 1 else 0 end);
def resource: if startswith("/registry/") then (.[10:] | split("/")) as $p
    | if ($p[0] | contains(".")) and ($p | length) > 1 then "\($p[1]).\($p[0])"
      elif $p[0] == "services" and ($p | length) > 2 then "services/\($p[1])" else $p[0] end
  else (ltrimstr("/") | split("/")[0]) end;
[.kvs[] | (.key | @base64d) as $k | {r: ($k | resource), l: ((.lease // 0) != 0), s: size, k: $k}]
| group_by([.l, .r])
| map({resource: .[0].r, leased: .[0].l, count: length, bytes: (map(.s) | add), largest: (max_by(.s) | {key: .k, size: .s})})'

# The jq side, with the peak RSS of etcdctl and jq sampled on the node (no GNU time in the nodes).
JQ_SIDE="$ETCDCTL get '' --prefix -w json | $JQ -c '$JQ_PROG'"
jq_side() { node0 "$JQ_SIDE"; }
hw_side() { /usr/bin/time -f '%M' -o "$OUT/hw-rss.txt" "${HW[@]}" keys stats -i "$INV" --json; }

timed() { # side round command…
  local side=$1 round=$2; shift 2
  local t0 t1
  t0=$(date +%s%N)
  "$@" >"$OUT/$side-$round.json" 2>>"$OUT/$side.err" || die "$side round $round failed (see $OUT/$side.err)"
  t1=$(date +%s%N)
  echo "$side,$round,$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}'),$(cut -d' ' -f1 /proc/loadavg)" >>"$CSV"
}

say "timing $ROUNDS rounds of each side, alternating which goes first…"
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then timed hardway "$r" hw_side; timed jq "$r" jq_side
  else timed jq "$r" jq_side; timed hardway "$r" hw_side; fi
done

# Both sides must have found the same thing.
norm_hw() { jq -r '.groups[] | "\(.resource) \(.leased) \(.count) \(.bytes) \(.largest.size)"' "$1" | sort; }
norm_jq() { jq -r '.[] | "\(.resource) \(.leased) \(.count) \(.bytes) \(.largest.size)"' "$1" | sort; }
diff <(norm_hw "$OUT/hardway-1.json") <(norm_jq "$OUT/jq-1.json") >"$OUT/compare.diff" || die "the two sides disagree (see $OUT/compare.diff)"
[[ $(jq .count "$OUT/hardway-1.json") == 100000 ]] || die "hardway counted $(jq .count "$OUT/hardway-1.json") keys, not 100000"

# What each way moves: the values as etcdctl prints them, against the listing after the node's size filter.
FILTER=$(node --input-type=module -e "import { SIZE_FILTER } from '$ROOT/dist/keys/listing.js'; process.stdout.write(SIZE_FILTER)")
printf '%s' "$FILTER" | node0 'cat > /tmp/hw-size.awk'
FULL=$(node0 "$ETCDCTL get '' --prefix -w json | wc -c")
SIZED=$(node0 "$ETCDCTL get '' --prefix -w json | awk -v head=0 -f /tmp/hw-size.awk | wc -c")
PEAK=$(node0 "$ETCDCTL get '' --prefix -w json > /dev/null & e=\$!; m=0; while kill -0 \$e 2>/dev/null; do v=\$(awk '/VmHWM/ {print \$2}' /proc/\$e/status 2>/dev/null); [ -n \"\$v\" ] && [ \"\$v\" -gt \$m ] && m=\$v; sleep 0.1; done; echo \$m")
# hardway's largest page: about 16 MiB of values (nextPageSize), 5 592 pods of 3 000 bytes.
PAGEPEAK=$(node0 "$ETCDCTL get --limit=5592 -w json -- /registry/pods/ /registry/pods0 > /dev/null & e=\$!; m=0; while kill -0 \$e 2>/dev/null; do v=\$(awk '/VmHWM/ {print \$2}' /proc/\$e/status 2>/dev/null); [ -n \"\$v\" ] && [ \"\$v\" -gt \$m ] && m=\$v; sleep 0.05; done; echo \$m")
JQPEAK=$(node0 "$ETCDCTL get '' --prefix -w json > /tmp/all.json; $JQ -c '$JQ_PROG' /tmp/all.json > /dev/null & j=\$!; m=0; while kill -0 \$j 2>/dev/null; do v=\$(awk '/VmHWM/ {print \$2}' /proc/\$j/status 2>/dev/null); [ -n \"\$v\" ] && [ \"\$v\" -gt \$m ] && m=\$v; sleep 0.1; done; rm -f /tmp/all.json; echo \$m")

median() { awk -F, -v s="$1" '$1 == s {print $3}' "$CSV" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
say ""
say "keys stats over 100 000 keys, $ROUNDS rounds each ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
say "  hardway keys stats --json (from the host, over SSH)    median $(median hardway) s   (local peak RSS $(( $(cat "$OUT/hw-rss.txt") / 1024 )) MB, etcdctl per page $(( PAGEPEAK / 1024 )) MB)"
say "  etcdctl get --prefix -w json | jq (on the node)        median $(median jq) s   (peak RSS etcdctl $(( PEAK / 1024 )) MB, jq $(( JQPEAK / 1024 )) MB)"
say "  etcdctl's JSON of every value: $(( FULL / 1000000 )) MB; after the node's size filter: $(( SIZED / 1000000 )) MB"
say "  every round: $(awk -F, 'NR > 1 {printf "%s %s=%ss ", $1, $2, $3}' "$CSV")"
say "results in $OUT"
