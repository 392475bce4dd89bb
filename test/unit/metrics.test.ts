import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  etcdLatencies,
  ETCD_METRICS,
  FSYNC_P99_GOAL_S,
  histogram,
  histogramsBy,
  parsePrometheus,
  quantile,
  quantileEstimate,
  type Histogram,
} from '../../src/etcd/metrics.js';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/metrics', name), 'utf8');
const FAST = fixture('etcd-3.4-fast-disk.prom');
const SLOW = fixture('etcd-3.4-slow-disk-1.2s.prom');

/** A histogram from `le → cumulative count` pairs (the last should be +Inf). */
const hist = (pairs: [number, number][], sum = 0): Histogram => ({
  buckets: pairs.map(([le, count]) => ({ le, count })),
  sum,
  count: pairs.at(-1)?.[1] ?? 0,
});

describe('parsePrometheus', () => {
  it('reads samples with labels, skipping comments', () => {
    const s = parsePrometheus(FAST);
    expect(s.get('etcd_server_has_leader')).toEqual([{ name: 'etcd_server_has_leader', labels: {}, value: 1 }]);
    expect(s.get('etcd_server_version')?.[0]?.labels).toEqual({ server_version: '3.4.23' });
    expect(s.get('grpc_server_handled_total')?.[1]?.labels).toEqual({
      grpc_code: 'OK',
      grpc_method: 'Status',
      grpc_service: 'etcdserverpb.Maintenance',
      grpc_type: 'unary',
    });
    expect(s.get('process_start_time_seconds')?.[0]?.value).toBe(1.70073614248e9);
    expect(s.get('etcd_disk_wal_fsync_duration_seconds_bucket')).toHaveLength(15);
    expect([...s.keys()].some((k) => k.startsWith('#'))).toBe(false);
    // HELP/TYPE lines never become samples
    expect(s.has('HELP')).toBe(false);
  });

  it('handles escapes, special values, timestamps and skips malformed lines', () => {
    const s = parsePrometheus(
      [
        'a{path="C:\\\\dir",msg="say \\"hi\\"\\nnext", empty=""} 1.5e-3',
        'b +Inf',
        'c{x="1",} -Inf 1700000000000',
        'd NaN',
        'broken{x="1" 2',
        'e{x=unquoted} 3',
        'f notanumber',
        '   ',
        'g 7',
      ].join('\n'),
    );
    expect(s.get('a')?.[0]).toEqual({ name: 'a', labels: { path: 'C:\\dir', msg: 'say "hi"\nnext', empty: '' }, value: 0.0015 });
    expect(s.get('b')?.[0]?.value).toBe(Infinity);
    expect(s.get('c')?.[0]).toEqual({ name: 'c', labels: { x: '1' }, value: -Infinity, timestampMs: 1700000000000 });
    expect(Number.isNaN(s.get('d')?.[0]?.value)).toBe(true);
    expect(s.has('broken')).toBe(false);
    expect(s.has('e')).toBe(false);
    expect(s.has('f')).toBe(false);
    expect(s.get('g')?.[0]?.value).toBe(7);
  });
});

describe('histogram', () => {
  const s = parsePrometheus(FAST);

  it('collects buckets (sorted, +Inf last), sum and count', () => {
    const h = histogram(s, ETCD_METRICS.walFsync);
    expect(h.buckets.map((b) => b.le)).toEqual([...Array.from({ length: 14 }, (_, k) => expect.closeTo(0.001 * 2 ** k, 12)), Infinity]);
    expect(h.buckets.slice(0, 5).map((b) => b.count)).toEqual([1650, 1920, 1985, 1996, 2000]);
    expect(h.count).toBe(2000);
    expect(h.sum).toBeCloseTo(1.4523, 10);
  });

  it('merges every series of a labelled histogram (peer RTT over all peers)', () => {
    const h = histogram(s, ETCD_METRICS.peerRtt);
    expect(h.buckets).toHaveLength(17);
    const at = (le: number) => h.buckets.find((b) => b.le === le || Math.abs(b.le - le) < 1e-12)?.count;
    expect(at(0.0002)).toBe(3);
    expect(at(0.0004)).toBe(100);
    expect(at(0.0008)).toBe(217);
    expect(at(0.0016)).toBe(236);
    expect(at(Infinity)).toBe(238);
    expect(h.count).toBe(238);
    expect(h.sum).toBeCloseTo(0.044312105 + 0.072019773, 12);
  });

  it('filters series by labels or by a predicate', () => {
    const a = histogram(s, ETCD_METRICS.peerRtt, { To: '8211f1d0f64f3269' });
    expect(a.count).toBe(120);
    expect(a.sum).toBeCloseTo(0.044312105, 12);
    const b = histogram(s, ETCD_METRICS.peerRtt, (l) => l.To !== '8211f1d0f64f3269');
    expect(b.count).toBe(118);
    expect(histogram(s, ETCD_METRICS.peerRtt, { To: 'nope' })).toEqual({ buckets: [], sum: 0, count: 0 });
  });

  it('merges series with different bucket bounds correctly (cumulative counts)', () => {
    const s2 = parsePrometheus(
      [
        'h_bucket{s="a",le="1"} 4',
        'h_bucket{s="a",le="+Inf"} 10',
        'h_bucket{s="b",le="0.5"} 1',
        'h_bucket{s="b",le="2"} 3',
        'h_bucket{s="b",le="+Inf"} 5',
      ].join('\n'),
    );
    const h = histogram(s2, 'h');
    // a contributes 0 below 1, 4 from 1; b contributes 1 from 0.5, 3 from 2.
    expect(h.buckets).toEqual([
      { le: 0.5, count: 1 },
      { le: 1, count: 5 },
      { le: 2, count: 7 },
      { le: Infinity, count: 15 },
    ]);
    // No _count series: the +Inf bucket is the count.
    expect(h.count).toBe(15);
  });

  it('gives one histogram per label value', () => {
    const by = histogramsBy(s, ETCD_METRICS.peerRtt, 'To');
    expect([...by.keys()]).toEqual(['8211f1d0f64f3269', '91bc3c398fb3c146']);
    expect(by.get('8211f1d0f64f3269')?.count).toBe(120);
    expect(by.get('91bc3c398fb3c146')?.count).toBe(118);
    expect(by.get('91bc3c398fb3c146')?.buckets.find((b) => Math.abs(b.le - 0.0016) < 1e-12)?.count).toBe(116);
  });
});

describe('quantile (as PromQL histogram_quantile)', () => {
  const h = hist([
    [0.1, 50],
    [0.5, 90],
    [Infinity, 100],
  ]);

  it('interpolates linearly inside the bucket, the first bucket starting at 0', () => {
    expect(quantile(h, 0.25)).toBeCloseTo(0.05, 12); // rank 25 of 50 in (0, 0.1]
    expect(quantile(h, 0.5)).toBeCloseTo(0.1, 12);
    expect(quantile(h, 0.75)).toBeCloseTo(0.35, 12); // 0.1 + 0.4 × 25/40
    expect(quantile(h, 0.9)).toBeCloseTo(0.5, 12);
    expect(quantile(h, 0)).toBe(0);
  });

  it('reports the highest finite bound for a quantile in the +Inf bucket, flagged as a lower bound', () => {
    expect(quantile(h, 0.95)).toBe(0.5);
    expect(quantile(h, 1)).toBe(0.5);
    expect(quantileEstimate(h, 0.95)).toEqual({ value: 0.5, low: 0.5, high: Infinity });
    expect(quantileEstimate(h, 0.75)).toEqual({ value: expect.closeTo(0.35, 12), low: 0.1, high: 0.5 });
  });

  it('is null without observations or without a +Inf bucket; rejects q outside [0, 1]', () => {
    expect(quantile(hist([]), 0.5)).toBeNull();
    expect(quantile(hist([[1, 0], [Infinity, 0]]), 0.5)).toBeNull();
    expect(quantile(hist([[1, 5], [2, 10]]), 0.5)).toBeNull();
    expect(() => quantile(h, 1.5)).toThrow(RangeError);
    expect(() => quantile(h, -0.1)).toThrow(RangeError);
  });

  it('repairs non-monotonic counts and unsorted buckets', () => {
    const odd = hist([
      [0.5, 90],
      [0.1, 50],
      [0.2, 45], // a scrape racing an observation
      [Infinity, 100],
    ]);
    // sorted: 0.1:50, 0.2:50 (fixed), 0.5:90, +Inf:100 → rank 70 is in (0.2, 0.5]
    expect(quantile(odd, 0.7)).toBeCloseTo(0.2 + 0.3 * (20 / 40), 12);
  });
});

describe('etcdLatencies', () => {
  it('fast disk: sub-10 ms fsync p99, per-peer RTT and the worst peer', () => {
    const l = etcdLatencies(FAST);
    expect(l.walFsync.count).toBe(2000);
    expect(l.walFsync.p50).toBeCloseTo((0.001 * 1000) / 1650, 9);
    expect(l.walFsync.p99).toBeCloseTo(0.002 + 0.002 * (60 / 65), 9); // ≈ 3.85 ms
    expect(l.walFsync.p99).toBeLessThan(FSYNC_P99_GOAL_S);
    expect(l.walFsync.mean).toBeCloseTo(1.4523 / 2000, 12);
    expect(l.walFsync.p99Range).toEqual({ low: 0.002, high: 0.004 });

    expect(l.backendCommit.count).toBe(500);
    expect(l.backendCommit.p50).toBeCloseTo(0.001 + 0.001 * (130 / 180), 9);
    expect(l.backendCommit.p99).toBeCloseTo(0.013, 9);

    expect(Object.keys(l.peerRtt.perPeer)).toEqual(['8211f1d0f64f3269', '91bc3c398fb3c146']);
    expect(l.peerRtt.perPeer['8211f1d0f64f3269']?.p99).toBeCloseTo(0.0008 + 0.0008 * (1.8 / 3), 9); // 1.28 ms
    expect(l.peerRtt.perPeer['91bc3c398fb3c146']?.p99).toBeCloseTo(0.0016 + 0.0016 * (0.82 / 2), 9); // 2.256 ms
    expect(l.peerRtt.maxP99).toBeCloseTo(0.002256, 9);
    expect(l.peerRtt.count).toBe(238);
    expect(l.peerRtt.p99).toBeCloseTo(0.0008 + 0.0008 * (18.62 / 19), 9);
  });

  it('slow disk (every fsync ≈ 1.2 s): p99 within (1.024, 2.048], exact mean 1.2 s', () => {
    const l = etcdLatencies(SLOW);
    expect(l.walFsync.count).toBe(180);
    expect(l.walFsync.p99).toBeCloseTo(1.024 + 1.024 * 0.99, 9);
    expect(l.walFsync.p50).toBeCloseTo(1.536, 9);
    expect(l.walFsync.p99Range).toEqual({ low: 1.024, high: 2.048 });
    expect(l.walFsync.mean).toBeCloseTo(1.2013, 4);
    expect(l.walFsync.p99!).toBeGreaterThan(100 * FSYNC_P99_GOAL_S);
    // bbolt syncs twice a commit: ≈ 2.4 s
    expect(l.backendCommit.p99).toBeCloseTo(2.048 + 2.048 * 0.99, 9);
    expect(l.backendCommit.mean).toBeCloseTo(2.41, 2);
    // the network is fine
    expect(l.peerRtt.maxP99!).toBeLessThan(0.005);
  });

  it('the overflow bucket: a p99 beyond the largest bound is a lower bound', () => {
    const text = SLOW.replace(/(etcd_disk_wal_fsync_duration_seconds_bucket\{le="[0-9.]+"\}) 180/g, '$1 0');
    const l = etcdLatencies(text);
    expect(l.walFsync.p99).toBeCloseTo(8.192, 9);
    expect(l.walFsync.p99Range).toEqual({ low: 8.192, high: Infinity });
  });

  it('without the metrics (another exporter, a single member): counts 0 and null estimates', () => {
    const l = etcdLatencies('# HELP up x\nup 1\n');
    expect(l.walFsync).toEqual({ count: 0, sum: 0, mean: null, p50: null, p99: null, p99Range: null });
    expect(l.peerRtt.perPeer).toEqual({});
    expect(l.peerRtt.maxP99).toBeNull();
    // accepts parsed samples as well
    expect(etcdLatencies(parsePrometheus(FAST)).walFsync.count).toBe(2000);
  });
});
