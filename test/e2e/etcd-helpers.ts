/** etcd-side helpers for e2e tests: etcdctl run by the test itself over plain OpenSSH, and scratch inventories. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { lab, sshOk, sshRun, type NodeRef } from './lab-helpers.js';

export const ETCDCTL_TLS = '--cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem';

export function allEndpoints(): string {
  return lab()
    .nodes.map((n) => `https://${n.address}:2379`)
    .join(',');
}

/** etcdctl on a node, with the installed certs, against every lab endpoint unless told otherwise. */
export function etcdctl(ref: NodeRef, args: string, endpoints = allEndpoints()) {
  return sshRun(ref, `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${endpoints} ${ETCDCTL_TLS} --command-timeout=5s ${args}`, { timeoutMs: 30_000 });
}

export async function memberNames(ref: NodeRef = 0): Promise<{ name: string; started: boolean }[]> {
  const r = await etcdctl(ref, 'member list -w simple');
  if (r.exitCode !== 0) throw new Error(`member list failed: ${r.stderr}`);
  // "ID, Status, Name, Peer Addrs, Client Addrs, Is Learner"
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(', '))
    .map((f) => ({ name: f[2] ?? '', started: f[1] === 'started' }));
}

export async function healthyCount(ref: NodeRef = 0): Promise<number> {
  const r = await etcdctl(ref, 'endpoint health -w json');
  const line = r.stdout.split('\n').find((l) => l.startsWith('['));
  return line ? (JSON.parse(line) as { health: boolean }[]).filter((h) => h.health).length : 0;
}

export async function mainPid(ref: NodeRef): Promise<string> {
  return (await sshOk(ref, 'systemctl show -p MainPID --value etcd.service')).trim();
}

/**
 * A copy of the lab inventory in a temp dir, edited through yaml's document API (the lab's paths are absolute, so
 * the copy points at the same key, known_hosts, tarball and PKI unless edited).
 */
export async function scratchInventory(edit: (doc: ReturnType<typeof parseDocument>, dir: string) => void): Promise<string> {
  const doc = parseDocument(await readFile(lab().inventoryPath, 'utf8'));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-inv-'));
  edit(doc, dir);
  const file = path.join(dir, 'inventory.yaml');
  await writeFile(file, doc.toString());
  return file;
}

export const MANAGED_FILES = [
  '/usr/local/bin/etcd',
  '/usr/local/bin/etcdctl',
  '/etc/etcd/ca.pem',
  '/etc/etcd/kubernetes.pem',
  '/etc/etcd/kubernetes-key.pem',
  '/etc/systemd/system/etcd.service',
];

/** `stat` of the managed files: path, mode, owner, mtime in ns. */
export async function managedStat(ref: NodeRef): Promise<string> {
  return sshOk(ref, `stat -c '%n %a %U %.9Y' ${MANAGED_FILES.join(' ')} /etc/etcd /var/lib/etcd`);
}
