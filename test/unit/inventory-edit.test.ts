import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { setEtcdTiming, writeEtcdTiming } from '../../src/inventory/edit.js';
import { validateInventory } from '../../src/inventory/validate.js';

const EXAMPLE = readFileSync(path.join(__dirname, '../../inventory.example.yaml'), 'utf8');
const NEW = { heartbeatInterval: 1800, electionTimeout: 18000 };

/** Lines that differ, by index (the edit must never add or remove lines unless it inserts keys). */
function changedLines(a: string, b: string): { i: number; before: string; after: string }[] {
  const x = a.split('\n');
  const y = b.split('\n');
  expect(y.length).toBe(x.length);
  return x.flatMap((l, i) => (l === y[i] ? [] : [{ i, before: l, after: y[i]! }]));
}

const comments = (s: string) => s.split('\n').flatMap((l) => (l.includes('#') ? [l.slice(l.indexOf('#'))] : []));
const valuesOf = (s: string) => parseDocument(s).toJS() as { etcd?: Record<string, unknown> };

describe('setEtcdTiming', () => {
  it('inventory.example.yaml: exactly the two value lines change, their comments stay in their column', () => {
    const out = setEtcdTiming(EXAMPLE, NEW);
    const diff = changedLines(EXAMPLE, out);
    expect(diff.map((d) => d.after)).toEqual([
      '  heartbeatInterval: 1800        # --heartbeat-interval in ms; about the round trip between members',
      '  electionTimeout: 18000         # --election-timeout in ms; at least 5x (best 10x) the heartbeat, at most 50000',
    ]);
    expect(diff.map((d) => d.before)).toEqual([
      '  heartbeatInterval: 100         # --heartbeat-interval in ms; about the round trip between members',
      '  electionTimeout: 1000          # --election-timeout in ms; at least 5x (best 10x) the heartbeat, at most 50000',
    ]);
    for (const d of diff) expect(d.after.indexOf('#')).toBe(d.before.indexOf('#'));
    expect(comments(out)).toEqual(comments(EXAMPLE));

    const v = validateInventory(out, { file: '/x/inventory.yaml' });
    expect(v.errors).toEqual([]);
    expect(v.inventory?.etcd).toMatchObject(NEW);
    // everything else parses the same
    const before = valuesOf(EXAMPLE);
    expect(valuesOf(out)).toEqual({ ...before, etcd: { ...before.etcd, ...NEW } });
  });

  it('is idempotent, and shrinking values widens the gap before the comment', () => {
    const once = setEtcdTiming(EXAMPLE, NEW);
    expect(setEtcdTiming(once, NEW)).toBe(once);
    expect(setEtcdTiming(once, { heartbeatInterval: 100, electionTimeout: 1000 })).toBe(EXAMPLE);
  });

  it('a value too long for the gap keeps one space before the comment', () => {
    const out = setEtcdTiming('etcd:\n  heartbeatInterval: 1 # hb\n  electionTimeout: 5 # et\n', { heartbeatInterval: 9999, electionTimeout: 49995 });
    expect(out).toBe('etcd:\n  heartbeatInterval: 9999 # hb\n  electionTimeout: 49995 # et\n');
  });

  it('adds missing keys at the end of the etcd block, with its indentation', () => {
    const src = [
      '# my cluster',
      'etcd:',
      '    version: 3.4.23     # pinned',
      '    extraFlags:',
      '        auto-compaction-retention: 1   # hours',
      '# nodes follow',
      'nodes:',
      '    - name: controller-0',
      '      address: 10.0.0.1',
      '',
    ].join('\n');
    const out = setEtcdTiming(src, NEW);
    expect(out).toBe(
      [
        '# my cluster',
        'etcd:',
        '    version: 3.4.23     # pinned',
        '    extraFlags:',
        '        auto-compaction-retention: 1   # hours',
        '    heartbeatInterval: 1800',
        '    electionTimeout: 18000',
        '# nodes follow',
        'nodes:',
        '    - name: controller-0',
        '      address: 10.0.0.1',
        '',
      ].join('\n'),
    );
    // one present, one missing
    const half = setEtcdTiming('etcd:\n  electionTimeout: 1000 # keep me\n', NEW);
    expect(half).toBe('etcd:\n  electionTimeout: 18000 # keep me\n  heartbeatInterval: 1800\n');
  });

  it('creates the etcd block when absent, leaving the rest byte for byte', () => {
    const src = '# header\nnodes:\n  - name: a   # first\n    address: 10.0.0.1\n# trailing comment';
    const out = setEtcdTiming(src, NEW);
    expect(out.startsWith(src)).toBe(true);
    expect(out.slice(src.length)).toBe('\netcd:\n  heartbeatInterval: 1800\n  electionTimeout: 18000\n');
    expect(valuesOf(out).etcd).toEqual(NEW);
    const v = validateInventory(out, { file: '/x/i.yaml' });
    expect(v.errors).toEqual([]);
  });

  it('fills an empty `etcd:` key', () => {
    const out = setEtcdTiming('etcd:   # tuned later\nnodes:\n  - name: a\n    address: b\n', NEW);
    expect(out).toBe('etcd:   # tuned later\n  heartbeatInterval: 1800\n  electionTimeout: 18000\nnodes:\n  - name: a\n    address: b\n');
    const explicit = setEtcdTiming('etcd: null\nnodes: []\n', NEW);
    expect(valuesOf(explicit).etcd).toEqual(NEW);
  });

  it('keeps a flow mapping correct, and CRLF line ends', () => {
    const flow = setEtcdTiming('etcd: {version: 3.4.23, heartbeatInterval: 100}  # flow\nnodes: []\n', NEW);
    expect(valuesOf(flow).etcd).toEqual({ version: '3.4.23', ...NEW });
    expect(flow).toContain('# flow');

    const crlf = 'etcd:\r\n  version: 3.4.23\r\n  heartbeatInterval: 100   # hb\r\nnodes: []\r\n';
    const out = setEtcdTiming(crlf, NEW);
    expect(out).toBe('etcd:\r\n  version: 3.4.23\r\n  heartbeatInterval: 1800  # hb\r\n  electionTimeout: 18000\r\nnodes: []\r\n');
  });

  it('refuses invalid YAML, a non-mapping etcd, and values etcd would refuse', () => {
    expect(() => setEtcdTiming('etcd: [\n', NEW)).toThrow(/not valid YAML/);
    expect(() => setEtcdTiming('etcd: 3\n', NEW)).toThrow(/not a mapping/);
    expect(() => setEtcdTiming(EXAMPLE, { heartbeatInterval: 1000, electionTimeout: 4999 })).toThrow(/at least 5×/);
    expect(() => setEtcdTiming(EXAMPLE, { heartbeatInterval: 10000, electionTimeout: 50001 })).toThrow(/50000/);
    expect(() => setEtcdTiming(EXAMPLE, { heartbeatInterval: 100.5, electionTimeout: 1000 })).toThrow(/whole number/);
    expect(() => setEtcdTiming(EXAMPLE, { heartbeatInterval: 0, electionTimeout: 1000 })).toThrow(/positive/);
  });
});

describe('writeEtcdTiming', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'hardway-edit-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('rewrites the file atomically, keeping its mode and leaving no temp file', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'inventory.yaml');
    await writeFile(file, EXAMPLE);
    await chmod(file, 0o640);
    const r = await writeEtcdTiming(file, NEW);
    expect(r).toEqual({ file, changed: true });
    expect(await readFile(file, 'utf8')).toBe(setEtcdTiming(EXAMPLE, NEW));
    expect((await stat(file)).mode & 0o7777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['inventory.yaml']);
  });

  it('does not write when nothing changes', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'inventory.yaml');
    await writeFile(file, EXAMPLE);
    const before = await stat(file);
    await new Promise((r) => setTimeout(r, 20));
    expect(await writeEtcdTiming(file, { heartbeatInterval: 100, electionTimeout: 1000 })).toEqual({ file, changed: false });
    expect((await stat(file)).ino).toBe(before.ino);
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
  });

  it('follows a symlink: the target is rewritten, the link stays a link', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'real.yaml');
    const link = path.join(dir, 'inventory.yaml');
    await writeFile(target, EXAMPLE);
    await symlink('real.yaml', link);
    const r = await writeEtcdTiming(link, NEW);
    expect(r.file).toBe(target);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(valuesOf(await readFile(link, 'utf8')).etcd).toMatchObject(NEW);
  });

  it('leaves the file untouched when the edit is refused', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'inventory.yaml');
    await writeFile(file, 'etcd: [broken\n');
    await expect(writeEtcdTiming(file, NEW)).rejects.toThrow(/not valid YAML/);
    expect(await readFile(file, 'utf8')).toBe('etcd: [broken\n');
    expect(await readdir(dir)).toEqual(['inventory.yaml']);
  });
});
