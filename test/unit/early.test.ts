/**
 * `up` and `verify` start reading the inventory and connecting before their module loads (commands/early.ts): the
 * inventory file and host-key policy are read from argv the way the command itself reads them, and anything this
 * early parse would see differently starts nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTS_FIRST, earlyOptions } from '../../src/commands/early.js';
import { dropEarlyInventory, loadInventory, readInventoryEarly } from '../../src/commands/options.js';

const argv = (...a: string[]) => ['node', 'hardway', ...a];

describe('earlyOptions', () => {
  afterEach(() => {
    delete process.env.HARDWAY_INVENTORY;
  });

  it('reads -i in each spelling, among the command\'s other options, and --accept-new', () => {
    expect(earlyOptions(argv('up', '-i', 'lab.yaml'), 'up')).toEqual({ inventory: 'lab.yaml', acceptNew: false });
    expect(earlyOptions(argv('up', '--wait', '10', '--inventory=a/b.yaml', '--accept-new'), 'up')).toEqual({ inventory: 'a/b.yaml', acceptNew: true });
    expect(earlyOptions(argv('verify', '--json', '-ic.yaml', '--strict'), 'verify')).toEqual({ inventory: 'c.yaml', acceptNew: false });
  });

  it('falls back to HARDWAY_INVENTORY, then ./inventory.yaml, as -i does', () => {
    expect(earlyOptions(argv('verify'), 'verify')).toEqual({ inventory: './inventory.yaml', acceptNew: false });
    process.env.HARDWAY_INVENTORY = 'env.yaml';
    expect(earlyOptions(argv('verify'), 'verify')).toEqual({ inventory: 'env.yaml', acceptNew: false });
    expect(earlyOptions(argv('verify', '-i', 'given.yaml'), 'verify')).toEqual({ inventory: 'given.yaml', acceptNew: false });
  });

  it('starts nothing for help, or an -i without its file', () => {
    expect(earlyOptions(argv('up', '--help'), 'up')).toBeUndefined();
    expect(earlyOptions(argv('verify', '-h', '-i', 'x.yaml'), 'verify')).toBeUndefined();
    expect(earlyOptions(argv('up', '-i'), 'up')).toBeUndefined();
  });

  it('is for the commands that connect to every node first', () => {
    expect([...CONNECTS_FIRST].sort()).toEqual(['up', 'verify']);
  });
});

describe('the inventory read early', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-early-'));
  const file = path.join(dir, 'inventory.yaml');
  writeFileSync(file, 'nodes:\n  - name: solo\n    address: 10.9.1.1\n');

  it('is the one the command loads for the same file, once; another file is read anew', async () => {
    const early = readInventoryEarly(file);
    const loaded = loadInventory({ inventory: path.relative(process.cwd(), file) });
    expect(loaded).toBe(early);
    expect((await loaded).nodes.map((n) => n.name)).toEqual(['solo']);
    // Taken: the next load reads the file again.
    expect(loadInventory({ inventory: file })).not.toBe(early);
    readInventoryEarly(file);
    const other = path.join(dir, 'other.yaml');
    writeFileSync(other, 'nodes:\n  - name: duo\n    address: 10.9.1.2\n');
    expect((await loadInventory({ inventory: other })).nodes.map((n) => n.name)).toEqual(['duo']);
    dropEarlyInventory();
  });

  it('keeps a bad inventory\'s error for the command to report', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'nodes: 3\n');
    readInventoryEarly(bad);
    await expect(loadInventory({ inventory: bad })).rejects.toThrow(/bad\.yaml/);
  });
});
