import { createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
// Only the parts of forge used here, a third of the load time of all of node-forge (it loads while the keys are
// generated): x509 brings asn1, pem, oids and rsa; sha1 makes subjectKeyIdentifier. Certificates are parsed
// without computing their digest (certificateFromPem's computeHash), so a CA signed with SHA-384/512 needs no more.
import forge from 'node-forge/lib/forge.js';
import 'node-forge/lib/x509.js';
import 'node-forge/lib/sha1.js';
import 'node-forge/lib/sha256.js';
import type { SanList } from '../inventory/derive.js';

/**
 * Building certificates: pure (keys and parameters in, PEM out; no file system). node-forge assembles the
 * ASN.1; the signature itself is made by Node's OpenSSL, which is ~30× faster than forge's JS RSA.
 */

const DAY_MS = 86_400_000;

/** notBefore is backdated so that a node whose clock is a few minutes behind still accepts a fresh cert. */
export const BACKDATE_MS = 5 * 60_000;

/** As in Kubernetes The Hard Way (its CSRs add C/L/ST/OU, which nothing checks). */
export const CA_SUBJECT: forge.pki.CertificateField[] = [
  { name: 'commonName', value: 'Kubernetes' },
  { name: 'organizationName', value: 'Kubernetes' },
];
export const LEAF_SUBJECT: forge.pki.CertificateField[] = [
  { name: 'commonName', value: 'kubernetes' },
  { name: 'organizationName', value: 'Kubernetes' },
];

export interface CaParams {
  /** The CA's private key (PEM, RSA). */
  keyPem: string;
  now: Date;
  validityDays: number;
  /** Hex; random when omitted. */
  serial?: string;
  /** An explicit validity window (tests make expired or nearly expired CAs); default now - BACKDATE_MS .. now + validityDays. */
  notBefore?: Date;
  notAfter?: Date;
}

export interface LeafParams {
  /** The leaf's private key (PEM, RSA). */
  keyPem: string;
  caPem: string;
  caKeyPem: string;
  sans: SanList;
  now: Date;
  validityDays: number;
  serial?: string;
  /**
   * An explicit validity window. ensure.ts caps notAfter at the CA's (a leaf never outlives its issuer); tests make
   * expired leaves with a window in the past.
   */
  notBefore?: Date;
  notAfter?: Date;
}

/** 16 random bytes, positive. */
export function randomSerial(): string {
  const b = randomBytes(16);
  // Clear the sign bit so the INTEGER is positive, and never start with 0x00: DER integers are minimal,
  // and OpenSSL and Go reject a redundant leading zero byte.
  b[0] = b[0]! & 0x7f || 0x01;
  return b.toString('hex');
}

/** The public half of an RSA private key, as forge wants it (read by Node's OpenSSL, not forge's JS). */
function forgePublicKey(keyPem: string, role: string): forge.pki.rsa.PublicKey {
  const jwk = createPublicKey(keyPem).export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new Error(`the ${role} is not an RSA key`);
  const big = (b64: string) => new forge.jsbn.BigInteger(Buffer.from(b64, 'base64url').toString('hex'), 16);
  return forge.pki.setRsaPublicKey(big(jwk.n), big(jwk.e));
}

type Window = Pick<CaParams, 'now' | 'validityDays' | 'serial' | 'notBefore' | 'notAfter'>;

function newCert(keyPem: string, role: string, w: Window): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  // Set before the extensions: forge computes subjectKeyIdentifier from cert.publicKey in setExtensions.
  cert.publicKey = forgePublicKey(keyPem, role);
  cert.serialNumber = w.serial ?? randomSerial();
  cert.validity.notBefore = w.notBefore ?? new Date(w.now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = w.notAfter ?? new Date(w.now.getTime() + w.validityDays * DAY_MS);
  return cert;
}

/** What forge's cert.sign(key, sha256) does, with the RSA operation done natively. */
function signSha256(cert: forge.pki.Certificate, signerKeyPem: string): string {
  if (createPrivateKey(signerKeyPem).asymmetricKeyType !== 'rsa') throw new Error('the CA key is not an RSA key (hardway signs with RSA and SHA-256)');
  const oid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  // getTBSCertificate is public in forge but missing from @types/node-forge.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  cert.tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', der, signerKeyPem).toString('binary');
  return forge.pki.certificateToPem(cert);
}

/** A self-signed CA: CN=Kubernetes, CA:TRUE and keyCertSign+cRLSign (both critical), subjectKeyIdentifier. */
export function buildCa(p: CaParams): string {
  const cert = newCert(p.keyPem, 'CA key', p);
  cert.setSubject(CA_SUBJECT);
  cert.setIssuer(CA_SUBJECT);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return signSha256(cert, p.keyPem);
}

/** The CA's subjectKeyIdentifier bytes, or the RFC 5280 method-1 hash of its key when it has none. */
function caKeyId(ca: forge.pki.Certificate): string {
  const ext = ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ext?.subjectKeyIdentifier ? forge.util.hexToBytes(ext.subjectKeyIdentifier) : ca.generateSubjectKeyIdentifier().getBytes();
}

/** The etcd server/peer/client certificate: CN=kubernetes, server+client auth, the given SANs, signed by the CA. */
export function buildLeaf(p: LeafParams): string {
  const ca = forge.pki.certificateFromPem(p.caPem);
  const cert = newCert(p.keyPem, 'etcd key', p);
  cert.setSubject(LEAF_SUBJECT);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    // The CA's key id, not `keyIdentifier: true`, which would hash this certificate's own key.
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId(ca) },
    {
      name: 'subjectAltName',
      altNames: [...p.sans.ips.map((ip) => ({ type: 7, ip })), ...p.sans.dns.map((value) => ({ type: 2, value }))],
    },
  ]);
  return signSha256(cert, p.caKeyPem);
}
