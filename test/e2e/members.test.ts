/**
 * Members, leadership and maintenance on the lab: etcdctl and env without typing flags, member list, leader move,
 * defrag, member remove / replace, reset, alarms. One cluster is brought up once and the tests run in order on it
 * (each gives back a healthy 3-member cluster), so the file stays quick.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseEndpointStatus } from '../../src/etcd/etcdctl.js';
import { allEndpoints, etcdctl, ETCDCTL_TLS, healthyCount, MANAGED_FILES, memberNames, scratchInventory } from './etcd-helpers.js';
import { describeLab, lab, reLiteral, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const inv = () => lab().inventoryPath;
/** hardway with the lab inventory (`-i` goes before etcdctl's `--`). */
function hw(args: string[], opts: Parameters<typeof runHardway>[1] = {}) {
  const at = args.includes('--') ? args.indexOf('--') : args.length;
  return runHardway([...args.slice(0, at), '-i', inv(), ...args.slice(at)], opts);
}
const ectl = (args: string[], pre: string[] = []) => hw(['etcdctl', ...pre, '--', ...args]);

/** etcdctl on a node as a shell word list, for scripts run there. */
const ETCDCTL = () => `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${allEndpoints()} ${ETCDCTL_TLS} --command-timeout=5s`;

/** Every member's endpoint status as etcdctl itself reports it (asked from `from`). */
async function statuses(from = 0) {
  const r = await etcdctl(from, 'endpoint status -w json');
  return parseEndpointStatus(r.stdout);
}
/** A member's ID (hex) as etcdctl's member list prints it. */
async function memberId(name: string): Promise<string> {
  const line = (await etcdctl(0, 'member list -w simple')).stdout.split('\n').find((l) => l.split(', ')[2] === name);
  if (!line) throw new Error(`${name} is not a member`);
  return line.split(', ')[0]!;
}
/** The node whose endpoint reports itself leader, by etcdctl's own endpoint status. */
async function leaderNode(from = 0): Promise<string | undefined> {
  const leader = (await statuses(from)).find((s) => s.isLeader);
  return lab().nodes.find((n) => leader?.endpoint === `https://${n.address}:2379`)?.name;
}

describeLab('members, leadership and maintenance', () => {
  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    const r = await runHardway(['up', '-i', inv()]);
    if (r.exitCode !== 0) throw new Error(`up failed: ${r.stdout}${r.stderr}`);
  });

  describe('hardway etcdctl and env', () => {
    it("runs put and get on the cluster with its endpoints and certificates, exiting with etcdctl's code", async () => {
      const put = await ectl(['put', 'members-k', 'v1']);
      expect(put.exitCode, put.stderr).toBe(0);
      expect(put.stdout.trim()).toBe('OK');
      const get = await ectl(['get', 'members-k', '--print-value-only']);
      expect(get.stdout).toBe('v1');
      // etcdctl's own code for bad arguments (ExitBadArgs), not one of hardway's.
      const bad = await ectl(['get']);
      expect(bad.exitCode).toBe(128);
      expect(bad.stderr).toMatch(/get command needs one argument/);
      expect((await etcdctl(2, 'get members-k --print-value-only')).stdout.trim()).toBe('v1');
    });

    it('passes a binary value through stdin and stdout byte for byte', async () => {
      const value = Buffer.concat([Buffer.from([0, 255, 10, 13, 0x1b]), randomBytes(200_000)]);
      const file = path.join(os.tmpdir(), `hw-members-bin-${process.pid}`);
      await writeFile(file, value);
      const bin = path.join(REPO, 'bin/hardway');
      const put = await execa('node', [bin, 'etcdctl', '-i', inv(), '--', 'put', 'members-bin'], { inputFile: file, reject: false });
      await rm(file);
      expect(put.exitCode, String(put.stderr)).toBe(0);
      const get = await execa('node', [bin, 'etcdctl', '-i', inv(), '--', 'get', 'members-bin', '--print-value-only'], { encoding: 'buffer', stripFinalNewline: false, reject: false, stdin: 'ignore' });
      expect(get.exitCode).toBe(0);
      // etcdctl ends the value with a newline of its own.
      expect(Buffer.compare(Buffer.from(get.stdout).subarray(0, -1), value)).toBe(0);
    });

    it('--node runs against that node only', async () => {
      const r = await ectl(['endpoint', 'status'], ['--node', 'controller-2']);
      expect(r.exitCode, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`https://${lab().nodes[2]!.address}:2379`);
      const unknown = await ectl(['endpoint', 'status'], ['--node', 'controller-9']);
      expect(unknown.exitCode).toBe(2);
      expect(unknown.stderr).toMatch(/controller-9 is not in the inventory .*controller-0, controller-1, controller-2/);
    });

    it('streams a watch as events come, and Ctrl-C ends the etcdctl on the node too', async () => {
      const watch = execa('node', [path.join(REPO, 'bin/hardway'), 'etcdctl', '-i', inv(), '--', 'watch', 'members-w'], { reject: false, stdin: 'ignore' });
      let out = '';
      watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const running = async () => (await Promise.all(lab().nodes.map((n) => sshRun(n, 'pgrep -f "etcdctl watch members-w"')))).some((r) => r.exitCode === 0);
      await waitUntil(running, 15_000);
      await waitUntil(async () => {
        await etcdctl(0, 'put members-w seen');
        return out.includes('PUT\nmembers-w\nseen\n');
      }, 15_000, 500);
      watch.kill('SIGINT');
      const done = await watch;
      expect(done.exitCode).toBe(130);
      await waitUntil(async () => !(await running()), 10_000);
    }, 60_000);

    it('eval "$(hardway env)" && etcdctl member list works from the host', async () => {
      const env = await hw(['env']);
      expect(env.exitCode, env.stderr).toBe(0);
      expect(env.stdout).toMatch(/^export ETCDCTL_API=3\nexport ETCDCTL_ENDPOINTS=https:\/\/[\d.]+:2379,/);
      expect(env.stdout).not.toMatch(/PRIVATE KEY/);
      const r = await execa('sh', ['-c', `eval "$(node ${path.join(REPO, 'bin/hardway')} env -i ${inv()})" && etcdctl member list`], { reject: false, env: { NO_COLOR: '1' } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.match(/started, controller-\d/g)?.sort()).toEqual(['started, controller-0', 'started, controller-1', 'started, controller-2']);
    });
  });

  describe('hardway member list', () => {
    it("lists every member with etcdctl's hex IDs, the leader, the inventory column and the fault-tolerance line", async () => {
      const r = await hw(['member', 'list']);
      expect(r.exitCode, r.stderr).toBe(0);
      // The one member table: NAME STATUS VERSION LEARNER LEADER CLIENT URLS; -o wide adds ID, PEER URLS, IN INVENTORY.
      for (const n of lab().nodes) expect(r.stdout).toMatch(new RegExp(`^${n.name} +started +3\\.4\\.23 +no +(yes|no) +https://${reLiteral(n.address)}:2379$`, 'm'));
      expect(r.stdout).toMatch(/^all 3 members on 3\.4\.23; cluster version 3\.4$/m);
      expect(r.stdout.match(/^controller-\d +started +\S+ +no +yes +/gm)).toHaveLength(1);
      const wide = await hw(['member', 'list', '-o', 'wide']);
      expect(wide.exitCode, wide.stderr).toBe(0);
      for (const n of lab().nodes) expect(wide.stdout).toMatch(new RegExp(`^${n.name} +started +3\\.4\\.23 +no +(yes|no) +https://${reLiteral(n.address)}:2379 +[0-9a-f]+ +https://${reLiteral(n.address)}:2380 +yes$`, 'm'));
      expect(r.stdout).toMatch(/^3 members: quorum 2, survives 1 failure$/m);

      const j = JSON.parse((await hw(['member', 'list', '--json'])).stdout) as { members: { id: string; name: string }[]; leader: string; quorum: number; faultTolerance: number };
      const simple = (await etcdctl(1, 'member list -w simple')).stdout.trim().split('\n');
      expect(j.members.map((m) => `${m.id} ${m.name}`).sort()).toEqual(simple.map((l) => l.split(', ')).map((f) => `${f[0]} ${f[2]}`).sort());
      expect(j.members.find((m) => m.id === j.leader)?.name).toBe(await leaderNode());
      expect([j.quorum, j.faultTolerance]).toEqual([2, 1]);
    });
  });

  describe('hardway leader move', () => {
    it('moves the leadership to a named member, then by default off the current leader', async () => {
      // controller-1 must not lead already, or the move would prove nothing.
      if ((await leaderNode()) === 'controller-1') expect((await etcdctl(0, `move-leader ${await memberId('controller-0')}`)).exitCode).toBe(0);
      const named = await hw(['leader', 'move', 'controller-1']);
      expect(named.exitCode, named.stderr).toBe(0);
      expect(named.stdout).toMatch(/^leader before: controller-[02] \([0-9a-f]+\)\nleader after: {2}controller-1 \([0-9a-f]+\)$/m);
      expect(await leaderNode(2)).toBe('controller-1');

      const off = await hw(['leader', 'move', '--json']);
      expect(off.exitCode, off.stderr).toBe(0);
      const j = JSON.parse(off.stdout) as { before: { name: string }; after: { name: string }; moved: boolean };
      expect(j.before.name).toBe('controller-1');
      expect(j.after.name).toMatch(/^controller-[02]$/);
      expect(await leaderNode(1)).toBe(j.after.name);

      const same = await hw(['leader', 'move', j.after.name]);
      expect(same.stdout).toMatch(/is already the leader: nothing moved/);
      const unknown = await hw(['leader', 'move', 'controller-9']);
      expect(unknown.exitCode).toBe(2);
      expect(unknown.stderr).toMatch(/controller-9 is neither a member nor in the inventory: did you mean 'controller-\d'(, 'controller-\d')* or 'controller-\d'\? \(members: .*controller-0 \([0-9a-f]+\)/);
    });
  });

  describe('hardway defrag', () => {
    it("after deleting 10 000 keys makes every member's DB smaller, while a background writer sees no failed write", async () => {
      const value = 'x'.repeat(1000);
      // 100 transactions of 100 puts each: etcd's default limit is 128 operations per transaction.
      await sshOk(0, `set -e; for b in $(seq 0 99); do { echo; for i in $(seq 0 99); do echo "put defrag-$b-$i ${value}"; done; echo; echo; } | ${ETCDCTL()} txn >/dev/null; done`, { timeoutMs: 120_000 });
      expect((await etcdctl(0, 'del --prefix defrag-')).stdout.trim()).toBe('10000');
      const rev = /"revision":(\d+)/.exec((await etcdctl(0, 'get defrag- -w json')).stdout)![1]!;
      expect((await ectl(['compact', rev])).exitCode).toBe(0);
      const before = new Map((await statuses()).map((s) => [s.endpoint, s.dbSize]));
      expect([...before.values()].every((size) => size > 10_000_000)).toBe(true);

      await sshOk(1, 'rm -f /tmp/stop-writer');
      const writer = sshRun(1, `i=0; f=0; while [ ! -e /tmp/stop-writer ]; do ${ETCDCTL()} put writer-$i v >/dev/null 2>&1 || f=$((f+1)); i=$((i+1)); done; echo "$i $f"`, { timeoutMs: 120_000 });
      await new Promise((r) => setTimeout(r, 1000));
      const r = await hw(['defrag']);
      await sshOk(1, 'touch /tmp/stop-writer');
      const [writes, failed] = (await writer).stdout.trim().split(' ').map(Number);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/defragmenting controller-\d \(follower\)\ndefragmenting controller-\d \(follower\)\ndefragmenting controller-\d \(leader\)/);
      expect(r.stdout).toMatch(/^controller-\d +leader +[\d.]+ [kMG]?B +[\d.]+ [kMG]?B +defragmented$/m);
      expect(writes).toBeGreaterThan(5);
      expect(failed).toBe(0);
      const after = await statuses();
      expect(after).toHaveLength(3);
      for (const s of after) expect(s.dbSize).toBeLessThan(before.get(s.endpoint)! / 10);
      expect(await healthyCount(2)).toBe(3);
    });
  });

  describe('hardway member remove', () => {
    it('is refused with the numbers while another member is stopped, and without --yes off a terminal; the member list stays', async () => {
      const before = await memberNames(0);
      const noYes = await hw(['member', 'remove', 'controller-2']);
      expect(noYes.exitCode).toBe(2);
      expect(noYes.stderr).toMatch(/not asked without a terminal; run again with --yes/);
      await sshOk(1, 'systemctl stop etcd');
      try {
        const r = await hw(['member', 'remove', 'controller-2', '--yes']);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(
          /removing controller-2 \([0-9a-f]+\) is refused: 2 voting members would be left, needing 2 healthy for quorum, and 1 healthy \(controller-0\) and 1 not \(controller-1\): 1 < 2/,
        );
        expect(await memberNames(0)).toEqual(before);
      } finally {
        await sshOk(1, 'systemctl start etcd');
      }
      await waitUntil(async () => (await healthyCount(0)) === 3, 30_000);
      expect((await sshRun(2, 'systemctl is-active etcd')).stdout.trim()).toBe('active');
    });

    it('3 → remove controller-2 → 2 healthy members, its etcd stopped and disabled, its data dir moved aside', async () => {
      await ectl(['put', 'before-remove', 'kept']);
      const r = await hw(['member', 'remove', 'controller-2', '--yes']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(/this will:\n {2}- (move the leadership to another member, then )?remove member controller-2 \([0-9a-f]+\) from the cluster\n {2}- on controller-2: stop and disable etcd\.service, move \/var\/lib\/etcd to \/var\/lib\/etcd\.removed-\d{8}T\d{6}Z/);
      const moved = /moved \/var\/lib\/etcd to (\/var\/lib\/etcd\.removed-\d{8}T\d{6}Z)/.exec(r.stdout)![1]!;
      expect(r.stdout).toMatch(/^now 2 members: quorum 2, survives 0 failures$/m);
      expect(r.stdout).toMatch(/controller-2 is still in the inventory .*: remove it there, or a later 'hardway up' adds it back/);
      expect((await memberNames(0)).map((m) => m.name).sort()).toEqual(['controller-0', 'controller-1']);
      expect(await healthyCount(0)).toBe(2);
      expect((await sshRun(2, 'systemctl is-enabled etcd; systemctl is-active etcd')).stdout.split('\n').slice(0, 2)).toEqual(['disabled', 'inactive']);
      expect((await sshOk(2, `ls ${moved}/member`)).split('\n')).toContain('wal');
      expect((await sshRun(2, 'test -e /var/lib/etcd')).exitCode).toBe(1);
      expect((await ectl(['get', 'before-remove', '--print-value-only'])).stdout).toBe('kept');
    });

    it('→ member replace controller-2 on its wiped machine → 3 healthy members, data replicated, the new member promoted', async () => {
      await wipeNode(2);
      const r = await hw(['member', 'replace', 'controller-2', '--yes']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^added controller-2 \([0-9a-f]+\) as a learner$/m);
      expect(r.stdout).toMatch(/^controller-2: caught up, promoted to a voting member$/m);
      expect(r.stdout).toMatch(/^now 3 members: quorum 2, survives 1 failure$/m);
      expect(await healthyCount(1)).toBe(3);
      const list = JSON.parse((await hw(['member', 'list', '--json'])).stdout) as { members: { name: string; isLearner: boolean; status: string }[] };
      expect(list.members.find((m) => m.name === 'controller-2')).toMatchObject({ isLearner: false, status: 'started' });
      // Replicated: the member's own copy, read without asking the leader.
      expect((await etcdctl(2, 'get before-remove --print-value-only --consistency=s', 'https://127.0.0.1:2379')).stdout.trim()).toBe('kept');
      expect(await sshOk(2, 'cat /etc/systemd/system/etcd.service')).toMatch(/--initial-cluster-state[= ]existing/);
    });
  });

  describe('hardway member replace', () => {
    it('replaces a member whose machine was re-imaged while the cluster still has it', async () => {
      await ectl(['put', 'before-reimage', 'kept']);
      const oldId = await memberId('controller-1');
      await wipeNode(1);
      const r = await hw(['member', 'replace', 'controller-1', '--yes']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^removed member controller-1 \\(${oldId}\\)$`, 'm'));
      expect(await healthyCount(0)).toBe(3);
      expect(await memberId('controller-1')).not.toBe(oldId);
      expect((await etcdctl(1, 'get before-reimage --print-value-only --consistency=s', 'https://127.0.0.1:2379')).stdout.trim()).toBe('kept');
    });
  });

  describe('hardway reset', () => {
    it('takes controller-2 out of the 3-member cluster (unit disabled, data moved aside); --purge then removes the installed files', async () => {
      const r = await hw(['reset', 'controller-2', '--yes']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const moved = /moved \/var\/lib\/etcd to (\/var\/lib\/etcd\.removed-\d{8}T\d{6}Z)/.exec(r.stdout)![1]!;
      expect((await memberNames(0)).map((m) => m.name).sort()).toEqual(['controller-0', 'controller-1']);
      expect(await healthyCount(0)).toBe(2);
      expect((await sshRun(2, 'systemctl is-enabled etcd')).stdout.trim()).toBe('disabled');
      expect((await sshOk(2, `ls ${moved}/member`)).split('\n')).toContain('wal');

      const purge = await hw(['reset', 'controller-2', '--purge', '--yes']);
      expect(purge.exitCode, purge.stdout + purge.stderr).toBe(0);
      expect(purge.stderr).toMatch(/controller-2 is not a member: no membership to remove/);
      for (const f of MANAGED_FILES) expect((await sshRun(2, `test -e ${f}`)).exitCode, f).toBe(1);
      expect((await sshRun(2, `test -d ${moved}`)).exitCode).toBe(0);
      expect((await memberNames(0)).map((m) => m.name).sort()).toEqual(['controller-0', 'controller-1']);
    });
  });

  // Last: it needs a cluster of its own, with a small quota.
  describe('NOSPACE', () => {
    it('doctor names it with the fix; disarm is refused while still at the quota; after compact, defrag and disarm a write succeeds', async () => {
      const small = await scratchInventory((doc) => doc.setIn(['etcd', 'extraFlags'], doc.createNode({ 'quota-backend-bytes': 4 * 1024 * 1024 })));
      const on = (args: string[]) => {
        const at = args.includes('--') ? args.indexOf('--') : args.length;
        return runHardway([...args.slice(0, at), '-i', small, ...args.slice(at)]);
      };
      await Promise.all(lab().nodes.map((n) => wipeNode(n)));
      expect((await runHardway(['up', '-i', small])).exitCode).toBe(0);
      // The same key over and over: every revision keeps its 100 kB until compaction.
      const fill = await sshRun(0, `v=$(head -c 100000 /dev/zero | tr '\\0' x); i=0; while [ $i -lt 100 ] && ${ETCDCTL()} put fill "$v" >/dev/null 2>/tmp/fill-err; do i=$((i+1)); done; echo $i; cat /tmp/fill-err`, { timeoutMs: 120_000 });
      expect(fill.stdout).toMatch(/database space exceeded/);

      const alarms = await on(['alarm', 'list']);
      expect(alarms.stdout).toMatch(/^controller-\d {2}[0-9a-f]+ +NOSPACE$/m);
      const doctor = await on(['doctor']);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toMatch(/ERROR +SPACE-01 +Database space exceeded: NOSPACE alarm active/);
      expect(doctor.stdout).toMatch(/fix +In this order: 1\. compact: `hardway etcdctl -- compact <revision>`.*2\. defragment every member: `hardway defrag`; 3\. disarm: `hardway alarm disarm`; 4\. test a write/);

      const early = await on(['alarm', 'disarm']);
      expect(early.exitCode).toBe(1);
      expect(early.stderr).toMatch(/not disarming NOSPACE: controller-\d's database is [\d.]+ MB, (9\d|1\d\d) % of the 4\.2 MB quota/);
      expect((await on(['alarm', 'list'])).stdout).toMatch(/NOSPACE/);
      // No snapshot of a cluster in that state: refused with the alarm named, nothing written.
      const save = await on(['snapshot', 'save', '--out', path.join(os.tmpdir(), `hw-nospace-${process.pid}.db`)]);
      expect(save.exitCode, save.stdout + save.stderr).toBe(1);
      expect(save.stderr).toMatch(/the cluster has active alarms \(NOSPACE on controller-\d/);
      expect(existsSync(path.join(os.tmpdir(), `hw-nospace-${process.pid}.db`))).toBe(false);

      const rev = /"revision":(\d+)/.exec((await on(['etcdctl', '--', 'endpoint', 'status', '-w', 'json'])).stdout)![1]!;
      expect((await on(['etcdctl', '--', 'compact', rev])).exitCode).toBe(0);
      const defrag = await on(['defrag']);
      expect(defrag.exitCode, defrag.stdout + defrag.stderr).toBe(0);
      const disarm = await on(['alarm', 'disarm']);
      expect(disarm.exitCode, disarm.stderr).toBe(0);
      expect(disarm.stdout).toMatch(/^disarmed NOSPACE on controller-\d/);
      expect((await on(['alarm', 'list'])).stdout.trim()).toBe('no active alarms');
      const put = await on(['etcdctl', '--', 'put', 'after-nospace', 'ok']);
      expect(put.exitCode, put.stderr).toBe(0);
      expect((await etcdctl(2, 'get after-nospace --print-value-only')).stdout.trim()).toBe('ok');
    });
  });
});
