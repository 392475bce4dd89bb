import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ELECTION_TIMEOUT_MS, MIN_ELECTION_TO_HEARTBEAT } from '../../src/inventory/derive.js';
import { setEtcdTiming } from '../../src/inventory/edit.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { etcdLatencies } from '../../src/etcd/metrics.js';
import { recommendTiming } from '../../src/tune/recommend.js';
import { formatSeconds as formatIn } from '../../src/render/seconds.js';

const formatSeconds = (s: number) => formatIn(s, 'figure');

const DEFAULTS = { heartbeatInterval: 100, electionTimeout: 1000 };
const text = (r: { explanation: string[] }) => r.explanation.join('\n');

describe('recommendTiming', () => {
  it('slow disk: fsync p99 1.2 s, RTT 0.5 ms, defaults → heartbeat ≈ 1.5 × 1.2 s, election 10×', () => {
    const r = recommendTiming({ fsyncP99S: 1.2, rttP99S: 0.0005, current: DEFAULTS });
    expect(r.changed).toBe(true);
    expect(r.feasible).toBe(true);
    expect(r.heartbeatInterval).toBeGreaterThanOrEqual(1800);
    expect(r.heartbeatInterval).toBeLessThanOrEqual(2000);
    expect(r.heartbeatInterval % 50).toBe(0);
    expect(r.electionTimeout).toBeGreaterThanOrEqual(18000);
    expect(r.electionTimeout).toBeLessThanOrEqual(20000);
    expect(r.electionTimeout).toBe(10 * r.heartbeatInterval);
    expect(r).toMatchObject({ heartbeatInterval: 1800, electionTimeout: 18000 });
    const t = text(r);
    expect(t).toContain('Measured WAL fsync p99: 1.2 s (etcd wants < 10 ms; this is 120× that)');
    expect(t).toContain('Measured peer round trip p99 (worst peer): 0.5 ms');
    expect(t).toContain('fsync p99 1.2 s × 1.5 = 1800 ms → 1800 ms');
    expect(t).toMatch(/Election timeout = 10× heartbeat = 18000 ms \(etcd's 10× rule/);
    expect(t).toContain('Change heartbeat 100 → 1800 ms and election timeout 1000 → 18000 ms');
    expect(t).toMatch(/faster disk is the real fix/);
  });

  it('fast disk and LAN: the defaults already fit, no change', () => {
    const r = recommendTiming({ fsyncP99S: 0.0038, rttP99S: 0.0023, current: DEFAULTS });
    expect(r).toMatchObject({ heartbeatInterval: 100, electionTimeout: 1000, changed: false, feasible: true });
    expect(text(r)).toMatch(/already cover this: no change needed/);
    expect(text(r)).toContain('fsync p99 3.8 ms × 1.5 = 5.7 ms → 100 ms');
    expect(text(r)).not.toMatch(/Change heartbeat/);
  });

  it('a slow network decides when it is the larger delay', () => {
    const r = recommendTiming({ fsyncP99S: 0.002, rttP99S: 0.2, current: DEFAULTS });
    expect(r).toMatchObject({ heartbeatInterval: 300, electionTimeout: 3000, changed: true });
    expect(text(r)).toContain('round trip 200 ms × 1.5 = 300 ms → 300 ms');
    expect(text(r)).not.toMatch(/faster disk/);
  });

  it('rounds the heartbeat up to a multiple of 50 ms, honours the margin', () => {
    expect(recommendTiming({ fsyncP99S: 0.101, current: DEFAULTS }).heartbeatInterval).toBe(200); // 151.5 ms
    expect(recommendTiming({ fsyncP99S: 0.1, current: DEFAULTS }).heartbeatInterval).toBe(150); // exactly 150
    expect(recommendTiming({ fsyncP99S: 0.1, current: DEFAULTS, margin: 2 }).heartbeatInterval).toBe(200);
    expect(() => recommendTiming({ fsyncP99S: 0.1, current: DEFAULTS, margin: 0.5 })).toThrow(RangeError);
  });

  it('current values that already cover the latencies are kept', () => {
    const r = recommendTiming({ fsyncP99S: 1.2, rttP99S: 0.0005, current: { heartbeatInterval: 2000, electionTimeout: 20000 } });
    expect(r).toMatchObject({ heartbeatInterval: 2000, electionTimeout: 20000, changed: false });
    expect(text(r)).toContain('The current heartbeat/election 2000/20000 ms already cover this: no change needed.');
    // a heartbeat that fits but an election timeout that is too short: changed
    const r2 = recommendTiming({ fsyncP99S: 1.2, current: { heartbeatInterval: 2000, electionTimeout: 9000 } });
    expect(r2).toMatchObject({ heartbeatInterval: 1800, electionTimeout: 18000, changed: true });
    // far more than needed: kept, with a hint
    const r3 = recommendTiming({ fsyncP99S: 0.001, current: { heartbeatInterval: 1000, electionTimeout: 10000 } });
    expect(r3.changed).toBe(false);
    expect(text(r3)).toContain('could be lowered to 100/1000 ms');
  });

  it('caps the election timeout at 50000 ms and the heartbeat so that election ≥ 5× heartbeat', () => {
    const r = recommendTiming({ fsyncP99S: 4, current: DEFAULTS });
    expect(r).toMatchObject({ heartbeatInterval: 6000, electionTimeout: MAX_ELECTION_TIMEOUT_MS, feasible: true });
    expect(text(r)).toContain("over etcd's limit of 50000 ms");

    const worse = recommendTiming({ fsyncP99S: 8, current: DEFAULTS });
    expect(worse).toMatchObject({ heartbeatInterval: 10000, electionTimeout: 50000, feasible: false, changed: true });
    expect(text(worse)).toContain('Heartbeat capped at 10000 ms');
    expect(text(worse)).toMatch(/No setting within etcd's limits covers a fsync p99 of 8 s/);
  });

  it('always returns values etcd and the inventory accept (over a sweep of latencies)', () => {
    for (const fsync of [0, 0.0001, 0.004, 0.02, 0.3, 1.2, 3.3, 5, 7, 20]) {
      for (const rtt of [null, 0.0003, 0.05, 0.9, 6]) {
        const r = recommendTiming({ fsyncP99S: fsync, rttP99S: rtt, current: DEFAULTS });
        expect(Number.isInteger(r.heartbeatInterval) && Number.isInteger(r.electionTimeout)).toBe(true);
        expect(r.heartbeatInterval).toBeGreaterThanOrEqual(100);
        expect(r.electionTimeout).toBeGreaterThanOrEqual(MIN_ELECTION_TO_HEARTBEAT * r.heartbeatInterval);
        expect(r.electionTimeout).toBeLessThanOrEqual(MAX_ELECTION_TIMEOUT_MS);
        if (r.feasible) {
          // a heartbeat covers the worst delay, and the election outlasts several worst fsyncs
          expect(r.heartbeatInterval).toBeGreaterThanOrEqual(Math.max(fsync, rtt ?? 0) * 1000);
          expect(r.electionTimeout).toBeGreaterThanOrEqual(5 * fsync * 1000);
        }
        // setEtcdTiming refuses what etcd refuses: the recommendation must pass it
        expect(() => setEtcdTiming('etcd:\n  heartbeatInterval: 1\n', r)).not.toThrow();
      }
    }
  });

  it('nothing measured: keep the current values', () => {
    const r = recommendTiming({ fsyncP99S: null, rttP99S: undefined, current: { heartbeatInterval: 250, electionTimeout: 2500 } });
    expect(r).toMatchObject({ heartbeatInterval: 250, electionTimeout: 2500, changed: false });
    expect(text(r)).toMatch(/Nothing was measured/);
    const single = recommendTiming({ fsyncP99S: 0.003, current: DEFAULTS });
    expect(text(single)).toMatch(/Peer round trip: not measured/);
  });

  it('rejects nonsense inputs', () => {
    expect(() => recommendTiming({ fsyncP99S: -1, current: DEFAULTS })).toThrow(RangeError);
    expect(() => recommendTiming({ rttP99S: NaN, current: DEFAULTS })).toThrow(RangeError);
    expect(() => recommendTiming({ rttP99S: Infinity, current: DEFAULTS })).toThrow(RangeError);
  });

  it('end to end: slow-disk metrics fixture → recommendation → inventory edit that validates', () => {
    const lat = etcdLatencies(readFileSync(path.join(__dirname, '../fixtures/metrics/etcd-3.4-slow-disk-1.2s.prom'), 'utf8'));
    const r = recommendTiming({ fsyncP99S: lat.walFsync.p99, rttP99S: lat.peerRtt.maxP99, current: DEFAULTS });
    // the histogram puts the p99 of 1.2 s fsyncs at ≈ 2.04 s (bucket (1.024, 2.048])
    expect(r).toMatchObject({ heartbeatInterval: 3100, electionTimeout: 31000, changed: true });
    const example = readFileSync(path.join(__dirname, '../../inventory.example.yaml'), 'utf8');
    const v = validateInventory(setEtcdTiming(example, r), { file: '/x/inventory.yaml' });
    expect(v.errors).toEqual([]);
    expect(v.inventory?.etcd).toMatchObject({ heartbeatInterval: 3100, electionTimeout: 31000 });
  });
});

describe('formatSeconds', () => {
  it('picks ms or s with sensible precision', () => {
    expect(formatSeconds(0.0005)).toBe('0.5 ms');
    expect(formatSeconds(0.00384615)).toBe('3.8 ms');
    expect(formatSeconds(0.013)).toBe('13 ms');
    expect(formatSeconds(1.2)).toBe('1.2 s');
    expect(formatSeconds(2.03776)).toBe('2.04 s');
    expect(formatSeconds(0)).toBe('0 ms');
  });
});
