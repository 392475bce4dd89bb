/**
 * The lab and its helpers do what they say: real OpenSSH with checked host keys, real systemd and journald,
 * a network namespace (and 127.0.0.1) per node, cut/restore, stop/start, slow/fast disk, wipe, and a
 * `lab down` that leaves nothing behind.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { labLeftovers, SECOND_LAB } from './global-setup.js';
import {
  cutLink,
  describeLab,
  fastDisk,
  installEtcdBinaries,
  journal,
  lab,
  requestedNet,
  restoreLink,
  runHardway,
  slowDisk,
  sshOk,
  sshRun,
  startNode,
  stopNode,
  waitUntil,
  wipeNode,
  writeNodeFile,
} from './lab-helpers.js';

/** A single-member, plain-HTTP etcd on the node's own 127.0.0.1, started by systemd as etcd.service. */
function etcdUnit(extraFlags: string[] = [], badLine = false): string {
  return [
    '[Unit]',
    'Description=etcd (hardway lab e2e)',
    '',
    '[Service]',
    ...(badLine ? ['this line has no equals sign'] : []),
    'Type=notify',
    'ExecStart=/usr/local/bin/etcd \\',
    '  --name=e2e \\',
    '  --data-dir=/var/lib/etcd \\',
    '  --listen-client-urls=http://127.0.0.1:2379 \\',
    '  --advertise-client-urls=http://127.0.0.1:2379 \\',
    '  --listen-peer-urls=http://127.0.0.1:2380 \\',
    '  --initial-advertise-peer-urls=http://127.0.0.1:2380 \\',
    `  --initial-cluster=e2e=http://127.0.0.1:2380${extraFlags.length ? ' \\' : ''}`,
    ...extraFlags.map((f, i) => `  ${f}${i < extraFlags.length - 1 ? ' \\' : ''}`),
    'Restart=no',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const ETCDCTL = 'ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=30s';

async function etcdHealthy(node: string): Promise<boolean> {
  return (await sshRun(node, `${ETCDCTL} endpoint health`, { timeoutMs: 40_000 })).exitCode === 0;
}

const SYNC_WARNING = /sync duration of [\d.]+m?s, expected less than 1s/;

/** `10.240.3.0/24` → `10.240.3`. */
const prefixOf = (subnet: string) => /^(\d+\.\d+\.\d+)\.0\/24$/.exec(subnet)![1]!;
/** Where controller-<i> of the lab global-setup asked for must be: .(10+i) of its subnet. */
const expectedAddress = (i: number) => `${prefixOf(requestedNet().subnet)}.${10 + i}`;

describeLab('lab', () => {
  afterAll(async () => {
    // Give back what the tests may have broken, even after a failure.
    for (const n of lab().nodes) {
      await restoreLink(n).catch(() => undefined);
      await startNode(n).catch(() => undefined);
      await wipeNode(n).catch(() => undefined);
    }
  });

  it('status --json lists the nodes and the inventory; up again is a fast no-op; --nodes 8 is a usage error', async () => {
    const l = lab();
    const s = await runHardway(['lab', 'status', '--json', '--dir', l.dir]);
    expect(s.exitCode, s.stderr).toBe(0);
    const up = expect.stringMatching(/^(running|degraded)$/);
    expect(JSON.parse(s.stdout)).toEqual({
      inventory: l.inventoryPath,
      nodes: [
        { name: 'controller-0', address: expectedAddress(0), state: up },
        { name: 'controller-1', address: expectedAddress(1), state: up },
        { name: 'controller-2', address: expectedAddress(2), state: up },
      ],
    });
    const t0 = Date.now();
    const again = await runHardway(['lab', 'up', '--nodes', '3', '--dir', l.dir]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already up/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const bad = await runHardway(['lab', 'up', '--nodes', '8', '--dir', l.dir]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/1 to 7/);
  });

  it('runs on the bridge and subnet it was given, with machine names, veths and cgroups of its own', async () => {
    const l = lab();
    const { bridge, subnet } = requestedNet();
    expect({ bridge: l.bridge, subnet: l.subnet }).toEqual({ bridge, subnet });
    // The host's side of the lab /24 is on that bridge, and nowhere else.
    const hostAddrs = (await execa('ip', ['-br', '-4', 'addr'])).stdout.split('\n').filter((x) => x.includes(` ${prefixOf(subnet)}.1/24`));
    expect(hostAddrs.map((x) => x.split(/\s+/)[0])).toEqual([bridge]);
    const nspawnPids = new Map<string, number>(
      (JSON.parse(readFileSync(path.join(l.dir, 'state.json'), 'utf8')).nodes as { name: string; pid: number }[]).map((n) => [n.name, n.pid]),
    );
    for (const n of l.nodes) {
      // Not the demo lab's controller-<i> (hwlab0's): `<bridge>-n<i>`, its veth and cgroup named after it.
      expect(n.machine).toBe(`${bridge}-n${n.index}`);
      expect(n.veth).toBe(`vb-${n.machine}`);
      expect(path.basename(await readlink(`/sys/class/net/${n.veth}/master`))).toBe(bridge);
      expect(readFileSync(`/proc/${nspawnPids.get(n.name)}/cgroup`, 'utf8')).toMatch(new RegExp(`^\\d+:name=systemd:/(\\S+/)?hardway-${n.machine}/supervisor$`, 'm'));
    }
  });

  it('the inventory validates with hardway and points at the lab key, known_hosts and tarball', async () => {
    const l = lab();
    const text = readFileSync(l.inventoryPath, 'utf8');
    for (const p of [l.keyPath, l.knownHostsPath, l.tarballPath]) expect(text).toContain(p);
    expect(path.basename(l.tarballPath)).toBe('etcd-v3.4.23-linux-amd64.tar.gz');
    const { stdout } = await execa('tar', ['-tzf', l.tarballPath]);
    expect(stdout.split('\n').sort()).toEqual(
      ['etcd-v3.4.23-linux-amd64/', 'etcd-v3.4.23-linux-amd64/README.md', 'etcd-v3.4.23-linux-amd64/etcd', 'etcd-v3.4.23-linux-amd64/etcdctl'].sort(),
    );
    const { readInventory } = await import('../../src/inventory/read.js');
    const inv = await readInventory(l.inventoryPath);
    expect(inv.nodes.map((n) => n.address)).toEqual([0, 1, 2].map(expectedAddress));
    expect(inv.ssh.identityFile).toBe(l.keyPath);
    expect((await import('node:fs')).statSync(l.keyPath).mode & 0o777).toBe(0o600);
  });

  it('plain OpenSSH with the lab key and known_hosts (strict) reaches every node, and systemd runs there', async () => {
    const l = lab();
    for (const n of l.nodes) {
      const r = await execa(
        'ssh',
        ['-i', l.keyPath, '-o', `UserKnownHostsFile=${l.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${n.address}`, 'hostname; systemctl is-system-running; systemctl is-active ssh systemd-journald'],
        { reject: false },
      );
      expect(r.exitCode, r.stderr).toBeLessThanOrEqual(1); // is-system-running exits 1 for "degraded"
      const [hostname, system, ...active] = r.stdout.trim().split('\n');
      expect(hostname).toBe(n.name);
      expect(['running', 'degraded']).toContain(system);
      expect(active).toEqual(['active', 'active']);
    }
  });

  it('every node has its own host key, its own machine-id, and host keys are really checked', async () => {
    const l = lab();
    const lines = readFileSync(l.knownHostsPath, 'utf8').trim().split('\n');
    expect(lines.map((x) => x.split(' ')[0])).toEqual(l.nodes.map((n) => n.address));
    const keys = lines.map((x) => x.split(' ').slice(1).join(' '));
    expect(new Set(keys).size).toBe(l.nodes.length);
    for (const [i, n] of l.nodes.entries()) {
      const served = (await sshOk(n, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim().split(' ').slice(0, 2).join(' ');
      expect(served).toBe(keys[i]);
    }
    const ids = await Promise.all(l.nodes.map(async (n) => (await sshOk(n, 'cat /etc/machine-id')).trim()));
    expect(new Set(ids).size).toBe(l.nodes.length);

    // controller-0's key recorded for controller-1's address: OpenSSH must refuse.
    const wrong = path.join(mkdtempSync(path.join(os.tmpdir(), 'hw-kh-')), 'known_hosts');
    writeFileSync(wrong, `${l.nodes[1]!.address} ${keys[0]}\n`);
    const r = await execa('ssh', ['-i', l.keyPath, '-o', `UserKnownHostsFile=${wrong}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${l.nodes[1]!.address}`, 'true'], {
      reject: false,
    });
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it('each node has its own network namespace, its own 127.0.0.1, and no route off the bridge', async () => {
    const l = lab();
    const hostNs = await readlink('/proc/self/ns/net');
    const ns = await Promise.all(l.nodes.map(async (n) => (await sshOk(n, 'readlink /proc/self/ns/net')).trim()));
    expect(new Set([hostNs, ...ns]).size).toBe(l.nodes.length + 1);
    for (const n of l.nodes) {
      const addrs = await sshOk(n, 'ip -br -4 addr');
      expect(addrs).toMatch(/^lo\s+UNKNOWN\s+127\.0\.0\.1\/8/m);
      expect(addrs).toMatch(new RegExp(`^host0@\\S+\\s+UP\\s+${n.address.replace(/\./g, '\\.')}/24`, 'm'));
      // Only the lab /24: no default route, nothing that could carry lab traffic elsewhere.
      expect((await sshOk(n, 'ip -4 route')).trim()).toBe(`${requestedNet().subnet} dev host0 proto kernel scope link src ${n.address}`);
    }

    // The same 127.0.0.1:2379 on two nodes at once, each answering with its own data.
    const two = l.nodes.slice(0, 2);
    try {
      // Every node, the third too: an earlier test file may have left a cluster running.
      for (const n of l.nodes) await wipeNode(n);
      for (const n of two) {
        await installEtcdBinaries(n);
        await sshOk(
          n,
          'systemd-run --unit=hw-e2e-etcd-lo -p Type=simple /usr/local/bin/etcd --name=lo --data-dir=/var/lib/etcd ' +
            '--listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 ' +
            '--listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 --initial-cluster=lo=http://127.0.0.1:2380',
        );
      }
      for (const n of two) {
        await waitUntil(() => etcdHealthy(n.name), 60_000, 500);
        await sshOk(n, `${ETCDCTL} put /whoami "$(hostname)"`);
      }
      for (const n of two) expect((await sshOk(n, `${ETCDCTL} get --print-value-only /whoami`)).trim()).toBe(n.name);
      // Nothing on the third node's loopback.
      expect((await sshRun(l.nodes[2]!, 'timeout 3 bash -c "</dev/tcp/127.0.0.1/2379"')).exitCode).not.toBe(0);
    } finally {
      for (const n of two) await wipeNode(n);
    }
  });

  it('a cut node is unreachable (from the host and from its peers) and reachable again after restore', async () => {
    const [a, b] = lab().nodes;
    const probe = `timeout 3 bash -c "</dev/tcp/${b!.address}/22" && echo open`;
    expect((await sshOk(a!, probe)).trim()).toBe('open');
    await cutLink(b!);
    try {
      const r = await sshRun(b!, 'true', { connectTimeoutS: 2, timeoutMs: 10_000 });
      expect(r.exitCode).toBe(255);
      expect((await sshRun(a!, probe, { timeoutMs: 15_000 })).exitCode).not.toBe(0);
      const s = JSON.parse((await runHardway(['lab', 'status', '--json', '--dir', lab().dir])).stdout);
      expect(s.nodes[1].state).toMatch(/link cut/);
    } finally {
      await restoreLink(b!);
    }
    expect((await sshOk(b!, 'hostname')).trim()).toBe(b!.name);
    expect((await sshOk(a!, probe)).trim()).toBe('open');
  });

  it('a stopped node is down, and comes back with its files', async () => {
    const n = lab().nodes[2]!;
    const id = (await sshOk(n, 'echo kept > /root/hw-e2e-marker && cat /etc/machine-id')).trim();
    await stopNode(n);
    try {
      expect((await sshRun(n, 'true', { connectTimeoutS: 2, timeoutMs: 10_000 })).exitCode).toBe(255);
      const s = JSON.parse((await runHardway(['lab', 'status', '--json', '--dir', lab().dir])).stdout);
      expect(s.nodes[2]).toEqual({ name: n.name, address: n.address, state: 'stopped' });
    } finally {
      await startNode(n);
    }
    expect((await sshOk(n, 'cat /root/hw-e2e-marker; cat /etc/machine-id; systemctl is-system-running || true')).trim().split('\n')).toEqual([
      'kept',
      id,
      expect.stringMatching(/^(running|degraded)$/),
    ]);
    await sshOk(n, 'rm -f /root/hw-e2e-marker');
  });

  it('a slow disk makes etcd log sync-duration warnings, follows a rewritten unit, and fast again stops them', async () => {
    const n = lab().nodes[0]!.name;
    await wipeNode(n);
    await installEtcdBinaries(n);
    await writeNodeFile(n, '/etc/systemd/system/etcd.service', etcdUnit(['--snapshot-count=10000']));
    await slowDisk(n, 1_200_000, { restart: false });
    const t0 = new Date();
    await sshOk(n, 'systemctl daemon-reload && systemctl start etcd');
    await waitUntil(() => etcdHealthy(n), 90_000, 500);
    for (let i = 0; i < 3; i++) await sshOk(n, `${ETCDCTL} put /slow/${i} v${i}`, { timeoutMs: 60_000 });
    const slow = await journal(n, { since: t0 });
    expect(slow.text).toMatch(SYNC_WARNING);
    expect(await sshOk(n, 'ps -eo args')).toMatch(/^strace -f -qq .*inject=fdatasync:delay_exit=1200000 -- \/usr\/local\/bin\/etcd .*--snapshot-count=10000/m);

    // `tune` rewrites the unit: the wrapper runs the new command line, and the old etcd is gone.
    await writeNodeFile(n, '/etc/systemd/system/etcd.service', etcdUnit(['--snapshot-count=5000']));
    const t1 = new Date();
    await sshOk(n, 'systemctl daemon-reload && systemctl restart etcd', { timeoutMs: 120_000 });
    await waitUntil(() => etcdHealthy(n), 90_000, 500);
    const ps = await sshOk(n, 'ps -eo args');
    expect(ps).toMatch(/^\/usr\/local\/bin\/etcd .*--snapshot-count=5000/m);
    expect(ps).not.toMatch(/--snapshot-count=10000/);
    expect(ps).toMatch(/^strace .*--snapshot-count=5000/m);
    expect((await journal(n, { since: t1 })).text).not.toMatch(/address already in use/);

    // Fast again: the wrapper is gone, etcd restarts cleanly, and new writes log no sync warnings.
    await fastDisk(n);
    await waitUntil(() => etcdHealthy(n), 60_000, 500);
    const t2 = new Date();
    for (let i = 0; i < 5; i++) await sshOk(n, `${ETCDCTL} put /fast/${i} v${i}`);
    expect((await sshOk(n, `${ETCDCTL} get --print-value-only /slow/2`)).trim()).toBe('v2');
    expect(await sshOk(n, 'ps -eo args')).not.toMatch(/^strace/m);
    const fast = await journal(n, { since: t2 });
    expect(fast.text).not.toMatch(SYNC_WARNING);
    expect(fast.text).not.toMatch(/address already in use/);
  });

  it("journal() has the unit's lines and systemd[1]'s complaints about the unit file", async () => {
    const n = lab().nodes[0]!.name;
    const t0 = new Date();
    await writeNodeFile(n, '/etc/systemd/system/etcd.service', etcdUnit([], true));
    await sshOk(n, 'systemctl daemon-reload; systemctl show -p LoadState etcd; true');
    await sshOk(n, 'systemctl restart etcd', { timeoutMs: 120_000 });
    await waitUntil(() => etcdHealthy(n), 60_000, 500);
    const j = await journal(n, { since: t0 });
    const complaint = j.systemd.find((e) => /etcd\.service:\d+: Missing '=', ignoring line\./.test(e.message));
    expect(complaint, j.text).toBeDefined();
    expect(complaint!.identifier).toBe('systemd');
    expect(complaint!.pid).toBe(1);
    expect(j.unit.some((e) => /ready to serve client requests|serving insecure client requests/.test(e.message)), j.text).toBe(true);
  });

  it('wipeNode leaves no etcd files, units or processes', async () => {
    const n = lab().nodes[0]!.name;
    await slowDisk(n, 1000);
    await wipeNode(n);
    const r = await sshRun(
      n,
      'ls -d /etc/etcd /var/lib/etcd /usr/local/bin/etcd* /etc/systemd/system/etcd.service /etc/systemd/system/etcd.service.d 2>/dev/null; ' +
        'systemctl list-units --all --plain --no-legend "*etcd*" | grep -v " not-found "; ps -eo comm | grep -x -e etcd -e strace; true',
    );
    expect(r.stdout.trim()).toBe('');
  });
});

describeLab('lab down', () => {
  it(`recovers from a killed node, then leaves no process, mount or interface behind (a second lab on ${SECOND_LAB.bridge})`, async () => {
    // Next to the shared lab's dir (.hardway/e2e-lab-down by default), so that two runs with their own dirs do not share it.
    const dir = `${lab().dir}-down`;
    const { bridge, subnet } = SECOND_LAB;
    const machine0 = `${bridge}-n0`;
    const where = ['--dir', dir, '--bridge', bridge, '--subnet', subnet];
    try {
      const up = await runHardway(['lab', 'up', '--nodes', '1', ...where]);
      expect(up.exitCode, up.stderr).toBe(0);
      const ssh = (cmd: string) =>
        execa('ssh', ['-i', path.join(dir, 'id_ed25519'), '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${prefixOf(subnet)}.10`, cmd], {
          reject: false,
        });
      expect((await ssh('hostname')).stdout.trim()).toBe('controller-0');
      // Its own cgroup: containers started side by side from one cgroup would share their systemds' unit cgroups.
      const nspawnPid = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')).nodes[0].pid as number;
      expect(readFileSync(`/proc/${nspawnPid}/cgroup`, 'utf8')).toMatch(new RegExp(`^\\d+:name=systemd:/(\\S+/)?hardway-${machine0}/supervisor$`, 'm'));

      // A run killed halfway: its nspawn dies, its container, overlay mount and bridge stay.
      const state = JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8'));
      process.kill(state.nodes[0].pid, 'SIGKILL');
      const again = await runHardway(['lab', 'up', '--nodes', '1', ...where]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/stale controller-0/);
      expect((await ssh('systemctl is-system-running')).stdout.trim()).toMatch(/^(running|degraded)$/);

      const down = await runHardway(['lab', 'down', ...where]);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(await labLeftovers(dir, bridge, prefixOf(subnet))).toEqual([]);
      expect((await execa('mount')).stdout).not.toContain(dir);
      expect((await execa('ip', ['-br', 'link'])).stdout).not.toContain(bridge);
      expect((await execa('ps', ['-eo', 'pid,args'])).stdout).not.toContain(dir);
      const cgroups = ['/sys/fs/cgroup', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'].flatMap((d) => (existsSync(d) ? readdirSync(d) : []));
      expect(cgroups.filter((name) => name.startsWith(`hardway-${bridge}-`))).toEqual([]);
      // And the shared lab is untouched.
      expect((await sshRun(lab().nodes[0]!, 'true')).exitCode).toBe(0);
    } finally {
      await runHardway(['lab', 'down', ...where]);
    }
  });
});

