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

describe('validateInventory: the rules behind each message, and where it points', () => {
  const sum = (c: string) => c.repeat(64);

  it('a member name is a DNS-1123 label: one character to 63, letters or digits at both ends', () => {
    for (const name of ['a', '0', 'a-0', 'x'.repeat(63)]) expect(validate(`nodes:\n  - name: "${name}"\n    address: 10.0.0.1\n`).errors, name).toEqual([]);
    for (const name of ['_a', 'A0', 'a_', 'ab.', '.ab']) {
      expect(errorAt(`nodes:\n  - name: "${name}"\n    address: 10.0.0.1\n`)[0], name).toMatch(/^2:11 node name .* is not a DNS-1123 label .*would corrupt --initial-cluster$/);
    }
  });

  it('a YAML syntax error is the only thing reported: nothing is read from a file that does not parse', () => {
    const r = validate('nodes:\n  - name: a\n    address: [10.0.0.1\netcd:\n  bogus: 1\n');
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors.every((e) => e.message.startsWith('YAML: ') && e.file === file)).toBe(true);
    expect(r.inventory).toBeUndefined();
  });

  it('a YAML warning (an unknown tag) is reported with its place, and the file is still read', () => {
    const r = validate(nodes(3) + 'templates: !weird ./t\n');
    expect(r.warnings.map((w) => `${w.line}:${w.col} ${w.message.slice(0, 6)}`)).toEqual(['8:12 YAML: ']);
    expect(r.inventory?.templates).toBe('/inv/t');
  });

  it.each([['a list', '- a\n- b\n'], ['a string', 'just text\n'], ['an empty file', ''], ['null', '~\n']])('%s is not an inventory', (_what, text) => {
    expect(errorAt(text)).toEqual(['1:1 the inventory must be a mapping with at least a `nodes:` list']);
  });

  it('an unknown key deeper in the file is pointed at on its own line', () => {
    expect(errorAt(nodes(3) + 'ssh:\n  user: a\n  jumphost: b\n')).toEqual(["10:3 unknown key 'jumphost': did you mean 'jumpHost'? (see inventory.example.yaml)"]);
  });

  it('etcd.tls: false is for one node on loopback only: more nodes, or a network address, need TLS', () => {
    expect(errorAt('etcd:\n  tls: false\n' + nodes(3).replace(/address: [\d.]+/g, (a, i: number) => `address: 127.0.0.${i}`)).filter((e) => e.includes('tls'))).toEqual([
      "2:3 etcd.tls: false sends etcd's traffic unencrypted: it is only for a single node on loopback; with 3 nodes the peers talk over the network, which needs TLS",
    ]);
    expect(errorAt('etcd:\n  tls: false\nnodes:\n  - name: a\n    address: 10.0.0.1\n    internalIp: 10.0.0.1\n')).toEqual([
      "6:17 node 'a': with etcd.tls: false etcd must stay on loopback (internalIp 127.0.0.1, the default then), not '10.0.0.1': plain HTTP on a network address needs TLS",
    ]);
    // One node: its internalIp defaults to loopback whatever its (SSH) address, and it talks plain HTTP.
    const one = validate('etcd:\n  tls: false\nnodes:\n  - name: a\n    address: box.lan\n').inventory!;
    expect(one.nodes[0]).toMatchObject({ address: 'box.lan', internalIp: '127.0.0.1', plainHttp: true });
    const ok = validate('etcd:\n  tls: false\nnodes:\n  - name: a\n    address: 10.0.0.1\n    internalIp: 127.0.0.1\n');
    expect(ok.errors).toEqual([]);
    // With TLS (the default) a node's internalIp is its address, and no node is plain HTTP.
    expect(validate(nodes(1)).inventory!.nodes[0]).not.toHaveProperty('plainHttp');
    expect(validate(nodes(1)).inventory!.nodes[0]!.internalIp).toBe('10.240.0.10');
  });

  it('an internalIp that is no IP address is named at the internalIp', () => {
    expect(errorAt('nodes:\n  - name: a\n    address: 10.0.0.1\n    internalIp: ten\n')).toEqual(["4:17 node 'a': internalIp 'ten' is not an IP address"]);
  });

  it('etcd.url and etcd.tarball errors point at the key: both given, or a url without a sum', () => {
    expect(errorAt(nodes(3) + `etcd:\n  tarball: ./e.tgz\n  url: https://example.invalid/e.tgz\n  sha256: ${sum('a')}\n`)).toEqual([
      '10:3 etcd: give either tarball or url + sha256, not both',
    ]);
    expect(errorAt(nodes(3) + 'etcd:\n  url: https://example.invalid/e.tgz\n')).toEqual(['9:3 etcd.url needs etcd.sha256 so the download can be verified']);
  });

  it('a release per architecture: a map that names none is refused, each url needs its own sum, both sides alike', () => {
    expect(errorAt(nodes(3) + 'etcd:\n  tarball: {}\n')).toEqual(['9:12 etcd.tarball: the map names no architecture (amd64, arm64, ppc64le, s390x)']);
    expect(errorAt(nodes(3) + `etcd:\n  url: {}\n  sha256: ${sum('a')}\n`)).toContain('9:8 etcd.url: the map names no architecture (amd64, arm64, ppc64le, s390x)');
    const urls = 'etcd:\n  url:\n    amd64: https://example.invalid/a.tgz\n    arm64: https://example.invalid/b.tgz\n    s390x: https://example.invalid/c.tgz\n';
    expect(errorAt(nodes(3) + urls + `  sha256:\n    amd64: ${sum('a')}\n`)).toEqual(['13:3 etcd.sha256 has no sum for arm64, s390x (etcd.url downloads it)']);
    expect(errorAt(nodes(3) + urls + `  sha256: ${sum('a')}\n`)).toEqual(['13:3 etcd.url and etcd.sha256 must both be one value, or both a map per architecture']);
    expect(errorAt(nodes(3) + `etcd:\n  url: https://example.invalid/a.tgz\n  sha256:\n    amd64: ${sum('a')}\n`)).toEqual([
      '10:3 etcd.url and etcd.sha256 must both be one value, or both a map per architecture',
    ]);
    const both = validate(nodes(3) + urls + `  sha256:\n    amd64: ${sum('a')}\n    arm64: ${sum('b')}\n    s390x: ${sum('c')}\n`);
    expect(both.errors).toEqual([]);
    expect(validate(nodes(3) + `etcd:\n  url: https://example.invalid/a.tgz\n  sha256: ${sum('a')}\n`).errors).toEqual([]);
    // A tarball per architecture is resolved against the inventory's directory, each of them.
    const t = validate(nodes(3) + 'etcd:\n  tarball:\n    amd64: ./a.tgz\n    arm64: ~/b.tgz\n').inventory!;
    expect(t.etcd.tarball).toEqual({ amd64: '/inv/a.tgz', arm64: '/home/u/b.tgz' });
  });

  it("etcd's election timeout: at least 5× the heartbeat (10× recommended) and at most 50 s, both limits allowed", () => {
    expect(validate(nodes(3) + 'etcd:\n  heartbeatInterval: 200\n  electionTimeout: 1000\n').errors).toEqual([]);
    expect(validate(nodes(3) + 'etcd:\n  heartbeatInterval: 5000\n  electionTimeout: 50000\n').errors).toEqual([]);
    expect(errorAt(nodes(3) + 'etcd:\n  heartbeatInterval: 201\n  electionTimeout: 1000\n')).toEqual([
      '10:20 electionTimeout (1000 ms) must be at least 5× heartbeatInterval (201 ms); etcd refuses to start otherwise (10× is recommended: 2010)',
    ]);
    expect(errorAt(nodes(3) + 'etcd:\n  heartbeatInterval: 5000\n  electionTimeout: 50001\n')).toEqual(["10:20 electionTimeout 50001 ms is over etcd's limit of 50000 ms"]);
  });

  it('an even count warns at the nodes list with the counts either side; more than 7 warns with the quorum every write needs', () => {
    expect(validate(nodes(2)).warnings.map((w) => `${w.line}:${w.col} ${w.message}`)).toEqual([
      '2:3 2 nodes: an even number of members tolerates no more failures than 1 (members→failures tolerated: 1→0, 2→0, 3→1, 4→1, 5→2, 6→2, 7→3); use 1 or 3',
    ]);
    expect(validate(nodes(7)).warnings).toEqual([]);
    expect(validate(nodes(9)).warnings.map((w) => `${w.line}:${w.col} ${w.message}`)).toEqual(['2:3 9 members: more than 7 slows every write (each needs a quorum of 5); etcd recommends 3, 5 or 7']);
    expect(validate(nodes(8)).warnings.map((w) => w.message.slice(0, 10))).toEqual(['8 nodes: a', '8 members:']);
  });

  it('which SSH settings a node leaves to ~/.ssh/config: those neither the file nor the node sets', () => {
    const inv = validate('ssh:\n  user: admin\n  jumpHost: bastion\n  config: ~/.ssh/config\nnodes:\n  - name: a\n    address: 10.0.0.1\n    port: 2222\n  - name: b\n    address: 10.0.0.2\n    jumpHost: other\n').inventory!;
    expect(inv.ssh).toMatchObject({ defaulted: ['port', 'identityFile'], jumpHost: 'bastion', config: '/home/u/.ssh/config' });
    expect(inv.nodes.map((n) => [n.ssh.defaulted, n.ssh.jumpHost])).toEqual([[['identityFile'], 'bastion'], [['port', 'identityFile'], 'other']]);
    const plain = validate(nodes(1)).inventory!;
    expect(plain.ssh.defaulted).toEqual(['user', 'port', 'identityFile', 'jumpHost']);
    expect(plain.ssh).not.toHaveProperty('jumpHost');
    expect(plain.ssh).not.toHaveProperty('config');
    expect(plain.nodes[0]!.ssh).not.toHaveProperty('jumpHost');
  });

  it('an extraFlags key is a bare flag name: no leading dash, no space, no =; a plain name passes', () => {
    for (const key of ['"snapshot count"', '"snapshot-count=5"']) {
      expect(errorAt(nodes(3) + `etcd:\n  extraFlags:\n    ${key}: 1000\n`)[0], key).toMatch(/^10:5 extraFlags key '.*' must be a bare flag name such as 'auto-compaction-retention' \(no leading '--', spaces or '='\)$/);
    }
    expect(validate(nodes(3) + 'etcd:\n  extraFlags:\n    snapshot-count: 1000\n').errors).toEqual([]);
  });

  it('~ alone is the home directory; a YAML error is told by its first line only', () => {
    expect(validate(nodes(1) + 'templates: "~"\n').inventory!.templates).toBe('/home/u');
    expect(validate('nodes:\n  - name: a\n    address: [10.0.0.1\n').errors.every((e) => !e.message.includes('\n'))).toBe(true);
  });

  it('the snapshots dir and templates are resolved against the inventory file, the snapshot count kept', () => {
    const inv = validate(nodes(1) + 'snapshots:\n  dir: ../snaps\n  keep: 3\ntemplates: tpl\n').inventory!;
    expect(inv.snapshots).toEqual({ dir: '/snaps', keep: 3 });
    expect(inv.templates).toBe('/inv/tpl');
    expect(validate(nodes(1)).inventory!.snapshots).toEqual({ dir: '/inv/snapshots', keep: 10 });
    expect(validateInventory(nodes(1), { file: 'inventory.yaml', baseDir: '/base' }).inventory!.pki.dir).toBe('/base/pki');
  });
});
