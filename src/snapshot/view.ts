import path from 'node:path';
import { renderTable } from '../output.js';
import type { SnapshotFacts } from './store.js';

/** How `snapshot status` and `snapshot list` show what is known of a file. Pure. */

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export function statusText(f: SnapshotFacts): string[] {
  const m = f.manifest;
  const i = f.integrity;
  const lines = [`${f.file}`, `  size       ${mb(i.size)} (${i.size} bytes)`, `  sha256     ${i.sha256}`];
  if (m) {
    lines.push(
      `  taken      ${m.time} from ${m.member.name} (${m.member.id})`,
      `  cluster    ${m.clusterId}, token ${m.token}, etcd ${m.etcdVersion}`,
      `  revision   ${m.revision}`,
      `  keys       ${m.totalKeys}`,
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

export function listTable(all: SnapshotFacts[]): string {
  return renderTable(
    ['TIME', 'FILE', 'REVISION', 'KEYS', 'SIZE', 'MEMBER', 'VERDICT'],
    all.map((f) => [
      f.manifest?.time ?? `${f.mtime.toISOString()} (file)`,
      path.basename(f.file),
      f.manifest?.revision ?? '',
      f.manifest?.totalKeys ?? '',
      mb(f.integrity.size),
      f.manifest?.member.name ?? '',
      f.problem ? `DAMAGED: ${f.problem}` : f.verdict,
    ]),
  );
}
