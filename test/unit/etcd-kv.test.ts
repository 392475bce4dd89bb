import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EtcdctlError } from '../../src/etcd/errors.js';
import { getArgs, parseEtcdGet } from '../../src/etcd/get.js';
import { getKeys, getSizes, watchUntil } from '../../src/etcd/kv.js';
import { parseSizedPage, sizedGetScript } from '../../src/etcd/sized-get.js';
import { parseSnapshotStatus } from '../../src/etcd/tools.js';
import { parseWatchOutput, watchLineProgress } from '../../src/etcd/watch.js';
import { shq } from '../../src/ssh/remote.js';
import { scriptedRemote, type Answer } from './scripted-remote.js';

/**
 * The keyspace reads of etcd/ against what etcdctl 3.4.23 and 3.5.16 really print (test/fixtures/etcdctl/<version>/
 * *.stdout: a one-member etcd of that release on loopback over plain HTTP, with /registry/configmaps/default/a = hello,
 * /registry/leases/kube-system/l = x under a lease, /registry/configmaps/default/empty = '' and a binary pod at
 * revision 5; then a=hello2 (6), empty deleted (7), b=b (8); watch.stdout is the watch from revision 6, and
 * watch-compacted.stdout the watch from 2 after `compact 7`; snapshot-status.stdout is `snapshot status -w json` of
 * a snapshot saved then, by etcdctl for 3.4 and etcdutl for 3.5).
 */
const FIXTURES = path.join(import.meta.dirname, '../fixtures/etcdctl');
const fixture = (version: string, name: string) => readFileSync(path.join(FIXTURES, version, name), 'utf8');
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe.each(['3.4.23', '3.5.16'])("etcdctl %s's output", (version) => {
  it('get -w json: one key with its value, a missing key, the revision of the smallest read', () => {
    const one = parseEtcdGet(fixture(version, 'get-key.stdout'));
    expect(one).toMatchObject({ revision: '5', raftTerm: '2', count: 1, more: false });
    expect(one.kvs).toHaveLength(1);
    expect(one.kvs[0]).toMatchObject({ key: '/registry/configmaps/default/a', createRevision: '2', modRevision: '2', version: '1' });
    expect(text(one.kvs[0]!.value)).toBe('hello');
    // IDs above 2^53 read whole, in hex as etcdctl's table prints them.
    expect(one.clusterId).toMatch(/^[0-9a-f]{15,16}$/);
    expect(BigInt(`0x${one.clusterId}`).toString()).toBe(/"cluster_id":(\d+)/.exec(fixture(version, 'get-key.stdout'))![1]);
    const missing = parseEtcdGet(fixture(version, 'get-missing.stdout'));
    expect(missing).toMatchObject({ revision: '5', kvs: [], count: 0 });
    expect(parseEtcdGet(fixture(version, 'get-revision.stdout'))).toMatchObject({ revision: '5', more: true, count: 4 });
  });

  it('a page through the size filter: each value by its size, the lease in hex, an empty value 0 bytes', () => {
    const raw = fixture(version, 'get-page.stdout');
    const r = spawnSync('sh', ['-c', sizedGetScript(`printf '%s\\n' ${shq(raw.trim())}`, 3)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const page = parseSizedPage(r.stdout);
    const plain = parseEtcdGet(raw);
    expect(page).toMatchObject({ revision: '5', more: true, count: 4 });
    expect(page.kvs.map((k) => k.key)).toEqual(['/registry/configmaps/default/a', '/registry/configmaps/default/empty', '/registry/leases/kube-system/l']);
    expect(page.kvs.map((k) => k.size)).toEqual(plain.kvs.map((k) => k.value.length));
    expect(page.kvs.map((k) => k.size)).toEqual([5, 0, 1]);
    expect(text(page.kvs[0]!.head!)).toBe('hel');
    expect(page.kvs[2]!.lease).toBe(plain.kvs[2]!.lease);
    expect(BigInt(`0x${page.kvs[2]!.lease}`).toString()).toBe(/"lease":(\d+)/.exec(raw)![1]);
  });

  it('watch -w json: a put with its previous value, a delete, a create; the revision a line reaches', () => {
    const out = parseWatchOutput(fixture(version, 'watch.stdout'));
    expect(out.canceled).toBe(false);
    expect(out.compactRevision).toBeUndefined();
    expect(out.events.map((e) => [e.type, e.key, e.kv.modRevision])).toEqual([
      ['put', '/registry/configmaps/default/a', '6'],
      ['delete', '/registry/configmaps/default/empty', '7'],
      ['put', '/registry/configmaps/default/b', '8'],
    ]);
    expect(text(out.events[0]!.kv.value)).toBe('hello2');
    expect(text(out.events[0]!.prev!.value)).toBe('hello');
    expect(out.events[1]!.prev).toMatchObject({ createRevision: '4', modRevision: '4' });
    expect(watchLineProgress(fixture(version, 'watch.stdout').trim())).toEqual({ revision: 8n, canceled: false });
  });

  it('a watch from a compacted revision: cancelled, naming the revision etcd compacted at', () => {
    const raw = fixture(version, 'watch-compacted.stdout');
    expect(parseWatchOutput(raw)).toEqual({ events: [], canceled: true, compactRevision: '7' });
    expect(watchLineProgress(raw.trim())).toEqual({ revision: 0n, canceled: true });
  });

  it('snapshot status -w json', () => {
    expect(parseSnapshotStatus(fixture(version, 'snapshot-status.stdout'))).toMatchObject({ revision: 8, totalSize: 20480, hash: expect.any(Number) as number, totalKey: expect.any(Number) as number });
  });

  it("a read of a compacted revision fails with etcdctl's one line, never its log record", async () => {
    const stderr = fixture(version, 'get-compacted-revision.stderr');
    const t = { remote: scriptedRemote('controller-0', [], [[/ get /, { code: 1, stderr }]]), endpoints: ['https://10.240.0.10:2379'] };
    const e = await getKeys(t, { key: '/a', rev: '2' }, 'etcdctl get "/a"').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EtcdctlError);
    expect(e).toMatchObject({ what: 'etcdctl get "/a"', reason: 'Error: etcdserver: mvcc: required revision has been compacted', timedOut: false });
  });
});

describe('getArgs: a typed read as etcdctl get arguments', () => {
  it('one key, a range, every key from one on, with the limit, revision and keys-only asked', () => {
    expect(getArgs({ key: '/a' })).toEqual(['-w', 'json', '--', '/a']);
    expect(getArgs({ key: '/registry/', end: '/registry0', limit: 1000, rev: '42' })).toEqual(['-w', 'json', '--limit=1000', '--rev=42', '--', '/registry/', '/registry0']);
    expect(getArgs({ key: '', fromKey: true, limit: 1, keysOnly: true })).toEqual(['-w', 'json', '--keys-only', '--limit=1', '--from-key', '--', '']);
    // A key that looks like a flag stays a key.
    expect(getArgs({ key: '--help' })).toEqual(['-w', 'json', '--', '--help']);
  });
});

describe('the reads over a node', () => {
  const target = (rules: [RegExp, Answer][], log: string[] = []) => ({ remote: scriptedRemote('controller-0', log, rules), endpoints: ['https://10.240.0.10:2379', 'https://10.240.0.11:2379'] });

  it('get: etcdctl with every endpoint, the certificates and a 30 s deadline, read as JSON', async () => {
    const log: string[] = [];
    const r = await getKeys(target([[/ get /, { stdout: fixture('3.5.16', 'get-key.stdout') }]], log), { key: '/registry/configmaps/default/a' }, 'x');
    expect(r.kvs[0]!.key).toBe('/registry/configmaps/default/a');
    expect(log[0]).toMatch(/^controller-0: ETCDCTL_API=3 \/usr\/local\/bin\/etcdctl --endpoints=https:\/\/10\.240\.0\.10:2379,https:\/\/10\.240\.0\.11:2379 --cacert=\S+ --cert=\S+ --key=\S+ --command-timeout=30s --dial-timeout=3s get -w json -- \/registry\/configmaps\/default\/a$/);
  });

  it('an etcdctl that exits 0 having printed nothing is a failure, not an empty keyspace', async () => {
    await expect(getSizes(target([[/ get /, { stdout: '\n' }]]), { key: '', fromKey: true }, 'etcdctl get ""')).rejects.toThrow(/^etcdctl get "": etcdctl printed nothing$/);
  });

  it("a time-out says how long SSH waited (etcdctl's 30 s and the margin)", async () => {
    const e = await getKeys(target([[/ get /, { code: null, timedOut: true }]]), { key: '/a' }, 'etcdctl get "/a"').catch((x: unknown) => x);
    expect(e).toMatchObject({ reason: 'timed out after 45 s', timedOut: true });
  });

  it('watch: stops reading at the revision asked for, and says a time-out from the node', async () => {
    const w = await watchUntil(target([[/ watch /, { code: 143, stdout: fixture('3.4.23', 'watch.stdout') }]]), '6', 7n, 60);
    expect(w).toMatchObject({ reached: true, timedOut: false });
    const short = await watchUntil(target([[/ watch /, { code: 124, stdout: fixture('3.4.23', 'watch.stdout') }]]), '6', 9n, 5);
    expect(short).toMatchObject({ reached: false, timedOut: true });
    expect(short.out.events).toHaveLength(3);
  });
});
