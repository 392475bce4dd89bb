/**
 * Node faults in the middle of a flow: a node's link cut during `up`'s rolling restart, the leader's etcd frozen
 * (SIGSTOP) during `member replace` of another member, a full data dir during `up`, a full /var/tmp during `snapshot
 * save`. Each must stop with a reason naming the node, keep the cluster's quorum (a writer through the endpoints the
 * fault spares sees no failed write), and converge once the fault is gone: the same command exits 0, `up` then
 * changes nothing, and every acknowledged write is on every member.
 *
 * The fault comes at an exact step boundary: hardway is stopped there (HARDWAY_FAILPOINT_ACTION=stop), the fault
 * done, and the run let go on. All cases share the e2e lab and one cluster (the matrix's helpers), each gives it back
 * healthy; what a killed run of this file left (a cut link, a frozen etcd, a small disk) is undone first.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scratchInventory } from '../e2e/etcd-helpers.js';
import {
  cutLink,
  describeLab,
  fillDisk,
  freeDisk,
  freezeEtcd,
  lab,
  mountSmallDisk,
  restoreLink,
  sshOk,
  thawEtcd,
  unmountSmallDisk,
  waitUntil,
  wipeNode,
} from '../e2e/lab-helpers.js';
import { allNodes, commentsOf, hardway, hardwayStoppedAt, inventoryProblems, memberEndpoints, missingOnMembers, nodeLeftovers, startWriter, type Run, type Writer } from './fault-helpers.js';

const DATA_DIR = '/var/lib/etcd';

/**
 * The cases by name. `npm test` runs DEFAULT_CASES (their time is the suite's budget: see the README); HARDWAY_FAULTS=full
 * runs all, and a list naming some (HARDWAY_FAULTS=node-disk-up,node-link) those.
 */
const CASES = ['node-link', 'node-frozen', 'node-disk-up', 'node-disk-save'] as const;
const DEFAULT_CASES: readonly string[] = ['node-frozen', 'node-disk-save'];
const asked = process.env.HARDWAY_FAULTS === 'full' ? [...CASES] : (process.env.HARDWAY_FAULTS?.split(',').filter((c) => (CASES as readonly string[]).includes(c)) ?? []);
const runs = (name: (typeof CASES)[number]) => (asked.length ? asked.includes(name) : DEFAULT_CASES.includes(name));
const caseIt = (name: (typeof CASES)[number], title: string, fn: () => Promise<void>, timeoutMs: number) => (runs(name) ? it : it.skip)(`${name}: ${title}`, fn, timeoutMs);
/** How long `up` and `member replace` wait for health here: a fault is seen in seconds, not in the default minute. */
const WAIT = ['--wait', '20'];

let inventory = '';
let comments: string[] = [];
let heartbeat = 100;
const times: string[] = [];

const up = () => ['up', '-i', inventory, ...WAIT];
const nothingChanged = (r: Run) => r.exitCode === 0 && /nothing changed/.test(r.stdout);
const said = (r: Run) => `${r.stdout}\n${r.stderr}`;
const endpointOf = (name: string) => `https://${lab().nodes.find((n) => n.name === name)!.address}:2379`;
const endpointsBut = (...names: string[]) => allNodes().filter((n) => !names.includes(n)).map(endpointOf).join(',');

async function setHeartbeat(ms: number): Promise<void> {
  const text = await readFile(inventory, 'utf8');
  await writeFile(inventory, text.replace(/heartbeatInterval: \d+/, `heartbeatInterval: ${ms}`));
  heartbeat = ms;
}

const ETCDCTL = 'ETCDCTL_API=3 /usr/local/bin/etcdctl --cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem --command-timeout=3s';

/** The leader's name as the members `via` can reach say it (undefined while there is none). */
async function leaderSeenBy(via: string, endpoints = endpointsBut()): Promise<string | undefined> {
  const out = await sshOk(via, `${ETCDCTL} --endpoints=${endpoints} endpoint status -w simple 2>/dev/null || true`);
  const url = out.split('\n').find((l) => l.split(', ')[4] === 'true')?.split(', ')[0];
  return lab().nodes.find((n) => url === `https://${n.address}:2379`)?.name;
}

/** The healthy endpoints among `endpoints`, asked through `via`. */
async function healthyAmong(via: string, endpoints: string): Promise<number> {
  const out = await sshOk(via, `${ETCDCTL} --endpoints=${endpoints} endpoint health 2>&1 || true`);
  return out.split('\n').filter((l) => / is healthy/.test(l)).length;
}

/** Every inventory node a started, healthy member, as the inventory says: `up`, and as a last resort a new cluster. */
async function healthy(): Promise<void> {
  const ok = async () => (await memberEndpoints(0).catch(() => [])).length === allNodes().length && (await healthyAmong(allNodes()[0]!, endpointsBut())) === allNodes().length;
  // `up` always: the cluster is then as this file's inventory says (a case that failed may have left a unit half rolled).
  if ((await hardway(up())).exitCode === 0 && (await ok())) return;
  await Promise.all(allNodes().map((n) => wipeNode(n)));
  const r = await hardway(up());
  if (r.exitCode !== 0 || !(await ok())) throw new Error(`the lab cluster could not be brought back: ${said(r)}`);
}

/** Every member healthy again (a case's clean-up restarts etcd without waiting). */
const settled = () => waitUntil(async () => (await healthyAmong(allNodes()[0]!, endpointsBut())) === allNodes().length, 60_000);

/** Undoes every fault this file makes, also those a killed run of it left behind. */
async function undoFaults(): Promise<void> {
  for (const n of allNodes()) {
    await restoreLink(n);
    await thawEtcd(n);
    await unmountSmallDisk(n, DATA_DIR, { unit: 'etcd' });
    await unmountSmallDisk(n, '/var/tmp');
  }
}

/** Re-run, then once more: the first exits 0, the second changes nothing; and the writers' keys are on every member. */
async function converges(again: string[], writers: { writer: string; prefix: string; acked: number[] }[]): Promise<void> {
  const rerun = await hardway(again);
  expect(rerun.exitCode, said(rerun)).toBe(0);
  const once = await hardway(up());
  expect(nothingChanged(once), said(once)).toBe(true);
  for (const w of writers) expect(await missingOnMembers(w.writer, w.prefix, w.acked)).toEqual({});
  expect(await inventoryProblems(inventory, comments)).toEqual([]);
}

const prefixOf = (what: string) => `nodefault/${what}/${Date.now().toString(36)}/`;

describeLab('node faults during flows', () => {
  beforeAll(async () => {
    inventory = await scratchInventory((doc) => {
      doc.commentBefore = ' node-fault inventory: every comment here must survive every flow';
      doc.setIn(['etcd', 'heartbeatInterval'], 100);
    });
    comments = commentsOf(await readFile(inventory, 'utf8'));
    await undoFaults();
    await healthy();
  }, 300_000);

  afterAll(async () => {
    await undoFaults();
    if (heartbeat !== 100) await setHeartbeat(100);
    await healthy();
    console.log(`node faults:\n${times.join('\n')}`);
  }, 300_000);

  caseIt('node-link', "a node's link cut in the middle of a rolling restart: up stops naming it, quorum kept, converges once the link is back", async () => {
    const started = Date.now();
    await settled();
    const leader = (await leaderSeenBy(allNodes()[0]!))!;
    // Followers go first, in inventory order: the cut one is the second restarted, after the first came back.
    const [, cut] = allNodes().filter((n) => n !== leader);
    const via = allNodes().find((n) => n !== cut)!;
    const writer: Writer = startWriter(via, prefixOf('link'), endpointsBut(cut!));
    await setHeartbeat(heartbeat === 100 ? 150 : 100);
    const run = await hardwayStoppedAt(up(), `up:rolling-restart@${cut}:before`, () => cutLink(cut!)).finally(() => undefined);
    const { acked, failed } = await writer.stop();
    expect(run.stopped, said(run)).toBe(true);
    expect(run.exitCode, said(run)).toBe(1);
    expect(said(run)).toMatch(new RegExp(`stopping the rolling restart: ${cut} `));
    expect(said(run)).toMatch(new RegExp(`^${cut}\\s+failed: ${cut}: .*SSH connection was lost`, 'm'));
    // The leader was not restarted after the failure; the two members the cut spares kept the quorum.
    expect(said(run)).not.toMatch(new RegExp(`restarting etcd on ${leader}`));
    expect(failed, `writes failed through ${endpointsBut(cut!)}`).toEqual([]);
    expect(acked.length).toBeGreaterThan(0);
    expect(await healthyAmong(via, endpointsBut(cut!))).toBe(2);

    await restoreLink(cut!);
    await waitUntil(async () => (await healthyAmong(via, endpointsBut())) === 3, 60_000);
    const after = startWriter(via, prefixOf('link-after'));
    try {
      await converges(up(), [{ writer: via, prefix: writer.prefix, acked }]);
    } finally {
      const w = await after.stop();
      expect(w.failed, 'writes failed during the converging runs').toEqual([]);
      expect(await missingOnMembers(via, after.prefix, w.acked)).toEqual({});
    }
    times.push(`link cut during a rolling restart: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 600_000);

  caseIt('node-frozen', "the leader's etcd frozen during member replace of another member: replace stops before removing it, converges once thawed", async () => {
    const started = Date.now();
    await settled();
    const leader = (await leaderSeenBy(allNodes()[0]!))!;
    const [target, other] = allNodes().filter((n) => n !== leader) as [string, string];
    const spared = endpointsBut(leader);
    const writer = startWriter(other, prefixOf('frozen'), spared);
    const replace = ['member', 'replace', target, '--yes', '-i', inventory, ...WAIT];
    let run: Run & { stopped: boolean };
    try {
      // Frozen once the pre-replace snapshot is saved, just before the old member would be removed; the run goes on
      // once the other two have elected a leader of their own (the frozen one no longer counts).
      run = await hardwayStoppedAt(replace, 'member-replace:remove-the-old-member:before', async () => {
        await freezeEtcd(leader);
        await waitUntil(async () => !!(await leaderSeenBy(other, spared)), 30_000);
      });
      expect(run.stopped, said(run)).toBe(true);
      expect(run.exitCode, said(run)).toBe(1);
      // Removing the target would leave the frozen leader and one member: no quorum. Refused, naming who is down.
      expect(said(run)).toMatch(new RegExp(`removing ${target} \\(\\w+\\) now is refused: .*1 not \\(${leader}\\).*nothing was removed`));
      expect((await memberEndpoints(other)).map((m) => m.name).sort()).toEqual([...allNodes()].sort());
      // With the leader still frozen, the two others keep the quorum: writes through them go on.
      const still = startWriter(other, prefixOf('frozen-still'), spared);
      await new Promise((r) => setTimeout(r, 3000));
      const s = await still.stop();
      expect(s.failed, 'writes failed with the leader frozen after replace stopped').toEqual([]);
      expect(s.acked.length).toBeGreaterThan(0);
    } finally {
      await thawEtcd(leader);
    }
    const { acked } = await writer.stop();
    await waitUntil(async () => (await healthyAmong(other, endpointsBut())) === 3, 60_000);
    await converges(replace, [{ writer: other, prefix: writer.prefix, acked }]);
    times.push(`leader frozen during member replace: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 600_000);

  caseIt('node-disk-up', 'a full data dir during up: up stops naming the node and ENOSPC, quorum kept, converges once space is freed', async () => {
    const started = Date.now();
    await settled();
    const leader = (await leaderSeenBy(allNodes()[0]!))!;
    const full = allNodes().find((n) => n !== leader)!;
    const via = allNodes().find((n) => n !== full)!;
    try {
      // Room for what etcd preallocates as it starts (its next 64 MB WAL segment), and a little more.
      await mountSmallDisk(full, DATA_DIR, 80, { unit: 'etcd' });
      await waitUntil(async () => (await healthyAmong(via, endpointsBut())) === 3, 60_000);
      const writer = startWriter(via, prefixOf('full'), endpointsBut(full));
      await fillDisk(full, DATA_DIR);
      await setHeartbeat(heartbeat === 100 ? 150 : 100);
      const run = await hardway(up());
      const { acked, failed } = await writer.stop();
      expect(run.exitCode, said(run)).toBe(1);
      expect(said(run)).toMatch(new RegExp(`^${full}\\s+failed: .*its journal: .*no space left on device.*its disk is full`, 'm'));
      expect(failed, `writes failed through ${endpointsBut(full)}`).toEqual([]);
      expect(await healthyAmong(via, endpointsBut(full))).toBe(2);

      await freeDisk(full, DATA_DIR);
      await converges(up(), [{ writer: via, prefix: writer.prefix, acked }]);
    } finally {
      await unmountSmallDisk(full, DATA_DIR, { unit: 'etcd' });
    }
    times.push(`full data dir during up: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 600_000);

  caseIt('node-disk-save', "a full /var/tmp on the leader during snapshot save: it stops naming the node and ENOSPC, leaves no temp file, saves once space is freed", async () => {
    const started = Date.now();
    await settled();
    const leader = (await leaderSeenBy(allNodes()[0]!))!;
    const save = ['snapshot', 'save', '-i', inventory];
    try {
      await mountSmallDisk(leader, '/var/tmp', 1);
      await fillDisk(leader, '/var/tmp');
      const run = await hardway(save);
      expect(run.exitCode, said(run)).toBe(1);
      expect(said(run)).toMatch(new RegExp(`${leader}.*no space left on device`, 'i'));
      expect(await nodeLeftovers(leader)).toEqual([]);
      expect(await healthyAmong(allNodes()[0]!, endpointsBut())).toBe(3);

      await freeDisk(leader, '/var/tmp');
      const again = await hardway(save);
      expect(again.exitCode, said(again)).toBe(0);
      expect(await nodeLeftovers(leader)).toEqual([]);
    } finally {
      await unmountSmallDisk(leader, '/var/tmp');
    }
    times.push(`full /var/tmp during snapshot save: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 300_000);
});
