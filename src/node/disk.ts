import { shq, type Remote } from '../ssh/remote.js';

/**
 * A direct measurement of fdatasync latency on the filesystem of etcd's data dir, for when etcd is not running
 * (when it runs, its /metrics histograms are the better source: see metrics.ts).
 *
 * The probe writes one file, `<dataDir>/.hardway-fsync-probe`, and always removes it; it touches nothing else in
 * the data dir. With fio it runs etcd's recommended recipe (sequential 2300-byte writes, fdatasync after each,
 * pass criterion p99 < 10 ms), smaller so that it finishes in seconds. Without fio it times single O_DSYNC writes
 * with dd, each bracketed by `date +%s%N` (dd cannot time individual writes), after measuring the cost of starting
 * the same dd without O_DSYNC so that process start-up can be subtracted; the dd figures carry a millisecond or so of
 * start-up jitter and are upper bounds.
 *
 * In the lab, a slow disk is simulated by strace delaying the return of *etcd's own* fdatasync calls: the disk
 * itself is fast, so this probe (another process) reads fast there. That is expected; only the metrics path,
 * which reads what etcd observed, sees the lab's slowness while etcd runs.
 */

export const FSYNC_PROBE_FILE = '.hardway-fsync-probe';
const MARK = 'hardway-fsync';

export interface FsyncProbeOptions {
  /** dd: the number of timed writes (default 50). */
  count?: number;
  /** Cap on each method's run time in seconds (default 10). */
  maxSeconds?: number;
  /** fio: bytes to write (default 4 MiB, about 1800 writes of 2300 bytes; the etcd recipe uses 22 MiB). */
  fioSizeBytes?: number;
  /** Skip fio even when it is installed (default false). */
  noFio?: boolean;
}

/** fio separates several directories with ':'; a literal one is escaped. */
function fioDirectory(dir: string): string {
  return dir.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

/**
 * A POSIX sh script that measures fdatasync latency in `dir`. Output (stdout), one section per method tried:
 * `hardway-fsync method=fio`, fio's JSON, `hardway-fsync fio-exit=<rc>`; if fio is absent or failed,
 * `hardway-fsync method=dd`, `overhead <ns>` lines, `sample <ns>` lines; then `hardway-fsync end`.
 * A fatal problem prints `hardway-fsync error <message>` and exits non-zero.
 */
export function fsyncProbeScript(dir: string, opts: FsyncProbeOptions = {}): string {
  if (!dir.startsWith('/')) throw new Error(`the fsync probe needs an absolute directory (got '${dir}')`);
  const count = opts.count ?? 50;
  const maxSeconds = opts.maxSeconds ?? 10;
  const size = opts.fioSizeBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer (got ${count})`);
  if (!Number.isInteger(maxSeconds) || maxSeconds < 1) throw new RangeError(`maxSeconds must be a positive integer (got ${maxSeconds})`);
  if (!Number.isInteger(size) || size < 2300) throw new RangeError(`fioSizeBytes must be at least 2300 (got ${size})`);
  const fio = [
    'fio',
    '--rw=write',
    '--ioengine=sync',
    '--fdatasync=1',
    `--directory=${shq(fioDirectory(dir))}`,
    `--filename=${FSYNC_PROBE_FILE}`,
    `--size=${size}`,
    '--bs=2300',
    `--runtime=${maxSeconds}`,
    '--name=hardway-fsync',
    '--output-format=json',
  ].join(' ');
  return `set -u
dir=${shq(dir)}
probe="$dir/${FSYNC_PROBE_FILE}"
fail() { echo "${MARK} error $*"; exit 2; }
[ -d "$dir" ] || fail "$dir is not a directory"
# Only ever our own regular file: never follow a link or write over anything else.
if [ -L "$probe" ] || { [ -e "$probe" ] && [ ! -f "$probe" ]; }; then fail "$probe exists and is not a regular file; not touching it"; fi
trap 'rm -f "$probe"' EXIT
trap 'exit 130' HUP INT TERM
to=""
command -v timeout >/dev/null 2>&1 && to="timeout -k 2 ${maxSeconds + 20}"
${
  opts.noFio
    ? ''
    : `if command -v fio >/dev/null 2>&1; then
  echo "${MARK} method=fio"
  $to ${fio}
  rc=$?
  rm -f "$probe"
  echo "${MARK} fio-exit=$rc"
  if [ "$rc" -eq 0 ]; then echo "${MARK} end"; exit 0; fi
fi
`
}date +%s%N | grep -q '^[0-9]*$' || fail "date +%s%N is not supported (no GNU date)"
echo "${MARK} method=dd"
i=0
while [ $i -lt 10 ]; do
  t0=$(date +%s%N); err=$(dd if=/dev/zero of=/dev/null bs=2300 count=1 status=none 2>&1); t1=$(date +%s%N)
  echo "overhead $((t1 - t0))"
  i=$((i + 1))
done
# The first write creates the file: not timed.
err=$(dd if=/dev/zero of="$probe" bs=2300 count=1 oflag=dsync conv=notrunc status=none 2>&1) || fail "dd: $err"
start=$(date +%s%N)
i=0
while [ $i -lt ${count} ]; do
  t0=$(date +%s%N); err=$(dd if=/dev/zero of="$probe" bs=2300 count=1 oflag=dsync conv=notrunc status=none 2>&1); rc=$?; t1=$(date +%s%N)
  [ $rc -eq 0 ] || fail "dd: $err"
  echo "sample $((t1 - t0))"
  i=$((i + 1))
  [ $((t1 - start)) -ge ${maxSeconds}000000000 ] && break
done
echo "${MARK} end"
`;
}

export interface FsyncProbeResult {
  method: 'fio' | 'dd';
  /** How many syncs were measured. */
  samples: number;
  /** Seconds. */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** dd: the per-write process start-up cost subtracted from each sample (seconds). */
  overhead?: number;
  /** Why fio was not used although it was tried (its exit code or an unreadable output). */
  fioProblem?: string;
}

/** Nearest-rank percentile of sorted values (as fio reports them). */
function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

interface FioSyncLat {
  N?: number;
  max?: number;
  mean?: number;
  percentile?: Record<string, number>;
}

/** fio's JSON: jobs[0].sync.lat_ns (fio ≥ 3.5 reports fdatasync latencies there, in nanoseconds). */
function parseFioJson(text: string): Omit<FsyncProbeResult, 'method'> | string {
  const start = text.search(/^\{/m);
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return 'no JSON in fio output';
  let json: { jobs?: { error?: number; sync?: { lat_ns?: FioSyncLat } }[] };
  try {
    json = JSON.parse(text.slice(start, end + 1)) as typeof json;
  } catch (e) {
    return `fio JSON unreadable: ${(e as Error).message}`;
  }
  const job = json.jobs?.[0];
  if (!job) return 'fio JSON has no job';
  if (job.error) return `fio job error ${job.error}`;
  const lat = job.sync?.lat_ns;
  const p = lat?.percentile;
  const p50 = p?.['50.000000'];
  const p99 = p?.['99.000000'];
  if (!lat || !lat.N || p50 === undefined || p99 === undefined || lat.max === undefined) {
    return 'fio reported no fdatasync latencies (fio older than 3.5?)';
  }
  return { samples: lat.N, p50: p50 / 1e9, p99: p99 / 1e9, max: lat.max / 1e9, mean: (lat.mean ?? NaN) / 1e9 };
}

/** Reads the output of fsyncProbeScript: fio's percentiles, or the dd samples less start-up overhead. Throws on failure. */
export function parseFsyncProbe(output: string): FsyncProbeResult {
  const lines = output.split('\n');
  const err = lines.find((l) => l.startsWith(`${MARK} error `));
  if (err) throw new Error(`fsync probe: ${err.slice(`${MARK} error `.length).trim()}`);

  let fioProblem: string | undefined;
  const fioAt = lines.indexOf(`${MARK} method=fio`);
  if (fioAt >= 0) {
    const exitAt = lines.findIndex((l, i) => i > fioAt && l.startsWith(`${MARK} fio-exit=`));
    const section = lines.slice(fioAt + 1, exitAt < 0 ? undefined : exitAt).join('\n');
    const rc = exitAt < 0 ? undefined : lines[exitAt]!.slice(`${MARK} fio-exit=`.length).trim();
    const parsed = parseFioJson(section);
    if (rc === '0' && typeof parsed !== 'string') return { method: 'fio', ...parsed };
    fioProblem = rc === undefined ? 'fio output cut short' : rc !== '0' ? `fio exited with ${rc}` : (parsed as string);
  }

  const ddAt = lines.indexOf(`${MARK} method=dd`);
  if (ddAt < 0) throw new Error(`fsync probe: ${fioProblem ?? 'no measurement in the output'}`);
  const num = (prefix: string) =>
    lines
      .slice(ddAt + 1)
      .filter((l) => l.startsWith(prefix))
      .map((l) => Number(l.slice(prefix.length)))
      .filter((n) => Number.isFinite(n) && n >= 0);
  const overheadNs = num('overhead ');
  const raw = num('sample ');
  if (raw.length === 0) throw new Error('fsync probe: dd produced no samples');
  // The smallest start-up cost: what remains of a sample is the sync plus start-up jitter, an upper bound that never
  // understates the disk's latency.
  const overhead = overheadNs.length ? Math.min(...overheadNs) : 0;
  const secs = raw.map((ns) => Math.max(0, ns - overhead) / 1e9).sort((a, b) => a - b);
  return {
    method: 'dd',
    samples: secs.length,
    p50: percentile(secs, 50),
    p99: percentile(secs, 99),
    max: secs.at(-1)!,
    mean: secs.reduce((a, b) => a + b, 0) / secs.length,
    overhead: overhead / 1e9,
    ...(fioProblem ? { fioProblem } : {}),
  };
}

/** Runs the probe on a node (etcd should be stopped: its own writes would compete) and reads the result. */
export async function probeFsync(remote: Remote, dir: string, opts: FsyncProbeOptions = {}): Promise<FsyncProbeResult> {
  const maxSeconds = opts.maxSeconds ?? 10;
  // fio, then dd if fio fails, each capped at maxSeconds, plus start-up and the fio kill margin.
  const r = await remote.run(fsyncProbeScript(dir, opts), { timeoutMs: (2 * maxSeconds + 40) * 1000 });
  if (r.timedOut) throw new Error(`${remote.name}: the fsync probe in ${dir} timed out`);
  try {
    const res = parseFsyncProbe(r.stdout);
    if (r.code !== 0) throw new Error(`exit ${r.code}`);
    return res;
  } catch (e) {
    const why = [(e as Error).message, r.stderr.trim().split('\n').slice(-2).join('; ')].filter(Boolean).join(': ');
    throw new Error(`${remote.name}: ${why}`);
  }
}
