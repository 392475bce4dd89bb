import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecOptions, ExecResult, Remote } from '../../src/ssh/remote.js';
import {
  etcdLatencies,
  metricsFetchScript,
  metricsRequest,
  parseFetchOutput,
  parseHttpResponse,
  readMetrics,
  readMetricsViaForward,
  readTlsFiles,
  splitClientUrl,
  type TlsFiles,
} from '../../src/etcd/metrics.js';

const FAST = readFileSync(path.join(__dirname, '../fixtures/metrics/etcd-3.4-fast-disk.prom'), 'utf8');
const b = (s: string) => Buffer.from(s, 'latin1');

/** `text` as a chunked body in pieces of `size` bytes (with a chunk extension on the first). */
function chunked(text: string, size: number): string {
  let out = '';
  for (let i = 0; i < text.length; i += size) {
    const part = text.slice(i, i + size);
    out += `${Buffer.byteLength(part).toString(16)}${i === 0 ? ';ext=1' : ''}\r\n${part}\r\n`;
  }
  return `${out}0\r\nX-Trailer: yes\r\n\r\n`;
}

describe('HTTP responses, read by node:http (forwarded or recorded by openssl on the node)', () => {
  it('decodes a chunked body (what etcd sends for /metrics), with chunk extensions and trailers', async () => {
    const raw = `HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nTransfer-Encoding: chunked\r\nDate: x\r\n\r\n${chunked(FAST, 4096)}`;
    const r = await parseHttpResponse(b(raw));
    expect(r.status).toBe(200);
    expect(r.statusText).toBe('OK');
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4');
    expect(r.body.toString()).toBe(FAST);
    expect((await parseHttpResponse(b(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;name=val\r\npedia\r\n0\r\n\r\n`))).body.toString()).toBe('Wikipedia');
  });

  it('honours Content-Length, skips 1xx, inflates gzip, joins repeated headers', async () => {
    const r = await parseHttpResponse(b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nVia: a\r\nVia: b\r\n\r\nhello'));
    expect(r.body.toString()).toBe('hello');
    expect(r.headers.via).toBe('a, b');
    const gz = gzipSync('up 1\n');
    const g = await parseHttpResponse(Buffer.concat([b(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz]));
    expect(g.body.toString()).toBe('up 1\n');
    // no length, not chunked: the body runs to the end of the connection
    expect((await parseHttpResponse(b('HTTP/1.0 200 OK\r\n\r\nall of it'))).body.toString()).toBe('all of it');
  });

  it('rejects what is not a whole HTTP response, naming where it came from', async () => {
    await expect(parseHttpResponse(b(''), 'node-0')).rejects.toThrow('node-0: empty HTTP response');
    await expect(parseHttpResponse(b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n'), 'node-0')).rejects.toThrow(/^node-0: /);
    await expect(parseHttpResponse(b('SSH-2.0-OpenSSH\r\n\r\n'), 'node-0')).rejects.toThrow(/^node-0: .*(parse|HPE|invalid)/i);
    await expect(parseHttpResponse(b('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'), 'node-0')).rejects.toThrow(/^node-0: /);
    await expect(parseHttpResponse(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npe'), 'node-0')).rejects.toThrow(/^node-0: /);
    await expect(parseHttpResponse(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nWiki\r\n0\r\n\r\n'), 'node-0')).rejects.toThrow(/^node-0: /);
  });

  it('builds the request and splits client URLs', () => {
    const req = metricsRequest('10.240.0.10', 2379);
    expect(req).toBe('GET /metrics HTTP/1.1\r\nHost: 10.240.0.10:2379\r\nUser-Agent: hardway\r\nAccept: text/plain\r\nConnection: close\r\n\r\n');
    expect(metricsRequest('fd00::1', 2379)).toContain('Host: [fd00::1]:2379\r\n');
    expect(splitClientUrl('https://10.240.0.10:2379')).toEqual({ host: '10.240.0.10', port: 2379 });
    expect(splitClientUrl('https://[fd00::1]:2379/')).toEqual({ host: 'fd00::1', port: 2379 });
  });

  it('reads the fetch script output: curl body, or a raw response from openssl', async () => {
    expect(await parseFetchOutput(`hardway-fetch: body\n${FAST}`, 'n')).toBe(FAST);
    expect(await parseFetchOutput(`hardway-fetch: raw\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(FAST, 777)}`, 'n')).toBe(FAST);
    await expect(parseFetchOutput('hardway-fetch: raw\nHTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found', 'node-0')).rejects.toThrow(
      'node-0: HTTP 404 Not Found: not found',
    );
    await expect(parseFetchOutput('garbage', 'n')).rejects.toThrow(/unexpected output/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A local TLS server standing in for etcd's client port, with certificates made by openssl.

interface Pki {
  dir: string;
  files: TlsFiles;
  other: TlsFiles;
}

async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-metrics-'));
  const run = (...args: string[]) => execa('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    await run('req', '-x509', ...ec, '-keyout', `${ca}-key.pem`, '-out', `${ca}.pem`, '-subj', `/CN=${ca}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  await writeFile(
    path.join(dir, 'ext.cnf'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  for (const [leaf, ca] of [
    ['kubernetes', 'ca'],
    ['other', 'other-ca'],
  ] as const) {
    await run('req', ...ec, '-keyout', `${leaf}-key.pem`, '-out', `${leaf}.csr`, '-subj', '/CN=kubernetes');
    await run('x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-out', `${leaf}.pem`, '-days', '2', '-extfile', 'ext.cnf');
  }
  const rd = (f: string) => readFile(path.join(dir, f));
  return {
    dir,
    files: { ca: await rd('ca.pem'), cert: await rd('kubernetes.pem'), key: await rd('kubernetes-key.pem') },
    other: { ca: await rd('other-ca.pem'), cert: await rd('other.pem'), key: await rd('other-key.pem') },
  };
}

type Handler = (req: string, sock: tls.TLSSocket) => void;

/** A TLS server like etcd's client port: it requires a client certificate signed by the CA. */
async function startServer(pki: Pki, handler: Handler): Promise<{ port: number; close: () => Promise<void>; clients: () => number }> {
  let clients = 0;
  const server = tls.createServer({ ...pki.files, requestCert: true, rejectUnauthorized: true }, (sock) => {
    clients++;
    let req = '';
    sock.on('data', (d: Buffer) => {
      req += d.toString('latin1');
      if (req.includes('\r\n\r\n')) handler(req, sock);
    });
    sock.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    clients: () => clients,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // close() waits for open connections: a never-answering handler leaves one
        setTimeout(resolve, 200).unref();
      }),
  };
}

/** A Remote whose forward() connects locally, as ssh2's forwardOut would from the node. */
function fakeRemote(opts: { forward?: boolean; run?: (cmd: string, o?: ExecOptions) => Promise<ExecResult> } = {}): Remote & { forwarded: string[] } {
  const forwarded: string[] = [];
  const remote: Remote & { forwarded: string[] } = {
    name: 'controller-0',
    forwarded,
    run: opts.run ?? (async () => Promise.reject(new Error('run must not be called'))),
    upload: async () => {},
    close: async () => {},
  };
  if (opts.forward !== false) {
    remote.forward = async (host: string, port: number) => {
      forwarded.push(`${host}:${port}`);
      // The node would reach host:port; here everything is on loopback.
      return net.connect(port, '127.0.0.1');
    };
  }
  return remote;
}

const okChunked: Handler = (req, sock) => {
  expect(req.startsWith('GET /metrics HTTP/1.1\r\n')).toBe(true);
  sock.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked(FAST, 3000)}`);
};

describe('readMetricsViaForward (TLS through a forwarded stream)', () => {
  let pki: Pki;
  beforeAll(async () => {
    pki = await makePki();
  }, 60_000);
  afterAll(async () => {
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  it('fetches /metrics with the client certificate and decodes the chunked body', async () => {
    const srv = await startServer(pki, okChunked);
    try {
      const remote = fakeRemote();
      const text = await readMetricsViaForward(remote, '127.0.0.1', srv.port, pki.files);
      expect(text).toBe(FAST);
      expect(remote.forwarded).toEqual([`127.0.0.1:${srv.port}`]);
      expect(etcdLatencies(text).walFsync.count).toBe(2000);
    } finally {
      await srv.close();
    }
  });

  it('reads the TLS files from a PKI directory by their hardway names', async () => {
    expect(await readTlsFiles(pki.dir)).toEqual(pki.files);
    await expect(readTlsFiles(path.join(pki.dir, 'nope'))).rejects.toThrow(/ENOENT.*nope\/(ca|kubernetes|kubernetes-key)\.pem/);
  });

  it('refuses a server whose certificate is not from our CA', async () => {
    const srv = await startServer(pki, okChunked);
    try {
      const mixed = { ...pki.files, ca: pki.other.ca };
      await expect(readMetricsViaForward(fakeRemote(), '127.0.0.1', srv.port, mixed)).rejects.toThrow(/controller-0: https:\/\/127\.0\.0\.1:\d+\/metrics: .*(certificate|self.signed)/i);
    } finally {
      await srv.close();
    }
  });

  it('refuses a server whose certificate does not name the host', async () => {
    const srv = await startServer(pki, okChunked);
    try {
      // The stream still reaches the test server, but the certificate has no SAN for 10.9.9.9.
      await expect(readMetricsViaForward(fakeRemote(), '10.9.9.9', srv.port, pki.files)).rejects.toThrow(/10\.9\.9\.9.*(IP|altnames|not in the cert)/i);
    } finally {
      await srv.close();
    }
  });

  it('reports the status of a non-200 response', async () => {
    const srv = await startServer(pki, (_req, sock) => sock.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 12\r\n\r\nnot ready :('));
    try {
      await expect(readMetricsViaForward(fakeRemote(), '127.0.0.1', srv.port, pki.files)).rejects.toThrow(/HTTP 503 Service Unavailable: not ready/);
    } finally {
      await srv.close();
    }
  });

  it('gives up after timeoutMs when the server never answers', async () => {
    const srv = await startServer(pki, () => {});
    try {
      const t0 = Date.now();
      await expect(readMetricsViaForward(fakeRemote(), '127.0.0.1', srv.port, pki.files, { timeoutMs: 300 })).rejects.toThrow(/no complete response within 300 ms/);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await srv.close();
    }
  });

  it('a channel that opens after the timeout is closed, not leaked', async () => {
    const srv = await startServer(pki, () => {}); // never answers: only we can close the connection
    try {
      let late: net.Socket | undefined;
      const slow = fakeRemote();
      slow.forward = async (_h, port) => {
        await new Promise((r) => setTimeout(r, 300));
        late = net.connect(port, '127.0.0.1');
        return late;
      };
      await expect(readMetricsViaForward(slow, '127.0.0.1', srv.port, pki.files, { timeoutMs: 100 })).rejects.toThrow(/within 100 ms/);
      await new Promise((r) => setTimeout(r, 400));
      expect(late?.destroyed).toBe(true);
    } finally {
      await srv.close();
    }
  });

  it('refuses a response over maxBytes, and a connection that cannot forward', async () => {
    const srv = await startServer(pki, okChunked);
    try {
      await expect(readMetricsViaForward(fakeRemote(), '127.0.0.1', srv.port, pki.files, { maxBytes: 1000 })).rejects.toThrow(/larger than 1000 bytes/);
    } finally {
      await srv.close();
    }
    await expect(readMetricsViaForward(fakeRemote({ forward: false }), '127.0.0.1', 1, pki.files)).rejects.toThrow(/cannot forward/);
    const refused = fakeRemote();
    refused.forward = async () => Promise.reject(new Error('(SSH) Channel open failure: Connection refused'));
    await expect(readMetricsViaForward(refused, '10.240.0.10', 2379, pki.files)).rejects.toThrow(
      'controller-0: https://10.240.0.10:2379/metrics: cannot open a forwarded connection: (SSH) Channel open failure: Connection refused',
    );
  });

  it('readMetrics prefers the forward path when TLS files are given', async () => {
    const srv = await startServer(pki, okChunked);
    try {
      const remote = fakeRemote();
      expect(await readMetrics(remote, `https://127.0.0.1:${srv.port}`, { tls: pki.files })).toBe(FAST);
      expect(srv.clients()).toBe(1);
    } finally {
      await srv.close();
    }
  });

  describe('the on-node fallback script (run here with sh)', () => {
    /** A Remote whose run() executes the script locally with PATH limited to `bin` when given. */
    function localRemote(bin?: string): Remote {
      return fakeRemote({
        forward: false,
        run: async (cmd, o) => {
          const r = await execa('/bin/sh', ['-c', cmd], {
            reject: false,
            stripFinalNewline: false,
            timeout: o?.timeoutMs,
            env: bin ? { PATH: bin } : {},
            extendEnv: !bin,
          });
          return { code: r.exitCode ?? null, stdout: r.stdout, stderr: r.stderr, timedOut: !!r.timedOut };
        },
      });
    }
    const paths = () => ({ ca: path.join(pki.dir, 'ca.pem'), cert: path.join(pki.dir, 'kubernetes.pem'), key: path.join(pki.dir, 'kubernetes-key.pem') });

    it('the script names the certs and the URL, curl first, openssl as the raw fallback', () => {
      const s = metricsFetchScript('https://10.240.0.10:2379');
      expect(s).toContain("curl -sS --fail --max-time 10 --cacert /etc/etcd/ca.pem --cert /etc/etcd/kubernetes.pem --key /etc/etcd/kubernetes-key.pem https://10.240.0.10:2379/metrics");
      expect(s).toContain('openssl s_client -quiet -connect 10.240.0.10:2379 -CAfile /etc/etcd/ca.pem');
      expect(s).toContain('-verify_return_error -verify_ip 10.240.0.10');
      expect(s.indexOf('curl')).toBeLessThan(s.indexOf('openssl'));
    });

    it('with curl', async () => {
      const srv = await startServer(pki, okChunked);
      try {
        const text = await readMetrics(localRemote(), `https://127.0.0.1:${srv.port}`, { remotePaths: paths() });
        expect(text).toBe(FAST);
      } finally {
        await srv.close();
      }
    });

    it('with openssl only (no curl on the node): the raw response is parsed here', async () => {
      const bin = path.join(pki.dir, 'bin-openssl');
      await mkdir(bin, { recursive: true });
      for (const tool of ['openssl', 'timeout']) {
        const { stdout } = await execa('sh', ['-c', `command -v ${tool}`]);
        await symlink(stdout.trim(), path.join(bin, tool)).catch(() => {});
      }
      const srv = await startServer(pki, okChunked);
      try {
        const text = await readMetrics(localRemote(bin), `https://127.0.0.1:${srv.port}`, { remotePaths: paths() });
        expect(text).toBe(FAST);
      } finally {
        await srv.close();
      }
    });

    it('neither tool: a clear error', async () => {
      const empty = path.join(pki.dir, 'bin-empty');
      await mkdir(empty, { recursive: true });
      await expect(readMetrics(localRemote(empty), 'https://127.0.0.1:1', { remotePaths: paths() })).rejects.toThrow(/neither curl nor openssl/);
    });

    it('a failing curl (wrong CA) is an error, not empty metrics', async () => {
      const srv = await startServer(pki, okChunked);
      try {
        const p = { ...paths(), ca: path.join(pki.dir, 'other-ca.pem') };
        await expect(readMetrics(localRemote(), `https://127.0.0.1:${srv.port}`, { remotePaths: p })).rejects.toThrow(/controller-0: .*curl/);
      } finally {
        await srv.close();
      }
    });
  });
});
