import type { Readable } from 'node:stream';
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

export interface UploadSource {
  /** A local file, or bytes in memory. */
  path?: string;
  data?: Buffer;
  size: number;
  sha256: string;
  /** For a unit: the SHA-256 with its --initial-cluster-state value blanked (see provision/unit-state.ts). */
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
  /** A TCP stream to host:port as seen from the node (for metrics through the SSH connection). */
  forward?(host: string, port: number): Promise<NodeJS.ReadWriteStream>;
  close(): Promise<void>;
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
