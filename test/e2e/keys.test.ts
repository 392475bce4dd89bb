/**
 * `hardway keys` on the lab's cluster: real Kubernetes values put under their keys (binary-safe, through etcdctl's
 * stdin), then read back with list, stats, get, diff and encryption, and verify's secrets-at-rest check.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { K8S_STORAGE } from '../k8s-storage.js';
import { hexdump } from '../../src/keys/hexdump.js';
import { formatBytes } from '../../src/output.js';
import { allEndpoints, ETCDCTL_TLS, etcdctl } from './etcd-helpers.js';
import { describeLab, lab, reLiteral, runHardway, sshRun, wipeNode } from './lab-helpers.js';

const DATA = K8S_STORAGE;
const pod = readFileSync(`${DATA}/pod.storage.bin`);
const podJson = JSON.parse(readFileSync(`${DATA}/pod.json`, 'utf8')) as { metadata: { name: string; namespace: string; uid: string } };
const POD_KEY = `/registry/pods/${podJson.metadata.namespace}/${podJson.metadata.name}`;

const enc = (s: string) => new TextEncoder().encode(s);

/** A value as kube-apiserver stores it unencrypted: `k8s\0` + runtime.Unknown {typeMeta, raw {metadata, …}}. */
function k8sValue(apiVersion: string, kind: string, namespace: string, name: string, data: Record<string, string> = {}): Buffer {
  const w = new BinaryWriter();
  w.raw(enc('k8s\0'));
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(apiVersion).tag(2, WireType.LengthDelimited).string(kind).join();
  w.tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(name).tag(3, WireType.LengthDelimited).string(namespace).join();
  for (const [k, v] of Object.entries(data)) w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(k).tag(2, WireType.LengthDelimited).bytes(enc(v)).join();
  w.join();
  w.tag(3, WireType.LengthDelimited).string('').tag(4, WireType.LengthDelimited).string('');
  return Buffer.from(w.finish());
}
const encryptedSecret = () => Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:key1:'), randomBytes(400)]);

const inv = () => lab().inventoryPath;
const keys = (...args: string[]) => runHardway(['keys', ...args, '-i', inv()]);
const keysJson = async <T>(...args: string[]): Promise<T> => {
  const r = await keys(...args, '--json');
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

/** `etcdctl put KEY` with the value on stdin: etcdctl stores the bytes as they come, none changed or added. */
async function put(key: string, value: Buffer, extra = ''): Promise<void> {
  const r = await sshRun(0, `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${allEndpoints()} ${ETCDCTL_TLS} put ${extra} '${key}'`, { input: value });
  expect(r.exitCode, r.stderr).toBe(0);
}
async function del(key: string): Promise<void> {
  expect((await etcdctl(0, `del '${key}'`)).stdout.trim()).toBe('1');
}
async function revision(): Promise<number> {
  const r = await etcdctl(0, 'get / --keys-only --limit=1 -w json');
  return Number(/"revision":(\d+)/.exec(r.stdout)![1]);
}

interface ListJson {
  revision: string;
  keys: { key: string; size: number; modRevision: string; lease?: string }[];
}

describeLab('hardway keys', () => {
  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    const up = await runHardway(['up', '-i', inv()]);
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
  });

  it('verify on a cluster without secrets adds no encryption problem', async () => {
    const v = await runHardway(['verify', '-i', inv()]);
    expect(v.stdout).not.toContain('[encryption]');
    expect(v.exitCode, v.stdout).toBe(0);
  });

  it('get decodes the real Pod put under its key; list and stats show it with its size', async () => {
    await put(POD_KEY, pod);
    const summary = await keys('get', POD_KEY);
    expect(summary.exitCode, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/^kind\s+Pod$/m);
    expect(summary.stdout).toMatch(new RegExp(`^name\\s+${podJson.metadata.name}$`, 'm'));
    expect(summary.stdout).toMatch(new RegExp(`^uid\\s+${podJson.metadata.uid}$`, 'm'));

    const got = await keysJson<{ modRevision: string; value: { kind: string; apiVersion: string; metadata: { name: string; namespace: string; uid: string; resourceVersion: string } } }>('get', POD_KEY);
    expect(got.value).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name: podJson.metadata.name, namespace: podJson.metadata.namespace, uid: podJson.metadata.uid } });
    expect(got.value.metadata.resourceVersion).toBe(got.modRevision);
    // Every byte as stored: the hexdump of the file itself (execa drops the last newline).
    expect((await keys('get', POD_KEY, '-o', 'hex')).stdout).toBe(hexdump(new Uint8Array(pod)).trimEnd());

    const list = await keysJson<ListJson>('list', '/registry/');
    expect(list.keys.find((k) => k.key === POD_KEY)).toMatchObject({ size: pod.length, modRevision: got.modRevision });
    const table = await keys('list');
    // SIZE in the unit that fits, as every size hardway prints (--json has the bytes).
    expect(table.stdout).toMatch(new RegExp(`^${POD_KEY}\\s+\\d+\\s+${got.modRevision}\\s+1\\s+${reLiteral(formatBytes(pod.length))}$`, 'm'));
    expect(table.stdout).toMatch(/^\d+ keys? at revision \d+ \(hardway keys diff \d+ shows what changes after it\)$/m);
  });

  it("get shows a JSON value's content by default, pretty-printed; -o decoded the decoded structure; -o json says to use --json", async () => {
    const key = '/registry/example.com/widgets/default/w1';
    const value = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'default' }, spec: { size: 3, colour: 'blue' } };
    await put(key, Buffer.from(JSON.stringify(value)));
    const r = await keys('get', key);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^format\s+JSON, \d+ bytes$/m);
    // The content itself, as JSON.stringify(…, null, 2) prints it, not only the names of its keys.
    expect(r.stdout).toContain(`\n${JSON.stringify(value, null, 2)}\n`);
    expect(r.stdout).toContain('    "colour": "blue"');
    const decoded = await keys('get', key, '-o', 'decoded');
    expect(decoded.exitCode, decoded.stderr).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({ format: 'json', kind: 'Widget', otherKeys: ['spec'] });
    const oJson = await keys('get', key, '-o', 'json');
    expect(oJson.exitCode).toBe(2);
    expect(oJson.stderr).toMatch(/the machine output is --json/);
    const envelope = await keysJson<{ key: string; value: { kind: string } }>('get', key);
    expect(envelope.value.kind).toBe('Widget');
    await del(key);
  });

  it('stats groups per resource, the API group of a custom resource, events with a lease apart', async () => {
    const lease = /lease ([0-9a-f]+) granted/.exec((await etcdctl(0, 'lease grant 900')).stdout)![1]!;
    for (const name of ['e1', 'e2']) await put(`/registry/events/default/${name}`, k8sValue('v1', 'Event', 'default', name), `--lease=${lease}`);
    await put('/registry/cert-manager.io/certificates/default/tls', Buffer.from(JSON.stringify({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'tls', namespace: 'default' } })));
    const s = await keysJson<{ groups: { resource: string; group?: string; leased: boolean; count: number; bytes: number; leases?: number; largest: { key: string } }[] }>('stats', '/registry/');
    expect(s.groups.find((g) => g.resource === 'pods')).toMatchObject({ leased: false, count: 1, bytes: pod.length, largest: { key: POD_KEY } });
    expect(s.groups.find((g) => g.resource === 'events')).toMatchObject({ leased: true, count: 2, leases: 1 });
    expect(s.groups.find((g) => g.resource === 'certificates.cert-manager.io')).toMatchObject({ group: 'cert-manager.io', count: 1 });
    const table = await keys('stats');
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/With a lease .*: 2 keys/);
  });

  it('diff reports a put, an overwrite, a delete and a create-then-delete between two revisions, each with its kind and name', async () => {
    const cm = (name: string, v = '1') => k8sValue('v1', 'ConfigMap', 'default', name, { v });
    const key = (name: string) => `/registry/configmaps/default/${name}`;
    await put(key('kept'), cm('kept'));
    await put(key('gone'), cm('gone'));
    const r0 = await revision();
    await put(key('new'), cm('new'));
    await put(key('kept'), cm('kept', '2'));
    await del(key('gone'));
    await put(key('brief'), cm('brief'));
    await del(key('brief'));
    const r1 = await revision();
    await put(key('after'), cm('after'));

    type Diff = { from: string; to: string; changes: { key: string; change: string; kind?: string; name?: string; namespace?: string; writes: number }[] };
    const d = await keysJson<Diff>('diff', String(r0), String(r1));
    expect(d).toMatchObject({ from: String(r0), to: String(r1) });
    expect(d.changes.map((c) => [c.key, c.change, c.kind, `${c.namespace}/${c.name}`, c.writes])).toEqual([
      [key('brief'), 'created-and-deleted', 'ConfigMap', 'default/brief', 2],
      [key('gone'), 'deleted', 'ConfigMap', 'default/gone', 1],
      [key('kept'), 'modified', 'ConfigMap', 'default/kept', 1],
      [key('new'), 'created', 'ConfigMap', 'default/new', 1],
    ]);
    // Without REV2: up to now, the write after r1 too.
    const now = await keysJson<Diff>('diff', String(r0));
    expect(now.changes.map((c) => c.key)).toContain(key('after'));
    const table = await keys('diff', String(r0), String(r1));
    expect(table.stdout).toMatch(/^created\+deleted\s+\/registry\/configmaps\/default\/brief\s+ConfigMap \(v1\)\s+default\/brief\s+2\s+\d+…\d+$/m);
    expect(table.stdout).toContain(`from revision ${r0} to ${r1}: 1 created, 1 modified, 1 deleted, 1 created and deleted in between`);

    // Compacted up to r1: r0 is gone, and the message names the oldest revision left.
    expect((await etcdctl(0, `compact ${r1}`)).exitCode).toBe(0);
    const compacted = await keys('diff', String(r0 - 1));
    expect(compacted.exitCode).toBe(1);
    expect(compacted.stderr).toContain(`revision ${r0 - 1} has been compacted: the oldest revision still available is ${r1}`);
    expect((await keys('list', '--rev', String(r1))).exitCode).toBe(0);
  });

  it('encryption: one plain and one encrypted secret is exit 1 naming the plain one; verify says so; only encrypted is exit 0', async () => {
    await put('/registry/secrets/default/sealed', encryptedSecret());
    await put('/registry/secrets/kube-system/plain', k8sValue('v1', 'Secret', 'kube-system', 'plain', { password: 'hunter2' }));
    const r = await keys('encryption');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^2 secrets at revision \d+: 1 encrypted, 1 not$/m);
    expect(r.stdout).toMatch(/^aescbc v1 {2,}key1 {2,}1$/m);
    expect(r.stdout).toMatch(/^ {2}kube-system\/plain \(protobuf, \d+ B\)$/m);
    expect(r.stdout).not.toMatch(/^ {2}default\/sealed/m);
    expect(r.stdout).toContain('kubectl get secrets -A -o json | kubectl replace -f -');
    const json = JSON.parse((await keys('encryption', '--json')).stdout) as { unencrypted: { namespace: string; name: string }[] };
    expect(json.unencrypted.map((s) => `${s.namespace}/${s.name}`)).toEqual(['kube-system/plain']);

    const v = await runHardway(['verify', '-i', inv()]);
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toMatch(/\[encryption\] secret kube-system\/plain is not encrypted at rest/);
    expect(v.stdout).not.toMatch(/\[encryption\] secret default\/sealed/);

    await put('/registry/secrets/kube-system/plain', encryptedSecret());
    const fixed = await keys('encryption');
    expect(fixed.exitCode, fixed.stdout).toBe(0);
    expect(fixed.stdout).toMatch(/^2 secrets at revision \d+: 2 encrypted, 0 not$/m);
    expect((await runHardway(['verify', '-i', inv()])).stdout).not.toContain('[encryption]');
  });

  it('list and stats read 2 100 keys in pages, every key once', async () => {
    // etcd takes at most 128 operations per transaction: 17 of them, in one shell on the node.
    const etcdctlCmd = `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${allEndpoints()} ${ETCDCTL_TLS}`;
    const fill = `for t in $(seq 0 16); do { echo; for i in $(seq 0 127); do n=$((t * 128 + i)); [ $n -lt 2100 ] && printf 'put /registry/paging/ns/k%05d value-%d\\n' $n $n; done; echo; echo; } | ${etcdctlCmd} txn >/dev/null || exit 1; done`;
    expect((await sshRun(0, fill, { timeoutMs: 120_000 })).exitCode).toBe(0);
    const list = await keysJson<ListJson>('list', '/registry/paging/');
    expect(list.keys).toHaveLength(2100);
    expect(new Set(list.keys.map((k) => k.key)).size).toBe(2100);
    expect(list.keys[1234]).toMatchObject({ key: '/registry/paging/ns/k01234', size: 'value-1234'.length });
    const s = await keysJson<{ count: number; bytes: number; groups: { resource: string; count: number }[] }>('stats', '/registry/paging/');
    expect(s.groups).toEqual([expect.objectContaining({ resource: 'paging', count: 2100 })]);
    expect(s.bytes).toBe(list.keys.reduce((n, k) => n + k.size, 0));
  });

  it('a missing key is exit 1 "no such key"; a value nothing decodes is a hexdump, exit 0', async () => {
    const missing = await keys('get', '/registry/pods/default/nope');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no such key: \/registry\/pods\/default\/nope/);
    const junk = Buffer.concat([Buffer.from([0x00, 0xff, 0x13, 0x37]), randomBytes(60)]);
    await put('/junk', junk);
    const r = await keys('get', '/junk');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^format\s+binary \(no known format\), 64 bytes$/m);
    expect(r.stdout).toContain(hexdump(new Uint8Array(junk)).split('\n')[0]);
  });
});
