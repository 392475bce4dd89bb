import { formatBytes, renderColumns, renderTable } from '../output.js';
import type { Change, DiffResult } from './diff.js';
import { ENCRYPTION_FIX, secretName, type EncryptionReport } from './encryption.js';
import type { Listing } from './read.js';
import type { KeyStats } from './stats.js';

/** What `hardway keys` prints for people (`--json` prints the structures themselves). Pure. */

export function renderList(l: Listing, prefix: string): string {
  const rows = l.keys.map((k) => [k.key, k.createRevision, k.modRevision, k.version, k.lease ?? '', formatBytes(k.size)]);
  const where = prefix ? ` under ${JSON.stringify(prefix)}` : '';
  const summary = `${l.keys.length} key${l.keys.length === 1 ? '' : 's'}${where} at revision ${l.revision} (hardway keys diff ${l.revision} shows what changes after it)`;
  return `${rows.length ? `${renderColumns(['KEY', 'CREATED', 'MODIFIED', 'VERSION', 'LEASE', 'SIZE'], rows)}\n` : ''}${summary}\n`;
}

export function renderStats(s: KeyStats, revision: string, prefix: string): string {
  const table = (groups: KeyStats['groups'], leased: boolean) =>
    renderTable(
      ['RESOURCE', 'KEYS', ...(leased ? ['LEASES'] : []), 'BYTES', 'LARGEST', 'SIZE'],
      groups.map((g) => [g.outside ? `${g.resource} (not /registry/)` : g.resource, g.count, ...(leased ? [g.leases ?? 0] : []), formatBytes(g.bytes), g.largest.key, formatBytes(g.largest.size)]),
    );
  const stored = s.groups.filter((g) => !g.leased);
  const leased = s.groups.filter((g) => g.leased);
  const where = prefix ? ` under ${JSON.stringify(prefix)}` : '';
  const out = [`${s.count} keys${where}, ${formatBytes(s.bytes)} of values, at revision ${revision}`];
  if (stored.length) out.push(table(stored, false));
  if (leased.length) {
    out.push(`With a lease (deleted when it expires: events, mostly): ${s.leasedCount} keys, ${formatBytes(s.leasedBytes)}`);
    out.push(table(leased, true));
  }
  return `${out.join('\n')}\n`;
}

const CHANGE_LABEL: Record<Change, string> = { created: 'created', modified: 'modified', deleted: 'deleted', 'created-and-deleted': 'created+deleted' };

export function renderDiff(d: DiffResult): string {
  const rows = d.changes.map((c) => {
    const object = c.kind ? `${c.kind}${c.apiVersion ? ` (${c.apiVersion})` : ''}` : c.encrypted ? `encrypted (${c.encrypted})` : '';
    const name = c.kind || c.encrypted ? [c.namespace, c.name].filter(Boolean).join('/') : '';
    const revs = c.firstWrite === c.lastWrite ? c.firstWrite : `${c.firstWrite}…${c.lastWrite}`;
    return [CHANGE_LABEL[c.change], c.key, object, name, String(c.writes), revs];
  });
  const n = d.counts;
  const summary = `from revision ${d.from} to ${d.to}: ${n.created} created, ${n.modified} modified, ${n.deleted} deleted, ${n['created-and-deleted']} created and deleted in between`;
  return `${rows.length ? `${renderColumns(['CHANGE', 'KEY', 'OBJECT', 'NAME', 'WRITES', 'AT REVISION'], rows)}\n` : ''}${summary}\n`;
}

export function renderEncryption(r: EncryptionReport): string {
  if (r.total === 0) return `no secrets under /registry/secrets/ at revision ${r.revision}\n`;
  const out = [`${r.total} secret${r.total === 1 ? '' : 's'} at revision ${r.revision}: ${r.encrypted} encrypted, ${r.unencrypted.length} not`];
  if (r.keys.length) out.push(renderTable(['PROVIDER', 'KEY', 'SECRETS'], r.keys.map((k) => [`${k.provider} ${k.version}`, k.keyName, k.count])));
  if (r.unencrypted.length) {
    out.push('Not encrypted at rest:');
    for (const s of r.unencrypted) out.push(`  ${secretName(s)} (${s.format}, ${formatBytes(s.size)})`);
    out.push('', ...ENCRYPTION_FIX);
  }
  return `${out.join('\n')}\n`;
}
