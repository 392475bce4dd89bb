import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import http from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { PKI_FILES } from '../pki/files.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq, type Remote } from '../ssh/remote.js';

/**
 * etcd's Prometheus metrics: a parser for the text exposition format, quantile estimates from histograms (as
 * PromQL's histogram_quantile computes them), the three latencies that matter for timing (WAL fsync, backend
 * commit, peer round trip), and readers that fetch /metrics from a node.
 *
 * Everything above `readMetricsViaForward` is pure. All durations are in seconds, as etcd reports them.
 */

// ---------------------------------------------------------------------------------------------------------------
// Text exposition format

export interface Sample {
  /** The full sample name, e.g. `etcd_disk_wal_fsync_duration_seconds_bucket`. */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestampMs?: number;
}

/** Samples by full sample name (a histogram `h` gives `h_bucket`, `h_sum` and `h_count`), in input order. */
export type Samples = Map<string, Sample[]>;

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** A Prometheus value: a Go float, or `+Inf`, `-Inf`, `NaN`. */
function parseValue(s: string): number | undefined {
  switch (s) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** One sample line, or undefined when it is malformed. */
function parseSampleLine(line: string): Sample | undefined {
  const nameMatch = NAME_RE.exec(line);
  if (!nameMatch) return undefined;
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      const ln = LABEL_NAME_RE.exec(line.slice(i));
      if (!ln) return undefined;
      i += ln[0].length;
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] !== '=') return undefined;
      i++;
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] !== '"') return undefined;
      i++;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) return undefined;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i + 1];
          value += e === 'n' ? '\n' : e === '"' ? '"' : e === '\\' ? '\\' : `\\${e ?? ''}`;
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++; // closing quote
      labels[ln[0]] = value;
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') return undefined;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') return undefined;
  const value = parseValue(rest[0]!);
  if (value === undefined) return undefined;
  const sample: Sample = { name, labels, value };
  if (rest[1] !== undefined) {
    const ts = Number(rest[1]);
    if (!Number.isInteger(ts)) return undefined;
    sample.timestampMs = ts;
  }
  return sample;
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4, what etcd's /metrics serves). Comments (`# HELP`,
 * `# TYPE`) and malformed lines are skipped: one odd line must not hide the metrics around it.
 */
export function parsePrometheus(text: string): Samples {
  const out: Samples = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = parseSampleLine(line);
    if (!s) continue;
    const list = out.get(s.name);
    if (list) list.push(s);
    else out.set(s.name, [s]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Histograms

export interface Bucket {
  /** Upper bound (inclusive); the last bucket's is +Inf. */
  le: number;
  /** Cumulative count of observations ≤ le. */
  count: number;
}

export interface Histogram {
  /** Sorted by `le`; empty when the metric is absent. */
  buckets: Bucket[];
  sum: number;
  count: number;
}

/** Which series of a metric to use: exact label values, or a predicate. Absent: every series. */
export type LabelFilter = Record<string, string> | ((labels: Record<string, string>) => boolean);

function matches(labels: Record<string, string>, filter?: LabelFilter): boolean {
  if (!filter) return true;
  if (typeof filter === 'function') return filter(labels);
  return Object.entries(filter).every(([k, v]) => labels[k] === v);
}

/** A label set as a key, without `le`. */
function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(labels)
      .filter((k) => k !== 'le')
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

/**
 * The histogram `name` (without the `_bucket` suffix), every series that passes `labelFilter` merged into one
 * (e.g. the peer RTT of all peers). Series are merged at the union of their bucket bounds; a series without a
 * given bound contributes its count at the largest bound below it, which is exact for the cumulative counts.
 */
export function histogram(samples: Samples, name: string, labelFilter?: LabelFilter): Histogram {
  const series = new Map<string, Bucket[]>();
  for (const s of samples.get(`${name}_bucket`) ?? []) {
    if (!matches(s.labels, labelFilter)) continue;
    const le = parseValue(s.labels.le ?? '');
    if (le === undefined || Number.isNaN(le)) continue;
    const key = seriesKey(s.labels);
    const list = series.get(key) ?? [];
    list.push({ le, count: s.value });
    series.set(key, list);
  }
  const bounds = [...new Set([...series.values()].flatMap((b) => b.map((x) => x.le)))].sort((a, b) => a - b);
  const buckets: Bucket[] = bounds.map((le) => ({ le, count: 0 }));
  for (const list of series.values()) {
    list.sort((a, b) => a.le - b.le);
    let j = -1;
    for (const b of buckets) {
      while (j + 1 < list.length && list[j + 1]!.le <= b.le) j++;
      if (j >= 0) b.count += list[j]!.count;
    }
  }
  const total = (suffix: string) =>
    (samples.get(`${name}${suffix}`) ?? []).filter((s) => matches(s.labels, labelFilter)).reduce((a, s) => a + s.value, 0);
  const hasCount = (samples.get(`${name}_count`) ?? []).some((s) => matches(s.labels, labelFilter));
  const inf = buckets.at(-1);
  return {
    buckets,
    sum: total('_sum'),
    count: hasCount ? total('_count') : inf?.le === Infinity ? inf.count : 0,
  };
}

/** One histogram per value of `label` (e.g. peer RTT by `To`), each merged over any other labels. */
export function histogramsBy(samples: Samples, name: string, label: string, labelFilter?: LabelFilter): Map<string, Histogram> {
  const values = new Set<string>();
  for (const s of samples.get(`${name}_bucket`) ?? []) {
    const v = s.labels[label];
    if (v !== undefined && matches(s.labels, labelFilter)) values.add(v);
  }
  const out = new Map<string, Histogram>();
  for (const v of [...values].sort()) {
    out.set(
      v,
      histogram(samples, name, (l) => l[label] === v && matches(l, labelFilter)),
    );
  }
  return out;
}

export interface QuantileEstimate {
  value: number;
  /** The bucket the quantile falls in: the true value lies in (low, high]. `high` is Infinity in the +Inf bucket. */
  low: number;
  high: number;
}

/**
 * PromQL's histogram_quantile, with where the estimate comes from; null when there are no observations (PromQL's
 * NaN) or no +Inf bucket. Linear interpolation inside the bucket (the first bucket starts at 0); a quantile in the
 * +Inf bucket is reported as the highest finite bound, which is then only a lower bound.
 */
export function quantileEstimate(hist: Histogram, q: number): QuantileEstimate | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1] (got ${q})`);
  // Coalesce equal bounds and force monotonic counts (a scrape can race with observations), as Prometheus does.
  const b: Bucket[] = [];
  for (const x of [...hist.buckets].sort((p, r) => p.le - r.le)) {
    const last = b.at(-1);
    if (last && last.le === x.le) last.count += x.count;
    else b.push({ ...x });
  }
  for (let i = 1; i < b.length; i++) if (b[i]!.count < b[i - 1]!.count) b[i]!.count = b[i - 1]!.count;
  if (b.length < 2 || b.at(-1)!.le !== Infinity) return null;
  const observations = b.at(-1)!.count;
  if (!(observations > 0)) return null;
  let rank = q * observations;
  let i = b.findIndex((x) => x.count >= rank);
  if (i < 0) i = b.length - 1;
  if (i === b.length - 1) {
    const top = b[b.length - 2]!.le;
    return { value: top, low: top, high: Infinity };
  }
  if (i === 0 && b[0]!.le <= 0) return { value: b[0]!.le, low: -Infinity, high: b[0]!.le };
  let start = 0;
  const end = b[i]!.le;
  let count = b[i]!.count;
  if (i > 0) {
    start = b[i - 1]!.le;
    count -= b[i - 1]!.count;
    rank -= b[i - 1]!.count;
  }
  return { value: start + (end - start) * (rank / count), low: start, high: end };
}

/** PromQL's histogram_quantile(q, hist): null when the histogram has no observations. See quantileEstimate. */
export function quantile(hist: Histogram, q: number): number | null {
  return quantileEstimate(hist, q)?.value ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// etcd's latencies

export const ETCD_METRICS = {
  walFsync: 'etcd_disk_wal_fsync_duration_seconds',
  backendCommit: 'etcd_disk_backend_commit_duration_seconds',
  peerRtt: 'etcd_network_peer_round_trip_time_seconds',
} as const;

export { FSYNC_P99_GOAL_S, BACKEND_COMMIT_P99_GOAL_S } from './latency-goals.js';

export interface LatencyStats {
  /** Observations since etcd started (the counters reset on restart). */
  count: number;
  sum: number;
  /** sum / count: exact, unlike the quantiles; null without observations. */
  mean: number | null;
  /** Estimated as PromQL does; null without observations. */
  p50: number | null;
  p99: number | null;
  /**
   * The bucket the p99 lies in. Bucket bounds double, so the interpolated p99 can be off by up to 2×: a disk whose
   * every fsync takes 1.2 s reads p99 ≈ 2.04 s (interpolated in (1.024, 2.048]) while its mean says 1.2 s.
   * `high` is Infinity when the p99 is beyond the largest bucket (then `p99` is only a lower bound).
   */
  p99Range: { low: number; high: number } | null;
}

export interface EtcdLatencies {
  walFsync: LatencyStats;
  backendCommit: LatencyStats;
  /** All peers merged, plus each peer (by member ID, etcd's `To` label) and the worst peer's p99. */
  peerRtt: LatencyStats & { perPeer: Record<string, LatencyStats>; maxP99: number | null };
}

export function latencyStats(hist: Histogram): LatencyStats {
  const p99 = quantileEstimate(hist, 0.99);
  return {
    count: hist.count,
    sum: hist.sum,
    mean: hist.count > 0 ? hist.sum / hist.count : null,
    p50: quantile(hist, 0.5),
    p99: p99?.value ?? null,
    p99Range: p99 ? { low: p99.low, high: p99.high } : null,
  };
}

/** WAL fsync, backend commit and peer round-trip latencies (seconds) from the text of etcd's /metrics. */
export function etcdLatencies(text: string | Samples): EtcdLatencies {
  const samples = typeof text === 'string' ? parsePrometheus(text) : text;
  const perPeer: Record<string, LatencyStats> = {};
  for (const [to, h] of histogramsBy(samples, ETCD_METRICS.peerRtt, 'To')) perPeer[to] = latencyStats(h);
  const peerP99s = Object.values(perPeer)
    .map((s) => s.p99)
    .filter((v): v is number => v !== null);
  return {
    walFsync: latencyStats(histogram(samples, ETCD_METRICS.walFsync)),
    backendCommit: latencyStats(histogram(samples, ETCD_METRICS.backendCommit)),
    peerRtt: {
      ...latencyStats(histogram(samples, ETCD_METRICS.peerRtt)),
      perPeer,
      maxP99: peerP99s.length > 0 ? Math.max(...peerP99s) : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP: node:http over a stream hardway opens itself (an SSH-forwarded channel, or TLS over one)

export interface HttpResponse {
  status: number;
  statusText: string;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Decoded: chunked transfer-encoding removed (node:http), gzip content-encoding inflated. */
  body: Buffer;
}

export interface GetOptions {
  /** The whole exchange, from the stream being there to the last byte (default 15 s): the figure errors give. */
  timeoutMs?: number;
  /** When it ends (ms since the epoch), if part of `timeoutMs` went before (opening the stream). */
  deadline?: number;
  /** A larger body is an error (default 64 MiB). */
  maxBytes?: number;
  /** Said in every error: the node and the URL. */
  where: string;
}

/**
 * GET `urlPath` with node:http on a stream that is already connected (`createConnection` hands it over): the SSH
 * channel for plain HTTP, a TLS socket over it for HTTPS. node:http does the protocol (status line, headers,
 * chunked bodies); this adds the size cap, the timeout and the error messages. The stream is destroyed at the end.
 */
export function httpGetOver(stream: Duplex, host: string, port: number, urlPath: string, opts: GetOptions): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (e: Error | undefined, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.destroy();
      if (e) reject(e);
      else resolve(res!);
    };
    const wait = opts.deadline !== undefined ? Math.max(1, opts.deadline - Date.now()) : timeoutMs;
    const timer = setTimeout(() => finish(new Error(`${opts.where}: no complete response within ${timeoutMs} ms`)), wait);
    const req = http.request(
      {
        host,
        port,
        path: urlPath,
        method: 'GET',
        // The Host header as a browser would send it (brackets around an IPv6 address).
        headers: { Host: `${isIP(host) === 6 ? `[${host}]` : host}:${port}`, 'User-Agent': 'hardway', Accept: 'text/plain' },
        createConnection: () => stream as unknown as Socket,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > maxBytes) return finish(new Error(`${opts.where}: response larger than ${maxBytes} bytes`));
          chunks.push(d);
        });
        res.on('end', () => {
          let body = Buffer.concat(chunks);
          try {
            if (/\bgzip\b/i.test(String(res.headers['content-encoding'] ?? ''))) body = gunzipSync(body);
          } catch (e) {
            return finish(new Error(`${opts.where}: ${(e as Error).message}`));
          }
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          finish(undefined, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers, body });
        });
        res.on('aborted', () => finish(new Error(`${opts.where}: response cut short`)));
        res.on('error', (e) => finish(new Error(`${opts.where}: ${e.message}`)));
      },
    );
    req.on('error', (e) => finish(new Error(`${opts.where}: ${e.message}`)));
    req.end();
  });
}

/**
 * A whole HTTP/1.x response as bytes (what `openssl s_client` printed on a node that cannot forward), read by
 * node:http's own parser: the bytes are played to it as the server's side of a connection.
 */
export async function parseHttpResponse(raw: Buffer, where = 'response'): Promise<HttpResponse> {
  if (raw.length === 0) throw new Error(`${where}: empty HTTP response`);
  let played = false;
  const server = new Duplex({
    read() {},
    write(_chunk, _enc, done) {
      // The request goes nowhere; the recorded response follows it, then the end of the connection.
      if (!played) {
        played = true;
        this.push(raw);
        this.push(null);
      }
      done();
    },
  });
  return httpGetOver(server, 'localhost', 80, '/metrics', { where });
}

/** The body of a 200 response as text; any other status is an error that quotes the start of the body. */
export function metricsBody(res: HttpResponse, where: string): string {
  if (res.status !== 200) {
    const snippet = res.body.toString('utf8').trim().slice(0, 200);
    throw new Error(`${where}: HTTP ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`);
  }
  return res.body.toString('utf8');
}

/** The request openssl sends for /metrics on a node that cannot forward: HTTP/1.1, closed after the response. */
export function metricsRequest(host: string, port: number, urlPath = '/metrics'): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return `GET ${urlPath} HTTP/1.1\r\nHost: ${h}:${port}\r\nUser-Agent: hardway\r\nAccept: text/plain\r\nConnection: close\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Readers

/** The client certificate, its key and the CA, as read from the inventory's pki.dir (ca.pem, kubernetes*.pem). */
export interface TlsFiles {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** ca.pem, kubernetes.pem and kubernetes-key.pem from a local PKI directory (the inventory's `pki.dir`). */
export async function readTlsFiles(pkiDir: string): Promise<TlsFiles> {
  const [ca, cert, key] = await Promise.all(
    [PKI_FILES.ca, PKI_FILES.cert, PKI_FILES.key].map((f) => readFile(path.join(pkiDir, f))),
  );
  return { ca: ca!, cert: cert!, key: key! };
}

export interface ReadMetricsOptions {
  /** The whole exchange, connect to last byte (default 15 s). */
  timeoutMs?: number;
  /** A larger response is an error (default 64 MiB). */
  maxBytes?: number;
  /** What is asked for (default `/metrics`; `/version` says the server and cluster versions in a few bytes). */
  path?: string;
}

/**
 * Reads https://host:port/metrics through the SSH connection: `remote.forward` opens a TCP stream from the node to
 * host:port, the TLS handshake runs here with the local PKI files and node:http speaks over it, so the node needs no
 * HTTP client. The server's certificate is checked against `ca` and must name `host` (etcd's certificate carries
 * every node IP).
 */
export async function readMetricsViaForward(
  remote: Remote,
  host: string,
  port: number,
  /** undefined: plain HTTP (etcd.tls: false, a loopback URL as the node sees it). */
  tlsFiles: TlsFiles | undefined,
  opts: ReadMetricsOptions = {},
): Promise<string> {
  if (!remote.forward) throw new Error(`${remote.name}: this connection cannot forward TCP streams`);
  const urlPath = opts.path ?? '/metrics';
  const where = `${remote.name}: ${tlsFiles ? 'https' : 'http'}://${isIP(host) === 6 ? `[${host}]` : host}:${port}${urlPath}`;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const started = Date.now();
  const late = (): Error => new Error(`${where}: no complete response within ${timeoutMs} ms`);
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const opening = remote.forward(host, port).catch((e: Error) => {
    throw new Error(`${where}: cannot open a forwarded connection: ${e.message}`);
  });
  let channel: Duplex;
  try {
    channel = (await Promise.race([
      opening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(late());
        }, timeoutMs);
      }),
    ])) as unknown as Duplex;
  } catch (e) {
    // The timeout won while the channel was opening: close it when it comes, nobody reads it.
    if (timedOut) void opening.then((c) => (c as unknown as Duplex).destroy(), () => {});
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const stream: Duplex = tlsFiles
    ? tls.connect({
        socket: channel,
        // `host` is what the certificate must name; SNI is only sent for DNS names (RFC 6066 forbids IPs).
        host,
        ...(isIP(host) ? {} : { servername: host }),
        ca: tlsFiles.ca,
        cert: tlsFiles.cert,
        key: tlsFiles.key,
        ALPNProtocols: ['http/1.1'],
      })
    : channel;
  stream.on('close', () => channel.destroy());
  const res = await httpGetOver(stream, host, port, urlPath, { where, timeoutMs, deadline: started + timeoutMs, ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) });
  return metricsBody(res, where);
}

/** Paths of the client cert, key and CA on the node. */
export interface RemoteTlsPaths {
  ca: string;
  cert: string;
  key: string;
}

const DEFAULT_REMOTE_TLS: RemoteTlsPaths = { ca: REMOTE_PATHS.caCert, cert: REMOTE_PATHS.cert, key: REMOTE_PATHS.key };

/** host and port of a client URL such as https://10.240.0.10:2379 (IPv6 without brackets). */
export function splitClientUrl(clientUrl: string): { host: string; port: number } {
  const u = new URL(clientUrl);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { host, port };
}

export const FETCH_MARK = 'hardway-fetch:';

/**
 * The fallback when the connection cannot forward: fetch /metrics on the node with curl, or else with
 * `openssl s_client` (raw HTTP). The first output line says which: `hardway-fetch: body` or `hardway-fetch: raw`.
 * Exit 127 when the node has neither.
 */
export function metricsFetchScript(clientUrl: string, paths: RemoteTlsPaths = DEFAULT_REMOTE_TLS, timeoutS = 10, urlPath = '/metrics'): string {
  const { host, port } = splitClientUrl(clientUrl);
  const url = `${clientUrl.replace(/\/+$/, '')}${urlPath}`;
  const hostPort = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const verify = isIP(host) ? `-verify_ip ${shq(host)}` : `-verify_hostname ${shq(host)} -servername ${shq(host)}`;
  const request = metricsRequest(host, port, urlPath).replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  if (url.startsWith('http://')) {
    return [`echo '${FETCH_MARK} body'`, `exec curl -sS --fail --max-time ${timeoutS} ${shq(url)}`].join('\n');
  }
  return [
    'if command -v curl >/dev/null 2>&1; then',
    `  echo '${FETCH_MARK} body'`,
    `  exec curl -sS --fail --max-time ${timeoutS} --cacert ${shq(paths.ca)} --cert ${shq(paths.cert)} --key ${shq(paths.key)} ${shq(url)}`,
    'elif command -v openssl >/dev/null 2>&1; then',
    `  echo '${FETCH_MARK} raw'`,
    `  printf ${shq(request)} | timeout ${timeoutS} openssl s_client -quiet -connect ${shq(hostPort)} -CAfile ${shq(paths.ca)} -cert ${shq(paths.cert)} -key ${shq(paths.key)} -verify_return_error ${verify}`,
    'else',
    `  echo 'hardway: the node has neither curl nor openssl to fetch ${url}' >&2`,
    '  exit 127',
    'fi',
  ].join('\n');
}

/** The metrics text from metricsFetchScript's output. */
export async function parseFetchOutput(stdout: string, where: string): Promise<string> {
  const nl = stdout.indexOf('\n');
  const first = nl < 0 ? stdout : stdout.slice(0, nl);
  const rest = nl < 0 ? '' : stdout.slice(nl + 1);
  if (first === `${FETCH_MARK} body`) return rest;
  if (first === `${FETCH_MARK} raw`) return metricsBody(await parseHttpResponse(Buffer.from(rest, 'utf8'), where), where);
  throw new Error(`${where}: unexpected output from the fetch script: '${first.slice(0, 80)}'`);
}

/**
 * etcd's /metrics for a member at `clientUrl` (e.g. https://10.240.0.10:2379), fetched from the node `remote`:
 * through an SSH-forwarded stream when the connection can forward and `tls` is given (preferred: nothing needed on
 * the node), otherwise with curl or openssl on the node and the certificates hardway installed in /etc/etcd.
 */
export async function readMetrics(
  remote: Remote,
  clientUrl: string,
  opts: ReadMetricsOptions & { tls?: TlsFiles; remotePaths?: RemoteTlsPaths } = {},
): Promise<string> {
  const { host, port } = splitClientUrl(clientUrl);
  const plain = clientUrl.startsWith('http://');
  if (remote.forward && (opts.tls || plain)) return readMetricsViaForward(remote, host, port, plain ? undefined : opts.tls, opts);
  const where = `${remote.name}: ${clientUrl.replace(/\/+$/, '')}${opts.path ?? '/metrics'}`;
  const timeoutS = Math.max(1, Math.ceil((opts.timeoutMs ?? 15_000) / 1000));
  const r = await remote.run(metricsFetchScript(clientUrl, opts.remotePaths, timeoutS, opts.path), { timeoutMs: (timeoutS + 5) * 1000 });
  if (r.timedOut) throw new Error(`${where}: timed out`);
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ') || `exit ${r.code}`;
    // openssl exits 0 or 1 on an orderly close after the response, depending on version: trust the response if any.
    if (!(r.stdout.startsWith(`${FETCH_MARK} raw`) && /HTTP\/1\.[01] 200/.test(r.stdout))) throw new Error(`${where}: ${why}`);
  }
  return parseFetchOutput(r.stdout, where);
}
