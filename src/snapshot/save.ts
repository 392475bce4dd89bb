import { randomBytes } from 'node:crypto';
import { stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { OperationError, UsageError } from '../errors.js';
import { clientUrl } from '../inventory/derive.js';
import { connectStep, eachHost, usable, type HostsRun, type Connected } from '../engine/hosts.js';
import { runSteps, step, type Step } from '../engine/runner.js';
import { alarmsInStatusErrors, alarmText, type Alarm } from '../etcd/alarms.js';
import { askMembers, findMember, memberLabel, memberNamed, type MemberRow, type MembersView } from '../etcd/members.js';
import { must } from '../engine/must.js';
import { shq } from '../ssh/remote.js';
import type { Integrity } from './integrity.js';
import { defaultSnapshotName, ensureSnapshotsDir, writeManifest, writeSnapshotFile, type Manifest } from './store.js';
import { saveCommand, snapshotStatusOf, type SnapshotStatus } from '../etcd/tools.js';
import { formatBytes } from '../output.js';
import { dbEntries } from './view.js';

/**
 * `hardway snapshot save`: etcdctl saves the leader's (or the named member's) snapshot into a temp file on its node,
 * with exactly that one endpoint; the bytes are streamed to the laptop over the same SSH connection, hashed on the
 * way, and kept only when etcd's own integrity hash and the node's size agree with what arrived and the node's
 * `snapshot status` (run while the bytes stream) has read the file. The node's temp file is removed on every path
 * the process lives through; one a killed run left (its name says which machine and process wrote it) is removed by
 * the next save from this machine, on every node, once that process is gone.
 */

export interface SaveOptions {
  node?: string;
  out?: string;
  /** Why it was taken, when hardway took it by itself (`pre-upgrade`): written into the manifest. */
  reason?: string;
  now?: Date;
}

export interface SaveRun extends HostsRun {
  opts: SaveOptions;
  /** Where the snapshot goes on the laptop. */
  out: string;
  view?: MembersView;
  member?: MemberRow;
  host?: Connected;
  /** The temp file on the node. */
  nodeFile: string;
  nodeStatus?: SnapshotStatus;
  /** The size of the node's file, which the copy must have. */
  nodeSize?: number;
  integrity?: Integrity;
  manifest?: Manifest;
}

/** The target the user named, or the leader; refused with the reason when it cannot give a snapshot. */
export function chooseMember(r: Pick<SaveRun, 'inv' | 'view' | 'opts'>): MemberRow {
  const view = r.view!;
  const name = r.opts.node;
  if (!view.leader) throw new OperationError(`no leader: the cluster has no quorum or is electing one (${view.rows.map(memberLabel).join(', ')}); a snapshot now could miss committed writes`);
  if (!name) return view.leader;
  const row = findMember(view, name);
  if (row) return row;
  // An inventory node that is not a member is the cluster's state (exit 1); any other name, a usage error.
  if (r.inv.nodes.some((n) => n.name === name)) throw new OperationError(`${name} is not in the member list (members: ${view.rows.map(memberLabel).join(', ')}): it has no data to save`);
  return memberNamed(r.inv, view, name);
}

const saveSteps = {
  output: step<SaveRun>('choose the file', async (r) => {
    const exists = await stat(r.out).then(
      () => true,
      () => false,
    );
    if (exists) throw new UsageError(`${r.out} already exists: a snapshot is never written over; give another --out`);
    if (r.opts.out) {
      const dir = await stat(path.dirname(r.out)).catch(() => undefined);
      if (!dir?.isDirectory()) throw new UsageError(`--out ${r.opts.out}: ${path.dirname(r.out)} is not a directory`);
    }
    if (!r.opts.out) {
      const dir = await ensureSnapshotsDir(path.dirname(r.out));
      if (dir.created) r.log(`created ${path.dirname(r.out)} (mode 0700)`);
      if (dir.looseMode) r.log(`warning: ${path.dirname(r.out)} has mode ${dir.looseMode.toString(8)}: others on this machine can list the snapshots (each is 0600); chmod 700 it`);
    }
  }),

  ask: step<SaveRun>('ask the cluster', async (r) => {
    r.view = await askMembers(r.inv, r.hosts);
    const m = chooseMember(r);
    if (!m.node) throw new OperationError(`${memberLabel(m)} is not in the inventory: hardway cannot reach its node to save its snapshot`);
    if (!m.status) throw new OperationError(`${memberLabel(m)} does not answer: it cannot give a snapshot`);
    const host = r.hosts.find((h) => h.node === m.node);
    if (!host || !usable(host)) throw new OperationError(`${m.node.name} cannot be reached over SSH (${host?.outcome.reason ?? 'not connected'})`);
    // Every member's status carries the cluster's active alarms (`memberID:… alarm:NOSPACE`): no extra question.
    const alarms = uniqueAlarms(r.view.rows.flatMap((row) => alarmsInStatusErrors(row.status?.errors ?? [])));
    if (alarms.length) {
      throw new OperationError(`the cluster has active alarms (${alarmText(alarms, r.view.rows)}): a NOSPACE cluster refuses writes and a CORRUPT one has members that differ; settle them first ('hardway alarm list', 'hardway doctor')`);
    }
    r.member = m;
    r.host = host;
  }),

  saveOnNode: {
    title: 'save the snapshot on the node',
    async run(r) {
      const h = r.host!;
      const m = r.member!;
      r.log(`saving the snapshot of ${memberLabel(m)}${m.isLeader ? ' (the leader)' : ''} on ${h.node.name}…`);
      const out = await must(h.remote, `umask 077 && ${saveCommand(clientUrl(h.node), r.nodeFile)} >/dev/null && stat -c 'size=%s' ${shq(r.nodeFile)}`, `${h.node.name}: etcdctl snapshot save`, 15 * 60_000);
      r.nodeSize = Number(/^size=(\d+)$/m.exec(out)?.[1] ?? NaN);
    },
    async cleanUp(r) {
      // etcdctl writes FILE.part and renames it: both go, whatever happened.
      await r.host?.remote.run(`rm -f ${shq(r.nodeFile)} ${shq(`${r.nodeFile}.part`)}`, { timeoutMs: 30_000 });
    },
  } satisfies Step<SaveRun>,

  copy: step<SaveRun>('copy it here, and read its status on the node', async (r) => {
    const h = r.host!;
    const remote = h.remote;
    if (!remote.stream) throw new OperationError(`${h.node.name}: this connection cannot stream a file`);
    const started = Date.now();
    const errors: Buffer[] = [];
    const stderr = new Writable({ write: (c: Buffer, _e, cb) => (errors.push(c), cb()) });
    // `snapshot status` reads the node's file while it streams here: neither waits for the other.
    const status = snapshotStatusOf(remote, r.nodeFile, r.inv.etcd.version, `${h.node.name}: snapshot status`);
    const copied = writeSnapshotFile(
      r.out,
      async (sink) => {
        const res = await remote.stream!(`cat ${shq(r.nodeFile)}`, { stdout: sink as Writable, stderr });
        if (res.code !== 0) throw new OperationError(`${h.node.name}: reading ${r.nodeFile} failed: ${Buffer.concat(errors).toString().trim() || `exit ${res.code ?? res.signal}`}`);
      },
      (got) => {
        // etcd's trailing SHA-256 covers every byte before it, so a byte changed or lost on the way fails it.
        if (got.size !== r.nodeSize) throw new OperationError(`the copy has ${got.size} bytes, the file on ${h.node.name} ${r.nodeSize}: nothing was kept`);
        if (!got.ok) throw new OperationError(`the snapshot fails etcd's integrity check: ${got.problem}: nothing was kept`);
      },
    );
    const [statusOut, integrity] = await Promise.allSettled([status, copied]);
    if (integrity.status === 'rejected') throw integrity.reason;
    r.integrity = integrity.value;
    const parsed = statusOut.status === 'fulfilled' ? statusOut.value : undefined;
    if (!parsed) {
      await unlink(r.out).catch(() => {});
      throw statusOut.status === 'rejected' ? statusOut.reason : new OperationError(`${h.node.name}: snapshot status said nothing readable: nothing was kept`);
    }
    r.nodeStatus = parsed;
    r.log(`copied ${formatBytes(r.integrity.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }),

  manifest: step<SaveRun>('write the manifest', async (r) => {
    const m = r.member!;
    const s = r.nodeStatus!;
    r.manifest = {
      file: path.basename(r.out),
      revision: s.revision,
      hash: s.hash,
      totalKeys: s.totalKey,
      size: r.integrity!.size,
      sha256: r.integrity!.sha256,
      member: { name: m.name, id: m.id },
      etcdVersion: m.status?.version || r.inv.etcd.version,
      clusterId: r.view!.clusterId,
      token: r.inv.cluster.token,
      time: (r.opts.now ?? new Date()).toISOString(),
      ...(r.opts.reason ? { reason: r.opts.reason } : {}),
    };
    await writeManifest(r.out, r.manifest);
  }),
};

/** Where temp snapshot files go on the nodes, and what this machine's names there start with. */
const NODE_TMP = '/var/tmp';
const OWN_PREFIX = `hardway-snapshot-${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}.`;

/** Whether this machine's process `pid` still runs (EPERM: it does, as another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Of the names in a node's temp dir, the snapshot files (and `.part`s) runs from this machine left behind: written by
 * a process of this machine (the name's prefix) that no longer runs. Another machine's, or a live run's, are left. Pure.
 */
export function orphanedNodeFiles(names: string[], prefix: string, alive: (pid: number) => boolean): string[] {
  return names.filter((n) => {
    if (!n.startsWith(prefix)) return false;
    const m = /^(\d+)-[0-9a-f]{12}\.db(?:\.part)?$/.exec(n.slice(prefix.length));
    return !!m && !alive(Number(m[1]));
  });
}

/** Every reachable node: the temp snapshot files of killed runs from this machine go, before this run adds its own. */
const sweepNodes = step<SaveRun>('remove what killed runs left on the nodes', async (r) => {
  await eachHost(
    r.hosts,
    async (h) => {
      try {
        const listed = await h.remote.run(`ls -1 ${NODE_TMP} 2>/dev/null | grep -F ${shq(OWN_PREFIX)} || true`, { timeoutMs: 15_000 });
        const orphans = orphanedNodeFiles(listed.stdout.split('\n').map((l) => l.trim()), OWN_PREFIX, processAlive);
        if (!orphans.length) return;
        await h.remote.run(`rm -f ${orphans.map((f) => shq(`${NODE_TMP}/${f}`)).join(' ')}`, { timeoutMs: 30_000 });
        r.log(`${h.node.name}: removed ${orphans.join(', ')} from ${NODE_TMP} (left by a snapshot save that was killed)`);
      } catch {
        // A node that cannot be swept is no reason not to save (nor a failed host): its leftovers wait for the next run.
      }
    },
    { which: () => true },
  );
});

const uniqueAlarms = (alarms: Alarm[]) => alarms.filter((a, i) => alarms.findIndex((b) => b.memberId === a.memberId && b.alarm === a.alarm) === i);

export function saveRun(base: HostsRun, opts: SaveOptions): SaveRun {
  const now = opts.now ?? new Date();
  const out = path.resolve(opts.out ?? path.join(base.inv.snapshots.dir, defaultSnapshotName(base.inv.cluster.token, now)));
  return { ...base, opts: { ...opts, now }, out, nodeFile: `${NODE_TMP}/${OWN_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}.db` };
}

export async function saveSnapshot(run: SaveRun): Promise<SaveRun> {
  const s = saveSteps;
  await runSteps(run, [s.output, connectStep<SaveRun>(), s.ask, sweepNodes, s.saveOnNode, s.copy, s.manifest], { flow: 'snapshot-save' });
  return run;
}

export function saveReport(r: SaveRun): string[] {
  const m = r.manifest!;
  return [
    `saved ${r.out} (mode 0600)`,
    `  member ${m.member.name} (${m.member.id}), cluster ${m.clusterId}, etcd ${m.etcdVersion}`,
    `  revision ${m.revision}, ${dbEntries(m.totalKeys)}, hash ${m.hash}, ${formatBytes(m.size)}`,
    `  sha256 ${m.sha256}; etcd's integrity hash checked here`,
    `  manifest ${r.out}.json`,
  ];
}
