import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';

/**
 * Trust files as etcd reads them: `--trusted-ca-file` may hold several CA certificates (a bundle), and a leaf is
 * trusted when any of them signed it. Pure and native (node:crypto): what `verify`, `up`'s trust guard, `renew` and
 * `rotate-ca` use to compare what the nodes hold with pki.dir, without node-forge.
 */

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM file, in order (anything else in it, keys included, is skipped). */
export function splitPem(text: string): string[] {
  return [...text.matchAll(PEM_CERT)].map((m) => `${m[0]}\n`);
}

/** A bundle of PEM certificates, one after the other (what `ca.pem` holds during a CA rotation). */
export function joinPem(certs: string[]): string {
  return certs.map((c) => c.trim()).join('\n') + '\n';
}

export interface CertSummary {
  /** `CN=Kubernetes, O=Kubernetes`. */
  subject: string;
  issuer: string;
  serial: string;
  /** SHA-256 fingerprint, `AB:CD:…`. */
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  pem: string;
}

export function summarize(pem: string): CertSummary {
  const x = new X509Certificate(pem);
  return {
    subject: x.subject.split('\n').join(', '),
    issuer: x.issuer.split('\n').join(', '),
    serial: x.serialNumber,
    fingerprint: x.fingerprint256,
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    isCa: x.ca,
    pem,
  };
}

/** The certificates of a trust file, each summarized; unreadable ones are skipped. */
export function readBundle(text: string | undefined): CertSummary[] {
  if (!text) return [];
  return splitPem(text).flatMap((p) => {
    try {
      return [summarize(p)];
    } catch {
      return [];
    }
  });
}

/** The first 16 hex digits of a fingerprint: enough to tell CAs apart in a sentence. */
export function shortFingerprint(fp: string): string {
  return fp.replace(/:/g, '').slice(0, 16).toLowerCase();
}

/** `CN=Kubernetes, O=Kubernetes (sha256 1a2b…, until 2031-01-01)`: how a CA is named in messages. */
export function describeCa(c: Pick<CertSummary, 'subject' | 'fingerprint' | 'notAfter'>): string {
  return `${c.subject} (sha256 ${shortFingerprint(c.fingerprint)}, not after ${c.notAfter.toISOString().slice(0, 10)})`;
}

/** The CA of `cas` that signed `leafPem` (its signature checked, not only the names), or undefined. */
export function issuerIn(leafPem: string, cas: Pick<CertSummary, 'pem'>[]): CertSummary | undefined {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(leafPem);
  } catch {
    return undefined;
  }
  for (const ca of cas) {
    try {
      const x = new X509Certificate(ca.pem);
      if (x.ca && leaf.checkIssued(x) && leaf.verify(x.publicKey)) return summarize(ca.pem);
    } catch {
      // an unreadable CA signs nothing
    }
  }
  return undefined;
}

/** Same certificates, whatever their order or PEM line breaks. */
export function sameCerts(a: Pick<CertSummary, 'fingerprint'>[], b: Pick<CertSummary, 'fingerprint'>[]): boolean {
  const fa = new Set(a.map((c) => c.fingerprint));
  const fb = new Set(b.map((c) => c.fingerprint));
  return fa.size === fb.size && [...fa].every((f) => fb.has(f));
}

export const hasCert = (set: Pick<CertSummary, 'fingerprint'>[], c: Pick<CertSummary, 'fingerprint'>): boolean => set.some((x) => x.fingerprint === c.fingerprint);

/** SHA-256 of the bytes (hex): how a key on a node is compared with pki.dir's without reading it. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Whether the certificate's public key is the private key's (a leaf reissued for the key it already has). */
export function certMatchesKey(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** The SPKI of a certificate, as a PEM public key (to issue a new certificate for the key a node already has). */
export function publicKeyPem(certPem: string): string {
  return createPublicKey(new X509Certificate(certPem).publicKey).export({ type: 'spki', format: 'pem' }) as string;
}
