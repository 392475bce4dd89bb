import { idHex, parseEtcdJson } from './etcdctl.js';

/**
 * `etcdctl get -w json`: its arguments from a typed request, and its output: keys and values base64, IDs and lease IDs uint64 (read by parseEtcdJson without
 * rounding). Revisions are kept as decimal strings, as a resourceVersion is.
 */

export interface EtcdKv {
  key: string;
  value: Uint8Array;
  createRevision: string;
  modRevision: string;
  version: string;
  /** The lease ID in hex, as `etcdctl lease list` shows it; absent when the key has no lease. */
  lease?: string;
}

export interface EtcdGetResult {
  clusterId: string;
  memberId: string;
  revision: string;
  raftTerm: string;
  kvs: EtcdKv[];
  count: number;
  more: boolean;
}

type Num = string | number;

interface RawGet {
  header?: { cluster_id?: Num; member_id?: Num; revision?: Num; raft_term?: Num };
  kvs?: { key?: string; value?: string; create_revision?: Num; mod_revision?: Num; version?: Num; lease?: Num }[];
  count?: Num;
  more?: boolean;
}

const dec = (n: Num | undefined): string => String(n ?? 0);
const b64 = (s: string | undefined): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64'));

export function parseEtcdGet(stdout: string): EtcdGetResult {
  const raw = parseEtcdJson<RawGet>(stdout);
  const h = raw.header ?? {};
  return {
    clusterId: idHex(h.cluster_id),
    memberId: idHex(h.member_id),
    revision: dec(h.revision),
    raftTerm: dec(h.raft_term),
    kvs: (raw.kvs ?? []).map((kv) => ({
      key: Buffer.from(kv.key ?? '', 'base64').toString('utf8'),
      value: b64(kv.value),
      createRevision: dec(kv.create_revision),
      modRevision: dec(kv.mod_revision),
      version: dec(kv.version),
      ...(kv.lease !== undefined && String(kv.lease) !== '0' ? { lease: idHex(kv.lease) } : {}),
    })),
    count: Number(raw.count ?? 0),
    more: !!raw.more,
  };
}

/** A read of the keyspace: one key, a range [key, end), or every key from `key` on. */
export interface GetRequest {
  key: string;
  /** The end of the range, not included. */
  end?: string;
  /** Every key from `key` on (a prefix whose range end cannot be an argument). */
  fromKey?: boolean;
  limit?: number;
  rev?: string;
  keysOnly?: boolean;
}

/** The arguments of `etcdctl get -w json` for a request. Pure. */
export function getArgs(req: GetRequest): string[] {
  return [
    '-w',
    'json',
    ...(req.keysOnly ? ['--keys-only'] : []),
    ...(req.limit !== undefined ? [`--limit=${req.limit}`] : []),
    ...(req.rev ? [`--rev=${req.rev}`] : []),
    ...(req.fromKey ? ['--from-key'] : []),
    // Keys are arguments after `--`: a key starting with `-` is not a flag.
    '--',
    req.key,
    ...(req.end !== undefined ? [req.end] : []),
  ];
}
