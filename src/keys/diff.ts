import { decodeValue } from './decode.js';
import { objectName, resourceName, resourceOf } from './keyspace.js';
import type { KvState, WatchEvent } from '../etcd/watch.js';

/**
 * `hardway keys diff REV [REV2]`: what changed between two revisions, from the events of a watch from REV+1 up
 * to REV2 (etcd/watch.ts). Every revision in between is a write, so every key written is seen, also one created
 * and deleted in between, which comparing two listings would miss. Pure: the diff; reading it is in read.ts.
 */

export type Change = 'created' | 'modified' | 'deleted' | 'created-and-deleted';

export interface KeyChange {
  key: string;
  change: Change;
  /** Writes to the key between the two revisions, and the revisions of the first and the last. */
  writes: number;
  firstWrite: string;
  lastWrite: string;
  /** The key at the first revision (absent when it did not exist then, or etcd no longer had it to send). */
  before?: KvState;
  /** The key at the second revision (absent when it does not exist then). */
  after?: KvState;
  /** The last value the key held in between: what names the object of a deleted key. */
  lastValue?: Uint8Array;
}

/**
 * The net change of every key written in (from, to]. Whether a key existed at `from` is told by its first event:
 * a delete, or a put of a key created at or before `from`, means it did; a put of a key created later means it
 * did not. Its last event tells whether it exists at `to`. Events past `to` (the watch's last response may run
 * on) are left out.
 */
export function diffEvents(events: WatchEvent[], from: bigint, to: bigint): KeyChange[] {
  const byKey = new Map<string, { first: WatchEvent; last: WatchEvent; writes: number; lastValue?: Uint8Array }>();
  for (const e of events) {
    const rev = BigInt(e.kv.modRevision);
    if (rev <= from || rev > to) continue;
    const seen = byKey.get(e.key);
    const lastValue = e.type === 'put' ? e.kv.value : (seen?.lastValue ?? e.prev?.value);
    if (seen) Object.assign(seen, { last: e, writes: seen.writes + 1, ...(lastValue ? { lastValue } : {}) });
    else byKey.set(e.key, { first: e, last: e, writes: 1, ...(lastValue ? { lastValue } : {}) });
  }
  return [...byKey].map(([key, s]) => {
    const existed = s.first.type === 'delete' || BigInt(s.first.kv.createRevision) <= from;
    const exists = s.last.type === 'put';
    const change: Change = existed ? (exists ? 'modified' : 'deleted') : exists ? 'created' : 'created-and-deleted';
    return {
      key,
      change,
      writes: s.writes,
      firstWrite: s.first.kv.modRevision,
      lastWrite: s.last.kv.modRevision,
      ...(existed && s.first.prev ? { before: s.first.prev } : {}),
      ...(exists ? { after: s.last.kv } : {}),
      ...(s.lastValue ? { lastValue: s.lastValue } : {}),
    };
  });
}

/** A change as reported: the key's resource, and the object's kind and name when its value says. */
export interface DiffEntry {
  key: string;
  change: Change;
  writes: number;
  firstWrite: string;
  lastWrite: string;
  resource: string;
  kind?: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
  /** `aescbc key1`: the value is encrypted, so its kind is not known. */
  encrypted?: string;
  before?: { modRevision: string; version: string; size: number };
  after?: { modRevision: string; version: string; size: number };
}

export function describeChange(c: KeyChange): DiffEntry {
  const d = c.lastValue ? decodeValue(c.lastValue) : undefined;
  const fromKey = objectName(c.key);
  const namespace = d?.metadata?.namespace ?? fromKey.namespace;
  const name = d?.metadata?.name ?? fromKey.name;
  const state = (s: KvState) => ({ modRevision: s.modRevision, version: s.version, size: s.value.length });
  return {
    key: c.key,
    change: c.change,
    writes: c.writes,
    firstWrite: c.firstWrite,
    lastWrite: c.lastWrite,
    resource: resourceName(resourceOf(c.key)),
    ...(d?.kind ? { kind: d.kind } : {}),
    ...(d?.apiVersion ? { apiVersion: d.apiVersion } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    ...(d?.encryption ? { encrypted: `${d.encryption.provider} ${d.encryption.keyName}` } : {}),
    ...(c.before ? { before: state(c.before) } : {}),
    ...(c.after ? { after: state(c.after) } : {}),
  };
}

export interface DiffResult {
  from: string;
  to: string;
  counts: Record<Change, number>;
  changes: DiffEntry[];
}

export function diffResult(events: WatchEvent[], from: string, to: string): DiffResult {
  const changes = diffEvents(events, BigInt(from), BigInt(to))
    .map(describeChange)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const counts: Record<Change, number> = { created: 0, modified: 0, deleted: 0, 'created-and-deleted': 0 };
  for (const c of changes) counts[c.change]++;
  return { from, to, counts, changes };
}
