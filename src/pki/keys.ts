import { createPrivateKey, generatePrime } from 'node:crypto';

/*
 * RSA keys from two primes made by Node's OpenSSL (`crypto.generatePrime`: random candidates with the top two bits
 * set, trial division, 64 Miller-Rabin rounds), put together here as OpenSSL 1.1.1 and Go do.
 *
 * Why not `crypto.generateKeyPair`: OpenSSL 3 makes 2-prime keys of 2048 bits and more by the SP 800-56B method
 * (auxiliary primes), which on this kind of machine takes ~110 ms per 2048-bit key against ~2 x 32 ms for two plain
 * primes. `hardway pki` needs two keys; their four primes are made in parallel on the thread pool.
 *
 * The key is accepted only when it meets FIPS 186-4 (B.3.1 criteria for probable primes): each prime above
 * sqrt(2) * 2^(bits/2 - 1) (the top two bits give that), gcd(e, p - 1) = gcd(e, q - 1) = 1, |p - q| > 2^(bits/2 - 100),
 * d > 2^(bits/2), and n of exactly `bits` bits. Otherwise it is thrown away and new primes are made.
 */

export const PUBLIC_EXPONENT = 65537n;

/** The CRT form of an RSA private key, as in PKCS#1 and JWK. */
export interface RsaKeyParts {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qi: bigint;
}

function primeAsync(bits: number): Promise<bigint> {
  return new Promise((resolve, reject) =>
    generatePrime(bits, { bigint: true }, (err, prime) => (err ? reject(err) : resolve(prime as bigint))),
  );
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** a^-1 mod m (extended Euclid); undefined when gcd(a, m) != 1. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1] = [r1, r0 - k * r1];
    [s0, s1] = [s1, s0 - k * s1];
  }
  if (r0 !== 1n) return undefined;
  return ((s0 % m) + m) % m;
}

export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * The key made of p and q, or why FIPS 186-4 rejects that pair (the caller then makes new primes). Pure: the
 * arithmetic is unit-tested against OpenSSL's own check (`openssl rsa -check`).
 */
export function rsaKeyFromPrimes(p: bigint, q: bigint, bits: number, e: bigint = PUBLIC_EXPONENT): RsaKeyParts | { rejected: string } {
  const half = BigInt(bits / 2);
  // p > q, as OpenSSL stores them (qi = q^-1 mod p).
  if (p < q) [p, q] = [q, p];
  const lowest = (1n << (half - 1n)) + (1n << (half - 2n)); // top two bits set > sqrt(2) * 2^(half-1)
  if (q < lowest) return { rejected: 'a prime is too small' };
  if (p - q <= 1n << (half - 100n)) return { rejected: 'p and q are too close' };
  if (gcd(e, p - 1n) !== 1n || gcd(e, q - 1n) !== 1n) return { rejected: 'e divides p - 1 or q - 1' };
  const n = p * q;
  if (bitLength(n) !== bits) return { rejected: `n has ${bitLength(n)} bits` };
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const d = modInverse(e, lambda);
  if (d === undefined || d <= 1n << half) return { rejected: 'd is too small' };
  const qi = modInverse(q, p);
  if (qi === undefined) return { rejected: 'q has no inverse mod p' };
  return { n, e, d, p, q, dp: d % (p - 1n), dq: d % (q - 1n), qi };
}

function b64url(x: bigint): string {
  let hex = x.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** PKCS#1 PEM ("RSA PRIVATE KEY", what cfssl and KTHW's files hold), encoded by OpenSSL from a JWK. */
export function rsaPrivateKeyPem(k: RsaKeyParts): string {
  const jwk = { kty: 'RSA', n: b64url(k.n), e: b64url(k.e), d: b64url(k.d), p: b64url(k.p), q: b64url(k.q), dp: b64url(k.dp), dq: b64url(k.dq), qi: b64url(k.qi) };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs1', format: 'pem' }) as string;
}

/**
 * A new RSA private key as PKCS#1 PEM. Its two primes are made at once on the libuv thread pool, so several keys
 * are made in parallel, never by node-forge's pure-JS path (seconds per key).
 */
export async function generateRsaKey(bits: number): Promise<string> {
  let [p, q] = await Promise.all([primeAsync(bits / 2), primeAsync(bits / 2)]);
  for (;;) {
    const key = rsaKeyFromPrimes(p, q, bits);
    if (!('rejected' in key)) return rsaPrivateKeyPem(key);
    // Rare (about 1 in 30 000 pairs, nearly all for gcd(e, p - 1)); new primes for both keep it simple.
    [p, q] = await Promise.all([primeAsync(bits / 2), primeAsync(bits / 2)]);
  }
}
