import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * etcd's own integrity check of a snapshot file, done on the laptop. `etcdctl snapshot save` appends the SHA-256 of
 * the database to it; etcd recognises a file that has one by its size (a bbolt file is whole pages, so the size is
 * 32 more than a multiple of 512), and restore refuses a file whose hash does not match ("snapshot missing hash"
 * for a db copied out of a data dir).
 */

export const HASH_SIZE = 32;

export interface Integrity {
  size: number;
  /** SHA-256 of the whole file, as `sha256sum` prints it: what the manifest and the nodes compare. */
  sha256: string;
  /** The file ends with a hash (its size says so). */
  hasHash: boolean;
  /** The trailing hash is the SHA-256 of what precedes it. */
  ok: boolean;
  /** Why not ok, in words. */
  problem?: string;
}

/** Hashes bytes as they pass: the whole stream, and the stream without its last 32 bytes (held back until the end). */
export class IntegrityHasher {
  private readonly whole: Hash = createHash('sha256');
  private readonly body: Hash = createHash('sha256');
  private tail = Buffer.alloc(0);
  private size = 0;

  update(chunk: Buffer): void {
    this.whole.update(chunk);
    this.size += chunk.length;
    const joined = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const cut = Math.max(0, joined.length - HASH_SIZE);
    if (cut) this.body.update(joined.subarray(0, cut));
    this.tail = Buffer.from(joined.subarray(cut));
  }

  digest(): Integrity {
    const sha256 = this.whole.digest('hex');
    const size = this.size;
    const hasHash = size % 512 === HASH_SIZE;
    if (!hasHash) {
      const problem =
        size === 0
          ? 'the file is empty'
          : `no integrity hash: ${size} bytes is not a database plus etcd's 32-byte SHA-256 (a db file copied out of a data dir, or a file cut short)`;
      return { size, sha256, hasHash, ok: false, problem };
    }
    const want = this.tail.toString('hex');
    const got = this.body.digest('hex');
    if (got !== want) return { size, sha256, hasHash, ok: false, problem: `integrity hash mismatch: the file says ${want.slice(0, 16)}…, its content hashes to ${got.slice(0, 16)}… (the file is damaged)` };
    return { size, sha256, hasHash, ok: true };
  }
}

/** The integrity of a file on the laptop. */
export async function checkFile(file: string): Promise<Integrity> {
  const hasher = new IntegrityHasher();
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) hasher.update(chunk as Buffer);
  return hasher.digest();
}
