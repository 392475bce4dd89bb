import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { DIR_MODE, PKI_FILES } from './files.js';

/** The PKI directory on disk: reading, atomic writes, modes. */

export type PkiKey = keyof typeof PKI_FILES;
export type PkiContents = Partial<Record<PkiKey, string>>;

export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

function errMsg(e: unknown): string {
  return (e as Error).message;
}

export interface DirState {
  created: boolean;
  /** The mode it had when it was wider than 0700 (and was tightened). */
  tightenedFrom?: number;
}

/** Creates the directory 0700, or tightens an existing one that others can read. */
export async function ensurePrivateDir(dir: string): Promise<DirState> {
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const mode = (await stat(dir)).mode & 0o777;
    if (created !== undefined) {
      // The umask may have narrowed it further; make it exactly 0700.
      if (mode !== DIR_MODE) await chmod(dir, DIR_MODE);
      return { created: true };
    }
    if (mode & 0o077) {
      await chmod(dir, DIR_MODE);
      return { created: false, tightenedFrom: mode };
    }
    return { created: false };
  } catch (e) {
    throw new OperationError(`cannot prepare the PKI directory ${dir}: ${errMsg(e)}`);
  }
}

/** The mode bits of a file, or undefined when it does not exist. */
export async function fileMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OperationError(`cannot stat ${file}: ${errMsg(e)}`);
  }
}

/** Removes group/other bits beyond `mode`; returns the old mode when it changed anything. */
export async function tightenMode(file: string, mode: number): Promise<number | undefined> {
  const old = await fileMode(file);
  if (old === undefined || (old & ~mode) === 0) return undefined;
  await chmod(file, mode);
  return old;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OperationError(`cannot read ${file}: ${errMsg(e)}`);
  }
}

/** The four files' contents; a missing file is absent from the result. */
export async function readPkiFiles(dir: string): Promise<PkiContents> {
  const keys = Object.keys(PKI_FILES) as PkiKey[];
  const values = await Promise.all(keys.map((k) => readOptional(path.join(dir, PKI_FILES[k]))));
  const out: PkiContents = {};
  keys.forEach((k, i) => {
    if (values[i] !== undefined) out[k] = values[i];
  });
  return out;
}

export interface PendingFile {
  name: string;
  content: string;
  mode: number;
}

async function writeTemp(dir: string, f: PendingFile): Promise<string> {
  const tmp = path.join(dir, `.${f.name}.${randomBytes(6).toString('hex')}.tmp`);
  // Created with its final mode, so a key is never readable by others, not even for a moment.
  const fh = await open(tmp, 'wx', f.mode);
  try {
    await fh.chmod(f.mode); // exact, whatever the umask
    await fh.writeFile(f.content);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return tmp;
}

/**
 * Writes every file to a temp file in `dir` (in parallel, synced), then renames them into place in the
 * order given: a crash leaves each file either old or new, never half-written. Callers order keys before
 * their certificates.
 */
export async function writeFilesAtomic(dir: string, files: PendingFile[]): Promise<void> {
  const settled = await Promise.allSettled(files.map((f) => writeTemp(dir, f)));
  const temps = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    throw new OperationError(`cannot write to ${dir}: ${errMsg(failed.reason)}`);
  }
  try {
    for (const [i, f] of files.entries()) await rename(temps[i]!, path.join(dir, f.name));
  } catch (e) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    throw new OperationError(`cannot write to ${dir}: ${errMsg(e)}`);
  }
  await syncDir(dir);
}

/** Makes renames in `dir` durable (best effort: not every platform can sync a directory). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const dh = await open(dir, 'r');
    await dh.sync().finally(() => dh.close());
  } catch {
    // best effort
  }
}
