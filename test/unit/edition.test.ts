import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileError } from '../../src/errors.js';
import { parseMachines } from '../../src/init/machines.js';
import { clientUrl, peerUrl } from '../../src/inventory/derive.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { artifactsFor, desiredNode } from '../../src/provision/desired.js';
import { archOfUname, elfArch, elfArchOfFile, releaseName } from '../../src/provision/elf.js';
import { lintUnit, renderUnit } from '../../src/render/index.js';
import { etcdctlCommand } from '../../src/etcd/etcdctl.js';
import { metricsFetchScript } from '../../src/etcd/metrics.js';
import { runCli } from './cli-harness.js';

/** The current edition's server, as seed 000 runs it: one member, plain HTTP, loopback only. */
const CURRENT = 'etcd:\n  version: 3.6.5\n  tarball: /t.tgz\n  tls: false\nnodes:\n  - name: controller\n    address: 192.168.1.10\n';
const validate = (text: string) => validateInventory(text, { file: '/i.yaml' });

describe('etcd.tls: false (the current edition)', () => {
  it('puts etcd on http://127.0.0.1 and renders the guide\'s unit: no certificate flags, nothing listening elsewhere', async () => {
    const inv = validate(CURRENT).inventory!;
    const node = inv.nodes[0]!;
    expect([node.internalIp, peerUrl(node), clientUrl(node)]).toEqual(['127.0.0.1', 'http://127.0.0.1:2380', 'http://127.0.0.1:2379']);
    const unit = await renderUnit(inv, node);
    const args = unit.split('\n').filter((l) => l.trim().startsWith('--')).map((l) => l.trim().replace(/ \\$/, ''));
    expect(args.slice(0, 9)).toEqual([
      '--name controller',
      '--initial-advertise-peer-urls http://127.0.0.1:2380',
      '--listen-peer-urls http://127.0.0.1:2380',
      '--listen-client-urls http://127.0.0.1:2379',
      '--advertise-client-urls http://127.0.0.1:2379',
      '--initial-cluster-token etcd-cluster-0',
      '--initial-cluster controller=http://127.0.0.1:2380',
      '--initial-cluster-state new',
      '--data-dir=/var/lib/etcd',
    ]);
    expect(unit.slice(unit.indexOf('ExecStart'))).not.toMatch(/cert|key-file|trusted-ca|https/);
    expect(lintUnit(unit, { file: 'etcd.service', etcdVersion: '3.6.5' }).filter((p) => p.severity === 'error')).toEqual([]);
    // The TLS edition renders as before.
    const tls = validate(CURRENT.replace('  tls: false\n', '')).inventory!;
    expect(await renderUnit(tls, tls.nodes[0]!)).toMatch(/--cert-file=\/etc\/etcd\/kubernetes\.pem \\\n {2}--key-file=/);
  });

  it('ships no certificates and asks etcdctl and /metrics without any', () => {
    const inv = validate(CURRENT).inventory!;
    const src = { data: Buffer.alloc(1), size: 1, sha256: '0'.repeat(64) };
    const want = desiredNode(inv, inv.nodes[0]!, { etcd: src, etcdctl: src, ca: src, cert: src, key: src, units: new Map([['controller', src]]) });
    expect(want.files.map((f) => f.role)).toEqual(['binary', 'binary', 'unit']);
    expect(etcdctlCommand(['http://127.0.0.1:2379'], ['member', 'list'])).not.toMatch(/--cacert|--cert|--key/);
    expect(etcdctlCommand(['https://10.0.0.1:2379'], ['member', 'list'])).toMatch(/--cacert=\/etc\/etcd\/ca\.pem --cert=\S+ --key=\S+/);
    expect(metricsFetchScript('http://127.0.0.1:2379')).toBe("echo 'hardway-fetch: body'\nexec curl -sS --fail --max-time 10 http://127.0.0.1:2379/metrics");
  });

  it('is refused with the reason for more than one node or a network address', () => {
    const three = validate(CURRENT + '  - name: controller-1\n    address: 192.168.1.11\n  - name: controller-2\n    address: 192.168.1.12\n');
    expect(three.errors.map((e) => `${e.line}:${e.col} ${e.message}`)).toEqual([
      "4:3 etcd.tls: false sends etcd's traffic unencrypted: it is only for a single node on loopback; with 3 nodes the peers talk over the network, which needs TLS",
    ]);
    const network = validate(`${CURRENT}    internalIp: 192.168.1.10\n`);
    expect(network.errors.map((e) => `${e.line}:${e.col} ${e.message}`)).toEqual([
      "8:17 node 'controller': with etcd.tls: false etcd must stay on loopback (internalIp 127.0.0.1, the default then), not '192.168.1.10': plain HTTP on a network address needs TLS",
    ]);
  });

  it('lints plain-HTTP URLs on a non-loopback address as an error', () => {
    const unit = '[Service]\nType=notify\nExecStart=/usr/local/bin/etcd --name a --listen-client-urls=http://10.0.0.5:2379,http://127.0.0.1:2379 --listen-peer-urls=https://10.0.0.5:2380\n';
    const problems = lintUnit(unit, { file: 'etcd.service', etcdVersion: '3.4.23' }).filter((p) => p.rule === 'plain-http');
    expect(problems.map((p) => [p.severity, p.message])).toEqual([['error', "--listen-client-urls has plain http://10.0.0.5: etcd's traffic, every Secret included, would cross the network unencrypted"]]);
  });
});

describe('machines.txt', () => {
  it('reads the guide\'s layout, comments and blank lines skipped', () => {
    const text = '# jumpbox\n192.168.1.10 server.kubernetes.local server\n\n192.168.1.20 node-0.kubernetes.local node-0 10.200.0.0/24\n';
    expect(parseMachines(text, 'machines.txt')).toEqual([
      { ip: '192.168.1.10', fqdn: 'server.kubernetes.local', hostname: 'server', line: 2 },
      { ip: '192.168.1.20', fqdn: 'node-0.kubernetes.local', hostname: 'node-0', podSubnet: '10.200.0.0/24', line: 4 },
    ]);
  });

  it('names every bad field with file:line:col', () => {
    const text = '192.168.1.10 server.kubernetes.local server\n  192.168.1.300 node-0.kubernetes.local Node_0 10.200.0.0/33\n192.168.1.10 x.local server\nonly-one\n';
    let err: unknown;
    try {
      parseMachines(text, 'm.txt');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message.split(' ').slice(0, 3).join(' ')}`)).toEqual([
      "m.txt:2:3: '192.168.1.300' is not",
      "m.txt:2:41: 'Node_0' is not",
      "m.txt:2:48: '10.200.0.0/33' is not",
      "m.txt:3:1: duplicate address '192.168.1.10':",
      "m.txt:3:22: duplicate hostname 'server':",
      "m.txt:4:1: expected 'IPV4_ADDRESS FQDN",
    ]);
  });
});

describe('hardway init', () => {
  const dir = () => mkdtempSync(path.join(os.tmpdir(), 'hardway-init-'));
  const machines = '192.168.1.10 server.kubernetes.local server\n192.168.1.20 node-0.kubernetes.local node-0 10.200.0.0/24\n10.240.0.10 controller-0.local controller-0\n10.240.0.11 controller-1.local controller-1\n10.240.0.12 controller-2.local controller-2\n';

  it('writes an inventory that validates, for either edition, and never overwrites one', async () => {
    const d = dir();
    writeFileSync(path.join(d, 'machines.txt'), machines);
    const current = path.join(d, 'current.yaml');
    expect((await runCli('init', '--from', path.join(d, 'machines.txt'), '-o', current)).code).toBe(0);
    const inv = validate(readFileSync(current, 'utf8')).inventory!;
    expect(inv.nodes.map((n) => [n.name, n.address, n.internalIp])).toEqual([['controller', '192.168.1.10', '127.0.0.1']]);
    expect([inv.etcd.tls, inv.etcd.version, inv.ssh.user, inv.ssh.identityFile.endsWith('/.ssh/id_rsa')]).toEqual([false, '3.6.5', 'root', true]);
    expect(readFileSync(current, 'utf8')).toContain('# --initial-cluster-token: unique per cluster');

    const old = path.join(d, '2020.yaml');
    expect((await runCli('init', '--edition', '2020', '--from', path.join(d, 'machines.txt'), '-o', old)).code).toBe(0);
    const inv2020 = validate(readFileSync(old, 'utf8')).inventory!;
    expect(inv2020.nodes.map((n) => [n.name, n.address, n.internalIp])).toEqual([0, 1, 2].map((i) => [`controller-${i}`, `10.240.0.1${i}`, `10.240.0.1${i}`]));
    expect(inv2020.etcd.tls).toBe(true);

    const before = readFileSync(current, 'utf8');
    const again = await runCli('init', '--edition', '2020', '-o', current);
    expect([again.code, again.err.trim()]).toEqual([2, `error: ${current} exists: not overwriting it (move it away, or write elsewhere with -o)`]);
    expect(readFileSync(current, 'utf8')).toBe(before);
  });

  it('exits 2 with file:line:col on a bad machines.txt, and names the missing etcd machine', async () => {
    const d = dir();
    writeFileSync(path.join(d, 'bad.txt'), '192.168.1.10 server.kubernetes.local server\n192.168.1.x node-0.kubernetes.local node-0\n');
    const bad = await runCli('init', '--from', path.join(d, 'bad.txt'), '-o', path.join(d, 'x.yaml'));
    expect([bad.code, bad.err.trim()]).toEqual([2, `error: ${path.join(d, 'bad.txt')}:2:1: '192.168.1.x' is not an IPv4 address`]);
    writeFileSync(path.join(d, 'nodes.txt'), '192.168.1.20 node-0.kubernetes.local node-0 10.200.0.0/24\n');
    const none = await runCli('init', '--from', path.join(d, 'nodes.txt'), '-o', path.join(d, 'y.yaml'));
    expect(none.code).toBe(2);
    expect(none.err).toContain("nodes.txt:1:1: no etcd machine for the current edition: expected a line for the machine named 'server'");
  });
});

describe('CPU architecture', () => {
  it('reads the CPU from an ELF header and names the release for a uname -m', async () => {
    const own = await elfArchOfFile(process.execPath);
    expect(own?.uname).toBe(os.arch() === 'arm64' ? 'aarch64' : 'x86_64');
    const head = Buffer.from(readFileSync(process.execPath).subarray(0, 64));
    head.writeUInt16LE(0xb7, 18);
    expect(elfArch(head)).toEqual({ uname: 'aarch64', release: 'arm64' });
    head.writeUInt16LE(0x16, 18);
    expect(elfArch(head)?.uname).toBe('s390x');
    expect(elfArch(Buffer.from('#!/bin/sh\necho not elf\n'))).toBeUndefined();
    expect(archOfUname('aarch64')).toEqual(archOfUname('arm64'));
    expect(releaseName('3.6.5', archOfUname('aarch64')!)).toBe('etcd-v3.6.5-linux-arm64.tar.gz');
  });
});

describe('a release per architecture', () => {
  const inv = (etcd: string) => validate(`etcd:\n${etcd}nodes:\n  - name: a\n    address: 10.0.0.1\n`);
  const sum = 'a'.repeat(64);

  it('takes etcd.tarball, or etcd.url with etcd.sha256, as a map per architecture, paths resolved', () => {
    const r = inv('  tarball:\n    amd64: ./etcd-v3.4.23-linux-amd64.tar.gz\n    arm64: ./etcd-v3.4.23-linux-arm64.tar.gz\n');
    expect(r.errors).toEqual([]);
    expect(r.inventory!.etcd.tarball).toEqual({ amd64: '/etcd-v3.4.23-linux-amd64.tar.gz', arm64: '/etcd-v3.4.23-linux-arm64.tar.gz' });
    expect(inv(`  url:\n    arm64: https://example.invalid/e.tgz\n  sha256:\n    arm64: ${sum}\n`).errors).toEqual([]);
  });

  it('refuses an unknown architecture, an empty map, and sums that do not match the urls', () => {
    expect(inv('  tarball:\n    x86: ./e.tgz\n').errors.map((e) => e.line)).toEqual([3]);
    expect(inv('  tarball: {}\n').errors.map((e) => e.message)).toEqual(['etcd.tarball: the map names no architecture (amd64, arm64, ppc64le, s390x)']);
    expect(inv(`  url:\n    amd64: https://example.invalid/a.tgz\n    arm64: https://example.invalid/b.tgz\n  sha256:\n    amd64: ${sum}\n`).errors.map((e) => e.message)).toEqual([
      'etcd.sha256 has no sum for arm64 (etcd.url downloads it)',
    ]);
    expect(inv(`  url:\n    amd64: https://example.invalid/a.tgz\n  sha256: ${sum}\n`).errors.map((e) => e.message)).toEqual([
      'etcd.url and etcd.sha256 must both be one value, or both a map per architecture',
    ]);
  });

  it('gives each node the binaries of its CPU, and none when the map has no entry for it', () => {
    const src = (sha: string) => ({ size: 1, sha256: sha.padEnd(64, '0') });
    const amd = { etcd: src('a1'), etcdctl: src('a2'), arch: archOfUname('x86_64')! };
    const arm = { etcd: src('b1'), etcdctl: src('b2'), arch: archOfUname('aarch64')! };
    const base = { ...amd, ca: src('c'), cert: src('c'), key: src('k'), units: new Map(), byArch: new Map([['amd64', amd], ['arm64', arm]]) };
    expect(artifactsFor(base, archOfUname('aarch64'))?.etcd.sha256).toBe(arm.etcd.sha256);
    expect(artifactsFor(base, archOfUname('x86_64'))?.etcdctl.sha256).toBe(amd.etcdctl.sha256);
    expect(artifactsFor(base, archOfUname('s390x'))).toBeUndefined();
    const { byArch: _b, ...single } = base;
    expect(artifactsFor(single, archOfUname('s390x'))).toBe(single);
  });
});
