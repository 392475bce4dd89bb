import { createPrivateKey, createPublicKey, generatePrimeSync, sign, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitLength, generateRsaKey, modInverse, PUBLIC_EXPONENT, rsaKeyFromPrimes, type RsaKeyParts } from '../../src/pki/keys.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const prime = (bits: number, opts: { add?: bigint; rem?: bigint } = {}) => generatePrimeSync(bits, { bigint: true, ...opts }) as bigint;

function accepted(k: ReturnType<typeof rsaKeyFromPrimes>): RsaKeyParts {
  if ('rejected' in k) throw new Error(`rejected: ${k.rejected}`);
  return k;
}

describe('modInverse', () => {
  it('inverts modulo m, and says when there is no inverse', () => {
    expect(modInverse(3n, 11n)).toBe(4n);
    expect(modInverse(10n, 17n)! * 10n % 17n).toBe(1n);
    expect(modInverse(-3n, 11n)).toBe(7n); // -3 = 8 mod 11, and 8 * 7 = 56 = 1 mod 11
    expect(modInverse(6n, 9n)).toBeUndefined();
  });
});

describe('rsaKeyFromPrimes', () => {
  it('builds a consistent CRT key from two 1024-bit primes', () => {
    // Random primes: about 1 pair in 30 000 is rejected (gcd(e, p - 1) != 1), so draw until one is accepted.
    let [p, q] = [prime(1024), prime(1024)];
    let key = rsaKeyFromPrimes(p, q, 2048);
    while ('rejected' in key) {
      [p, q] = [prime(1024), prime(1024)];
      key = rsaKeyFromPrimes(p, q, 2048);
    }
    const k = accepted(key);
    expect(k.p).toBeGreaterThan(k.q);
    expect(k.n).toBe(p * q);
    expect(bitLength(k.n)).toBe(2048);
    expect(k.e).toBe(PUBLIC_EXPONENT);
    expect((k.d * k.e) % (k.p - 1n)).toBe(1n);
    expect((k.d * k.e) % (k.q - 1n)).toBe(1n);
    expect(k.dp).toBe(k.d % (k.p - 1n));
    expect(k.dq).toBe(k.d % (k.q - 1n));
    expect((k.qi * k.q) % k.p).toBe(1n);
    expect(k.d > 1n << 1024n).toBe(true);
  });

  it('rejects what FIPS 186-4 rejects', () => {
    const p = prime(1024);
    expect(rsaKeyFromPrimes(p, p, 2048)).toEqual({ rejected: 'p and q are too close' });
    // A prime = 1 mod 65537 (with its top two bits set, which OpenSSL does not ensure when given add/rem):
    // e divides p - 1, so e has no inverse.
    let oneModE: bigint;
    do oneModE = prime(1024, { add: 65537n, rem: 1n });
    while (oneModE >> 1022n !== 3n);
    expect(rsaKeyFromPrimes(oneModE, p, 2048)).toEqual({ rejected: 'e divides p - 1 or q - 1' });
    // 1023 bits: below sqrt(2) * 2^1023, and n would be short.
    expect(rsaKeyFromPrimes(p, prime(1023), 2048)).toEqual({ rejected: 'a prime is too small' });
  });
});

describe('generateRsaKey', () => {
  it('makes PKCS#1 keys that OpenSSL checks in full (primes, n = pq, d, CRT values)', async () => {
    const [k2048, k3072] = await Promise.all([generateRsaKey(2048), generateRsaKey(3072)]);
    for (const [bits, pem] of [
      [2048, k2048],
      [3072, k3072],
    ] as const) {
      expect(pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
      const file = path.join(dir, `k${bits}.pem`);
      await writeFile(file, pem, { mode: 0o600 });
      const check = await execa('openssl', ['rsa', '-check', '-noout', '-in', file]);
      expect(check.stdout).toBe('RSA key ok');
      const text = (await execa('openssl', ['rsa', '-text', '-noout', '-in', file])).stdout;
      expect(text).toContain(`Private-Key: (${bits} bit, 2 primes)`);
      expect(text).toContain('publicExponent: 65537 (0x10001)');
      // And it signs: what the public key (n, e alone) verifies.
      const data = Buffer.from('hardway');
      const pub = createPublicKey(createPrivateKey(pem));
      expect(verify('sha256', data, pub, sign('sha256', data, pem))).toBe(true);
    }
  });
});
