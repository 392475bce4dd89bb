import { describe, expect, it } from 'vitest';
import { OperationError } from '../../src/errors.js';
import { CompactedError, currentRevision, diffRevisions, getKey, listKeys, type Asker } from '../../src/keys/read.js';
import { scriptedRemote, type Answer } from './scripted-remote.js';

/**
 * The reading flows against a node that answers like etcdctl would (after the node-side size filter, which
 * keys-listing.test.ts runs for real): paging, one revision for all pages, compaction, missing keys, the watch.
 */

const b64 = (s: string) => Buffer.from(s).toString('base64');
const HEADER = '"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":REV,"raft_term":2}';

interface FakeKey {
  key: string;
  size: number;
}

/** The etcdctl arguments after ` -- ` in a get command: the range start and end (keys here need no quoting). */
function rangeOf(cmd: string): { start: string; end?: string; fromKey: boolean; limit: number; rev?: string } {
  const tail = / -- (\S+)(?: (\S+))?;/.exec(cmd)!;
  const unq = (s: string) => (s === "''" ? '' : s);
  return { start: unq(tail[1]!), ...(tail[2] ? { end: unq(tail[2]) } : {}), fromKey: cmd.includes('--from-key'), limit: Number(/--limit=(\d+)/.exec(cmd)![1]), ...(/--rev=(\d+)/.test(cmd) ? { rev: /--rev=(\d+)/.exec(cmd)![1]! } : {}) };
}

/** A keyspace at revision `rev` answering sized pages as the node's filter prints them. */
function keyspace(keys: FakeKey[], rev = 500): Answer {
  const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : 1));
  return (cmd) => {
    const r = rangeOf(cmd);
    const inRange = sorted.filter((k) => k.key >= r.start && (r.fromKey || r.end === undefined || k.key < r.end));
    const page = inRange.slice(0, r.limit);
    const kvs = page.map((k, i) => `{"key":"${b64(k.key)}","create_revision":${i + 2},"mod_revision":${i + 3},"version":1,"value_size":${k.size}}`);
    const more = inRange.length > page.length ? ',"more":true' : '';
    return { stdout: `{${HEADER.replace('REV', r.rev ?? String(rev))},"kvs":[${kvs.join(',')}]${more},"count":${inRange.length}}\n` };
  };
}

const asker = (rules: [RegExp, Answer][], log: string[] = []): Asker => ({ remote: scriptedRemote('controller-0', log, rules), endpoints: ['https://10.240.0.10:2379'] });
const GET = / get /;
const WATCH = / watch /;

describe('listKeys', () => {
  const many = Array.from({ length: 2500 }, (_, i) => ({ key: `/registry/configmaps/ns/cm-${String(i).padStart(5, '0')}`, size: 10_000 }));

  it('reads every key once, in pages sized to the values, all at the revision of the first page', async () => {
    const log: string[] = [];
    const l = await listKeys(asker([[GET, keyspace([...many, { key: '/registry/pods/ns/p', size: 5 }, { key: '/other', size: 1 }])]], log), '/registry/configmaps/');
    expect(l.revision).toBe('500');
    expect(l.keys).toHaveLength(2500);
    expect(new Set(l.keys.map((k) => k.key)).size).toBe(2500);
    expect(l.keys.every((k) => k.size === 10_000)).toBe(true);
    const limits = log.map((c) => Number(/--limit=(\d+)/.exec(c)![1]));
    // 10 kB values: 1000 is 10 MB; the next page grows to 16 MiB (1678 keys, asked with the repeated key).
    expect(limits).toEqual([1000, 1679]);
    expect(log[0]).not.toContain('--rev=');
    expect(log[1]).toContain('--rev=500');
    expect(log[1]).toContain(' -- /registry/configmaps/ns/cm-00999 /registry/configmaps0;');
    // The node-side filter and etcdctl's own status: never values over SSH.
    expect(log.every((c) => c.includes('awk -v head=0') && c.includes('echo $? >&4'))).toBe(true);
  });

  it('reads the whole keyspace --from-key, and the first bytes of values when asked', async () => {
    const log: string[] = [];
    const l = await listKeys(asker([[GET, keyspace([{ key: '/a', size: 1 }, { key: '/registry/secrets/x/y', size: 7 }])]], log), '', { headBytes: 512 });
    expect(l.keys.map((k) => k.key)).toEqual(['/a', '/registry/secrets/x/y']);
    expect(log[0]).toContain("--from-key -- ''");
    expect(log[0]).toContain('awk -v head=684');
  });

  it('names the oldest revision still available when --rev was compacted, as a watch from it reports', async () => {
    const log: string[] = [];
    const a = asker(
      [
        [GET, { code: 1, stderr: '{"level":"warn","msg":"retrying of unary invoker failed"}\nError: etcdserver: mvcc: required revision has been compacted\n' }],
        [WATCH, { code: 5, stdout: `{"Header":{"cluster_id":12285130273165682875,"raft_term":2},"Events":[],"CompactRevision":40,"Canceled":true,"Created":false}\n` }],
      ],
      log,
    );
    const e = await listKeys(a, '/registry/', { rev: '12' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CompactedError);
    expect((e as Error).message).toBe('revision 12 has been compacted: the oldest revision still available is 40 (etcd compacted its history up to 40; kube-apiserver compacts every 5 minutes)');
    expect(log[1]).toMatch(/watch --prefix --rev=12 --prev-kv -w json ''/);
  });

  it("says what etcdctl said when it fails otherwise, without its JSON log lines", async () => {
    const a = asker([[GET, { code: 1, stderr: '{"level":"warn"}\nError: context deadline exceeded\n' }]]);
    await expect(listKeys(a, '')).rejects.toThrow(/^controller-0: etcdctl get "": Error: context deadline exceeded$/);
  });
});

describe('getKey and currentRevision', () => {
  it('finds a key with its value, or says it is not there', async () => {
    const value = Buffer.from([0x6b, 0x38, 0x73, 0x00, 1, 2]).toString('base64');
    const a = asker([
      [/-- \/there$/, { stdout: `{${HEADER.replace('REV', '9')},"kvs":[{"key":"${b64('/there')}","create_revision":3,"mod_revision":8,"version":4,"value":"${value}","lease":7587870186131718401}],"count":1}\n` }],
      [/-- \/missing$/, { stdout: `{${HEADER.replace('REV', '9')}}\n` }],
      [/--keys-only --limit=1/, { stdout: `{${HEADER.replace('REV', '9')}}\n` }],
    ]);
    const there = await getKey(a, '/there');
    expect(there.kv).toMatchObject({ key: '/there', modRevision: '8', version: '4', lease: '694d87bb66288101' });
    expect(Array.from(there.kv!.value)).toEqual([0x6b, 0x38, 0x73, 0x00, 1, 2]);
    const missing = await getKey(a, '/missing');
    expect(missing.kv).toBeUndefined();
    expect(missing.result.revision).toBe('9');
    expect(await currentRevision(a)).toBe('9');
  });
});

describe('diffRevisions', () => {
  const now = (rev: number): [RegExp, Answer] => [/--keys-only --limit=1/, { stdout: `{${HEADER.replace('REV', String(rev))}}\n` }];
  const events = (revs: [string, number][]) =>
    `{"Header":{"cluster_id":1,"revision":9,"raft_term":2},"Events":[${revs.map(([k, r]) => `{"kv":{"key":"${b64(k)}","create_revision":${r},"mod_revision":${r},"version":1,"value":"eA=="}}`).join(',')}],"CompactRevision":0,"Canceled":false,"Created":false}\n`;

  it('watches from REV+1 to now, bounded in time, and reports each change', async () => {
    const log: string[] = [];
    const d = await diffRevisions(asker([now(9), [WATCH, { code: 143, stdout: events([['/x', 8], ['/y', 9]]) }]], log), '7');
    expect(d).toMatchObject({ from: '7', to: '9', counts: { created: 2, modified: 0, deleted: 0, 'created-and-deleted': 0 } });
    expect(d.changes.map((c) => c.key)).toEqual(['/x', '/y']);
    expect(log[1]).toMatch(/^controller-0: exec 3<&0\ntimeout 60 env ETCDCTL_API=3 \S+etcdctl .* watch --prefix --rev=8 --prev-kv -w json '' &/);
  });

  it('is empty between a revision and itself, without a watch', async () => {
    const log: string[] = [];
    expect((await diffRevisions(asker([now(9)], log), '9')).changes).toEqual([]);
    expect(log).toHaveLength(1);
  });

  it('refuses a compacted REV naming the oldest revision still available, and a revision after now', async () => {
    const compacted = asker([now(90), [WATCH, { code: 5, stdout: '{"Header":{},"Events":[],"CompactRevision":41,"Canceled":true}\n' }]]);
    await expect(diffRevisions(compacted, '3')).rejects.toThrow(/^revision 3 has been compacted: the oldest revision still available is 41 /);
    await expect(diffRevisions(asker([now(9)]), '12')).rejects.toThrow("revision 12 is after the cluster's current revision 9");
    await expect(diffRevisions(asker([now(9)]), '3', '10')).rejects.toThrow("revision 10 is after the cluster's current revision 9");
  });

  it('fails, saying how far it got, when the watch ends before REV2', async () => {
    const a = asker([now(9), [WATCH, { code: 124, stdout: events([['/x', 8]]) }]]);
    const e = await diffRevisions(a, '7', '9', 5).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OperationError);
    expect((e as Error).message).toBe('controller-0: etcdctl watch from 8 stopped at revision 8 before 9: timed out after 5 s');
  });
});
