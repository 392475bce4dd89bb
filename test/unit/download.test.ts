import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/errors.js';
import { download } from '../../src/release/artifacts.js';

// A real HTTP server on loopback: redirects, errors and a stalled body as a release mirror can produce them.
const body = Buffer.alloc(3 * 1024 * 1024 + 17, 'etcd');
const sum = createHash('sha256').update(body).digest('hex');
let server: Server;
let base: string;
let dir: string;
const hits: string[] = [];
/** What download() tells the user, kept here instead of printed while the tests pass. */
const logged: string[] = [];
const log = (line: string) => void logged.push(line);

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url!);
    if (req.url === '/etcd.tar.gz') return void res.end(body);
    if (req.url === '/gzip-happy-mirror.tar.gz') {
      // A mirror that compresses whatever the client accepts, .tar.gz included.
      if (/gzip/.test(req.headers['accept-encoding'] ?? '')) return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(body));
      return void res.end(body);
    }
    if (req.url === '/releases/latest') return void res.writeHead(302, { location: '/etcd.tar.gz' }).end();
    if (req.url === '/stalls.tar.gz') {
      // Headers and the first bytes, then nothing: the idle timeout must end it.
      res.writeHead(200, { 'content-length': String(body.length) });
      return void res.write(body.subarray(0, 1024));
    }
    res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(async () => {
  hits.length = 0;
  dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-dl-'));
  return () => rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<OperationError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OperationError);
  return e as OperationError;
}

describe('download', () => {
  it('streams the file into the cache under its checksum and fetches it only once', async () => {
    const first = await download(`${base}/etcd.tar.gz`, sum.toUpperCase(), { dir, log });
    expect(path.basename(first)).toBe(`${sum}-etcd.tar.gz`);
    expect((await readFile(first)).equals(body)).toBe(true);
    expect(await download(`${base}/etcd.tar.gz`, sum, { dir, log })).toBe(first);
    expect(hits).toEqual(['/etcd.tar.gz']);
    expect(await readdir(dir)).toEqual([path.basename(first)]);
  });

  it('follows a redirect, as release download links do', async () => {
    const file = await download(`${base}/releases/latest`, sum, { dir, log });
    expect((await readFile(file)).equals(body)).toBe(true);
    expect(hits).toEqual(['/releases/latest', '/etcd.tar.gz']);
  });

  it('takes a mirror that compresses on the fly: what is hashed and kept is the file itself', async () => {
    const file = await download(`${base}/gzip-happy-mirror.tar.gz`, sum, { dir, log });
    expect((await readFile(file)).equals(body)).toBe(true);
  });

  it('cleans up what a download killed outright left, and nothing of a live one', async () => {
    const gone = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
    await writeFile(path.join(dir, `${sum}-etcd.tar.gz.tmp-${gone}`), 'partial');
    await writeFile(path.join(dir, `${sum}-other.tar.gz.tmp-1`), 'pid 1 is alive');
    const file = await download(`${base}/etcd.tar.gz`, sum, { dir, log });
    expect((await readdir(dir)).sort()).toEqual([path.basename(file), `${sum}-other.tar.gz.tmp-1`].sort());
  });

  it('refuses a file whose sha256 differs, names both sums and keeps nothing', async () => {
    const wrong = '0'.repeat(64);
    const e = await failure(download(`${base}/etcd.tar.gz`, wrong, { dir, log }));
    expect(e.message).toContain(`has sha256 ${sum}, but the inventory says ${wrong}`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('names the HTTP status of a missing file', async () => {
    const e = await failure(download(`${base}/etcd-v9.9.9.tar.gz`, sum, { dir, log }));
    expect(e.message).toBe(`downloading ${base}/etcd-v9.9.9.tar.gz failed: HTTP 404 Not Found`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives up on a transfer that stalls, and leaves no partial file', async () => {
    const started = Date.now();
    const e = await failure(download(`${base}/stalls.tar.gz`, sum, { dir, idleTimeoutMs: 300, log }));
    expect(e.message).toBe(`downloading ${base}/stalls.tar.gz failed: nothing received for 0.3 s`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await readdir(dir)).toEqual([]);
  });

  it('says why a connection failed', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const e = await failure(download(`http://127.0.0.1:${port}/etcd.tar.gz`, sum, { dir, log }));
    expect(e.message).toBe(`downloading http://127.0.0.1:${port}/etcd.tar.gz failed: ECONNREFUSED`);
  });
});
