import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEndpoints, ETCDCTL_TLS, healthyCount, mainPid, managedStat, memberNames, scratchInventory } from './etcd-helpers.js';
import { cutLink, describeLab, lab, restoreLink, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const wipeAll = () => Promise.all(lab().nodes.map((n) => wipeNode(n)));
const up = (args: string[] = [], inv = lab().inventoryPath) => runHardway(['up', '-i', inv, ...args]);

describeLab('hardway up', () => {
  describe('on a fresh lab', () => {
    beforeAll(wipeAll);

    it('bootstraps a healthy 3-member TLS cluster', async () => {
      // As in a CI log: CI set, no NO_COLOR, no TTY.
      const r = await runHardway(['up', '-i', lab().inventoryPath], { env: { CI: 'true', NO_COLOR: undefined as unknown as string } });
      expect(r.exitCode, r.stderr).toBe(0);
      const members = await memberNames(1);
      expect(members.map((m) => m.name).sort()).toEqual(['controller-0', 'controller-1', 'controller-2']);
      expect(members.every((m) => m.started)).toBe(true);
      expect(await healthyCount(2)).toBe(3);
      // Modes and owners as promised: keys 0600, dirs 0700.
      const st = await managedStat(0);
      expect(st).toMatch(/\/etc\/etcd\/kubernetes-key\.pem 600 root /);
      expect(st).toMatch(/\/etc\/etcd 700 root /);
      expect(st).toMatch(/\/var\/lib\/etcd 700 root /);
      expect(st).toMatch(/\/usr\/local\/bin\/etcd 755 root /);
      // No escape codes in non-TTY output, and the private key never shows up.
      expect(r.stdout + r.stderr).not.toMatch(/\u001b\[/);
      expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY/);
      // Off a terminal the three nodes' lines interleave: each per-node line starts with its node's name.
      const perNode = r.stderr.split('\n').filter((l) => /wrote \/|change\(s\)|files up to date|^[❯›✔✖] /.test(l));
      expect(perNode.length, r.stderr).toBeGreaterThanOrEqual(3 * 7);
      for (const l of perNode) expect(l, r.stderr).toMatch(/^controller-[0-2]: /);
    });

    it('changes nothing on a second run', async () => {
      const before = await Promise.all(lab().nodes.map(async (n) => [await managedStat(n), await mainPid(n)]));
      const r = await up();
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/nothing changed/);
      const after = await Promise.all(lab().nodes.map(async (n) => [await managedStat(n), await mainPid(n)]));
      expect(after).toEqual(before);
    });

    it('with no pki.dir next to a running cluster, plans no new CA: it names the CA the members trust, issues nothing', async () => {
      const inv = await scratchInventory((doc, dir) => doc.setIn(['pki', 'dir'], path.join(dir, 'pki')));
      const r = await runHardway(['plan', '-i', inv]);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/the running members trust another CA than pki\.dir's: .* holds no ca\.pem/);
      expect(r.stderr).toMatch(/hardway pki rotate-ca/);
      expect(existsSync(path.join(path.dirname(inv), 'pki'))).toBe(false);
    });

    it('shows the plan without changing anything', async () => {
      const r = await runHardway(['plan', '-i', lab().inventoryPath, '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const plan = JSON.parse(r.stdout) as { changed: boolean; nodes: { plan: { state: string; running: boolean } }[] };
      expect(plan.changed).toBe(false);
      expect(plan.nodes.map((n) => [n.plan.state, n.plan.running])).toEqual([
        ['member', true],
        ['member', true],
        ['member', true],
      ]);
    });

    it('notices a binary changed in place on a node, its size and mtime kept, despite the cached sums', async () => {
      // Files settled for 2 s, then a no-op up records their sums on the node.
      await new Promise((r) => setTimeout(r, 2000));
      expect((await up()).exitCode).toBe(0);
      expect(await sshOk(0, 'cat /var/cache/hardway/sha256sums')).toMatch(/ [0-9a-f]{64} \/usr\/local\/bin\/etcdctl$/m);
      await sshOk(
        0,
        'f=/usr/local/bin/etcdctl; cp -p $f /tmp/etcdctl.orig && printf X | dd of=$f bs=1 seek=4096 conv=notrunc status=none && touch -r /tmp/etcdctl.orig $f',
      );
      const plan = await runHardway(['plan', '-i', lab().inventoryPath, '--json']);
      expect(plan.exitCode, plan.stderr).toBe(0);
      const nodes = (JSON.parse(plan.stdout) as { nodes: { node: string; plan: { files: { path: string; reason: string }[] } }[] }).nodes;
      expect(nodes[0]!.plan.files).toEqual([expect.objectContaining({ path: '/usr/local/bin/etcdctl', reason: 'content differs' })]);
      expect(nodes.slice(1).every((n) => n.plan.files.length === 0)).toBe(true);
      // up puts it right; after that, nothing to do.
      const fixed = await up();
      expect(fixed.exitCode, fixed.stderr).toBe(0);
      expect(fixed.stdout + fixed.stderr).toMatch(/wrote \/usr\/local\/bin\/etcdctl \(content differs\)/);
      expect(fixed.stdout).toMatch(/changed 1 of 3 node\(s\)/);
      expect((await up()).stdout).toMatch(/nothing changed/);
    });

    it('rolls a heartbeat change through one member at a time, and the cluster answers in between', async () => {
      const inv = await scratchInventory((doc) => {
        doc.setIn(['etcd', 'heartbeatInterval'], 150);
        doc.setIn(['etcd', 'electionTimeout'], 1500);
      });
      const pidsBefore = await Promise.all(lab().nodes.map((n) => mainPid(n)));
      // A writer on controller-0 for the whole run: one put+get every 100 ms, each line `<unix time> ok|fail`.
      const writer = sshRun(
        0,
        `end=$(( $(date +%s) + 40 )); i=0; while [ $(date +%s) -lt $end ] && [ ! -e /tmp/stop-writer ]; do i=$((i+1));
           if ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${allEndpoints()} ${ETCDCTL_TLS} --command-timeout=2s put roll/k$i v$i >/dev/null 2>&1 &&
              ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${allEndpoints()} ${ETCDCTL_TLS} --command-timeout=2s get roll/k$i --print-value-only | grep -qx v$i;
           then echo "$(date +%s.%N) ok"; else echo "$(date +%s.%N) fail"; fi; sleep 0.1; done`,
        { timeoutMs: 60_000 },
      );
      await new Promise((r) => setTimeout(r, 1000));
      const r = await up([], inv);
      await sshOk(0, 'touch /tmp/stop-writer');
      const ops = (await writer).stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([t, s]) => ({ t: Number(t), ok: s === 'ok' }));
      await sshRun(0, 'rm -f /tmp/stop-writer');
      expect(r.exitCode, r.stderr).toBe(0);
      const order = [...r.stderr.matchAll(/restarting etcd on (controller-\d)/g)].map((m) => m[1]);
      expect(order.sort()).toEqual(['controller-0', 'controller-1', 'controller-2']);
      const pidsAfter = await Promise.all(lab().nodes.map((n) => mainPid(n)));
      pidsAfter.forEach((p, i) => expect(p).not.toBe(pidsBefore[i]));
      // When each member started again (µs, wall clock shared with the writer's `date`).
      const starts = (
        await Promise.all(lab().nodes.map(async (n) => Number((await sshOk(n, 'systemctl show -p ExecMainStartTimestamp --timestamp=unix --value etcd.service')).trim().replace('@', ''))))
      ).sort((a, b) => a - b);
      for (let i = 1; i < starts.length; i++) {
        const between = ops.filter((o) => o.ok && o.t > starts[i - 1]! && o.t < starts[i]!);
        expect(between.length, `a write succeeded between restart ${i} and ${i + 1}`).toBeGreaterThan(0);
      }
      // Quorum held throughout: most writes succeeded (an election may cost a few).
      expect(ops.filter((o) => o.ok).length / ops.length).toBeGreaterThan(0.8);
      expect(await sshOk(1, 'cat /etc/systemd/system/etcd.service')).toMatch(/--heartbeat-interval=150/);
    });
  });

  describe('a member wiped while the others run', () => {
    it('is removed, re-added and started as existing; the next run changes nothing', async () => {
      expect((await up()).exitCode).toBe(0);
      await wipeNode(1);
      const r = await up();
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/controller-1: its data dir is empty but the cluster has its old member [0-9a-f]+: removing it/);
      expect(await healthyCount(0)).toBe(3);
      expect((await memberNames(2)).filter((m) => m.started)).toHaveLength(3);
      const again = await up();
      expect(again.exitCode).toBe(0);
      expect(again.stdout).toMatch(/nothing changed/);
    });
  });

  describe('a member whose files are right but whose etcd is not', () => {
    it('is restarted when it runs other flags than its unit, or a binary since replaced; the others are left alone', async () => {
      expect((await up()).exitCode).toBe(0);
      // What a run killed between writing the unit and restarting leaves: etcd runs 150 ms, the unit says 100 ms.
      await sshOk(
        0,
        `f=/etc/systemd/system/etcd.service; cp $f /tmp/etcd.service.right && sed -i 's/--heartbeat-interval=100/--heartbeat-interval=150/' $f &&
         systemctl daemon-reload && systemctl restart etcd && cp /tmp/etcd.service.right $f && systemctl daemon-reload`,
      );
      expect(await sshOk(0, 'tr "\\0" " " < /proc/$(systemctl show -p MainPID --value etcd)/cmdline')).toContain('--heartbeat-interval=150');
      await waitUntil(async () => (await healthyCount(1)) === 3, 20_000);
      const others = await Promise.all([mainPid(1), mainPid(2)]);
      const plan = await runHardway(['plan', '-i', lab().inventoryPath]);
      expect(plan.stdout).toContain('systemctl restart etcd (rolling, one member at a time): the running etcd was started with other flags than its unit (--heartbeat-interval)');
      const r = await up();
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/restarting etcd on controller-0 \(the running etcd was started with other flags/);
      expect(await sshOk(0, 'tr "\\0" " " < /proc/$(systemctl show -p MainPID --value etcd)/cmdline')).toContain('--heartbeat-interval=100');
      expect(await Promise.all([mainPid(1), mainPid(2)])).toEqual(others);

      // The same bytes renamed over the binary (as an install does): the running process still has the old file.
      await sshOk(2, 'cp -p /usr/local/bin/etcd /usr/local/bin/.etcd.new && mv /usr/local/bin/.etcd.new /usr/local/bin/etcd');
      const replaced = await up();
      expect(replaced.exitCode, replaced.stderr).toBe(0);
      expect(replaced.stderr).toMatch(/restarting etcd on controller-2 \(the running etcd binary was replaced on disk after it started\)/);
      expect((await up()).stdout).toMatch(/nothing changed/);
    });
  });

  describe('a node added to the inventory of a running cluster', () => {
    beforeAll(wipeAll);

    it('joins it with member add as existing; the members that were there keep their data and are not restarted', async () => {
      const two = await scratchInventory((doc) => doc.deleteIn(['nodes', 2]));
      const first = await up([], two);
      expect(first.exitCode, first.stdout + first.stderr).toBe(0);
      expect((await memberNames(0)).map((m) => m.name).sort()).toEqual(['controller-0', 'controller-1']);
      const clusterId = async () => (await sshOk(0, `ETCDCTL_API=3 /usr/local/bin/etcdctl ${ETCDCTL_TLS} --endpoints=https://127.0.0.1:2379 endpoint status -w json`)).match(/"cluster_id":(\d+)/)![1];
      const before = await clusterId();
      await sshOk(0, `ETCDCTL_API=3 /usr/local/bin/etcdctl ${ETCDCTL_TLS} --endpoints=https://127.0.0.1:2379 put before-the-third yes`);
      const pids = await Promise.all([mainPid(0), mainPid(1)]);

      const plan = await runHardway(['plan', '-i', lab().inventoryPath]);
      expect(plan.stdout).toMatch(/controller-0 \(running member\): \n {2}write {2}\/etc\/systemd\/system\/etcd\.service[^\n]*\n[\s\S]*no restart: only flags etcd reads when it bootstraps a member changed/);
      const r = await up();
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toContain('controller-2: adding it to the running cluster');
      // Only --initial-cluster changed for them: rewritten so that the unit shows the cluster, but etcd ignores it now.
      expect(r.stderr).not.toMatch(/restarting etcd/);
      expect(await Promise.all([mainPid(0), mainPid(1)])).toEqual(pids);
      expect(await sshOk(1, 'cat /etc/systemd/system/etcd.service')).toContain(`controller-2=https://${lab().nodes[2]!.address}:2380`);
      expect(await sshOk(2, 'cat /etc/systemd/system/etcd.service')).toMatch(/--initial-cluster-state[= ]existing/);
      const members = await memberNames(2);
      expect(members.map((m) => m.name).sort()).toEqual(['controller-0', 'controller-1', 'controller-2']);
      expect(members.every((m) => m.started)).toBe(true);
      expect(await healthyCount(1)).toBe(3);
      // The same cluster, data included, now also on the new member.
      expect(await clusterId()).toBe(before);
      expect((await sshOk(2, `ETCDCTL_API=3 /usr/local/bin/etcdctl ${ETCDCTL_TLS} --endpoints=https://127.0.0.1:2379 get before-the-third --print-value-only`)).trim()).toBe('yes');
      expect((await up()).stdout).toMatch(/nothing changed/);
      // Taken out of the inventory again: up says the member is still there, and removes nothing.
      const shrunk = await up([], two);
      expect(shrunk.exitCode, shrunk.stderr).toBe(0);
      expect(shrunk.stderr).toMatch(new RegExp(`warning: member [0-9a-f]+ \\(controller-2, https://${lab().nodes[2]!.address.replace(/\./g, '\\.')}:2380\\) of the running cluster is not in \\S+: up does not remove members`));
      expect(await memberNames(0)).toHaveLength(3);
    });

    it('with every member stopped, keeps their data although the inventory grew, and adds the new node the run after', async () => {
      await wipeAll();
      const two = await scratchInventory((doc) => doc.deleteIn(['nodes', 2]));
      expect((await up([], two)).exitCode).toBe(0);
      await sshOk(1, `ETCDCTL_API=3 /usr/local/bin/etcdctl ${ETCDCTL_TLS} --endpoints=https://127.0.0.1:2379 put while-two yes`);
      await sshOk(0, 'systemctl stop etcd');
      await sshOk(1, 'systemctl stop etcd');

      // Nobody to ask: the nodes' WALs hold the 2-node cluster, not the one this inventory would bootstrap.
      const r = await up();
      expect(r.exitCode).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/controller-2 is empty and can join the cluster the other nodes hold \([0-9a-f]+\) only while it runs/);
      expect(r.stdout + r.stderr).not.toMatch(/controller-[01][^\n]*not of this inventory's cluster/);
      for (const n of [0, 1]) expect((await sshOk(n, 'systemctl is-active etcd')).trim()).toBe('active');
      expect((await sshRun(2, 'test -e /etc/systemd/system/etcd.service')).exitCode).not.toBe(0);

      const again = await up();
      expect(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(again.stderr).toContain('controller-2: adding it to the running cluster');
      expect((await memberNames(2)).filter((m) => m.started)).toHaveLength(3);
      expect((await sshOk(2, `ETCDCTL_API=3 /usr/local/bin/etcdctl ${ETCDCTL_TLS} --endpoints=https://127.0.0.1:2379 get while-two --print-value-only`)).trim()).toBe('yes');
    });
  });

  describe('with one node cut off', () => {
    beforeAll(wipeAll);
    afterAll(() => restoreLink(2));

    it('configures the others, names the unreachable node and exits 1; then converges', async () => {
      await cutLink(2);
      const r = await up();
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`controller-2\\s+failed: controller-2 \\(${lab().nodes[2]!.address.replace(/\./g, '\\.')}:22\\): (unreachable|host unreachable)`));
      expect(r.stdout).toMatch(/controller-0\s+ok/);
      expect(r.stdout).toMatch(/controller-1\s+ok/);
      expect((await sshOk(0, 'systemctl is-active etcd')).trim()).toBe('active');
      expect((await sshOk(1, 'systemctl is-active etcd')).trim()).toBe('active');
      await restoreLink(2);
      const again = await up();
      expect(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(await healthyCount(2)).toBe(3);
      expect((await memberNames(0)).every((m) => m.started)).toBe(true);
    });
  });

  describe('host keys', () => {
    it('refuses an unknown host with its fingerprint, records it with --accept-new, refuses a changed one', async () => {
      const inv = await scratchInventory((doc, dir) => doc.setIn(['ssh', 'knownHosts'], path.join(dir, 'known_hosts')));
      const kh = path.join(path.dirname(inv), 'known_hosts');
      // No node's host key known: the cause is on this side (the inventory's knownHosts), a usage error before any step.
      const r = await up([], inv);
      expect(r.exitCode, r.stdout + r.stderr).toBe(2);
      const fp = (await sshOk(0, 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub')).split(' ')[1]!;
      expect(fp).toMatch(/^SHA256:/);
      expect(r.stderr).toContain(`host key not known: ssh-ed25519 ${fp}`);
      expect(r.stderr).toContain('--accept-new');

      const accepted = await up(['--accept-new'], inv);
      expect(accepted.exitCode, accepted.stdout).toBe(0);
      const recorded = await readFile(kh, 'utf8');
      expect(recorded.trim().split('\n')).toHaveLength(3);

      // controller-0's entry now carries controller-1's key: a changed key, refused even with --accept-new.
      const lines = recorded.trim().split('\n').map((l) => l.split(' '));
      const key1 = lines.find((l) => l[0] === lab().nodes[1]!.address)!;
      await writeFile(kh, lines.map((l) => (l[0] === lab().nodes[0]!.address ? [l[0], key1[1], key1[2]] : l).join(' ')).join('\n') + '\n');
      const changed = await up(['--accept-new'], inv);
      expect(changed.exitCode).toBe(1);
      expect(changed.stdout).toMatch(/controller-0\s+failed: .*HOST KEY CHANGED/);
      expect(await readFile(kh, 'utf8')).not.toContain(fp.slice(7, 20));
    });
  });

  describe('as a non-root user with sudo', () => {
    beforeAll(wipeAll);

    it('installs through sudo', async () => {
      await sshOk(
        1,
        `id deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy; mkdir -p ~deploy/.ssh; cp /root/.ssh/authorized_keys ~deploy/.ssh/; chown -R deploy: ~deploy/.ssh;
         echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy`,
      );
      const inv = await scratchInventory((doc) => {
        doc.setIn(['nodes', 1, 'user'], 'deploy');
        doc.setIn(['nodes', 1, 'sudo'], true);
      });
      const r = await up([], inv);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(await managedStat(1)).toMatch(/\/etc\/etcd\/kubernetes-key\.pem 600 root /);
      expect(await healthyCount(0)).toBe(3);
      expect((await sshOk(1, 'journalctl _COMM=sudo --no-pager -o cat | tail -n 50')).toString()).toMatch(/deploy : .*COMMAND=\/usr\/bin\/sh -c/);
    });
  });

  describe('through a jump host', () => {
    it('reaches a node through another (ssh.jumpHost), checking both host keys', async () => {
      const [hop, target] = [lab().nodes[0]!, lab().nodes[2]!];
      const since = Math.floor(Date.now() / 1000) - 1;
      const inv = await scratchInventory((doc) => doc.setIn(['nodes', 2, 'jumpHost'], `root@${hop.address}`));
      const r = await runHardway(['plan', '-i', inv, '--json']);
      expect(r.exitCode, r.stderr).toBe(0);
      const plan = JSON.parse(r.stdout) as { nodes: { node: string; status: string; plan?: { state: string } }[] };
      // Observed (whatever the earlier tests left there).
      expect(plan.nodes.find((n) => n.node === target.name)).toMatchObject({ status: 'ok', plan: { state: expect.stringMatching(/^(new|member)$/) } });
      // The target's sshd saw the login come from the hop's address, not from the host's end of the bridge.
      const logins = await sshOk(target, `journalctl _COMM=sshd --since @${since} --no-pager -o cat | grep 'Accepted publickey for root' || true`);
      expect(logins).toContain(`from ${hop.address} `);

      // The hop's host key is checked like any other: unknown to known_hosts, the node fails with its fingerprint.
      const knownHosts = path.join(path.dirname(inv), 'known_hosts');
      const lines = (await readFile(lab().knownHostsPath, 'utf8')).split('\n');
      await writeFile(knownHosts, lines.filter((l) => !l.startsWith(`${hop.address} `)).join('\n'));
      const noHop = await scratchInventory((doc) => {
        doc.setIn(['nodes', 2, 'jumpHost'], `root@${hop.address}`);
        doc.setIn(['ssh', 'knownHosts'], knownHosts);
      });
      const refused = await runHardway(['plan', '-i', noHop, '--nodes', target.name]);
      expect(refused.exitCode).toBe(1);
      expect(refused.stdout + refused.stderr).toMatch(new RegExp(`${hop.address.replace(/\./g, '\\.')}[^\n]*SHA256:`));
    });
  });

  describe('with a passphrase-protected identity file', () => {
    const passphrase = 'lab secret 7';
    let inv: string;
    let key: string;
    // No agent: the passphrase has to come from the user.
    const noAgent = { SSH_AUTH_SOCK: undefined as unknown as string, HARDWAY_SSH_PASSPHRASE: undefined as unknown as string };
    beforeAll(async () => {
      inv = await scratchInventory((doc, dir) => doc.setIn(['ssh', 'identityFile'], path.join(dir, 'id_ed25519')));
      key = path.join(path.dirname(inv), 'id_ed25519');
      await execa('cp', [lab().keyPath, key]);
      await execa('ssh-keygen', ['-q', '-p', '-P', '', '-N', passphrase, '-f', key]);
    });

    it('without a terminal or an agent, exits 2 and says to use ssh-agent', async () => {
      const r = await runHardway(['plan', '-i', inv], { env: noAgent });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`${key} is encrypted and there is no terminal to ask for its passphrase: add it to ssh-agent (ssh-add ${key})`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });

    it('asks on a terminal without echo, again after a wrong passphrase, then reaches every node', async () => {
      // A real pty (util-linux script); each answer is typed only once its prompt is there, as a user would.
      const child = spawn('script', ['-qec', `node ${path.join(REPO, 'bin/hardway')} plan -i ${inv}`, '/dev/null'], {
        env: { ...process.env, ...noAgent, NO_COLOR: '1' },
      });
      const answers = ['not it', passphrase];
      let out = '';
      let prompts = 0;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const seen = out.match(/passphrase[^\n]*for key '[^']+': /g)?.length ?? 0;
        for (; prompts < seen; prompts++) child.stdin.write(`${answers[prompts] ?? ''}\r`);
      });
      // 'close', not 'exit': the last lines may still be in the pipe when the process exits.
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await closed.finally(() => clearTimeout(timer));
      expect(code, out).toBe(0);
      expect(out.match(/\w[^\n]*passphrase[^\n]*for key '[^']+': /g)).toEqual([`Enter passphrase for key '${key}': `, `Bad passphrase, try again for key '${key}': `]);
      expect(out).not.toContain(passphrase);
      expect(out).not.toContain('not it');
      // One plan section per node (what it says depends on the tests before): every node was reached.
      for (const n of lab().nodes) expect(out).toMatch(new RegExp(`^${n.name} \\((new node|running member|stopped member)\\): `, 'm'));
    });

    it('takes HARDWAY_SSH_PASSPHRASE, and refuses a wrong one before connecting anywhere', async () => {
      const ok = await runHardway(['plan', '-i', inv, '--json'], { env: { ...noAgent, HARDWAY_SSH_PASSPHRASE: passphrase } });
      expect(ok.exitCode, ok.stderr).toBe(0);
      expect((JSON.parse(ok.stdout) as { nodes: { status: string }[] }).nodes.map((n) => n.status)).toEqual(['ok', 'ok', 'ok']);
      const wrong = await runHardway(['plan', '-i', inv], { env: { ...noAgent, HARDWAY_SSH_PASSPHRASE: 'not it' } });
      expect(wrong.exitCode).toBe(2);
      expect(wrong.stderr).toContain(`error: HARDWAY_SSH_PASSPHRASE does not decrypt ${key}`);
      expect(wrong.stdout).toBe('');
    });
  });

  describe('with etcd.url instead of a local tarball', () => {
    it('downloads the release once (checked against etcd.sha256) and installs from the cache after that', async () => {
      const tarball = await readFile(lab().tarballPath);
      const sha = createHash('sha256').update(tarball).digest('hex');
      const requests: string[] = [];
      // A release mirror on loopback: the only address besides the lab's bridge that tests may reach.
      const server = createServer((req, res) => {
        requests.push(req.url!);
        if (req.url === `/v3.4.23/${path.basename(lab().tarballPath)}`) res.end(tarball);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3.4.23/${path.basename(lab().tarballPath)}`;
        const inv = await scratchInventory((doc) => {
          doc.deleteIn(['etcd', 'tarball']);
          doc.setIn(['etcd', 'url'], url);
          doc.setIn(['etcd', 'sha256'], sha);
        });
        const env = { XDG_CACHE_HOME: path.join(path.dirname(inv), 'cache') };
        const first = await runHardway(['up', '-i', inv], { env });
        expect(first.exitCode, first.stdout + first.stderr).toBe(0);
        expect(first.stderr).toContain(`downloading ${url}`);
        expect(first.stderr).toMatch(/downloaded 1\d MB in [\d.]+ s, sha256 as in the inventory/);
        const cached = path.join(env.XDG_CACHE_HOME, 'hardway', 'downloads', `${sha}-${path.basename(lab().tarballPath)}`);
        expect((await readFile(cached)).equals(tarball)).toBe(true);
        expect(await healthyCount(0)).toBe(3);
        const again = await runHardway(['up', '-i', inv], { env });
        expect(again.exitCode, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/nothing changed/);
        expect(again.stderr).not.toContain('downloading');
        expect(requests).toHaveLength(1);

        const wrongSum = await scratchInventory((doc) => {
          doc.deleteIn(['etcd', 'tarball']);
          doc.setIn(['etcd', 'url'], url);
          doc.setIn(['etcd', 'sha256'], 'f'.repeat(64));
        });
        const refused = await runHardway(['plan', '-i', wrongSum], { env });
        expect(refused.exitCode).toBe(1);
        expect(refused.stderr).toContain(`has sha256 ${sha}, but the inventory says ${'f'.repeat(64)}: not using it`);
      } finally {
        await new Promise((r) => server.close(r));
      }
    });
  });

  describe('killed in the middle of the binary upload', () => {
    beforeAll(wipeAll);

    it('leaves no partial /usr/local/bin/etcd, and the next run completes', async () => {
      const child = spawn('node', [path.join(REPO, 'bin/hardway'), 'up', '-i', lab().inventoryPath], { env: { ...process.env, NO_COLOR: '1' } });
      const killed = await new Promise<boolean>((resolve) => {
        const onData = (d: Buffer) => {
          // Progress lines come every 2 MB of a big file: kill as soon as the etcd binary is on its way.
          if (/\/usr\/local\/bin\/etcd [\d.]+ MB \//.test(d.toString())) {
            child.kill('SIGKILL');
            resolve(true);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', () => resolve(false));
      });
      expect(killed).toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
      const whole = (await execa('sh', ['-c', `tar -xOzf '${lab().tarballPath}' etcd-v3.4.23-linux-amd64/etcd | sha256sum`])).stdout.split(' ')[0];
      for (const n of lab().nodes) {
        // Whatever is in place must be the whole binary: it is renamed into place only after its checksum matched.
        const sha = (await sshOk(n, 'if [ -e /usr/local/bin/etcd ]; then sha256sum /usr/local/bin/etcd; else echo none; fi')).split(' ')[0]!.trim();
        expect(['none', whole]).toContain(sha);
      }
      const r = await up();
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(await healthyCount(0)).toBe(3);
      await waitUntil(async () => (await sshOk(0, 'ls -a /usr/local/bin')).includes('hardway-tmp') === false, 5000);
    });
  });
});
