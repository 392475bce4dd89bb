import path from 'node:path';
import { UsageError } from '../errors.js';
import { clientUrl } from '../inventory/derive.js';
import type { Inventory } from '../inventory/types.js';
import { PKI_FILES } from '../pki/files.js';
import { shq } from '../ssh/remote.js';

/** `hardway env`: the ETCDCTL_* variables for etcdctl on this machine, with pki.dir's files. Pure. */

export const SHELLS = ['sh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** Name and value, in the order printed. Only paths: the key's content never leaves its file. */
export function etcdctlEnv(inv: Inventory): [string, string][] {
  if (!inv.etcd.tls) {
    // Nothing of it can be reached from here: that is the point of plain HTTP on loopback.
    throw new UsageError(`etcd listens on ${inv.nodes[0]?.name ?? 'the server'}'s loopback only (etcd.tls: false in ${inv.file}): run etcdctl there with 'hardway etcdctl -- ARGS…'`);
  }
  const dir = path.resolve(inv.pki.dir);
  return [
    ['ETCDCTL_API', '3'],
    ['ETCDCTL_ENDPOINTS', inv.nodes.map(clientUrl).join(',')],
    ['ETCDCTL_CACERT', path.join(dir, PKI_FILES.ca)],
    ['ETCDCTL_CERT', path.join(dir, PKI_FILES.cert)],
    ['ETCDCTL_KEY', path.join(dir, PKI_FILES.key)],
  ];
}

const fishQuote = (s: string) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
const psQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The lines that set `vars` in `shell`, to be eval'd (`eval "$(hardway env)"`, `hardway env --shell fish | source`). */
export function renderEnv(vars: [string, string][], shell: Shell): string {
  const line = ([k, v]: [string, string]) => {
    if (shell === 'fish') return `set -gx ${k} ${fishQuote(v)};`;
    if (shell === 'powershell') return `$Env:${k} = ${psQuote(v)}`;
    return `export ${k}=${shq(v)}`;
  };
  return vars.map(line).join('\n');
}
