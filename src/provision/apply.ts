import path from 'node:path';
import { OperationError } from '../errors.js';
import { must } from '../engine/must.js';
import { ChannelRefused, shq, uploadTimeoutMs, type Remote } from '../ssh/remote.js';
import type { DesiredNode } from './desired.js';
import { observeScript, parseObserved, type ObservedNode } from './observe.js';
import type { FileAction, NodePlan } from './plan.js';
import { walDirOf } from '../render/unit-flags.js';
import { formatBytes } from '../output.js';

/** What `up` does on one node: observe it, prepare it, write its files, run its systemd step. */

export async function observeNode(remote: Remote, want: DesiredNode, dataDir: string, recordSums: boolean): Promise<ObservedNode> {
  // A unit of the user's own may keep the WAL apart (--wal-dir): data is where etcd looks for it.
  const walDir = walDirOf(want.files.find((f) => f.role === 'unit')?.source.data?.toString('utf8') ?? '');
  const script = observeScript({ files: want.files.map((f) => f.path), dirs: want.dirs.map((d) => d.path), dataDir, recordSums, ...(walDir ? { walDir } : {}) });
  return parseObserved(await must(remote, script, 'reading the node state'));
}

/** The channels one node's uploads use at once: below OpenSSH's default MaxSessions (10). */
const UPLOAD_CHANNELS = 6;

/** fn over items, at most `limit` at a time; every item runs (none is abandoned mid-way), results in item order. */
async function settleAll<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!).then(
        (value): PromiseSettledResult<R> => ({ status: 'fulfilled', value }),
        (reason: unknown): PromiseSettledResult<R> => ({ status: 'rejected', reason }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The one command that prepares a node for its uploads: the dirs (created or chmodded), temp files left by a run
 * killed mid-upload (older than 10 minutes, so never a live one), and the files whose content is right but whose mode
 * is not. Pure.
 */
export function prepareCommand(plan: Pick<NodePlan, 'dirs' | 'files'>): string | undefined {
  // One command per line: set -e ignores a failure on the left of &&.
  const lines = plan.dirs.flatMap((d) => [`mkdir -p ${shq(d.path)}`, `chmod ${d.mode.toString(8)} ${shq(d.path)}`]);
  const uploadDirs = [...new Set(plan.files.filter((f) => f.upload).map((f) => path.posix.dirname(f.path)))];
  if (uploadDirs.length) {
    lines.push(`for d in ${uploadDirs.map(shq).join(' ')}; do find "$d" -maxdepth 1 -name '.*.hardway-tmp.*' -mmin +10 -delete 2>/dev/null || true; done`);
  }
  for (const f of plan.files) if (!f.upload) lines.push(`chmod ${f.mode.toString(8)} ${shq(f.path)}`);
  return lines.length ? ['set -e', ...lines].join('\n') : undefined;
}

/**
 * Writes what the plan says to one node, starting nothing: one command for the dirs and modes, then every file
 * (atomically) in its own channel of the one connection, all at once. Each upload costs a round trip or more, so in
 * sequence the three PEMs and the unit alone took ~0.3 s per node. A server that allows fewer sessions (sshd's
 * MaxSessions) gets the files it refused one at a time.
 */
export async function applyFiles(remote: Remote, plan: NodePlan, report: (msg: string) => void, done: string[]): Promise<void> {
  const prepare = prepareCommand(plan);
  if (prepare) await must(remote, prepare, 'preparing dirs and modes');
  for (const d of plan.dirs) done.push(`${d.reason === 'missing' ? 'created' : 'chmod'} ${d.path}`);
  for (const f of plan.files) if (!f.upload) done.push(`chmod ${f.mode.toString(8)} ${f.path}`);
  const uploads = plan.files.filter((f) => f.upload);
  // The files share the link: each one's timeout allows for all of them.
  const timeoutMs = uploadTimeoutMs(uploads.reduce((sum, f) => sum + f.bytes, 0));
  const send = async (f: FileAction) => {
    let last = 0;
    const onBytes = (sent: number) => {
      // A progress line per quarter of a big file: visible in a TTY, not a flood in CI logs.
      if (f.bytes > 1e6 && sent - last >= f.bytes / 4 && sent < f.bytes) {
        last = sent;
        report(`${f.path} ${formatBytes(sent)} / ${formatBytes(f.bytes)}`);
      }
    };
    await remote.upload(f.file.source, f.path, f.mode, { onBytes, timeoutMs });
    report(`wrote ${f.path} (${f.reason})`);
  };
  const results = await settleAll(uploads, UPLOAD_CHANNELS, send);
  const refused = uploads.filter((_, i) => results[i]!.status === 'rejected' && (results[i] as PromiseRejectedResult).reason instanceof ChannelRefused);
  const retried = await settleAll(refused, 1, send);
  refused.forEach((f, i) => (results[uploads.indexOf(f)] = retried[i]!));
  results.forEach((r, i) => r.status === 'fulfilled' && done.push(`wrote ${uploads[i]!.path} (${uploads[i]!.reason})`));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new OperationError(failures.map((e) => e.message).join('; '));
}

/**
 * The systemd step of a node as one command, with one reload: `systemctl enable` reloads the manager itself, so an
 * explicit daemon-reload is only needed when the unit is already enabled (measured: the double reload cost 0.6 s on 3
 * nodes, 1.4 s on 7). With `start`, the member is started without blocking (Type=notify would wait for quorum).
 */
export function systemdStep(plan: Pick<NodePlan, 'daemonReload' | 'enable'>, start: boolean): { command: string; done: string[] } {
  const parts: string[] = [];
  const done: string[] = [];
  if (plan.daemonReload && !plan.enable) parts.push('systemctl daemon-reload'), done.push('daemon-reload');
  if (plan.enable) parts.push(`systemctl enable${start ? ' --now --no-block' : ''} etcd.service`), done.push('enable');
  if (start && !plan.enable) parts.push('systemctl start --no-block etcd.service');
  if (start) done.push('start');
  return { command: parts.join(' && '), done };
}
