import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { checkFile, IntegrityHasher, type Integrity } from '../../src/snapshot/integrity.js';
import { listSnapshots, readManifest, resolveSnapshot, snapshotFacts, writeManifest, writeSnapshotFile, type Manifest } from '../../src/snapshot/store.js';
import { listTable, statusJson, statusText } from '../../src/snapshot/view.js';

/** A small deterministic PRNG (mulberry32): the same "random" bytes and chunk sizes on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What `etcdctl snapshot save` writes: a bbolt file of whole 4096-byte pages, then the SHA-256 of those pages. */
function snapshotBytes(pages: number, seed = 1): Buffer {
  const rnd = prng(seed);
  const body = Buffer.alloc(pages * 4096);
  for (let i = 0; i < body.length; i++) body[i] = Math.floor(rnd() * 256);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function hashAll(buf: Buffer, chunkSizes?: () => number): Integrity {
  const h = new IntegrityHasher();
  if (!chunkSizes) h.update(buf);
  else for (let at = 0; at < buf.length; ) {
    const n = Math.max(1, chunkSizes());
    h.update(buf.subarray(at, at + n));
    at += n;
  }
  return h.digest();
}

const flipped = (buf: Buffer, at: number) => {
  const b = Buffer.from(buf);
  b[at] = b[at]! ^ 0x01;
  return b;
};

const tmpDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));

describe('IntegrityHasher', () => {
  const snap = snapshotBytes(5);

  it('accepts a snapshot-shaped file: size is pages + 32, the trailing hash is the SHA-256 of the pages', () => {
    expect(snap.length).toBe(5 * 4096 + 32);
    const i = hashAll(snap);
    expect(i).toEqual({ size: 5 * 4096 + 32, sha256: sha(snap), hasHash: true, ok: true });
    expect(i.problem).toBeUndefined();
  });

  it('refuses one flipped byte anywhere, in the pages or in the hash itself, as a mismatch', () => {
    for (const at of [0, 1, 4095, 4096, 12_345, snap.length - 33, snap.length - 32, snap.length - 1]) {
      const bad = flipped(snap, at);
      const i = hashAll(bad);
      expect(i.ok, `byte ${at}`).toBe(false);
      expect(i.hasHash).toBe(true);
      expect(i.size).toBe(snap.length);
      // The whole-file SHA-256 is still that of what was read, damaged or not.
      expect(i.sha256).toBe(sha(bad));
      expect(i.sha256).not.toBe(sha(snap));
      expect(i.problem).toMatch(/^integrity hash mismatch: the file says [0-9a-f]{16}…, its content hashes to [0-9a-f]{16}… \(the file is damaged\)$/);
    }
    // The message names the two hashes: the trailing one, and the one of the content.
    const bad = flipped(snap, 10);
    const want = snap.subarray(snap.length - 32).toString('hex').slice(0, 16);
    const got = sha(bad.subarray(0, bad.length - 32)).slice(0, 16);
    expect(hashAll(bad).problem).toBe(`integrity hash mismatch: the file says ${want}…, its content hashes to ${got}… (the file is damaged)`);
  });

  it('says "no integrity hash" for a file cut short by one byte, and for a bare db copied out of a data dir', () => {
    const cut = hashAll(snap.subarray(0, snap.length - 1));
    expect(cut).toMatchObject({ size: snap.length - 1, hasHash: false, ok: false, sha256: sha(snap.subarray(0, snap.length - 1)) });
    expect(cut.problem).toBe(`no integrity hash: ${snap.length - 1} bytes is not a database plus etcd's 32-byte SHA-256 (a db file copied out of a data dir, or a file cut short)`);
    const db = hashAll(snap.subarray(0, 5 * 4096));
    expect(db).toMatchObject({ size: 20480, hasHash: false, ok: false });
    expect(db.problem).toMatch(/^no integrity hash: 20480 bytes/);
    // One byte too many is no better.
    expect(hashAll(Buffer.concat([snap, Buffer.from([0])])).hasHash).toBe(false);
  });

  it('recognises a trailing hash by the size etcd checks: 32 more than a multiple of 512, not of any smaller power of two', () => {
    // 288 = 256 + 32 and 32 + 3 × 128: no bbolt file is that long, so etcd sees no hash there.
    for (const size of [32 + 256, 32 + 3 * 128, 32 + 4096 + 256]) expect(hashAll(Buffer.alloc(size)).hasHash, `${size} bytes`).toBe(false);
    // 32 + 512 × k bytes: a hash, checked (all zeroes: a mismatch, not "no integrity hash").
    for (const size of [32 + 512, 32 + 3 * 512]) expect(hashAll(Buffer.alloc(size))).toMatchObject({ hasHash: true, ok: false, problem: expect.stringMatching(/^integrity hash mismatch/) });
    // A file of just 32 bytes is an empty database with its hash.
    const empty = createHash('sha256').update(Buffer.alloc(0)).digest();
    expect(hashAll(empty)).toMatchObject({ size: 32, hasHash: true, ok: true });
  });

  it('an empty file', () => {
    expect(hashAll(Buffer.alloc(0))).toEqual({ size: 0, sha256: sha(Buffer.alloc(0)), hasHash: false, ok: false, problem: 'the file is empty' });
    expect(new IntegrityHasher().digest().sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('gives the same answer whatever the chunks: 1 byte, under 32, random sizes, one chunk', () => {
    const small = snapshotBytes(1, 7);
    const bad = flipped(small, 4000);
    const hashBad = flipped(small, small.length - 5);
    for (const buf of [small, bad, hashBad, small.subarray(0, small.length - 1)]) {
      const whole = hashAll(buf);
      expect(hashAll(buf, () => 1)).toEqual(whole);
      expect(hashAll(buf, () => 31)).toEqual(whole);
      expect(hashAll(buf, () => 32)).toEqual(whole);
      expect(hashAll(buf, () => 33)).toEqual(whole);
      for (const seed of [1, 2, 3]) {
        const rnd = prng(seed);
        expect(hashAll(buf, () => 1 + Math.floor(rnd() * 40))).toEqual(whole);
        // Mostly large chunks with the odd tiny one, so that a chunk ends inside the trailing 32 bytes.
        expect(hashAll(buf, () => (rnd() < 0.3 ? 1 + Math.floor(rnd() * 5) : 100 + Math.floor(rnd() * 3000)))).toEqual(whole);
      }
    }
    expect(hashAll(small, () => 1).ok).toBe(true);
    expect(hashAll(bad, () => 3).ok).toBe(false);
    expect(hashAll(hashBad, () => 7).ok).toBe(false);
  });

  it('keeps its own copy of the held-back tail: a caller reusing its buffer changes nothing', () => {
    const small = snapshotBytes(1, 9);
    const h = new IntegrityHasher();
    const scratch = Buffer.alloc(20);
    for (let at = 0; at < small.length; at += 20) {
      const n = small.copy(scratch, 0, at, Math.min(at + 20, small.length));
      h.update(scratch.subarray(0, n));
      scratch.fill(0xff); // as a reader reusing its buffer would
    }
    expect(h.digest()).toEqual(hashAll(small));
  });

  it('checkFile reads a file on disk to the same result', async () => {
    const dir = tmpDir('hw-snap-int-');
    const good = path.join(dir, 'good.db');
    const bad = path.join(dir, 'bad.db');
    const empty = path.join(dir, 'empty.db');
    // Bigger than checkFile's 1 MiB read size: the hash is split across reads.
    const big = snapshotBytes(300, 3);
    writeFileSync(good, big);
    writeFileSync(bad, flipped(big, 1024 * 1024 + 17));
    writeFileSync(empty, '');
    expect(await checkFile(good)).toEqual({ size: 300 * 4096 + 32, sha256: sha(big), hasHash: true, ok: true });
    expect(await checkFile(bad)).toMatchObject({ ok: false, hasHash: true, problem: expect.stringMatching(/^integrity hash mismatch/) });
    expect(await checkFile(empty)).toMatchObject({ size: 0, ok: false, problem: 'the file is empty' });
    await expect(checkFile(path.join(dir, 'missing.db'))).rejects.toThrow(/ENOENT/);
  });
});

describe('writeSnapshotFile', () => {
  const snap = snapshotBytes(3, 11);
  /** A source that writes `buf` in chunks, as a streamed `cat` would, honouring the sink's back-pressure. */
  const from = (buf: Buffer, chunk = 1000) => async (sink: NodeJS.WritableStream) => {
    for (let at = 0; at < buf.length; at += chunk) {
      if (!sink.write(buf.subarray(at, at + chunk))) await new Promise((r) => sink.once('drain', r));
    }
  };
  const mode = (f: string) => statSync(f).mode & 0o777;

  it('writes the bytes to FILE with mode 0600 and leaves no FILE.part; resolves with their integrity', async () => {
    const dir = tmpDir('hw-snap-write-');
    const file = path.join(dir, 's.db');
    const seen: Integrity[] = [];
    const got = await writeSnapshotFile(file, from(snap), (i) => void seen.push(i));
    expect(got).toEqual({ size: snap.length, sha256: sha(snap), hasHash: true, ok: true });
    expect(seen).toEqual([got]);
    expect(readFileSync(file).equals(snap)).toBe(true);
    expect(mode(file)).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['s.db']);
  });

  it('works with a piped stream too, and a part file left by a killed run (0644, longer) is replaced', async () => {
    const dir = tmpDir('hw-snap-write-');
    const file = path.join(dir, 's.db');
    writeFileSync(`${file}.part`, Buffer.alloc(snap.length * 2, 7));
    chmodSync(`${file}.part`, 0o644);
    const got = await writeSnapshotFile(file, (sink) => pipeline(Readable.from([snap.subarray(0, 5), snap.subarray(5)]), sink, { end: false }));
    expect(got.ok).toBe(true);
    expect(readFileSync(file).equals(snap)).toBe(true);
    expect(mode(file)).toBe(0o600);
    expect(existsSync(`${file}.part`)).toBe(false);
  });

  it('keeps nothing when accept refuses what arrived: neither FILE nor FILE.part', async () => {
    const dir = tmpDir('hw-snap-write-');
    const file = path.join(dir, 's.db');
    const damaged = flipped(snap, 100);
    let told: Integrity | undefined;
    await expect(
      writeSnapshotFile(file, from(damaged), (i) => {
        told = i;
        if (!i.ok) throw new Error(`refused: ${i.problem}`);
      }),
    ).rejects.toThrow(/^refused: integrity hash mismatch/);
    expect(told).toMatchObject({ ok: false, sha256: sha(damaged), size: damaged.length });
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.part`)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps nothing when the source fails halfway; accept is never asked', async () => {
    const dir = tmpDir('hw-snap-write-');
    const file = path.join(dir, 's.db');
    let asked = false;
    let partSeen = false;
    await expect(
      writeSnapshotFile(
        file,
        async (sink) => {
          // Each chunk written out before the next (see the skipped test below for chunks still queued).
          for (let at = 0; at < 5000; at += 1000) await new Promise<void>((r, j) => sink.write(snap.subarray(at, at + 1000), (e) => (e ? j(e) : r())));
          partSeen = existsSync(`${file}.part`) && statSync(`${file}.part`).size === 5000 && (statSync(`${file}.part`).mode & 0o777) === 0o600;
          throw new Error('connection lost');
        },
        () => void (asked = true),
      ),
    ).rejects.toThrow('connection lost');
    expect(partSeen).toBe(true);
    expect(asked).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps nothing, and throws nothing uncaught, when the source fails with writes still queued', async () => {
    const dir = tmpDir('hw-snap-write-');
    const file = path.join(dir, 's.db');
    await expect(
      writeSnapshotFile(file, async (sink) => {
        for (let at = 0; at < 5000; at += 1000) sink.write(snap.subarray(at, at + 1000));
        throw new Error('connection lost');
      }),
    ).rejects.toThrow('connection lost');
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never replaces an existing FILE when the copy fails', async () => {
    const dir = tmpDir('hw-snap-write-');
    const file = path.join(dir, 's.db');
    writeFileSync(file, 'older');
    await expect(writeSnapshotFile(file, () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    expect(readFileSync(file, 'utf8')).toBe('older');
    expect(readdirSync(dir)).toEqual(['s.db']);
  });
});

function manifestFor(file: string, buf: Buffer, extra: Partial<Manifest> = {}): Manifest {
  return {
    file: path.basename(file),
    revision: 42,
    hash: 943374836,
    totalKeys: 7,
    size: buf.length,
    sha256: sha(buf),
    member: { name: 'controller-0', id: 'a0' },
    etcdVersion: '3.4.23',
    clusterId: 'c1',
    token: 'tok-1',
    time: '2024-03-05T07:08:09.123Z',
    ...extra,
  };
}

describe('snapshotFacts', () => {
  const snap = snapshotBytes(2, 21);

  it('a whole file and its manifest: ok', async () => {
    const dir = tmpDir('hw-snap-facts-');
    const file = path.join(dir, 'a.db');
    writeFileSync(file, snap);
    await writeManifest(file, manifestFor(file, snap));
    expect(statSync(`${file}.json`).mode & 0o777).toBe(0o600);
    expect(await readManifest(file)).toEqual(manifestFor(file, snap));
    const f = await snapshotFacts(file);
    expect(f).toMatchObject({ file, verdict: 'ok', matchesManifest: true, integrity: { ok: true, sha256: sha(snap) }, manifest: { revision: 42 } });
    expect(f.problem).toBeUndefined();
  });

  it('a manifest whose sha256 differs: damaged, naming both hashes', async () => {
    const dir = tmpDir('hw-snap-facts-');
    const file = path.join(dir, 'a.db');
    writeFileSync(file, snap);
    const other = 'ab'.repeat(32);
    await writeManifest(file, manifestFor(file, snap, { sha256: other }));
    const f = await snapshotFacts(file);
    expect(f.verdict).toBe('damaged');
    expect(f.matchesManifest).toBe(false);
    // The file itself passes etcd's check: it is just not the one the manifest describes.
    expect(f.integrity.ok).toBe(true);
    expect(f.problem).toBe(`the file is not the one its manifest describes (SHA-256 ${sha(snap).slice(0, 16)}…, manifest ${other.slice(0, 16)}…)`);
  });

  it('a manifest whose size differs: damaged too', async () => {
    const dir = tmpDir('hw-snap-facts-');
    const file = path.join(dir, 'a.db');
    writeFileSync(file, snap);
    await writeManifest(file, manifestFor(file, snap, { size: snap.length + 4096 }));
    expect(await snapshotFacts(file)).toMatchObject({ verdict: 'damaged', matchesManifest: false });
  });

  it('a damaged file with its manifest: damaged, with the integrity problem', async () => {
    const dir = tmpDir('hw-snap-facts-');
    const file = path.join(dir, 'a.db');
    writeFileSync(file, flipped(snap, 3));
    await writeManifest(file, manifestFor(file, snap));
    const f = await snapshotFacts(file);
    expect(f.verdict).toBe('damaged');
    expect(f.problem).toMatch(/^integrity hash mismatch/);
  });

  it("no manifest (or one that does not parse): 'no manifest', and no problem when the file is whole", async () => {
    const dir = tmpDir('hw-snap-facts-');
    const file = path.join(dir, 'a.db');
    writeFileSync(file, snap);
    const f = await snapshotFacts(file);
    expect(f.verdict).toBe('no manifest');
    expect(f.manifest).toBeUndefined();
    expect(f.matchesManifest).toBeUndefined();
    expect(f.problem).toBeUndefined();
    writeFileSync(`${file}.json`, '{"revision": "x"');
    expect((await snapshotFacts(file)).verdict).toBe('no manifest');
    // Without a manifest, a cut file is still damaged.
    const cut = path.join(dir, 'cut.db');
    writeFileSync(cut, snap.subarray(0, snap.length - 1));
    expect(await snapshotFacts(cut)).toMatchObject({ verdict: 'damaged', problem: expect.stringMatching(/^no integrity hash/) });
  });

  it('a missing file or a directory is a usage error', async () => {
    const dir = tmpDir('hw-snap-facts-');
    await expect(snapshotFacts(path.join(dir, 'none.db'))).rejects.toThrow(expect.objectContaining({ exitCode: 2, message: `${path.join(dir, 'none.db')}: no such file` }));
    await expect(snapshotFacts(dir)).rejects.toThrow(expect.objectContaining({ exitCode: 2, message: `${dir}: not a file` }));
  });
});

describe('listSnapshots', () => {
  it('lists the *.db files newest first, by the manifest time, else the file time', async () => {
    const dir = tmpDir('hw-snap-list-');
    const snap = snapshotBytes(1, 5);
    const put = async (name: string, time?: string, mtime?: Date) => {
      const file = path.join(dir, name);
      writeFileSync(file, snap);
      if (time) await writeManifest(file, manifestFor(file, snap, { time }));
      if (mtime) utimesSync(file, mtime, mtime);
    };
    // Names and file times in another order than the manifest times: only the manifest counts when there is one.
    await put('a.db', '2024-01-02T00:00:00.000Z', new Date('2030-01-01T00:00:00Z'));
    await put('b.db', '2024-03-01T00:00:00.000Z', new Date('2020-01-01T00:00:00Z'));
    await put('c.db', '2023-12-31T23:59:59.000Z');
    await put('d.db', undefined, new Date('2024-02-01T00:00:00Z'));
    writeFileSync(path.join(dir, 'e.db.part'), 'x');
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    const all = await listSnapshots(dir);
    expect(all.map((f) => path.basename(f.file))).toEqual(['b.db', 'd.db', 'a.db', 'c.db']);
    expect(all.map((f) => f.verdict)).toEqual(['ok', 'no manifest', 'ok', 'ok']);
  });

  it('a dir that does not exist has none', async () => {
    expect(await listSnapshots(path.join(tmpDir('hw-snap-list-'), 'nope'))).toEqual([]);
  });
});

describe('snapshot views', () => {
  const snap = snapshotBytes(2, 31);
  const integrity = { size: snap.length, sha256: sha(snap), hasHash: true, ok: true };
  const mtime = new Date('2024-04-01T10:00:00.000Z');

  it('statusText with a manifest: what was taken, where, and the verdict', () => {
    const m = manifestFor('/s/a.db', snap);
    const lines = statusText({ file: '/s/a.db', manifest: m, integrity, matchesManifest: true, verdict: 'ok', mtime });
    expect(lines).toEqual([
      '/s/a.db',
      '  size       8.2 kB (8224 bytes)',
      `  sha256     ${sha(snap)}`,
      '  taken      2024-03-05T07:08:09.123Z from controller-0 (a0)',
      '  cluster    c1, token tok-1, etcd 3.4.23',
      '  revision   42',
      "  entries    7: records in the snapshot's database (etcd's totalKey): every revision of every key not yet compacted, plus etcd's own records; not the live keys 'hardway keys list' counts",
      '  hash       943374836',
      "  verdict    ok: etcd's integrity hash matches, and the file is the one its manifest describes",
    ]);
  });

  it('statusText without a manifest, and damaged', () => {
    const lines = statusText({ file: '/s/b.db', integrity, verdict: 'no manifest', mtime });
    expect(lines).toContain('  manifest   none (b.db.json): only the file itself is checked');
    expect(lines.at(-1)).toBe("  verdict    ok: etcd's integrity hash matches");
    const bad = statusText({ file: '/s/b.db', integrity: { ...integrity, ok: false }, verdict: 'damaged', problem: 'integrity hash mismatch: x', mtime });
    expect(bad.at(-1)).toBe('  verdict    DAMAGED: integrity hash mismatch: x');
  });

  it('statusJson', () => {
    const m = manifestFor('/s/a.db', snap);
    expect(statusJson({ file: '/s/a.db', manifest: m, integrity, verdict: 'ok', mtime })).toEqual({ file: '/s/a.db', ok: true, verdict: 'ok', size: snap.length, sha256: sha(snap), hasHash: true, manifest: m });
    expect(statusJson({ file: '/s/c.db', integrity: { ...integrity, hasHash: false, ok: false }, verdict: 'damaged', problem: 'p', mtime })).toEqual({
      file: '/s/c.db',
      ok: false,
      verdict: 'damaged',
      problem: 'p',
      size: snap.length,
      sha256: sha(snap),
      hasHash: false,
    });
  });

  it('listTable: one row per file, the file time marked when there is no manifest', () => {
    const m = manifestFor('/s/a.db', snap, { revision: 1234, totalKeys: 56 });
    const table = listTable([
      { file: '/s/a.db', manifest: m, integrity, verdict: 'ok', mtime },
      { file: '/s/b.db', integrity: { ...integrity, size: 2_500_000 }, verdict: 'no manifest', mtime },
      { file: '/s/c.db', integrity, verdict: 'damaged', problem: 'no integrity hash', mtime },
    ]);
    const rows = table.split('\n').filter((l) => l.includes('.db'));
    expect(rows).toHaveLength(3);
    // Sizes in the unit that fits (8 kB, not `0.0 MB`); `-` where the manifest is missing.
    expect(rows[0]).toMatch(/^2024-03-05T07:08:09\.123Z {2,}a\.db {2}1234 {2,}56 {2,}8\.2 kB {2}controller-0 {2}ok$/);
    expect(rows[1]).toMatch(/^2024-04-01T10:00:00\.000Z \(file\) {2}b\.db {2}- {2,}- {2,}2\.5 MB {2}- {2,}no manifest$/);
    expect(rows[2]).toMatch(/ c\.db .* DAMAGED: no integrity hash$/);
    expect(table).toMatch(/^TIME {2,}NAME {2,}REVISION {2,}DB ENTRIES {2,}SIZE {2,}MEMBER {2,}VERDICT$/m);
    // What DB ENTRIES counts is said under the table: not the keys `keys list` counts.
    expect(table.split('\n').at(-1)).toMatch(/^DB ENTRIES: records in the snapshot's database .*not the live keys 'hardway keys list' counts$/);
    // With --dir, the NAME is the path `snapshot status` takes.
    expect(listTable([{ file: '/s/a.db', manifest: m, integrity, verdict: 'ok', mtime }], { dir: 'other/dir' })).toMatch(/^\S+ {2}other\/dir\/a\.db {2}/m);
  });
});

describe('snapshot names', () => {
  it('a path that exists is taken as it is, without asking for snapshots.dir', async () => {
    const dir = tmpDir('hw-snap-name-');
    const file = path.join(dir, 'a.db');
    writeFileSync(file, 'x');
    const noInventory = () => Promise.reject(new Error('must not be asked'));
    expect(await resolveSnapshot(file, noInventory)).toBe(file);
  });

  it('a bare name, as `snapshot list` shows it, is found in snapshots.dir (with or without .db)', async () => {
    const dir = tmpDir('hw-snap-name-');
    writeFileSync(path.join(dir, 'tok-1-20240301T000000Z.db'), 'x');
    expect(await resolveSnapshot('tok-1-20240301T000000Z.db', async () => dir)).toBe(path.join(dir, 'tok-1-20240301T000000Z.db'));
    expect(await resolveSnapshot('tok-1-20240301T000000Z', async () => dir)).toBe(path.join(dir, 'tok-1-20240301T000000Z.db'));
  });

  it('a name found nowhere is a usage error naming both places; a path is left for snapshotFacts to refuse', async () => {
    const dir = tmpDir('hw-snap-name-');
    await expect(resolveSnapshot('nope.db', async () => dir)).rejects.toThrow(
      expect.objectContaining({ exitCode: 2, message: `nope.db: no such file here, nor a snapshot of that name in ${dir} ('hardway snapshot list' shows them)` }),
    );
    await expect(resolveSnapshot('nope.db', () => Promise.reject(new Error('no inventory at inventory.yaml')))).rejects.toThrow(
      expect.objectContaining({ exitCode: 2, message: "nope.db: no such file here, and a snapshot name is looked up in the inventory's snapshots.dir: no inventory at inventory.yaml" }),
    );
    expect(await resolveSnapshot('./nope.db', async () => dir)).toBe('./nope.db');
    await expect(snapshotFacts('./nope.db')).rejects.toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
