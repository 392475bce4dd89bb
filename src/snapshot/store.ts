import { chmod, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { UsageError } from '../errors.js';
import { syncDir, writeFilesAtomic } from '../pki/store.js';
import { utcStamp } from '../node/ops.js';
import { checkFile, IntegrityHasher, type Integrity } from './integrity.js';

/** Snapshots on the laptop: where they go, how they are written (0600, never half a file), their manifests. */

export interface Manifest {
  file: string;
  revision: number;
  /** etcd's keyspace hash from `snapshot status`. */
  hash: number;
  totalKeys: number;
  size: number;
  sha256: string;
  member: { name: string; id: string };
  etcdVersion: string;
  clusterId: string;
  token: string;
  /** ISO time the snapshot was taken. */
  time: string;
  /** Why hardway took it by itself (`pre-upgrade`); absent for `snapshot save`. */
  reason?: string;
}

export const manifestPath = (file: string) => `${file}.json`;

export function defaultSnapshotName(token: string, d: Date): string {
  return `${token}-${utcStamp(d)}.db`;
}

/** The snapshots dir, made 0700 when hardway creates it: a snapshot holds every secret of the cluster. */
export async function ensureSnapshotsDir(dir: string): Promise<{ created: boolean; looseMode?: number }> {
  const before = await stat(dir).catch(() => undefined);
  if (before && !before.isDirectory()) throw new UsageError(`${dir} is not a directory (snapshots.dir)`);
  if (!before) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    return { created: true };
  }
  const mode = before.mode & 0o777;
  return { created: false, ...(mode & 0o077 ? { looseMode: mode } : {}) };
}

/**
 * Writes `source` to `file` through `FILE.part` (0600 from the first byte), hashed on the way: synced, then renamed.
 * `accept` may refuse what arrived (it throws). A failure removes the part file; the target is never half written.
 * Resolves with the integrity of what was written.
 */
export async function writeSnapshotFile(file: string, source: (sink: NodeJS.WritableStream) => Promise<void>, accept: (got: Integrity) => void = () => {}): Promise<Integrity> {
  const part = `${file}.part`;
  const hasher = new IntegrityHasher();
  const fh = await open(part, 'w', 0o600);
  let integrity: Integrity;
  let failed: Error | undefined;
  // The one write in flight (a Writable hands over the next chunk only after the callback): waited for before the
  // file is closed, so no write lands on a closed descriptor.
  let inFlight: Promise<void> = Promise.resolve();
  // Chunks hashed as they come and written in batches (writev): SSH hands over 32 kB at a time, and one write per
  // chunk would hold the channel back on the disk. The callback holds the sender back while the disk is behind.
  const put = (chunks: Buffer[], cb: (e?: Error | null) => void) => {
    if (failed) return cb(failed);
    for (const c of chunks) hasher.update(c);
    inFlight = fh.writev(chunks).then(
      () => cb(),
      (e: Error) => {
        failed ??= e;
        cb(e);
      },
    );
  };
  const sink = new Writable({
    highWaterMark: 4 * 1024 * 1024,
    write: (chunk: Buffer, _enc, cb) => put([chunk], cb),
    writev: (chunks, cb) => put(chunks.map((c) => c.chunk as Buffer), cb),
  });
  sink.on('error', (e) => (failed ??= e));
  try {
    await fh.chmod(0o600); // a part file left by a killed run may have had another mode
    await source(sink);
    if (failed) throw failed;
    await new Promise<void>((resolve, reject) => sink.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (failed) throw failed;
    await fh.sync();
    integrity = hasher.digest();
    accept(integrity);
  } catch (e) {
    sink.destroy();
    await inFlight.catch(() => {});
    await fh.close().catch(() => {});
    await unlink(part).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(part, file);
  await syncDir(path.dirname(file));
  return integrity;
}

export async function writeManifest(file: string, m: Manifest): Promise<void> {
  await writeFilesAtomic(path.dirname(file), [{ name: path.basename(manifestPath(file)), content: `${JSON.stringify(m, null, 2)}\n`, mode: 0o600 }]);
}

/** The manifest beside a snapshot, when there is one that parses. */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  const text = await readFile(manifestPath(file), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const m = JSON.parse(text) as Manifest;
    return typeof m.revision === 'number' && typeof m.sha256 === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

export interface SnapshotFacts {
  file: string;
  manifest?: Manifest;
  integrity: Integrity;
  /** The file is the one the manifest describes. */
  matchesManifest?: boolean;
  /** ok / damaged: the one word `list` shows. */
  verdict: 'ok' | 'damaged' | 'no manifest';
  problem?: string;
  mtime: Date;
}

/** What is known of a snapshot file: its integrity checked afresh, against its manifest when it has one. */
export async function snapshotFacts(file: string): Promise<SnapshotFacts> {
  const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  if (!st.isFile()) throw new UsageError(`${file}: not a file`);
  const [integrity, manifest] = await Promise.all([checkFile(file), readManifest(file)]);
  const matchesManifest = manifest ? manifest.sha256 === integrity.sha256 && manifest.size === integrity.size : undefined;
  const problem = !integrity.ok ? integrity.problem : matchesManifest === false ? `the file is not the one its manifest describes (SHA-256 ${integrity.sha256.slice(0, 16)}…, manifest ${manifest!.sha256.slice(0, 16)}…)` : undefined;
  const verdict = problem ? 'damaged' : manifest ? 'ok' : 'no manifest';
  return { file, ...(manifest ? { manifest } : {}), integrity, ...(matchesManifest !== undefined ? { matchesManifest } : {}), verdict, ...(problem ? { problem } : {}), mtime: st.mtime };
}

/**
 * The file a snapshot argument means: a path that exists, as it is; else a bare name (no `/`), as `snapshot list`
 * shows it, inside snapshots.dir (`.db` may be left out). `snapshotsDir` is asked for only then: a real path needs no
 * inventory. Anything else is a usage error naming both places looked in.
 */
export async function resolveSnapshot(arg: string, snapshotsDir: () => Promise<string>): Promise<string> {
  if (await stat(arg).then(() => true, () => false)) return arg;
  if (arg === '' || arg.includes('/') || arg === '.' || arg === '..') return arg; // a path: snapshotFacts says what is wrong with it
  let dir: string;
  try {
    dir = await snapshotsDir();
  } catch (e) {
    throw new UsageError(`${arg}: no such file here, and a snapshot name is looked up in the inventory's snapshots.dir: ${(e as Error).message}`);
  }
  for (const name of arg.endsWith('.db') ? [arg] : [arg, `${arg}.db`]) {
    const file = path.join(dir, name);
    if (await stat(file).then((st) => st.isFile(), () => false)) return file;
  }
  throw new UsageError(`${arg}: no such file here, nor a snapshot of that name in ${dir} ('hardway snapshot list' shows them)`);
}

/** The snapshots in `dir` (`*.db`), newest first (the manifest's time, else the file's). */
export async function listSnapshots(dir: string): Promise<SnapshotFacts[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
  const files = names.filter((n) => n.endsWith('.db')).map((n) => path.join(dir, n));
  // One file that cannot be read is that file's verdict, not the end of the list.
  const facts = await Promise.all(
    files.map((f) =>
      snapshotFacts(f).catch((e: Error): SnapshotFacts => ({ file: f, integrity: { size: 0, sha256: '', hasHash: false, ok: false }, verdict: 'damaged', problem: e.message.replace(`${f}: `, ''), mtime: new Date(0) })),
    ),
  );
  const when = (f: SnapshotFacts) => (f.manifest ? Date.parse(f.manifest.time) : f.mtime.getTime());
  return facts.sort((a, b) => when(b) - when(a));
}


/**
 * Keeps the newest `keep` snapshots of each cluster token (by their manifests) and removes the others with their
 * manifests. A file without a readable manifest is never removed: what it holds cannot be told. The one place that
 * removes a snapshot: after an automatic save, and `hardway snapshot prune`.
 */
export async function pruneSnapshots(dir: string, keep: number, token?: string): Promise<string[]> {
  const all = (await listSnapshots(dir)).filter((f) => f.manifest && (!token || f.manifest.token === token));
  const byToken = new Map<string, SnapshotFacts[]>();
  for (const f of all) byToken.set(f.manifest!.token, [...(byToken.get(f.manifest!.token) ?? []), f]);
  const removed: string[] = [];
  for (const files of byToken.values()) {
    for (const f of files.slice(keep)) {
      await unlink(f.file);
      await unlink(manifestPath(f.file)).catch(() => undefined);
      removed.push(f.file);
    }
  }
  return removed;
}
