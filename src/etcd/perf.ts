/**
 * `etcdctl check perf` output: a progress bar redrawn with `\r` (3.4/3.5, stdout), then result lines. Only the
 * PASS/FAIL lines matter; note that two failures print without a `FAIL:` prefix.
 */
export interface PerfResult {
  pass: boolean;
  throughput?: { pass: boolean; writesPerSec: number };
  slowest?: { pass: boolean; seconds: number };
  stddev?: { pass: boolean; seconds: number };
  errors: string[];
  lines: string[];
}

export function parseCheckPerf(output: string): PerfResult {
  // A result may follow the last progress frame on the same line (no newline after the bar): find it anywhere.
  const lines = output
    .split(/[\r\n]+/)
    .map((l) => /(?:PASS|FAIL)(?::.*|$)|Slowest request took too long.*|Stddev too high.*/.exec(l.trim())?.[0].trim())
    .filter((l): l is string => !!l);
  const r: PerfResult = { pass: false, errors: [], lines };
  for (const l of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^PASS: Throughput is (\d+) writes\/s/.exec(l))) r.throughput = { pass: true, writesPerSec: Number(m[1]) };
    else if ((m = /^FAIL: Throughput too low: (\d+) writes\/s/.exec(l))) r.throughput = { pass: false, writesPerSec: Number(m[1]) };
    else if ((m = /^PASS: Slowest request took ([\d.]+)s/.exec(l))) r.slowest = { pass: true, seconds: Number(m[1]) };
    else if ((m = /^Slowest request took too long: ([\d.]+)s/.exec(l))) r.slowest = { pass: false, seconds: Number(m[1]) };
    else if ((m = /^PASS: Stddev is ([\d.]+)s/.exec(l))) r.stddev = { pass: true, seconds: Number(m[1]) };
    else if ((m = /^Stddev too high: ([\d.]+)s/.exec(l))) r.stddev = { pass: false, seconds: Number(m[1]) };
    else if ((m = /^FAIL: (ERROR\(.*|too many errors.*)$/.exec(l))) r.errors.push(m[1]!);
    else if (l === 'PASS') r.pass = true;
    else if (l === 'FAIL') r.pass = false;
  }
  return r;
}

export const PERF_LOADS = ['s', 'm', 'l', 'xl'] as const;
export type PerfLoad = (typeof PERF_LOADS)[number];
