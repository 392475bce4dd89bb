import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { sanList, type SanList } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import { issuerIn, readBundle } from './bundle.js';
import { PKI_FILES, RENEW_BEFORE_DAYS } from './files.js';

/**
 * Reading and judging certificates: pure, and native (node:crypto's X509Certificate), so that a run that
 * keeps everything, and `pki check`, never load node-forge. It also reads certificates forge cannot
 * (ECDSA ones brought from elsewhere), and checkIP/checkHost match names exactly as TLS clients do.
 */

export const DAY_MS = 86_400_000;

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

export interface CertInfo {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** IPs and DNS names as values (`10.240.0.10`, `kubernetes`); other kinds as OpenSSL prints them (`URI:…`). */
  sans: string[];
}

function dn(s: string): string {
  return s.split('\n').join(', ');
}

/** Splits X509Certificate.subjectAltName; Node quotes entries that contain a comma. */
function splitSans(s: string | undefined): string[] {
  if (!s) return [];
  return [...s.matchAll(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g)]
    .map((m) => m[0].trim().replace(/^(?:DNS|IP Address):/, ''))
    .filter(Boolean);
}

/** Throws (with OpenSSL's message) when the PEM is not a certificate. */
export function parseCert(pem: string): CertInfo {
  return info(new X509Certificate(pem));
}

function info(x: X509Certificate): CertInfo {
  return {
    subject: dn(x.subject),
    issuer: dn(x.issuer),
    serial: x.serialNumber,
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    isCa: x.ca,
    sans: splitSans(x.subjectAltName),
  };
}

/** Whole days until notAfter, negative once expired. */
export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The leaf's wanted SANs, with who needs each one, so that a reason can name the node. */
export interface WantedSans extends SanList {
  /** SAN value → a node name, `loopback` or `extraSans`. */
  owners?: Record<string, string>;
}

export function wantedSans(inv: Inventory): WantedSans {
  const owners: Record<string, string> = {};
  const own = (v: string, who: string) => {
    owners[v] ??= who;
  };
  for (const n of inv.nodes) {
    own(n.internalIp, n.name);
    own(n.address, n.name);
    own(n.name, n.name);
  }
  own('127.0.0.1', 'loopback');
  for (const s of inv.pki.extraSans) own(s, 'extraSans');
  return { ...sanList(inv), owners };
}

export interface Assessment {
  ok: boolean;
  reasons: string[];
}

export interface CaAssessment extends Assessment {
  /** False when no leaf can be signed with it: unreadable, not a CA, key mismatch, expired. */
  usable: boolean;
  info?: CertInfo;
}

/** Expiry and not-yet-valid reasons. */
function validity(i: CertInfo, now: Date): { reasons: string[]; expired: boolean } {
  const reasons: string[] = [];
  const left = daysLeft(i.notAfter, now);
  const expired = i.notAfter.getTime() <= now.getTime();
  if (expired) {
    const ago = Math.floor((now.getTime() - i.notAfter.getTime()) / DAY_MS);
    reasons.push(`expired ${ago === 0 ? 'today' : ago === 1 ? '1 day ago' : `${ago} days ago`} (${isoDate(i.notAfter)})`);
  } else if (left < RENEW_BEFORE_DAYS) reasons.push(`expires in ${left} days (${isoDate(i.notAfter)}), within ${RENEW_BEFORE_DAYS} days`);
  if (i.notBefore.getTime() > now.getTime()) reasons.push(`not valid before ${i.notBefore.toISOString()} (a clock is wrong)`);
  return { reasons, expired };
}

function readKey(pem: string, file: string): { key?: KeyObject; problem?: string } {
  try {
    return { key: createPrivateKey(pem) };
  } catch (e) {
    return { problem: `${file} is not a readable private key (${(e as Error).message})` };
  }
}

/** Can this CA sign the leaf? Never changes anything: a CA is only ever created, never replaced. */
export function assessCa(caPem: string, caKeyPem: string, now: Date): CaAssessment {
  let x: X509Certificate;
  try {
    x = new X509Certificate(caPem);
  } catch (e) {
    return { ok: false, usable: false, reasons: [`${PKI_FILES.ca} cannot be parsed (${(e as Error).message})`] };
  }
  const i = info(x);
  const reasons: string[] = [];
  let usable = true;
  if (!x.ca) {
    reasons.push(`${PKI_FILES.ca} is not a CA certificate (basicConstraints CA:FALSE)`);
    usable = false;
  }
  const { key, problem } = readKey(caKeyPem, PKI_FILES.caKey);
  if (!key) {
    reasons.push(problem!);
    usable = false;
  } else if (!x.checkPrivateKey(key)) {
    reasons.push(`${PKI_FILES.caKey} does not match ${PKI_FILES.ca}`);
    usable = false;
  } else if (key.asymmetricKeyType !== 'rsa') {
    reasons.push(`${PKI_FILES.caKey} is an ${key.asymmetricKeyType ?? 'unknown'} key; hardway signs with RSA keys only`);
    usable = false;
  }
  const v = validity(i, now);
  reasons.push(...v.reasons);
  if (v.expired) usable = false;
  return { ok: reasons.length === 0, usable, reasons, info: i };
}

export interface LeafAssessOptions {
  /** A smaller RSA key than this is a reason to reissue. */
  keyBits?: number;
  /**
   * A leaf that already ends with its CA is not to be reissued for expiring soon: a new one would end on the same day
   * (a leaf never outlives its issuer). `ensurePki` sets this; `pki check` still reports the date.
   */
  keepWhenEndingWithCa?: boolean;
}

/** A leaf ending within a day of its CA ends with it (the backdating and rounding of the tools that made them). */
const ENDS_WITH_CA_MS = DAY_MS;

/**
 * The notAfter a new leaf gets: validityDays from now, but never after its CA's notAfter. `shortened` says when
 * the CA cut it, so that `pki` can say so and why.
 */
export function leafNotAfter(now: Date, validityDays: number, caNotAfter: Date): { notAfter: Date; shortened: boolean } {
  const wanted = new Date(now.getTime() + validityDays * DAY_MS);
  return wanted.getTime() > caNotAfter.getTime() ? { notAfter: new Date(caNotAfter), shortened: true } : { notAfter: wanted, shortened: false };
}

/**
 * Whether kubernetes.pem can be kept: its SANs cover `want`, it is valid for more than RENEW_BEFORE_DAYS,
 * it matches its key, it is signed by the CA and usable for TLS server and client auth.
 */
export function assessLeaf(
  leafPem: string,
  keyPem: string,
  caPem: string | undefined,
  want: WantedSans,
  now: Date,
  opts: LeafAssessOptions = {},
): Assessment & { info?: CertInfo } {
  let x: X509Certificate;
  try {
    x = new X509Certificate(leafPem);
  } catch (e) {
    return { ok: false, reasons: [`${PKI_FILES.cert} cannot be parsed (${(e as Error).message})`] };
  }
  const i = info(x);
  const reasons: string[] = [];
  const owner = (v: string) => (want.owners?.[v] ? ` (${want.owners[v]})` : '');
  for (const ip of want.ips) {
    if (x.checkIP(ip) === undefined) reasons.push(`SAN ${ip}${owner(ip)} missing`);
  }
  for (const name of want.dns) {
    // No partial wildcards ("k*.example.com"): Go's TLS stack, which etcd uses, does not accept them.
    if (x.checkHost(name, { subject: 'never', partialWildcards: false }) === undefined) reasons.push(`SAN ${name}${owner(name)} missing`);
  }
  // ca.pem may be a bundle (a CA rotation trusts two CAs): the leaf is signed by one of them or by none.
  const cas = caPem !== undefined ? readBundle(caPem) : [];
  const issuer = caPem !== undefined ? issuerIn(leafPem, cas) : undefined;
  const endsWithCa = !!issuer && i.notAfter.getTime() >= issuer.notAfter.getTime() - ENDS_WITH_CA_MS && i.notAfter.getTime() > now.getTime();
  const v = validity(i, now);
  reasons.push(...(opts.keepWhenEndingWithCa && endsWithCa ? v.reasons.filter((r) => !r.startsWith('expires in')) : v.reasons));
  const { key, problem } = readKey(keyPem, PKI_FILES.key);
  if (!key) reasons.push(problem!);
  else if (!x.checkPrivateKey(key)) reasons.push(`${PKI_FILES.key} does not match ${PKI_FILES.cert}`);
  else if (opts.keyBits && key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < opts.keyBits) reasons.push(`key is ${bits} bits, the inventory asks for ${opts.keyBits}`);
  }
  if (caPem !== undefined && !issuer) reasons.push(`not signed by ${PKI_FILES.ca}`);
  const eku = x.keyUsage;
  if (eku && !eku.includes(ANY_EKU) && !(eku.includes(SERVER_AUTH) && eku.includes(CLIENT_AUTH))) {
    reasons.push('not usable for both TLS server and client auth (etcd peers need both)');
  }
  return { ok: reasons.length === 0, reasons, info: i };
}
