import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { artifactsFor, desiredNode, type Artifacts } from '../../src/provision/desired.js';
import type { UploadSource } from '../../src/ssh/remote.js';

const src = (name: string): UploadSource => ({ data: Buffer.from(name), size: name.length, sha256: name.padEnd(64, '0') });
const inventory = (extra = '') => validateInventory(`nodes:\n  - name: n0\n    address: 127.0.0.1\n${extra}`, { file: '/inv/inventory.yaml' }).inventory!;
const artifacts = (extra: Partial<Artifacts> = {}): Artifacts => ({
  etcd: src('etcd'), etcdctl: src('etcdctl'), ca: src('ca'), cert: src('cert'), key: src('key'), units: new Map([['n0', src('unit')]]), ...extra,
});

describe('what a node should have', () => {
  it('its config dir and data dir, both 0700 (the private key; etcd warns about a data dir others can read)', () => {
    const inv = inventory('etcd:\n  dataDir: /srv/etcd-data\n');
    expect(desiredNode(inv, inv.nodes[0]!, artifacts()).dirs).toEqual([{ path: '/etc/etcd', mode: 0o700 }, { path: '/srv/etcd-data', mode: 0o700 }]);
  });

  it('binaries 0755, certificates and key 0600, the unit 0644; etcdutl only from a release that ships it', () => {
    const inv = inventory();
    const files = (a: Artifacts) => desiredNode(inv, inv.nodes[0]!, a).files.map((f) => [f.path, f.mode.toString(8), f.role, f.source.data?.toString()]);
    expect(files(artifacts())).toEqual([
      ['/usr/local/bin/etcd', '755', 'binary', 'etcd'],
      ['/usr/local/bin/etcdctl', '755', 'binary', 'etcdctl'],
      ['/etc/etcd/ca.pem', '600', 'cert', 'ca'],
      ['/etc/etcd/kubernetes.pem', '600', 'cert', 'cert'],
      ['/etc/etcd/kubernetes-key.pem', '600', 'key', 'key'],
      ['/etc/systemd/system/etcd.service', '644', 'unit', 'unit'],
    ]);
    expect(files(artifacts({ etcdutl: src('etcdutl') }))[2]).toEqual(['/usr/local/bin/etcdutl', '755', 'binary', 'etcdutl']);
  });

  it('with etcd.tls: false, no certificate or key is shipped', () => {
    const inv = inventory('etcd:\n  tls: false\n');
    expect(desiredNode(inv, inv.nodes[0]!, artifacts()).files.map((f) => f.role)).toEqual(['binary', 'binary', 'unit']);
  });

  it('a node without a rendered unit is a bug, named', () => {
    const inv = inventory();
    expect(() => desiredNode(inv, inv.nodes[0]!, artifacts({ units: new Map() }))).toThrow('no rendered unit for n0');
  });
});

describe('the release a node installs', () => {
  it('one release: every node takes it, whatever its CPU', () => {
    const a = artifacts();
    expect(artifactsFor(a, { uname: 'aarch64', release: 'arm64' })).toBe(a);
    expect(artifactsFor(a, undefined)).toBe(a);
  });

  it("a release per architecture: the node's CPU's binaries, the rest shared; none when its CPU has none or is unknown", () => {
    const arm = { etcd: src('etcd-arm'), etcdctl: src('etcdctl-arm'), arch: { uname: 'aarch64', release: 'arm64' } };
    const a = artifacts({ byArch: new Map([['arm64', arm]]) });
    const got = artifactsFor(a, { uname: 'aarch64', release: 'arm64' })!;
    expect([got.etcd, got.etcdctl, got.arch, got.ca, got.units]).toEqual([arm.etcd, arm.etcdctl, arm.arch, a.ca, a.units]);
    expect(artifactsFor(a, { uname: 's390x', release: 's390x' })).toBeUndefined();
    expect(artifactsFor(a, undefined)).toBeUndefined();
  });
});
