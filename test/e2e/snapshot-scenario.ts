/**
 * The snapshot scenario, run on the shared 3.4 lab (snapshot.test.ts) and on the 3.5 lab (etcd35.test.ts): data
 * written, `snapshot save`, the data changed, the guards of `restore`, then `restore --force --yes` and what the
 * restored cluster must be. The caller gives the nodes (plain OpenSSH) and an inventory of its own: restore writes
 * its new token into that file.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseEndpointStatus, parseHashKv } from '../../src/etcd/etcdctl.js';
import type { CmdResult } from './lab-helpers.js';
import { runHardway, waitUntil } from './lab-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ETCDCTL = 'ETCDCTL_API=3 /usr/local/bin/etcdctl --cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem --command-timeout=20s';

export interface SnapshotLab {
  label: string;
  /** A command on node i (0-based) over OpenSSH. */
  ssh(i: number, cmd: string): Promise<CmdResult>;
  /** Node addresses, in inventory order (asked once the lab is up). */
  addresses(): string[];
  /** An inventory of the scenario's own (restore rewrites its cluster.token). */
  inventory(): string;
  /** The release restores with --bump-revision (3.4.27+, 3.5.10+). */
  bump: boolean;
  /** Also kill a restore halfway and finish it by running it again. */
  killHalfway?: boolean;
}

export function snapshotScenario(lab: SnapshotLab): void {
  const endpoint = (i: number) => `https://${lab.addresses()[i]}:2379`;
  const all = () => lab.addresses().map((_, i) => endpoint(i)).join(',');
  const ctl = async (i: number, args: string, endpoints = all()) => {
    const r = await lab.ssh(i, `${ETCDCTL} --endpoints=${endpoints} ${args}`);
    if (r.exitCode !== 0) throw new Error(`etcdctl ${args} on node ${i}: ${r.stderr}`);
    return r.stdout;
  };
  /** SHA-256 of `get "" --prefix` as member i itself holds it (serializable: no other member asked). */
  const dumpHash = async (i: number) => (await ctl(i, `get "" --prefix --consistency=s | sha256sum`, endpoint(i))).trim().split(' ')[0]!;
  const pids = async () => Promise.all(lab.addresses().map(async (_, i) => (await lab.ssh(i, 'systemctl show -p MainPID --value etcd.service')).stdout.trim()));
  const memberIds = async () => parseEndpointStatus(await ctl(0, 'endpoint status -w json')).map((s) => s.memberId).sort();
  const inv = () => lab.inventory();
  const token = async () => (parse(await readFile(inv(), 'utf8')) as { cluster?: { token?: string } }).cluster?.token ?? 'etcd-cluster-0';

  let saved = '';
  let savedDump = '';
  let savedRevision = 0;
  let idsBefore: string[] = [];
  let snapDir = '';

  it(`${lab.label}: save after 500 keys and a 1 MiB value: 0600 file in a 0700 snapshots.dir, with its manifest`, async () => {
    // 500 keys in four transactions (etcd allows 128 operations per txn), then one 1 MiB value from stdin.
    for (let t = 0; t < 4; t++) {
      const r = await lab.ssh(0, `{ echo; for i in $(seq ${t * 125} ${t * 125 + 124}); do echo "put /snap/k$i value-$i"; done; echo; echo; } | ${ETCDCTL} --endpoints=${all()} txn`);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    await lab.ssh(0, 'head -c 786432 /dev/urandom | base64 -w0 > /tmp/big && stat -c %s /tmp/big');
    await ctl(0, 'put /snap/big < /tmp/big');
    expect(Number((await ctl(0, 'get /snap/ --prefix --keys-only | grep -c /snap/')).trim())).toBe(501);
    savedDump = await dumpHash(0);
    savedRevision = Math.max(...parseEndpointStatus(await ctl(0, 'endpoint status -w json')).map((s) => s.revision));
    idsBefore = await memberIds();

    const r = await runHardway(['snapshot', 'save', '-i', inv(), '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; revision: number; totalKeys: number; size: number; sha256: string; member: { name: string }; token: string };
    saved = out.file;
    snapDir = path.dirname(saved);
    expect(path.basename(saved)).toMatch(new RegExp(`^${(await token()).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}T\\d{6}Z\\.db$`));
    expect((await stat(saved)).mode & 0o777).toBe(0o600);
    expect((await stat(`${saved}.json`)).mode & 0o777).toBe(0o600);
    expect((await stat(snapDir)).mode & 0o777).toBe(0o700);
    expect(await readdir(snapDir)).not.toContainEqual(expect.stringMatching(/\.part$/));
    // Nothing was written since: the snapshot is at the revision the members reported.
    expect(out.revision).toBe(savedRevision);
    expect(out.totalKeys).toBeGreaterThanOrEqual(501);
    expect(out.size).toBe((await stat(saved)).size);
    expect(out.size).toBeGreaterThan(1024 * 1024);
    // The node's temp file is gone.
    for (let i = 0; i < lab.addresses().length; i++) expect((await lab.ssh(i, 'ls /var/tmp/hardway-snapshot-* 2>/dev/null | wc -l')).stdout.trim()).toBe('0');
  });

  it(`${lab.label}: status and list check the file afresh; a flipped byte is damaged (exit 1)`, async () => {
    const st = await runHardway(['snapshot', 'status', saved]);
    expect(st.exitCode, st.stdout + st.stderr).toBe(0);
    expect(st.stdout).toMatch(new RegExp(`revision +${savedRevision}`));
    expect(st.stdout).toMatch(/verdict +ok/);
    const list = await runHardway(['snapshot', 'list', '-i', inv(), '--json']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { file: string; verdict: string }[]).map((f) => [f.file, f.verdict])).toEqual([[saved, 'ok']]);

    const bytes = await readFile(saved);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x01;
    const flipped = path.join(path.dirname(saved), 'flipped.db');
    await writeFile(flipped, bytes, { mode: 0o600 });
    const bad = await runHardway(['snapshot', 'status', flipped]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/DAMAGED: integrity hash mismatch/);
  });

  it(`${lab.label}: restore refuses a flipped byte, a healthy cluster without --force (exit 1), and no --yes off a terminal (exit 2), with no member restarted`, async () => {
    const before = await pids();
    const flipped = await runHardway(['snapshot', 'restore', path.join(snapDir, 'flipped.db'), '-i', inv(), '--force', '--yes']);
    expect(flipped.exitCode).toBe(1);
    expect(flipped.stderr).toMatch(/integrity hash mismatch.*nothing was changed/);
    const healthy = await runHardway(['snapshot', 'restore', saved, '-i', inv(), '--yes']);
    expect(healthy.exitCode).toBe(1);
    expect(healthy.stderr).toMatch(new RegExp(`snapshot at ${savedRevision}.*--force`));
    const noYes = await runHardway(['snapshot', 'restore', saved, '-i', inv(), '--force']);
    expect(noYes.exitCode).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    expect(await pids()).toEqual(before);
    for (let i = 0; i < lab.addresses().length; i++) expect((await lab.ssh(i, 'ls -d /var/lib/etcd.pre-restore-* /var/tmp/hardway-restore-* 2>/dev/null | wc -l')).stdout.trim()).toBe('0');
    await rm(path.join(snapDir, 'flipped.db'));
  });

  it(`${lab.label}: restore --force --yes brings back exactly the saved keys on every member, as a new cluster`, async () => {
    await ctl(0, 'del /snap/ --prefix');
    await ctl(0, 'put /other/a written-after');
    await ctl(0, 'put /other/b written-after');
    expect(await dumpHash(0)).not.toBe(savedDump);
    const tokenBefore = await token();

    if (lab.killHalfway) {
      // Killed once the data dirs are being moved aside: the cluster is stopped, and the next run finishes it.
      const child = spawn('node', [path.join(REPO, 'bin/hardway'), 'snapshot', 'restore', saved, '-i', inv(), '--force', '--yes'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await waitUntil(async () => /moved \/var\/lib\/etcd to/.test(err) || child.exitCode !== null, 60_000, 50);
      child.kill('SIGKILL');
      await new Promise((res) => child.once('close', res));
      expect(err).toMatch(/stopped etcd on/);
    }
    const started = Date.now();
    const r = await runHardway(['snapshot', 'restore', saved, '-i', inv(), '--force', '--yes']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    console.log(`${lab.label}: snapshot restore in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(r.stdout).toMatch(/checked: one cluster ID/);

    for (let i = 0; i < lab.addresses().length; i++) expect(await dumpHash(i), `member ${i}`).toBe(savedDump);
    const ids = await memberIds();
    expect(ids).toHaveLength(lab.addresses().length);
    for (const id of ids) expect(idsBefore).not.toContain(id);
    const hk = parseHashKv(await ctl(0, 'endpoint hashkv -w json'));
    expect(hk).toHaveLength(lab.addresses().length);
    expect(new Set(hk.map((h) => h.hash)).size).toBe(1);
    const status = parseEndpointStatus(await ctl(0, 'endpoint status -w json'));
    expect(new Set(status.map((s) => s.clusterId)).size).toBe(1);
    for (const s of status) expect(s.revision).toBeGreaterThanOrEqual(savedRevision + (lab.bump ? 1_000_000_000 : 0));
    if (!lab.bump) expect(Math.max(...status.map((s) => s.revision))).toBeLessThan(savedRevision + 1000);
    // The old data dirs are there, with their WALs; the snapshot's copy on the nodes is gone.
    for (let i = 0; i < lab.addresses().length; i++) {
      expect((await lab.ssh(i, 'ls -d /var/lib/etcd.pre-restore-*/member/wal | wc -l')).stdout.trim()).not.toBe('0');
      expect((await lab.ssh(i, 'stat -c %a /var/lib/etcd')).stdout.trim()).toBe('700');
      expect((await lab.ssh(i, 'ls /var/tmp/hardway-restore-* 2>/dev/null | wc -l')).stdout.trim()).toBe('0');
    }
    const newToken = await token();
    expect(newToken).not.toBe(tokenBefore);
    expect(newToken).toMatch(/-restored-\d{8}T\d{6}Z$/);
    for (let i = 0; i < lab.addresses().length; i++) expect((await lab.ssh(i, 'cat /etc/systemd/system/etcd.service')).stdout).toMatch(new RegExp(`--initial-cluster-token[= ]${newToken}\\b`));
  });

  it(`${lab.label}: after the restore, up changes nothing and verify passes, naming the moved-aside dirs`, async () => {
    const before = await pids();
    const up = await runHardway(['up', '-i', inv()]);
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
    expect(up.stdout).toMatch(/nothing changed/);
    expect(await pids()).toEqual(before);
    const v = await runHardway(['verify', '-i', inv()]);
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/Old data dirs/);
    expect(v.stdout).toMatch(/\/var\/lib\/etcd\.pre-restore-\d{8}T\d{6}Z/);
  });
}
