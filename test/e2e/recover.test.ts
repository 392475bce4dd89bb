/**
 * When the lab breaks so that the quorum is lost: doctor names it first, plan and up change nothing, `hardway recover`
 * rebuilds from the member with the newest data (keys written after the last snapshot included), and a recover killed
 * halfway is finished by the next. Then two nodes unreachable: refused, rebuilt without them, grown back by up.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { etcdctl, healthyCount, mainPid, managedStat, memberNames, scratchInventory } from './etcd-helpers.js';
import { describeLab, inNode, lab, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';
import { oneDocument } from '../json-contract-cases.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const wipeAll = () => Promise.all(lab().nodes.map((n) => wipeNode(n)));
const inv = () => lab().inventoryPath;
/** A value as the member itself holds it (serializable: no leader asked). */
const localGet = async (ref: number, key: string) => (await etcdctl(ref, `get ${key} --print-value-only --consistency=s`, 'https://127.0.0.1:2379')).stdout.trim();
/** Seed 002's recovery step on a node: its data gone, etcd restarted on the empty dir (then a crash loop). */
const emptyDataDir = (ref: number) => sshOk(ref, 'systemctl stop etcd; rm -rf /var/lib/etcd/member; systemctl start etcd || true', { timeoutMs: 60_000 });
const clusterId = async (ref: number) => (await etcdctl(ref, 'endpoint status -w json', 'https://127.0.0.1:2379')).stdout.match(/"cluster_id":(\d+)/)?.[1];

async function putMany(prefix: string, n: number): Promise<void> {
  const r = await sshRun(0, `for i in $(seq 1 ${n}); do ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem put ${prefix}$i v$i >/dev/null || exit 1; done`, { timeoutMs: 120_000 });
  expect(r.exitCode, r.stderr).toBe(0);
}

async function countOn(ref: number, prefix: string): Promise<number> {
  return Number((await etcdctl(ref, `get ${prefix} --prefix --keys-only -w json --consistency=s`, 'https://127.0.0.1:2379')).stdout.match(/"count":(\d+)/)?.[1] ?? 0);
}

describeLab('recover', () => {
  describe('two of three data dirs emptied, keys written before and after the last snapshot', () => {
    it('doctor names the lost quorum first; plan and up change nothing and name recover', async () => {
      await wipeAll();
      expect((await runHardway(['up', '-i', inv()])).exitCode).toBe(0);
      await putMany('/before/', 20);
      const saved = await runHardway(['snapshot', 'save', '-i', inv()]);
      expect(saved.exitCode, saved.stderr).toBe(0);
      await putMany('/after/', 20);
      await Promise.all([emptyDataDir(1), emptyDataDir(2)]);
      await waitUntil(async () => (await healthyCount(0)) === 0, 30_000);

      const doctor = await runHardway(['doctor', '-i', inv()]);
      expect(doctor.exitCode).toBe(1);
      // The first row of the findings table is the lost quorum, not an election loop.
      const firstRow = doctor.stdout.split('\n').find((l) => /^(error|warning|info) {2,}/.test(l)) ?? '';
      expect(firstRow, doctor.stdout).toMatch(/^error {2,}CLUSTER {2,}quorum lost/);
      expect(doctor.stdout).toMatch(/quorum lost: 1 of 3 members runs \(controller-0, revision \d+\); controller-1 and controller-2 have empty data dirs/);
      expect(doctor.stdout).toMatch(/hardway recover/);
      expect(doctor.stdout).not.toMatch(/ELECT-LOOP[^\n]*\n[^\n]*check the disk/);

      // The files hardway manages (a crash-looping etcd touches its data dir's mtime, nobody else does).
      const managed = async (n: number) => (await managedStat(n)).split('\n').filter((l) => !l.startsWith('/var/lib/etcd'));
      const stats = await Promise.all([0, 1, 2].map((n) => managed(n)));
      const pid0 = await mainPid(0);
      const members = await etcdctl(0, 'member list -w simple', 'https://127.0.0.1:2379');
      for (const cmd of ['plan', 'up']) {
        const r = await runHardway([cmd, '-i', inv()]);
        expect(r.exitCode, `${cmd}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/quorum lost: 1 of 3 members runs/);
        expect(r.stderr).toMatch(/'hardway recover' rebuilds it from controller-0/);
        expect(r.stderr).toMatch(/Nothing was changed on any node/);
      }
      expect(await Promise.all([0, 1, 2].map((n) => managed(n)))).toEqual(stats);
      expect(await mainPid(0)).toBe(pid0);
      expect((await etcdctl(0, 'member list -w simple', 'https://127.0.0.1:2379')).stdout).toBe(members.stdout);
    });

    it('recover refuses without --yes off a terminal, then, killed halfway and run again, rebuilds 3 members holding every key', async () => {
      const id = await clusterId(0);
      const no = await runHardway(['recover', '-i', inv()]);
      expect(no.exitCode).toBe(2);
      expect(no.stderr).toMatch(/run again with --yes/);

      // Killed once the source runs alone with --force-new-cluster: the next run finishes.
      const child = spawn('node', [path.join(REPO, 'bin/hardway'), 'recover', '-i', inv(), '--yes'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      const closed = new Promise((res) => child.once('close', res));
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await waitUntil(async () => /started once with --force-new-cluster/.test(err) || child.exitCode !== null, 120_000, 50);
      child.kill('SIGKILL');
      await closed;
      expect(err).toMatch(/moved \/var\/lib\/etcd to \/var\/lib\/etcd\.pre-recover-/);

      const r = await runHardway(['recover', '-i', inv(), '--yes']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/checked: one cluster ID/);
      expect(r.stdout).toMatch(/checked: every member's hashkv/);
      expect(await healthyCount(0)).toBe(3);
      expect((await memberNames(0)).filter((m) => m.started)).toHaveLength(3);
      for (const n of [0, 1, 2]) {
        expect(await countOn(n, '/before/'), `controller-${n} /before/`).toBe(20);
        expect(await countOn(n, '/after/'), `controller-${n} /after/`).toBe(20);
        expect(await localGet(n, '/after/20')).toBe('v20');
      }
      // The same cluster, kept: its ID and revisions go on.
      expect(await clusterId(2)).toBe(id);
      // Nothing deleted: the emptied nodes' dirs moved aside; the forced unit gone.
      expect(await sshOk(1, 'ls -d /var/lib/etcd.pre-recover-*')).toMatch(/pre-recover-\d{8}T\d{6}Z/);
      expect((await sshRun(0, 'systemctl is-active hardway-recover-etcd.service')).stdout.trim()).not.toBe('active');

      const again = await runHardway(['up', '-i', inv()]);
      expect(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(/nothing changed/);
      const nothing = await runHardway(['recover', '-i', inv(), '--yes']);
      expect(nothing.exitCode).toBe(1);
      expect(nothing.stderr).toMatch(/quorum is healthy .*nothing to recover/);
    });
  });

  describe('two nodes unreachable and the quorum lost', () => {
    it('recover refuses naming them; without them in the inventory it rebuilds one member, and up grows it back', async () => {
      await wipeAll();
      expect((await runHardway(['up', '-i', inv()])).exitCode).toBe(0);
      await putMany('/kept/', 10);
      // The two machines go away: etcd and sshd stopped (their data stays, as on a machine that is off).
      for (const n of [1, 2]) {
        await sshOk(n, 'systemctl stop etcd');
        await inNode(n, 'systemctl stop ssh.socket ssh.service');
        await waitUntil(async () => (await sshRun(n, 'true', { connectTimeoutS: 2, timeoutMs: 10_000 })).exitCode !== 0, 30_000);
      }
      try {
        const refused = await runHardway(['recover', '-i', inv(), '--yes']);
        expect(refused.exitCode).toBe(1);
        expect(refused.stderr).toMatch(/controller-1 \(.*\), controller-2 \(.*\) are not\. Nothing was changed/);
        expect(refused.stderr).toMatch(/take controller-1, controller-2 out of/);

        const one = await scratchInventory((doc) => {
          doc.deleteIn(['nodes', 2]);
          doc.deleteIn(['nodes', 1]);
        });
        const r = await runHardway(['recover', '-i', one, '--yes', '--json']);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        // recover's --json success path (test/json-contract-cases.ts): one document.
        expect(oneDocument(r.stdout)).toMatchObject({ ok: true });
        expect(await countOn(0, '/kept/')).toBe(10);
        const list = await etcdctl(0, 'member list -w simple', 'https://127.0.0.1:2379');
        expect(list.stdout.trim().split('\n')).toHaveLength(1);
      } finally {
        for (const n of [1, 2]) {
          expect((await inNode(n, 'systemctl start ssh.service')).exitCode).toBe(0);
          await waitUntil(async () => (await sshRun(n, 'true', { connectTimeoutS: 2, timeoutMs: 10_000 })).exitCode === 0, 30_000);
        }
      }
      // Back, with their old data of members the cluster no longer has: up moves it aside and adds them anew.
      const grow = await runHardway(['up', '-i', inv()]);
      expect(grow.exitCode, grow.stdout + grow.stderr).toBe(0);
      expect(await healthyCount(0)).toBe(3);
      for (const n of [1, 2]) {
        expect(await countOn(n, '/kept/')).toBe(10);
        expect(await sshOk(n, 'ls -d /var/lib/etcd.removed-*')).toMatch(/removed-\d{8}T\d{6}Z/);
      }
      expect((await runHardway(['up', '-i', inv()])).stdout).toMatch(/nothing changed/);
    });
  });
});

