#!/usr/bin/env node
// Benchmark (not a test): `npm run build && node bench/pki.mjs [rounds]` (default 15; BENCH_ROUNDS works too).
//
// Times, as whole processes in a fresh directory each time, the making of a CA + the etcd leaf
// (3 nodes, KTHW SANs, RSA 2048) by:
//   hardway      node bin/hardway pki -i <inventory> (the bundle in dist/bundle/)
//   hardway-tsc  the same command from tsc's unbundled output (dist/cli.js), to show what bundling saves
//   openssl      genrsa / req -x509 / genrsa / req / x509 -req, extensions from a config file
//   cfssl        the KTHW 2020 recipe: gencert -initca, gencert -profile=kubernetes, cfssljson -bare
//   startup      node bin/hardway --version (the CLI's start-up alone, for reference)
// The order of the tools rotates every round, so that a busy moment of the machine does not hit one tool
// only. Every tool runs through `bash -c`, so they pay the same shell overhead.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[2] ?? process.env.BENCH_ROUNDS ?? 15);
if (!existsSync(path.join(root, 'dist/bundle/cli.cjs'))) {
  console.error('run `npm run build` first');
  process.exit(2);
}

const { validateInventory } = await import(path.join(root, 'dist/inventory/validate.js'));
const { sanList } = await import(path.join(root, 'dist/inventory/derive.js'));

const work = mkdtempSync(path.join(os.tmpdir(), 'hardway-bench-pki-'));
const inventoryText = `pki:
  dir: ./pki
  keyBits: 2048
  validityDays: 365
  extraSans: [10.32.0.1, kubernetes, kubernetes.default, kubernetes.default.svc, kubernetes.default.svc.cluster, kubernetes.svc.cluster.local]
nodes:
  - name: controller-0
    address: 10.240.0.10
  - name: controller-1
    address: 10.240.0.11
  - name: controller-2
    address: 10.240.0.12
`;
const parsed = validateInventory(inventoryText, { file: 'bench.yaml', baseDir: work });
const { ips, dns } = sanList(parsed.inventory);

// Same subjects, extensions and lifetimes as hardway's (see src/pki/certs.ts).
const opensslCnf = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @alt
[alt]
${ips.map((ip, i) => `IP.${i + 1} = ${ip}`).join('\n')}
${dns.map((d, i) => `DNS.${i + 1} = ${d}`).join('\n')}
`;

// Kubernetes The Hard Way (2020), "Certificate Authority" and "The Kubernetes API Server Certificate".
const caConfig = { signing: { default: { expiry: '8760h' }, profiles: { kubernetes: { usages: ['signing', 'key encipherment', 'server auth', 'client auth'], expiry: '8760h' } } } };
const caCsr = { CN: 'Kubernetes', key: { algo: 'rsa', size: 2048 }, names: [{ C: 'US', L: 'Portland', O: 'Kubernetes', OU: 'CA', ST: 'Oregon' }] };
const leafCsr = { CN: 'kubernetes', key: { algo: 'rsa', size: 2048 }, names: [{ C: 'US', L: 'Portland', O: 'Kubernetes', OU: 'Kubernetes The Hard Way', ST: 'Oregon' }] };

const files = {
  'inventory.yaml': inventoryText,
  'openssl.cnf': opensslCnf,
  'ca-config.json': JSON.stringify(caConfig),
  'ca-csr.json': JSON.stringify(caCsr),
  'kubernetes-csr.json': JSON.stringify(leafCsr),
};
for (const [name, text] of Object.entries(files)) writeFileSync(path.join(work, name), text);

const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
const hardway = path.join(root, 'bin/hardway');
const tscEntry = `import { main } from ${JSON.stringify(path.join(root, 'dist/cli.js'))}; process.exitCode = await main(process.argv);`;

/** Each tool: a bash script run in a fresh directory `$D` (the inventory's pki.dir for hardway). */
const tools = {
  hardway: (d) => `node ${q(hardway)} pki -i ${q(d)}/inventory.yaml >/dev/null`,
  'hardway-tsc': (d) => `node --input-type=module -e ${q(tscEntry)} x pki -i ${q(d)}/inventory.yaml >/dev/null`,
  openssl: (d) => {
    const c = q(path.join(work, 'openssl.cnf'));
    return [
      `cd ${q(d)}`,
      'openssl genrsa -out ca-key.pem 2048 2>/dev/null',
      `openssl req -x509 -new -key ca-key.pem -sha256 -days 1825 -subj /CN=Kubernetes/O=Kubernetes -config ${c} -extensions v3_ca -out ca.pem`,
      'openssl genrsa -out kubernetes-key.pem 2048 2>/dev/null',
      `openssl req -new -key kubernetes-key.pem -subj /CN=kubernetes/O=Kubernetes -config ${c} -out kubernetes.csr`,
      `openssl x509 -req -in kubernetes.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 -sha256 -extfile ${c} -extensions v3_leaf -out kubernetes.pem 2>/dev/null`,
    ].join(' && ');
  },
  cfssl: (d) => {
    const w = (f) => q(path.join(work, f));
    return [
      `cd ${q(d)}`,
      `cfssl gencert -initca ${w('ca-csr.json')} 2>/dev/null | cfssljson -bare ca`,
      `cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=${w('ca-config.json')} -hostname=${[...ips, ...dns].join(',')} -profile=kubernetes ${w('kubernetes-csr.json')} 2>/dev/null | cfssljson -bare kubernetes`,
    ].join(' && ');
  },
  startup: () => `node ${q(hardway)} --version >/dev/null`,
};

/** Where each tool leaves its certificates, to check them once (not timed). */
const outDir = (tool, d) => (tool.startsWith('hardway') ? path.join(d, 'pki') : d);

function runOnce(tool) {
  const d = mkdtempSync(path.join(work, `${tool}-`));
  // Each tool's input files are in place before the clock starts (cfssl and openssl read theirs from work/).
  if (tool.startsWith('hardway')) copyFileSync(path.join(work, 'inventory.yaml'), path.join(d, 'inventory.yaml'));
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', `set -eo pipefail; ${tools[tool](d)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr}`);
  return { ms, dir: d };
}

function verify(tool, d) {
  const o = outDir(tool, d);
  const out = execFileSync('openssl', ['verify', '-CAfile', path.join(o, 'ca.pem'), path.join(o, 'kubernetes.pem')], { encoding: 'utf8' });
  const text = execFileSync('openssl', ['x509', '-in', path.join(o, 'kubernetes.pem'), '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
  const missing = [...ips.map((ip) => `IP Address:${ip}`), ...dns.map((n) => `DNS:${n}`)].filter((s) => !text.includes(s));
  if (!out.trim().endsWith('OK') || missing.length) throw new Error(`${tool}: bad output: ${out} missing ${missing.join(', ')}`);
}

const names = Object.keys(tools);
const times = Object.fromEntries(names.map((n) => [n, []]));
try {
  // One untimed round: page cache, and a check that every tool makes a valid CA + leaf.
  for (const n of names) {
    const { dir } = runOnce(n);
    if (n !== 'startup') verify(n, dir);
  }
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const n of order) {
      const { ms, dir } = runOnce(n);
      times[n].push(ms);
      rmSync(dir, { recursive: true, force: true });
    }
    process.stderr.write(`\rround ${r + 1}/${rounds}`);
  }
  process.stderr.write('\n');
} finally {
  rmSync(work, { recursive: true, force: true });
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => x.toFixed(1).padStart(7);
const med = Object.fromEntries(names.map((n) => [n, median(times[n])]));
console.log(`${rounds} rounds, ${os.cpus().length} CPUs, node ${process.version}, ${execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim()}`);
console.log(`${'tool'.padEnd(13)}  median     mean      min      max  (ms)`);
for (const n of names) {
  const a = times[n];
  const mean = a.reduce((x, y) => x + y, 0) / a.length;
  console.log(`${n.padEnd(13)}${fmt(med[n])}  ${fmt(mean)}  ${fmt(Math.min(...a))}  ${fmt(Math.max(...a))}`);
}
console.log('ratios of medians (> 1: hardway is faster):');
for (const h of ['hardway', 'hardway-tsc']) {
  for (const other of ['cfssl', 'openssl']) console.log(`  ${other}/${h}: ${(med[other] / med[h]).toFixed(2)}`);
}

// The two ways of making an RSA key in Node, in this process: OpenSSL 3's generateKeyPair (SP 800-56B) against
// the two plain primes hardway's generateRsaKey assembles (src/pki/keys.ts). One key at a time.
const { generateRsaKey } = await import(path.join(root, 'dist/pki/keys.js'));
const { generateKeyPair } = await import('node:crypto');
const keyTimes = { 'generateKeyPair (OpenSSL 3)': [], 'generateRsaKey (hardway)': [] };
const timeIt = async (fn) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
for (let r = 0; r < rounds * 2; r++) {
  keyTimes['generateKeyPair (OpenSSL 3)'].push(
    await timeIt(() => new Promise((res, rej) => generateKeyPair('rsa', { modulusLength: 2048 }, (e) => (e ? rej(e) : res())))),
  );
  keyTimes['generateRsaKey (hardway)'].push(await timeIt(() => generateRsaKey(2048)));
}
console.log(`one RSA-2048 key, in-process, ${rounds * 2} each, alternating:`);
for (const [n, a] of Object.entries(keyTimes)) {
  const mean = a.reduce((x, y) => x + y, 0) / a.length;
  console.log(`  ${n.padEnd(28)} median ${fmt(median(a))}  mean ${fmt(mean)}  (ms)`);
}
