import { parseEtcdJson } from './etcdctl.js';
import { decodeKey } from './sized-get.js';

/**
 * `etcdctl watch --prefix --rev=REV --prev-kv -w json ""`: the script that bounds it, and its output read into
 * events. Pure; running it is in kv.ts.
 */

export interface KvState {
  createRevision: string;
  modRevision: string;
  version: string;
  value: Uint8Array;
  lease?: string;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** For a delete, only modRevision is set (etcd sends the key and the revision of the delete). */
  kv: KvState;
  prev?: KvState;
}

export interface WatchOutput {
  events: WatchEvent[];
  /** The server cancelled the watch (a compacted start revision, most often). */
  canceled: boolean;
  /** Set when the start revision was compacted: the revision etcd compacted at. */
  compactRevision?: string;
}

type Num = string | number;
interface RawKv {
  key?: string;
  value?: string;
  create_revision?: Num;
  mod_revision?: Num;
  version?: Num;
  lease?: Num;
}
interface RawResponse {
  Events?: { type?: Num; kv?: RawKv; prev_kv?: RawKv }[];
  CompactRevision?: Num;
  Canceled?: boolean;
}

function kvState(kv: RawKv): KvState {
  return {
    createRevision: String(kv.create_revision ?? 0),
    modRevision: String(kv.mod_revision ?? 0),
    version: String(kv.version ?? 0),
    value: new Uint8Array(Buffer.from(kv.value ?? '', 'base64')),
    ...(kv.lease !== undefined && String(kv.lease) !== '0' ? { lease: BigInt(kv.lease).toString(16) } : {}),
  };
}

/** etcdctl's watch prints one JSON line per watch response (`Header`, `Events`, `CompactRevision`, `Canceled`). */
export function parseWatchOutput(stdout: string): WatchOutput {
  const out: WatchOutput = { events: [], canceled: false };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = parseEtcdJson<RawResponse>(line);
    for (const e of r.Events ?? []) {
      // PUT is 0, which JSON leaves out; DELETE is 1.
      const type = e.type === 1 || e.type === '1' || e.type === 'DELETE' ? 'delete' : 'put';
      const ev: WatchEvent = { type, key: decodeKey(e.kv?.key ?? '').key, kv: kvState(e.kv ?? {}) };
      if (e.prev_kv) ev.prev = kvState(e.prev_kv);
      out.events.push(ev);
    }
    if (r.Canceled) out.canceled = true;
    if (r.CompactRevision !== undefined && String(r.CompactRevision) !== '0') out.compactRevision = String(r.CompactRevision);
  }
  return out;
}

/** How far one line of watch output goes, without parsing it: the highest mod_revision in it, and whether it cancels. */
export function watchLineProgress(line: string): { revision: bigint; canceled: boolean } {
  let revision = 0n;
  for (const m of line.matchAll(/"mod_revision":(\d+)/g)) if (BigInt(m[1]!) > revision) revision = BigInt(m[1]!);
  return { revision, canceled: /"Canceled":true/.test(line) };
}

/**
 * A watch bounded by the node's `timeout`, and stopped from the caller's side: the script kills it when its stdin
 * ends, which the caller does once it has every event it wants (a watch never ends by itself). `watch` is an
 * etcdctl command line (it may start with VAR=value: `env` runs it).
 */
export function boundedWatchScript(watch: string, timeoutS: number): string {
  return ['exec 3<&0', `timeout ${timeoutS} env ${watch} &`, 'w=$!', '{ cat >/dev/null; kill "$w"; } <&3 >/dev/null 2>&1 &', 'wait "$w"'].join('\n');
}
