/**
 * The fault matrix: each destructive flow killed (SIGKILL, through HARDWAY_FAILPOINT) at its step boundaries, then run
 * again. Each cell checks that the killed run died where it was told, the re-run exits 0, one more run changes
 * nothing, every write a background writer had acknowledged is on every member, no file under a data dir was deleted
 * (moved-aside dirs count), no temp file is left on a node or here, and the inventory is valid with its comments.
 *
 * All cells share the e2e lab and one cluster: each scenario starts from a healthy 3-member cluster and gives one
 * back. The points come from the code: a scenario runs once with `HARDWAY_FAILPOINT=trace` and every point it passed
 * becomes a cell, so a new step is in the matrix without editing it. `npm test` runs a representative subset (SUBSET
 * below: one kill in the middle of each destructive change); HARDWAY_FAULTS=full runs every point of every scenario
 * here (HARDWAY_FAULTS=remove,replace: of those scenarios; restore:steps: only the points of its steps, not of each
 * host's part). The table printed at the end says, per cell, what held and how long it took. A snapshot restore, by
 * design, drops what was written after its snapshot: its cells have no writer and check the snapshot's own keys instead.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEndpoints, ETCDCTL_TLS, scratchInventory } from '../e2e/etcd-helpers.js';
import { describeLab, lab, sshOk, wipeNode } from '../e2e/lab-helpers.js';
import {
  allNodes,
  commentsOf,
  dataFiles,
  failpointsOf,
  passedPoints,
  hardway,
  inventoryProblems,
  localLeftovers,
  lostFiles,
  memberEndpoints,
  missingOnMembers,
  nodeLeftovers,
  startWriter,
  type Run,
  type Writer,
} from './fault-helpers.js';

const FAMILIES = ['rolling', 'remove', 'remove-snapshot', 'replace', 'reset', 'rejoin', 'bootstrap', 'restore', 'recover', 'renew', 'rotate-ca'];
/**
 * HARDWAY_FAULTS=full: every scenario at every point; a list of scenario names (remove,replace): those only, and a name
 * with `:steps` (recover:steps) only its steps' points, not each host's part of them. Names that are not the matrix's
 * (node-faults.test.ts's cases) are left to their file.
 */
const entries = process.env.HARDWAY_FAULTS === 'full' ? FAMILIES : (process.env.HARDWAY_FAULTS?.split(',').filter((e) => FAMILIES.includes(e.replace(/:steps$/, ''))) ?? []);
const chosen = entries.map((e) => e.replace(/:steps$/, ''));
const stepsOnly = new Set(entries.filter((e) => e.endsWith(':steps')).map((e) => e.replace(/:steps$/, '')));
const FULL = chosen.length > 0;
const TARGET = 'controller-2';
/** The writer's node: never the one a scenario takes out. */
const WRITER = 'controller-0';

interface Cell {
  flow: string;
  point: string;
  killed: boolean;
  converged: boolean;
  writes: string;
  problems: string[];
  seconds: number;
}
const cells: Cell[] = [];

interface Scenario {
  /** The row's name: the flow and what it was doing. */
  flow: string;
  /** The command, killed and then run again as it was. */
  args: () => string[];
  /** Puts the cluster where the flow has work to do (a wiped node, a changed inventory). */
  setup?: () => Promise<void>;
  /** The run after the re-run, which must change nothing; and how its output says so. */
  again: () => string[];
  unchanged: (r: Run) => boolean;
  /** Back to a healthy 3-member cluster of every inventory node. */
  restore?: () => Promise<void>;
  /** No cluster before the flow (a bootstrap): nothing to write through it. */
  noWriter?: boolean;
  /** The points are those of the flows it runs inside its own (the snapshot a removal takes first). */
  nested?: boolean;
  /** What else must hold once it converged (a restore's keys): the problems, none when all is well. */
  verify?: () => Promise<string[]>;
}

let inventory = '';
let comments: string[] = [];
/** The lab's cluster token: a restore writes a new one into the inventory, given back at the end. */
let labToken = '';
/** The heartbeat the scenario's inventory asks for: a rolling cell flips it, so there is a change to roll. */
let heartbeat = 100;

const setHeartbeat = async (ms: number) => {
  const text = await readFile(inventory, 'utf8');
  await writeFile(inventory, text.replace(/heartbeatInterval: \d+/, `heartbeatInterval: ${ms}`));
  heartbeat = ms;
};

const tokenOf = (text: string) => /^\s*token: (.*)$/m.exec(text)?.[1]?.trim() ?? '';
const nothingChanged = (r: Run) => r.exitCode === 0 && /nothing changed/.test(r.stdout);
const up = () => ['up', '-i', inventory];

/** Healthy with every inventory node a started member, else brought there: `up`, and as a last resort a new cluster. */
async function healthy(): Promise<void> {
  const ok = async () => (await memberEndpoints(WRITER).catch(() => [])).length === allNodes().length;
  if ((await hardway(up())).exitCode === 0 && (await ok())) return;
  await Promise.all(allNodes().map((n) => wipeNode(n)));
  const r = await hardway(up());
  if (r.exitCode !== 0 || !(await ok())) throw new Error(`the lab cluster could not be brought back: ${r.stdout}${r.stderr}`);
}

const RESTORE_KEYS = 'fault-restore/';
let restoreFile = '';

/** The snapshot the restore cells restore (taken once): keys RESTORE_KEYS k1…k5 in it. */
async function restoreSource(): Promise<void> {
  if (restoreFile) return;
  for (let i = 1; i <= 5; i++) await sshOk(WRITER, `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${allEndpoints()} ${ETCDCTL_TLS} put ${RESTORE_KEYS}k${i} v${i} >/dev/null`);
  const file = path.join(path.dirname(inventory), 'restore-source.db');
  const r = await hardway(['snapshot', 'save', '--out', file, '-i', inventory]);
  if (r.exitCode !== 0) throw new Error(`the restore cells' snapshot could not be saved: ${r.stdout}${r.stderr}`);
  restoreFile = file;
}

const SCENARIOS: Record<string, Scenario> = {
  rejoin: {
    flow: 'up: re-add a wiped member',
    setup: () => wipeNode(TARGET),
    args: up,
    again: up,
    unchanged: nothingChanged,
  },
  rolling: {
    flow: 'up: rolling restart',
    setup: () => setHeartbeat(heartbeat === 100 ? 150 : 100),
    args: up,
    again: up,
    unchanged: nothingChanged,
  },
  remove: {
    flow: 'member remove',
    args: () => ['member', 'remove', TARGET, '--yes', '-i', inventory],
    again: () => ['member', 'remove', TARGET, '--yes', '-i', inventory],
    unchanged: (r) => r.exitCode === 0 && !/^removed member|moved \/var\/lib\/etcd to/m.test(r.stdout),
    // The node is still in the inventory: `up` adds it back, as a user would.
    restore: async () => void (await hardway(up())),
  },
  'remove-snapshot': {
    flow: 'member remove: its pre-remove snapshot',
    args: () => ['member', 'remove', TARGET, '--yes', '-i', inventory],
    again: () => ['member', 'remove', TARGET, '--yes', '-i', inventory],
    unchanged: (r) => r.exitCode === 0 && !/^removed member|moved \/var\/lib\/etcd to/m.test(r.stdout),
    restore: async () => void (await hardway(up())),
    nested: true,
  },
  reset: {
    flow: 'reset',
    args: () => ['reset', TARGET, '--yes', '-i', inventory],
    again: () => ['reset', TARGET, '--yes', '-i', inventory],
    unchanged: (r) => r.exitCode === 0 && !/^removed member|moved \/var\/lib\/etcd to/m.test(r.stdout),
    restore: async () => void (await hardway(up())),
  },
  replace: {
    flow: 'member replace',
    args: () => ['member', 'replace', TARGET, '--yes', '-i', inventory],
    again: up,
    unchanged: nothingChanged,
  },
  restore: {
    flow: 'snapshot restore',
    // The snapshot once, with keys of its own; every restore after it brings back exactly what it holds.
    setup: async () => void (await restoreSource()),
    args: () => ['snapshot', 'restore', restoreFile, '--force', '--no-snapshot', '--yes', '-i', inventory, '--wait', '60'],
    again: up,
    unchanged: nothingChanged,
    // A restore drops what was written after the snapshot: by design, so no writer; its own keys must be back.
    noWriter: true,
    verify: async () => Object.entries(await missingOnMembers(WRITER, RESTORE_KEYS, [1, 2, 3, 4, 5])).map(([m, ks]) => `${m} lacks the snapshot's keys ${ks.join(', ')}`),
    // The data dirs each restore moved aside (checked above, counted as kept) would fill the nodes' disks cell by cell.
    restore: () => Promise.all(allNodes().map((n) => sshOk(n, 'rm -rf /var/lib/etcd.pre-restore-*'))).then(() => undefined),
  },
  recover: {
    flow: 'recover',
    args: () => ['recover', '--force', '--yes', '-i', inventory, '--wait', '60'],
    again: up,
    unchanged: nothingChanged,
    restore: () => Promise.all(allNodes().map((n) => sshOk(n, 'rm -rf /var/lib/etcd.pre-recover-*'))).then(() => undefined),
  },
  renew: {
    flow: 'pki renew',
    args: () => ['pki', 'renew', '--yes', '-i', inventory, '--wait', '60'],
    again: up,
    unchanged: nothingChanged,
  },
  'rotate-ca': {
    flow: 'pki rotate-ca',
    args: () => ['pki', 'rotate-ca', '--yes', '-i', inventory, '--wait', '60'],
    again: up,
    unchanged: nothingChanged,
  },
  bootstrap: {
    flow: 'up: bootstrap',
    setup: () => Promise.all(allNodes().map((n) => wipeNode(n))).then(() => undefined),
    args: up,
    again: up,
    unchanged: nothingChanged,
    noWriter: true,
  },
};

/**
 * What `npm test` runs (about 90 s, within the suite's 35 minutes): a kill in the middle of each change that could
 * cost data or quorum, where the killed run leaves the most half-done — a rolling restart after its first member came
 * back on new files (the others not yet), a member removed from the cluster but its node not yet left, a replaced
 * member removed and its successor not yet added (the cluster one member short). The other scenarios (a wiped member
 * re-added, a bootstrap, reset, the snapshot a removal takes first) and every other point: HARDWAY_FAULTS=full.
 */
const SUBSET: [string, string][] = [
  ['rolling', 'up:rolling-restart@<first>:after'],
  ['remove', 'member-remove:remove-the-member:after'],
  ['replace', 'member-replace:remove-the-old-member:after'],
];

/**
 * The points a scenario reaches: the flow run once with `trace` (listed points whose step does not run in this
 * scenario — a re-join in a rolling restart — are never reached, and would only cost a run each). Every `after` but
 * the last is the next point's `before` for a process killed without clean-up, so only the last `after` is kept.
 */
async function reachedPoints(key: string): Promise<{ listed: number; points: string[] }> {
  const sc = SCENARIOS[key]!;
  const listed = (await failpointsOf(sc.args())).length;
  await sc.setup?.();
  const run = await hardway(sc.args(), 'trace');
  if (run.exitCode !== 0) throw new Error(`${sc.flow} without a kill exited ${run.exitCode}: ${run.stderr}`);
  await sc.restore?.();
  const passed = passedPoints(run);
  const flowOf = (p: string) => p.split(':')[0];
  // Points of flows it runs inside (the pre-remove snapshot's save) belong to those flows' own rows.
  const own = passed.filter((p) => (flowOf(p) === flowOf(passed[0]!)) !== !!sc.nested);
  const lastAfter = own.filter((p) => p.endsWith(':after') && !p.includes('@')).pop();
  // A point passed twice (a per-host step that goes over the hosts twice) is one cell.
  return { listed, points: [...new Set([...own.filter((p) => p.endsWith(':before') || p.includes('@')), ...(lastAfter ? [lastAfter] : [])])] };
}

/** One cell: the scenario set up, the flow killed at `point`, run again, run once more, and everything checked. */
async function cell(key: string, point: string): Promise<void> {
  const sc = SCENARIOS[key]!;
  const started = Date.now();
  const problems: string[] = [];
  await sc.setup?.();
  // The first member a rolling restart takes (a follower): named once the cluster is known.
  if (point.includes('<first>')) {
    const leader = (await sshOk(WRITER, `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/ca.pem --cert=/etc/etcd/kubernetes.pem --key=/etc/etcd/kubernetes-key.pem endpoint status --cluster -w simple`))
      .split('\n')
      .find((l) => l.split(', ')[4] === 'true')
      ?.split(', ')[0];
    const follower = lab().nodes.find((n) => `https://${n.address}:2379` !== leader)!.name;
    point = point.replace('<first>', follower);
  }
  const before = new Map(await Promise.all(allNodes().map(async (n) => [n, await dataFiles(n)] as const)));
  // What earlier cells left was said in their rows: a cell answers for what is new.
  const leftBefore = new Map(await Promise.all(allNodes().map(async (n) => [n, await nodeLeftovers(n)] as const)));
  const writer: Writer | undefined = sc.noWriter ? undefined : startWriter(WRITER, `fault/${Date.now().toString(36)}/`);
  let killed = false;
  let converged = false;
  let writes = 'n/a (no cluster before)';
  try {
    // Let the writer get going: some of its writes are acknowledged before the flow begins.
    if (writer) await new Promise((r) => setTimeout(r, 1000));
    const first = await hardway(sc.args(), point);
    killed = first.signal === 'SIGKILL' && first.stderr.includes(`hardway: failpoint ${point}`);
    if (!killed) problems.push(first.signal ? `killed by ${first.signal} elsewhere` : `not killed (exit ${first.exitCode}): the point was not reached`);
    const rerun = await hardway(sc.args());
    if (rerun.exitCode !== 0) problems.push(`re-run exited ${rerun.exitCode}: ${(rerun.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}`);
    const again = await hardway(sc.again());
    if (!sc.unchanged(again)) problems.push(`one more run changed something or failed (exit ${again.exitCode}): ${(again.stdout + again.stderr).trim().slice(-300)}`);
    converged = rerun.exitCode === 0 && sc.unchanged(again);
    if (sc.verify) problems.push(...(await sc.verify()));
  } finally {
    if (writer) {
      const { acked, failed } = await writer.stop();
      const missing = await missingOnMembers(WRITER, writer.prefix, acked).catch((e: Error) => ({ '?': [NaN], why: e.message }) as unknown as Record<string, number[]>);
      const lost = Object.entries(missing).map(([m, ks]) => `${m} lacks ${ks.length} acknowledged (${ks.slice(0, 5).join(', ')}…)`);
      problems.push(...lost);
      if (acked.length === 0) problems.push('the writer got no write acknowledged');
      writes = `${acked.length} acked, ${failed.length} failed, ${lost.length ? 'LOST' : 'all on every member'}`;
    }
  }
  for (const n of allNodes()) {
    const lost = lostFiles(before.get(n)!, await dataFiles(n));
    if (lost.length) problems.push(`${n}: data files gone: ${lost.slice(0, 3).join(', ')}`);
    const left = (await nodeLeftovers(n)).filter((f) => !leftBefore.get(n)!.includes(f));
    if (left.length) problems.push(`${n}: left behind: ${left.join(', ')}`);
  }
  const here = await localLeftovers(inventory);
  if (here.length) problems.push(`left here: ${here.join(', ')}`);
  problems.push(...(await inventoryProblems(inventory, comments)).map((p) => `inventory: ${p}`));
  await sc.restore?.();
  cells.push({ flow: sc.flow, point, killed, converged, writes, problems, seconds: (Date.now() - started) / 1000 });
  console.log(`${sc.flow} × ${point}: ${converged ? 'converged' : 'NOT converged'}, ${writes}, ${((Date.now() - started) / 1000).toFixed(0)} s${problems.length ? `: ${problems.join('; ')}` : ''}`);
  expect(problems, `${sc.flow} killed at ${point}`).toEqual([]);
}

function table(): string {
  const rows = cells.map((c) => [c.flow, c.point, c.killed ? 'killed' : 'not killed', c.converged ? 'converged' : 'NOT converged', c.writes, `${c.seconds.toFixed(0)} s`, c.problems.join('; ') || 'ok']);
  const head = ['flow', 'kill point', 'kill', 're-run', 'writes', 'time', 'problems'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(r[i]!.length, 60))));
  const line = (r: string[]) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  const total = cells.reduce((s, c) => s + c.seconds, 0);
  return [line(head), ...rows.map(line), `${cells.length} cell(s) in ${total.toFixed(0)} s (${FULL ? `HARDWAY_FAULTS=${process.env.HARDWAY_FAULTS}` : 'subset; HARDWAY_FAULTS=full runs every point'})`].join('\n');
}

describeLab(`fault matrix (${FULL ? 'full' : 'subset'})`, () => {
  beforeAll(async () => {
    // A copy of the lab inventory with comments of its own, to see that no flow drops them.
    inventory = await scratchInventory((doc) => {
      doc.commentBefore = ' fault matrix inventory: every comment here must survive every flow';
      doc.setIn(['etcd', 'heartbeatInterval'], 100);
    });
    comments = commentsOf(await readFile(inventory, 'utf8'));
    labToken = tokenOf(await readFile(inventory, 'utf8'));
    await healthy();
  }, 300_000);

  afterAll(async () => {
    console.log(`\nfault matrix\n${table()}\n`);
    // The lab's own inventory again (its heartbeat): the next file finds the cluster as the lab describes it.
    const text = await readFile(inventory, 'utf8');
    if (heartbeat !== 100 || tokenOf(text) !== labToken) {
      await writeFile(inventory, text.replace(/^(\s*token: ).*$/m, `$1${labToken}`));
      await setHeartbeat(100);
      await hardway(up());
    }
  }, 300_000);

  if (!FULL) {
    it.each(SUBSET)('%s killed at %s', async (key, point) => cell(key, point), 600_000);
    return;
  }

  for (const key of chosen) {
    describe(SCENARIOS[key]!.flow, () => {
      let points: string[] = [];
      beforeAll(async () => {
        const reached = await reachedPoints(key);
        points = stepsOnly.has(key) ? reached.points.filter((p) => !p.includes('@')) : reached.points;
        console.log(`${SCENARIOS[key]!.flow}: ${reached.listed} point(s) listed, ${points.length} reached: ${points.join(' ')}`);
      }, 600_000);
      it('every failpoint', async () => {
        for (const point of points) {
          try {
            await cell(key, point);
          } catch {
            // Recorded in the table (and failed below); the cluster is brought back for the next cell.
            await healthy();
          }
        }
        const bad = cells.filter((c) => c.flow === SCENARIOS[key]!.flow && c.problems.length);
        expect(bad.map((c) => `${c.point}: ${c.problems.join('; ')}`)).toEqual([]);
      }, 3_600_000);
    });
  }
});
