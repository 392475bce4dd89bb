/**
 * A version change on the shared lab, 3.4.23 → 3.5.16 (Debian trixie's 3.5, packed as a release like `lab up --etcd
 * 3.5` does): a pre-upgrade snapshot first, one member at a time with a writer over every endpoint, a run killed after
 * the first member's restart finished by the next; then the way back refused before any file is written, and the
 * 3.4 journal of a refused downgrade named by doctor.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { DEFAULT_CACHE_DIR } from '../../src/lab/plan.js';
import { debRelease } from '../../src/lab/tarball.js';
import { allEndpoints, ETCDCTL_TLS, healthyCount, mainPid, scratchInventory } from './etcd-helpers.js';
import { describeLab, installEtcdBinaries, lab, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ctl = (args: string) => `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${allEndpoints()} ${ETCDCTL_TLS} --command-timeout=5s ${args}`;

describeLab('a version change', () => {
  let inv35: string;
  let snapshots: string;
  let version35: string;

  beforeAll(async () => {
    const release = await debRelease(DEFAULT_CACHE_DIR);
    version35 = release.version;
    snapshots = await mkdtemp(path.join(os.tmpdir(), 'hardway-upgrade-snaps-'));
    inv35 = await scratchInventory((doc) => {
      doc.setIn(['etcd', 'version'], release.version);
      doc.setIn(['etcd', 'tarball'], release.path);
      doc.setIn(['snapshots', 'dir'], snapshots);
    });
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    expect((await runHardway(['up', '-i', lab().inventoryPath])).exitCode).toBe(0);
    await sshOk(0, `for i in $(seq 1 30); do ${ctl('put /upgrade/k$i v$i')} >/dev/null || exit 1; done`, { timeoutMs: 120_000 });
  }, 600_000);

  it('3.4.23 → 3.5: a pre-upgrade snapshot, one member at a time, no failed write; killed after the first restart, the next up finishes', async () => {
    const plan = await runHardway(['plan', '-i', inv35]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(new RegExp(`etcd: upgrade 3\\.4\\.23 → ${version35.replace(/\./g, '\\.')} \\(cluster version 3\\.4\\)`));

    await sshOk(0, 'rm -f /tmp/stop-writer');
    // A put is retried once at once, as kube-apiserver's client does: etcd 3.4 cuts a request in flight on a member
    // that stops (its gRPC server is not drained) — a write is lost only when the retry fails too. First failures: r.
    const put = ctl('put /writer/k$i v');
    const writer = sshRun(0, `i=0; f=0; r=0; while [ ! -e /tmp/stop-writer ]; do if ${put} >/dev/null 2>&1; then i=$((i+1)); elif ${put} >/dev/null 2>&1; then i=$((i+1)); r=$((r+1)); else f=$((f+1)); fi; sleep 0.1; done; echo "$i $f $r"`, { timeoutMs: 600_000 });

    try {
    // Killed once the first member runs the new release and the second one's turn has come.
    const child = spawn('node', [path.join(REPO, 'bin/hardway'), 'up', '-i', inv35], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const closed = new Promise((res) => child.once('close', res));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await waitUntil(async () => (err.match(/restarting etcd on/g) ?? []).length >= 2 || child.exitCode !== null, 240_000, 50);
    child.kill('SIGKILL');
    await closed;
    expect(err).toMatch(/saved the pre-upgrade snapshot/);
    const firstRestart = err.indexOf('restarting etcd on');
    expect(err.indexOf('saved the pre-upgrade snapshot')).toBeLessThan(firstRestart);

    const r = await runHardway(['up', '-i', inv35]);
    await sshOk(0, 'touch /tmp/stop-writer');
    const [writes = 0, failed = -1, retried = 0] = (await writer).stdout.trim().split(' ').map(Number);
    console.log(`upgrade: ${writes} writes, ${retried} needed their one retry, ${failed} lost`);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`cluster version 3\\.5(\\.\\d+)?: every member runs ${version35.replace(/\./g, '\\.')}`));
    expect(writes).toBeGreaterThan(10);
    expect(failed, `${failed} of ${writes + failed} writes failed`).toBe(0);

    // Every member on the new release, every key there, the snapshot's manifest saying why it was taken.
    const status = JSON.parse((await sshOk(0, ctl('endpoint status -w json'))).split('\n').find((l) => l.startsWith('['))!) as { Status: { version: string } }[];
    expect(status.map((s) => s.Status.version)).toEqual([version35, version35, version35]);
    expect(await healthyCount(0)).toBe(3);
    expect((await sshOk(2, `${ctl('get /upgrade/ --prefix --keys-only')} | grep -c /upgrade/`)).trim()).toBe('30');
    const manifests = (await readdir(snapshots)).filter((f) => f.endsWith('.db.json'));
    expect(manifests.length).toBeGreaterThanOrEqual(1);
    const m = JSON.parse(await readFile(path.join(snapshots, manifests[0]!), 'utf8')) as { reason?: string; etcdVersion: string };
    expect(m.reason).toBe('pre-upgrade');
    expect(m.etcdVersion).toBe('3.4.23');
    // Nothing kept behind once the flow ended.
    for (const n of [0, 1, 2]) expect((await sshRun(n, 'ls /usr/local/bin/*.hardway-prev 2>/dev/null')).stdout.trim()).toBe('');
    const again = await runHardway(['up', '-i', inv35]);
    expect(again.stdout, again.stderr).toMatch(/nothing changed/);
    } finally {
      // The writer never outlives the test.
      await sshRun(0, 'touch /tmp/stop-writer');
    }
  });

  it('back to 3.4.23: refused before any file is written, binaries and processes unchanged', async () => {
    const sums = await Promise.all([0, 1, 2].map((n) => sshOk(n, 'sha256sum /usr/local/bin/etcd /usr/local/bin/etcdctl /etc/systemd/system/etcd.service')));
    const pids = await Promise.all([0, 1, 2].map((n) => mainPid(n)));
    const r = await runHardway(['up', '-i', lab().inventoryPath]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/a downgrade.*cannot be downgraded.*'hardway snapshot restore FILE' of a snapshot taken while the cluster ran 3\.4\. Nothing was written/);
    expect(await Promise.all([0, 1, 2].map((n) => sshOk(n, 'sha256sum /usr/local/bin/etcd /usr/local/bin/etcdctl /etc/systemd/system/etcd.service')))).toEqual(sums);
    expect(await Promise.all([0, 1, 2].map((n) => mainPid(n)))).toEqual(pids);
  });

  it("doctor --journal names a 3.4 member's refused downgrade from its own lines", async () => {
    // What a downgrade done by hand gives: controller-2 with the 3.4 binaries next to a 3.5 cluster.
    const since = (await sshOk(2, 'date +"%Y-%m-%d %H:%M:%S"')).trim();
    await sshOk(2, 'systemctl stop etcd && cp -p /usr/local/bin/etcd /tmp/etcd-3.5');
    await installEtcdBinaries(2);
    await sshRun(2, 'systemctl start etcd', { timeoutMs: 60_000 });
    await waitUntil(async () => (await sshRun(2, `journalctl -u etcd --since "${since}" --no-pager | grep -q 'cannot be downgraded'`)).exitCode === 0, 60_000);
    const text = await sshOk(2, `journalctl -u etcd --since "${since}" --no-pager`);
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'hardway-downgrade-')), 'journal.txt');
    await writeFile(file, text);
    await sshOk(2, 'systemctl stop etcd; install -m 0755 /tmp/etcd-3.5 /usr/local/bin/etcd && systemctl reset-failed etcd; systemctl start etcd', { timeoutMs: 60_000 });

    const doctor = await runHardway(['doctor', '--journal', file]);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/^error {2,}VER-01 {2,}A member older than the cluster version/m);
    expect(doctor.stdout).toMatch(/runs etcd 3\.4\.23 but the cluster's version is 3\.5/);
    expect(doctor.stdout).toMatch(/hardway up/);
    await waitUntil(async () => (await healthyCount(0)) === 3, 60_000, 500);
  });
});
