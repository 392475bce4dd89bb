#!/usr/bin/env bash
# The rolling upgrade of 3 members, 3.4.23 → 3.5 (Debian trixie's, as `lab up --etcd 3.5` packs it), by hardway
# (`up` with the new etcd.version: preflight, pre-upgrade snapshot, one member at a time, followers first, the leader
# last after a leadership hand-off) against a plain OpenSSH script doing the same roll (per node: copy the binaries,
# stop, install, start, wait until every endpoint is healthy), in the same run, on a lab of its own. A writer on the
# first node puts a key every 100 ms through every endpoint the whole time; its failed puts are counted.
#
#   sudo bench/upgrade.sh            ROUNDS=2 by default; KEEP_LAB=1 leaves the lab up
# Results: bench/results/upgrade-<stamp>/times.csv (round, tool, seconds, writes, failed) and summary.txt.
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_init upgrade 'round,tool,seconds,writes,failed'
ROUNDS=${ROUNDS:-2}
KEEP_LAB=${KEEP_LAB:-0}
LAB=${LAB:-/tmp/benchupgrade} BR=${BR:-hwlab7} NET=${NET:-10.240.7.0/24}
INV=$LAB/inventory.yaml
PREFIX=${NET%.0/24}
NODES=("$PREFIX.10" "$PREFIX.11" "$PREFIX.12")
TARBALL=$(ls /var/cache/hardway/etcd-3.5/etcd-v3.5.*-linux-amd64.tar.gz 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n $TARBALL ]] || die "no 3.5 release packed in /var/cache/hardway/etcd-3.5: run 'hardway lab up --etcd 3.5' once (the e2e tests do)"
V35=$(basename "$TARBALL" | sed -E 's/^etcd-v([0-9.]+)-linux-amd64\.tar\.gz$/\1/')
command -v scp >/dev/null || die "needs OpenSSH (ssh, scp)"

bench_lab_up
SSH=(-i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR)
on() { local ip=$1; shift; ssh "${SSH[@]}" "root@$ip" "$@"; }
TLS='--cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem'
EPS=$(printf 'https://%s:2379,' "${NODES[@]}"); EPS=${EPS%,}

# The 3.5 inventory: the lab's with the new release and a snapshots dir of the bench's own.
INV35=$WORK/inventory-35.yaml
sed -e "s|^  version: .*|  version: $V35|" -e "s|^  tarball: .*|  tarball: $TARBALL|" "$INV" >"$INV35"
printf 'snapshots:\n  dir: %s/snapshots\n' "$WORK" >>"$INV35"
mkdir -p "$WORK/bin35" && tar -xzf "$TARBALL" -C "$WORK/bin35" --strip-components=1

writer_start() { on "${NODES[0]}" "rm -f /tmp/stop-writer; i=0; f=0; while [ ! -e /tmp/stop-writer ]; do ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS $TLS --command-timeout=5s put bench/k\$i v >/dev/null 2>&1 && i=\$((i+1)) || f=\$((f+1)); sleep 0.1; done; echo \"\$i \$f\"" >"$WORK/writer.out" & WRITER=$!; sleep 1; }
writer_stop() { on "${NODES[0]}" 'touch /tmp/stop-writer'; wait "$WRITER"; read -r W F <"$WORK/writer.out"; }
# Back to a 3.4 cluster between rounds (etcd cannot downgrade): wiped, brought up again, not timed.
reset34() {
  for ip in "${NODES[@]}"; do on "$ip" 'systemctl stop etcd; rm -rf /var/lib/etcd /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/etcdutl /var/cache/hardway/sha256sums' & done; wait
  "${HW[@]}" up -i "$INV" >>"$OUT/setup.log" 2>&1 || die "hardway up (3.4) failed (see $OUT/setup.log)"
}
healthy() { [[ $(on "${NODES[0]}" "ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS $TLS endpoint health 2>&1 | grep -c 'is healthy'") == 3 ]]; }
# The plain roll: what a careful admin scripts — one node at a time, the binaries copied first, each member healthy again before the next.
plain_roll() {
  for ip in "${NODES[@]}"; do
    scp "${SSH[@]}" -q "$WORK/bin35/etcd" "$WORK/bin35/etcdctl" "root@$ip:/tmp/" || return 1
    on "$ip" 'systemctl stop etcd && install -m 0755 /tmp/etcd /tmp/etcdctl /usr/local/bin/ && systemctl start etcd' || return 1
    for _ in $(seq 1 240); do healthy && break; sleep 0.25; done
    healthy || return 1
  done
}
t() { date +%s.%N; }

for round in $(seq 1 "$ROUNDS"); do
  for tool in hardway hardway-no-snapshot openssh; do
    reset34
    writer_start
    start=$(t)
    case $tool in
      hardway) "${HW[@]}" up -i "$INV35" >>"$OUT/hardway.log" 2>&1 || die "hardway up (3.5) failed (see $OUT/hardway.log)" ;;
      hardway-no-snapshot) "${HW[@]}" up -i "$INV35" --no-snapshot >>"$OUT/hardway.log" 2>&1 || die "hardway up --no-snapshot failed (see $OUT/hardway.log)" ;;
      openssh) plain_roll || die "the plain roll failed" ;;
    esac
    secs=$(echo "$(t) - $start" | bc)
    writer_stop
    echo "$round,$tool,$secs,$W,$F" >>"$CSV"
    say "round $round $tool: ${secs} s, writer $W ok / $F failed"
  done
done
say "$(column -s, -t <"$CSV")"
