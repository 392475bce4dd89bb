import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { OperationError } from '../errors.js';
import { checkHostKey, fingerprint, formatKnownHostsLine, hostToken, keyBlobType, parseKnownHosts } from './known-hosts.js';
import { Slots } from './slots.js';
import { atomicInstallScript, ChannelRefused, sessionBoundScript, shq, uploadTimeoutMs, type ExecOptions, type ExecResult, type Remote, type StreamOptions, type StreamResult, type UploadOptions, type UploadSource } from './remote.js';
import type { JumpHop, SshTarget } from './target.js';

/** The ssh2 adapter for Remote. */

export interface ConnectOptions {
  /** Record unknown host keys instead of failing (OpenSSH's StrictHostKeyChecking=accept-new). */
  acceptNew?: boolean;
  /** Connect (TCP + handshake + auth) timeout, default 15 s. */
  connectTimeoutMs?: number;
  /** Passphrases for encrypted identity files, by path (collected before any parallel work). */
  passphrases?: ReadonlyMap<string, string>;
  /** Cuts a handshake still under way (early connections no command took). */
  signal?: AbortSignal;
  /** Called once the node's (or its first jump host's) TCP connection is asked for. */
  onDial?: () => void;
}

/**
 * A node not connected to. `inventorySide`: what is wrong is in the inventory or on this machine (a key the node
 * refuses or that cannot be read, a host key not known or changed), not the node being down or out of reach.
 */
export class SshConnectError extends OperationError {
  constructor(
    message: string,
    readonly inventorySide: boolean,
  ) {
    super(message);
  }
}

export class HostKeyError extends SshConnectError {
  constructor(message: string) {
    super(message, true);
  }
}

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

/** `ssh-ed25519` → `ed25519`, `ecdsa-sha2-nistp256` → `ecdsa`: the name in /etc/ssh/ssh_host_<type>_key. */
function hostKeyFileType(key: Buffer): string {
  return keyBlobType(key).replace(/^ssh-/, '').replace(/-sha2-.*$/, '');
}

/** Verifies host keys against known_hosts; never accepts silently. */
function hostVerifier(
  hop: { host: string; port: number },
  label: string,
  knownHostsFile: string,
  acceptNew: boolean,
  onReject: (e: Error) => void,
) {
  return (key: Buffer, verify: (ok: boolean) => void): void => {
    void (async () => {
      let text = '';
      try {
        text = await readFile(knownHostsFile, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const verdict = checkHostKey(parseKnownHosts(text), hop.host, hop.port, key);
      const fp = fingerprint(key);
      const who = `${label} (${hostToken(hop.host, hop.port)})`;
      switch (verdict.status) {
        case 'match':
          return verify(true);
        case 'unknown':
          if (acceptNew) {
            await mkdir(path.dirname(knownHostsFile), { recursive: true, mode: 0o700 });
            await appendFile(knownHostsFile, `${formatKnownHostsLine(hop.host, hop.port, key)}\n`, { mode: 0o600 });
            return verify(true);
          }
          onReject(
            new HostKeyError(
              `${who}: host key not known: ${keyBlobType(key)} ${fp} is not in ${knownHostsFile}. ` +
                `Check it on the node (ssh-keygen -lf /etc/ssh/ssh_host_${hostKeyFileType(key)}_key.pub), ` +
                `then run again with --accept-new to record it.`,
            ),
          );
          return verify(false);
        case 'changed':
          onReject(
            new HostKeyError(
              `${who}: HOST KEY CHANGED: the node presented ${keyBlobType(key)} ${fp}, but ${knownHostsFile} ` +
                `line ${verdict.lines.join(', ')} records another key. Someone may be intercepting the connection, or the node was ` +
                `reinstalled. If you know why it changed, remove the old entry (ssh-keygen -R ${shq(hostToken(hop.host, hop.port))} -f ${shq(knownHostsFile)}) and run with --accept-new.`,
            ),
          );
          return verify(false);
        case 'revoked':
          onReject(new HostKeyError(`${who}: host key ${fp} is marked @revoked in ${knownHostsFile} line ${verdict.line}`));
          return verify(false);
      }
    })().catch((e: Error) => {
      onReject(new HostKeyError(`${label}: cannot check the host key: ${e.message}`));
      verify(false);
    });
  };
}

/** True when a private key cannot be read without a passphrase. */
export function keyIsEncrypted(text: string): boolean {
  const parsed = ssh2.utils.parseKey(text);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}

/** True when `passphrase` decrypts the private key (ssh2 runs the key's KDF: bcrypt for OpenSSH keys). */
export function keyOpensWith(text: string, passphrase: string): boolean {
  return !(ssh2.utils.parseKey(text, passphrase) instanceof Error);
}

async function readIdentity(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function describeConnectError(label: string, hop: { host: string; port: number; user: string }, key: string | undefined, e: Error & { code?: string; level?: string }): SshConnectError {
  const where = `${label} (${hop.host}:${hop.port})`;
  if (e.code === 'ECONNREFUSED') return new SshConnectError(`${where}: connection refused (is sshd running?)`, false);
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return new SshConnectError(`${where}: host unreachable`, false);
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new SshConnectError(`${where}: cannot resolve ${hop.host}`, true);
  if (/Timed out while waiting for handshake/.test(e.message)) return new SshConnectError(`${where}: unreachable (SSH connect timed out)`, false);
  if (e.level === 'client-authentication' || /authentication methods failed/.test(e.message)) {
    return new SshConnectError(`${where}: authentication failed: ${key ? `key ${key}` : "ssh-agent's keys"} not accepted for user ${hop.user}`, true);
  }
  return new SshConnectError(`${where}: ${e.message}`, false);
}

/**
 * One SSH connection: ssh2's Client, and `connection` unset once it ended, so that a command asked of a closed
 * connection says so instead of waiting. (What node-ssh's connect did for us, without loading node-ssh and its
 * dependencies: ~30 ms of every run's start-up, bench/up.md.)
 */
class SshConnection {
  connection: Client | null = null;

  connect(config: ConnectConfig): Promise<void> {
    const client = new ssh2.Client();
    this.connection = client;
    return new Promise((resolve, reject) => {
      client.on('error', reject);
      client.on('ready', () => {
        client.removeListener('error', reject);
        resolve();
      });
      const gone = () => {
        if (this.connection === client) this.connection = null;
      };
      client.on('end', gone);
      client.on('close', () => {
        gone();
        // Closed before it was ready (after ready the promise is settled and this does nothing).
        reject(Object.assign(new Error('No response from server'), { code: 'ETIMEDOUT' }));
      });
      client.connect(config);
    });
  }

  dispose(): void {
    const c = this.connection;
    this.connection = null;
    c?.end();
  }
}

async function connectHop(
  hop: JumpHop & { user: string },
  target: SshTarget,
  opts: ConnectOptions,
  sock?: NodeJS.ReadableStream,
): Promise<SshConnection> {
  const ssh = new SshConnection();
  let rejected: Error | undefined;
  let privateKey: string | undefined;
  let keyFile: string | undefined;
  let passphrase: string | undefined;
  const agent = process.env.SSH_AUTH_SOCK;
  for (const f of target.identityFiles) {
    const text = await readIdentity(f);
    if (!text) continue;
    passphrase = opts.passphrases?.get(f);
    // An encrypted key we have no passphrase for is left to the agent, as OpenSSH does.
    if (!passphrase && keyIsEncrypted(text)) continue;
    privateKey = text;
    keyFile = f;
    break;
  }
  if (!privateKey && !agent) {
    throw new SshConnectError(`${target.label}: no usable identity: ${target.identityFiles.join(', ')} not readable and no ssh-agent (SSH_AUTH_SOCK)`, true);
  }
  if (opts.signal?.aborted) throw new SshConnectError(`${target.label}: connection not needed`, false);
  // `connection` is set before the handshake: destroying it fails the connect at once.
  const cut = () => ssh.connection?.destroy();
  opts.signal?.addEventListener('abort', cut, { once: true });
  try {
    if (!sock) opts.onDial?.();
    await ssh.connect({
      host: hop.host,
      port: hop.port,
      username: hop.user,
      ...(privateKey ? { privateKey } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(agent ? { agent } : {}),
      // What we can offer, in ssh2's own order, without its opening `none` request (one round trip, sent only to
      // learn which methods the server takes: a refusal fails the same way, naming the key).
      authHandler: [...(privateKey ? (['publickey'] as const) : []), ...(agent ? (['agent'] as const) : [])],
      ...(sock ? { sock: sock as never } : {}),
      readyTimeout: opts.connectTimeoutMs ?? 15_000,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      hostVerifier: hostVerifier(hop, target.label, target.knownHosts, !!opts.acceptNew, (e) => (rejected = e)) as never,
    });
  } catch (e) {
    ssh.dispose();
    if (rejected) throw rejected;
    throw describeConnectError(target.label, hop, keyFile, e as Error);
  } finally {
    opts.signal?.removeEventListener('abort', cut);
  }
  // The connect's error listener is dropped after `ready`: without this a later ECONNRESET kills the process.
  ssh.connection?.on('error', () => {});
  return ssh;
}

function forwardOut(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch)));
  });
}

/**
 * Commands run at once over one connection: below OpenSSH's default MaxSessions (10), so that a flow asking a node
 * many things at once has them wait here for a channel instead of sshd refusing one ("open failed").
 */
const COMMANDS_AT_ONCE = 8;

class Ssh2Remote implements Remote {
  private readonly commands = new Slots(COMMANDS_AT_ONCE);

  constructor(
    readonly name: string,
    private readonly ssh: SshConnection,
    private readonly hops: SshConnection[],
    private readonly asRoot: (cmd: string) => string,
  ) {}

  private get client(): Client {
    if (!this.ssh.connection) throw new OperationError(`${this.name}: SSH connection closed`);
    return this.ssh.connection;
  }

  async run(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const release = await this.commands.take();
    try {
      // sshd frees a session only once it has reaped its command, a moment after the channel closed: a refused
      // channel (its command never ran) is asked for again, a few times, before it is an error.
      for (let pauseMs = 25; ; pauseMs *= 2) {
        try {
          return await this.runNow(command, opts);
        } catch (e) {
          if (!(e instanceof ChannelRefused) || pauseMs > 800 || !this.ssh.connection) throw e;
          await new Promise((r) => setTimeout(r, pauseMs));
        }
      }
    } finally {
      release();
    }
  }

  private runNow(command: string, opts: ExecOptions): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      this.client.exec(this.asRoot(command), (err, channel) => {
        if (err) return reject(new ChannelRefused(channelRefusedText(this.name, err)));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let timedOut = false;
        // ssh2 has no command timeout: close the channel ourselves (and signal the remote process).
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            channel.signal('KILL');
          } catch {
            /* the server may not support signals */
          }
          channel.close();
        }, timeoutMs);
        channel.on('data', (d: Buffer) => {
          out.push(d);
          opts.onStdout?.(d);
        });
        channel.stderr.on('data', (d: Buffer) => errOut.push(d));
        channel.on('close', (code: number | null, signal?: string) => {
          clearTimeout(timer);
          resolve({
            code: timedOut ? null : (code ?? null),
            ...(signal ? { signal } : {}),
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            timedOut,
          });
        });
        if (opts.stdin === undefined) channel.end();
        else if (typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin)) channel.end(opts.stdin);
        else opts.stdin.pipe(channel);
      });
    });
  }

  stream(command: string, io: StreamOptions): Promise<StreamResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(this.asRoot(sessionBoundScript(command)), (err, channel) => {
        if (err) return reject(new ChannelRefused(channelRefusedText(this.name, err)));
        let settled = false;
        const finish = (r: StreamResult) => {
          if (settled) return;
          settled = true;
          io.signal?.removeEventListener('abort', stop);
          io.stdout.off('error', stop);
          io.stderr.off('error', stop);
          // Input the command no longer reads must not keep this process waiting for it.
          io.stdin?.unpipe(channel);
          io.stdin?.pause();
          resolve(r);
        };
        function stop() {
          try {
            channel.signal('TERM');
          } catch {
            /* the server may not support signals */
          }
          channel.close();
          // sshd keeps a channel open while its command runs: do not wait for it; closing the connection ends it.
          setTimeout(() => finish({ code: null, signal: 'TERM' }), 1500).unref();
        }
        // A reader that went away (`| head -1`) ends the command, as a closed pipe would locally.
        io.stdout.on('error', stop);
        io.stderr.on('error', stop);
        io.signal?.addEventListener('abort', stop, { once: true });
        channel.pipe(io.stdout, { end: false });
        channel.stderr.pipe(io.stderr, { end: false });
        channel.on('close', (code: number | null, signal?: string) => finish({ code: code ?? null, ...(signal ? { signal } : {}) }));
        if (io.stdin) io.stdin.pipe(channel);
        else channel.end();
      });
    });
  }

  async upload(src: UploadSource, remotePath: string, mode: number, opts: UploadOptions = {}): Promise<void> {
    const { createReadStream } = await import('node:fs');
    const input: Readable = src.path ? createReadStream(src.path, { highWaterMark: 256 * 1024 }) : Readable.from([src.data ?? Buffer.alloc(0)]);
    let sent = 0;
    // Count bytes in a transform: a 'data' listener on the source would start it flowing before it is piped.
    const counted = input.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          sent += chunk.length;
          opts.onBytes?.(sent);
          cb(null, chunk);
        },
      }),
    );
    const r = await this.run(atomicInstallScript(remotePath, mode, src.sha256), { stdin: counted, timeoutMs: opts.timeoutMs ?? uploadTimeoutMs(src.size) });
    if (r.code !== 0) {
      const why = r.timedOut ? 'timed out' : r.stderr.trim() || `exit ${r.code}`;
      throw new OperationError(`${this.name}: writing ${remotePath} failed: ${why}`);
    }
  }

  forward(host: string, port: number): Promise<NodeJS.ReadWriteStream> {
    return forwardOut(this.client, host, port);
  }

  async close(): Promise<void> {
    this.ssh.dispose();
    for (const h of this.hops.reverse()) h.dispose();
  }
}

/** Connects to a node (through its jump hosts), verifying every host key. */
export async function connectRemote(target: SshTarget, opts: ConnectOptions = {}): Promise<Remote> {
  const hops: SshConnection[] = [];
  let sock: NodeJS.ReadableStream | undefined;
  try {
    for (const j of target.jumps) {
      const hopConn = await connectHop({ ...j, user: j.user ?? target.user }, target, opts, sock);
      hops.push(hopConn);
      const next = target.jumps[hops.length] ?? { host: target.host, port: target.port };
      sock = await forwardOut(hopConn.connection!, next.host, next.port);
    }
    const ssh = await connectHop({ host: target.host, port: target.port, user: target.user }, target, opts, sock);
    const needsSudo = target.user !== 'root' && target.sudo;
    const asRoot = (cmd: string) => (needsSudo ? `sudo -n -- sh -c ${shq(cmd)}` : cmd);
    return new Ssh2Remote(target.label, ssh, hops, asRoot);
  } catch (e) {
    for (const h of hops) h.dispose();
    throw e;
  }
}

/**
 * Why a command could not start. ssh2 says "No response from server" when the connection closed with the channel still
 * unopened — its keepalives went unanswered (the node or its link is down) or the node closed it: said so.
 */
export function channelRefusedText(name: string, err: Error): string {
  if (err.message === 'No response from server') return `${name}: cannot start a command: the SSH connection was lost (the node stopped answering: is it down, or its link?)`;
  return `${name}: cannot start a command: ${err.message}`;
}
