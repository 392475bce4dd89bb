/**
 * No false alarms: what `verify` and `doctor` conclude must be what holds now, on the lab's real cluster. A fresh
 * start-up, a member restarted and two `leader move`s are a healthy cluster's everyday life (no warning); a member
 * stopped is named; a key the nodes refuse and nodes whose sshd is stopped are "not observed", never a quorum verdict.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import { scratchInventory } from './etcd-helpers.js';
import { describeLab, inNode, lab, runHardway, sshOk, sshRun, waitUntil, wipeNode } from './lab-helpers.js';

const inv = () => lab().inventoryPath;
const hw = (...args: string[]) => runHardway(args, { timeoutMs: 300_000 });

interface Problem {
  check: string;
  node?: string;
  severity: string;
  message: string;
}
interface Finding {
  id: string;
  severity: string;
  title: string;
  hosts: string[];
}

/** `verify --json`: its exit, ok and the problems it lists. */
async function verifyJson(): Promise<{ exitCode: number; ok: boolean; problems: Problem[]; raw: string }> {
  const r = await hw('verify', '-i', inv(), '--json');
  const j = JSON.parse(r.stdout) as { ok: boolean; problems: Problem[] };
  return { exitCode: r.exitCode, ok: j.ok, problems: j.problems, raw: r.stdout + r.stderr };
}

async function doctorJson(): Promise<{ exitCode: number; ok: boolean; findings: Finding[]; raw: string }> {
  const r = await hw('doctor', '-i', inv(), '--json');
  const j = JSON.parse(r.stdout) as { ok: boolean; findings: Finding[] };
  return { exitCode: r.exitCode, ok: j.ok, findings: j.findings, raw: r.stdout + r.stderr };
}

const leaderName = async (): Promise<string> => {
  const r = await hw('member', 'list', '-i', inv(), '--json');
  const j = JSON.parse(r.stdout) as { members: { name: string; isLeader: boolean }[] };
  const leader = j.members.find((m) => m.isLeader);
  expect(leader, r.stdout).toBeDefined();
  return leader!.name;
};

describeLab('what verify and doctor conclude', () => {
  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    const r = await hw('up', '-i', inv());
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  it('right after a start-up, a restart of the leader and two leader moves: exit 0 and no warning', async () => {
    // The leader's restart: etcd hands its leadership over as it stops; the others see it go and come back.
    const leader = await leaderName();
    await sshOk(leader, 'systemctl restart etcd', { timeoutMs: 60_000 });
    await waitUntil(async () => (await hw('verify', '-i', inv())).exitCode === 0, 60_000, 1000);
    for (let i = 0; i < 2; i++) {
      const m = await hw('leader', 'move', '-i', inv());
      expect(m.exitCode, m.stdout + m.stderr).toBe(0);
      expect(m.stdout).toMatch(/leader after: /);
    }
    const v = await verifyJson();
    expect(v.exitCode, v.raw).toBe(0);
    expect(v.ok).toBe(true);
    expect(v.problems, v.raw).toEqual([]);
    const d = await doctorJson();
    expect(d.exitCode, d.raw).toBe(0);
    expect(d.findings.filter((f) => f.severity !== 'info'), d.raw).toEqual([]);
    // What the journals hold about it is history or nothing: never ELECT-FLAP for hardway's own transfers.
    expect(d.findings.map((f) => f.id)).not.toContain('ELECT-FLAP');
    const text = await hw('verify', '-i', inv());
    expect(text.stdout).toContain('All checks passed.');
    expect(text.stdout).not.toMatch(/^(Errors|Warnings) \(/m);
  });

  it('with one member stopped both exit 1 and name it, as errors', async () => {
    await sshOk(2, 'systemctl stop etcd', { timeoutMs: 60_000 });
    try {
      const v = await hw('verify', '-i', inv());
      expect(v.exitCode, v.stdout + v.stderr).toBe(1);
      const errors = v.stdout.slice(v.stdout.search(/^Errors \(\d+\):$/m));
      expect(errors, v.stdout).toMatch(/^Errors \(\d+\):\n(  ✗ .*\n)*  ✗ controller-2: /);
      expect(v.stderr).toMatch(/verify: \d+ errors?\b.*on .*controller-2/);
      const d = await doctorJson();
      expect(d.exitCode, d.raw).toBe(1);
      expect(d.ok).toBe(false);
      const cluster = d.findings.find((f) => f.id === 'CLUSTER');
      expect(cluster?.severity).toBe('error');
      expect(cluster?.hosts).toContain('controller-2');
    } finally {
      await sshOk(2, 'systemctl start etcd', { timeoutMs: 60_000 });
    }
  });

  it('a key the nodes refuse: exit 2 naming the key, and no quorum line', async () => {
    const key = `${lab().dir}/refused-key`;
    execFileSync('sh', ['-c', `rm -f '${key}' '${key}.pub' && ssh-keygen -q -t ed25519 -N '' -f '${key}'`]);
    const refused = await scratchInventory((doc) => doc.setIn(['ssh', 'identityFile'], key));
    for (const cmd of ['verify', 'doctor']) {
      const r = await hw(cmd, '-i', refused);
      expect(r.exitCode, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(`key ${key} not accepted for user root`);
      expect(r.stderr).toMatch(/could not be observed/);
      expect(r.stdout + r.stderr).not.toMatch(/quorum/i);
    }
  });

  it('every sshd stopped while etcd runs: the cluster could not be observed (exit 1), and nothing said about quorum', async () => {
    await Promise.all(lab().nodes.map((n) => inNode(n, 'systemctl stop ssh.socket ssh.service 2>/dev/null; true')));
    try {
      for (const cmd of ['verify', 'doctor']) {
        const r = await hw(cmd, '-i', inv());
        expect(r.exitCode, r.stdout + r.stderr).toBe(1);
        expect(r.stderr).toMatch(/the cluster could not be observed: no node answered over SSH/);
        expect(r.stderr).toMatch(/connection refused/);
        expect(r.stdout + r.stderr).not.toMatch(/quorum|down\b/i);
      }
    } finally {
      await Promise.all(lab().nodes.map((n) => inNode(n, 'systemctl start ssh.service')));
      await waitUntil(async () => (await Promise.all(lab().nodes.map((n) => sshRun(n, 'true', { connectTimeoutS: 2 })))).every((r) => r.exitCode === 0), 30_000, 500);
    }
    // etcd ran all along.
    expect((await hw('verify', '-i', inv())).exitCode).toBe(0);
  });
});
