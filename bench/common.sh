# Sourced by the benches that compare hardway with plain OpenSSH on labs of their own (up.sh, keys.sh,
# snapshot.sh): the results dir, the CSV with its header, say/die, and the checks every one of them needs.
#   bench_init NAME CSV_HEADER
# sets ROOT, HW, STAMP, OUT (bench/results/NAME-<stamp>, linked as NAME-latest), CSV and WORK (a temp dir the
# caller removes in its own trap).
bench_init() {
  local name=$1 header=$2
  ROOT=$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)
  HW=(node "$ROOT/bin/hardway")
  BENCH_NAME=$name
  STAMP=$(date +%Y%m%d-%H%M%S)
  OUT=$ROOT/bench/results/$name-$STAMP
  mkdir -p "$OUT"
  ln -sfn "$name-$STAMP" "$ROOT/bench/results/$name-latest"
  WORK=$(mktemp -d "/tmp/hardway-bench-$name.XXXXXX")
  CSV=$OUT/times.csv
  echo "$header" >"$CSV"
  [[ $(id -u) == 0 ]] || die "run as root (the lab boots systemd-nspawn containers)"
  [[ -f $ROOT/dist/cli.js ]] || die "run 'npm run build' first"
}

say() { printf '%s\n' "$*" | tee -a "${OUT:-/dev/null}/summary.txt" >&2; }
die() { say "bench/$BENCH_NAME.sh: $*"; exit 1; }

# A 3-node lab of the bench's own (LAB, BR, NET; inventory INV) brought up with etcd running, taken down by a trap
# on exit (unless KEEP_LAB=1), also on failure or Ctrl-C; WORK is removed with it.
bench_lab_up() {
  LAB_UP=1
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  "${HW[@]}" lab up --dir "$LAB" --bridge "$BR" --subnet "$NET" --nodes 3 >>"$OUT/lab.log" 2>&1 || die "lab up failed (see $OUT/lab.log)"
  "${HW[@]}" up -i "$INV" >>"$OUT/setup.log" 2>&1 || die "hardway up failed (see $OUT/setup.log)"
}

bench_cleanup() {
  local rc=$?
  set +e
  if [[ ${LAB_UP:-0} == 1 && ${KEEP_LAB:-0} != 1 ]]; then
    "${HW[@]}" lab down --dir "$LAB" --bridge "$BR" --subnet "$NET" >>"$OUT/lab.log" 2>&1 || echo "lab down $LAB failed (see $OUT/lab.log)" >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}

bench_need_jq() {
  command -v jq >/dev/null || { apt-get install -y jq >>"$OUT/setup.log" 2>&1 || die "jq missing and apt-get install jq failed"; }
}
