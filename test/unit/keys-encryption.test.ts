import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifySecret, ENCRYPTION_FIX, ENCRYPTION_HEAD_BYTES, encryptionReport } from '../../src/keys/encryption.js';
import { renderEncryption } from '../../src/keys/render.js';
import { encryptionProblems } from '../../src/keys/verify-encryption.js';

const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** A Secret as kube-apiserver stores it without encryption: k8s\0 + runtime.Unknown {typeMeta, raw {metadata, data}}. */
function plainSecret(namespace: string, name: string, data: Record<string, string>): Uint8Array {
  const w = new BinaryWriter();
  w.raw(enc('k8s\0'));
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('v1').tag(2, WireType.LengthDelimited).string('Secret').join();
  w.tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(name).tag(3, WireType.LengthDelimited).string(namespace).join();
  for (const [k, v] of Object.entries(data)) w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(k).tag(2, WireType.LengthDelimited).bytes(enc(v)).join();
  w.join();
  w.tag(3, WireType.LengthDelimited).string('').tag(4, WireType.LengthDelimited).string('');
  return w.finish();
}

/** What listing.ts gives for a value: its size and its first bytes. */
const listed = (key: string, value: Uint8Array) => ({ key, size: value.length, head: value.subarray(0, ENCRYPTION_HEAD_BYTES + 1) });
const encrypted = (prefix: string, n = 2000) => cat(enc(prefix), new Uint8Array(randomBytes(n)));

describe('classifySecret', () => {
  it.each([
    ['k8s:enc:aescbc:v1:key1:', 'aescbc', 'v1', 'key1'],
    ['k8s:enc:aesgcm:v1:rotated-2024:', 'aesgcm', 'v1', 'rotated-2024'],
    ['k8s:enc:secretbox:v1:sb:', 'secretbox', 'v1', 'sb'],
    ['k8s:enc:kms:v1:vault-kms:', 'kms', 'v1', 'vault-kms'],
    ['k8s:enc:kms:v2:aws-kms:', 'kms', 'v2', 'aws-kms'],
  ])('%s: encrypted by %s %s with key %s, from the first bytes only', (prefix, provider, version, keyName) => {
    const value = encrypted(prefix);
    const s = classifySecret(listed('/registry/secrets/prod/db', value));
    expect(s).toEqual({ key: '/registry/secrets/prod/db', namespace: 'prod', name: 'db', size: value.length, encrypted: true, provider, version, keyName });
  });

  it('a Secret stored as kube-apiserver writes it without a provider (or with identity) is not encrypted', () => {
    const value = plainSecret('default', 'plain', { password: 'hunter2'.repeat(200) });
    expect(value.length).toBeGreaterThan(ENCRYPTION_HEAD_BYTES);
    expect(classifySecret(listed('/registry/secrets/default/plain', value))).toEqual({ key: '/registry/secrets/default/plain', namespace: 'default', name: 'plain', size: value.length, encrypted: false, format: 'protobuf' });
    expect(classifySecret(listed('/registry/secrets/default/j', enc('{"kind":"Secret","apiVersion":"v1"}'))).format).toBe('json');
  });
});

describe('encryptionReport', () => {
  const secrets = [
    listed('/registry/secrets/default/a', encrypted('k8s:enc:aescbc:v1:key1:')),
    listed('/registry/secrets/default/b', encrypted('k8s:enc:aescbc:v1:key1:')),
    listed('/registry/secrets/kube-system/c', encrypted('k8s:enc:aescbc:v1:key2:')),
    listed('/registry/secrets/default/plain', plainSecret('default', 'plain', { k: 'v' })),
  ];

  it('counts per provider and key, and lists the unencrypted ones as namespace/name with the fix', () => {
    const r = encryptionReport('77', secrets);
    expect(r).toMatchObject({ revision: '77', total: 4, encrypted: 3 });
    expect(r.keys).toEqual([
      { provider: 'aescbc', version: 'v1', keyName: 'key1', count: 2 },
      { provider: 'aescbc', version: 'v1', keyName: 'key2', count: 1 },
    ]);
    expect(r.unencrypted.map((s) => s.key)).toEqual(['/registry/secrets/default/plain']);
    const text = renderEncryption(r);
    expect(text).toMatch(/^4 secrets at revision 77: 3 encrypted, 1 not$/m);
    expect(text).toMatch(/^ {2}default\/plain \(protobuf, \d+ B\)$/m);
    expect(text).toContain('kubectl get secrets -A -o json | kubectl replace -f -');
    expect(text).toContain(ENCRYPTION_FIX[1]);
    expect(encryptionProblems(r)).toEqual([
      { check: 'encryption', severity: 'error', message: expect.stringMatching(/^secret default\/plain is not encrypted at rest \(.*kubectl replace -f -/) },
    ]);
  });

  it('all encrypted: no problem, no fix; no secrets at all: said so', () => {
    const r = encryptionReport('78', secrets.slice(0, 3));
    expect(r.unencrypted).toEqual([]);
    expect(encryptionProblems(r)).toEqual([]);
    expect(renderEncryption(r)).not.toContain('kubectl replace');
    expect(renderEncryption(encryptionReport('5', []))).toBe('no secrets under /registry/secrets/ at revision 5\n');
    expect(encryptionProblems(encryptionReport('5', []))).toEqual([]);
  });
});
