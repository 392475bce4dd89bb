import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';

const run = runCli;

let dir: string;
let inventory: string;

async function writeInventory(extra = ''): Promise<void> {
  await writeFile(
    inventory,
    `${extra}nodes:\n  - name: controller-0\n    address: 10.240.0.10\n  - name: controller-1\n    address: 10.240.0.11\n  - name: controller-2\n    address: 10.240.0.12\n`,
  );
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-render-cmd-'));
  inventory = path.join(dir, 'inventory.yaml');
  await writeInventory();
});
afterEach(() => {
  process.exitCode = undefined;
});

describe('hardway render', () => {
  it('writes <out>/<node>/etcd.service for every node and prints each path', async () => {
    const out = path.join(dir, 'out');
    const r = await run('render', '-i', inventory, '--out', out, '--no-systemd-analyze');
    expect(r.code).toBe(0);
    const files = ['controller-0', 'controller-1', 'controller-2'].map((n) => path.join(out, n, 'etcd.service'));
    expect(r.out.trim().split('\n')).toEqual(files);
    const expected = await readFile(new URL('../fixtures/units/kthw-controller-1.expected.service', import.meta.url), 'utf8');
    expect(await readFile(files[1]!, 'utf8')).toBe(expected);
  });

  it('renders only the nodes given with --nodes, and refuses an unknown one with exit 2', async () => {
    const out = path.join(dir, 'out');
    const r = await run('render', '-i', inventory, '--out', out, '--nodes', 'controller-2', '--no-systemd-analyze');
    expect(r.code).toBe(0);
    expect(existsSync(path.join(out, 'controller-2', 'etcd.service'))).toBe(true);
    expect(existsSync(path.join(out, 'controller-0'))).toBe(false);
    const bad = await run('render', '-i', inventory, '--out', out, '--nodes', 'controller-9');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("no node named 'controller-9'");
  });

  it('does not write a unit with lint errors, prints file:line problems with their fix, and exits 1', async () => {
    await writeInventory('etcd:\n  extraFlags:\n    heartbeat-intervall: 100\n');
    const out = path.join(dir, 'out');
    const r = await run('render', '-i', inventory, '--out', out, '--no-systemd-analyze');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(existsSync(path.join(out, 'controller-0', 'etcd.service'))).toBe(false);
    expect(r.err).toContain(`${path.join(out, 'controller-0', 'etcd.service')}:27:3: error: --heartbeat-intervall is not an etcd flag`);
    expect(r.err).toContain('fix: did you mean --heartbeat-interval?');
    expect(r.err).toContain('27 |   --heartbeat-intervall=100');
    expect(r.err).toContain(`not written: ${path.join(out, 'controller-0', 'etcd.service')}`);
  });

  it('gives per-node results with --json', async () => {
    await writeInventory('etcd:\n  version: 3.6.2\n  extraFlags:\n    experimental-initial-corrupt-check: true\n');
    const out = path.join(dir, 'out');
    const r = await run('render', '-i', inventory, '--out', out, '--json', '--no-systemd-analyze');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { node: string; file: string; written: boolean; problems: { rule: string; severity: string; line: number }[] }[];
    expect(json.map((j) => [j.node, j.written, j.problems.map((p) => `${p.line} ${p.severity} ${p.rule}`)])).toEqual([
      ['controller-0', true, ['27 warning deprecated-flag']],
      ['controller-1', true, ['27 warning deprecated-flag']],
      ['controller-2', true, ['27 warning deprecated-flag']],
    ]);
    expect(json[0]!.file).toBe(path.join(out, 'controller-0', 'etcd.service'));
  });

  it('uses --templates over the built-in template', async () => {
    const tpl = path.join(dir, 'tpl');
    await import('node:fs/promises').then((fs) => fs.mkdir(tpl));
    await writeFile(path.join(tpl, 'etcd.service.hbs'), '[Service]\nType=notify\nExecStart={{etcdBinary}} --name {{name}} --data-dir={{dataDir}}\n');
    const out = path.join(dir, 'out');
    const r = await run('render', '-i', inventory, '--out', out, '--templates', tpl, '--nodes', 'controller-0');
    expect(r.code).toBe(0);
    expect(await readFile(path.join(out, 'controller-0', 'etcd.service'), 'utf8')).toBe(
      '[Service]\nType=notify\nExecStart=/usr/local/bin/etcd --name controller-0 --data-dir=/var/lib/etcd\n',
    );
  });
});
