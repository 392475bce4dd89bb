import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { joinPem, readBundle, splitPem, issuerIn } from '../../src/pki/bundle.js';
import { ensurePki } from '../../src/pki/ensure.js';
import { assessLeaf, leafNotAfter, wantedSans } from '../../src/pki/inspect.js';
import { checkPki } from '../../src/pki/check.js';
import { formatRotation, parseRotation, phaseTrust, type RotationState } from '../../src/pki/rotation.js';
import { caOf, DAY, leafOf, NOW, testInventory, testKeys, writePki } from './certs-fixtures.js';

let caKey = '';
let otherKey = '';
let leafKey = '';
beforeAll(async () => {
  [caKey, otherKey, leafKey] = await testKeys();
});

describe('a leaf never outlives its CA', () => {
  it('leafNotAfter: validityDays from now, cut at the CA and said so', () => {
    const ca = new Date(NOW.getTime() + 9 * DAY);
    expect(leafNotAfter(NOW, 365, ca)).toEqual({ notAfter: ca, shortened: true });
    expect(leafNotAfter(NOW, 5, ca)).toEqual({ notAfter: new Date(NOW.getTime() + 5 * DAY), shortened: false });
  });

  it('pki with a CA that has 9 days left issues a leaf ending with the CA, says why, and a second run keeps it', async () => {
    const inv = testInventory();
    mkdirSync(inv.pki.dir, { mode: 0o700 });
    const ca = caOf(caKey, 9, { notAfter: new Date(NOW.getTime() + 9 * DAY) });
    writePki(inv.pki.dir, { 'ca.pem': ca, 'ca-key.pem': caKey });
    const r = await ensurePki(inv, NOW);
    expect(r.leaf).toBe('created');
    const leaf = new X509Certificate(readFileSync(path.join(inv.pki.dir, 'kubernetes.pem')));
    expect(leaf.validTo).toBe(new X509Certificate(ca).validTo);
    expect(r.notes.join('\n')).toMatch(/kubernetes\.pem: valid until 2026-06-10 \(9 days\), not the 365 days of pki\.validityDays: a certificate must not outlive the CA that signed it, and ca\.pem expires 2026-06-10; 'hardway pki rotate-ca'/);
    expect(r.notes.join('\n')).toMatch(/ca\.pem: expires in 9 days .*'hardway pki rotate-ca' moves the cluster to a new CA/);
    // Expiring within 30 days is no reason to reissue a leaf that already ends with its CA: a new one could not last longer.
    const mtime = statSync(path.join(inv.pki.dir, 'kubernetes.pem')).mtimeMs;
    const again = await ensurePki(inv, new Date(NOW.getTime() + DAY));
    expect(again.leaf).toBe('kept');
    expect(statSync(path.join(inv.pki.dir, 'kubernetes.pem')).mtimeMs).toBe(mtime);
    // pki check still says the leaf expires soon.
    const check = await checkPki(inv, NOW);
    expect(check.certs[1]!.problems.join()).toMatch(/expires in 9 days/);
  });

  it('a leaf with 20 days left whose CA lasts years is still reissued', async () => {
    const inv = testInventory();
    mkdirSync(inv.pki.dir, { mode: 0o700 });
    const ca = caOf(caKey);
    writePki(inv.pki.dir, { 'ca.pem': ca, 'ca-key.pem': caKey, 'kubernetes.pem': leafOf(ca, caKey, leafKey, { days: 20, ips: ['10.240.0.10', '10.240.0.11', '10.240.0.12', '127.0.0.1'] }), 'kubernetes-key.pem': leafKey });
    expect((await ensurePki(inv, NOW)).leaf).toBe('reissued');
  });
});

describe('trust bundles', () => {
  it('a leaf signed by either CA of a bundle is signed by ca.pem; by neither, it is not', () => {
    const a = caOf(caKey);
    const b = caOf(otherKey);
    const bundle = joinPem([b, a]);
    expect(splitPem(bundle)).toHaveLength(2);
    const leafA = leafOf(a, caKey, leafKey);
    expect(issuerIn(leafA, readBundle(bundle))?.fingerprint).toBe(new X509Certificate(a).fingerprint256);
    expect(issuerIn(leafA, readBundle(b))).toBeUndefined();
    const want = wantedSans(testInventory());
    expect(assessLeaf(leafA, leafKey, bundle, want, NOW).reasons).not.toContain('not signed by ca.pem');
    expect(assessLeaf(leafA, leafKey, b, want, NOW).reasons).toContain('not signed by ca.pem');
  });

  it('two CAs with the same subject are told apart by their signature, not their names', () => {
    const a = caOf(caKey);
    const b = caOf(otherKey);
    expect(new X509Certificate(a).subject).toBe(new X509Certificate(b).subject);
    expect(issuerIn(leafOf(b, otherKey, leafKey), readBundle(a))).toBeUndefined();
  });
});

describe('the record of a CA rotation', () => {
  const state = (): RotationState => ({ version: 1, phase: 2, started: NOW.toISOString(), stamp: '20260601T120000Z', oldCas: caOf(caKey), newCa: caOf(otherKey), done: { '2': ['controller-0'] } });

  it('round-trips, and phaseTrust is both CAs (new first) in phases 1 and 2, the new one alone in 3', () => {
    const s = state();
    expect(parseRotation('/p', formatRotation(s))).toEqual(s);
    const fp = (pem: string) => readBundle(pem).map((c) => c.fingerprint);
    expect(fp(phaseTrust(s, 1))).toEqual([...fp(s.newCa), ...fp(s.oldCas)]);
    expect(fp(phaseTrust(s, 2))).toEqual(fp(phaseTrust(s, 1)));
    expect(fp(phaseTrust(s, 3))).toEqual(fp(s.newCa));
  });

  it('a damaged record is refused, naming the file and what to do', () => {
    expect(() => parseRotation('/p', '{')).toThrow(/\/p\/rotate-ca\.json: not JSON.*restore it, or move it away/);
    expect(() => parseRotation('/p', formatRotation({ ...state(), phase: 4 as 1 }))).toThrow(/phase 4 is not 1, 2 or 3/);
    expect(() => parseRotation('/p', formatRotation({ ...state(), newCa: 'x' }))).toThrow(/newCa is not one PEM certificate/);
  });

  it('while a rotation is recorded, pki writes nothing and says which phase; pki check says so too', async () => {
    const inv = testInventory();
    mkdirSync(inv.pki.dir, { mode: 0o700 });
    const s = state();
    // Phase 2's files with a leaf of the OLD CA (a run killed before it wrote the new one): ensurePki must not reissue.
    writePki(inv.pki.dir, { 'ca.pem': phaseTrust(s, 2), 'ca-key.pem': otherKey, 'kubernetes.pem': leafOf(s.oldCas, caKey, leafKey, { days: 10 }), 'kubernetes-key.pem': leafKey });
    writeFileSync(path.join(inv.pki.dir, 'rotate-ca.json'), formatRotation(s));
    const before = readFileSync(path.join(inv.pki.dir, 'kubernetes.pem'), 'utf8');
    const r = await ensurePki(inv, NOW);
    expect([r.ca, r.leaf]).toEqual(['kept', 'kept']);
    expect(r.notes.join()).toMatch(/a CA rotation is in progress \(phase 2 of 3: every member gets a leaf from the new CA.*'hardway pki rotate-ca' finishes it/);
    expect(readFileSync(path.join(inv.pki.dir, 'kubernetes.pem'), 'utf8')).toBe(before);
    expect((await checkPki(inv, NOW)).rotation).toMatch(/phase 2 of 3/);
  });
});
