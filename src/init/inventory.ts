import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { FileError } from '../errors.js';
import { packageRoot } from '../render/template.js';
import type { Machine } from './machines.js';

/**
 * `hardway init`: an inventory to start from, for either edition of the guide, written from the example inventory
 * so that it keeps the example's comments. Pure but for reading the example.
 */

export type Edition = 'current' | '2020';
export const EDITIONS: readonly Edition[] = ['current', '2020'];

/** The releases each edition's guide installs (the user points `tarball` at the one they downloaded). */
const ETCD = { current: '3.6.5', '2020': '3.4.23' } as const;

export interface InitInput {
  edition: Edition;
  /** From `--from machines.txt`; without it, the guide's own names and addresses. */
  machines?: Machine[];
  machinesFile?: string;
}

export const exampleInventoryPath = () => path.join(packageRoot(), 'inventory.example.yaml');

/** The machines that run etcd: the current edition's `server`, or the 2020 edition's `controller-*`. */
function etcdMachines(input: InitInput): { name: string; address: string; comment?: string }[] {
  const { edition, machines, machinesFile = 'machines.txt' } = input;
  if (!machines) {
    return edition === 'current'
      ? [{ name: 'controller', address: 'server.kubernetes.local' }]
      : [0, 1, 2].map((i) => ({ name: `controller-${i}`, address: `10.240.0.${10 + i}` }));
  }
  const picked = edition === 'current' ? machines.filter((m) => m.hostname === 'server') : machines.filter((m) => /^controller-\d+$/.test(m.hostname));
  if (!picked.length) {
    const want = edition === 'current' ? "a line for the machine named 'server' (the current edition runs etcd there)" : "'controller-N' lines (the 2020 edition runs etcd on its controllers)";
    throw new FileError([{ file: machinesFile, line: 1, col: 1, message: `no etcd machine for the ${edition} edition: expected ${want}` }]);
  }
  // The current edition names the member `controller` (`--name controller`), whatever the machine's hostname.
  return picked.map((m) => ({ name: edition === 'current' ? 'controller' : m.hostname, address: m.ip, comment: ` ${m.fqdn}, ${machinesFile}:${m.line}` }));
}

function setWithComment(doc: Document, keyPath: string[], value: unknown, comment: string): void {
  const node = doc.createNode(value) as { comment?: string };
  node.comment = comment;
  doc.setIn(keyPath, node);
}

export async function initInventory(input: InitInput): Promise<string> {
  const doc = parseDocument(await readFile(exampleInventoryPath(), 'utf8'));
  const version = ETCD[input.edition];
  setWithComment(doc, ['etcd', 'version'], version, ` the guide's ${input.edition === 'current' ? 'current' : '2020'} edition; set the release you downloaded`);
  setWithComment(doc, ['etcd', 'tarball'], `./downloads/etcd-v${version}-linux-amd64.tar.gz`, ' or …-linux-arm64.tar.gz on arm64 machines');
  if (input.edition === 'current') {
    setWithComment(doc, ['etcd', 'tls'], false, ' plain HTTP on 127.0.0.1 only, as the current edition runs it (one server; peers on a network need TLS)');
    doc.deleteIn(['etcd', 'listenLocalhost']);
  }
  setWithComment(doc, ['ssh', 'user'], 'root', ' the guide logs in as root from the jumpbox');
  setWithComment(doc, ['ssh', 'identityFile'], '~/.ssh/id_rsa', " the key 'ssh-keygen' makes on the jumpbox (ssh-copy-id'd to every machine)");
  const nodes = doc.createNode(etcdMachines(input).map(({ name, address }) => ({ name, address })));
  etcdMachines(input).forEach((m, i) => {
    const item = (nodes as unknown as { items: { comment?: string }[] }).items[i];
    if (item && m.comment) item.comment = m.comment;
  });
  doc.setIn(['nodes'], nodes);
  return doc.toString({ lineWidth: 0 });
}
