import { OperationError } from '../errors.js';
import { CLIENT_PORT } from '../inventory/derive.js';
import { usable, type HostsRun, type Connected } from '../engine/hosts.js';
import { sha256Hex } from '../pki/bundle.js';
import { must } from '../engine/must.js';
import { bufferSource } from '../release/artifacts.js';
import { endpointHealth, leaderName, waitHealthy } from '../etcd/health.js';
import { checkQuorumWithout } from '../provision/up-steps.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq } from '../ssh/remote.js';
import type { NodeCerts } from '../pki/installed.js';
import { servedCert, type ClientIdentity, type Served } from './served.js';

/** What `pki renew` and `pki rotate-ca` do on the nodes: install a leaf or a trust file, look, restart one at a time. */

export type { Connected };

export interface CertsOptions {
  yes?: boolean;
  isTTY?: boolean;
  json?: boolean;
  /** How long each member may take to be healthy (default 60 s). */
  waitMs?: number;
  now?: Date;
  /** What a member serves on a new connection (default: a TLS handshake through its SSH connection). */
  serve?: (h: Connected, client?: ClientIdentity) => Promise<Served>;
}

export interface CertsRun extends HostsRun {
  opts: CertsOptions;
  /** What was done, one line each, for the report. */
  done: string[];
}

export const did = (r: CertsRun, line: string): void => {
  r.done.push(line);
  r.log(line);
};

export const connected = (r: HostsRun): Connected[] => r.hosts.filter(usable) as Connected[];
export const waitMsOf = (r: CertsRun): number => r.opts.waitMs ?? 60_000;
/** A health check is a linearizable read: allow a slow (tuned) cluster a few heartbeats, as `up` does. */
export const healthTimeoutS = (r: HostsRun): number => Math.max(3, Math.ceil((2 * r.inv.etcd.heartbeatInterval) / 1000) + 2);

/** Every inventory node reachable, or nothing is done (a rotation must reach every member). */
export function requireAll(r: HostsRun, what: string): void {
  const down = r.hosts.filter((h) => !usable(h));
  if (down.length) {
    throw new OperationError(`${what} needs every inventory node, and ${down.map((h) => `${h.node.name} (${h.outcome.reason ?? 'not connected'})`).join(', ')} cannot be reached. Nothing was changed.`);
  }
}

/** The member serving `h`'s client port, as a new connection sees it; undefined when it cannot be told (said in the log). */
export async function served(r: CertsRun, h: Connected, client?: ClientIdentity): Promise<Served | undefined> {
  try {
    return await (r.opts.serve ?? ((x, c) => servedCert(x.remote, x.node.internalIp, CLIENT_PORT, c)))(h, client);
  } catch (e) {
    r.log(`${h.node.name}: cannot tell which certificate it serves: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * Installs a leaf, and its key only when the node's differs: etcd reads kubernetes.pem and kubernetes-key.pem
 * separately for every new connection, so two files can never change at once. With the key kept, the certificate
 * is one atomic rename; with a new key both are uploaded under temporary names first and renamed by one command,
 * which leaves a window of a millisecond or so.
 */
export async function installLeaf(h: Connected, certPem: string, keyPem: string, nodeKeySha?: string): Promise<string> {
  const cert = bufferSource(Buffer.from(certPem));
  if (nodeKeySha === sha256Hex(keyPem)) {
    await h.remote.upload(cert, REMOTE_PATHS.cert, 0o600);
    return `wrote ${REMOTE_PATHS.cert} (its key kept)`;
  }
  const tmp = (p: string) => p.replace(/\/([^/]+)$/, '/.$1.hardway-new');
  await h.remote.upload(bufferSource(Buffer.from(keyPem)), tmp(REMOTE_PATHS.key), 0o600);
  await h.remote.upload(cert, tmp(REMOTE_PATHS.cert), 0o600);
  await must(h.remote, `mv -f ${shq(tmp(REMOTE_PATHS.key))} ${shq(REMOTE_PATHS.key)} && mv -f ${shq(tmp(REMOTE_PATHS.cert))} ${shq(REMOTE_PATHS.cert)}`, `installing ${REMOTE_PATHS.cert} and its key`);
  return `wrote ${REMOTE_PATHS.cert} and ${REMOTE_PATHS.key}`;
}

export async function installTrust(h: Connected, trustPem: string): Promise<void> {
  await h.remote.upload(bufferSource(Buffer.from(trustPem)), REMOTE_PATHS.caCert, 0o600);
}

/** A node other than `h` to ask the cluster through (its etcdctl reaches every member). */
function askerFor(r: HostsRun, h: Connected): Connected {
  return connected(r).find((x) => x !== h) ?? h;
}

/**
 * Restarts the members of `todo` one at a time, the leader last (asked again before each: a restart can move it),
 * each only while the others keep a healthy quorum, and each healthy (with every other member) before the next.
 * `onDone` records progress, so that a run killed in between restarts only the members left.
 */
export async function restartRolling(r: CertsRun, todo: Connected[], why: string, onDone: (h: Connected) => Promise<void>): Promise<void> {
  const left = [...todo];
  const timeoutS = healthTimeoutS(r);
  while (left.length) {
    const leader = await leaderName(askerFor(r, left[0]!).remote, r.inv);
    const i = left.length > 1 ? Math.max(0, left.findIndex((h) => h.node.name !== leader)) : 0;
    const h = left.splice(i, 1)[0]!;
    const asker = askerFor(r, h);
    await checkQuorumWithout(asker.remote, r.inv.nodes, h.node, timeoutS);
    const others = r.inv.nodes.filter((n) => n.name !== h.node.name);
    if (others.length) await waitHealthy(asker.remote, others, waitMsOf(r), r.log, timeoutS);
    r.log(`restarting etcd on ${h.node.name}${h.node.name === leader ? ' (the leader: it hands leadership on as it stops)' : ''}: ${why}`);
    await must(h.remote, 'systemctl restart etcd.service', `systemctl restart etcd on ${h.node.name}`, waitMsOf(r));
    await waitHealthy(asker.remote, r.inv.nodes, waitMsOf(r), r.log, timeoutS);
    await onDone(h);
  }
}

/** Whether any member answers healthy now (one short round): a cluster that is down is started, not rolled. */
export async function anyHealthy(r: HostsRun): Promise<boolean> {
  const probe = connected(r)[0];
  if (!probe) return false;
  const health = await endpointHealth(probe.remote, r.inv.nodes, healthTimeoutS(r)).catch(() => []);
  return health.some((x) => x.health);
}

/**
 * The key a new leaf is issued for: pki.dir's; else the one every node holds, copied into pki.dir (so that pki.dir
 * is whole again, and only kubernetes.pem changes on the nodes); else a new one.
 */
export async function leafKey(r: HostsRun, localKey: string | undefined, nodes: NodeCerts[], keyBits: number): Promise<{ pem: string; from: 'pki.dir' | 'nodes' | 'new' }> {
  if (localKey !== undefined) return { pem: localKey, from: 'pki.dir' };
  const shas = new Set(nodes.map((n) => n.installed?.keySha256));
  const sha = [...shas][0];
  const holder = connected(r).find((h) => nodes.find((n) => n.node.name === h.node.name)?.installed?.keySha256 === sha);
  if (shas.size === 1 && sha && holder) {
    const pem = await must(holder.remote, `cat ${shq(REMOTE_PATHS.key)}`, `reading ${REMOTE_PATHS.key} on ${holder.node.name}`);
    if (sha256Hex(pem) === sha) return { pem, from: 'nodes' };
  }
  const { generateRsaKey } = await import('../pki/keys.js');
  return { pem: await generateRsaKey(keyBits), from: 'new' };
}

export const activeOf = (n: NodeCerts | undefined): boolean => n?.installed?.active === 'active';
