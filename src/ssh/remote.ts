import type { Readable, Writable } from 'node:stream';
import { OperationError } from '../errors.js';

/** What provisioning and verification need from a node: run a command as root, and install a file atomically. */
export interface ExecOptions {
  stdin?: string | Buffer | Readable;
  /** Kill the command after this long (default 60 s). */
  timeoutMs?: number;
  /** Called with stdout chunks as they arrive (e.g. a 60 s `check perf`). */
  onStdout?: (chunk: Buffer) => void;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A command whose stdin, stdout and stderr are the caller's streams, bytes as they are (`hardway etcdctl`). */
export interface StreamOptions {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Aborting sends the remote command SIGTERM and closes its channel (the user pressed Ctrl-C). */
  signal?: AbortSignal;
}

export interface StreamResult {
  code: number | null;
  signal?: string;
}

export interface UploadSource {
  /** A local file, or bytes in memory. */
  path?: string;
  data?: Buffer;
  size: number;
  sha256: string;
  /** For a unit: the SHA-256 with its --initial-cluster-state value blanked (see render/unit-flags.ts). */
  stateFreeSha256?: string;
  /** For a unit: the SHA-256 with the values of every flag etcd reads only when bootstrapping blanked. */
  bootstrapFreeSha256?: string;
}

export interface UploadOptions {
  /** Called with the bytes sent so far. */
  onBytes?: (sent: number) => void;
  /** Kill the transfer after this long (default: uploadTimeoutMs of the file's size). */
  timeoutMs?: number;
}

/** Generous: the bytes at 256 KB/s (a slow link), never under 60 s. The node checks the checksum before renaming. */
export function uploadTimeoutMs(bytes: number): number {
  return Math.max(60_000, Math.ceil(bytes / (256 * 1024)) * 1000);
}

/** The server opened no channel for a command (sshd's MaxSessions reached, or the connection is gone): it never ran. */
export class ChannelRefused extends OperationError {}

export interface Remote {
  /** The node's name. */
  readonly name: string;
  /** Runs a shell command as root (through `sudo -n` when the login user is not root and `sudo` is set). */
  run(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Writes a file atomically: streams it to a temp name in the target's directory, checks its SHA-256, sets the
   * mode, then renames it over the target. An interrupted transfer never leaves a partial file in place.
   */
  upload(src: UploadSource, remotePath: string, mode: number, opts?: UploadOptions): Promise<void>;
  /** Runs a shell command as `run` does, with no time limit, streaming its stdin, stdout and stderr. */
  stream?(command: string, io: StreamOptions): Promise<StreamResult>;
  /** A TCP stream to host:port as seen from the node (for metrics through the SSH connection). */
  forward?(host: string, port: number): Promise<NodeJS.ReadWriteStream>;
  close(): Promise<void>;
}

/**
 * A streamed command that ends with its SSH session. sshd signals nothing to the command of a session without a
 * terminal when the client goes away, and refuses signal requests for root logins: so the command runs in the
 * background (stdin passed on), a watchdog ends it once the session's sshd ($PPID) is gone, and a signal that does
 * arrive (Ctrl-C relayed for a non-root login) is passed on. The exit status is the command's.
 */
export function sessionBoundScript(command: string): string {
  return [
    // The trap first: a signal that comes as the command starts must not end this shell and leave the command.
    `trap 't=1; kill -TERM "$c" 2>/dev/null' HUP INT TERM`,
    // Through fd 3: dash gives a background command /dev/null as stdin even with an explicit `<&0`.
    'exec 3<&0',
    `sh -c ${shq(command)} <&3 3<&- &`,
    'c=$!',
    '(while kill -0 "$PPID" && kill -0 "$c"; do sleep 1; done 2>/dev/null; kill -TERM "$c" 2>/dev/null) </dev/null >/dev/null 2>&1 3<&- &',
    // A trapped signal makes wait return early (t=1): wait again for the command's own status. A wait after the one
    // that collected it says 127 (no such child): the status collected stands.
    's=127; while :; do t=0; wait "$c"; r=$?; [ "$r" = 127 ] && exit "$s"; s=$r; [ "$t" = 1 ] || exit "$s"; done',
  ].join('\n');
}

/** POSIX shell single-quoting. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The script that installs an uploaded file; stdin carries the bytes. */
export function atomicInstallScript(remotePath: string, mode: number, sha256: string): string {
  const dir = remotePath.replace(/\/[^/]*$/, '') || '/';
  const base = remotePath.slice(dir.length + 1);
  // umask 077: the temp file is never readable by others, even for a moment, before chmod.
  return [
    'set -e',
    'umask 077',
    `tmp=${shq(dir)}/${shq(`.${base}.hardway-tmp.`)}$$`,
    `trap 'rm -f "$tmp"' EXIT`,
    'cat > "$tmp"',
    `echo ${shq(`${sha256}  `)}"$tmp" | sha256sum -c --status || { echo "hardway: checksum mismatch for ${remotePath} (transfer cut short?)" >&2; exit 3; }`,
    `chmod ${mode.toString(8).padStart(4, '0')} "$tmp"`,
    'sync "$tmp" 2>/dev/null || true',
    `mv -f "$tmp" ${shq(remotePath)}`,
    'trap - EXIT',
  ].join('\n');
}
