import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkHostKey, fingerprint, formatKnownHostsLine, keyBlobType, parseKnownHosts } from '../../src/ssh/known-hosts.js';

/** An ed25519 public key blob as SSH sends it: string "ssh-ed25519" + string key. */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

function hashed(host: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(host).digest('base64')}`;
}

describe('known_hosts', () => {
  const k1 = ed25519Blob();
  const k2 = ed25519Blob();
  const b64 = (k: Buffer) => k.toString('base64');

  it('formats and reads back a plain entry, with [host]:port for other ports', () => {
    expect(formatKnownHostsLine('10.0.0.1', 22, k1)).toBe(`10.0.0.1 ssh-ed25519 ${b64(k1)}`);
    expect(formatKnownHostsLine('10.0.0.1', 2222, k1)).toMatch(/^\[10\.0\.0\.1\]:2222 ssh-ed25519 /);
    const entries = parseKnownHosts(`# comment\n\n${formatKnownHostsLine('10.0.0.1', 2222, k1)}\n`);
    expect(checkHostKey(entries, '10.0.0.1', 2222, k1)).toEqual({ status: 'match', line: 3 });
    expect(checkHostKey(entries, '10.0.0.1', 22, k1)).toEqual({ status: 'unknown' });
  });

  it('matches hashed entries', () => {
    const entries = parseKnownHosts(`${hashed('10.0.0.5')} ssh-ed25519 ${b64(k1)}\n${hashed('[10.0.0.6]:2200')} ssh-ed25519 ${b64(k2)}\n`);
    expect(checkHostKey(entries, '10.0.0.5', 22, k1).status).toBe('match');
    expect(checkHostKey(entries, '10.0.0.6', 2200, k2).status).toBe('match');
    expect(checkHostKey(entries, '10.0.0.7', 22, k1).status).toBe('unknown');
  });

  it('reports a changed key', () => {
    const entries = parseKnownHosts(`a,10.0.0.1 ssh-ed25519 ${b64(k1)}\n`);
    expect(checkHostKey(entries, '10.0.0.1', 22, k2)).toEqual({ status: 'changed', lines: [1] });
  });

  it('honours wildcards, negation and @revoked', () => {
    const entries = parseKnownHosts(`10.0.0.*,!10.0.0.9 ssh-ed25519 ${b64(k1)}\n@revoked * ssh-ed25519 ${b64(k2)}\n`);
    expect(checkHostKey(entries, '10.0.0.3', 22, k1).status).toBe('match');
    expect(checkHostKey(entries, '10.0.0.9', 22, k1).status).toBe('unknown');
    expect(checkHostKey(entries, '10.0.0.3', 22, k2).status).toBe('revoked');
  });

  it('fingerprints like ssh-keygen -l', () => {
    expect(keyBlobType(k1)).toBe('ssh-ed25519');
    expect(fingerprint(k1)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(k1)).not.toBe(fingerprint(k2));
  });
});
