/**
 * Data dirs on disks of their own, as etcd's hardware guide advises (`/var/lib/etcd` a mount point): a mount point
 * cannot be renamed (EBUSY), so every flow that moves a data dir aside moves its `member` dir on that disk instead,
 * and a restore restores onto that disk. The lab puts each node's /var/lib/etcd on a small tmpfs of its own.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { etcdctl, healthyCount, memberNames } from './etcd-helpers.js';
import { describeLab, lab, mountSmallDisk, runHardway, sshOk, unmountSmallDisk, waitUntil, wipeNode } from './lab-helpers.js';

const DATA = '/var/lib/etcd';
const inv = () => lab().inventoryPath;
const nodes = [0, 1, 2];
/** What the node's data dir holds, and whether it is still its own mount. */
const dataDir = async (n: number) => {
  const out = await sshOk(n, `mountpoint -q ${DATA} && echo mounted; ls -A ${DATA}`);
  return { mounted: out.startsWith('mounted'), entries: out.split('\n').slice(1).filter(Boolean).sort() };
};
/** A key as that member alone holds it (no leader asked). */
const localGet = async (n: number, key: string) => (await etcdctl(n, `get ${key} --print-value-only --consistency=s`, 'https://127.0.0.1:2379')).stdout.trim();

describeLab('data dirs on disks of their own', () => {
  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    expect((await runHardway(['up', '-i', inv()])).exitCode).toBe(0);
    for (let i = 1; i <= 10; i++) expect((await etcdctl(0, `put own-disk/k${i} v${i}`)).exitCode).toBe(0);
    // One node at a time, so that the other two keep the quorum while its data is copied onto its disk.
    for (const n of nodes) {
      await mountSmallDisk(n, DATA, 400, { unit: 'etcd' });
      await waitUntil(async () => (await healthyCount(0)) === 3, 60_000, 500);
    }
    for (const n of nodes) expect((await dataDir(n)).mounted).toBe(true);
  }, 300_000);

  afterAll(async () => {
    // Back on the nodes' own disks, and nothing of this file left for the next one.
    for (const n of nodes) await unmountSmallDisk(n, DATA, { unit: 'etcd' }).catch(() => {});
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    await rm(`${lab().dir}/own-disk.db`, { force: true });
    await rm(`${lab().dir}/own-disk.db.json`, { force: true });
  }, 300_000);

  it('member remove moves the member dir on its disk and says so; up adds it back with the data replicated', async () => {
    const r = await runHardway(['member', 'remove', 'controller-2', '--yes', '-i', inv()]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`moved ${DATA}/member to ${DATA}/member\\.removed-\\d{8}T\\d{6}Z \\(${DATA} is a mount point`));
    const after = await dataDir(2);
    expect(after.mounted).toBe(true);
    expect(after.entries).toEqual([expect.stringMatching(/^member\.removed-\d{8}T\d{6}Z$/)]);
    // What it held is all there, on the same disk (a rename, no copy).
    expect(await sshOk(2, `ls ${DATA}/${after.entries[0]}`)).toMatch(/snap[\s\S]*wal|wal[\s\S]*snap/);

    const up = await runHardway(['up', '-i', inv()]);
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
    expect(await healthyCount(0)).toBe(3);
    expect((await memberNames(0)).filter((m) => m.started)).toHaveLength(3);
    expect(await localGet(2, 'own-disk/k10')).toBe('v10');
    expect((await dataDir(2)).entries).toEqual(['member', after.entries[0]]);

    // verify names the moved-aside member dir where it is; the next up changes nothing.
    const verify = await runHardway(['verify', '-i', inv(), '--json']);
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`${DATA}/${after.entries[0]}`);
    expect((await runHardway(['up', '-i', inv()])).stdout).toMatch(/nothing changed/);
  }, 240_000);

  it('snapshot restore restores onto each disk: the saved keys back, later ones gone, the old members kept aside there', async () => {
    const file = `${lab().dir}/own-disk.db`;
    const save = await runHardway(['snapshot', 'save', '--out', file, '-i', inv()]);
    expect(save.exitCode, save.stdout + save.stderr).toBe(0);
    expect((await etcdctl(0, 'put own-disk/after-snapshot yes')).exitCode).toBe(0);

    const r = await runHardway(['snapshot', 'restore', file, '--force', '--no-snapshot', '--yes', '-i', inv()]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`moved ${DATA}/member to ${DATA}/member\\.pre-restore-\\d{8}T\\d{6}Z`));
    for (const n of nodes) {
      const d = await dataDir(n);
      expect(d.mounted).toBe(true);
      // Its restored member, the member the restore moved aside, and no temp dir.
      expect(d.entries.filter((e) => !e.startsWith('member.removed-'))).toEqual(['member', expect.stringMatching(/^member\.pre-restore-\d{8}T\d{6}Z$/)]);
      expect(await localGet(n, 'own-disk/k3')).toBe('v3');
      expect(await localGet(n, 'own-disk/after-snapshot')).toBe('');
    }
    expect(await healthyCount(0)).toBe(3);
    expect((await runHardway(['up', '-i', inv()])).stdout).toMatch(/nothing changed/);
  }, 300_000);
});
