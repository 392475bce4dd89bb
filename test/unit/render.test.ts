import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { initialCluster, listenClientUrls } from '../../src/inventory/derive.js';
import type { Inventory } from '../../src/inventory/types.js';
import { validateInventory } from '../../src/inventory/validate.js';
import {
  BUILTIN_TEMPLATES_DIR,
  installedPaths,
  REMOTE_PATHS,
  renderAndLint,
  renderUnit,
  resolveTemplatesDir,
  systemdArg,
  unitContext,
} from '../../src/render/index.js';

const fixture = (name: string) => readFile(new URL(`../fixtures/units/${name}`, import.meta.url), 'utf8');

const NODES3 = `nodes:
  - name: controller-0
    address: 10.240.0.10
  - name: controller-1
    address: 10.240.0.11
  - name: controller-2
    address: 10.240.0.12
`;

function inventory(yaml: string): Inventory {
  const r = validateInventory(yaml, { file: '/inv/inventory.yaml', homeDir: '/home/u' });
  expect(r.errors).toEqual([]);
  return r.inventory!;
}

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'hardway-render-test-'));
}

async function templateDir(body: string): Promise<string> {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'etcd.service.hbs'), body);
  return dir;
}

describe('renderUnit', () => {
  it('renders the Kubernetes The Hard Way unit for a 3-node inventory, byte for byte', async () => {
    const inv = inventory(NODES3);
    const text = await renderUnit(inv, inv.nodes[1]!);
    // hand-written from the KTHW etcd.service (names and IPs of controller-1, plus the timing flags)
    expect(text).toBe(await fixture('kthw-controller-1.expected.service'));
  });

  it('keeps "=" and other HTML-special characters as they are', async () => {
    const inv = inventory(`etcd:\n  extraFlags:\n    cors: "https://a.example?x=1&y=<2>"\n${NODES3}`);
    const text = await renderUnit(inv, inv.nodes[0]!);
    expect(text).not.toMatch(/&#x3D;|&amp;|&lt;|&gt;|&quot;|&#x27;/);
    expect(text).toContain('--cert-file=/etc/etcd/kubernetes.pem');
    expect(text).toContain('controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380');
    expect(text).toContain('--cors=https://a.example?x=1&y=<2>');
  });

  it('ends every continued line in exactly one backslash and the last ExecStart line in none', async () => {
    const inv = inventory(NODES3);
    const lines = (await renderUnit(inv, inv.nodes[0]!)).split('\n');
    const start = lines.findIndex((l) => l.startsWith('ExecStart='));
    const end = lines.findIndex((l) => l.startsWith('Restart='));
    const exec = lines.slice(start, end);
    expect(exec.slice(0, -1).every((l) => / \\$/.test(l) && !/\\\\$/.test(l))).toBe(true);
    expect(exec[exec.length - 1]).toBe('  --election-timeout=1000');
  });

  it('appends extraFlags as --flag=value in inventory order, booleans as =true', async () => {
    const inv = inventory(
      `etcd:\n  heartbeatInterval: 250\n  electionTimeout: 2500\n  extraFlags:\n    snapshot-count: 10000\n    experimental-initial-corrupt-check: true\n    auto-compaction-retention: "1"\n${NODES3}`,
    );
    const text = await renderUnit(inv, inv.nodes[0]!);
    expect(text).toContain(
      [
        '  --heartbeat-interval=250 \\',
        '  --election-timeout=2500 \\',
        '  --snapshot-count=10000 \\',
        '  --experimental-initial-corrupt-check=true \\',
        '  --auto-compaction-retention=1',
        'Restart=on-failure',
      ].join('\n'),
    );
  });

  it('drops https://127.0.0.1:2379 when listenLocalhost is false', async () => {
    const on = inventory(NODES3);
    const off = inventory(`etcd:\n  listenLocalhost: false\n${NODES3}`);
    expect(await renderUnit(on, on.nodes[2]!)).toContain('  --listen-client-urls https://10.240.0.12:2379,https://127.0.0.1:2379 \\\n');
    const text = await renderUnit(off, off.nodes[2]!);
    expect(text).toContain('  --listen-client-urls https://10.240.0.12:2379 \\\n');
    expect(text).not.toContain('127.0.0.1');
  });

  it('puts an IPv6 internalIp in brackets in every URL', async () => {
    const inv = inventory(`nodes:\n  - name: a\n    address: fd00::10\n  - name: b\n    address: fd00::11\n  - name: c\n    address: 10.0.0.12\n`);
    const text = await renderUnit(inv, inv.nodes[0]!);
    expect(text).toContain('  --initial-advertise-peer-urls https://[fd00::10]:2380 \\\n');
    expect(text).toContain('  --listen-client-urls https://[fd00::10]:2379,https://127.0.0.1:2379 \\\n');
    expect(text).toContain('  --initial-cluster a=https://[fd00::10]:2380,b=https://[fd00::11]:2380,c=https://10.0.0.12:2380 \\\n');
    expect(text).not.toMatch(/https:\/\/fd00/);
  });

  it('takes cluster token, initial state and data dir from the inventory', async () => {
    const inv = inventory(`cluster:\n  token: prod-7\n  initialState: existing\netcd:\n  dataDir: /srv/etcd\n${NODES3}`);
    const text = await renderUnit(inv, inv.nodes[0]!);
    expect(text).toContain('  --initial-cluster-token prod-7 \\\n');
    expect(text).toContain('  --initial-cluster-state existing \\\n');
    expect(text).toContain('  --data-dir=/srv/etcd \\\n');
  });

  it('fails on a variable the template uses but hardway does not provide, naming the file and the variable', async () => {
    const dir = await templateDir('[Service]\nExecStart={{etcdBinary}} --name {{nodeName}}\n');
    const inv = inventory(NODES3);
    const err = await renderUnit(inv, inv.nodes[0]!, { templatesDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(path.join(dir, 'etcd.service.hbs'));
    expect((err as Error).message).toContain("'nodeName'");
    expect((err as Error).message).toMatch(/etcd\.service\.hbs:2:/);
  });

  it('fails with a UsageError on a template syntax error and on a missing template file', async () => {
    const inv = inventory(NODES3);
    const bad = await templateDir('[Service]\nExecStart={{#each extraFlags}}\n');
    await expect(renderUnit(inv, inv.nodes[0]!, { templatesDir: bad })).rejects.toThrow(UsageError);
    const empty = await tempDir();
    await expect(renderUnit(inv, inv.nodes[0]!, { templatesDir: empty })).rejects.toThrow(/no such template.*--templates/);
  });

  it('uses a custom template directory: --templates beats the inventory, which beats the built-in one', async () => {
    const fromFlag = await templateDir('flag {{name}}\n');
    const fromInventory = await templateDir('inventory {{name}} {{internalIp}}\n');
    const inv = inventory(`templates: ${fromInventory}\n${NODES3}`);
    expect(await renderUnit(inv, inv.nodes[0]!, { templatesDir: fromFlag })).toBe('flag controller-0\n');
    expect(await renderUnit(inv, inv.nodes[0]!)).toBe('inventory controller-0 10.240.0.10\n');
    const plain = inventory(NODES3);
    expect(resolveTemplatesDir(plain)).toEqual({ dir: BUILTIN_TEMPLATES_DIR, source: 'builtin' });
    expect(resolveTemplatesDir(inv, 'rel/dir')).toEqual({ dir: path.resolve('rel/dir'), source: 'flag' });
    expect(existsSync(path.join(BUILTIN_TEMPLATES_DIR, 'etcd.service.hbs'))).toBe(true);
  });

  it('renders again after the template file changes (the compile cache is keyed by content)', async () => {
    const dir = await templateDir('one {{name}}\n');
    const inv = inventory(NODES3);
    expect(await renderUnit(inv, inv.nodes[0]!, { templatesDir: dir })).toBe('one controller-0\n');
    await writeFile(path.join(dir, 'etcd.service.hbs'), 'two {{name}}\n');
    expect(await renderUnit(inv, inv.nodes[0]!, { templatesDir: dir })).toBe('two controller-0\n');
  });

  it('refuses an extraFlags key that is not a flag name', async () => {
    // the inventory validation refuses it too; unitContext must not trust every caller
    const inv = inventory(NODES3);
    inv.etcd.extraFlags = { 'bad name': 1 };
    await expect(renderUnit(inv, inv.nodes[0]!)).rejects.toThrow(/extraFlags: 'bad name'/);
  });
});

describe('unitContext', () => {
  it('takes every derived value from derive.ts and the paths from REMOTE_PATHS', () => {
    const inv = inventory(NODES3);
    const ctx = unitContext(inv, inv.nodes[0]!);
    expect(ctx.initialCluster).toBe(initialCluster(inv));
    expect(ctx.listenClientUrls).toBe(listenClientUrls(inv, inv.nodes[0]!).join(','));
    expect(ctx).toMatchObject({
      name: 'controller-0',
      etcdBinary: REMOTE_PATHS.etcd,
      certFile: REMOTE_PATHS.cert,
      keyFile: REMOTE_PATHS.key,
      trustedCaFile: REMOTE_PATHS.caCert,
      peerTrustedCaFile: REMOTE_PATHS.caCert,
      dataDir: '/var/lib/etcd',
      initialAdvertisePeerUrls: 'https://10.240.0.10:2380',
      advertiseClientUrls: 'https://10.240.0.10:2379',
      initialClusterState: 'new',
      extraFlags: [],
    });
  });

  it('writes values so that systemd passes them through unchanged', () => {
    expect(systemdArg('plain/value:1')).toBe('plain/value:1');
    expect(systemdArg('50%')).toBe('50%%');
    expect(systemdArg('$HOME')).toBe('$$HOME');
    expect(systemdArg('a b')).toBe('"a b"');
    expect(systemdArg('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    expect(systemdArg(true)).toBe('true');
    expect(systemdArg('')).toBe('""');
  });
});

describe('installedPaths', () => {
  it('lists the KTHW paths and the inventory data dir', () => {
    const inv = inventory(`etcd:\n  dataDir: /data/etcd\n${NODES3}`);
    expect(installedPaths(inv)).toEqual({
      etcd: '/usr/local/bin/etcd',
      etcdctl: '/usr/local/bin/etcdctl',
      configDir: '/etc/etcd',
      caCert: '/etc/etcd/ca.pem',
      cert: '/etc/etcd/kubernetes.pem',
      key: '/etc/etcd/kubernetes-key.pem',
      unit: '/etc/systemd/system/etcd.service',
      dataDir: '/data/etcd',
    });
    expect(installedPaths().dataDir).toBe('/var/lib/etcd');
  });
});

describe('renderAndLint', () => {
  it('gives the rendered text and no problems for a clean inventory', async () => {
    const inv = inventory(NODES3);
    const r = await renderAndLint(inv, inv.nodes[0]!);
    expect(r.problems).toEqual([]);
    expect(r.text).toContain('--name controller-0');
  });

  it('reports problems the inventory causes, named after the node', async () => {
    const inv = inventory(`etcd:\n  version: 3.6.1\n  extraFlags:\n    enable-v2: true\n    data-dir: /srv/x\n${NODES3}`);
    const r = await renderAndLint(inv, inv.nodes[2]!);
    expect(r.problems.map((p) => `${p.file}:${p.line} ${p.rule}`)).toEqual([
      'controller-2/etcd.service:27 unknown-flag',
      'controller-2/etcd.service:28 duplicate-flag',
      'controller-2/etcd.service:28 path',
    ]);
  });

  it('uses a custom template and lints what it renders', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-render-test-'));
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'etcd.service.hbs'), '[Service]\nType=notify\nExecStart={{etcdBinary}} \\\\\n  --name {{name}}\n');
    const inv = inventory(NODES3);
    const r = await renderAndLint(inv, inv.nodes[0]!, { templatesDir: dir });
    expect(r.problems.map((p) => `${p.line} ${p.rule}`)).toEqual(['3 continuation']);
  });
});
