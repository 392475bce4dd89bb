import SSHConfig from 'ssh-config';
import type { NodeSpec } from '../inventory/types.js';

/**
 * Where and how to connect to one node, after applying an OpenSSH client config (Host aliases, HostName, User,
 * Port, IdentityFile, ProxyJump). Pure: the config text is passed in.
 *
 * Precedence follows OpenSSH's: what the inventory sets for a node (like `ssh -l/-p/-i` on the command line)
 * wins over the config; the config wins over hardway's defaults.
 */
export interface SshTarget {
  /** The node's name, for messages. */
  label: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Hops to go through first, outermost first. */
  jumps: JumpHop[];
  sudo: boolean;
  knownHosts: string;
}

export interface JumpHop {
  host: string;
  port: number;
  user?: string;
}

/** `user@host:port`, `host:port`, `[v6]:port`, `user@host`, or `ssh://user@host:port`. */
export function parseJumpHost(spec: string): JumpHop {
  const s = spec.replace(/^ssh:\/\//, '');
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : undefined;
  const rest = at >= 0 ? s.slice(at + 1) : s;
  let host = rest;
  let port = 22;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else if (/^[^:]+:\d+$/.test(rest)) {
    const i = rest.lastIndexOf(':');
    host = rest.slice(0, i);
    port = Number(rest.slice(i + 1));
  }
  return user ? { host, port, user } : { host, port };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function expandTilde(p: string, home: string): string {
  return p === '~' || p.startsWith('~/') ? home + p.slice(1) : p;
}

export interface TargetOptions {
  /** The OpenSSH config's text, if any. */
  sshConfig?: string;
  homeDir: string;
  /** The ssh fields the inventory left to defaults (user, port, identityFile, jumpHost). */
  defaulted?: ReadonlySet<string>;
}

export function resolveTarget(node: NodeSpec, opts: TargetOptions): SshTarget {
  const defaulted = opts.defaulted ?? new Set<string>();
  const cfg = opts.sshConfig ? SSHConfig.parse(opts.sshConfig).compute(node.address, { ignoreCase: true }) : {};
  const fromCfg = (k: string) => first(cfg[k]);
  // OpenSSH expands %h (the host as given) and %% in HostName.
  const host = (fromCfg('hostname') ?? node.address).replace(/%(%|h)/g, (_m, t: string) => (t === 'h' ? node.address : '%'));
  const cfgPort = fromCfg('port');
  const port = defaulted.has('port') && cfgPort ? Number(cfgPort) : node.ssh.port;
  const user = defaulted.has('user') ? (fromCfg('user') ?? node.ssh.user) : node.ssh.user;
  const cfgIdentities = ([] as string[]).concat(cfg['identityfile'] ?? []).map((p) => expandTilde(p, opts.homeDir));
  const identityFiles =
    defaulted.has('identityFile') && cfgIdentities.length ? [...cfgIdentities, node.ssh.identityFile] : [node.ssh.identityFile];
  const proxyJump = node.ssh.jumpHost ?? fromCfg('proxyjump');
  const jumps = proxyJump && proxyJump !== 'none' ? proxyJump.split(',').map((s) => parseJumpHost(s.trim())) : [];
  return {
    label: node.name,
    host,
    port,
    user,
    identityFiles: [...new Set(identityFiles)],
    jumps,
    sudo: node.ssh.sudo,
    knownHosts: node.ssh.knownHosts,
  };
}
