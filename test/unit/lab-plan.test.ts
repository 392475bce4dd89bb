import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { validateInventory } from '../../src/inventory/validate.js';
import {
  nodeCgroupDirs,
  formatMachineId,
  isLabNspawn,
  isSystemUp,
  knownHostsLine,
  machineName,
  mountsUnder,
  nodeAddress,
  parseAptMirror,
  parseBridge,
  parseEtcdVersion,
  parseMountinfo,
  parseNodeCount,
  parseSubnet,
  parseTempRootfsName,
  planNodes,
  planResize,
  renderHostsFile,
  renderLabInventory,
  renderNetworkFile,
  rootfsHash,
  ROOTFS_PACKAGES,
} from '../../src/lab/plan.js';
import { renderSlowDiskDropIn, renderSlowDiskScript, slowDiskDropInPath } from '../../src/lab/slowdisk.js';

const net = { bridge: 'hwlab0', prefix: '10.240.0' };

describe('lab plan: nodes and addresses', () => {
  it('names controller-i at 10.240.0.(10+i), veth vb-<machine>', () => {
    expect(planNodes(net, 3)).toEqual([
      { index: 0, name: 'controller-0', address: '10.240.0.10', machine: 'controller-0', veth: 'vb-controller-0' },
      { index: 1, name: 'controller-1', address: '10.240.0.11', machine: 'controller-1', veth: 'vb-controller-1' },
      { index: 2, name: 'controller-2', address: '10.240.0.12', machine: 'controller-2', veth: 'vb-controller-2' },
    ]);
    expect(nodeAddress(net, 6)).toBe('10.240.0.16');
  });

  it('a second lab gets machine names (and veths) that cannot collide with the default lab', () => {
    const other = { bridge: 'hwlab1', prefix: '10.240.1' };
    expect(machineName(other, 0)).toBe('hwlab1-n0');
    for (const n of planNodes(other, 7)) expect(n.veth.length).toBeLessThanOrEqual(15);
    for (const n of planNodes(net, 7)) expect(n.veth.length).toBeLessThanOrEqual(15);
  });

  it('--nodes is 1 to 7', () => {
    expect(parseNodeCount('1')).toBe(1);
    expect(parseNodeCount('7')).toBe(7);
    for (const bad of ['0', '8', '2.5', 'three', '']) expect(() => parseNodeCount(bad)).toThrow(UsageError);
  });

  it('--bridge and --subnet are checked', () => {
    expect(parseBridge('hwlab1')).toBe('hwlab1');
    expect(() => parseBridge('eth0')).toThrow(UsageError);
    expect(() => parseBridge('a-very-long-name')).toThrow(UsageError);
    expect(parseSubnet('10.240.0.0/24')).toBe('10.240.0');
    expect(parseSubnet('192.168.77.0/24')).toBe('192.168.77');
    for (const bad of ['8.8.8.0/24', '10.240.0.0/16', '10.240.0.5/24', '10.300.0.0/24']) expect(() => parseSubnet(bad)).toThrow(UsageError);
  });

  it('plans a resize: grow adds the missing indexes, shrink removes the highest first', () => {
    expect(planResize([0, 1, 2], 3)).toEqual({ keep: [0, 1, 2], add: [], remove: [] });
    expect(planResize([0, 1, 2], 5)).toEqual({ keep: [0, 1, 2], add: [3, 4], remove: [] });
    expect(planResize([0, 1, 2], 1)).toEqual({ keep: [0], add: [], remove: [2, 1] });
    expect(planResize([0, 2], 3)).toEqual({ keep: [0, 2], add: [1], remove: [] });
    expect(planResize([], 3)).toEqual({ keep: [], add: [0, 1, 2], remove: [] });
  });
});

describe('lab plan: files written into nodes', () => {
  it('the .network file sets host0 statically with no gateway', () => {
    const text = renderNetworkFile('10.240.0.11');
    expect(text).toContain('Name=host0');
    expect(text).toContain('Address=10.240.0.11/24');
    expect(text).not.toMatch(/^Gateway=/m);
    expect(text).not.toMatch(/DHCP=(yes|ipv4)/);
  });

  it('/etc/hosts names the node and its peers', () => {
    const text = renderHostsFile('controller-1', [
      { name: 'controller-0', address: '10.240.0.10' },
      { name: 'controller-1', address: '10.240.0.11' },
    ]);
    expect(text).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(text).toMatch(/^127\.0\.1\.1\tcontroller-1$/m);
    expect(text).toMatch(/^10\.240\.0\.10\tcontroller-0$/m);
  });

  it('machine ids are 32 hex digits and a newline', () => {
    expect(formatMachineId(new Uint8Array(16).fill(0xab))).toBe(`${'ab'.repeat(16)}\n`);
    expect(() => formatMachineId(new Uint8Array(8))).toThrow();
  });

  it('known_hosts lines drop the key comment', () => {
    expect(knownHostsLine('10.240.0.10', 'ssh-ed25519 AAAAC3Nza root@controller-0\n')).toBe('10.240.0.10 ssh-ed25519 AAAAC3Nza');
    expect(() => knownHostsLine('x', 'garbage')).toThrow();
  });

  it('the lab inventory validates and points at absolute lab paths', () => {
    const text = renderLabInventory({
      nodes: planNodes(net, 3),
      keyPath: '/lab/id_ed25519',
      knownHostsPath: '/lab/known_hosts',
      tarballPath: '/lab/etcd-v3.4.23-linux-amd64.tar.gz',
      etcdVersion: '3.4.23',
      pkiDir: '/lab/pki',
    });
    const r = validateInventory(text, { file: '/lab/inventory.yaml' });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    const inv = r.inventory!;
    expect(inv.nodes.map((n) => [n.name, n.address, n.internalIp])).toEqual([
      ['controller-0', '10.240.0.10', '10.240.0.10'],
      ['controller-1', '10.240.0.11', '10.240.0.11'],
      ['controller-2', '10.240.0.12', '10.240.0.12'],
    ]);
    expect(inv.ssh).toMatchObject({ user: 'root', identityFile: '/lab/id_ed25519', knownHosts: '/lab/known_hosts' });
    expect(inv.etcd.tarball).toBe('/lab/etcd-v3.4.23-linux-amd64.tar.gz');
    expect(inv.pki.dir).toBe('/lab/pki');
  });
});

describe('lab plan: the host', () => {
  it('finds the mirror in deb822 sources, skipping security', () => {
    const deb822 = [
      `Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n`,
    ];
    expect(parseAptMirror({ deb822 })).toBe('http://mirror.example/debian');
  });

  it('skips disabled and deb-src stanzas; handles one-line sources with options', () => {
    const deb822 = ['Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\nEnabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n'];
    expect(parseAptMirror({ deb822 })).toBeUndefined();
    const lists = ['# comment\ndeb [arch=amd64 signed-by=/x.gpg] http://list.example/debian/ bookworm main\ndeb http://list.example/debian-security bookworm-security main\n'];
    expect(parseAptMirror({ deb822, lists })).toBe('http://list.example/debian');
  });

  it('prefers a source for the exact suite', () => {
    const lists = ['deb http://other.example/debian trixie main\ndeb http://mine.example/debian bookworm main\n'];
    expect(parseAptMirror({ lists })).toBe('http://mine.example/debian');
  });

  it('parses mountinfo (escaped spaces too) and orders mounts under a dir deepest first', () => {
    const text = [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '90 22 0:50 / /lab/nodes/controller-0/root rw,relatime - overlay hwlab-controller-0 rw,lowerdir=/r,upperdir=/u,workdir=/w',
      '91 90 0:51 / /lab/nodes/controller-0/root/proc rw - proc proc rw',
      '92 22 0:52 / /lab/my\\040dir rw - tmpfs tmpfs rw',
      '93 22 0:53 / /labx rw - tmpfs tmpfs rw',
    ].join('\n');
    const mounts = parseMountinfo(text);
    expect(mounts[3]).toEqual({ mountPoint: '/lab/my dir', fsType: 'tmpfs' });
    expect(mountsUnder(mounts, '/lab/nodes')).toEqual(['/lab/nodes/controller-0/root/proc', '/lab/nodes/controller-0/root']);
    expect(mountsUnder(mounts, '/lab/')).toContain('/lab/my dir');
    expect(mountsUnder(mounts, '/lab')).not.toContain('/labx');
  });

  it('recognises the lab nspawn by its cmdline and root, and nothing else', () => {
    const c = ['systemd-nspawn', '-D', '/lab/nodes/controller-0/root', '-b', '--register=no'].join('\0') + '\0';
    expect(isLabNspawn(c, '/lab/nodes/controller-0/root')).toBe(true);
    expect(isLabNspawn(c, '/lab/nodes/controller-1/root')).toBe(false);
    expect(isLabNspawn(['/usr/bin/systemd-nspawn', '--directory=/r'].join('\0'), '/r')).toBe(true);
    expect(isLabNspawn(['bash', '-c', 'systemd-nspawn -D /r'].join('\0'), '/r')).toBe(false);
    expect(isLabNspawn('', '/r')).toBe(false);
  });

  it('temp rootfs builds are named with hash and pid', () => {
    expect(parseTempRootfsName('.tmp-rootfs-04b1cdd3d76b36b1-1234')).toEqual({ hash: '04b1cdd3d76b36b1', pid: 1234 });
    expect(parseTempRootfsName('rootfs-04b1cdd3d76b36b1')).toBeUndefined();
  });

  it('the rootfs hash follows the package list (order-insensitive)', () => {
    const h = rootfsHash();
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(rootfsHash([...ROOTFS_PACKAGES].reverse())).toBe(h);
    expect(rootfsHash([...ROOTFS_PACKAGES, 'curl'])).not.toBe(h);
    expect(rootfsHash(ROOTFS_PACKAGES, 'trixie')).not.toBe(h);
  });

  it('running and degraded count as up', () => {
    expect(isSystemUp('running')).toBe(true);
    expect(isSystemUp('degraded')).toBe(true);
    expect(isSystemUp('starting')).toBe(false);
    expect(isSystemUp('unreachable')).toBe(false);
  });

  it('reads the etcd version', () => {
    expect(parseEtcdVersion('etcd Version: 3.4.23\nGit SHA: Not provided\n')).toBe('3.4.23');
    expect(parseEtcdVersion('nope')).toBeUndefined();
  });
});

describe('slow disk drop-in and wrapper', () => {
  it('the drop-in replaces ExecStart with the wrapper and Type=simple, without copying the command', () => {
    const text = renderSlowDiskDropIn(1_200_000);
    expect(slowDiskDropInPath()).toBe('/etc/systemd/system/etcd.service.d/hw-slowdisk.conf');
    expect(text).toMatch(/^Type=simple$/m);
    expect(text).toMatch(/^ExecStart=$/m);
    expect(text).toMatch(/^ExecStart=\/usr\/local\/sbin\/hw-slowdisk 1200000 etcd\.service$/m);
    expect(() => renderSlowDiskDropIn(-1)).toThrow();
    expect(() => renderSlowDiskDropIn(1.5)).toThrow();
  });

  it('the wrapper is valid bash and finds the current ExecStart (continuations, resets, own drop-in skipped)', () => {
    const script = renderSlowDiskScript();
    expect(script).not.toContain('$\\{');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-slowdisk-'));
    const file = path.join(dir, 'hw-slowdisk');
    writeFileSync(file, script);
    chmodSync(file, 0o755);
    execFileSync('bash', ['-n', file]);

    // Fake systemctl and strace: the unit file, a drop-in that resets ExecStart, and our own drop-in.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const unit = path.join(dir, 'etcd.service');
    writeFileSync(
      unit,
      '[Unit]\nDescription=etcd\n\n[Service]\nType=notify\n# a comment\nExecStart=/usr/local/bin/etcd \\\n  --name controller-0 \\\n  --data-dir=/var/lib/etcd\nRestart=on-failure\n',
    );
    const tune = path.join(dir, '20-tune.conf');
    writeFileSync(tune, '[Service]\nExecStart=\nExecStart=-/usr/local/bin/etcd \\\n  --name "controller 0" \\\n  --heartbeat-interval=250\n');
    const own = path.join(dir, 'hw-slowdisk.conf');
    writeFileSync(own, '[Service]\nExecStart=\nExecStart=/usr/local/sbin/hw-slowdisk 5 etcd.service\n');
    writeFileSync(
      path.join(bin, 'systemctl'),
      `#!/bin/bash\ncase "$*" in *FragmentPath*) echo "${unit}";; *DropInPaths*) echo "${tune} ${own}";; esac\n`,
      { mode: 0o755 },
    );
    writeFileSync(path.join(bin, 'strace'), '#!/bin/bash\nfor a in "$@"; do echo "[$a]"; done\n', { mode: 0o755 });
    const out = execFileSync(file, ['1200000', 'etcd'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const args = out.trim().split('\n');
    expect(args).toContain('[inject=fdatasync:delay_exit=1200000]');
    expect(args.slice(args.indexOf('[--]') + 1)).toEqual(['[/usr/local/bin/etcd]', '[--name]', '[controller 0]', '[--heartbeat-interval=250]']);

    // Without the reset drop-in: the fragment's command, continuations joined.
    writeFileSync(path.join(bin, 'systemctl'), `#!/bin/bash\ncase "$*" in *FragmentPath*) echo "${unit}";; *DropInPaths*) echo "${own}";; esac\n`, {
      mode: 0o755,
    });
    const out2 = execFileSync(file, ['7'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const args2 = out2.trim().split('\n');
    expect(args2.slice(args2.indexOf('[--]') + 1)).toEqual(['[/usr/local/bin/etcd]', '[--name]', '[controller-0]', '[--data-dir=/var/lib/etcd]']);
  });
});

describe('lab: a cgroup per node', () => {
  // This machine's layout: cgroup v1 controllers, a named systemd hierarchy and a v2 one, all seen from the root.
  const hybrid = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');

  it('puts each node below our own cgroup in the systemd and v2 hierarchies, never in a controller of its own', () => {
    const own = '9:name=systemd:/\n4:memory:/process_api/3a89\n0::/\n';
    expect(nodeCgroupDirs(hybrid, own, 'controller-0')).toEqual(['/sys/fs/cgroup/systemd/hardway-controller-0', '/sys/fs/cgroup/unified/hardway-controller-0']);
  });

  it('on a cgroup v2 host, below the session the lab was started from', () => {
    const v2 = '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
    const own = '0::/user.slice/user-0.slice/session-3.scope\n';
    expect(nodeCgroupDirs(v2, own, 'hwlab1-n0')).toEqual(['/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope/hardway-hwlab1-n0']);
  });

  it('maps a mount of part of the hierarchy, skips one that does not hold our cgroup, and escapes nothing wrongly', () => {
    const own = '0::/ci/job\\0401\n';
    const part = '50 31 0:38 /ci /mnt/cg\\040v2 rw - cgroup2 cgroup2 rw';
    const elsewhere = '51 31 0:38 /other /mnt/other rw - cgroup2 cgroup2 rw';
    expect(nodeCgroupDirs([part, elsewhere].join('\n'), own, 'n0')).toEqual(['/mnt/cg v2/job\\0401/hardway-n0']);
    expect(nodeCgroupDirs(hybrid, '', 'n0')).toEqual([]);
  });
});
