/**
 * etcd 3.5 on a lab of its own: `lab up --etcd 3.5` packs Debian trixie's etcd-server and etcd-client into a release
 * tarball, `up` installs etcd, etcdctl and etcdutl from it, `verify` passes, and `doctor --journal` reads a 3.5
 * node's real JSON logs, and the snapshot scenario runs on it (3.5.10+ restores with --bump-revision). The lab runs next to the shared one (its own dir, bridge hwlab2 and 10.240.2.0/24, or
 * HARDWAY_E2E_ETCD35_BRIDGE / HARDWAY_E2E_ETCD35_SUBNET) and is taken down at the end, leaving nothing.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sshOptions } from '../../src/lab/node.js';
import { DEFAULT_CACHE_DIR, parseSubnet } from '../../src/lab/plan.js';
import type { LabState } from '../../src/lab/state.js';
import { debCacheDir, debRelease } from '../../src/lab/tarball.js';
import { etcdctlCommand, parseEndpointStatus } from '../../src/etcd/etcdctl.js';
import { parseJournal } from '../../src/journal/parse.js';
import { labLeftovers } from './global-setup.js';
import { describeLab, lab, requestedNet, runHardway } from './lab-helpers.js';
import { snapshotScenario } from './snapshot-scenario.js';

// hwlab2 and 10.240.2.0/24 unless told otherwise (two runs at once need a bridge and subnet each).
const BRIDGE = process.env.HARDWAY_E2E_ETCD35_BRIDGE || 'hwlab2';
const SUBNET = process.env.HARDWAY_E2E_ETCD35_SUBNET || '10.240.2.0/24';
const PREFIX = parseSubnet(SUBNET);
type DoctorJson = {
  ok: boolean;
  lines: number;
  counts: Record<string, number>;
  findings: { id: string; severity: string }[];
  elections: { summary: string; leader?: { id: string } };
};
const where = (dir: string) => ['--dir', dir, '--bridge', BRIDGE, '--subnet', SUBNET];

describeLab('etcd 3.5 (a lab of its own)', () => {
  let dir: string;
  let state: LabState;
  let inv: { etcd: { version: string; tarball: string } };
  /** Member ID (hex) by node address, from `endpoint status`. */
  const memberIds = new Map<string, string>();
  const addresses = [0, 1, 2].map((i) => `${PREFIX}.${10 + i}`);
  const ssh = async (address: string, cmd: string) => {
    const r = await execa('ssh', [...sshOptions(state, 5), `root@${address}`, cmd], { reject: false, timeout: 60_000, stdin: 'ignore' });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  beforeAll(async () => {
    const shared = requestedNet();
    if (shared.bridge === BRIDGE || parseSubnet(shared.subnet) === PREFIX) throw new Error(`the shared e2e lab is on ${BRIDGE}/${SUBNET}, which this file's lab needs`);
    dir = `${lab().dir}-etcd35`;
    // What a killed earlier run left (a no-op otherwise).
    await runHardway(['lab', 'down', ...where(dir)]);
    // The lab dir outlives a run: an earlier run's snapshots would be listed with this one's.
    await rm(path.join(dir, 'snapshots'), { recursive: true, force: true });
    const started = Date.now();
    const up = await runHardway(['lab', 'up', '--nodes', '3', '--etcd', '3.5', ...where(dir)]);
    expect(up.exitCode, up.stderr).toBe(0);
    console.log(`etcd35: lab up --etcd 3.5 in ${((Date.now() - started) / 1000).toFixed(1)} s${/fetching/.test(up.stderr) ? ' (fetched the .debs)' : ''}`);
    expect(up.stdout).toMatch(/^etcd: 3\.5\.\d+ /m);
    state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as LabState;
    inv = parse(await readFile(state.inventoryPath, 'utf8'));
  });

  afterAll(async () => {
    // Only when a test failed before the last one: that one takes the lab down and checks it.
    if (dir) await runHardway(['lab', 'down', ...where(dir)]);
  });

  it('packs trixie\'s etcd 3.5 as a release tarball, names its version in the inventory, and fetches nothing again', async () => {
    expect(inv.etcd.version).toMatch(/^3\.5\.\d+$/);
    expect(path.basename(inv.etcd.tarball)).toBe(`etcd-v${inv.etcd.version}-linux-amd64.tar.gz`);
    expect(state.etcd).toBe('3.5');
    const list = (await execa('tar', ['-tzf', inv.etcd.tarball])).stdout.split('\n').sort();
    const top = `etcd-v${inv.etcd.version}-linux-amd64`;
    expect(list).toEqual([`${top}/`, `${top}/README.md`, `${top}/etcd`, `${top}/etcdctl`, `${top}/etcdutl`]);
    // The cache holds the pair of .debs and the tarball: asked again, it fetches and packs nothing.
    const cache = process.env.HARDWAY_LAB_CACHE ?? DEFAULT_CACHE_DIR;
    expect(path.dirname(inv.etcd.tarball)).toBe(debCacheDir(cache));
    expect(await debRelease(cache, { fetch: () => Promise.reject(new Error('fetched again')) })).toEqual({
      path: inv.etcd.tarball,
      version: inv.etcd.version,
      built: false,
      fetched: false,
    });
    const again = await runHardway(['lab', 'up', '--etcd', '3.5', ...where(dir)]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already up/);
    expect(again.stderr).not.toMatch(/fetching/);
  });

  it('up installs etcdutl next to etcd and etcdctl, and every member runs 3.5', async () => {
    const started = Date.now();
    const r = await runHardway(['up', '-i', state.inventoryPath]);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    console.log(`etcd35: hardway up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const top = path.basename(inv.etcd.tarball).replace(/\.tar\.gz$/, '');
    const want = createHash('sha256')
      .update((await execa('tar', ['-xzOf', inv.etcd.tarball, `${top}/etcdutl`], { encoding: 'buffer' })).stdout)
      .digest('hex');
    for (const a of addresses) {
      const st = await ssh(a, 'stat -c "%a %U" /usr/local/bin/etcdutl && sha256sum /usr/local/bin/etcdutl && /usr/local/bin/etcdutl version');
      expect(st.exitCode, st.stderr).toBe(0);
      expect(st.stdout).toContain('755 root');
      expect(st.stdout).toContain(`${want}  /usr/local/bin/etcdutl`);
      expect(st.stdout).toContain(`etcdutl version: ${inv.etcd.version}`);
    }
    const endpoints = addresses.map((a) => `https://${a}:2379`);
    const status = await ssh(addresses[1]!, etcdctlCommand(endpoints, ['endpoint', 'status', '-w', 'json']));
    expect(status.exitCode, status.stderr).toBe(0);
    const members = parseEndpointStatus(status.stdout);
    expect(members.map((m) => m.version)).toEqual([inv.etcd.version, inv.etcd.version, inv.etcd.version]);
    for (const m of members) memberIds.set(new URL(m.endpoint).hostname, m.memberId);
    // A second run has nothing to send: etcdutl's sum is known like the others'.
    const second = await runHardway(['up', '-i', state.inventoryPath]);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/nothing changed/);
  });

  it('verify passes: three started 3.5 members, one leader, all healthy, no problem', async () => {
    const r = await runHardway(['verify', '-i', state.inventoryPath]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Quorum: 3/3 healthy: can survive 1 more failure');
    // Warnings (a slow apply on a loaded 2-core machine) are the journal's, not the cluster's: no error is the rule.
    expect(r.stdout).not.toMatch(/✗/);
    const j = JSON.parse((await runHardway(['verify', '-i', state.inventoryPath, '--json'])).stdout) as {
      ok: boolean;
      members: { name: string; started: boolean }[];
      status: { status?: { version: string; isLeader: boolean } }[];
      health: { health: boolean }[];
      problems: { severity: string }[];
    };
    expect(j.ok).toBe(true);
    expect(j.members.map((m) => [m.name, m.started]).sort()).toEqual([0, 1, 2].map((i) => [`controller-${i}`, true]));
    expect(j.status.map((s) => s.status?.version)).toEqual([inv.etcd.version, inv.etcd.version, inv.etcd.version]);
    expect(j.status.filter((s) => s.status?.isLeader)).toHaveLength(1);
    expect(j.health.map((h) => h.health)).toEqual([true, true, true]);
    expect(j.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it("doctor --journal reads a 3.5 node's JSON journal: every line recognised, no error on a healthy cluster", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'hw-etcd35-journal-'));
    try {
      const j = await ssh(addresses[0]!, 'journalctl -u etcd -o json --no-pager');
      expect(j.exitCode, j.stderr).toBe(0);
      const file = path.join(tmp, 'controller-0.json');
      await writeFile(file, j.stdout);
      const entries = parseJournal(j.stdout, { file });
      expect(entries).toHaveLength(j.stdout.trim().split('\n').length);
      // Every line is etcd's or systemd's (the unit starting): none is left as unknown text.
      expect(entries.filter((e) => e.source === 'other').map((e) => e.raw)).toEqual([]);
      const etcdLines = entries.filter((e) => e.source === 'etcd');
      // 3.5 logs zap JSON: each etcd line is read as such, with its level and message.
      expect(etcdLines.length).toBeGreaterThan(20);
      expect(etcdLines.every((e) => e.envelope === 'json' && e.format === 'zap' && e.level !== undefined && e.message !== '')).toBe(true);
      expect(etcdLines.some((e) => /ready to serve client requests|serving client traffic securely/.test(e.message))).toBe(true);
      const r = await runHardway(['doctor', '--journal', file, '--json']);
      const report = JSON.parse(r.stdout) as DoctorJson;
      expect(report.lines).toBe(j.stdout.trim().split('\n').length);
      expect(report.counts.error, JSON.stringify(report.findings)).toBe(0);
      expect(r.exitCode, JSON.stringify(report.findings)).toBe(0);
      // The bootstrap election, read from 3.5's raft lines: the leader it names is a member of this cluster.
      expect([...memberIds.values()]).toContain(report.elections.leader?.id);
      expect(report.elections.summary).toMatch(/elected/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("doctor --journal names a stopped member as unreachable from a peer's 3.5 journal (PEER-01): a warning, exit 1 only with --strict", async () => {
    const [peer, stopped] = [addresses[0]!, addresses[2]!];
    expect((await ssh(stopped, 'systemctl stop etcd')).exitCode).toBe(0);
    // etcd's prober reports a peer it cannot dial after some seconds (~25 s here).
    const seen = async () => (await ssh(peer, 'journalctl -u etcd -o cat --no-pager | grep -c "prober detected unhealthy status"')).stdout.trim() !== '0';
    const end = Date.now() + 90_000;
    while (!(await seen())) {
      if (Date.now() > end) throw new Error(`no 'prober detected unhealthy status' on ${peer} within 90 s of stopping ${stopped}`);
      await new Promise((res) => setTimeout(res, 2000));
    }
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'hw-etcd35-journal-'));
    try {
      const file = path.join(tmp, 'controller-0.json');
      await writeFile(file, (await ssh(peer, 'journalctl -u etcd -o json --no-pager')).stdout);
      const r = await runHardway(['doctor', '--journal', file, '--json']);
      // A warning: printed apart and exit 0; --strict (CI) makes it fail.
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect((await runHardway(['doctor', '--journal', file, '--strict'])).exitCode).toBe(1);
      const report = JSON.parse(r.stdout) as DoctorJson;
      expect(report.findings.find((f) => f.id === 'PEER-01')?.severity).toBe('warning');
      const unreachable = report.findings.find((f) => f.id === 'PEER-01');
      expect(unreachable, JSON.stringify(report.findings)).toBeDefined();
      expect(JSON.stringify(unreachable)).toContain(memberIds.get(stopped));
      expect(report.counts.error, JSON.stringify(report.findings)).toBe(0);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('the stopped member starts again: three healthy members for the snapshot tests', async () => {
    expect((await ssh(addresses[2]!, 'systemctl start etcd')).exitCode).toBe(0);
    const r = await runHardway(['verify', '-i', state.inventoryPath]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  // The lab's own inventory: restore writes its new token there, and the lab goes at the end.
  snapshotScenario({
    label: '3.5',
    ssh: (i, cmd) => ssh(addresses[i]!, cmd),
    addresses: () => addresses,
    inventory: () => state.inventoryPath,
    bump: true,
  });

  it('lab down leaves no process, mount or interface of it behind', async () => {
    const down = await runHardway(['lab', 'down', ...where(dir)]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labLeftovers(dir, BRIDGE, PREFIX)).toEqual([]);
    dir = '';
  });
});
