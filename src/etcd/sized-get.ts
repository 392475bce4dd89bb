import { shq } from '../ssh/remote.js';
import { idHex, parseEtcdJson } from './etcdctl.js';

/**
 * Listing without shipping the values: etcdctl's `-w json` of a page goes through a filter on the node that swaps
 * every `"value":"<base64>"` for its decoded size (and, when asked, the first bytes of it), so 200 MB of values
 * cross SSH as a few MB of key metadata. etcd cannot send sizes alone (`--keys-only` drops them), so the values
 * still travel from etcd to the node's etcdctl, a page at a time. Pure: the script and its output's parser.
 *
 * The filter is awk (mawk in Debian's and Ubuntu's base system, or gawk): `"value":"` — which base64 and the field
 * names around it never contain — is the record separator, so each record starts with one value, measured up to
 * its closing quote. Not one record per line: etcdctl prints a page as one line, and mawk reads a 33 MB line in
 * 6 s (its line buffer grows quadratically) but the same bytes in 8 000 records in 0.03 s.
 */
export const SIZE_FILTER = [
  'BEGIN { RS = "\\"value\\":\\"" }',
  'NR == 1 { printf "%s", $0; next }',
  '{',
  '  q = index($0, "\\""); l = q - 1; s = l / 4 * 3',
  '  if (l > 0 && substr($0, l, 1) == "=") s--',
  '  if (l > 1 && substr($0, l - 1, 1) == "=") s--',
  '  printf "\\"value_size\\":%d", s',
  '  if (head > 0) printf ",\\"value_head\\":\\"%s\\"", substr($0, 1, l < head ? l : head)',
  '  printf "%s", substr($0, q + 1)',
  '}',
].join('\n');

/**
 * `etcdctl … get` piped through the filter, exiting with etcdctl's status (sh has no pipefail: the status goes
 * out on fd 4 while the filtered JSON goes to the real stdout on fd 3). `headBytes`: how much of each value to keep.
 */
export function sizedGetScript(etcdctl: string, headBytes = 0): string {
  const headChars = Math.ceil(headBytes / 3) * 4;
  return ['exec 3>&1', `rc=$( { { ${etcdctl}; echo $? >&4; } | awk -v head=${headChars} ${shq(SIZE_FILTER)} >&3; } 4>&1 )`, 'exit "${rc:-1}"'].join('\n');
}

/** A key as a listing shows it: everything etcd keeps about it but the value, which is given by its size. */
export interface KeyInfo {
  key: string;
  createRevision: string;
  modRevision: string;
  version: string;
  /** The lease ID in hex (as `etcdctl lease list` shows it); absent when the key has none. */
  lease?: string;
  size: number;
  /** The value's first bytes, when they were asked for. */
  head?: Uint8Array;
  /** The key's bytes are not UTF-8: `key` shows them with replacement characters. */
  binaryKey?: true;
}

export interface SizedPage {
  revision: string;
  kvs: KeyInfo[];
  more: boolean;
  /** Keys in the whole requested range (etcd counts past the limit). */
  count: number;
}

type Num = string | number;
interface RawSized {
  header?: { revision?: Num };
  kvs?: { key?: string; create_revision?: Num; mod_revision?: Num; version?: Num; lease?: Num; value_size?: Num; value_head?: string }[];
  count?: Num;
  more?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeKey(b64: string): { key: string; binary: boolean } {
  const bytes = Buffer.from(b64, 'base64');
  try {
    return { key: utf8.decode(bytes), binary: false };
  } catch {
    return { key: bytes.toString('utf8'), binary: true };
  }
}

/** The filtered output of one page. An etcdctl that printed nothing (it failed) is the caller's to report. */
export function parseSizedPage(stdout: string): SizedPage {
  const raw = parseEtcdJson<RawSized>(stdout.trim());
  return {
    revision: String(raw.header?.revision ?? 0),
    kvs: (raw.kvs ?? []).map((kv) => {
      const { key, binary } = decodeKey(kv.key ?? '');
      return {
        key,
        createRevision: String(kv.create_revision ?? 0),
        modRevision: String(kv.mod_revision ?? 0),
        version: String(kv.version ?? 0),
        ...(kv.lease !== undefined && String(kv.lease) !== '0' ? { lease: idHex(kv.lease) } : {}),
        // etcd leaves an empty value out of the JSON: no value_size is 0 bytes.
        size: Number(kv.value_size ?? 0),
        ...(kv.value_head !== undefined ? { head: new Uint8Array(Buffer.from(kv.value_head, 'base64')) } : {}),
        ...(binary ? { binaryKey: true as const } : {}),
      };
    }),
    more: !!raw.more,
    count: Number(raw.count ?? 0),
  };
}
