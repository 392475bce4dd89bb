import { OperationError } from '../errors.js';
import { EtcdctlError } from '../etcd/errors.js';
import type { EtcdGetResult, GetRequest } from '../etcd/get.js';
import { getKeys, getSizes, watchUntil, type KvTarget } from '../etcd/kv.js';
import type { KeyInfo } from '../etcd/sized-get.js';
import { diffResult, type DiffResult } from './diff.js';
import { nextPageSize, PAGE, pageRequest } from './keyspace.js';

/**
 * What `hardway keys` reads from the cluster, through etcdctl on the member that answered (askCluster): every
 * value as `-w json` (base64), never through a terminal; listings in pages with the values reduced to their
 * sizes on the node; diffs from a watch that is stopped once it has reached the revision asked for.
 */

/** The node that reads, and every inventory endpoint (etcdctl picks one that answers). */
export type Asker = KvTarget;

/** A revision etcd no longer has: it compacted the history before it. */
export class CompactedError extends OperationError {
  constructor(
    readonly revision: string,
    readonly compactRevision?: string,
  ) {
    super(
      `revision ${revision} has been compacted` +
        (compactRevision
          ? `: the oldest revision still available is ${compactRevision} (etcd compacted its history up to ${compactRevision}; kube-apiserver compacts every 5 minutes)`
          : ' (etcd: required revision has been compacted)'),
    );
  }
}

const isCompacted = (why: string) => /required revision has been compacted/.test(why);

/** A read, with etcdctl's failure said in the keys' own words: a compacted or future `rev`, else the node and etcdctl's message. */
async function reading<T>(a: Asker, read: () => Promise<T>, rev?: string): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (!(e instanceof EtcdctlError)) throw e;
    if (rev && isCompacted(e.reason)) throw new CompactedError(rev, await compactedAt(a, rev));
    if (rev && /required revision is a future revision/.test(e.reason)) throw new OperationError(`revision ${rev} is after the cluster's current revision`);
    throw new OperationError(`${a.remote.name}: ${e.message}`);
  }
}

const getOne = (a: Asker, req: GetRequest, what: string) => reading(a, () => getKeys(a, req, what), req.rev);

export interface Listing {
  revision: string;
  keys: KeyInfo[];
}

/**
 * Every key under `prefix` with its size (and first `headBytes` bytes), at one revision: the first page's unless
 * `rev` is given. Pages are sized to hold about 16 MB of values each (see nextPageSize).
 */
export async function listKeys(a: Asker, prefix: string, opts: { rev?: string; headBytes?: number } = {}): Promise<Listing> {
  const keys: KeyInfo[] = [];
  let rev = opts.rev;
  let after: string | undefined;
  let limit: number = PAGE.first;
  for (;;) {
    const req = pageRequest(prefix, limit, { ...(after !== undefined ? { after } : {}), ...(rev ? { rev } : {}) });
    const page = await reading(a, () => getSizes(a, req.get, `etcdctl get ${JSON.stringify(prefix)}`, opts.headBytes), rev);
    rev ??= page.revision;
    const got = req.dropFirst && page.kvs[0]?.key === after ? page.kvs.slice(1) : page.kvs;
    // Read --from-key (a prefix whose range end cannot be an argument): the first key past the prefix ends it.
    const inside = got.filter((k) => k.key.startsWith(prefix));
    keys.push(...inside);
    if (!page.more || inside.length < got.length || got.length === 0) return { revision: rev, keys };
    const last = page.kvs.at(-1)!;
    if (last.binaryKey) throw new OperationError(`cannot read past the key ${JSON.stringify(last.key)}: it is not UTF-8, and etcdctl takes keys as arguments`);
    after = last.key;
    limit = nextPageSize(limit, page.kvs.length, page.kvs.reduce((n, k) => n + k.size, 0));
  }
}

/** One key with its value; undefined when it does not exist (at `rev`). */
export async function getKey(a: Asker, key: string, rev?: string): Promise<{ result: EtcdGetResult; kv?: EtcdGetResult['kvs'][number] }> {
  const result = await getOne(a, { key, ...(rev ? { rev } : {}) }, `etcdctl get ${JSON.stringify(key)}`);
  const kv = result.kvs.find((k) => k.key === key);
  return { result, ...(kv ? { kv } : {}) };
}

/** The cluster's current revision (the header of the smallest read there is). */
export async function currentRevision(a: Asker): Promise<string> {
  return (await getOne(a, { key: '', fromKey: true, limit: 1, keysOnly: true }, 'etcdctl get (revision)')).revision;
}

/** The revision etcd compacted at, when `rev` is before it (a watch from `rev` is cancelled and says so). */
export async function compactedAt(a: Asker, rev: string): Promise<string | undefined> {
  return (await watchUntil(a, rev, BigInt(rev), 10)).out.compactRevision;
}

export const DIFF_TIMEOUT_S = 60;

/** What changed between `from` and `to` (default: now). */
export async function diffRevisions(a: Asker, from: string, to?: string, timeoutS = DIFF_TIMEOUT_S): Promise<DiffResult> {
  const now = await currentRevision(a);
  const end = to ?? now;
  if (BigInt(from) > BigInt(now)) throw new OperationError(`revision ${from} is after the cluster's current revision ${now}`);
  if (BigInt(end) > BigInt(now)) throw new OperationError(`revision ${end} is after the cluster's current revision ${now}`);
  if (BigInt(from) >= BigInt(end)) return diffResult([], from, end);
  const start = String(BigInt(from) + 1n);
  const { out, reached, timedOut, reason } = await watchUntil(a, start, BigInt(end), timeoutS);
  if (out.compactRevision) throw new CompactedError(from, out.compactRevision);
  if (!reached) {
    const last = out.events.at(-1)?.kv.modRevision ?? from;
    const why = timedOut ? `timed out after ${timeoutS} s` : reason;
    throw new OperationError(`${a.remote.name}: etcdctl watch from ${start} stopped at revision ${last} before ${end}: ${why}`);
  }
  return diffResult(out.events, from, end);
}
