import { createHash, createHmac } from 'node:crypto';

/**
 * OpenSSH known_hosts, pure: parse, look up (plain and hashed `|1|salt|hash` entries, `[host]:port`,
 * comma lists, wildcards, negation, @revoked), fingerprint, and format a new entry.
 */

export interface KnownHostEntry {
  line: number;
  marker?: '@cert-authority' | '@revoked';
  /** Host patterns (comma list) or one hashed `|1|salt|hash`. */
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The key blob (base64-decoded). */
  key: Buffer;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@cert-authority' || fields[0] === '@revoked') marker = fields.shift() as KnownHostEntry['marker'];
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) return;
    const entry: KnownHostEntry = { line: i + 1, patterns: hosts.split(','), keyType, key: Buffer.from(keyB64, 'base64') };
    if (marker) entry.marker = marker;
    const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(hosts);
    if (m) entry.hashed = { salt: Buffer.from(m[1]!, 'base64'), hash: Buffer.from(m[2]!, 'base64') };
    entries.push(entry);
  });
  return entries;
}

/** How OpenSSH names a host in known_hosts: `host`, or `[host]:port` when the port is not 22. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function entryMatchesHost(entry: KnownHostEntry, token: string): boolean {
  if (entry.hashed) {
    const h = createHmac('sha1', entry.hashed.salt).update(token).digest();
    return h.equals(entry.hashed.hash);
  }
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(token)) return false;
    } else if (globToRegExp(p).test(token)) {
      matched = true;
    }
  }
  return matched;
}

/** The type name inside an SSH key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, …). */
export function keyBlobType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's `SHA256:` fingerprint of a key blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyVerdict =
  | { status: 'match'; line: number }
  | { status: 'unknown' }
  | { status: 'changed'; lines: number[] }
  | { status: 'revoked'; line: number };

/**
 * Checks a presented key against the entries for a host. Like OpenSSH: any entry with the same key is a match;
 * entries for the host with only other keys of the same type mean the key changed; a host known only by keys of
 * other types is treated as changed too (OpenSSH warns and refuses with StrictHostKeyChecking).
 */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const tokens = [hostToken(host, port)];
  const forHost = entries.filter((e) => tokens.some((t) => entryMatchesHost(e, t)));
  const revoked = forHost.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const plain = forHost.filter((e) => !e.marker);
  const match = plain.find((e) => e.key.equals(key));
  if (match) return { status: 'match', line: match.line };
  if (plain.length) return { status: 'changed', lines: plain.map((e) => e.line) };
  return { status: 'unknown' };
}

/** One known_hosts line for a host and key blob. */
export function formatKnownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hostToken(host, port)} ${keyBlobType(key)} ${key.toString('base64')}`;
}
