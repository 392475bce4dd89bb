import { PassThrough } from 'node:stream';
import type { Remote } from '../ssh/remote.js';
import { EtcdctlError, etcdctlReason } from './errors.js';
import { etcdctlCommand } from './etcdctl.js';
import { getArgs, parseEtcdGet, type EtcdGetResult, type GetRequest } from './get.js';
import { parseSizedPage, sizedGetScript, type SizedPage } from './sized-get.js';
import { boundedWatchScript, parseWatchOutput, watchLineProgress, type WatchOutput } from './watch.js';

/**
 * Reading the keyspace through etcdctl on one node: `get` as JSON (values base64, never through a terminal), `get`
 * with the values reduced to their sizes on the node, and a `watch` stopped once it has reached a revision. A
 * failed read is an EtcdctlError with etcdctl's own message (`etcdserver: mvcc: required revision has been
 * compacted`, …), which the caller turns into its own sentence.
 */

export interface KvTarget {
  remote: Remote;
  /** Every inventory endpoint: etcdctl picks one that answers. */
  endpoints: string[];
}

/** etcdctl's --command-timeout for one read: a page of 16 MB of values from a busy member takes a while. */
export const READ_TIMEOUT_S = 30;
/** SSH waits this much longer than etcdctl's own deadline. */
const READ_MARGIN_S = 15;

async function readOut(t: KvTarget, script: string, what: string): Promise<string> {
  const waitS = READ_TIMEOUT_S + READ_MARGIN_S;
  const r = await t.remote.run(script, { timeoutMs: waitS * 1000 });
  if (r.code === 0 && r.stdout.trim()) return r.stdout;
  if (r.code === 0) throw new EtcdctlError(what, 'etcdctl printed nothing', false, 0);
  throw EtcdctlError.of(what, r, waitS);
}

const getCommand = (t: KvTarget, req: GetRequest) => etcdctlCommand(t.endpoints, ['get', ...getArgs(req)], { timeoutS: READ_TIMEOUT_S });

/** `etcdctl get -w json`: the keys with their values. `what` names the read in an error. */
export async function getKeys(t: KvTarget, req: GetRequest, what: string): Promise<EtcdGetResult> {
  return parseEtcdGet(await readOut(t, getCommand(t, req), what));
}

/** `etcdctl get -w json` with every value swapped for its size (and its first `headBytes` bytes) on the node. */
export async function getSizes(t: KvTarget, req: GetRequest, what: string, headBytes?: number): Promise<SizedPage> {
  return parseSizedPage(await readOut(t, sizedGetScript(getCommand(t, req), headBytes), what));
}

export interface WatchRun {
  out: WatchOutput;
  /** An event at or past the revision asked for was seen. */
  reached: boolean;
  /** The watch ended on the node's `timeout`, or SSH gave up waiting for it. */
  timedOut: boolean;
  /** etcdctl's message, when it ended for another reason. */
  reason: string;
}

/**
 * `etcdctl watch --prefix` on every key from `start`, bounded by `timeoutS` on the node, and stopped from here as
 * soon as a response reaches revision `until` or the server cancels the watch (a compacted `start`).
 */
export async function watchUntil(t: KvTarget, start: string, until: bigint, timeoutS: number): Promise<WatchRun> {
  // No `--` before the key: in watch it starts a command to run per event.
  const script = boundedWatchScript(etcdctlCommand(t.endpoints, ['watch', '--prefix', `--rev=${start}`, '--prev-kv', '-w', 'json', '']), timeoutS);
  const stdin = new PassThrough();
  let pending = '';
  let reached = false;
  const onStdout = (chunk: Buffer) => {
    const lines = (pending + chunk.toString('latin1')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const p = watchLineProgress(line);
      if (p.revision >= until) reached = true;
      if ((reached || p.canceled) && !stdin.writableEnded) stdin.end();
    }
  };
  try {
    const r = await t.remote.run(script, { stdin, onStdout, timeoutMs: (timeoutS + READ_MARGIN_S) * 1000 });
    const out = parseWatchOutput(r.stdout);
    // A caller that never streamed (a test's fake node) still reports what it printed.
    const last = out.events.at(-1);
    if (last && BigInt(last.kv.modRevision) >= until) reached = true;
    // `timeout` exits 124 when it stopped the watch.
    return { out, reached, timedOut: r.timedOut || r.code === 124, reason: etcdctlReason(r) };
  } finally {
    if (!stdin.writableEnded) stdin.end();
  }
}
