import { copyFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/errors.js';
import { sanList } from '../../src/inventory/derive.js';
import type { Inventory } from '../../src/inventory/types.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { buildLeaf, randomSerial } from '../../src/pki/certs.js';
import { ensurePki, type EnsureResult } from '../../src/pki/ensure.js';
import { PKI_FILES } from '../../src/pki/files.js';
import { assessLeaf, wantedSans } from '../../src/pki/inspect.js';
import { generateRsaKey } from '../../src/pki/keys.js';
import { ensurePrivateDir, writeFilesAtomic } from '../../src/pki/store.js';

const DAY = 86_400_000;
const tmpDirs: string[] = [];

async function tmpDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hardway-pki-'));
  tmpDirs.push(d);
  return d;
}

/** An inventory of `nodes` controllers (10.240.0.10, …) whose pki.dir is `dir`. */
function makeInv(dir: string, nodes = 3): Inventory {
  const list = Array.from({ length: nodes }, (_, i) => `  - name: controller-${i}\n    address: 10.240.0.1${i}\n`).join('');
  const yaml = `pki:\n  dir: ${JSON.stringify(dir)}\n  extraSans: [10.32.0.1, kubernetes, kubernetes.default]\nnodes:\n${list}`;
  const r = validateInventory(yaml, { file: '<memory>', baseDir: dir });
  if (!r.inventory) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.inventory;
}

const at = (dir: string, name: string) => path.join(dir, name);
const read = (dir: string, name: string) => readFile(at(dir, name), 'utf8');
const mode = async (p: string) => (await stat(p)).mode & 0o777;

async function openssl(...args: string[]): Promise<string> {
  return (await execa('openssl', args)).stdout;
}

/** A copy of a PKI dir in a new 0700 temp dir (copyFile keeps the modes). */
async function copyPki(src: string): Promise<string> {
  const d = await tmpDir();
  for (const f of Object.values(PKI_FILES)) await copyFile(at(src, f), at(d, f));
  return d;
}

function fileAction(r: EnsureResult, name: string) {
  return r.files.find((f) => f.name === name)?.action;
}

let golden: string; // a PKI made by ensurePki for the 3-node inventory
let other: string; // another, independent PKI (a CA with the same subject)
let spareKey: string;
let goldenResult: EnsureResult;

beforeAll(async () => {
  [golden, other] = await Promise.all([tmpDir(), tmpDir()]);
  // A subdirectory that does not exist yet: ensurePki creates it.
  golden = path.join(golden, 'pki');
  [goldenResult, , spareKey] = await Promise.all([ensurePki(makeInv(golden)), ensurePki(makeInv(other)), generateRsaKey(2048)]);
});

afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('ensurePki: a new PKI', () => {
  it('reports every file as created, with paths', () => {
    expect(goldenResult.ca).toBe('created');
    expect(goldenResult.leaf).toBe('created');
    expect(goldenResult.files.map((f) => [f.name, f.action])).toEqual([
      ['ca.pem', 'created'],
      ['ca-key.pem', 'created'],
      ['kubernetes.pem', 'created'],
      ['kubernetes-key.pem', 'created'],
    ]);
    expect(goldenResult.files[2]!.path).toBe(path.join(golden, 'kubernetes.pem'));
  });

  it('is verified by openssl against its CA', async () => {
    expect(await openssl('verify', '-CAfile', at(golden, 'ca.pem'), at(golden, 'kubernetes.pem'))).toMatch(/kubernetes\.pem: OK$/);
  });

  it('has a CA with critical CA:TRUE, keyCertSign+cRLSign and a subject key id', async () => {
    const text = await openssl('x509', '-in', at(golden, 'ca.pem'), '-noout', '-text');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:\s+[0-9A-F:]{59}/);
    expect(text).toMatch(/Subject: CN ?= ?Kubernetes, O ?= ?Kubernetes/);
    expect(text).toMatch(/Issuer: CN ?= ?Kubernetes, O ?= ?Kubernetes/);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
  });

  it('has a leaf with every SAN, the right usages and a SHA-256 signature', async () => {
    const text = await openssl('x509', '-in', at(golden, 'kubernetes.pem'), '-noout', '-text');
    const { ips, dns } = sanList(makeInv(golden));
    expect(ips).toContain('10.240.0.12');
    expect(dns).toContain('controller-2');
    const sanLine = text.match(/X509v3 Subject Alternative Name:\s*\n\s*(.*)/)![1]!;
    const sans = sanLine.split(', ');
    for (const ip of ips) expect(sans).toContain(`IP Address:${ip}`);
    for (const name of dns) expect(sans).toContain(`DNS:${name}`);
    expect(sans).toHaveLength(ips.length + dns.length);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/Subject: CN ?= ?kubernetes, O ?= ?Kubernetes/);
    expect(text.match(/Signature Algorithm: (\S+)/g)).toEqual(['Signature Algorithm: sha256WithRSAEncryption', 'Signature Algorithm: sha256WithRSAEncryption']);
    expect(text).toContain('Public-Key: (2048 bit)');
  });

  it("has the CA's subject key id as the leaf's authority key id (not the leaf's own)", async () => {
    const ext = async (file: string, name: string) =>
      (await openssl('x509', '-in', at(golden, file), '-noout', '-ext', name)).split('\n')[1]!.trim().replace(/^keyid:/, '');
    const caSki = await ext('ca.pem', 'subjectKeyIdentifier');
    const leafAki = await ext('kubernetes.pem', 'authorityKeyIdentifier');
    const leafSki = await ext('kubernetes.pem', 'subjectKeyIdentifier');
    expect(caSki).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){19}$/);
    expect(leafAki).toBe(caSki);
    expect(leafSki).not.toBe(caSki);
  });

  it('writes keys that match their certificates, as PKCS#1 PEM', async () => {
    for (const [cert, key] of [
      ['ca.pem', 'ca-key.pem'],
      ['kubernetes.pem', 'kubernetes-key.pem'],
    ] as const) {
      const certMod = await openssl('x509', '-in', at(golden, cert), '-noout', '-modulus');
      const keyMod = await openssl('rsa', '-in', at(golden, key), '-noout', '-modulus');
      expect(certMod).toMatch(/^Modulus=[0-9A-F]{512}$/);
      expect(keyMod).toBe(certMod);
      expect(await read(golden, key)).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    }
  });

  it('sets modes 0700 on the directory, 0600 on keys, 0644 on certificates', async () => {
    expect(await mode(golden)).toBe(0o700);
    expect(await mode(at(golden, 'ca-key.pem'))).toBe(0o600);
    expect(await mode(at(golden, 'kubernetes-key.pem'))).toBe(0o600);
    expect(await mode(at(golden, 'ca.pem'))).toBe(0o644);
    expect(await mode(at(golden, 'kubernetes.pem'))).toBe(0o644);
    expect((await readdir(golden)).sort()).toEqual(['ca-key.pem', 'ca.pem', 'kubernetes-key.pem', 'kubernetes.pem']);
  });

  it('uses positive 16-byte serials, a backdated notBefore and validityDays', async () => {
    const out = await openssl('x509', '-in', at(golden, 'kubernetes.pem'), '-noout', '-serial', '-startdate', '-enddate');
    const serial = out.match(/serial=([0-9A-F]+)/)![1]!;
    expect(serial).toHaveLength(32);
    expect(parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80);
    const notBefore = Date.parse(out.match(/notBefore=(.*)/)![1]!);
    const notAfter = Date.parse(out.match(/notAfter=(.*)/)![1]!);
    expect(Date.now() - notBefore).toBeGreaterThan(60_000);
    expect(Date.now() - notBefore).toBeLessThan(10 * 60_000);
    expect(Math.round((notAfter - Date.now()) / DAY)).toBe(365);
    const caEnd = Date.parse((await openssl('x509', '-in', at(golden, 'ca.pem'), '-noout', '-enddate')).split('=')[1]!);
    expect(caEnd - notAfter).toBeGreaterThan(3 * 365 * DAY); // the CA outlives its leaf
    for (let i = 0; i < 2000; i++) {
      const s = randomSerial();
      expect(s).toHaveLength(32);
      const first = parseInt(s.slice(0, 2), 16);
      expect(first > 0 && first < 0x80).toBe(true);
    }
  });
});

describe('ensurePki: idempotency and reissue', () => {
  it('writes nothing when nothing changed', async () => {
    const dir = await copyPki(golden);
    const before = await Promise.all(Object.values(PKI_FILES).map((f) => stat(at(dir, f))));
    const r = await ensurePki(makeInv(dir));
    expect(r.ca).toBe('kept');
    expect(r.leaf).toBe('kept');
    expect(r.files.every((f) => f.action === 'kept')).toBe(true);
    expect(r.reasons).toEqual([]);
    expect(r.notes).toEqual([]);
    const after = await Promise.all(Object.values(PKI_FILES).map((f) => stat(at(dir, f))));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
    expect((await readdir(dir)).length).toBe(4);
  });

  it('reissues the leaf, with a new key, when a node is added; keeps the CA byte for byte', async () => {
    const dir = await copyPki(golden);
    const r = await ensurePki(makeInv(dir, 4));
    expect(r.ca).toBe('kept');
    expect(r.leaf).toBe('reissued');
    expect(r.reasons).toEqual(['SAN 10.240.0.13 (controller-3) missing', 'SAN controller-3 (controller-3) missing']);
    expect(r.messages).toContain('kubernetes.pem: reissued: SAN 10.240.0.13 (controller-3) missing; SAN controller-3 (controller-3) missing');
    expect(fileAction(r, 'ca.pem')).toBe('kept');
    expect(fileAction(r, 'kubernetes-key.pem')).toBe('reissued');
    expect(r.messages).toContain('kubernetes-key.pem: reissued: new key, with kubernetes.pem');
    for (const f of ['ca.pem', 'ca-key.pem']) expect(await read(dir, f)).toBe(await read(golden, f));
    expect(await read(dir, 'kubernetes-key.pem')).not.toBe(await read(golden, 'kubernetes-key.pem'));
    const text = await openssl('x509', '-in', at(dir, 'kubernetes.pem'), '-noout', '-ext', 'subjectAltName');
    expect(text).toContain('IP Address:10.240.0.13');
    expect(text).toContain('DNS:controller-3');
    expect(await openssl('verify', '-CAfile', at(dir, 'ca.pem'), at(dir, 'kubernetes.pem'))).toMatch(/OK$/);
    expect(await mode(at(dir, 'kubernetes-key.pem'))).toBe(0o600);
    // and the run after that keeps it
    expect((await ensurePki(makeInv(dir, 4))).leaf).toBe('kept');
  });

  it('keeps a leaf whose SANs are a superset (a node was removed)', async () => {
    const dir = await copyPki(golden);
    expect((await ensurePki(makeInv(dir, 2))).leaf).toBe('kept');
  });

  it('reissues a leaf that expires within 30 days, and keeps one with 40 days left', async () => {
    const inv = makeInv(golden);
    const leafAt = async (daysLeft: number) => {
      const dir = await copyPki(golden);
      const pem = buildLeaf({
        keyPem: spareKey,
        caPem: await read(golden, 'ca.pem'),
        caKeyPem: await read(golden, 'ca-key.pem'),
        sans: sanList(inv),
        now: new Date(Date.now() - (365 - daysLeft) * DAY),
        validityDays: 365,
      });
      await writeFile(at(dir, 'kubernetes.pem'), pem);
      await writeFile(at(dir, 'kubernetes-key.pem'), spareKey);
      return dir;
    };
    const [soon, later] = await Promise.all([leafAt(10), leafAt(40)]);
    const kept = await ensurePki(makeInv(later));
    expect(kept.leaf).toBe('kept');
    const r = await ensurePki(makeInv(soon));
    expect(r.leaf).toBe('reissued');
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0]).toMatch(/^expires in (9|10) days \(\d{4}-\d\d-\d\d\), within 30 days$/);
    const end = Date.parse((await openssl('x509', '-in', at(soon, 'kubernetes.pem'), '-noout', '-enddate')).split('=')[1]!);
    expect(Math.round((end - Date.now()) / DAY)).toBe(365);
  });

  it('reissues a leaf signed by another CA with the same subject', async () => {
    const dir = await copyPki(golden);
    await copyFile(at(other, 'kubernetes.pem'), at(dir, 'kubernetes.pem'));
    await copyFile(at(other, 'kubernetes-key.pem'), at(dir, 'kubernetes-key.pem'));
    const r = await ensurePki(makeInv(dir));
    expect(r.reasons).toEqual(['not signed by ca.pem']);
    expect(r.leaf).toBe('reissued');
    expect(await openssl('verify', '-CAfile', at(dir, 'ca.pem'), at(dir, 'kubernetes.pem'))).toMatch(/OK$/);
  });

  it('reissues a leaf whose key was replaced or corrupted', async () => {
    const swapped = await copyPki(golden);
    await writeFile(at(swapped, 'kubernetes-key.pem'), spareKey);
    const r1 = await ensurePki(makeInv(swapped));
    expect(r1.leaf).toBe('reissued');
    expect(r1.reasons).toEqual(['kubernetes-key.pem does not match kubernetes.pem']);
    const certMod = await openssl('x509', '-in', at(swapped, 'kubernetes.pem'), '-noout', '-modulus');
    expect(await openssl('rsa', '-in', at(swapped, 'kubernetes-key.pem'), '-noout', '-modulus')).toBe(certMod);

    const garbled = await copyPki(golden);
    const key = await read(garbled, 'kubernetes-key.pem');
    await writeFile(at(garbled, 'kubernetes-key.pem'), key.replace(/\n(.)(.)/, '\n$2$1'));
    const r2 = await ensurePki(makeInv(garbled));
    expect(r2.leaf).toBe('reissued');
    expect(r2.reasons.join()).toMatch(/kubernetes-key\.pem (is not a readable private key|does not match)/);
  });

  it('reissues when the leaf key is missing', async () => {
    const dir = await copyPki(golden);
    await rm(at(dir, 'kubernetes-key.pem'));
    const r = await ensurePki(makeInv(dir));
    expect(r.reasons).toEqual(['kubernetes-key.pem missing']);
    expect(await openssl('verify', '-CAfile', at(dir, 'ca.pem'), at(dir, 'kubernetes.pem'))).toMatch(/OK$/);
  });

  it('tightens a directory and keys that others can read, and says so', async () => {
    const dir = await copyPki(golden);
    await chmod(dir, 0o755);
    await chmod(at(dir, 'ca-key.pem'), 0o644);
    const r = await ensurePki(makeInv(dir));
    expect(r.notes).toEqual([`${dir} was mode 0755: tightened to 0700`, 'ca-key.pem was mode 0644: tightened to 0600']);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(at(dir, 'ca-key.pem'))).toBe(0o600);
    expect(r.leaf).toBe('kept');
  });
});

describe('ensurePki never replaces a CA', () => {
  it('fails when only one of ca.pem and ca-key.pem exists', async () => {
    for (const gone of ['ca-key.pem', 'ca.pem']) {
      const dir = await copyPki(golden);
      await rm(at(dir, gone));
      const kept = gone === 'ca.pem' ? 'ca-key.pem' : 'ca.pem';
      const err = await ensurePki(makeInv(dir)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationError);
      expect((err as OperationError).exitCode).toBe(1);
      expect((err as Error).message).toContain(`${kept} exists without ${gone}`);
      expect(await read(dir, kept)).toBe(await read(golden, kept));
      expect((await readdir(dir)).sort()).not.toContain(gone);
    }
  });

  it('fails when ca-key.pem does not match ca.pem, and leaves every file as it was', async () => {
    const dir = await copyPki(golden);
    await writeFile(at(dir, 'ca-key.pem'), spareKey);
    await rm(at(dir, 'kubernetes.pem'));
    await expect(ensurePki(makeInv(dir))).rejects.toThrow(/ca-key\.pem does not match ca\.pem.*never replaces a CA/);
    expect(await read(dir, 'ca.pem')).toBe(await read(golden, 'ca.pem'));
    expect(await read(dir, 'ca-key.pem')).toBe(spareKey);
    expect((await readdir(dir)).sort()).toEqual(['ca-key.pem', 'ca.pem', 'kubernetes-key.pem']);
  });

  it('fails when ca.pem is not a CA', async () => {
    const dir = await copyPki(golden);
    await copyFile(at(golden, 'kubernetes.pem'), at(dir, 'ca.pem'));
    await copyFile(at(golden, 'kubernetes-key.pem'), at(dir, 'ca-key.pem'));
    await expect(ensurePki(makeInv(dir))).rejects.toThrow(/not a CA certificate/);
  });
});

describe('assessLeaf', () => {
  it('names the node that a missing SAN belongs to, and accepts upper-case DNS names', async () => {
    const inv = makeInv(golden, 4);
    const [leaf, key, ca] = await Promise.all([read(golden, 'kubernetes.pem'), read(golden, 'kubernetes-key.pem'), read(golden, 'ca.pem')]);
    const a = assessLeaf(leaf, key, ca, wantedSans(inv), new Date());
    expect(a.ok).toBe(false);
    expect(a.reasons).toEqual(['SAN 10.240.0.13 (controller-3) missing', 'SAN controller-3 (controller-3) missing']);
    const b = assessLeaf(leaf, key, ca, { ips: ['10.32.0.1'], dns: ['KUBERNETES.default'], owners: {} }, new Date());
    expect(b).toMatchObject({ ok: true, reasons: [] });
    const c = assessLeaf(leaf, key, ca, { ips: [], dns: ['kubernetes.default.svc'], owners: { 'kubernetes.default.svc': 'extraSans' } }, new Date());
    expect(c.reasons).toEqual(['SAN kubernetes.default.svc (extraSans) missing']);
  });

  it('handles IPv6 SANs, whatever their spelling', async () => {
    const [ca, caKey] = await Promise.all([read(golden, 'ca.pem'), read(golden, 'ca-key.pem')]);
    const leaf = buildLeaf({ keyPem: spareKey, caPem: ca, caKeyPem: caKey, sans: { ips: ['fd00::a:1'], dns: [] }, now: new Date(), validityDays: 100 });
    const dir = await tmpDir();
    await writeFile(at(dir, 'leaf.pem'), leaf);
    expect(await openssl('x509', '-in', at(dir, 'leaf.pem'), '-noout', '-ext', 'subjectAltName')).toContain('IP Address:FD00:0:0:0:0:0:A:1');
    const want = (ip: string) => ({ ips: [ip], dns: [], owners: { [ip]: 'controller-6' } });
    expect(assessLeaf(leaf, spareKey, ca, want('FD00:0:0:0:0:0:a:1'), new Date()).reasons).toEqual([]);
    expect(assessLeaf(leaf, spareKey, ca, want('fd00::a:2'), new Date()).reasons).toEqual(['SAN fd00::a:2 (controller-6) missing']);
  });

  it('asks for a bigger key when the inventory does', async () => {
    const [leaf, key, ca] = await Promise.all([read(golden, 'kubernetes.pem'), read(golden, 'kubernetes-key.pem'), read(golden, 'ca.pem')]);
    expect(assessLeaf(leaf, key, ca, { ips: [], dns: [] }, new Date(), { keyBits: 3072 }).reasons).toEqual([
      'key is 2048 bits, the inventory asks for 3072',
    ]);
    expect(assessLeaf(leaf, key, ca, { ips: [], dns: [] }, new Date(), { keyBits: 2048 }).ok).toBe(true);
  });
});

describe('store', () => {
  it('creates a missing dir (and parents) 0700, tightens a wide one, leaves a private one alone', async () => {
    const base = await tmpDir();
    const nested = path.join(base, 'a', 'b');
    expect(await ensurePrivateDir(nested)).toEqual({ created: true });
    expect(await mode(nested)).toBe(0o700);
    expect(await ensurePrivateDir(nested)).toEqual({ created: false });
    await chmod(nested, 0o750);
    expect(await ensurePrivateDir(nested)).toEqual({ created: false, tightenedFrom: 0o750 });
    expect(await mode(nested)).toBe(0o700);
  });

  it('writes files atomically with exact modes whatever the umask, leaving no temp file', async () => {
    const dir = await tmpDir();
    await writeFile(at(dir, 'a.pem'), 'old');
    const old = process.umask(0o077);
    try {
      await writeFilesAtomic(dir, [
        { name: 'k.pem', content: 'key', mode: 0o600 },
        { name: 'a.pem', content: 'new', mode: 0o644 },
      ]);
    } finally {
      process.umask(old);
    }
    expect((await readdir(dir)).sort()).toEqual(['a.pem', 'k.pem']);
    expect(await read(dir, 'a.pem')).toBe('new');
    expect(await mode(at(dir, 'a.pem'))).toBe(0o644);
    expect(await mode(at(dir, 'k.pem'))).toBe(0o600);
  });

  it('stops at the first failed rename, leaving no temp file and later files untouched', async () => {
    const dir = await tmpDir();
    await writeFile(at(dir, 'a.pem'), 'old');
    await mkdir(at(dir, 'sub.pem')); // renaming a file onto a directory fails
    await expect(
      writeFilesAtomic(dir, [
        { name: 'sub.pem', content: 'x', mode: 0o644 },
        { name: 'a.pem', content: 'new', mode: 0o644 },
      ]),
    ).rejects.toBeInstanceOf(OperationError);
    expect((await readdir(dir)).sort()).toEqual(['a.pem', 'sub.pem']);
    expect(await read(dir, 'a.pem')).toBe('old');
  });
});
