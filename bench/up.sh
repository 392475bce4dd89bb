#!/usr/bin/env bash
# Benchmark (not a test) of `hardway up` against plain OpenSSH doing the same steps. See bench/up.md.
#
#   npm run build && bash bench/up.sh            # as root, Linux; about 3.5-4 minutes
#   npm run build && bash bench/up.sh noop       # only `up` with nothing to do and `verify`, 3 nodes; ~2 minutes
#
# `noop` times, on one healthy 3-node cluster and alternating every round: `hardway up` with nothing to do and
# `hardway verify`, the same from OLD=<git revision> (built into a temp dir; unset: not timed), and their plain
# OpenSSH equivalents, NOOP_ROUNDS rounds.
#
# Knobs (environment): ROUNDS (cold rounds, 3 nodes, default 5), NOOP_ROUNDS (default ROUNDS),
# ROUNDS7 (cold rounds, 7 nodes, default 3; 0 skips the 7-node lab), MUX (1 = also time OpenSSH with
# ControlMaster multiplexing, default 1), BARRIER (1 = also time OpenSSH starting every node at once after
# all are shipped, default 1), POLL (seconds between health polls of the OpenSSH side, default 0.5 like
# hardway), KEEP_LAB=1 (leave the labs up on exit). Do not rebuild dist/ while it runs.
#
# It owns two labs and touches nothing else: /tmp/benchlab on hwlab7 (10.240.7.0/24, 3 nodes) and
# /tmp/benchlab7 on hwlab6 (10.240.6.0/24, 7 nodes, booted after the 3-node lab is down). Both are taken
# down on exit (trap), also on failure or Ctrl-C. Results: bench/results/up-<stamp>/ (and up-latest).
set -Eeuo pipefail

ROUNDS=${ROUNDS:-5}
NOOP_ROUNDS=${NOOP_ROUNDS:-$ROUNDS}
ROUNDS7=${ROUNDS7:-3}
MUX=${MUX:-1}
BARRIER=${BARRIER:-1}
POLL=${POLL:-0.5}
KEEP_LAB=${KEEP_LAB:-0}

# The bench's own labs. Never hwlab0/.hardway/lab (the shared lab) nor hwlab9//tmp/mylab.
# LAB3/BR3/NET3 may be given (e.g. a lab of your own that is already up: `lab up` on it is then a no-op).
LAB3=${LAB3:-/tmp/benchlab} BR3=${BR3:-hwlab7} NET3=${NET3:-10.240.7.0/24}
LAB7=/tmp/benchlab7 BR7=hwlab6 NET7=10.240.6.0/24
MODE=${1:-all}
[[ $MODE == all || $MODE == noop ]] || { echo "usage: bash bench/up.sh [noop]" >&2; exit 2; }
OLD=${OLD-}

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_init up 'nodes,kind,round,seconds,load1'
command -v scp >/dev/null || die "needs OpenSSH (ssh, scp)"

LABS_UP=()
cleanup() {
  local rc=$?
  set +e
  # Multiplexing masters this script started (one control socket per node).
  for s in "$WORK"/cm-*; do [[ -S $s ]] && ssh -o ControlPath="$s" -O exit x >/dev/null 2>&1; done
  if [[ $KEEP_LAB != 1 ]]; then
    for spec in "${LABS_UP[@]}"; do
      read -r d b n <<<"$spec"
      "${HW[@]}" lab down --dir "$d" --bridge "$b" --subnet "$n" >>"$OUT/lab.log" 2>&1 || echo "lab down $d failed (see $OUT/lab.log)" >&2
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------
# Lab and artifacts

lab_up() { # dir bridge subnet nodes
  LABS_UP+=("$1 $2 $3")
  "${HW[@]}" lab up --dir "$1" --bridge "$2" --subnet "$3" --nodes "$4" >>"$OUT/lab.log" 2>&1 || die "lab up $1 failed (see $OUT/lab.log)"
}
lab_down() { # dir bridge subnet
  "${HW[@]}" lab down --dir "$1" --bridge "$2" --subnet "$3" >>"$OUT/lab.log" 2>&1 || die "lab down $1 failed"
  local keep=() s
  for s in "${LABS_UP[@]}"; do [[ $s == "$1 $2 $3" ]] || keep+=("$s"); done
  LABS_UP=("${keep[@]}")
}

# Sets LAB INV IPS NAMES EPS SSH_PLAIN SSH_MUX ART for the lab in $1, and makes the OpenSSH side's artifacts
# once: the tarball's etcd/etcdctl, the PKI (`hardway pki`, which `hardway up` then keeps) and the units
# (`hardway render`), so both sides ship the same bytes.
use_lab() {
  LAB=$1 INV=$1/inventory.yaml
  mapfile -t IPS < <(awk '/^ *address:/ {print $2}' "$INV")
  mapfile -t NAMES < <(awk '/^ *- name:/ {print $3}' "$INV")
  EPS=$(printf 'https://%s:2379,' "${IPS[@]}") EPS=${EPS%,}
  SSH_PLAIN=(-i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR)
  SSH_MUX=("${SSH_PLAIN[@]}" -o ControlMaster=auto -o ControlPath="$WORK/cm-%C" -o ControlPersist=30)
  ART=$WORK/art-$(basename "$LAB")
  rm -rf "$ART" && mkdir -p "$ART/bin" "$ART/pki"
  tar -xzf "$LAB"/etcd-v*-linux-amd64.tar.gz -C "$ART" --strip-components=1 --wildcards '*/etcd' '*/etcdctl'
  mv "$ART/etcd" "$ART/etcdctl" "$ART/bin/" && chmod 0755 "$ART/bin/"*
  "${HW[@]}" pki -i "$INV" >>"$OUT/setup.log" 2>&1 || die "hardway pki failed (see $OUT/setup.log)"
  "${HW[@]}" render -i "$INV" --out "$ART/units" >>"$OUT/setup.log" 2>&1 || die "hardway render failed (see $OUT/setup.log)"
  install -m 0600 "$LAB/pki/ca.pem" "$LAB/pki/kubernetes.pem" "$LAB/pki/kubernetes-key.pem" "$ART/pki/"
}

# The wipe from the issue, with a SIGKILL first: stopping every member of a live cluster at once makes the leader
# try to hand over leadership on SIGTERM, and its `systemctl stop` then takes ~7 s. The data is deleted anyway.
WIPE='systemctl kill --signal=SIGKILL etcd 2>/dev/null; systemctl stop etcd 2>/dev/null; systemctl disable etcd 2>/dev/null;
rm -rf /etc/etcd /var/lib/etcd /usr/local/bin/etcd /usr/local/bin/etcdctl /etc/systemd/system/etcd.service;
systemctl daemon-reload; systemctl reset-failed etcd 2>/dev/null;
! test -e /usr/local/bin/etcd && ! systemctl is-active --quiet etcd && ! pgrep -x etcd >/dev/null'

on_all() { # command: runs it on every node in parallel, fails if any failed
  local pids=() ip rc=0 p
  for ip in "${IPS[@]}"; do ssh "${SSH_PLAIN[@]}" "root@$ip" "$1" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}
wipe() { on_all "$WIPE" >/dev/null 2>&1 || die "wiping the nodes of $LAB failed"; }

# What is installed, for the identical-bytes check.
MANIFEST='cd / && stat -c "%a %U %n" etc/etcd var/lib/etcd usr/local/bin/etcd usr/local/bin/etcdctl etc/etcd/*.pem etc/systemd/system/etcd.service &&
sha256sum usr/local/bin/etcd usr/local/bin/etcdctl etc/etcd/*.pem etc/systemd/system/etcd.service && systemctl is-enabled etcd && systemctl is-active etcd'
manifest() { local ip; for ip in "${IPS[@]}"; do echo "== $ip"; ssh "${SSH_PLAIN[@]}" "root@$ip" "$MANIFEST"; done; }

# ---------------------------------------------------------------------------------------------------------
# The two sides. Each sets DT (seconds) and leaves <log>.err with timestamps (see marks() below).

ts() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }

# The same CLI from tsc's unbundled output (dist/cli.js) instead of bin/hardway's esbuild bundle: a diagnostic
# for the CLI's start-up share.
TSC_UP=$WORK/tsc-up.mjs
cat >"$TSC_UP" <<EOF
import { main } from '$ROOT/dist/cli.js';
process.exitCode = await main(process.argv);
EOF

# hardway up; its stdout and stderr (per-node progress, the HARDWAY_DEBUG step trace, messages, the final tables), each line timestamped, to <log>.err.
hardway_up() { # log [tsc]
  local -a cmd=("${HW[@]}")
  [[ ${2:-} == tsc ]] && cmd=(node "$TSC_UP")
  local t0=$EPOCHREALTIME rc
  set +o pipefail
  { HARDWAY_DEBUG=1 "${cmd[@]}" up -i "$INV" 2>&1 | ts >"$1.err"; rc=${PIPESTATUS[0]}; }
  set -o pipefail
  local t1=$EPOCHREALTIME
  echo "$t0 START" >>"$1.err"
  DT=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  ((rc == 0)) || die "hardway up failed (exit $rc), see $1.err"
}

# One node: mkdir, then the three scp at once, then chmod + daemon-reload + enable + start --no-block (the start
# is left out with barrier=1: openssh_up then starts every node at once, as hardway does).
openssh_node() { # ip name barrier(0|1) ssh-opts...
  local ip=$1 name=$2 barrier=$3 rc=0 a b c start='&& systemctl start --no-block etcd.service'
  shift 3
  [[ $barrier == 1 ]] && start=''
  ssh "$@" "root@$ip" 'mkdir -p /etc/etcd /var/lib/etcd && chmod 0700 /etc/etcd /var/lib/etcd' || return 1
  scp -q "$@" "$ART/bin/etcd" "$ART/bin/etcdctl" "root@$ip:/usr/local/bin/" & a=$!
  scp -q "$@" "$ART/pki/ca.pem" "$ART/pki/kubernetes.pem" "$ART/pki/kubernetes-key.pem" "root@$ip:/etc/etcd/" & b=$!
  scp -q "$@" "$ART/units/$name/etcd.service" "root@$ip:/etc/systemd/system/etcd.service" & c=$!
  wait "$a" || rc=1
  wait "$b" || rc=1
  wait "$c" || rc=1
  ((rc == 0)) || return 1
  ssh "$@" "root@$ip" 'chmod 0755 /usr/local/bin/etcd /usr/local/bin/etcdctl && chmod 0600 /etc/etcd/ca.pem /etc/etcd/kubernetes.pem /etc/etcd/kubernetes-key.pem &&
    systemctl daemon-reload && systemctl enable --quiet etcd.service '"$start"
}

openssh_up() { # log mux(0|1) [barrier(0|1)]
  local -a o=("${SSH_PLAIN[@]}")
  [[ $2 == 1 ]] && o=("${SSH_MUX[@]}")
  local barrier=${3:-0} t0=$EPOCHREALTIME pids=() i rc=0 p
  for i in "${!IPS[@]}"; do openssh_node "${IPS[$i]}" "${NAMES[$i]}" "$barrier" "${o[@]}" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || die "openssh: shipping failed"
  if [[ $barrier == 1 ]]; then
    pids=()
    for i in "${IPS[@]}"; do ssh "${o[@]}" "root@$i" 'systemctl start --no-block etcd.service' & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    ((rc == 0)) || die "openssh: start failed"
  fi
  local t1=$EPOCHREALTIME
  # Poll from the first node, in one ssh session, until every endpoint is healthy (same etcdctl flags and
  # pause as hardway's waitHealthy).
  ssh "${o[@]}" "root@${IPS[0]}" "end=\$((SECONDS + 60)); until ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=$EPS \
--cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem --dial-timeout=3s --command-timeout=3s \
endpoint health >/dev/null 2>&1; do [ \$SECONDS -lt \$end ] || exit 1; sleep $POLL; done" || die "openssh: cluster not healthy after 60 s"
  local t2=$EPOCHREALTIME
  printf '%s START\n%s SHIPPED+STARTED\n%s HEALTHY\n' "$t0" "$t1" "$t2" >"$1.err"
  DT=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
  # Masters are per run: the next run pays its handshakes again, as hardway does.
  if [[ $2 == 1 ]]; then for i in "${IPS[@]}"; do ssh "${o[@]}" -O exit "root@$i" >/dev/null 2>&1 || true; done; fi
}

record() { # kind round seconds
  local load
  read -r load _ </proc/loadavg
  echo "${#IPS[@]},$1,$2,$3,$load" >>"$CSV"
  printf '  %s nodes  %-15s round %-2s %7.3f s   (load %s)\n' "${#IPS[@]}" "$1" "$2" "$3" "$load" >&2
}

run_kind() { # kind round
  local log=$OUT/n${#IPS[@]}-$1-$2
  wipe
  case $1 in
    hardway) hardway_up "$log" ;;
    openssh) openssh_up "$log" 0 ;;
    openssh-mux) openssh_up "$log" 1 ;;
    openssh-barrier) openssh_up "$log" 0 1 ;;
  esac
  record "$1" "$2" "$DT"
}

cold_rounds() { # rounds
  local kinds=(hardway openssh) r i n
  [[ $MUX == 1 ]] && kinds+=(openssh-mux)
  [[ $BARRIER == 1 ]] && kinds+=(openssh-barrier)
  n=${#kinds[@]}
  for ((r = 1; r <= $1; r++)); do
    # Rotate the order every round, so that a busy moment of the machine does not hit one side only.
    for ((i = 0; i < n; i++)); do run_kind "${kinds[$(((i + r - 1) % n))]}" "$r"; done
  done
}

# Warm-up (not timed): the first `hardway up` of a lab extracts the tarball into ~/.cache/hardway; the OpenSSH
# run after it checks that both sides install the same bytes, modes, and unit state.
warm_up() {
  wipe
  hardway_up "$OUT/n${#IPS[@]}-warmup-hardway"
  manifest >"$OUT/n${#IPS[@]}-manifest-hardway.txt"
  wipe
  openssh_up "$OUT/n${#IPS[@]}-warmup-openssh" 0
  manifest >"$OUT/n${#IPS[@]}-manifest-openssh.txt"
  diff -u "$OUT/n${#IPS[@]}-manifest-hardway.txt" "$OUT/n${#IPS[@]}-manifest-openssh.txt" >&2 ||
    die "hardway and the OpenSSH script do not install the same files (diff above)"
}

# ---------------------------------------------------------------------------------------------------------
# Stats

stats() { # nodes kind -> "median min max n"
  awk -F, -v n="$1" -v k="$2" '$1 == n && $2 == k { print $4 }' "$CSV" | sort -n |
    awk '{ v[NR] = $1 } END { if (!NR) { print "- - - 0"; exit } m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR }'
}
median() { stats "$1" "$2" | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "-") print "n/a"; else print (v <= t ? "MEETS" : "MISSES") }'; }

med() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else printf "-" }'; }

# Phases of hardway's runs, from the timestamped output lines (per-node progress off a terminal, HARDWAY_DEBUG's step
# trace and up's own messages): `pki: …` (first line: the CLI has started), `debug: … step write files and enable`
# (connected, observed, planned: phase 1 begins), `<node>: wrote …` (an upload done), `<node>: N change(s)` (a node's
# files, daemon-reload and enable done), `started etcd …` (every `start --no-block` returned), the last line (the
# final tables; the process exits right after).
marks() { # file -> "startup prep upload reload start wait until_started total"
  awk '
    $2 == "START" { t0 = $1; next }
    $2 == "pki:" && !pki { pki = $1 }
    $2 == "debug:" && $5 == "step" && $6 == "write" && !con { con = $1 }
    $2 ~ /^controller-[0-9]+:$/ && $3 == "wrote" { wrote = $1 }
    $2 ~ /^controller-[0-9]+:$/ && ($4 == "change(s)" || $3 == "files") { ok = $1 }
    $2 == "started" { st = $1 }
    { last = $1 }
    END {
      if (!st) { wrote = con; ok = con; st = con }
      printf "%.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", pki - t0, con - pki, wrote - con, ok - wrote, st - ok, last - st, st - t0, last - t0
    }' "$1"
}
phase_medians() { # nodes kind -> one median per column of marks
  local rows=$WORK/marks-$1-$2 f i
  : >"$rows"
  for f in "$OUT"/n"$1"-"$2"-[0-9]*.err; do [[ -e $f ]] && marks "$f" >>"$rows"; done
  for i in 1 2 3 4 5 6 7 8; do printf '%s ' "$(cut -d' ' -f$i "$rows" | med)"; done
}
openssh_phase() { # nodes kind from to
  local f
  for f in "$OUT"/n"$1"-"$2"-[0-9]*.err; do
    [[ -e $f ]] && awk -v a="$3" -v b="$4" '$2 == a { x = $1 } $2 == b { y = $1 } END { print y - x }' "$f"
  done | med
}
report_phases() { # nodes
  local p o om
  read -r -a p <<<"$(phase_medians "$1" hardway)"
  say "  $1 nodes, hardway cold:"
  say "$(printf '    %-64s %6s s\n' \
    "start-up (node, imports, commands) until the first line" "${p[0]}" \
    "pki check, render + lint, binaries, connect, observe" "${p[1]}" \
    "uploads (dirs, 6 files per node, one exec each; all nodes at once)" "${p[2]}" \
    "after the last upload: daemon-reload + enable" "${p[3]}" \
    "start --no-block on all nodes" "${p[4]}" \
    "wait healthy (poll every 0.5 s) + final member/health/status" "${p[5]}" \
    "=> until every node is started" "${p[6]}")"
  o=$(openssh_phase "$1" openssh START SHIPPED+STARTED)
  say "$(printf '    %-64s %6s s\n' "OpenSSH, no multiplexing: until every node is started" "$o" \
    "OpenSSH, no multiplexing: poll until healthy" "$(openssh_phase "$1" openssh SHIPPED+STARTED HEALTHY)")"
  if [[ -e $OUT/n$1-openssh-mux-1.err ]]; then
    om=$(openssh_phase "$1" openssh-mux START SHIPPED+STARTED)
    say "$(printf '    %-64s %6s s\n' "OpenSSH, ControlMaster: until every node is started" "$om" \
      "OpenSSH, ControlMaster: poll until healthy" "$(openssh_phase "$1" openssh-mux SHIPPED+STARTED HEALTHY)")"
  fi
  if [[ -e $OUT/n$1-openssh-barrier-1.err ]]; then
    say "$(printf '    %-64s %6s s\n' "OpenSSH, all started at once: until every node is started" "$(openssh_phase "$1" openssh-barrier START SHIPPED+STARTED)" \
      "OpenSSH, all started at once: poll until healthy" "$(openssh_phase "$1" openssh-barrier SHIPPED+STARTED HEALTHY)")"
  fi
  say "$(printf '    %-64s %6s\n' "until started, hardway / OpenSSH (no multiplexing)" "$(ratio "${p[6]}" "$o")x")"
}

# ---------------------------------------------------------------------------------------------------------
# `noop`: `up` with nothing to do and `verify` on a healthy 3-node cluster, against OpenSSH doing the same reading.

# OLD's CLI, built into WORK from `git archive` (the checkout's node_modules linked in): the code before, timed in
# the same run as the code now.
build_old() {
  OLD_DIR=$WORK/old
  mkdir -p "$OLD_DIR"
  git -C "$ROOT" archive "$OLD" | tar -x -C "$OLD_DIR"
  ln -s "$ROOT/node_modules" "$OLD_DIR/node_modules"
  (cd "$OLD_DIR" && npm run build >>"$OUT/setup.log" 2>&1) || die "building $OLD failed (see $OUT/setup.log)"
}

timed() { # log command... -> DT; the command must exit 0
  local t0=$EPOCHREALTIME rc
  set +o pipefail
  { "${@:2}" 2>&1 | ts >"$1.err"; rc=${PIPESTATUS[0]}; }
  set -o pipefail
  DT=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
  ((rc == 0)) || die "$2 … failed (exit $rc), see $1.err"
}

ETCDCTL_REMOTE="ETCDCTL_API=3 /usr/local/bin/etcdctl --cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem --dial-timeout=3s --command-timeout=5s"
# What `up` needs to know that nothing is to do, read with plain OpenSSH: every node at once, the managed files'
# modes and sizes and the unit's state (no checksums: a lower bound), then one `endpoint health` of all endpoints.
OBSERVE='stat -c "%a %s %n" /usr/local/bin/etcd /usr/local/bin/etcdctl /etc/etcd/*.pem /etc/systemd/system/etcd.service /etc/etcd /var/lib/etcd; systemctl is-enabled etcd; systemctl is-active etcd'
openssh_observe() { on_all "$OBSERVE" >/dev/null; }
openssh_health() { ssh "${SSH_PLAIN[@]}" "root@${IPS[0]}" "$ETCDCTL_REMOTE --endpoints=$EPS endpoint health" >/dev/null 2>&1; }
openssh_up_reading() { # both at once
  local p rc=0
  openssh_observe & p=$!
  openssh_health || rc=1
  wait "$p" || rc=1
  return "$rc"
}
# `verify`'s reading: every node's unit state and recent journal at once, beside one ssh asking member list,
# endpoint status and endpoint health.
VERIFY_NODE='systemctl show -p ActiveState -p SubState -p NRestarts -p UnitFileState etcd; journalctl -u etcd --since=-1h --no-pager -o short-iso | tail -n 2000 | wc -l'
openssh_verify() {
  local p rc=0
  ssh "${SSH_PLAIN[@]}" "root@${IPS[0]}" "$ETCDCTL_REMOTE --endpoints=$EPS member list -w json && $ETCDCTL_REMOTE --endpoints=$EPS endpoint status -w json && $ETCDCTL_REMOTE --endpoints=$EPS endpoint health" >/dev/null 2>&1 & p=$!
  on_all "$VERIFY_NODE" >/dev/null || rc=1
  wait "$p" || rc=1
  return "$rc"
}

noop_kind() { # kind round
  # OLD with a cache dir of its own: a bin/hardway from before per-installation code caches removes any other bundle's
  # cache of the same command on every run (and another user of ~/.cache would remove its), so alternating old and new
  # made both compile the whole bundle every time.
  local log=$OUT/n3-$1-$2 old=(env "XDG_CACHE_HOME=$WORK/old-cache" node "${OLD_DIR:-}/bin/hardway")
  case $1 in
    up) timed "$log" "${HW[@]}" up -i "$INV" ;;
    verify) timed "$log" "${HW[@]}" verify -i "$INV" ;;
    up-old) timed "$log" "${old[@]}" up -i "$INV" ;;
    verify-old) timed "$log" "${old[@]}" verify -i "$INV" ;;
    openssh-observe) timed "$log" openssh_observe ;;
    openssh-health) timed "$log" openssh_health ;;
    openssh-up) timed "$log" openssh_up_reading ;;
    openssh-verify) timed "$log" openssh_verify ;;
  esac
  [[ $1 != up* ]] || grep -q 'nothing changed' "$log.err" || say "  warning: $1 round $2 changed something (see $log.err)"
  record "$1" "$2" "$DT"
}

if [[ $MODE == noop ]]; then
  say "bench/up.sh noop $(date -Is): rounds=$NOOP_ROUNDS old=${OLD:-none}"
  say "  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)'); node $(node --version); $(ssh -V 2>&1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  say "  results in $OUT"
  kinds=(up verify openssh-observe openssh-health openssh-up openssh-verify)
  if [[ -n $OLD ]]; then
    say "building $OLD ($(git -C "$ROOT" rev-parse --short "$OLD")) into $WORK/old"
    build_old
    kinds+=(up-old verify-old)
  fi
  say "3 nodes: lab up ($LAB3, $BR3, $NET3)"
  lab_up "$LAB3" "$BR3" "$NET3" 3
  use_lab "$LAB3"
  # Untimed: a healthy cluster, and the files settled so that `up` reads their sums from the node's cache; one
  # `verify` (and one of OLD's) so that no timed run is a command's first, which writes bin/hardway's code cache.
  "${HW[@]}" up -i "$INV" >>"$OUT/setup.log" 2>&1 || die "hardway up failed (see $OUT/setup.log)"
  sleep 2
  "${HW[@]}" up -i "$INV" >>"$OUT/setup.log" 2>&1 || die "hardway up failed (see $OUT/setup.log)"
  "${HW[@]}" verify -i "$INV" >>"$OUT/setup.log" 2>&1 || true
  [[ -z $OLD ]] || { XDG_CACHE_HOME=$WORK/old-cache node "$OLD_DIR/bin/hardway" up -i "$INV" && XDG_CACHE_HOME=$WORK/old-cache node "$OLD_DIR/bin/hardway" verify -i "$INV"; } >>"$OUT/setup.log" 2>&1 || true
  n=${#kinds[@]}
  for ((r = 1; r <= NOOP_ROUNDS; r++)); do
    for ((i = 0; i < n; i++)); do noop_kind "${kinds[$(((i + r - 1) % n))]}" "$r"; done
  done
  say ""
  say "RESULTS, 3 nodes (seconds: median [min..max] over n runs)"
  for k in "${kinds[@]}"; do
    read -r med lo hi cnt < <(stats 3 "$k")
    say "$(printf '  %-16s %7s  [%s..%s]  n=%s' "$k" "$med" "$lo" "$hi" "$cnt")"
  done
  U=$(median 3 up) V=$(median 3 verify)
  say ""
  say "TARGETS"
  say "  up with nothing to do: $U s (target <= 0.5 s) $(verdict "$U" 0.5); OpenSSH's reading $(median 3 openssh-up) s${OLD:+; $OLD: $(median 3 up-old) s}"
  say "  verify, healthy:       $V s (target <= 0.5 s) $(verdict "$V" 0.5); OpenSSH's reading $(median 3 openssh-verify) s${OLD:+; $OLD: $(median 3 verify-old) s}"
  read -r l1 l5 l15 _ </proc/loadavg
  say "  load average at the end: $l1 $l5 $l15 (each run's load1 is in times.csv); bench took $((SECONDS / 60)) min $((SECONDS % 60)) s"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------

say "bench/up.sh $(date -Is): rounds=$ROUNDS noop=$NOOP_ROUNDS rounds7=$ROUNDS7 mux=$MUX poll=${POLL}s"
say "  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)'); node $(node --version); $(ssh -V 2>&1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
say "  dist/ last built $(find "$ROOT/dist" -name '*.js' -printf '%TY-%Tm-%Td %TH:%TM\n' | sort | tail -n 1) (the bench runs dist/ as it is: 'npm run build' first)"
say "  results in $OUT"

say "3 nodes: lab up ($LAB3, $BR3, $NET3)"
lab_up "$LAB3" "$BR3" "$NET3" 3
use_lab "$LAB3"
say "3 nodes: warm-up and identical-install check"
warm_up
say "3 nodes: $ROUNDS cold rounds (wipe before each)"
cold_rounds "$ROUNDS"
say "3 nodes: $NOOP_ROUNDS no-op re-runs of hardway up (and from tsc's unbundled output, noop-tsc)"
for ((r = 1; r <= NOOP_ROUNDS; r++)); do
  for k in noop noop-tsc; do
    if [[ $k == noop ]]; then hardway_up "$OUT/n3-$k-$r"; else hardway_up "$OUT/n3-$k-$r" tsc; fi
    grep -q 'nothing changed' "$OUT/n3-$k-$r.err" || say "  warning: $k run $r changed something (see $OUT/n3-$k-$r.err)"
    record "$k" "$r" "$DT"
  done
done
lab_down "$LAB3" "$BR3" "$NET3"

if ((ROUNDS7 > 0)); then
  say "7 nodes: lab up ($LAB7, $BR7, $NET7)"
  lab_up "$LAB7" "$BR7" "$NET7" 7
  use_lab "$LAB7"
  say "7 nodes: warm-up and identical-install check"
  warm_up
  say "7 nodes: $ROUNDS7 cold rounds"
  cold_rounds "$ROUNDS7"
  lab_down "$LAB7" "$BR7" "$NET7"
fi

# ---------------------------------------------------------------------------------------------------------
say ""
say "RESULTS (seconds: median [min..max] over n runs)"
for n in 3 7; do
  for k in hardway openssh openssh-mux openssh-barrier noop noop-tsc; do
    read -r med lo hi cnt < <(stats "$n" "$k")
    ((cnt > 0)) && say "$(printf '  %s nodes  %-15s %7s  [%s..%s]  n=%s' "$n" "$k" "$med" "$lo" "$hi" "$cnt")"
  done
done
H3=$(median 3 hardway) O3=$(median 3 openssh) M3=$(median 3 openssh-mux) N3=$(median 3 noop) H7=$(median 7 hardway) O7=$(median 7 openssh)
R1=$(ratio "$H3" "$O3") R2=$(ratio "$H7" "$H3")
say ""
say "TARGETS"
say "  cold, 3 nodes: hardway / OpenSSH (no multiplexing) = $H3 / $O3 = ${R1}x   (target <= 1.1x)  $(verdict "$R1" 1.1)"
[[ $M3 != - ]] && say "                 hardway / OpenSSH (ControlMaster)   = $H3 / $M3 = $(ratio "$H3" "$M3")x   (for reference)"
say "  no-op re-run, 3 nodes: $N3 s                                      (target <= 1 s)   $(verdict "$N3" 1)"
if [[ $H7 != - ]]; then
  say "  cold, 7 nodes / 3 nodes (hardway) = $H7 / $H3 = ${R2}x          (target <= 1.5x)  $(verdict "$R2" 1.5)"
  say "                 (OpenSSH: 7 nodes / 3 nodes = $(ratio "$O7" "$O3")x; hardway / OpenSSH at 7 nodes = $(ratio "$H7" "$O7")x)"
fi
say ""
say "WHERE THE TIME GOES (medians over the timed runs, from timestamped output lines)"
report_phases 3
[[ $H7 != - ]] && report_phases 7
for k in noop noop-tsc; do
  read -r -a p <<<"$(phase_medians 3 "$k")"
  say "$(printf '  3 nodes, %-9s start-up %ss, pki+render+lint+connect+observe %ss, final member/health/status %ss' "$k:" "${p[0]}" "${p[1]}" "${p[5]}")"
done
read -r l1 l5 l15 _ </proc/loadavg
say "  load average at the end: $l1 $l5 $l15 (the runs' own load1 is in times.csv); bench took $((SECONDS / 60)) min $((SECONDS % 60)) s"
