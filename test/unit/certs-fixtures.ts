import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Host } from '../../src/engine/hosts.js';
import { validateInventory } from '../../src/inventory/validate.js';
import type { Inventory } from '../../src/inventory/types.js';
import { buildCa, buildLeaf } from '../../src/pki/certs.js';
import { generateRsaKey } from '../../src/pki/keys.js';
import { REMOTE_PATHS } from '../../src/render/paths.js';
import { FakeEtcd, scriptedRemote, type ScriptedRemote } from './scripted-remote.js';

/** Certificates, inventories and scripted nodes for the certificate tests (renew, rotate-ca, verify's checks). */

export const DAY = 86_400_000;
export const NOW = new Date('2026-06-01T12:00:00Z');

/** A CA whose key is `key`, valid from 30 days before NOW for `days` after NOW (or the window given). */
export function caOf(key: string, days = 1825, window: { notBefore?: Date; notAfter?: Date } = {}): string {
  return buildCa({ keyPem: key, now: NOW, validityDays: days, notBefore: window.notBefore ?? new Date(NOW.getTime() - 30 * DAY), ...(window.notAfter ? { notAfter: window.notAfter } : {}) });
}

export interface Leaf {
  ips?: string[];
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
}

export function leafOf(ca: string, caKey: string, key: string, o: Leaf = {}): string {
  return buildLeaf({
    keyPem: key,
    caPem: ca,
    caKeyPem: caKey,
    sans: { ips: o.ips ?? ['10.240.0.10', '10.240.0.11', '10.240.0.12', '127.0.0.1'], dns: [] },
    now: NOW,
    validityDays: o.days ?? 365,
    ...(o.notBefore ? { notBefore: o.notBefore } : {}),
    ...(o.notAfter ? { notAfter: o.notAfter } : {}),
  });
}

let keys: Promise<[string, string, string, string]> | undefined;
/** Four RSA keys made once per test file (CA A, CA B, leaf, spare). */
export function testKeys(): Promise<[string, string, string, string]> {
  keys ??= Promise.all([generateRsaKey(2048), generateRsaKey(2048), generateRsaKey(2048), generateRsaKey(2048)]);
  return keys;
}

/** A 3-node inventory whose pki.dir is a fresh temp dir (not created). */
export function testInventory(): Inventory {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hardway-certs-'));
  const text =
    `cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\npki:\n  dir: ${path.join(dir, 'pki')}\nnodes:\n` +
    [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join('');
  return validateInventory(text, { file: path.join(dir, 'inventory.yaml') }).inventory!;
}

export const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** What a node has in /etc/etcd. */
export interface NodeFiles {
  trust: string;
  leaf: string;
  key: string;
}

const b64 = (s: string | Buffer | undefined) => (s === undefined ? '-' : Buffer.from(s).toString('base64'));

/**
 * Three scripted nodes over one FakeEtcd: each answers the installed-certificates script from what it holds
 * (uploads included), `cat` of its key, and the rename of a leaf and key uploaded under temporary names.
 */
export function certLab(inv: Inventory, files: NodeFiles[], opts: { active?: string[] } = {}) {
  const log: string[] = [];
  const etcd = new FakeEtcd(inv.nodes.map((n, i) => ({ name: n.name, ip: n.internalIp, id: BigInt(0x100 + i) })));
  const remotes: ScriptedRemote[] = inv.nodes.map((n, i) => {
    const r = scriptedRemote(n.name, log);
    r.files.set(REMOTE_PATHS.caCert, Buffer.from(files[i]!.trust));
    r.files.set(REMOTE_PATHS.cert, Buffer.from(files[i]!.leaf));
    r.files.set(REMOTE_PATHS.key, Buffer.from(files[i]!.key));
    const get = (p: string) => r.files.get(p) as Buffer | undefined;
    r.rules.push(
      [
        /echo "TRUST/,
        () => ({
          stdout: [`TRUST ${b64(get(REMOTE_PATHS.caCert))}`, `LEAF ${b64(get(REMOTE_PATHS.cert))}`, `KEY ${get(REMOTE_PATHS.key) ? sha256(get(REMOTE_PATHS.key)!) : '-'}`, `ACTIVE ${opts.active?.[i] ?? (etcd.down.has(n.internalIp) ? 'inactive' : 'active')}`].join('\n'),
        }),
      ],
      [/^cat \/etc\/etcd\/kubernetes-key\.pem$/, () => ({ stdout: get(REMOTE_PATHS.key)!.toString() })],
      [
        /^mv -f .*hardway-new/,
        (c) => {
          for (const [, from, to] of c.matchAll(/mv -f (\S+) (\S+)/g)) {
            r.files.set(to!, r.files.get(from!)!);
            r.files.delete(from!);
          }
          return {};
        },
      ],
      ...etcd.rules(n.name, n.internalIp),
    );
    return r;
  });
  const text = (i: number, p: string) => (remotes[i]!.files.get(p) as Buffer).toString();
  return { log, etcd, remotes, text };
}

/** Hosts connected to the scripted nodes (what connectStep does), for a run's `connect`. */
export function connectTo(remotes: ScriptedRemote[]) {
  return async () => remotes.map((remote) => ({ remote }));
}

export function writePki(dir: string, files: Partial<Record<'ca.pem' | 'ca-key.pem' | 'kubernetes.pem' | 'kubernetes-key.pem', string>>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: name.includes('key') ? 0o600 : 0o644 });
}

export const commandsOn = (log: string[], re: RegExp) => log.filter((l) => re.test(l)).map((l) => l.split(':')[0]!);
export type { Host };
