import { PassThrough } from 'node:stream';
import { etcdctlReason } from '../etcd/errors.js';
import { OperationError } from '../errors.js';
import type { ExecResult, Remote } from '../ssh/remote.js';
import { etcdctlCommand } from '../etcd/etcdctl.js';
import { boundedWatchScript, diffResult, parseWatchOutput, watchLineProgress, type DiffResult, type WatchOutput } from './diff.js';
import { parseEtcdGet, type EtcdGetResult } from './etcd-kv.js';
import { nextPageSize, PAGE, pageRequest } from './keyspace.js';
import { parseSizedPage, sizedGetScript, type KeyInfo } from './listing.js';

/**
 * What `hardway keys` reads from the cluster, through etcdctl on the member that answered (askCluster): every
 * value as `-w json` (base64), never through a terminal; listings in pages with the values reduced to their
 * sizes on the node; diffs from a watch that is stopped once it has reached the revision asked for.
 */

export interface Asker {
  remote: Remote;
  /** Every inventory endpoint: etcdctl picks one that answers. */
  endpoints: string[];
}

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

const READ_TIMEOUT_S = 30;
const isCompacted = (why: string) => /required revision has been compacted/.test(why);

async function etcdctlOut(a: Asker, script: string, what: string, rev?: string): Promise<string> {
  const r = await a.remote.run(script, { timeoutMs: (READ_TIMEOUT_S + 15) * 1000 });
  if (r.code === 0 && r.stdout.trim()) return r.stdout;
  const why = r.code === 0 ? 'etcdctl printed nothing' : etcdctlReason(r);
  if (rev && isCompacted(why)) throw new CompactedError(rev, await compactedAt(a, rev));
  if (rev && /required revision is a future revision/.test(why)) throw new OperationError(`revision ${rev} is after the cluster's current revision`);
  throw new OperationError(`${a.remote.name}: ${what}: ${why}`);
}

const getCommand = (a: Asker, args: string[]) => etcdctlCommand(a.endpoints, ['get', ...args], { timeoutS: READ_TIMEOUT_S });

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
    const out = await etcdctlOut(a, sizedGetScript(getCommand(a, req.args), opts.headBytes), `etcdctl get ${JSON.stringify(prefix)}`, rev);
    const page = parseSizedPage(out);
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
  const out = await etcdctlOut(a, getCommand(a, ['-w', 'json', ...(rev ? [`--rev=${rev}`] : []), '--', key]), `etcdctl get ${JSON.stringify(key)}`, rev);
  const result = parseEtcdGet(out);
  const kv = result.kvs.find((k) => k.key === key);
  return { result, ...(kv ? { kv } : {}) };
}

/** The cluster's current revision (the header of the smallest read there is). */
export async function currentRevision(a: Asker): Promise<string> {
  const out = await etcdctlOut(a, getCommand(a, ['-w', 'json', '--keys-only', '--limit=1', '--from-key', '--', '']), 'etcdctl get (revision)');
  return parseEtcdGet(out).revision;
}

function watchCommand(a: Asker, start: string, timeoutS: number): string {
  // No `--` before the key: in watch it starts a command to run per event.
  return boundedWatchScript(etcdctlCommand(a.endpoints, ['watch', '--prefix', `--rev=${start}`, '--prev-kv', '-w', 'json', '']), timeoutS);
}

async function runWatch(a: Asker, start: string, to: bigint, timeoutS: number): Promise<{ r: ExecResult; out: WatchOutput; reached: boolean }> {
  const stdin = new PassThrough();
  let pending = '';
  let reached = false;
  const onStdout = (chunk: Buffer) => {
    const lines = (pending + chunk.toString('latin1')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const p = watchLineProgress(line);
      if (p.revision >= to) reached = true;
      if ((reached || p.canceled) && !stdin.writableEnded) stdin.end();
    }
  };
  try {
    const r = await a.remote.run(watchCommand(a, start, timeoutS), { stdin, onStdout, timeoutMs: (timeoutS + 15) * 1000 });
    const out = parseWatchOutput(r.stdout);
    // A caller that never streamed (a test's fake node) still reports what it printed.
    const last = out.events.at(-1);
    if (last && BigInt(last.kv.modRevision) >= to) reached = true;
    return { r, out, reached };
  } finally {
    if (!stdin.writableEnded) stdin.end();
  }
}

/** The revision etcd compacted at, when `rev` is before it (a watch from `rev` is cancelled and says so). */
export async function compactedAt(a: Asker, rev: string): Promise<string | undefined> {
  const { out } = await runWatch(a, rev, BigInt(rev), 10);
  return out.compactRevision;
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
  const { r, out, reached } = await runWatch(a, start, BigInt(end), timeoutS);
  if (out.compactRevision) throw new CompactedError(from, out.compactRevision);
  if (!reached) {
    const last = out.events.at(-1)?.kv.modRevision ?? from;
    const why = r.timedOut || r.code === 124 ? `timed out after ${timeoutS} s` : etcdctlReason(r);
    throw new OperationError(`${a.remote.name}: etcdctl watch from ${start} stopped at revision ${last} before ${end}: ${why}`);
  }
  return diffResult(out.events, from, end);
}
