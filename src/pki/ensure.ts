import path from 'node:path';
import { OperationError } from '../errors.js';
import { sanList } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import { caValidityDays, CERT_MODE, KEY_MODE, PKI_FILES } from './files.js';
import { assessCa, assessLeaf, leafNotAfter, parseCert, wantedSans } from './inspect.js';
import { generateRsaKey } from './keys.js';
import { readRotation, rotationLine } from './rotation.js';
import { ensurePrivateDir, octal, readPkiFiles, tightenMode, writeFilesAtomic, type PendingFile } from './store.js';

export type FileAction = 'created' | 'kept' | 'reissued';

export interface FileResult {
  /** One of PKI_FILES. */
  name: string;
  path: string;
  action: FileAction;
  /** Why it was reissued (for the key: that it goes with the new certificate). */
  reasons: string[];
}

export interface EnsureResult {
  dir: string;
  ca: 'created' | 'kept';
  leaf: FileAction;
  /** Why the leaf was reissued (empty otherwise). */
  reasons: string[];
  /** In PKI_FILES order: ca, caKey, cert, key. */
  files: FileResult[];
  /** Things fixed or worth knowing: modes tightened, a CA close to expiry. */
  notes: string[];
  /** Plain lines for a log: the notes, then `<file>: <action>[: reasons]` per file. */
  messages: string[];
}

/** `kubernetes.pem: reissued: SAN 10.240.0.13 (controller-3) missing`. */
export function fileLine(f: FileResult): string {
  return `${f.name}: ${f.action}${f.action === 'reissued' && f.reasons.length ? `: ${f.reasons.join('; ')}` : ''}`;
}

function neverReplaceCa(dir: string, problem: string): OperationError {
  return new OperationError(
    `${path.join(dir, PKI_FILES.ca)}: ${problem}. hardway never replaces a CA (every certificate signed by it ` +
      `would stop being trusted): fix or restore it; 'hardway pki rotate-ca' moves a running cluster to a new CA without ` +
      `downtime; or, for a cluster that does not run, move ${PKI_FILES.ca} and ${PKI_FILES.caKey} away to create a new CA.`,
  );
}

/**
 * Makes inv.pki.dir hold a CA and a leaf that fits the inventory, changing as little as possible: an existing CA
 * is always kept; the leaf is kept unless it must be reissued (see assessLeaf). Writes nothing when all is well.
 */
export async function ensurePki(inv: Inventory, now: Date = new Date()): Promise<EnsureResult> {
  const dir = inv.pki.dir;
  const notes: string[] = [];
  const dirState = await ensurePrivateDir(dir);
  if (dirState.tightenedFrom !== undefined) notes.push(`${dir} was mode ${octal(dirState.tightenedFrom)}: tightened to 0700`);
  const cur = await readPkiFiles(dir);
  // During a CA rotation pki.dir holds the files of the phase under way (a bundle in ca.pem, the old CA's leaf in
  // phase 1): reissuing here would ship a leaf that not every member trusts yet. The rotation owns them.
  const rotation = await readRotation(dir);
  if (rotation) return keptForRotation(dir, [...notes, `${rotationLine(rotation)}: ${PKI_FILES.ca} and ${PKI_FILES.cert} are that phase's, kept as they are; 'hardway pki rotate-ca' finishes it`]);

  let ca: EnsureResult['ca'];
  if (cur.ca === undefined && cur.caKey === undefined) {
    ca = 'created';
  } else if (cur.ca === undefined || cur.caKey === undefined) {
    const [has, lacks] = cur.ca === undefined ? [PKI_FILES.caKey, PKI_FILES.ca] : [PKI_FILES.ca, PKI_FILES.caKey];
    throw new OperationError(
      `${path.join(dir, has)} exists without ${lacks}. hardway never replaces a CA: restore ${lacks}, or, if this CA ` +
        `was never used, remove ${has} to create a new one.`,
    );
  } else {
    const a = assessCa(cur.ca, cur.caKey, now);
    if (!a.usable) throw neverReplaceCa(dir, a.reasons.join('; '));
    for (const r of a.reasons) notes.push(`${PKI_FILES.ca}: ${r}${r.startsWith('expires in') ? " ('hardway pki rotate-ca' moves the cluster to a new CA without downtime)" : ''}`);
    ca = 'kept';
  }

  let leaf: FileAction;
  let reasons: string[] = [];
  if (ca === 'created') {
    leaf = cur.cert === undefined && cur.key === undefined ? 'created' : 'reissued';
    if (leaf === 'reissued') reasons = [`new ${PKI_FILES.ca}`];
  } else if (cur.cert === undefined && cur.key === undefined) {
    leaf = 'created';
  } else if (cur.cert === undefined || cur.key === undefined) {
    leaf = 'reissued';
    reasons = [`${cur.cert === undefined ? PKI_FILES.cert : PKI_FILES.key} missing`];
  } else {
    const a = assessLeaf(cur.cert, cur.key, cur.ca, wantedSans(inv), now, { keyBits: inv.pki.keyBits, keepWhenEndingWithCa: true });
    leaf = a.ok ? 'kept' : 'reissued';
    reasons = a.reasons;
  }

  const pending: PendingFile[] = [];
  if (ca === 'created' || leaf !== 'kept') {
    // Start both key generations (native, on the thread pool) before loading node-forge (~25 ms), so that
    // they overlap; the keys dominate the run time.
    const caKeyP = ca === 'created' ? generateRsaKey(inv.pki.keyBits) : undefined;
    const leafKeyP = leaf !== 'kept' ? generateRsaKey(inv.pki.keyBits) : undefined;
    const [certs, caKeyNew, leafKey] = await Promise.all([import('./certs.js'), caKeyP, leafKeyP]);
    let caPem = cur.ca!;
    let caKeyPem = cur.caKey!;
    if (caKeyNew !== undefined) {
      caKeyPem = caKeyNew;
      caPem = certs.buildCa({ keyPem: caKeyPem, now, validityDays: caValidityDays(inv.pki.validityDays) });
      pending.push({ name: PKI_FILES.caKey, content: caKeyPem, mode: KEY_MODE }, { name: PKI_FILES.ca, content: caPem, mode: CERT_MODE });
    }
    if (leafKey !== undefined) {
      const { notAfter, shortened } = leafNotAfter(now, inv.pki.validityDays, parseCert(caPem).notAfter);
      if (shortened) notes.push(shortenedNote(notAfter, now, inv.pki.validityDays));
      const leafPem = certs.buildLeaf({ keyPem: leafKey, caPem, caKeyPem, sans: sanList(inv), now, validityDays: inv.pki.validityDays, notAfter });
      pending.push({ name: PKI_FILES.key, content: leafKey, mode: KEY_MODE }, { name: PKI_FILES.cert, content: leafPem, mode: CERT_MODE });
    }
    // Keys are renamed into place before their certificates: after a crash in between, the next run sees a
    // key that does not match its certificate and reissues it.
    await writeFilesAtomic(dir, pending);
  }

  // Keys that were kept but are readable by others (copied by hand, say) are tightened.
  for (const name of [PKI_FILES.caKey, PKI_FILES.key]) {
    if (pending.some((p) => p.name === name)) continue;
    const old = await tightenMode(path.join(dir, name), KEY_MODE);
    if (old !== undefined) notes.push(`${name} was mode ${octal(old)}: tightened to ${octal(KEY_MODE)}`);
  }

  const fileResult = (name: string, action: FileAction, why: string[] = []): FileResult => ({
    name,
    path: path.join(dir, name),
    action,
    reasons: why,
  });
  const files = [
    fileResult(PKI_FILES.ca, ca),
    fileResult(PKI_FILES.caKey, ca),
    fileResult(PKI_FILES.cert, leaf, reasons),
    fileResult(PKI_FILES.key, leaf, leaf === 'reissued' ? [`new key, with ${PKI_FILES.cert}`] : []),
  ];
  return { dir, ca, leaf, reasons, files, notes, messages: [...notes, ...files.map(fileLine)] };
}

/** `pki` says when the CA cut a new leaf short, and why. */
export function shortenedNote(notAfter: Date, now: Date, validityDays: number): string {
  const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  const date = notAfter.toISOString().slice(0, 10);
  return (
    `${PKI_FILES.cert}: valid until ${date} (${days} day${days === 1 ? '' : 's'}), not the ${validityDays} days of pki.validityDays: ` +
    `a certificate must not outlive the CA that signed it, and ${PKI_FILES.ca} expires ${date}; 'hardway pki rotate-ca' moves the cluster to a new CA`
  );
}

/** Nothing written: the files are the CA rotation's (see rotation.ts). */
function keptForRotation(dir: string, notes: string[]): EnsureResult {
  const files = [PKI_FILES.ca, PKI_FILES.caKey, PKI_FILES.cert, PKI_FILES.key].map((name): FileResult => ({ name, path: path.join(dir, name), action: 'kept', reasons: [] }));
  return { dir, ca: 'kept', leaf: 'kept', reasons: [], files, notes, messages: [...notes, ...files.map(fileLine)] };
}
