import { unknownName } from '../suggest.js';
import { isIP, isIPv6 } from 'node:net';
import type { Inventory, NodeSpec } from './types.js';

/**
 * Every value derived from the inventory is computed here, once: templates, PKI, provisioning and
 * verification all read them from this module so that they can never disagree.
 */

export const PEER_PORT = 2380;
export const CLIENT_PORT = 2379;

/** An IP as it goes into a URL (IPv6 in brackets). */
function urlHost(ip: string): string {
  return isIPv6(ip) ? `[${ip}]` : ip;
}

const scheme = (node: NodeSpec) => (node.plainHttp ? 'http' : 'https');

export function peerUrl(node: NodeSpec): string {
  return `${scheme(node)}://${urlHost(node.internalIp)}:${PEER_PORT}`;
}

export function clientUrl(node: NodeSpec): string {
  return `${scheme(node)}://${urlHost(node.internalIp)}:${CLIENT_PORT}`;
}

/** An address that never leaves the machine: 127.0.0.0/8 or ::1. */
export function isLoopback(ip: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(ip) || ip === '::1';
}

/** A URL's host that never leaves the machine: a loopback IP (bracketed or not) or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return isLoopback(h) || h === 'localhost';
}

/**
 * What etcd listens on for clients: the node's IP, plus loopback when `listenLocalhost` (as KTHW does); a plain-HTTP
 * node already listens on loopback only.
 */
export function listenClientUrls(inv: Inventory, node: NodeSpec): string[] {
  const urls = [clientUrl(node)];
  if (inv.etcd.listenLocalhost && !node.plainHttp) urls.push(`https://127.0.0.1:${CLIENT_PORT}`);
  return urls;
}

/** `--initial-cluster`: `name=https://ip:2380,…` in inventory order. */
export function initialCluster(inv: Inventory): string {
  return inv.nodes.map((n) => `${n.name}=${peerUrl(n)}`).join(',');
}

export interface SanList {
  ips: string[];
  dns: string[];
}

/** The leaf certificate's SANs: every node's internal IP and address, 127.0.0.1, every node name, extraSans. */
export function sanList(inv: Inventory): SanList {
  const all = [
    ...inv.nodes.flatMap((n) => [n.internalIp, n.address]),
    '127.0.0.1',
    ...inv.nodes.map((n) => n.name),
    ...inv.pki.extraSans,
  ];
  const ips: string[] = [];
  const dns: string[] = [];
  for (const v of all) {
    const list = isIP(v) ? ips : dns;
    if (!list.includes(v)) list.push(v);
  }
  return { ips, dns };
}

/** How many members may fail while the cluster keeps quorum. */
export function faultTolerance(members: number): number {
  return members <= 0 ? 0 : Math.floor((members - 1) / 2);
}

export function quorum(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** etcd's own limits on timing flags (embed/config.go): etcd refuses to start outside them. */
export const MAX_ELECTION_TIMEOUT_MS = 50_000;
export const MIN_ELECTION_TO_HEARTBEAT = 5;

export function findNode(inv: Inventory, name: string): NodeSpec | undefined {
  return inv.nodes.find((n) => n.name === name);
}

/** The usage error's message for `--nodes` names not in the inventory, with a "did you mean" for a misspelt one. */
export function unknownNodesMessage(inv: Inventory, unknown: string[], flag = '--nodes'): string {
  const names = inv.nodes.map((n) => n.name);
  return unknownName(`${flag}: no node named ${unknown.map((n) => `'${n}'`).join(', ')} in ${inv.file}`, unknown[0]!, names, `nodes: ${names.join(', ')}`);
}

/** The nodes named by `--nodes a,b`, in inventory order; an unknown name is a usage error for the caller. */
export function selectNodes(inv: Inventory, names?: string[]): { nodes: NodeSpec[]; unknown: string[] } {
  if (!names || names.length === 0) return { nodes: inv.nodes, unknown: [] };
  const unknown = names.filter((n) => !findNode(inv, n));
  return { nodes: inv.nodes.filter((n) => names.includes(n.name)), unknown };
}
