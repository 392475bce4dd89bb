/**
 * The current edition of the guide on the lab: one server, etcd on plain HTTP bound to loopback, set up from
 * `hardway init`; and releases built for another CPU.
 */
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { scratchInventory } from './etcd-helpers.js';
import { describeLab, lab, runHardway, sshOk, sshRun, wipeNode } from './lab-helpers.js';

const wipeAll = () => Promise.all(lab().nodes.map((n) => wipeNode(n)));

/** An inventory made by `hardway init --edition current` from the guide's machines.txt, pointed at the lab's key and release. */
async function currentEditionInventory(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-current-'));
  const n = lab().nodes;
  const machines = `${n[0]!.address} server.kubernetes.local server\n${n[1]!.address} node-0.kubernetes.local node-0 10.200.0.0/24\n${n[2]!.address} node-1.kubernetes.local node-1 10.200.1.0/24\n`;
  await writeFile(path.join(dir, 'machines.txt'), machines);
  const file = path.join(dir, 'inventory.yaml');
  const r = await runHardway(['init', '--edition', 'current', '--from', path.join(dir, 'machines.txt'), '-o', file]);
  expect(r.exitCode, r.stderr).toBe(0);
  const labInv = parseDocument(await readFile(lab().inventoryPath, 'utf8'));
  const doc = parseDocument(await readFile(file, 'utf8'));
  for (const key of ['version', 'tarball']) doc.setIn(['etcd', key], labInv.getIn(['etcd', key]));
  for (const key of ['identityFile', 'knownHosts']) doc.setIn(['ssh', key], labInv.getIn(['ssh', key]));
  doc.setIn(['pki', 'dir'], path.join(dir, 'pki'));
  await writeFile(file, doc.toString());
  return file;
}

describeLab('the current edition', () => {
  describe('one server, plain HTTP on loopback', () => {
    it('is set up from hardway init; etcd answers on 127.0.0.1 only; verify and doctor pass; the next up changes nothing', async () => {
      await wipeAll();
      const inv = await currentEditionInventory();
      const r = await runHardway(['up', '-i', inv]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toContain('pki: none needed (etcd.tls: false');
      // Listening sockets of etcd on the server: loopback only, nothing on the bridge address.
      const listening = (await sshOk(0, "ss -Hltnp | grep '\"etcd\"' | awk '{print $4}' | sort")).trim().split('\n');
      expect(listening).toEqual(['127.0.0.1:2379', '127.0.0.1:2380']);
      expect((await sshRun(0, `timeout 2 bash -c '</dev/tcp/${lab().nodes[0]!.address}/2379'`)).exitCode).not.toBe(0);
      expect((await sshOk(0, 'ls /etc/etcd')).trim()).toBe('');
      const unit = await sshOk(0, 'cat /etc/systemd/system/etcd.service');
      expect(unit).toContain('--name controller');
      expect(unit).toContain('--initial-cluster controller=http://127.0.0.1:2380');
      expect(unit.slice(unit.indexOf('ExecStart'))).not.toMatch(/--(cert|key|trusted-ca|peer-cert|client-cert)|https:/);
      expect((await sshOk(0, 'ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 put hello world && ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 get hello --print-value-only')).trim()).toBe('OK\nworld');

      const verify = await runHardway(['verify', '-i', inv]);
      expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('http://127.0.0.1:2379');
      // No error (a loaded test machine may show a slow-disk warning, which is a finding, not a failure of doctor).
      const doctor = await runHardway(['doctor', '-i', inv, '--json']);
      const found = JSON.parse(doctor.stdout) as { counts: { error: number }; findings: { id: string }[] };
      expect(found.counts.error, doctor.stdout).toBe(0);
      expect(found.findings.filter((f) => !f.id.startsWith('DISK-')), doctor.stdout).toEqual([]);
      // etcdctl and keys go through the server's loopback, without certificates.
      const get = await runHardway(['etcdctl', '-i', inv, '--', 'get', 'hello', '--print-value-only']);
      expect([get.exitCode, get.stdout.trim()], get.stderr).toEqual([0, 'world']);
      const keys = await runHardway(['keys', 'list', '-i', inv]);
      expect(keys.exitCode, keys.stderr).toBe(0);
      expect(keys.stdout).toMatch(/^hello\s/m);
      // Snapshots through the loopback too: saved from the one member, restored onto it.
      const save = await runHardway(['snapshot', 'save', '-i', inv, '--json']);
      expect(save.exitCode, save.stderr).toBe(0);
      const saved = JSON.parse(save.stdout) as { file: string; member: { name: string }; totalKeys: number };
      expect(saved.member.name).toBe('controller');
      expect(saved.totalKeys).toBeGreaterThanOrEqual(1);
      expect((await stat(saved.file)).mode & 0o777).toBe(0o600);
      const members = await runHardway(['member', 'list', '-i', inv, '--json']);
      expect(members.exitCode, members.stderr).toBe(0);
      expect(members.stdout).toMatch(/"isLeader": true/);
      await sshOk(0, 'ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 put hello changed');
      const restore = await runHardway(['snapshot', 'restore', saved.file, '-i', inv, '--force', '--yes']);
      expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
      expect((await sshOk(0, 'ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 get hello --print-value-only')).trim()).toBe('world');
      expect((await sshOk(0, "ss -Hltnp | grep '\"etcd\"' | awk '{print $4}' | sort")).trim().split('\n')).toEqual(['127.0.0.1:2379', '127.0.0.1:2380']);
      const env = await runHardway(['env', '-i', inv]);
      expect([env.exitCode, env.stderr.trim()]).toEqual([2, expect.stringContaining("etcd listens on controller's loopback only (etcd.tls: false")]);
      const again = await runHardway(['up', '-i', inv]);
      expect(again.exitCode).toBe(0);
      expect(again.stdout).toMatch(/nothing changed/);
    });

    it('with three nodes is refused (exit 2) before any connection', async () => {
      const inv = await scratchInventory((doc) => doc.setIn(['etcd', 'tls'], false));
      const r = await runHardway(['up', '-i', inv]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/:\d+:\d+: etcd\.tls: false sends etcd's traffic unencrypted: it is only for a single node on loopback; with 3 nodes/);
      expect(r.stderr).not.toMatch(/pki:|connect/);
    });
  });

  describe('a release for another CPU', () => {
    it('is refused on every x86_64 node before any upload, naming the release each needs; a map per CPU picks the right one', async () => {
      await wipeAll();
      // The lab's release with the ELF headers of its binaries saying aarch64 (e_machine 0xb7).
      const dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-arm-'));
      await execa('tar', ['-xzf', lab().tarballPath, '-C', dir]);
      const top = (await execa('ls', [dir])).stdout.trim();
      for (const bin of ['etcd', 'etcdctl']) {
        await execa('sh', ['-c', `printf '\\267\\000' | dd of=${path.join(dir, top, bin)} bs=1 seek=18 conv=notrunc status=none`]);
      }
      const tarball = path.join(dir, `${top.replace('amd64', 'arm64')}.tar.gz`);
      await execa('tar', ['-czf', tarball, '-C', dir, top]);
      const inv = await scratchInventory((doc) => doc.setIn(['etcd', 'tarball'], tarball));
      const r = await runHardway(['up', '-i', inv]);
      expect(r.exitCode).toBe(1);
      const version = parseDocument(await readFile(lab().inventoryPath, 'utf8')).getIn(['etcd', 'version']) as string;
      for (const n of lab().nodes) {
        expect(r.stdout).toContain(`${n.name}  failed: ${n.name}: the node is x86_64 (uname -m) but the etcd release's binaries are built for aarch64: nothing was uploaded; it needs etcd-v${version}-linux-amd64.tar.gz`);
        expect((await sshRun(n, 'test -e /usr/local/bin/etcd')).exitCode).not.toBe(0);
      }

      // One inventory for a mixed cluster: each node takes its CPU's release from the map.
      const mixed = await scratchInventory((doc) => doc.setIn(['etcd', 'tarball'], { amd64: lab().tarballPath, arm64: tarball }));
      const up = await runHardway(['up', '-i', mixed]);
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      const amd64Etcd = (await execa('sh', ['-c', `tar -xOzf '${lab().tarballPath}' ${top}/etcd | sha256sum`])).stdout.split(' ')[0];
      for (const n of lab().nodes) expect((await sshOk(n, 'sha256sum /usr/local/bin/etcd')).split(' ')[0]).toBe(amd64Etcd);
      // The arm64 entry really is checked: a map whose only release is for another CPU stops every node.
      const armOnly = await scratchInventory((doc) => doc.setIn(['etcd', 'tarball'], { arm64: tarball }));
      const refused = await runHardway(['up', '-i', armOnly]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout).toContain(`names no release for it (only arm64): nothing was uploaded; add amd64: …/etcd-v${version}-linux-amd64.tar.gz`);
    });
  });
});
