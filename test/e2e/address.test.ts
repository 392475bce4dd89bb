/**
 * A VM back with another address: the node is moved to another IP on the lab bridge, its etcd cannot bind the old
 * one. With the new address in the inventory, doctor names the change with `hardway up` as the fix, and up keeps the
 * member (same ID, data) with `member update`, a certificate for the new IP and a new unit, while a writer over every
 * endpoint sees no failed write.
 */
import { X509Certificate } from 'node:crypto';
import { copyFile, appendFile } from 'node:fs/promises';
import { execa } from 'execa';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ETCDCTL_TLS, scratchInventory } from './etcd-helpers.js';
import { describeLab, inNode, lab, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';

const etcdctlOn = (ref: number, endpoints: string, args: string) => sshRun(ref, `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${endpoints} ${ETCDCTL_TLS} --command-timeout=5s ${args}`, { timeoutMs: 30_000 });

describeLab('a member whose address changed', () => {
  it('doctor names it; up updates the member in place: same ID, new peer URL and certificate, data kept, no failed write', async () => {
    const l = lab();
    await Promise.all(l.nodes.map((n) => wipeNode(n)));
    expect((await runHardway(['up', '-i', l.inventoryPath])).exitCode).toBe(0);
    const oldIp = l.nodes[2]!.address;
    const newIp = `${l.subnet.split('.').slice(0, 3).join('.')}.20`;
    const all = (ip2: string) => [l.nodes[0]!.address, l.nodes[1]!.address, ip2].map((a) => `https://${a}:2379`).join(',');
    expect((await etcdctlOn(0, all(oldIp), 'put moved-before yes')).exitCode).toBe(0);
    const list = JSON.parse((await etcdctlOn(0, all(oldIp), 'member list -w json')).stdout.replace(/"ID":(\d+)/g, '"ID":"$1"')) as { members: { ID: string; name: string }[] };
    const idBefore = list.members.find((m) => m.name === 'controller-2')!.ID;

    // The inventory as the user edits it: the new address, and the node's host key known under it.
    const moved = await scratchInventory((doc, dir) => {
      doc.setIn(['nodes', 2, 'address'], newIp);
      doc.setIn(['nodes', 2, 'internalIp'], newIp);
      doc.setIn(['ssh', 'knownHosts'], path.join(dir, 'known_hosts'));
    });
    const knownHosts = path.join(path.dirname(moved), 'known_hosts');
    await copyFile(l.knownHostsPath, knownHosts);
    const hostKey = (await sshOk(2, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim().split(' ').slice(0, 2).join(' ');
    await appendFile(knownHosts, `${newIp} ${hostKey}\n`);

    try {
      await inNode(2, `ip addr add ${newIp}/24 dev host0 && ip addr del ${oldIp}/24 dev host0 && systemctl restart etcd; true`);
      await waitUntil(async () => (await inNode(2, "journalctl -u etcd --no-pager -n 30 | grep -q 'cannot assign requested address'")).exitCode === 0, 30_000);

      const doctor = await runHardway(['doctor', '-i', moved]);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toMatch(new RegExp(`controller-2 \\(member [0-9a-f]+\\) moved from https://${oldIp.replace(/\./g, '\\.')}:2380 to https://${newIp.replace(/\./g, '\\.')}:2380`));
      expect(doctor.stdout).toMatch(/'hardway up' updates the member's peer URL/);

      const plan = await runHardway(['plan', '-i', moved]);
      expect(plan.exitCode, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/etcdctl member update [0-9a-f]+ --peer-urls=https:\/\/\S+:2380 \(the node moved from/);
      expect(plan.stderr).not.toMatch(/not in .*up does not remove members/);

      const pids = await Promise.all([0, 1].map((n) => sshOk(n, 'systemctl show -p MainPID --value etcd.service')));
      // A writer on controller-0 over every endpoint (the new one included) for the whole run.
      await sshOk(0, 'rm -f /tmp/stop-writer');
      // One retry at once, as kube-apiserver's client does (etcd 3.4 cuts a request in flight on a member that stops).
      const put = `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${all(newIp)} ${ETCDCTL_TLS} --command-timeout=5s put addr-writer-$i v`;
      const writer = sshRun(0, `i=0; f=0; while [ ! -e /tmp/stop-writer ]; do ${put} >/dev/null 2>&1 || ${put} >/dev/null 2>&1 || f=$((f+1)); i=$((i+1)); sleep 0.1; done; echo "$i $f"`, { timeoutMs: 300_000 });
      const r = await runHardway(['up', '-i', moved]);
      await sshOk(0, 'touch /tmp/stop-writer');
      const [writes, failed] = (await writer).stdout.trim().split(' ').map(Number);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/controller-2: member [0-9a-f]+ moved from .* updating its peer URL/);
      expect(writes).toBeGreaterThan(5);
      expect(failed, `${failed} of ${writes} writes failed`).toBe(0);

      const after = JSON.parse((await etcdctlOn(0, all(newIp), 'member list -w json')).stdout.replace(/"ID":(\d+)/g, '"ID":"$1"')) as { members: { ID: string; name: string; peerURLs: string[] }[] };
      const c2 = after.members.find((m) => m.name === 'controller-2')!;
      expect(c2.ID).toBe(idBefore);
      expect(c2.peerURLs).toEqual([`https://${newIp}:2380`]);
      expect(after.members).toHaveLength(3);
      const health = await etcdctlOn(0, all(newIp), 'endpoint health -w json');
      expect((JSON.parse(health.stdout.split('\n').find((x) => x.startsWith('['))!) as { health: boolean }[]).filter((h) => h.health)).toHaveLength(3);
      const installed = new X509Certificate((await inNode(2, 'cat /etc/etcd/kubernetes.pem')).stdout);
      expect(installed.subjectAltName).toContain(`IP Address:${newIp}`);
      expect((await inNode(2, `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=https://${newIp}:2379 ${ETCDCTL_TLS} get moved-before --print-value-only --consistency=s`)).stdout.trim()).toBe('yes');
      // The others were not restarted: their units got the new --initial-cluster, and the reissued certificate is
      // what a new connection to them is shown (etcd reads it again for each one).
      expect(await Promise.all([0, 1].map((n) => sshOk(n, 'systemctl show -p MainPID --value etcd.service')))).toEqual(pids);
      const pki = path.join(l.dir, 'pki');
      const served = await execa('sh', ['-c', `openssl s_client -connect ${l.nodes[0]!.address}:2379 -cert ${pki}/kubernetes.pem -key ${pki}/kubernetes-key.pem </dev/null 2>/dev/null | openssl x509 -noout -serial`], { reject: false });
      expect(served.stdout.trim()).toBe(`serial=${new X509Certificate(await sshOk(0, 'cat /etc/etcd/kubernetes.pem')).serialNumber}`);
      const again = await runHardway(['up', '-i', moved]);
      expect(again.stdout, again.stderr).toMatch(/nothing changed/);
    } finally {
      await inNode(2, `ip addr add ${oldIp}/24 dev host0 2>/dev/null; ip addr del ${newIp}/24 dev host0 2>/dev/null; true`);
      await waitUntil(async () => (await sshRun(2, 'true', { connectTimeoutS: 2, timeoutMs: 10_000 })).exitCode === 0, 30_000);
    }
  });
});
