#!/usr/bin/env bash
# Benchmark (not a test, not run by CI) of `hardway pki rotate-ca` on 3 nodes with a writer on every endpoint: how
# long a rotation takes, and the writer's longest gap between two successful writes, against the writer alone
# (its own noise) and against what a new CA needed before: every member restarted at once. See bench/rotate.md.
#
#   npm run build && bash bench/rotate.sh      # as root, Linux; about 3 minutes
#
# Knobs (environment): ROUNDS (rotations, default 3), IDLE (seconds of the writer alone and of the all-at-once
# restart's window, default 15), KEEP_LAB=1 (leave the lab up on exit), LAB / BR / NET (the lab, default
# /tmp/benchrotate on hwlab8, 10.240.8.0/24). Do not rebuild dist/ while it runs.
#
# It owns one lab and touches nothing else: /tmp/benchrotate on hwlab8 (10.240.8.0/24, 3 nodes; the other benches use
# hwlab5-7), its nodes wiped and bootstrapped by `hardway up` first, taken down on exit (trap), also on failure or
# Ctrl-C. Results: bench/results/rotate-<stamp>/ (and rotate-latest).
set -Eeuo pipefail

ROUNDS=${ROUNDS:-3}
IDLE=${IDLE:-15}
KEEP_LAB=${KEEP_LAB:-0}
LAB=${LAB:-/tmp/benchrotate} BR=${BR:-hwlab8} NET=${NET:-10.240.8.0/24}
INV=$LAB/inventory.yaml

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init rotate 'measure,round,seconds,writes,failed,max_gap_ms,load1'

# The lab, its nodes emptied first: a lab left by an earlier run holds a CA the lab's pki.dir no longer has.
LAB_UP=1
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
"${HW[@]}" lab up --dir "$LAB" --bridge "$BR" --subnet "$NET" --nodes 3 >>"$OUT/lab.log" 2>&1 || die "lab up failed (see $OUT/lab.log)"
mapfile -t IPS < <(awk '/^ *address:/ {print $2}' "$INV")
SSH=(-i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR)
on() { local ip=$1; shift; ssh "${SSH[@]}" "root@$ip" "$@"; }
for ip in "${IPS[@]}"; do
  on "$ip" 'systemctl disable --now etcd.service >/dev/null 2>&1; rm -rf /etc/etcd /var/lib/etcd /etc/systemd/system/etcd.service; systemctl daemon-reload' || die "wiping $ip failed"
done
rm -rf "$LAB/pki"
"${HW[@]}" up -i "$INV" >>"$OUT/setup.log" 2>&1 || die "hardway up failed (see $OUT/setup.log)"

EPS=$(printf 'https://%s:2379,' "${IPS[@]}") EPS=${EPS%,}
TLS='--cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem'

# The writer, on controller-0 with its own /etc/etcd files (so it sees every phase as a client of the cluster): one
# `etcdctl put` after the other over every endpoint, the time of each success (ms) in a file, an F line per failure.
WRITER=$(cat <<EOF
: > /tmp/bench-writes; rm -f /tmp/bench-stop; i=0
while [ ! -e /tmp/bench-stop ]; do
  if ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS $TLS --command-timeout=5s put /bench/rotate/\$i v >/dev/null 2>/tmp/bench-err
  then date +%s%3N >> /tmp/bench-writes; else echo "F \$(date +%s%3N) \$(grep -v '^{' /tmp/bench-err | tail -n 1)" >> /tmp/bench-writes; fi
  i=\$((i+1))
done
EOF
)
writer_start() { on "${IPS[0]}" "$WRITER" & WPID=$!; sleep 1; }
# Stops the writer; prints "writes failed max_gap_ms" (the gap from the last success before to the first after).
writer_stop() {
  on "${IPS[0]}" 'touch /tmp/bench-stop'
  wait "$WPID" || true
  on "${IPS[0]}" "awk '/^F/ { f++; next } { n++; if (last && \$1 - last > gap) gap = \$1 - last; last = \$1 } END { printf \"%d %d %d\\n\", n, f, gap }' /tmp/bench-writes"
  on "${IPS[0]}" "grep '^F' /tmp/bench-writes" >>"$OUT/failed-writes.txt" || true
}

record() { # measure round seconds "writes failed gap"
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  read -r w f g <<<"$4"
  echo "$1,$2,$3,$w,$f,$g,$load" >>"$CSV"
  say "$(printf '  %-12s round %-2s %7.2f s   %5d writes, %d failed, longest gap %5d ms   (load %s)' "$1" "$2" "$3" "$w" "$f" "$g" "$load")"
}
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

say "writer alone, ${IDLE} s: its own noise (each put is a new etcdctl process and TLS connection)"
writer_start; t0=$EPOCHREALTIME; sleep "$IDLE"; s=$(elapsed "$t0"); record idle 1 "$s" "$(writer_stop)"

for r in $(seq 1 "$ROUNDS"); do
  say "rotate-ca, round $r"
  writer_start
  t0=$EPOCHREALTIME
  "${HW[@]}" pki rotate-ca -i "$INV" --yes >>"$OUT/rotate-$r.log" 2>&1 || die "rotate-ca failed (see $OUT/rotate-$r.log)"
  s=$(elapsed "$t0")
  sleep 1
  record rotate-ca "$r" "$s" "$(writer_stop)"
  restarts=$(grep -c '^restarting etcd on' "$OUT/rotate-$r.log" || true)
  say "    $restarts restarts (phases 1 and 3), phase 2: $(grep -c 'on a new connection: no restart' "$OUT/rotate-$r.log" || true) members took the new leaf without one"
done

# What a new CA meant without phases: every member restarted at once (here with the same files, so that only the
# outage is measured).
say "every member restarted at once (what a new CA needed without the phases)"
writer_start
t0=$EPOCHREALTIME
pids=()
for ip in "${IPS[@]}"; do on "$ip" 'systemctl restart --no-block etcd.service' & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || die "restarting etcd failed"; done
until on "${IPS[0]}" "ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS $TLS --command-timeout=2s endpoint health >/dev/null 2>&1"; do sleep 0.2; done
s=$(elapsed "$t0")
sleep 2
record all-at-once 1 "$s" "$(writer_stop)"

"${HW[@]}" verify -i "$INV" >>"$OUT/verify.log" 2>&1 || die "verify failed after the rounds (see $OUT/verify.log)"
say "results: $OUT"
