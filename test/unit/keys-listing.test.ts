import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeKey, parseSizedPage, sizedGetScript } from '../../src/etcd/sized-get.js';
import { shq } from '../../src/ssh/remote.js';

/** Runs a script with this machine's sh and awk (the node runs the same POSIX script with its own). */
const sh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');

/** What `etcdctl get -w json` prints for these values (an empty value is left out, as etcd's JSON does). */
function etcdJson(values: Uint8Array[], extra: { lease?: string } = {}): string {
  const kvs = values.map((v, i) => {
    const value = v.length ? `,"value":"${b64(v)}"` : '';
    const lease = extra.lease && i === 0 ? `,"lease":${extra.lease}` : '';
    return `{"key":"${b64(`/registry/things/k${String(i).padStart(5, '0')}`)}","create_revision":${i + 2},"mod_revision":${i + 3},"version":1${value}${lease}}`;
  });
  return `{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":9876,"raft_term":2},"kvs":[${kvs.join(',')}],"more":true,"count":${values.length + 5}}`;
}

/** An "etcdctl" that prints `text`, from a file (a page is larger than an argument may be). */
const tmp = mkdtempSync(path.join(os.tmpdir(), 'keys-listing-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let pages = 0;
function printing(text: string): string {
  const file = path.join(tmp, `page-${pages++}.json`);
  writeFileSync(file, `${text}\n`);
  return `cat ${shq(file)}`;
}

describe('sizedGetScript: values become their sizes on the node', () => {
  const values = [0, 1, 2, 3, 4, 5, 1000, 4096].map((n) => new Uint8Array(randomBytes(n)));

  it('gives every value its exact decoded size, and keeps the rest of the JSON as etcdctl printed it', () => {
    const r = sh(sizedGetScript(printing(etcdJson(values, { lease: '7587870186131718401' }))));
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('"value":');
    const page = parseSizedPage(r.stdout);
    expect(page.kvs.map((k) => k.size)).toEqual(values.map((v) => v.length));
    expect(page).toMatchObject({ revision: '9876', more: true, count: values.length + 5 });
    expect(page.kvs[0]).toMatchObject({ key: '/registry/things/k00000', createRevision: '2', modRevision: '3', version: '1', lease: '694d87bb66288101' });
    expect(page.kvs[1]!.lease).toBeUndefined();
    expect(page.kvs.every((k) => k.head === undefined)).toBe(true);
  });

  it('keeps the first bytes of each value when asked, whole values shorter than that', () => {
    const page = parseSizedPage(sh(sizedGetScript(printing(etcdJson(values)), 512)).stdout);
    page.kvs.forEach((k, i) => {
      const want = values[i]!.subarray(0, 513);
      if (values[i]!.length) expect(Buffer.from(k.head!).equals(Buffer.from(want))).toBe(true);
    });
    expect(page.kvs[7]!.head!.length).toBe(513);
  });

  it('reads a page of 8000 values (32 MB of base64, one line) in linear time', () => {
    const many = Array.from({ length: 8000 }, (_, i) => new Uint8Array(3000 + (i % 7)));
    const script = sizedGetScript(printing(etcdJson(many)));
    const t0 = Date.now();
    const r = sh(script);
    // One record per line took mawk 6 s for this page (its line buffer grows quadratically); records split at
    // each value take well under one.
    expect(Date.now() - t0).toBeLessThan(3000);
    const page = parseSizedPage(r.stdout);
    expect(page.kvs).toHaveLength(8000);
    expect(page.kvs.reduce((n, k) => n + k.size, 0)).toBe(many.reduce((n, v) => n + v.length, 0));
  });

  it("exits with etcdctl's status, its stderr passed on, when it fails", () => {
    const r = sh(sizedGetScript(`sh -c "echo 'Error: context deadline exceeded' >&2; exit 4"`));
    expect(r.status).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('context deadline exceeded');
  });
});

describe('decodeKey', () => {
  it('reads UTF-8 keys, and flags the others', () => {
    expect(decodeKey(b64('/registry/pods/ns/ü'))).toEqual({ key: '/registry/pods/ns/ü', binary: false });
    expect(decodeKey(b64(new Uint8Array([0x2f, 0xff, 0xfe]))).binary).toBe(true);
  });
});
