import { OperationError } from '../errors.js';

/**
 * etcdctl's own word on a failure, on one line. etcdctl (3.4 and 3.5) writes its client's JSON log records to
 * stderr (`{"level":"warn",…,"msg":"retrying of unary invoker failed",…}`) before its message; the message is the
 * last other line: `Error: etcdserver: member not found`, `Error: context deadline exceeded`, or for `endpoint
 * status` `Failed to get the status of endpoint https://…:2379 (context deadline exceeded)`, kept as etcdctl wrote it.
 */
export function etcdctlMessage(stderr: string): string | undefined {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('{'))
    .pop();
  return line;
}

/** Messages etcdctl prints when its own deadline (--command-timeout, --dial-timeout) passed. */
const DEADLINE = /context deadline exceeded|DeadlineExceeded/;

/** A failed etcdctl or etcdutl run: what was asked, etcdctl's one-line message, and whether time ran out. */
export class EtcdctlError extends OperationError {
  constructor(
    /** What was asked, as the user would type it: `etcdctl member remove 8e9e05c52164694d`. */
    readonly what: string,
    /** etcdctl's message (never its log lines), or `timed out after N s` when SSH gave up waiting. */
    readonly reason: string,
    /** etcdctl's deadline passed, or SSH stopped waiting for it. */
    readonly timedOut: boolean,
    readonly etcdctlExit: number | null,
  ) {
    super(`${what}: ${reason}`);
    this.name = 'EtcdctlError';
  }

  /** From a finished run: `sshTimeoutS` names the wait when SSH gave up. */
  static of(what: string, r: { stderr: string; stdout?: string; code: number | null; timedOut: boolean }, sshTimeoutS?: number): EtcdctlError {
    if (r.timedOut) return new EtcdctlError(what, `timed out after ${sshTimeoutS ?? '?'} s`, true, r.code);
    const message = etcdctlMessage(r.stderr) ?? etcdctlMessage(r.stdout ?? '') ?? `exit ${r.code}`;
    return new EtcdctlError(what, message, DEADLINE.test(message), r.code);
  }
}

/** etcdctl's message, or `timed out` when SSH gave up: the reason in the flows' own sentences. */
export function etcdctlReason(r: { stderr: string; code: number | null; timedOut: boolean }): string {
  if (r.timedOut) return 'timed out';
  return etcdctlMessage(r.stderr) ?? `exit ${r.code}`;
}
