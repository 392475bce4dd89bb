import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Remote } from './remote.js';
import { connectRemote, keyIsEncrypted, keyOpensWith, type ConnectOptions } from './ssh2-remote.js';
import { resolveTarget, type SshTarget } from './target.js';

export type Connection = { node: NodeSpec; remote: Remote } | { node: NodeSpec; error: Error };

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Targets for the nodes, with ~/.ssh/config (or the inventory's ssh.config) applied. */
export async function sshTargets(inv: Inventory, nodes: NodeSpec[]): Promise<SshTarget[]> {
  const home = os.homedir();
  const configFile = inv.ssh.config ?? path.join(home, '.ssh', 'config');
  const sshConfig = await readOptional(configFile);
  return nodes.map((n) =>
    resolveTarget(n, { homeDir: home, defaulted: new Set(n.ssh.defaulted), ...(sshConfig ? { sshConfig } : {}) }),
  );
}

/** One line from a terminal already in raw mode (so nothing is echoed); Ctrl-C cancels. */
function readHiddenLine(): Promise<string> {
  const { stdin, stderr } = process;
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (fn: () => void) => {
      stdin.off('data', onData);
      stderr.write('\n');
      fn();
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(value));
        if (ch === '\u0003') return finish(() => reject(new UsageError('cancelled')));
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Asks until the passphrase decrypts the key, three times at most, as ssh does: checked here, once, rather than
 * failing on every node. Echo is off before the first prompt and stays off between tries (what is typed while a
 * key is being checked must not show either).
 */
async function askPassphrase(file: string, text: string): Promise<string> {
  const { stdin, stderr } = process;
  const tries = 3;
  stdin.setRawMode?.(true);
  stdin.resume();
  try {
    for (let i = 1; ; i++) {
      stderr.write(i === 1 ? `Enter passphrase for key '${file}': ` : `Bad passphrase, try again for key '${file}': `);
      const passphrase = await readHiddenLine();
      if (keyOpensWith(text, passphrase)) return passphrase;
      if (i === tries) throw new UsageError(`wrong passphrase for ${file} (${tries} tries)`);
    }
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
  }
}

/** The identity files that need a passphrase (none with an ssh-agent: the agent signs), with their text. */
async function lockedKeys(targets: SshTarget[]): Promise<{ file: string; text: string }[]> {
  if (process.env.SSH_AUTH_SOCK) return [];
  const files = [...new Set(targets.map((t) => t.identityFiles.find(Boolean)!).filter(Boolean))];
  const keys = await Promise.all(files.map(async (file) => ({ file, text: await readOptional(file) })));
  return keys.flatMap((k) => (k.text && keyIsEncrypted(k.text) ? [{ file: k.file, text: k.text }] : []));
}

/**
 * Passphrases for encrypted identity files, asked once each before any parallel work (prompts cannot run
 * inside concurrent tasks). With an ssh-agent (SSH_AUTH_SOCK) nothing is asked: the agent signs.
 */
export async function collectPassphrases(targets: SshTarget[]): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const { file: f, text } of await lockedKeys(targets)) {
    const fromEnv = process.env.HARDWAY_SSH_PASSPHRASE;
    if (fromEnv) {
      if (!keyOpensWith(text, fromEnv)) throw new UsageError(`HARDWAY_SSH_PASSPHRASE does not decrypt ${f}`);
      result.set(f, fromEnv);
    } else if (process.stdin.isTTY) {
      result.set(f, await askPassphrase(f, text));
    } else {
      throw new UsageError(`${f} is encrypted and there is no terminal to ask for its passphrase: add it to ssh-agent (ssh-add ${f}) and set SSH_AUTH_SOCK`);
    }
  }
  return result;
}

/**
 * Connections started before the command that uses them is loaded (cli.ts, for the commands that connect to every
 * node first): the nodes' handshakes run while node compiles the command's modules. connectAll hands them to the first
 * call for the same inventory, nodes and host-key policy; closeEarly ends them when no flow took them.
 */
let early: { inv: Inventory; names: string; acceptNew: boolean; conns: Promise<Connection[]>; abort: AbortController } | undefined;

const namesOf = (nodes: NodeSpec[]) => nodes.map((n) => n.name).join(',');

export async function connectEarly(inv: Inventory, nodes: NodeSpec[], opts: { acceptNew?: boolean } = {}): Promise<void> {
  // A key that needs its passphrase is left to the command: no prompt before the command line is known to be right.
  if ((await lockedKeys(await sshTargets(inv, nodes))).length) return;
  const abort = new AbortController();
  let dialing = nodes.length;
  let allDialed = () => {};
  const dialed = new Promise<void>((resolve) => (allDialed = resolve));
  const conns = connectNow(inv, nodes, { ...opts, signal: abort.signal }, () => --dialing || allDialed());
  // Read by the flow that takes them, or by closeEarly: never an unhandled rejection.
  conns.catch(() => {});
  early = { inv, names: namesOf(nodes), acceptNew: !!opts.acceptNew, conns, abort };
  // Back to the caller once every node's TCP connection is asked for, not before: the command's modules then load
  // (the main thread busy for a while) as the nodes accept and their sshd start, instead of before anything is sent.
  await Promise.race([dialed, conns.then(() => {}, () => {})]);
}

/** Ends the early connections no flow took: a handshake still under way is cut, not waited for. */
export async function closeEarly(): Promise<void> {
  const e = early;
  early = undefined;
  if (!e) return;
  e.abort.abort();
  await closeAll(await e.conns.catch(() => []));
}

/** Connects to every node in parallel; a node that fails does not stop the others. */
export async function connectAll(inv: Inventory, nodes: NodeSpec[], opts: ConnectOptions = {}): Promise<Connection[]> {
  const e = early;
  if (e && e.inv === inv && e.names === namesOf(nodes) && e.acceptNew === !!opts.acceptNew && !opts.connectTimeoutMs && !opts.passphrases && !opts.signal) {
    early = undefined;
    return e.conns;
  }
  return connectNow(inv, nodes, opts);
}

/** `dialed`: called once per node, when its connection is asked for or, failing before that, when it failed. */
async function connectNow(inv: Inventory, nodes: NodeSpec[], opts: ConnectOptions, dialed?: () => void): Promise<Connection[]> {
  const targets = await sshTargets(inv, nodes);
  const passphrases = await collectPassphrases(targets);
  return Promise.all(
    nodes.map(async (node, i): Promise<Connection> => {
      let said = false;
      const dial = () => {
        if (said) return;
        said = true;
        dialed?.();
      };
      try {
        return { node, remote: await connectRemote(targets[i]!, { ...opts, passphrases, onDial: dial }) };
      } catch (e) {
        return { node, error: e as Error };
      } finally {
        dial();
      }
    }),
  );
}

export async function closeAll(conns: Connection[]): Promise<void> {
  await Promise.all(conns.map((c) => ('remote' in c ? c.remote.close() : undefined)));
}
