import path from 'node:path';
import { formatBytes, renderTable } from '../output.js';
import type { SnapshotFacts } from './store.js';

/** How `snapshot status` and `snapshot list` show what is known of a file. Pure. */

/**
 * What the manifest's `totalKeys` counts: etcd's `snapshot status` totalKey, the records in the snapshot's database —
 * every revision of every key not yet compacted away, and etcd's own records (members, leases, meta). It is not the
 * number of keys `hardway keys list` shows (the live keys at one revision).
 */
export const DB_ENTRIES_MEANING = "records in the snapshot's database (etcd's totalKey): every revision of every key not yet compacted, plus etcd's own records; not the live keys 'hardway keys list' counts";

/** `7 database entries`: the manifest's totalKeys in words that say what it counts. */
export const dbEntries = (n: number) => `${n} database entr${n === 1 ? 'y' : 'ies'}`;

export function statusText(f: SnapshotFacts): string[] {
  const m = f.manifest;
  const i = f.integrity;
  const lines = [`${f.file}`, `  size       ${formatBytes(i.size)} (${i.size} bytes)`, `  sha256     ${i.sha256}`];
  if (m) {
    lines.push(
      `  taken      ${m.time} from ${m.member.name} (${m.member.id})`,
      `  cluster    ${m.clusterId}, token ${m.token}, etcd ${m.etcdVersion}`,
      `  revision   ${m.revision}`,
      `  entries    ${m.totalKeys}: ${DB_ENTRIES_MEANING}`,
      `  hash       ${m.hash}`,
    );
  } else {
    lines.push(`  manifest   none (${path.basename(f.file)}.json): only the file itself is checked`);
  }
  lines.push(f.problem ? `  verdict    DAMAGED: ${f.problem}` : `  verdict    ok: etcd's integrity hash matches${m ? ', and the file is the one its manifest describes' : ''}`);
  return lines;
}

export function statusJson(f: SnapshotFacts) {
  return { file: f.file, ok: !f.problem, verdict: f.verdict, ...(f.problem ? { problem: f.problem } : {}), size: f.integrity.size, sha256: f.integrity.sha256, hasHash: f.integrity.hasHash, ...(f.manifest ? { manifest: f.manifest } : {}) };
}

/**
 * One row per file; NAME is what `snapshot status NAME` and `snapshot restore NAME` take: the bare name in
 * snapshots.dir, else (`--dir`) the path. `-` where the manifest is missing.
 */
export function listTable(all: SnapshotFacts[], opts: { dir?: string } = {}): string {
  const name = (f: SnapshotFacts) => (opts.dir !== undefined ? path.join(opts.dir, path.basename(f.file)) : path.basename(f.file));
  const table = renderTable(
    ['TIME', 'NAME', 'REVISION', 'DB ENTRIES', 'SIZE', 'MEMBER', 'VERDICT'],
    all.map((f) => [
      f.manifest?.time ?? `${f.mtime.toISOString()} (file)`,
      name(f),
      f.manifest?.revision ?? '-',
      f.manifest?.totalKeys ?? '-',
      formatBytes(f.integrity.size),
      f.manifest?.member.name ?? '-',
      f.problem ? `DAMAGED: ${f.problem}` : f.verdict,
    ]),
  );
  return `${table}\nDB ENTRIES: ${DB_ENTRIES_MEANING}`;
}
