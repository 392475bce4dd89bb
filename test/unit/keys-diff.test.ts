import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { K8S_STORAGE } from '../k8s-storage.js';
import { describeChange, diffEvents, diffResult } from '../../src/keys/diff.js';
import { boundedWatchScript, parseWatchOutput, watchLineProgress, type WatchEvent } from '../../src/etcd/watch.js';
import { renderDiff } from '../../src/keys/render.js';

const pod = new Uint8Array(readFileSync(`${K8S_STORAGE}/pod.storage.bin`));
const enc = (s: string) => new TextEncoder().encode(s);

/** A value as kube-apiserver stores it: `k8s\0` + runtime.Unknown {typeMeta, raw = object {1 metadata}}. */
function k8sValue(apiVersion: string, kind: string, namespace: string, name: string): Uint8Array {
  const w = new BinaryWriter();
  w.raw(enc('k8s\0'));
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(apiVersion).tag(2, WireType.LengthDelimited).string(kind).join();
  w.tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(name).tag(3, WireType.LengthDelimited).string(namespace).join();
  w.join();
  w.tag(3, WireType.LengthDelimited).string('').tag(4, WireType.LengthDelimited).string('');
  return w.finish();
}

// Real `etcdctl watch --prefix --rev=2 --prev-kv -w json ""` output of etcd 3.4.23 (a put, a put, an overwrite, a
// delete, a put), then the response to a watch from a compacted revision.
const REAL_WATCH = [
  '{"Header":{"cluster_id":12285130273165682875,"member_id":355242465610098751,"revision":6,"raft_term":2},"Events":[{"kv":{"key":"L2E=","create_revision":2,"mod_revision":2,"version":1,"value":"MQ=="}},{"kv":{"key":"L2I=","create_revision":3,"mod_revision":3,"version":1,"value":"Mg=="}},{"kv":{"key":"L2E=","create_revision":2,"mod_revision":4,"version":2,"value":"Mw=="},"prev_kv":{"key":"L2E=","create_revision":2,"mod_revision":2,"version":1,"value":"MQ=="}},{"type":1,"kv":{"key":"L2I=","mod_revision":5},"prev_kv":{"key":"L2I=","create_revision":3,"mod_revision":3,"version":1,"value":"Mg=="}},{"kv":{"key":"L2Jpbg==","create_revision":6,"mod_revision":6,"version":1,"value":"eAB5Cg=="}}],"CompactRevision":0,"Canceled":false,"Created":false}',
].join('\n');
const REAL_COMPACTED = '{"Header":{"cluster_id":12285130273165682875,"member_id":355242465610098751,"raft_term":2},"Events":[],"CompactRevision":4,"Canceled":true,"Created":false}';

describe('parseWatchOutput', () => {
  it('reads puts, deletes and previous values of real etcdctl output', () => {
    const out = parseWatchOutput(`${REAL_WATCH}\n`);
    expect(out.canceled).toBe(false);
    expect(out.compactRevision).toBeUndefined();
    expect(out.events.map((e) => [e.type, e.key, e.kv.modRevision])).toEqual([
      ['put', '/a', '2'],
      ['put', '/b', '3'],
      ['put', '/a', '4'],
      ['delete', '/b', '5'],
      ['put', '/bin', '6'],
    ]);
    expect(new TextDecoder().decode(out.events[3]!.prev!.value)).toBe('2');
    expect(Array.from(out.events[4]!.kv.value)).toEqual([0x78, 0x00, 0x79, 0x0a]);
  });

  it('reports a compacted start revision as etcd does: the revision it compacted at', () => {
    expect(parseWatchOutput(`${REAL_COMPACTED}\n`)).toEqual({ events: [], canceled: true, compactRevision: '4' });
  });

  it('tells how far a line goes without parsing it', () => {
    expect(watchLineProgress(REAL_WATCH)).toEqual({ revision: 6n, canceled: false });
    expect(watchLineProgress(REAL_COMPACTED)).toEqual({ revision: 0n, canceled: true });
  });

  it('the real stream, diffed from 1 to 6 and from 3 to 6', () => {
    const { events } = parseWatchOutput(REAL_WATCH);
    expect(diffEvents(events, 1n, 6n).map((c) => [c.key, c.change])).toEqual([
      ['/a', 'created'],
      ['/b', 'created-and-deleted'],
      ['/bin', 'created'],
    ]);
    expect(diffEvents(events, 3n, 6n).map((c) => [c.key, c.change])).toEqual([
      ['/a', 'modified'],
      ['/b', 'deleted'],
      ['/bin', 'created'],
    ]);
  });
});

const ns = 'default';
const cm = (name: string) => k8sValue('v1', 'ConfigMap', ns, name);
const key = (name: string) => `/registry/configmaps/${ns}/${name}`;
const put = (name: string, rev: number, created: number, value: Uint8Array, prev?: { rev: number; value: Uint8Array }): WatchEvent => ({
  type: 'put',
  key: key(name),
  kv: { createRevision: String(created), modRevision: String(rev), version: String(rev - created + 1), value },
  ...(prev ? { prev: { createRevision: String(created), modRevision: String(prev.rev), version: '1', value: prev.value } } : {}),
});
const del = (name: string, rev: number, prev?: { created: number; rev: number; value: Uint8Array }): WatchEvent => ({
  type: 'delete',
  key: key(name),
  kv: { createRevision: '0', modRevision: String(rev), version: '0', value: new Uint8Array() },
  ...(prev ? { prev: { createRevision: String(prev.created), modRevision: String(prev.rev), version: '1', value: prev.value } } : {}),
});

describe('diffEvents: the net change of each key between two revisions', () => {
  const events: WatchEvent[] = [
    put('new', 11, 11, cm('new')),
    put('overwritten', 12, 5, cm('overwritten'), { rev: 8, value: cm('overwritten') }),
    del('removed', 13, { created: 6, rev: 6, value: cm('removed') }),
    put('brief', 14, 14, cm('brief')),
    del('brief', 15, { created: 14, rev: 14, value: cm('brief') }),
    del('recreated', 11, { created: 3, rev: 3, value: cm('recreated') }),
    put('recreated', 14, 14, cm('recreated')),
    put('later', 17, 17, cm('later')),
  ];

  it('created, modified, deleted, created and deleted in between; a key deleted and created again is modified', () => {
    const changes = diffEvents(events, 10n, 16n);
    expect(Object.fromEntries(changes.map((c) => [c.key.split('/').pop(), c.change]))).toEqual({
      new: 'created',
      overwritten: 'modified',
      removed: 'deleted',
      brief: 'created-and-deleted',
      recreated: 'modified',
    });
    const brief = changes.find((c) => c.key === key('brief'))!;
    expect(brief).toMatchObject({ writes: 2, firstWrite: '14', lastWrite: '15' });
    expect(brief.before).toBeUndefined();
    expect(brief.after).toBeUndefined();
    expect(changes.find((c) => c.key === key('overwritten'))!.before!.modRevision).toBe('8');
  });

  it('leaves out what is not in (from, to]', () => {
    expect(diffEvents(events, 10n, 16n).some((c) => c.key === key('later'))).toBe(false);
    expect(diffEvents(events, 11n, 13n).map((c) => c.key.split('/').pop())).toEqual(['overwritten', 'removed']);
  });

  it("names each change's object from its value, a deleted one from its value before the delete", () => {
    const d = diffResult(events, '10', '16');
    expect(d.counts).toEqual({ created: 1, modified: 2, deleted: 1, 'created-and-deleted': 1 });
    const removed = d.changes.find((c) => c.key === key('removed'))!;
    expect(removed).toMatchObject({ change: 'deleted', kind: 'ConfigMap', apiVersion: 'v1', namespace: 'default', name: 'removed', resource: 'configmaps' });
    expect(d.changes.find((c) => c.key === key('brief'))).toMatchObject({ kind: 'ConfigMap', name: 'brief' });
    const text = renderDiff(d);
    expect(text).toMatch(/^created\+deleted\s+\/registry\/configmaps\/default\/brief\s+ConfigMap \(v1\)\s+default\/brief\s+2\s+14…15$/m);
    expect(text).toContain('from revision 10 to 16: 1 created, 2 modified, 1 deleted, 1 created and deleted in between');
  });

  it('names a real Pod, and an encrypted value by its provider and key', () => {
    const p = describeChange({ key: '/registry/pods/default/pi-dqtsw', change: 'created', writes: 1, firstWrite: '3', lastWrite: '3', lastValue: pod });
    expect(p).toMatchObject({ kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'pi-dqtsw', resource: 'pods' });
    const s = describeChange({ key: '/registry/secrets/ns1/db', change: 'modified', writes: 1, firstWrite: '3', lastWrite: '3', lastValue: enc('k8s:enc:aescbc:v1:key1:\x01\x02\x03') });
    expect(s).toMatchObject({ encrypted: 'aescbc key1', namespace: 'ns1', name: 'db' });
    expect(s.kind).toBeUndefined();
  });
});

/** Runs the script with this machine's sh; resolves with its exit status and how long it ran. */
function runLocal(script: string, closeStdinAfterMs?: number): Promise<{ code: number | null; ms: number; stdout: string }> {
  const t0 = Date.now();
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  if (closeStdinAfterMs !== undefined) setTimeout(() => child.stdin.end(), closeStdinAfterMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      child.stdin.end(); // the script's helper that waits for it goes too
      resolve({ code, ms: Date.now() - t0, stdout });
    }),
  );
}

describe('boundedWatchScript: a watch that ends when the caller is done, or at its time limit', () => {
  const endless = `sh -c 'echo first; exec sleep 30'`;

  it('stops the watch when its stdin ends', async () => {
    const r = await runLocal(boundedWatchScript(endless, 20), 300);
    expect(r.stdout).toBe('first\n');
    expect(r.ms).toBeLessThan(5000);
  });

  it("ends with the watch's own status when it stops by itself, stdin still open", async () => {
    const r = await runLocal(boundedWatchScript(`sh -c 'echo canceled; exit 5'`, 20));
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('canceled\n');
  });

  it('is killed at its time limit (timeout says 124)', async () => {
    const r = await runLocal(boundedWatchScript(endless, 1));
    expect(r.code).toBe(124);
    expect(r.ms).toBeLessThan(5000);
  });
});
