import { X509Certificate } from 'node:crypto';
import { formatBytes } from '../output.js';

/**
 * What `plan` shows for a file that differs and is not a unit (units: unit-diff.ts). Pure. Certificates as the
 * fields a person checks (subject, issuer, serial, expiry, SANs), binaries as what they are; a private key's
 * content is never shown.
 */

function certFields(pem: string): Map<string, string> | undefined {
  try {
    const x = new X509Certificate(pem);
    return new Map([
      ['subject', x.subject.replace(/\n/g, ', ')],
      ['issuer', x.issuer.replace(/\n/g, ', ')],
      ['serial', x.serialNumber],
      ['not after', x.validTo],
      ['SANs', x.subjectAltName ?? '(none)'],
      ['SHA-256 fingerprint', x.fingerprint256],
    ]);
  } catch {
    return undefined;
  }
}

/** `- serial: 01` / `+ serial: 02` for each field that differs; one line when the node's file is not a certificate. */
export function certDiffLines(installed: string, wanted: string): string[] {
  const [a, b] = [certFields(installed), certFields(wanted)];
  if (!b) return [];
  if (!a) return ["- (the node's file is not a readable certificate)", ...[...b].map(([k, v]) => `+ ${k}: ${v}`)];
  return [...b.keys()].flatMap((k) => (a.get(k) === b.get(k) ? [] : [`- ${k}: ${a.get(k)}`, `+ ${k}: ${b.get(k)}`]));
}

export function keyDiffLines(): string[] {
  return ['(a private key: its content is never shown)'];
}

/** The node's binary (its `--version` first line) against the release's (its SHA-256 and size). */
export function binaryDiffLines(installedVersion: string | undefined, wanted: { sha256: string; size: number }, release: string): string[] {
  return [`- ${installedVersion?.trim() || 'a binary that does not run or say its version'}`, `+ etcd ${release}'s (${formatBytes(wanted.size)}, SHA-256 ${wanted.sha256.slice(0, 12)}…)`];
}
