import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.js';
import { isAlive } from '../processes.js';
import { formatBytes, info } from '../output.js';
import type { ReleaseArch } from '../inventory/schema.js';
import type { Inventory } from '../inventory/types.js';
import type { UploadSource } from '../ssh/remote.js';

/** etcd releases here: downloaded, checked and extracted once into a cache, for `up`, `recover`, the certificate flows and the lab. */

export function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'hardway');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function bufferSource(data: Buffer): UploadSource {
  return { data, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** How long a download may go without receiving a byte (connecting included) before it is given up. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 30_000;

/** Progress lines; `up --json` passes a quiet one. */
export type Log = (line: string) => void;

/** `<path>.tmp-<pid>-<random>`: unique per call, and it names the process, so a dead one's can be told apart. */
export const tempName = (p: string) => `${p}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Removes `*.tmp-<pid>` entries in `dir` whose process is gone: what a hardway killed mid-download or mid-extract left. */
export async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/\.tmp-(\d+)(?:-[0-9a-f]+)?$/.exec(name)?.[1]);
    if (pid > 0 && pid !== process.pid && !isAlive(pid)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

export interface DownloadOptions {
  /** Where verified downloads are kept; `~/.cache/hardway/downloads` by default. */
  dir?: string;
  idleTimeoutMs?: number;
  log?: Log;
}

/**
 * Downloads `url` once into the cache (named by its checksum, so a cached file is the verified one) and checks it
 * against `sha256`. Streamed to a temp file and hashed on the way; the temp file is renamed into place only when
 * the sum matches, so a failed, stalled or wrong download leaves nothing behind (and one killed outright is
 * cleaned up by the next).
 */
export async function download(url: string, sha256: string, opts: DownloadOptions = {}): Promise<string> {
  const { dir = path.join(cacheDir(), 'downloads'), idleTimeoutMs = DOWNLOAD_IDLE_TIMEOUT_MS, log = info } = opts;
  const dest = path.join(dir, `${sha256.toLowerCase()}-${path.basename(new URL(url).pathname) || 'download'}`);
  if (await exists(dest)) return dest;
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);
  const tmp = tempName(dest);
  const started = Date.now();
  log(`downloading ${url}`);
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), idleTimeoutMs);
  };
  const fail = (why: string) => new OperationError(`downloading ${url} failed: ${why}`);
  const reason = (e: unknown) => (abort.signal.aborted ? `nothing received for ${idleTimeoutMs / 1000} s` : errorText(e));
  alive();
  try {
    const res = await fetch(url, { signal: abort.signal }).catch((e: unknown) => {
      throw fail(reason(e));
    });
    if (!res.ok || !res.body) throw fail(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    const hash = createHash('sha256');
    let received = 0;
    const out = await open(tmp, 'w', 0o644);
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        alive();
        received += chunk.length;
        hash.update(chunk);
        await out.write(chunk);
      }
      await out.sync();
    } catch (e) {
      throw fail(reason(e));
    } finally {
      await out.close();
    }
    const got = hash.digest('hex');
    if (got !== sha256.toLowerCase()) {
      throw new OperationError(`downloaded ${url} has sha256 ${got}, but the inventory says ${sha256}: not using it (check etcd.url and etcd.sha256)`);
    }
    await rename(tmp, dest);
    log(`downloaded ${formatBytes(received)} in ${((Date.now() - started) / 1000).toFixed(1)} s, sha256 as in the inventory: ${dest}`);
    return dest;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** fetch's own errors say "fetch failed" and keep the reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function errorText(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

export interface EtcdBinaries {
  tarball: string;
  etcd: UploadSource;
  etcdctl: UploadSource;
  /** Only in releases that ship it (3.5+). */
  etcdutl?: UploadSource;
}

/** `etcdutl: null` records a release without it; a manifest with no `etcdutl` key predates the question. */
type Manifest = Pick<EtcdBinaries, 'etcd' | 'etcdctl'> & { etcdutl: UploadSource | null };

/** The cache entry's manifest, if the entry is complete. */
async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    // An entry extracted before etcdutl was looked for may lack it: extracted again, once.
    if (m.etcdutl === undefined) return undefined;
    const files = [m.etcd, m.etcdctl, ...(m.etcdutl ? [m.etcdutl] : [])];
    for (const f of files) if (!(await exists(f.path!))) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

function binariesOf(tarball: string, m: Manifest): EtcdBinaries {
  return { tarball, etcd: m.etcd, etcdctl: m.etcdctl, ...(m.etcdutl ? { etcdutl: m.etcdutl } : {}) };
}

/**
 * Extracts etcd and etcdctl (and etcdutl, when the release has it) from a release tarball
 * (`etcd-vX-linux-amd64/etcd`, `…/etcdctl`) into a cache keyed by the tarball, so a re-run reads one manifest
 * and hashes nothing it hashed before.
 */
/** The architectures `etcd.tarball` (or `etcd.url`) is given for, or undefined when it is one value for every node. */
export function releaseArches(inv: Inventory): ReleaseArch[] | undefined {
  const v = inv.etcd.tarball ?? inv.etcd.url;
  return v === undefined || typeof v === 'string' ? undefined : (Object.keys(v) as ReleaseArch[]);
}

/** The release of one architecture (`arch`, when etcd.tarball/url is a map per architecture). */
export async function etcdBinaries(inv: Inventory, log: Log = info, arch?: ReleaseArch): Promise<EtcdBinaries> {
  const pick = (v: string | Partial<Record<ReleaseArch, string>> | undefined) => (v === undefined || typeof v === 'string' ? v : arch ? v[arch] : undefined);
  const [local, url, sha256] = [pick(inv.etcd.tarball), pick(inv.etcd.url), pick(inv.etcd.sha256)];
  const tarball = local ?? (url && sha256 ? await download(url, sha256, { log }) : undefined);
  if (!tarball) throw new UsageError(`${inv.file}: etcd.tarball (or etcd.url + etcd.sha256) is needed to install etcd${arch ? ` (for ${arch})` : ''}`);
  if (!(await exists(tarball))) throw new UsageError(`etcd tarball ${tarball} does not exist (etcd.tarball in ${inv.file})`);
  const st = await stat(tarball);
  // Keyed by path, size and mtime: hashing a 17 MB tarball on every run would cost more than the whole no-op.
  const key = createHash('sha256').update(`${path.resolve(tarball)}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 24);
  const dir = path.join(cacheDir(), 'etcd', key);
  const cached = await readManifest(dir);
  if (cached) return binariesOf(tarball, cached);
  await removeStaleTemps(path.dirname(dir));
  const tmp = tempName(dir);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    // Loaded here: only a binary cache miss extracts.
    const { execa } = await import('execa');
    const r = await execa('tar', ['-xzf', tarball, '-C', tmp], { reject: false });
    if (r.exitCode !== 0) throw new UsageError(`etcd tarball ${tarball} cannot be extracted (corrupt or not a .tar.gz): ${r.stderr.trim().split('\n')[0]}`);
    const top = (await readdir(tmp)).find((d) => d.startsWith('etcd-'));
    const version = /^etcd-v(\d+\.\d+\.\d+)/.exec(top ?? '')?.[1];
    if (version && version !== inv.etcd.version) {
      throw new UsageError(`etcd tarball ${tarball} holds etcd ${version}, but etcd.version in ${inv.file} is ${inv.etcd.version}: make them agree`);
    }
    const rel = (name: string) => (top ? path.join(top, name) : name);
    const source = async (name: string): Promise<UploadSource> => {
      const p = path.join(tmp, rel(name));
      if (!(await exists(p))) throw new UsageError(`etcd tarball ${tarball} has no ${rel(name)}: not an etcd release tarball`);
      return { path: path.join(dir, rel(name)), size: (await stat(p)).size, sha256: await sha256File(p) };
    };
    // etcdutl came with 3.5 (snapshot restore and defrag moved there); a 3.4 release has none, and needs none.
    const etcdutl = (await exists(path.join(tmp, rel('etcdutl')))) ? await source('etcdutl') : null;
    const m: Manifest = { etcd: await source('etcd'), etcdctl: await source('etcdctl'), etcdutl };
    // The manifest goes in before the rename, so the entry appears complete or not at all.
    await writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(m));
    const done = await readManifest(dir);
    if (done) return binariesOf(tarball, done);
    // What is there has no manifest: a run killed before the manifest was written in place (older hardway).
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another hardway finished the same entry in the meantime: theirs is as good as ours.
      const theirs = await readManifest(dir);
      if (!theirs) throw e;
      return binariesOf(tarball, theirs);
    }
    return binariesOf(tarball, m);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
