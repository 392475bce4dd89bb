/**
 * Certificates that outlive the lab, on one cluster carried through every case (bootstrapped once, on a CA the test
 * makes with 9 days left): pki cuts the leaf to the CA's end and verify warns naming rotate-ca; pki renew with a
 * writer over every endpoint; a node whose ca.pem differs; expired leaves on every node (doctor, then renew brings the
 * cluster back); rotate-ca killed after phase 1 and run again; pki.dir moved away (plan and up write nothing, rotate-ca
 * moves the cluster to a new CA). The writer counts failed writes and the longest gap between successful ones.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, expect, it } from 'vitest';
import { buildCa, buildLeaf } from '../../src/pki/certs.js';
import { generateRsaKey } from '../../src/pki/keys.js';
import { ETCDCTL_TLS, etcdctl, healthyCount, mainPid, MANAGED_FILES, scratchInventory } from './etcd-helpers.js';
import { describeLab, lab, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';
import { oneDocument } from '../json-contract-cases.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DAY = 86_400_000;
const NODES = [0, 1, 2];
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const certsIn = (text: string) => [...text.matchAll(PEM)].map((m) => new X509Certificate(m[0]));

let inv = '';
let pki = '';
const read = (f: string) => readFile(path.join(pki, f), 'utf8');
const addr = (n: number) => lab().nodes[n]!.address;

/** What a new TLS connection to the node's client port is shown, seen with openssl from here (pki.dir's client cert). */
async function served(n: number): Promise<X509Certificate> {
  const r = await execa('sh', ['-c', `openssl s_client -connect ${addr(n)}:2379 -cert ${pki}/kubernetes.pem -key ${pki}/kubernetes-key.pem </dev/null 2>/dev/null | openssl x509`], { reject: false });
  return new X509Certificate(r.stdout);
}

/**
 * A writer on controller-0 over every endpoint, a put every 50 ms, until stopped: how many writes, how many failed,
 * and the longest time between two successful ones. With `retry`, a put that fails is tried once more at once, as a
 * client such as kube-apiserver does, and counts as failed only when that fails too; every first failure is printed
 * with etcd's words. That is for operations that restart members, where etcd itself loses a request now and then:
 * with TLS it stops its gRPC server without draining it (etcd issue 8916), so a put reaching a member in the very
 * millisecond it stops is cut (`transport: missing content-type field`); and a put a follower forwards to the leader
 * in the ~10 ms the leader hands its leadership on (as it stops) is dropped, the follower waiting out the client's
 * deadline (`context deadline exceeded` after 5 s). On the lab, about one rotation in five shows one of them. A cluster
 * that cannot take a write (no leader) fails the retry too.
 */
async function writer(tag: string, retry = false): Promise<() => Promise<{ writes: number; failed: number; gapMs: number; failures: string }>> {
  const eps = lab().nodes.map((n) => `https://${n.address}:2379`).join(',');
  const stop = `/tmp/stop-writer-${tag}`;
  const fails = `/tmp/writer-failures-${tag}`;
  await sshOk(0, `rm -f ${stop}; : > ${fails}`);
  const put = `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${eps} ${ETCDCTL_TLS} --command-timeout=5s put certs-${tag}-$i v >/dev/null 2>/tmp/writer-err-${tag}`;
  const note = `echo "$(date +%T.%3N) $(grep -v '^{' /tmp/writer-err-${tag} | tail -n 1)" >> ${fails}`;
  const run = sshRun(
    0,
    `i=0; f=0; gap=0; last=$(date +%s%N); while [ ! -e ${stop} ]; do ` +
      `ok=0; if ${put}; then ok=1; else ${note}; ${retry ? `if ${put}; then ok=1; else ${note}; fi; ` : ''}fi; ` +
      `if [ $ok = 1 ]; then now=$(date +%s%N); d=$(( (now - last) / 1000000 )); [ $d -gt $gap ] && gap=$d; last=$now; else f=$((f+1)); fi; ` +
      `i=$((i+1)); sleep 0.05; done; echo "$i $f $gap"`,
    { timeoutMs: 600_000 },
  );
  await new Promise((r) => setTimeout(r, 500));
  return async () => {
    await sshOk(0, `touch ${stop}`);
    const [writes = 0, failed = -1, gapMs = 0] = (await run).stdout.trim().split(' ').map(Number);
    const failures = (await sshOk(0, `cat ${fails}`)).trim();
    const cut = failures ? failures.split('\n').length : 0;
    console.log(`writer ${tag}: ${writes} writes, ${failed} failed, longest gap between successful writes ${gapMs} ms${cut ? `; attempts that failed (${retry ? 'each retried at once' : 'not retried'}):\n${failures}` : ''}`);
    return { writes, failed, gapMs, failures };
  };
}

/** SHA-256 of every managed file and etcd's MainPID, per node: what "nothing written" is checked against. */
const fingerprint = () => Promise.all(NODES.map(async (n) => `${await sshOk(n, `sha256sum ${MANAGED_FILES.join(' ')}`)} pid=${await mainPid(n)}`));

describeLab('certificates that outlive the lab', () => {
  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    inv = await scratchInventory((doc, dir) => doc.setIn(['pki', 'dir'], path.join(dir, 'pki')));
    pki = path.join(path.dirname(inv), 'pki');
    // A CA made 356 days ago for a year: 9 days left, as the 2020 edition's CAs come back.
    const key = await generateRsaKey(2048);
    const now = new Date();
    const ca = buildCa({ keyPem: key, now, validityDays: 365, notBefore: new Date(now.getTime() - 356 * DAY), notAfter: new Date(now.getTime() + 9 * DAY) });
    await mkdir(pki, { mode: 0o700 });
    await writeFile(path.join(pki, 'ca-key.pem'), key, { mode: 0o600 });
    await writeFile(path.join(pki, 'ca.pem'), ca);
    await chmod(path.join(pki, 'ca-key.pem'), 0o600);
  });

  it('a CA with 9 days left: pki issues a leaf ending with the CA and says why; verify warns, naming hardway pki rotate-ca', async () => {
    const p = await runHardway(['pki', '-i', inv]);
    expect(p.exitCode, p.stderr).toBe(0);
    expect(p.stderr).toMatch(/kubernetes\.pem: valid until \S+ \(\d days?\), not the 365 days of pki\.validityDays: a certificate must not outlive the CA that signed it/);
    const [ca, leaf] = [new X509Certificate(await read('ca.pem')), new X509Certificate(await read('kubernetes.pem'))];
    expect(new Date(leaf.validTo).getTime()).toBe(new Date(ca.validTo).getTime());

    expect((await runHardway(['up', '-i', inv])).exitCode).toBe(0);
    const v = await runHardway(['verify', '-i', inv]);
    expect(v.exitCode, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/! \[certs\] the CA CN=Kubernetes, O=Kubernetes \(sha256 [0-9a-f]+, not after \S+\) that every node trusts expires in [89] days .*'hardway pki rotate-ca'/);
  });

  it('pki renew: every node presents the new serial, no restart, 0 failed writes, and the next up changes nothing', async () => {
    const before = new X509Certificate(await read('kubernetes.pem')).serialNumber;
    const pids = await Promise.all(NODES.map(mainPid));
    await sshOk(0, 'ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=https://127.0.0.1:2379 ' + ETCDCTL_TLS + ' put data-before-renew kept');
    const stop = await writer('renew');
    const r = await runHardway(['pki', 'renew', '-i', inv, '--yes']);
    const w = await stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const after = new X509Certificate(await read('kubernetes.pem')).serialNumber;
    expect(after).not.toBe(before);
    for (const n of NODES) expect((await served(n)).serialNumber, `controller-${n}`).toBe(after);
    expect(r.stderr).toMatch(new RegExp(`controller-0: serves serial ${after} on a new connection: no restart`));
    expect(await Promise.all(NODES.map(mainPid))).toEqual(pids);
    expect(w.writes).toBeGreaterThan(5);
    expect(w.failed, `${w.failed} of ${w.writes} writes failed:\n${w.failures}`).toBe(0);
    const again = await runHardway(['up', '-i', inv]);
    expect(again.stdout, again.stderr).toMatch(/nothing changed/);
  });

  it("a node whose installed ca.pem differs from the others': verify names the node", async () => {
    const key = await generateRsaKey(2048);
    const other = buildCa({ keyPem: key, now: new Date(), validityDays: 365 });
    await sshOk(2, 'cp -p /etc/etcd/ca.pem /root/ca.pem.certs-test');
    try {
      await sshOk(2, 'cat > /etc/etcd/ca.pem', { input: other });
      const v = await runHardway(['verify', '-i', inv]);
      expect(v.exitCode).toBe(1);
      expect(v.stdout).toMatch(/✗ controller-2: \[certs\] \/etc\/etcd\/ca\.pem on controller-2 .* does not verify the kubernetes\.pem of controller-0, controller-1, controller-2/);
      expect(v.stdout).not.toMatch(/✗ controller-[01]: \[certs\]/);
      expect(v.stderr).toMatch(/verify: \d+ errors?\b.* on controller-2$/m);
    } finally {
      // The file as it was, mtime included: the member never read the other one.
      await sshOk(2, 'cp -p /root/ca.pem.certs-test /etc/etcd/ca.pem && rm -f /root/ca.pem.certs-test');
    }
  });

  it('expired leaves on every node, etcd restarted: doctor names the expiry; pki renew --yes brings the cluster back healthy with its data', async () => {
    const now = Date.now();
    const expired = buildLeaf({
      keyPem: await read('kubernetes-key.pem'),
      caPem: await read('ca.pem'),
      caKeyPem: await read('ca-key.pem'),
      sans: { ips: [...lab().nodes.map((n) => n.address), '127.0.0.1'], dns: [] },
      now: new Date(now),
      validityDays: 1,
      notBefore: new Date(now - 300 * DAY),
      notAfter: new Date(now - 2 * DAY),
    });
    await Promise.all(NODES.map((n) => sshOk(n, 'cat > /etc/etcd/kubernetes.pem && systemctl restart --no-block etcd', { input: expired })));
    await waitUntil(async () => (await healthyCount(0)) === 0, 60_000, 1000);
    await waitUntil(async () => (await sshRun(0, "journalctl -u etcd --since -60s --no-pager | grep -q 'certificate has expired'")).exitCode === 0, 30_000, 1000);

    const d = await runHardway(['doctor', '-i', inv]);
    expect(d.exitCode).toBe(1);
    expect(d.stdout).toMatch(/^error {2,}TLS-09 {2,}Certificate expired/m);
    expect(d.stdout).toMatch(/^error {2,}CERT-EXPIRY {2,}/m);
    expect(d.stdout).toMatch(/\/etc\/etcd\/kubernetes\.pem \(serial \w+\) expired 2 days ago/);
    expect(d.stdout).toMatch(/hardway pki renew/);

    const r = await runHardway(['pki', 'renew', '-i', inv, '--yes']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await healthyCount(0)).toBe(3);
    expect((await etcdctl(0, 'get data-before-renew --print-value-only')).stdout.trim()).toBe('kept');
    const serial = new X509Certificate(await read('kubernetes.pem')).serialNumber;
    for (const n of NODES) expect((await served(n)).serialNumber).toBe(serial);
  });

  it('rotate-ca with a writer, killed after phase 1 and run again: every node presents a leaf of the new CA, no trust file holds the old CA, 0 failed writes', async () => {
    const oldCa = new X509Certificate(await read('ca.pem'));
    const stop = await writer('rotate', true);
    const child = spawn('node', [path.join(REPO, 'bin/hardway'), 'pki', 'rotate-ca', '-i', inv, '--yes'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '';
    child.stderr.on('data', (d: Buffer) => (first += d.toString()));
    await waitUntil(async () => /phase 1 of 3 done/.test(first) || child.exitCode !== null, 240_000, 20);
    child.kill('SIGKILL');
    await new Promise((res) => child.once('close', res));
    expect(first).toMatch(/phase 1 of 3 done/);
    expect(await readFile(path.join(pki, 'rotate-ca.json'), 'utf8')).toMatch(/"phase": [12]/);

    const r = await runHardway(['pki', 'rotate-ca', '-i', inv, '--yes']);
    const w = await stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // Resumed: nobody is restarted again for phase 1.
    expect(r.stderr).toMatch(/resuming at phase [12]/);
    expect(r.stderr).not.toMatch(/restarted \(it trusts both CAs\)/);
    const newCa = new X509Certificate(await read('ca.pem'));
    expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);
    for (const n of NODES) {
      const trust = certsIn(await sshOk(n, 'cat /etc/etcd/ca.pem'));
      expect(trust.map((c) => c.fingerprint256), `controller-${n} ca.pem`).toEqual([newCa.fingerprint256]);
      expect((await served(n)).verify(newCa.publicKey), `controller-${n} serves a leaf of the new CA`).toBe(true);
    }
    expect(await readFile(path.join(pki, `ca-key.pem.old-${/rotate-ca\.done-(\S+)\.json/.exec(r.stdout + r.stderr)?.[1] ?? ''}`), 'utf8')).toMatch(/PRIVATE KEY/);
    expect(w.writes).toBeGreaterThan(20);
    expect(w.failed, `${w.failed} of ${w.writes} writes failed:\n${w.failures}`).toBe(0);
    expect(await healthyCount(0)).toBe(3);
  });

  it('pki.dir moved away on a healthy cluster: plan and up exit 1 with nothing written; rotate-ca --yes moves the cluster to a new CA, 0 failed writes', async () => {
    const oldCa = new X509Certificate(await read('ca.pem'));
    const before = await fingerprint();
    await rename(pki, `${pki}.away`);
    for (const cmd of ['plan', 'up']) {
      const r = await runHardway([cmd, '-i', inv]);
      expect(r.exitCode, `${cmd}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/the running members trust another CA than pki\.dir's: controller-0, controller-1, controller-2 trust CN=Kubernetes, O=Kubernetes \(sha256 [0-9a-f]+, not after \S+\); \S+ holds no ca\.pem\..*Nothing was written to any node\..*put this cluster's pki\.dir back.*'hardway pki rotate-ca'/s);
    }
    await expect(readFile(path.join(pki, 'ca.pem'))).rejects.toThrow(/ENOENT/);
    expect(await fingerprint()).toEqual(before);

    const stop = await writer('moved', true);
    const r = await runHardway(['pki', 'rotate-ca', '-i', inv, '--yes', '--json']);
    const w = await stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    // rotate-ca's --json success path (test/json-contract-cases.ts): one document.
    expect(oneDocument(r.stdout)).toMatchObject({ ok: true });
    const newCa = new X509Certificate(await read('ca.pem'));
    expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);
    // The old CA's certificate came from the nodes (its key stays in the pki.dir moved away).
    const aside = (await execa('sh', ['-c', `ls ${pki}`])).stdout;
    expect(aside).toMatch(/ca\.pem\.old-\d{8}T\d{6}Z/);
    expect(aside).not.toMatch(/ca-key\.pem\.old-/);
    for (const n of NODES) {
      expect(certsIn(await sshOk(n, 'cat /etc/etcd/ca.pem')).map((c) => c.fingerprint256)).toEqual([newCa.fingerprint256]);
      expect((await served(n)).verify(newCa.publicKey)).toBe(true);
    }
    expect(w.failed, `${w.failed} of ${w.writes} writes failed:\n${w.failures}`).toBe(0);
    expect(w.writes).toBeGreaterThan(20);
    const again = await runHardway(['up', '-i', inv]);
    expect(again.stdout, again.stderr).toMatch(/nothing changed/);
  });
});
