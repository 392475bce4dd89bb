#!/usr/bin/env bash
# Benchmark (not a test, not run by CI) of `hardway snapshot save` and `hardway snapshot restore` on a ~100 MB
# database against plain OpenSSH scripts doing the same steps. See bench/snapshot.md.
#
#   npm run build && bash bench/snapshot.sh      # as root, Linux; about 5 minutes
#
# Knobs (environment): ROUNDS (timed rounds of each side for save and for restore, alternating which goes first,
# default 5), VALUES (100 kB values to fill etcd with, default 1000, ~100 MB), POLL (seconds between the plain
# restore's health polls, default 0.5 like hardway), KEEP_LAB=1 (leave the lab up on exit; a re-run then skips
# the fill), LAB / BR / NET (the lab, default /tmp/benchsnap on hwlab6, 10.240.6.0/24). Do not rebuild dist/
# while it runs.
#
# It owns one lab and touches nothing else: /tmp/benchsnap on hwlab6 (10.240.6.0/24, 3 nodes; bench/up.sh uses
# hwlab6 for its 7-node lab, bench/keys.sh hwlab5: do not run them at the same time), taken down on exit (trap),
# also on failure or Ctrl-C. Results: bench/results/snapshot-<stamp>/ (and snapshot-latest).
set -Eeuo pipefail

ROUNDS=${ROUNDS:-5}
VALUES=${VALUES:-1000}
POLL=${POLL:-0.5}
KEEP_LAB=${KEEP_LAB:-0}
LAB=${LAB:-/tmp/benchsnap} BR=${BR:-hwlab6} NET=${NET:-10.240.6.0/24}
INV=$LAB/inventory.yaml

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init snapshot 'measure,side,round,seconds,load1,stop_max'
command -v scp >/dev/null || die "needs OpenSSH (ssh, scp)"
bench_need_jq

bench_lab_up

mapfile -t IPS < <(awk '/^ *address:/ {print $2}' "$INV")
mapfile -t NAMES < <(awk '/^ *- name:/ {print $3}' "$INV")
EPS=$(printf 'https://%s:2379,' "${IPS[@]}") EPS=${EPS%,}
IC=$(for i in "${!IPS[@]}"; do printf '%s=https://%s:2380,' "${NAMES[$i]}" "${IPS[$i]}"; done) IC=${IC%,}
SSH=(-i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR)
TLS='--cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem'
ETCDCTL="ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS $TLS --command-timeout=60s"
on() { local ip=$1; shift; ssh "${SSH[@]}" "root@$ip" "$@"; }
node0() { on "${IPS[0]}" "$@"; }
on_all() { # command: on every node in parallel, fails if any failed
  local pids=() ip rc=0 p
  for ip in "${IPS[@]}"; do on "$ip" "$1" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}
count() { node0 "$ETCDCTL get /bench/snap/ --prefix --keys-only --limit=1 -w json" | jq '.count // 0'; }
db_mb() { node0 "$ETCDCTL endpoint status -w json" | jq '[.[].Status.dbSize] | max / 1000000 | floor'; }
leader_ip() { node0 "$ETCDCTL endpoint status -w json" | jq -r '.[] | select(.Status.header.member_id == .Status.leader) | .Endpoint' | sed -E 's#https://([^:]+):.*#\1#'; }

# ---------------------------------------------------------------------------------------------------------
# ~100 MB: VALUES random values of 100 kB (75 000 bytes of /dev/urandom in base64), put by 4 loops on a node,
# each `etcdctl put KEY < file` (one process per put, which is why it is on the node and not through hardway).

FILL=$(cat <<EOF
set -e
fill() { # worker count
  i=0
  while [ \$i -lt \$2 ]; do
    head -c 75000 /dev/urandom | base64 -w0 > /tmp/bench-v.\$1
    $ETCDCTL put "/bench/snap/\$1-\$(printf %05d \$i)" < /tmp/bench-v.\$1 >/dev/null
    i=\$((i + 1))
  done
  rm -f /tmp/bench-v.\$1
}
per=\$(( ($VALUES + 3) / 4 ))
fill 0 \$per & a=\$!; fill 1 \$per & b=\$!; fill 2 \$per & c=\$!; fill 3 \$(( $VALUES - 3 * per )) & d=\$!
for p in \$a \$b \$c \$d; do wait \$p; done
EOF
)
HAVE=$(count)
if [[ $HAVE != "$VALUES" ]]; then
  [[ $HAVE == 0 ]] || die "the lab holds $HAVE /bench/snap/ keys, not 0 or $VALUES: take it down first"
  say "filling etcd with $VALUES values of 100 kB…"
  t0=$(date +%s)
  node0 "$FILL" >>"$OUT/setup.log" 2>&1 || die "filling etcd failed (see $OUT/setup.log)"
  say "filled in $(($(date +%s) - t0)) s"
  HAVE=$(count)
  [[ $HAVE == "$VALUES" ]] || die "etcd holds $HAVE keys after the fill, not $VALUES"
fi
say "etcd's db is $(db_mb) MB ($HAVE keys of 100 kB)"

# ---------------------------------------------------------------------------------------------------------
# The two sides of each measure. Each sets DT (seconds).

timed() { # log command…: runs it, DT = wall seconds
  local log=$1; shift
  local t0=$EPOCHREALTIME
  T0=$t0
  "$@" >"$log" 2>&1 || die "$(basename "$log" .log) failed (see $log)"
  DT=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
}
record() { # measure side round [stop_max]
  local load
  read -r load _ </proc/loadavg
  echo "$1,$2,$3,$DT,$load,${4:-}" >>"$CSV"
  printf '  %-8s %-8s round %-2s %7.3f s   (load %s)%s\n' "$1" "$2" "$3" "$DT" "$load" "${4:+   slowest systemctl stop $4 s}" >&2
}
# The longest `systemctl stop etcd` of the last restore (Stopping → Stopped in each node's journal, since T0): a leader
# stopped while the member it hands leadership to is stopping too waits out etcd's leader-transfer timeout.
stop_max() {
  local ip v m=0
  for ip in "${IPS[@]}"; do
    v=$(on "$ip" "journalctl -u etcd.service --since @${T0%.*} -o short-unix --no-pager | awk '/Stopping etcd/ && !a { a = \$1 } /Stopped etcd/ && !b { b = \$1 } END { if (a && b) printf \"%.3f\", b - a; else print 0 }'")
    m=$(awk -v a="$m" -v b="$v" 'BEGIN { print (b > a ? b : a) }')
  done
  echo "$m"
}

# save: hardway from the leader (its default) into FILE, against the issue's script on the same leader (found
# before the timing starts).
hw_save() { "${HW[@]}" snapshot save -i "$INV" --out "$1"; }
plain_save() { # file leader-ip
  local ip=$2
  on "$ip" "ETCDCTL_API=3 etcdctl --endpoints=https://$ip:2379 $TLS snapshot save /var/tmp/s.db" &&
    scp -q "${SSH[@]}" "root@$ip:/var/tmp/s.db" "$1" &&
    on "$ip" 'rm /var/tmp/s.db'
}

# restore: hardway with --force (the cluster is healthy) and --yes, against the same steps on every node at once:
# scp, sha256sum -c, stop, move the data dir aside, etcdctl snapshot restore with a fresh token; then start
# every node (--no-block, as hardway) and poll `endpoint health` of all three from one node until ok.
hw_restore() { "${HW[@]}" snapshot restore "$1" -i "$INV" --force --yes; }
plain_node() { # ip name file sha token stamp
  scp -q "${SSH[@]}" "$3" "root@$1:/var/tmp/s.db" || return 1
  on "$1" "set -e
echo '$4  /var/tmp/s.db' | sha256sum -c --quiet
systemctl stop etcd
mv /var/lib/etcd /var/lib/etcd.pre-$6
umask 077
ETCDCTL_API=3 etcdctl snapshot restore /var/tmp/s.db --name=$2 --initial-cluster=$IC --initial-cluster-token=$5 \
  --initial-advertise-peer-urls=https://$1:2380 --data-dir=/var/lib/etcd >/dev/null 2>/var/tmp/s.log || { tail -n 3 /var/tmp/s.log >&2; exit 1; }
rm -f /var/tmp/s.db"
}
plain_restore() { # file
  local sha stamp token pids=() i rc=0 p
  sha=$(sha256sum "$1" | cut -d' ' -f1)
  stamp=$(date -u +%Y%m%dT%H%M%SZ) token=bench-$RANDOM$RANDOM
  for i in "${!IPS[@]}"; do plain_node "${IPS[$i]}" "${NAMES[$i]}" "$1" "$sha" "$token" "$stamp" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || return 1
  pids=()
  for i in "${IPS[@]}"; do on "$i" 'systemctl start --no-block etcd.service' & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || return 1
  node0 "end=\$((SECONDS + 120)); until ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS $TLS --dial-timeout=3s --command-timeout=3s \
endpoint health >/dev/null 2>&1; do [ \$SECONDS -lt \$end ] || exit 1; sleep $POLL; done"
}

# After each restore (not timed): every member healthy, every key back, the moved-aside data dirs removed (100 MB
# per node per round; both sides keep them, as the issue asks).
after_restore() { # side round
  node0 "$ETCDCTL endpoint health" >>"$OUT/checks.log" 2>&1 || die "$1 restore $2: not every endpoint is healthy"
  local n
  n=$(count)
  [[ $n == "$VALUES" ]] || die "$1 restore $2: $n keys after the restore, not $VALUES"
  [[ $(node0 "$ETCDCTL member list -w json" | jq '.members | length') == 3 ]] || die "$1 restore $2: not 3 members"
  on_all 'rm -rf /var/lib/etcd.pre-*' || die "removing the moved-aside data dirs failed"
}

# ---------------------------------------------------------------------------------------------------------
# Save: one warm-up of each side (not timed; it also checks that both give the same snapshot), then ROUNDS rounds,
# alternating which side goes first.

SNAP=$WORK/snap.db
say "save: warm-up and check…"
timed "$OUT/save-hardway-0.log" hw_save "$SNAP"
LEADER=$(leader_ip)
[[ -n $LEADER ]] || die "no leader"
timed "$OUT/save-plain-0.log" plain_save "$WORK/plain-0.db" "$LEADER"
# Both files pass etcd's integrity check (hardway's snapshot status) and hold the same revision, keys and hash
# (the host's etcdctl, or the leader's when the host has none).
for f in "$SNAP" "$WORK/plain-0.db"; do
  "${HW[@]}" snapshot status "$f" >>"$OUT/save-compare.txt" 2>&1 || die "hardway snapshot status $f: not ok (see $OUT/save-compare.txt)"
done
snap_status() { # file
  if command -v etcdctl >/dev/null; then ETCDCTL_API=3 etcdctl snapshot status "$1" -w json 2>/dev/null
  else scp -q "${SSH[@]}" "$1" "root@$LEADER:/var/tmp/cmp.db" && on "$LEADER" 'ETCDCTL_API=3 etcdctl snapshot status /var/tmp/cmp.db -w json; rm -f /var/tmp/cmp.db'; fi
}
A=$(snap_status "$SNAP") B=$(snap_status "$WORK/plain-0.db")
echo "hardway $A" >>"$OUT/save-compare.txt"
echo "plain   $B" >>"$OUT/save-compare.txt"
[[ -n $A && $(jq -c 'del(.totalSize)' <<<"$A") == $(jq -c 'del(.totalSize)' <<<"$B") ]] ||
  die "the two sides saved different snapshots (see $OUT/save-compare.txt)"
rm -f "$WORK/plain-0.db"
say "  both sides: $A, $(stat -c %s "$SNAP") bytes"

say "save: $ROUNDS rounds of each side…"
for r in $(seq 1 "$ROUNDS"); do
  sides=(hardway plain)
  ((r % 2)) || sides=(plain hardway)
  for s in "${sides[@]}"; do
    f=$WORK/save-$s-$r.db
    if [[ $s == hardway ]]; then timed "$OUT/save-$s-$r.log" hw_save "$f"
    else
      LEADER=$(leader_ip) # not timed: the issue's script names the leader
      [[ -n $LEADER ]] || die "no leader"
      timed "$OUT/save-$s-$r.log" plain_save "$f" "$LEADER"
    fi
    record save "$s" "$r"
    rm -f "$f" "$f.json"
  done
done

# ---------------------------------------------------------------------------------------------------------
# Restore of the 3 nodes from the warm-up's snapshot: one warm-up of each (not timed; the hardway one after the
# plain one checks that hardway restores a cluster whose token is no longer the inventory's), then ROUNDS rounds.

say "restore: warm-up…"
timed "$OUT/restore-plain-0.log" plain_restore "$SNAP"
after_restore plain 0
timed "$OUT/restore-hardway-0.log" hw_restore "$SNAP"
after_restore hardway 0

say "restore: $ROUNDS rounds of each side…"
for r in $(seq 1 "$ROUNDS"); do
  sides=(hardway plain)
  ((r % 2)) || sides=(plain hardway)
  for s in "${sides[@]}"; do
    if [[ $s == hardway ]]; then timed "$OUT/restore-$s-$r.log" hw_restore "$SNAP"; else timed "$OUT/restore-$s-$r.log" plain_restore "$SNAP"; fi
    record restore "$s" "$r" "$(stop_max)"
    after_restore "$s" "$r"
  done
done

# ---------------------------------------------------------------------------------------------------------
# Figures

stats() { # measure side -> "median min max n"
  awk -F, -v m="$1" -v s="$2" '$1 == m && $2 == s { print $4 }' "$CSV" | sort -n |
    awk '{ v[NR] = $1 } END { if (!NR) { print "- - - 0"; exit } m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR }'
}
stopmed() { awk -F, -v m="$1" -v s="$2" '$1 == m && $2 == s && $6 != "" { print $6 }' "$CSV" | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else printf "-" }'; }
loads() { awk -F, -v m="$1" '$1 == m { print $5 }' "$CSV" | sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { print a "–" b }'; }
say ""
say "snapshot of a $(db_mb) MB db ($VALUES × 100 kB), 3 nodes, $ROUNDS rounds each ($(nproc) cores, load now $(cut -d' ' -f1-3 /proc/loadavg))"
for m in save restore; do
  read -r hm hmin hmax hn <<<"$(stats "$m" hardway)"
  read -r pm pmin pmax pn <<<"$(stats "$m" plain)"
  goal=1.1
  [[ $m == restore ]] && goal=1.2
  ratio=$(awk -v a="$hm" -v b="$pm" 'BEGIN { printf "%.2f", a / b }')
  verdict=$(awk -v v="$ratio" -v t="$goal" 'BEGIN { print (v <= t ? "meets" : "misses") }')
  say "$(printf '  %-8s hardway %7s s (%s–%s, n=%s)   plain %7s s (%s–%s, n=%s)   ratio %s× (goal ≤ %s×: %s)   load %s' \
    "$m" "$hm" "$hmin" "$hmax" "$hn" "$pm" "$pmin" "$pmax" "$pn" "$ratio" "$goal" "$verdict" "$(loads "$m")")"
done
say "  slowest systemctl stop etcd per restore, median: hardway $(stopmed restore hardway) s, plain $(stopmed restore plain) s"
say "results: $OUT"
