import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { faultTolerance, initialCluster, listenClientUrls, peerUrl, quorum, sanList, selectNodes } from '../../src/inventory/derive.js';
import { validateInventory } from '../../src/inventory/validate.js';

const file = '/inv/inventory.yaml';
const validate = (src: string) => validateInventory(src, { file, homeDir: '/home/u' });
const nodes = (n: number) =>
  'nodes:\n' + Array.from({ length: n }, (_, i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join('');

function errorAt(src: string): string[] {
  const r = validate(src);
  expect(r.inventory).toBeUndefined();
  return r.errors.map((e) => `${e.line}:${e.col} ${e.message}`);
}

describe('validateInventory', () => {
  it('accepts the documented example and fills defaults', () => {
    const src = readFileSync(new URL('../../inventory.example.yaml', import.meta.url), 'utf8');
    const r = validateInventory(src, { file: '/x/inventory.example.yaml', homeDir: '/home/u' });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    const inv = r.inventory!;
    expect(inv.nodes.map((n) => n.name)).toEqual(['controller-0', 'controller-1', 'controller-2']);
    expect(inv.nodes[1]!.internalIp).toBe('10.240.0.11');
    expect(inv.etcd.tarball).toBe('/x/downloads/etcd-v3.4.23-linux-amd64.tar.gz');
    expect(inv.ssh.identityFile).toBe('/home/u/.ssh/id_ed25519');
    expect(inv.pki.dir).toBe('/x/pki');
  });

  it('applies defaults to a minimal file', () => {
    const inv = validate(nodes(3)).inventory!;
    expect(inv.etcd).toMatchObject({ version: '3.4.23', dataDir: '/var/lib/etcd', heartbeatInterval: 100, electionTimeout: 1000, listenLocalhost: true });
    expect(inv.cluster).toEqual({ token: 'etcd-cluster-0', initialState: 'new' });
    expect(inv.ssh).toMatchObject({ user: 'root', port: 22, sudo: false });
  });

  it('lets a node override ssh settings', () => {
    const src = `ssh:\n  user: admin\n  identityFile: keys/id\nnodes:\n  - name: a\n    address: 10.0.0.1\n    user: ubuntu\n    port: 2222\n    sudo: true\n  - name: b\n    address: 10.0.0.2\n  - name: c\n    address: 10.0.0.3\n    identityFile: ~/other\n`;
    const inv = validate(src).inventory!;
    expect(inv.nodes[0]!.ssh).toMatchObject({ user: 'ubuntu', port: 2222, sudo: true, identityFile: '/inv/keys/id' });
    expect(inv.nodes[1]!.ssh).toMatchObject({ user: 'admin', port: 22, sudo: false });
    expect(inv.nodes[2]!.ssh.identityFile).toBe('/home/u/other');
  });

  it('reports YAML syntax errors with line and column', () => {
    const errs = errorAt('nodes:\n  - name: a\n    address: [10.0.0.1\n');
    expect(errs[0]).toMatch(/^\d+:\d+ YAML: /);
  });

  it('rejects unknown keys at the key itself', () => {
    expect(errorAt(nodes(3) + 'etcd:\n  heartbeatIntervall: 100\n')).toEqual([
      "9:3 unknown key 'heartbeatIntervall': did you mean 'heartbeatInterval'? (see inventory.example.yaml)",
    ]);
    expect(errorAt('nodes:\n  - name: a\n    adress: 10.0.0.1\n')).toContain("3:5 unknown key 'adress': did you mean 'address'? (see inventory.example.yaml)");
  });

  it('points schema errors at the offending value', () => {
    expect(errorAt(nodes(3) + 'ssh:\n  port: "22"\n')[0]).toMatch(/^9:9 ssh\.port: .*number/);
    expect(errorAt(nodes(1).replace('    address: 10.240.0.10\n', ''))[0]).toBe("2:5 nodes.0.address: missing required key 'address'");
    expect(errorAt('cluster:\n  token: x\n')[0]).toMatch(/^1:1 nodes: /);
    expect(errorAt('nodes: []\n')[0]).toMatch(/^1:8 nodes: at least one node/);
  });

  it('rejects duplicate names, addresses and internal IPs', () => {
    const src = 'nodes:\n  - name: a\n    address: 10.0.0.1\n  - name: a\n    address: 10.0.0.2\n  - name: c\n    address: 10.0.0.1\n  - name: d\n    address: 10.0.0.9\n    internalIp: 10.0.0.2\n';
    const errs = errorAt(src);
    expect(errs).toContain("4:11 duplicate name 'a': node 1 (a) has it too");
    expect(errs).toContain("7:14 duplicate address '10.0.0.1': node 1 (a) has it too");
    expect(errs).toContain("7:14 duplicate internalIp '10.0.0.1': node 1 (a) has it too");
    expect(errs).toContain("10:17 duplicate internalIp '10.0.0.2': node 2 (a) has it too");
  });

  it.each(['Controller-0', 'a b', 'a,b', 'a=b', '-a', 'a-', 'x'.repeat(64), ''])('rejects node name %j', (name) => {
    const errs = errorAt(`nodes:\n  - name: "${name}"\n    address: 10.0.0.1\n`);
    expect(errs[0]).toMatch(/^2:11 node name .* is not a DNS-1123 label/);
  });

  it('needs internalIp when address is a host name', () => {
    expect(errorAt('nodes:\n  - name: a\n    address: node-a.lan\n')[0]).toMatch(/^3:14 node 'a': address 'node-a.lan' is not an IP address, so internalIp must be set/);
    const inv = validate('nodes:\n  - name: a\n    address: node-a.lan\n    internalIp: 10.0.0.1\n').inventory!;
    expect(inv.nodes[0]!.internalIp).toBe('10.0.0.1');
  });

  it('warns about an even number of members with the fault-tolerance table', () => {
    const r = validate(nodes(4));
    expect(r.errors).toEqual([]);
    expect(r.inventory).toBeDefined();
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]!.message).toContain('1→0, 2→0, 3→1, 4→1, 5→2, 6→2, 7→3');
    expect(r.warnings[0]!.message).toContain('use 3 or 5');
    expect(validate(nodes(3)).warnings).toEqual([]);
  });

  it('warns about more than 7 members', () => {
    const msgs = validate(nodes(9)).warnings.map((w) => w.message);
    expect(msgs.some((m) => m.includes('more than 7'))).toBe(true);
  });

  it("enforces etcd's timing limits", () => {
    expect(errorAt(nodes(3) + 'etcd:\n  heartbeatInterval: 300\n')[0]).toMatch(/electionTimeout \(1000 ms\) must be at least 5× heartbeatInterval/);
    expect(errorAt(nodes(3) + 'etcd:\n  heartbeatInterval: 5000\n  electionTimeout: 60000\n')[0]).toMatch(/over etcd's limit of 50000/);
  });

  it('needs sha256 with url and refuses both tarball and url', () => {
    expect(errorAt(nodes(3) + 'etcd:\n  url: https://example.invalid/e.tgz\n')[0]).toMatch(/needs etcd\.sha256/);
    expect(errorAt(nodes(3) + `etcd:\n  tarball: ./e.tgz\n  url: https://example.invalid/e.tgz\n  sha256: ${'a'.repeat(64)}\n`)[0]).toMatch(/either tarball or url/);
  });

  it('rejects extraFlags written with dashes or values in the key', () => {
    expect(errorAt(nodes(3) + 'etcd:\n  extraFlags:\n    --snapshot-count: 1000\n')[0]).toMatch(/^10:5 extraFlags key '--snapshot-count' must be a bare flag name/);
  });
});

describe('derived values', () => {
  const inv = validate(nodes(3) + 'pki:\n  extraSans: [10.32.0.1, kubernetes, 127.0.0.1]\n').inventory!;

  it('builds --initial-cluster and URLs from one place', () => {
    expect(initialCluster(inv)).toBe(
      'controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380,controller-2=https://10.240.0.12:2380',
    );
    expect(peerUrl(inv.nodes[0]!)).toBe('https://10.240.0.10:2380');
    expect(listenClientUrls(inv, inv.nodes[2]!)).toEqual(['https://10.240.0.12:2379', 'https://127.0.0.1:2379']);
    const noLocal = { ...inv, etcd: { ...inv.etcd, listenLocalhost: false } };
    expect(listenClientUrls(noLocal, inv.nodes[2]!)).toEqual(['https://10.240.0.12:2379']);
  });

  it('brackets IPv6 addresses in URLs', () => {
    const v6 = validate('nodes:\n  - name: a\n    address: "fd00::10"\n').inventory!;
    expect(peerUrl(v6.nodes[0]!)).toBe('https://[fd00::10]:2380');
  });

  it('lists SANs once each, IPs apart from names', () => {
    expect(sanList(inv)).toEqual({
      ips: ['10.240.0.10', '10.240.0.11', '10.240.0.12', '127.0.0.1', '10.32.0.1'],
      dns: ['controller-0', 'controller-1', 'controller-2', 'kubernetes'],
    });
  });

  it('knows the fault-tolerance table', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(faultTolerance)).toEqual([0, 0, 1, 1, 2, 2, 3]);
    expect([1, 2, 3, 4, 5].map(quorum)).toEqual([1, 2, 2, 3, 3]);
  });

  it('selects nodes by name and reports unknown ones', () => {
    const sel = selectNodes(inv, ['controller-2', 'nope']);
    expect(sel.nodes.map((n) => n.name)).toEqual(['controller-2']);
    expect(sel.unknown).toEqual(['nope']);
  });
});
