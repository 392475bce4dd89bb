/**
 * The repairs `up` makes that it could not before the step engine: a member whose data dir was removed under its
 * files (seed 002's own recovery step), `--nodes` planning from every node, and rolling restarts that keep the
 * quorum of the whole member list.
 */
import { describe, expect, it } from 'vitest';
import { etcdctl, healthyCount, mainPid, memberNames, scratchInventory } from './etcd-helpers.js';
import { describeLab, lab, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';

const wipeAll = () => Promise.all(lab().nodes.map((n) => wipeNode(n)));
const up = (args: string[] = [], inv = lab().inventoryPath) => runHardway(['up', '-i', inv, ...args]);
/** A value as the member itself holds it (serializable: no leader asked). */
const localGet = async (ref: number, key: string) => (await etcdctl(ref, `get ${key} --print-value-only --consistency=s`, 'https://127.0.0.1:2379')).stdout.trim();
/** Seed 002: `systemctl stop etcd; rm -rf /var/lib/etcd/member; systemctl start etcd`, then the crash loop. */
async function removeDataDir(ref: number): Promise<void> {
  await sshRun(ref, 'systemctl stop etcd; rm -rf /var/lib/etcd/member; systemctl start etcd', { timeoutMs: 60_000 });
  await waitUntil(async () => (await sshRun(ref, "journalctl -u etcd --no-pager -n 50 | grep -q 'has already been bootstrapped'")).exitCode === 0, 30_000);
}

describeLab('repairs', () => {
  describe('a member whose data dir was removed while its files stayed', () => {
    it('doctor says up; up stops the loop, re-adds it, starts it as existing; data replicated, the others keep their PIDs', async () => {
      await wipeAll();
      expect((await up()).exitCode).toBe(0);
      expect((await etcdctl(0, 'put written-before yes')).exitCode).toBe(0);
      const others = await Promise.all([mainPid(0), mainPid(2)]);
      await removeDataDir(1);

      const doctor = await runHardway(['doctor', '-i', lab().inventoryPath]);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toMatch(/BOOT-01[\s\S]*Run `hardway up`/);

      const r = await up();
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/controller-1: its data dir is empty but the cluster has its old member [0-9a-f]+: removing it/);
      expect(await healthyCount(0)).toBe(3);
      expect((await memberNames(2)).filter((m) => m.started)).toHaveLength(3);
      expect(await localGet(1, 'written-before')).toBe('yes');
      expect(await Promise.all([mainPid(0), mainPid(2)])).toEqual(others);
      expect((await sshOk(1, 'cat /etc/systemd/system/etcd.service')).toString()).toMatch(/--initial-cluster-state[= ]existing/);
      expect((await up()).stdout).toMatch(/nothing changed/);
    });
  });

  describe('up --nodes', () => {
    it('re-adds a wiped member named alone, planning from what every node and the running cluster say', async () => {
      expect((await up()).exitCode).toBe(0);
      await etcdctl(0, 'put written-before-2 yes');
      await removeDataDir(2);
      const plan = await runHardway(['plan', '-i', lab().inventoryPath, '--nodes', 'controller-2']);
      expect(plan.exitCode, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/^controller-2 \(new node\): \n {2}systemctl stop etcd/);
      expect(plan.stdout).toMatch(/etcdctl member remove [0-9a-f]+ \(its old member/);
      expect(plan.stdout).not.toMatch(/controller-[01]/);
      const r = await up(['--nodes', 'controller-2']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      // The member table lists every member; the per-node summary only the named node.
      expect(r.stdout).not.toMatch(/^controller-[01]\s+(ok|failed|conflict)/m);
      expect(r.stdout).toMatch(/^controller-2\s+ok/m);
      expect(await healthyCount(0)).toBe(3);
      expect(await localGet(2, 'written-before-2')).toBe('yes');
    });

    it('with every member stopped, growing 1 → 3 while naming only the new nodes bootstraps no second cluster', async () => {
      await wipeAll();
      const one = await scratchInventory((doc) => {
        doc.deleteIn(['nodes', 2]);
        doc.deleteIn(['nodes', 1]);
      });
      expect((await up([], one)).exitCode).toBe(0);
      await etcdctl(0, 'put while-one yes', 'https://127.0.0.1:2379');
      const clusterId = (await etcdctl(0, 'endpoint status -w json', 'https://127.0.0.1:2379')).stdout.match(/"cluster_id":(\d+)/)![1];
      await sshOk(0, 'systemctl stop etcd');

      const r = await up(['--nodes', 'controller-1,controller-2']);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/controller-1\s+conflict: controller-1 is empty and can join the cluster the other nodes hold/);
      expect(r.stdout).toMatch(/controller-0 is not named by --nodes, so this run does not start it/);
      for (const n of [1, 2]) expect((await sshRun(n, 'systemctl is-active etcd')).stdout.trim()).not.toBe('active');
      expect((await sshOk(0, 'systemctl is-active etcd || true')).trim()).toBe('inactive');

      // The whole inventory: the member starts, then the new nodes join the cluster it holds.
      expect((await up()).exitCode).toBe(1);
      const again = await up();
      expect(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect((await memberNames(2)).filter((m) => m.started)).toHaveLength(3);
      expect((await etcdctl(2, 'endpoint status -w json', 'https://127.0.0.1:2379')).stdout.match(/"cluster_id":(\d+)/)![1]).toBe(clusterId);
      expect(await localGet(2, 'while-one')).toBe('yes');
    });
  });

  describe('a rolling restart', () => {
    it('is refused, with the arithmetic, when a restart would leave the member list without quorum', async () => {
      await wipeAll();
      expect((await up()).exitCode).toBe(0);
      const slower = await scratchInventory((doc) => doc.setIn(['etcd', 'heartbeatInterval'], 150));
      await sshOk(2, 'systemctl stop etcd');
      const pids = await Promise.all([mainPid(0), mainPid(1)]);
      const r = await up(['--nodes', 'controller-0,controller-1'], slower);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(
        /not restarting controller-[01]: the cluster has 3 voting members and needs 2 healthy for quorum; besides controller-[01], 1 is healthy \(controller-[01]\) and 1 is not \(controller-2\): restarting it would leave 1 < 2/,
      );
      expect(await Promise.all([mainPid(0), mainPid(1)])).toEqual(pids);
      expect(await healthyCount(0)).toBe(2);
      // With the stopped member named too, up starts it first, then rolls the others.
      const all = await up([], slower);
      expect(all.exitCode, all.stdout + all.stderr).toBe(0);
      for (const n of [0, 1, 2]) expect(await sshOk(n, 'tr "\\0" " " < /proc/$(systemctl show -p MainPID --value etcd)/cmdline')).toContain('--heartbeat-interval=150');
    });
  });
});
