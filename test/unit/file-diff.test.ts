import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { binaryDiffLines, certDiffLines, keyDiffLines } from '../../src/provision/file-diff.js';

function cert(serial: string, ip: string): string {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  c.serialNumber = serial;
  c.validity.notBefore = new Date('2026-01-01T00:00:00Z');
  c.validity.notAfter = new Date('2027-01-01T00:00:00Z');
  const name = [{ name: 'commonName', value: 'kubernetes' }];
  c.setSubject(name);
  c.setIssuer(name);
  c.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip }] }]);
  c.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(c);
}

describe('what plan shows for a file that is not a unit', () => {
  it('a certificate: only the fields that differ, old then new', () => {
    const lines = certDiffLines(cert('01', '10.0.0.1'), cert('02', '10.0.0.2'));
    expect(lines).toContain('- serial: 01');
    expect(lines).toContain('+ serial: 02');
    expect(lines).toContain('- SANs: IP Address:10.0.0.1');
    expect(lines).toContain('+ SANs: IP Address:10.0.0.2');
    expect(lines.some((l) => l.includes('subject'))).toBe(false);
  });

  it("a node file that is no certificate is said so; a key's content never appears", () => {
    expect(certDiffLines('garbage', cert('03', '10.0.0.3'))[0]).toMatch(/not a readable certificate/);
    expect(keyDiffLines().join('\n')).not.toMatch(/BEGIN/);
  });

  it("a binary: the node's version against the release's size and SHA-256", () => {
    expect(binaryDiffLines('etcd Version: 3.4.22\n', { sha256: 'ab'.repeat(32), size: 23_000_000 }, '3.4.23')).toEqual(['- etcd Version: 3.4.22', "+ etcd 3.4.23's (23 MB, SHA-256 abababababab…)"]);
  });
});
