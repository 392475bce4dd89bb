import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile, mkdir, lstat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { Remote } from '../../src/ssh/remote.js';
import { FSYNC_PROBE_FILE, fsyncProbeScript, parseFsyncProbe, probeFsync } from '../../src/node/disk.js';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/metrics', name), 'utf8');
const FIO = fixture('fsync-probe-fio-3.33.txt');
const DD = fixture('fsync-probe-dd.txt');

const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hardway-fsync-'));
  tmpDirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

const sh = (script: string) => execa('/bin/sh', ['-c', script], { reject: false, stripFinalNewline: false });
const hasFio = execaSync('/bin/sh', ['-c', 'command -v fio'], { reject: false }).exitCode === 0;

describe('fsyncProbeScript', () => {
  it('runs the etcd fio recipe (smaller, time-capped) in the data dir, else a dd loop', () => {
    const s = fsyncProbeScript('/var/lib/etcd', { count: 40, maxSeconds: 8 });
    expect(s).toContain(
      'fio --rw=write --ioengine=sync --fdatasync=1 --directory=/var/lib/etcd --filename=.hardway-fsync-probe --size=4194304 --bs=2300 --runtime=8 --name=hardway-fsync --output-format=json',
    );
    expect(s).toContain('dir=/var/lib/etcd\nprobe="$dir/.hardway-fsync-probe"');
    expect(s).toContain('dd if=/dev/zero of="$probe" bs=2300 count=1 oflag=dsync conv=notrunc status=none');
    expect(s).toContain('while [ $i -lt 40 ]; do');
    expect(s).toContain('[ $((t1 - start)) -ge 8000000000 ] && break');
    expect(s).toContain(`trap 'rm -f "$probe"' EXIT`);
    // the only thing ever removed is the probe file
    expect(s.match(/rm [^\n]*/g)?.every((c) => c.startsWith('rm -f "$probe"'))).toBe(true);
  });

  it('quotes the directory, escapes ":" for fio, can skip fio, and refuses bad arguments', () => {
    const s = fsyncProbeScript("/data/it's:here");
    expect(s).toContain(`dir='/data/it'\\''s:here'`);
    expect(s).toContain(`--directory='/data/it'\\''s\\:here'`);
    expect(fsyncProbeScript('/d', { noFio: true })).not.toContain('fio');
    expect(() => fsyncProbeScript('relative/dir')).toThrow(/absolute/);
    expect(() => fsyncProbeScript('/d', { count: 0 })).toThrow(RangeError);
    expect(() => fsyncProbeScript('/d', { maxSeconds: 0.5 })).toThrow(RangeError);
  });

  it('runs here with dd: samples, then only the probe file is gone', async () => {
    const dir = await tmpDir();
    await writeFile(path.join(dir, 'keep.wal'), 'precious');
    await mkdir(path.join(dir, 'member'));
    const r = await sh(fsyncProbeScript(dir, { noFio: true, count: 8, maxSeconds: 5 }));
    expect(r.exitCode).toBe(0);
    const res = parseFsyncProbe(r.stdout);
    expect(res.method).toBe('dd');
    expect(res.samples).toBe(8);
    expect(res.p99).toBeGreaterThanOrEqual(res.p50);
    expect(res.max).toBe(res.p99);
    expect((await readdir(dir)).sort()).toEqual(['keep.wal', 'member']);
    expect(await readFile(path.join(dir, 'keep.wal'), 'utf8')).toBe('precious');
  });

  it.runIf(hasFio)('runs here with fio when installed', async () => {
    const dir = await tmpDir();
    const r = await sh(fsyncProbeScript(dir, { maxSeconds: 5, fioSizeBytes: 230_000 }));
    expect(r.exitCode).toBe(0);
    const res = parseFsyncProbe(r.stdout);
    expect(res.method).toBe('fio');
    expect(res.samples).toBeGreaterThanOrEqual(90); // 100 writes; fio counts 99 syncs
    expect(res.samples).toBeLessThanOrEqual(100);
    expect(await readdir(dir)).toEqual([]);
  });

  it('never follows a symlink at the probe path, and leaves it in place', async () => {
    const dir = await tmpDir();
    const outside = path.join(await tmpDir(), 'victim');
    await writeFile(outside, 'do not overwrite');
    await symlink(outside, path.join(dir, FSYNC_PROBE_FILE));
    const r = await sh(fsyncProbeScript(dir, { noFio: true, count: 2 }));
    expect(r.exitCode).toBe(2);
    expect(() => parseFsyncProbe(r.stdout)).toThrow(/exists and is not a regular file/);
    expect(await readFile(outside, 'utf8')).toBe('do not overwrite');
    expect((await lstat(path.join(dir, FSYNC_PROBE_FILE))).isSymbolicLink()).toBe(true);
  });

  it('a missing directory is an error', async () => {
    const r = await sh(fsyncProbeScript('/nonexistent/hardway-test', { noFio: true }));
    expect(r.exitCode).toBe(2);
    expect(() => parseFsyncProbe(r.stdout)).toThrow('fsync probe: /nonexistent/hardway-test is not a directory');
  });
});

describe('parseFsyncProbe', () => {
  it('fio: the fdatasync percentiles from the JSON (nanoseconds → seconds)', () => {
    expect(parseFsyncProbe(FIO)).toEqual({
      method: 'fio',
      samples: 1823,
      p50: 121344e-9,
      p99: 1351680e-9,
      max: 3976845e-9,
      mean: 152689.456939e-9,
    });
  });

  it('dd: the samples less the smallest start-up overhead, nearest-rank percentiles', () => {
    const ns = (prefix: string) =>
      DD.split('\n')
        .filter((l) => l.startsWith(prefix))
        .map((l) => Number(l.slice(prefix.length)));
    const overhead = Math.min(...ns('overhead '));
    const secs = ns('sample ')
      .map((v) => Math.max(0, v - overhead) / 1e9)
      .sort((a, b) => a - b);
    expect(secs).toHaveLength(50);
    const r = parseFsyncProbe(DD);
    expect(r.method).toBe('dd');
    expect(r.samples).toBe(50);
    expect(r.overhead).toBeCloseTo(overhead / 1e9, 12);
    expect(r.p50).toBeCloseTo(secs[24]!, 12); // ceil(0.5 × 50) = 25th
    expect(r.p99).toBeCloseTo(secs[49]!, 12); // ceil(0.99 × 50) = 50th
    expect(r.max).toBeCloseTo(secs[49]!, 12);
  });

  it('dd on a slow disk: hand-made samples', () => {
    const out = [
      'hardway-fsync method=dd',
      'overhead 2000000',
      'overhead 1000000',
      ...[11, 12, 13, 14, 15, 16, 17, 18, 19, 1201].map((ms) => `sample ${ms * 1e6}`),
      'hardway-fsync end',
    ].join('\n');
    const r = parseFsyncProbe(out);
    expect(r.p50).toBeCloseTo(0.014, 9); // 5th of 10, less 1 ms
    expect(r.p99).toBeCloseTo(1.2, 9);
    expect(r.max).toBeCloseTo(1.2, 9);
    expect(r.mean).toBeCloseTo((10 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 1200) / 10 / 1000, 9);
  });

  it('falls back to the dd section when fio failed, saying why', () => {
    const out = [
      'hardway-fsync method=fio',
      'fio: pid=0, err=28/file:filesetup.c:240, func=write, error=No space left on device',
      'hardway-fsync fio-exit=1',
      'hardway-fsync method=dd',
      'overhead 1000000',
      'sample 3000000',
      'sample 5000000',
      'hardway-fsync end',
    ].join('\n');
    const r = parseFsyncProbe(out);
    expect(r.method).toBe('dd');
    expect(r.fioProblem).toBe('fio exited with 1');
    expect(r.p99).toBeCloseTo(0.004, 12);
  });

  it('fails clearly when there is nothing to read', () => {
    expect(() => parseFsyncProbe('')).toThrow(/no measurement/);
    expect(() => parseFsyncProbe('hardway-fsync method=fio\n{"jobs": [')).toThrow(/fio output cut short/);
    expect(() => parseFsyncProbe('hardway-fsync method=fio\n{"jobs":[{"sync":{"total_ios":0}}]}\nhardway-fsync fio-exit=0\n')).toThrow(
      /no fdatasync latencies/,
    );
    expect(() => parseFsyncProbe('hardway-fsync method=dd\noverhead 5\nhardway-fsync end')).toThrow(/no samples/);
    expect(() => parseFsyncProbe('hardway-fsync error dd: No space left on device')).toThrow('fsync probe: dd: No space left on device');
  });
});

describe('probeFsync', () => {
  const remote = (stdout: string, code = 0): Remote & { cmds: string[] } => {
    const cmds: string[] = [];
    return {
      name: 'controller-1',
      cmds,
      run: async (cmd) => {
        cmds.push(cmd);
        return { code, stdout, stderr: code ? 'boom' : '', timedOut: false };
      },
      upload: async () => {},
      close: async () => {},
    };
  };

  it('runs the script for the data dir and parses its output', async () => {
    const r = remote(FIO);
    const res = await probeFsync(r, '/var/lib/etcd');
    expect(res.method).toBe('fio');
    expect(r.cmds[0]).toBe(fsyncProbeScript('/var/lib/etcd'));
  });

  it('names the node on failure', async () => {
    await expect(probeFsync(remote('hardway-fsync error /x is not a directory\n', 2), '/x')).rejects.toThrow(
      'controller-1: fsync probe: /x is not a directory: boom',
    );
  });
});
