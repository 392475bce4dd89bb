/**
 * A cluster made by hand the guide's way before hardway: an openssl CA and certificate, the release's binaries, the
 * guide's own unit (no --heartbeat-interval/--election-timeout). hardway adopts it: plan shows the two flags (etcd's
 * defaults), and up writes the unit without restarting any member.
 */
import { execa } from 'execa';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { healthyCount, mainPid, scratchInventory } from './etcd-helpers.js';
import { guideUnit } from '../guide-unit.js';
import { describeLab, installEtcdBinaries, lab, runHardway, sshOk, waitUntil, wipeNode, writeNodeFile } from './lab-helpers.js';

/** A CA and kubernetes.pem made with openssl, as the guide's readers did before cfssl (SANs: the nodes, loopback). */
async function opensslPki(dir: string, ips: string[], names: string[]): Promise<void> {
  const sh = (script: string) => execa('sh', ['-c', script], { cwd: dir });
  await sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 365 -subj "/CN=Kubernetes/O=Kubernetes" 2>/dev/null');
  const san = [...ips, '127.0.0.1'].map((ip) => `IP:${ip}`).concat(names.map((n) => `DNS:${n}`)).join(',');
  await writeFile(path.join(dir, 'ext.cnf'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  await sh('openssl req -newkey rsa:2048 -nodes -keyout kubernetes-key.pem -out kubernetes.csr -subj "/CN=kubernetes/O=Kubernetes" 2>/dev/null');
  await sh('openssl x509 -req -in kubernetes.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out kubernetes.pem -days 365 -extfile ext.cnf 2>/dev/null');
  await sh('chmod 600 ca-key.pem kubernetes-key.pem && chmod 700 .');
}

describeLab('a cluster made by hand from the guide', () => {
  it('plan shows the two default flags; up writes the units and restarts no member', async () => {
    const l = lab();
    await Promise.all(l.nodes.map((n) => wipeNode(n)));
    const pki = await mkdtemp(path.join(os.tmpdir(), 'hardway-guide-pki-'));
    await opensslPki(pki, l.nodes.map((n) => n.address), l.nodes.map((n) => n.name));
    const cluster = l.nodes.map((n) => `${n.name}=https://${n.address}:2380`).join(',');
    await Promise.all(
      l.nodes.map(async (n) => {
        await installEtcdBinaries(n);
        await sshOk(n, 'mkdir -p /etc/etcd /var/lib/etcd && chmod 700 /var/lib/etcd');
        for (const f of ['ca.pem', 'kubernetes-key.pem', 'kubernetes.pem']) await writeNodeFile(n, `/etc/etcd/${f}`, await readFile(path.join(pki, f)));
        await writeNodeFile(n, '/etc/systemd/system/etcd.service', guideUnit(n.name, n.address, cluster));
        await sshOk(n, 'systemctl daemon-reload && systemctl enable etcd >/dev/null 2>&1 && systemctl start --no-block etcd');
      }),
    );
    await waitUntil(async () => (await healthyCount(0)) === 3, 60_000, 500);
    const pids = await Promise.all([0, 1, 2].map((n) => mainPid(n)));

    const inv = await scratchInventory((doc) => doc.setIn(['pki', 'dir'], pki));
    const plan = await runHardway(['plan', '-i', inv]);
    expect(plan.exitCode, plan.stdout + plan.stderr).toBe(0);
    for (const n of l.nodes) {
      const section = plan.stdout.split(/\n(?=controller-\d)/).find((s) => s.startsWith(`${n.name} `))!;
      expect(section).toMatch(/write {2}\/etc\/systemd\/system\/etcd\.service \(644, content differs/);
      expect(section).toMatch(/\+ --election-timeout=1000 \(etcd's default 1000: no change to what etcd does\)/);
      expect(section).toMatch(/\+ --heartbeat-interval=100 \(etcd's default 100: no change to what etcd does\)/);
      // The guide's `cp` leaves the key 0644: a chmod, nothing else.
      expect(section).toMatch(/chmod {2}\/etc\/etcd\/kubernetes-key\.pem \(600, mode differs\)/);
      expect(section).not.toMatch(/systemctl restart/);
      expect(section).not.toMatch(/write {2}\/usr\/local\/bin|write {2}\/etc\/etcd/);
    }

    const up = await runHardway(['up', '-i', inv]);
    expect(up.exitCode, up.stdout + up.stderr).toBe(0);
    expect(await Promise.all([0, 1, 2].map((n) => mainPid(n)))).toEqual(pids);
    expect(await sshOk(1, 'grep -c -- "--heartbeat-interval=100" /etc/systemd/system/etcd.service')).toMatch(/^1/);
    const again = await runHardway(['up', '-i', inv]);
    expect(again.stdout, again.stderr).toMatch(/nothing changed/);
    expect(await Promise.all([0, 1, 2].map((n) => mainPid(n)))).toEqual(pids);
  });
});
