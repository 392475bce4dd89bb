import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { Inventory } from '../../src/inventory/types.js';
import { etcdBinaries, sha256File } from '../../src/release/artifacts.js';

// Real tarballs made with tar, extracted into a cache under a scratch XDG_CACHE_HOME.
let work: string;
const savedCache = process.env.XDG_CACHE_HOME;
const quiet = () => {};

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'hardway-art-'));
  process.env.XDG_CACHE_HOME = path.join(work, 'cache');
  return () => rm(work, { recursive: true, force: true });
});
afterAll(() => {
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
});

async function release(top: string, files: Record<string, string>): Promise<string> {
  const src = path.join(work, 'src', top);
  await mkdir(src, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(src, name), text, { mode: 0o755 });
  const tarball = path.join(work, `${top}.tar.gz`);
  await execa('tar', ['-czf', tarball, '-C', path.join(work, 'src'), top]);
  return tarball;
}

const inventory = (tarball: string, version = '3.4.23') => ({ file: path.join(work, 'inventory.yaml'), etcd: { tarball, version } }) as unknown as Inventory;
const entries = async () => readdir(path.join(work, 'cache', 'hardway', 'etcd')).catch(() => [] as string[]);

async function usageError(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UsageError);
  return (e as Error).message;
}

describe('etcdBinaries', () => {
  it('extracts etcd and etcdctl once, with their sums, and reads the cache after that', async () => {
    const tarball = await release('etcd-v3.4.23-linux-amd64', { etcd: 'etcd binary', etcdctl: 'etcdctl binary', 'README.md': 'docs' });
    const first = await etcdBinaries(inventory(tarball), quiet);
    expect(await readFile(first.etcd.path!, 'utf8')).toBe('etcd binary');
    expect(first.etcdctl.sha256).toBe(await sha256File(first.etcdctl.path!));
    expect(first.etcd.size).toBe('etcd binary'.length);
    const mtime = (await stat(first.etcd.path!)).mtimeMs;
    const again = await etcdBinaries(inventory(tarball), quiet);
    expect(again).toEqual(first);
    expect((await stat(again.etcd.path!)).mtimeMs).toBe(mtime);
    expect(await entries()).toHaveLength(1);
  });

  it('gives two runs extracting the same release at once the same complete entry', async () => {
    const tarball = await release('etcd-v3.4.23-linux-amd64', { etcd: 'etcd binary', etcdctl: 'etcdctl binary' });
    const [a, b] = await Promise.all([etcdBinaries(inventory(tarball), quiet), etcdBinaries(inventory(tarball), quiet)]);
    expect(a).toEqual(b);
    expect(await readFile(b.etcdctl.path!, 'utf8')).toBe('etcdctl binary');
    expect(await entries()).toHaveLength(1);
  });

  it('refuses a release of another version than etcd.version, and keeps nothing of it', async () => {
    const tarball = await release('etcd-v3.5.17-linux-amd64', { etcd: 'x', etcdctl: 'y' });
    expect(await usageError(etcdBinaries(inventory(tarball), quiet))).toContain('holds etcd 3.5.17, but etcd.version in');
    expect(await entries()).toEqual([]);
  });

  it('refuses a tarball without etcdctl, and one that is not a tarball', async () => {
    const noCtl = await release('etcd-v3.4.23-linux-amd64', { etcd: 'x' });
    expect(await usageError(etcdBinaries(inventory(noCtl), quiet))).toContain('has no etcd-v3.4.23-linux-amd64/etcdctl: not an etcd release tarball');
    const junk = path.join(work, 'junk.tar.gz');
    await writeFile(junk, 'not gzip');
    expect(await usageError(etcdBinaries(inventory(junk), quiet))).toContain('cannot be extracted (corrupt or not a .tar.gz)');
    expect(await entries()).toEqual([]);
  });

  it('replaces an entry a killed run left without its manifest, and removes a dead run\'s temp dir', async () => {
    const tarball = await release('etcd-v3.4.23-linux-amd64', { etcd: 'etcd binary', etcdctl: 'etcdctl binary' });
    const { etcd } = await etcdBinaries(inventory(tarball), quiet);
    const entry = path.dirname(path.dirname(etcd.path!));
    await rm(path.join(entry, 'manifest.json'));
    await writeFile(etcd.path!, 'half a binary');
    const gone = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
    await mkdir(`${entry}.tmp-${gone}`);
    const fixed = await etcdBinaries(inventory(tarball), quiet);
    expect(await readFile(fixed.etcd.path!, 'utf8')).toBe('etcd binary');
    expect(await entries()).toEqual([path.basename(entry)]);
  });
});

describe('etcdBinaries: etcdutl', () => {
  it('extracts etcdutl from a 3.5 release, with its sum, and caches it like the others', async () => {
    const tarball = await release('etcd-v3.5.16-linux-amd64', { etcd: 'etcd binary', etcdctl: 'etcdctl binary', etcdutl: 'etcdutl binary' });
    const first = await etcdBinaries(inventory(tarball, '3.5.16'), quiet);
    expect(await readFile(first.etcdutl!.path!, 'utf8')).toBe('etcdutl binary');
    expect(first.etcdutl!.sha256).toBe(await sha256File(first.etcdutl!.path!));
    expect(first.etcdutl!.size).toBe('etcdutl binary'.length);
    const again = await etcdBinaries(inventory(tarball, '3.5.16'), quiet);
    expect(again).toEqual(first);
    expect(await entries()).toHaveLength(1);
  });

  it('has no etcdutl for a 3.4 release, and says so in the manifest', async () => {
    const tarball = await release('etcd-v3.4.23-linux-amd64', { etcd: 'etcd binary', etcdctl: 'etcdctl binary' });
    const r = await etcdBinaries(inventory(tarball), quiet);
    expect('etcdutl' in r).toBe(false);
    const entry = path.dirname(path.dirname(r.etcd.path!));
    expect(JSON.parse(await readFile(path.join(entry, 'manifest.json'), 'utf8')).etcdutl).toBeNull();
  });

  it('extracts again an entry whose manifest predates etcdutl, and finds it', async () => {
    const tarball = await release('etcd-v3.5.16-linux-amd64', { etcd: 'etcd binary', etcdctl: 'etcdctl binary', etcdutl: 'etcdutl binary' });
    const { etcd } = await etcdBinaries(inventory(tarball, '3.5.16'), quiet);
    const manifest = path.join(path.dirname(path.dirname(etcd.path!)), 'manifest.json');
    const { etcdutl: _dropped, ...older } = JSON.parse(await readFile(manifest, 'utf8'));
    await writeFile(manifest, JSON.stringify(older));
    const r = await etcdBinaries(inventory(tarball, '3.5.16'), quiet);
    expect(await readFile(r.etcdutl!.path!, 'utf8')).toBe('etcdutl binary');
    expect(JSON.parse(await readFile(manifest, 'utf8')).etcdutl.sha256).toBe(r.etcdutl!.sha256);
    expect(await entries()).toHaveLength(1);
  });

  it('loses the cache entry when its etcdutl was removed, and extracts it again', async () => {
    const tarball = await release('etcd-v3.5.16-linux-amd64', { etcd: 'etcd binary', etcdctl: 'etcdctl binary', etcdutl: 'etcdutl binary' });
    const { etcdutl } = await etcdBinaries(inventory(tarball, '3.5.16'), quiet);
    await rm(etcdutl!.path!);
    const r = await etcdBinaries(inventory(tarball, '3.5.16'), quiet);
    expect(await readFile(r.etcdutl!.path!, 'utf8')).toBe('etcdutl binary');
  });
});
