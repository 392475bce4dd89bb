import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneSnapshots } from '../../src/snapshot/store.js';

/** A snapshot file and its manifest (the content does not matter to retention: the manifest's token and time do). */
function snap(dir: string, name: string, token: string | undefined, time: string): void {
  writeFileSync(path.join(dir, name), 'x');
  if (token) writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ file: name, revision: 1, hash: 0, totalKeys: 0, size: 1, sha256: 'a', member: { name: 'c0', id: '1' }, etcdVersion: '3.4.23', clusterId: 'c', token, time }));
}

describe('snapshot retention', () => {
  it('keeps the newest N per cluster token, removes the rest with their manifests, never a file without one', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-prune-'));
    for (let i = 1; i <= 4; i++) snap(dir, `a-${i}.db`, 'tok-a', `2026-12-0${i}T00:00:00Z`);
    snap(dir, 'b-1.db', 'tok-b', '2026-11-01T00:00:00Z');
    snap(dir, 'orphan.db', undefined, '');
    const removed = await pruneSnapshots(dir, 2);
    expect(removed.map((f) => path.basename(f)).sort()).toEqual(['a-1.db', 'a-2.db']);
    expect(readdirSync(dir).sort()).toEqual(['a-3.db', 'a-3.db.json', 'a-4.db', 'a-4.db.json', 'b-1.db', 'b-1.db.json', 'orphan.db']);
  });

  it("with a token, touches only that cluster's snapshots", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-prune-'));
    for (let i = 1; i <= 3; i++) snap(dir, `a-${i}.db`, 'tok-a', `2026-12-0${i}T00:00:00Z`);
    for (let i = 1; i <= 3; i++) snap(dir, `b-${i}.db`, 'tok-b', `2026-12-0${i}T00:00:00Z`);
    expect((await pruneSnapshots(dir, 1, 'tok-b')).map((f) => path.basename(f)).sort()).toEqual(['b-1.db', 'b-2.db']);
    expect(readdirSync(dir).filter((f) => f.startsWith('a-') && f.endsWith('.db'))).toHaveLength(3);
  });
});
