import type { ParsedInventory } from './schema.js';

export interface SshSettings {
  user: string;
  port: number;
  /** Absolute path (~ and relative paths resolved). */
  identityFile: string;
  /** Absolute path. */
  knownHosts: string;
  sudo: boolean;
  /** `user@host:port`, any part but host optional. */
  jumpHost?: string;
  /** Absolute path of an OpenSSH client config to read, when set. */
  config?: string;
  /**
   * The fields left to hardway's defaults (user, port, identityFile, jumpHost): an OpenSSH config may supply
   * those, as it would for a plain `ssh` without -l/-p/-i.
   */
  defaulted: string[];
}

export interface NodeSpec {
  name: string;
  /** Where SSH connects. */
  address: string;
  /** etcd's peer/client IP. */
  internalIp: string;
  /** etcd.tls: false — its URLs are http:// on loopback (set by validation, which allows it only there). */
  plainHttp?: true;
  ssh: SshSettings;
}

/** A validated inventory with defaults filled in, paths resolved and per-node SSH settings merged. */
export interface Inventory {
  /** The file it came from (absolute), or '<memory>'. */
  file: string;
  cluster: ParsedInventory['cluster'];
  etcd: ParsedInventory['etcd'];
  pki: ParsedInventory['pki'] & { dir: string };
  /** `dir` absolute. */
  snapshots: { dir: string; /** Default 10. */ keep?: number };
  ssh: SshSettings;
  templates?: string;
  nodes: NodeSpec[];
}
