import { UsageError } from '../errors.js';
import type { GetRequest } from '../etcd/get.js';

/**
 * The shape of the keyspace kube-apiserver writes, and how a prefix is read in pages. Pure.
 *
 * Keys are `/registry/<resource>/<namespace>/<name>` (cluster-scoped: `/registry/<resource>/<name>`); resources of
 * an API group stored under its own prefix — custom resources, and the aggregator's and apiextensions' own — are
 * `/registry/<group>/<resource>/…`, told apart by the dot every group name but the core ones has.
 */

export interface KeyResource {
  /** `pods`, `certificates`, `services/specs`; for a key outside /registry/, its first path segment. */
  resource: string;
  /** The API group when the key carries it (`cert-manager.io`). */
  group?: string;
  /** What follows the resource: `<namespace>/<name>` or `<name>`. */
  rest: string;
  /** The key is not under /registry/. */
  outside?: true;
}

const REGISTRY = '/registry/';
// Services and Endpoints share /registry/services/: Services under specs/, Endpoints under endpoints/.
const SPLIT_RESOURCES = new Set(['services']);

export function resourceOf(key: string): KeyResource {
  if (!key.startsWith(REGISTRY)) {
    const seg = key.startsWith('/') ? `/${key.slice(1).split('/')[0]}` : key.split('/')[0]!;
    return { resource: seg, rest: key.slice(seg.length).replace(/^\//, ''), outside: true };
  }
  const parts = key.slice(REGISTRY.length).split('/');
  const first = parts[0] ?? '';
  if (first.includes('.') && parts.length > 1) return { resource: parts[1]!, group: first, rest: parts.slice(2).join('/') };
  if (SPLIT_RESOURCES.has(first) && parts.length > 2) return { resource: `${first}/${parts[1]}`, rest: parts.slice(2).join('/') };
  return { resource: first, rest: parts.slice(1).join('/') };
}

/** `certificates.cert-manager.io`, as kubectl names a resource of a group; the resource alone otherwise. */
export function resourceName(r: KeyResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** `<namespace>/<name>` or `<name>` of a key under its resource. */
export function objectName(key: string): { namespace?: string; name: string } {
  const { rest } = resourceOf(key);
  const i = rest.indexOf('/');
  return i < 0 ? { name: rest } : { namespace: rest.slice(0, i), name: rest.slice(i + 1) };
}

/**
 * The end of a prefix's range (etcd's own rule: the last byte below 0xff incremented, what follows dropped), when
 * it can be passed as an argument: valid UTF-8 without NUL. Otherwise undefined: read `--from-key` and stop at the
 * first key outside the prefix.
 */
export function prefixRangeEnd(prefix: string): string | undefined {
  const b = Buffer.from(prefix, 'utf8');
  let i = b.length - 1;
  while (i >= 0 && b[i] === 0xff) i--;
  if (i < 0) return undefined;
  const end = Buffer.from(b.subarray(0, i + 1));
  end[i]! += 1;
  const text = end.toString('utf8');
  return Buffer.from(text, 'utf8').equals(end) && !text.includes('\0') ? text : undefined;
}

export interface PageRequest {
  /** The read of this page. */
  get: GetRequest;
  /** The first key returned is `after` itself (the range starts at it): drop it. */
  dropFirst: boolean;
}

/**
 * One page of a prefix: from the prefix, or from the last key of the page before (inclusive, as etcd ranges
 * start: that key comes back first and is dropped), to the prefix's range end. `rev` pins every page to the
 * revision of the first, so that the listing is one consistent snapshot.
 */
export function pageRequest(prefix: string, limit: number, opts: { after?: string; rev?: string } = {}): PageRequest {
  const key = opts.after ?? prefix;
  const end = prefixRangeEnd(prefix);
  const range = prefix === '' || end === undefined ? { fromKey: true } : { end };
  return { get: { key, ...range, limit: opts.after !== undefined ? limit + 1 : limit, ...(opts.rev ? { rev: opts.rev } : {}) }, dropFirst: opts.after !== undefined };
}

export const PAGE = { first: 1000, min: 100, max: 10_000, targetBytes: 16 * 1024 * 1024 };

/**
 * The next page's key count: what would have made this page about `targetBytes` of values, at most double and at
 * least half of this one, within [min, max]. etcdctl holds a page (values included) in memory, twice over as JSON:
 * this keeps it near 16 MB whether values are 100 bytes or 1 MB.
 */
export function nextPageSize(limit: number, keys: number, valueBytes: number): number {
  if (keys === 0) return limit;
  const perKey = Math.max(valueBytes / keys, 1);
  const ideal = Math.round(PAGE.targetBytes / perKey);
  return Math.min(PAGE.max, Math.max(PAGE.min, Math.min(limit * 2, Math.max(Math.floor(limit / 2), ideal))));
}

/** A revision argument: a positive integer, kept as its decimal string (revisions are int64). */
export function parseRevision(what: string, value: string): string {
  const v = value.trim();
  if (!/^[1-9][0-9]*$/.test(v) || BigInt(v) > 2n ** 63n - 1n) throw new UsageError(`${what} must be a positive integer (a revision), got '${value}'`);
  return v;
}
