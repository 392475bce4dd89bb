import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerPki } from '../../src/commands/pki.js';
import { CheckFailed, OperationError } from '../../src/errors.js';
import { sanList } from '../../src/inventory/derive.js';
import type { Inventory } from '../../src/inventory/types.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { buildCa, buildLeaf } from '../../src/pki/certs.js';
import { checkPki, type CertRow } from '../../src/pki/check.js';
import { ensurePki } from '../../src/pki/ensure.js';
import { PKI_FILES } from '../../src/pki/files.js';
import { generateRsaKey } from '../../src/pki/keys.js';

const DAY = 86_400_000;
const tmpDirs: string[] = [];

async function tmpDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hardway-pki-check-'));
  tmpDirs.push(d);
  return d;
}

function inventoryYaml(dir: string, nodes: number): string {
  const list = Array.from({ length: nodes }, (_, i) => `  - name: controller-${i}\n    address: 10.240.0.1${i}\n`).join('');
  return `pki:\n  dir: ${JSON.stringify(dir)}\n  extraSans: [10.32.0.1, kubernetes]\nnodes:\n${list}`;
}

function makeInv(dir: string, nodes = 3): Inventory {
  const r = validateInventory(inventoryYaml(dir, nodes), { file: '<memory>', baseDir: dir });
  if (!r.inventory) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.inventory;
}

const at = (dir: string, name: string) => path.join(dir, name);
const read = (dir: string, name: string) => readFile(at(dir, name), 'utf8');

async function copyPki(src: string): Promise<string> {
  const d = await tmpDir();
  for (const f of Object.values(PKI_FILES)) await copyFile(at(src, f), at(d, f));
  return d;
}

const caRow = (rows: CertRow[]) => rows.find((r) => r.file === 'ca.pem')!;
const leafRow = (rows: CertRow[]) => rows.find((r) => r.file === 'kubernetes.pem')!;

let golden: string;
let other: string;
let spareKeys: string[];

beforeAll(async () => {
  [golden, other] = await Promise.all([tmpDir(), tmpDir()]);
  [, , ...spareKeys] = await Promise.all([ensurePki(makeInv(golden)), ensurePki(makeInv(other)), generateRsaKey(2048), generateRsaKey(2048)]);
});

afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A copy of golden whose leaf was issued `daysAgo` days ago (365-day validity). */
async function leafIssued(daysAgo: number): Promise<string> {
  const dir = await copyPki(golden);
  const pem = buildLeaf({
    keyPem: spareKeys[0]!,
    caPem: await read(golden, 'ca.pem'),
    caKeyPem: await read(golden, 'ca-key.pem'),
    sans: sanList(makeInv(golden)),
    now: new Date(Date.now() - daysAgo * DAY),
    validityDays: 365,
  });
  await writeFile(at(dir, 'kubernetes.pem'), pem);
  await writeFile(at(dir, 'kubernetes-key.pem'), spareKeys[0]!, { mode: 0o600 });
  return dir;
}

describe('checkPki', () => {
  it('passes a fresh PKI and describes both certificates', async () => {
    const r = await checkPki(makeInv(golden));
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.certs.map((c) => [c.file, c.ok, c.problems])).toEqual([
      ['ca.pem', true, []],
      ['kubernetes.pem', true, []],
    ]);
    expect(caRow(r.certs).subject).toBe('CN=Kubernetes, O=Kubernetes');
    expect(leafRow(r.certs).subject).toBe('CN=kubernetes, O=Kubernetes');
    expect(leafRow(r.certs).sans).toEqual(expect.arrayContaining(['10.240.0.10', '10.240.0.12', '127.0.0.1', '10.32.0.1', 'controller-0', 'kubernetes']));
    expect(leafRow(r.certs).daysLeft).toBe(364);
    expect(caRow(r.certs).daysLeft).toBeGreaterThan(1800);
    expect(leafRow(r.certs).notAfter).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('names the node whose SAN is missing', async () => {
    const r = await checkPki(makeInv(golden, 5));
    expect(r.ok).toBe(false);
    expect(caRow(r.certs).ok).toBe(true);
    expect(leafRow(r.certs).problems).toEqual([
      'SAN 10.240.0.13 (controller-3) missing',
      'SAN 10.240.0.14 (controller-4) missing',
      'SAN controller-3 (controller-3) missing',
      'SAN controller-4 (controller-4) missing',
    ]);
  });

  it('flags a leaf expiring within 30 days, and an expired one, but not one with 40 days left', async () => {
    const [soon, gone, fine] = await Promise.all([leafIssued(355), leafIssued(400), leafIssued(325)]);
    const s = await checkPki(makeInv(soon));
    expect(s.ok).toBe(false);
    expect(leafRow(s.certs).problems).toEqual([expect.stringMatching(/^expires in (9|10) days \(\d{4}-\d\d-\d\d\), within 30 days$/)]);
    expect(leafRow(s.certs).daysLeft).toBeLessThanOrEqual(10);
    const g = await checkPki(makeInv(gone));
    expect(leafRow(g.certs).problems).toEqual([expect.stringMatching(/^expired 3[45] days ago \(/)]);
    expect(leafRow(g.certs).daysLeft).toBeLessThan(-30);
    expect((await checkPki(makeInv(fine))).ok).toBe(true);
  });

  it('flags a key that does not match its certificate', async () => {
    const dir = await copyPki(golden);
    await writeFile(at(dir, 'kubernetes-key.pem'), spareKeys[1]!);
    const r = await checkPki(makeInv(dir));
    expect(r.ok).toBe(false);
    expect(leafRow(r.certs).problems).toEqual(['kubernetes-key.pem does not match kubernetes.pem']);
    const dir2 = await copyPki(golden);
    await writeFile(at(dir2, 'ca-key.pem'), spareKeys[1]!);
    expect(caRow((await checkPki(makeInv(dir2))).certs).problems).toEqual(['ca-key.pem does not match ca.pem']);
  });

  it('flags a leaf signed by another CA', async () => {
    const dir = await copyPki(golden);
    await copyFile(at(other, 'ca.pem'), at(dir, 'ca.pem'));
    await copyFile(at(other, 'ca-key.pem'), at(dir, 'ca-key.pem'));
    const r = await checkPki(makeInv(dir));
    expect(caRow(r.certs).ok).toBe(true);
    expect(leafRow(r.certs).problems).toEqual(['not signed by ca.pem']);
  });

  it('flags missing files and a missing directory', async () => {
    const dir = await copyPki(golden);
    await rm(at(dir, 'kubernetes.pem'));
    await rm(at(dir, 'ca-key.pem'));
    const r = await checkPki(makeInv(dir));
    expect(caRow(r.certs).problems).toEqual(['ca-key.pem missing']);
    expect(caRow(r.certs).subject).toBe('CN=Kubernetes, O=Kubernetes');
    expect(leafRow(r.certs)).toMatchObject({ ok: false, subject: null, daysLeft: null, problems: ['kubernetes.pem missing'] });

    const none = path.join(await tmpDir(), 'nothing-here');
    const n = await checkPki(makeInv(none));
    expect(n.ok).toBe(false);
    expect(n.problems).toEqual([`${none} does not exist (run 'hardway pki')`]);
    expect(caRow(n.certs).problems).toEqual(['ca.pem missing', 'ca-key.pem missing']);
  });

  it('flags keys and a directory that others can read', async () => {
    const dir = await copyPki(golden);
    await chmod(at(dir, 'kubernetes-key.pem'), 0o640);
    await chmod(dir, 0o755);
    const r = await checkPki(makeInv(dir));
    expect(r.ok).toBe(false);
    expect(leafRow(r.certs).problems).toEqual(['kubernetes-key.pem is mode 0640, others can read it (want 0600)']);
    expect(r.problems).toEqual([`${dir} is mode 0755, others can list it (want 0700)`]);
  });

  it('flags an expired CA, which ensurePki refuses to use or replace', async () => {
    const dir = await copyPki(golden);
    const caKey = spareKeys[0]!;
    const caPem = buildCa({ keyPem: caKey, now: new Date(Date.now() - 400 * DAY), validityDays: 365 });
    await writeFile(at(dir, 'ca.pem'), caPem);
    await writeFile(at(dir, 'ca-key.pem'), caKey, { mode: 0o600 });
    const r = await checkPki(makeInv(dir));
    expect(caRow(r.certs).problems).toEqual([expect.stringMatching(/^expired 3[45] days ago/)]);
    expect(leafRow(r.certs).problems).toEqual(['not signed by ca.pem']);
    const err = await ensurePki(makeInv(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/ca\.pem: expired .* never replaces a CA/);
    expect(await read(dir, 'ca.pem')).toBe(caPem);
  });
});

describe('hardway pki (command)', () => {
  let out: string[];
  let err: string[];
  // eslint-disable-next-line no-control-regex
  const plain = (s: string[]) => s.join('').replace(/\x1b\[[0-9;]*m/g, '');

  function program(): Command {
    const p = new Command('hardway').exitOverride();
    registerPki(p);
    out = [];
    err = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
    return p;
  }
  const run = (...args: string[]) => program().parseAsync(['node', 'hardway', ...args]);

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('creates, then keeps, one line per file; --json gives the result', async () => {
    const base = await tmpDir();
    const inv = at(base, 'inventory.yaml');
    await writeFile(inv, inventoryYaml('./pki', 3));
    await run('pki', '-i', inv);
    expect(plain(out)).toBe('ca.pem: created\nca-key.pem: created\nkubernetes.pem: created\nkubernetes-key.pem: created\n');
    await run('pki', '-i', inv);
    expect(plain(out)).toBe('ca.pem: kept\nca-key.pem: kept\nkubernetes.pem: kept\nkubernetes-key.pem: kept\n');

    await writeFile(inv, inventoryYaml('./pki', 5));
    await run('pki', '--json', '-i', inv);
    const json = JSON.parse(out.join(''));
    expect(json).toMatchObject({ dir: at(base, 'pki'), ca: 'kept', leaf: 'reissued' });
    expect(json.reasons).toContain('SAN 10.240.0.14 (controller-4) missing');
    expect(json.files.map((f: { action: string }) => f.action)).toEqual(['kept', 'kept', 'reissued', 'reissued']);

    await run('pki', 'check', '-i', inv);
    const table = plain(out);
    expect(table).toMatch(/^kubernetes\.pem {2,}CN=kubernetes, O=Kubernetes {2,}10\.240\.0\.10 {2,}\d{4}-\d\d-\d\d {2,}364 {2,}ok$/m);
    expect(table).toMatch(/^ca\.pem {2,}CN=Kubernetes, O=Kubernetes/m);
  });

  it('check prints the problems, then fails; -i works before or after "check"', async () => {
    const base = await tmpDir();
    const inv = at(base, 'inventory.yaml');
    const dir = await copyPki(golden);
    await writeFile(inv, inventoryYaml(dir, 5));
    const e1 = await run('pki', 'check', '-i', inv).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(CheckFailed);
    expect((e1 as Error).message).toBe(`pki check: 4 problems in ${dir}`);
    expect(plain(out)).toContain('SAN 10.240.0.13 (controller-3) missing');

    const e2 = await run('pki', '-i', inv, 'check', '--json').catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(CheckFailed);
    const json = JSON.parse(out.join(''));
    expect(json.ok).toBe(false);
    expect(json.certs[1].problems).toContain('SAN controller-4 (controller-4) missing');
  });
});
