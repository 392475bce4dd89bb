import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { newHosts, type HostsRun } from '../../src/engine/hosts.js';
import { validateInventory } from '../../src/inventory/validate.js';
import type { Inventory } from '../../src/inventory/types.js';
import type { Remote, StreamOptions } from '../../src/ssh/remote.js';
import { restoreReport, restoreRun, restoreSnapshot, type RestoreOptions } from '../../src/snapshot/restore.js';
import { chooseMember, orphanedNodeFiles, saveReport, saveRun, saveSnapshot, type SaveOptions } from '../../src/snapshot/save.js';
import { writeManifest, type Manifest } from '../../src/snapshot/store.js';
import type { MembersView } from '../../src/etcd/members.js';
import { fakeCluster, inv, member } from './members-fakes.js';

/**
 * The save and restore flows over scripted nodes: the run's `connect` hands out the scripted remotes (or a connect
 * error), so the flows run exactly their own steps, connect and clean-up included, as the CLI runs them.
 */
const conn = { remotes: new Map<string, unknown>(), calls: 0 };
const connect: NonNullable<HostsRun['connect']> = async (_inv, nodes) => {
  conn.calls++;
  return nodes.map((node) => {
    const r = conn.remotes.get(node.name);
    return r && !(r instanceof Error) ? { node, remote: r as Remote } : { node, error: (r as Error | undefined) ?? new Error('no fake remote') };
  });
};

const NOW = new Date('2024-03-05T07:08:09.123Z');
const STAMP = '20240305T070809Z';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tmpDir = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), prefix));

function snapshotBytes(pages: number, seed: number): Buffer {
  const body = Buffer.alloc(pages * 4096);
  let x = seed;
  for (let i = 0; i < body.length; i++) body[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

const flipped = (buf: Buffer, at: number) => {
  const b = Buffer.from(buf);
  b[at] = b[at]! ^ 0x80;
  return b;
};

/** `endpoint status -w json` of the endpoints asked, member a<i> at 10.240.0.1<i>; `leader` undefined: none (0). */
function statusRows(command: string, o: { leader?: number; revision?: number; down?: number[]; errors?: string[] } = {}) {
  const urls = /--endpoints=(\S+)/.exec(command)![1]!.split(',');
  const rows = urls.flatMap((u) => {
    const i = Number(/\.(\d+):2379/.exec(u)![1]) - 10;
    if (o.down?.includes(i)) return [];
    return [{ Endpoint: u, Status: { header: { cluster_id: 1234, member_id: 160 + i, revision: o.revision ?? 100, raft_term: 2 }, version: '3.4.23', dbSize: 24576, leader: o.leader === undefined ? 0 : 160 + o.leader, raftIndex: 100, raftTerm: 2, raftAppliedIndex: 100, ...(o.errors ? { errors: o.errors } : {}) } }];
  });
  return rows.length ? { stdout: `${JSON.stringify(rows)}\n` } : { code: 1, stdout: '', stderr: 'Error: context deadline exceeded\n' };
}

/** Commands of the log without the closes, as `node: first words`. */
const commands = (log: string[]) => log.filter((l) => !l.endsWith(': close'));
const indexOf = (log: string[], re: RegExp) => log.findIndex((l) => re.test(l));

/** The three nodes of members-fakes, able to stream `bytes` as the snapshot file, the node reporting `nodeSize`. */
function saveCluster(bytes: Buffer, o: { leader?: number | null; nodeSize?: number; alarms?: string[]; down?: number[]; streamCode?: number } = {}) {
  const c = fakeCluster();
  for (const r of c.remotes) {
    r.rules.unshift(
      [/endpoint status/, (cmd) => statusRows(cmd, { ...(o.leader === null ? {} : { leader: o.leader ?? 0 }), ...(o.down ? { down: o.down } : {}), ...(o.alarms ? { errors: o.alarms } : {}) })],
      [/snapshot save/, { stdout: `size=${o.nodeSize ?? bytes.length}\n` }],
      [/snapshot status/, { stdout: `{"hash":943374836,"revision":57,"totalKey":7,"totalSize":${bytes.length}}\n` }],
    );
    (r as Remote).stream = async (command: string, io: StreamOptions) => {
      c.log.push(`${r.name}: stream ${command}`);
      // In uneven chunks, each handed on once the sink took the previous one (as a pipe with back-pressure does).
      for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7 + 13) % 5000 || 1) {
        await new Promise<void>((res, rej) => io.stdout.write(bytes.subarray(at, at + n), (e) => (e ? rej(e) : res())));
      }
      if (o.streamCode) io.stderr.write('cat: read error\n');
      return { code: o.streamCode ?? 0 };
    };
  }
  conn.remotes = new Map<string, unknown>(c.remotes.map((r) => [r.name, r]));
  return c;
}

async function save(opts: SaveOptions, lines: string[] = []) {
  const run = saveRun({ inv, hosts: newHosts(inv.nodes), connect, log: (l) => lines.push(l) }, { now: NOW, ...opts });
  return saveSnapshot(run);
}

beforeEach(() => {
  conn.remotes = new Map();
  conn.calls = 0;
});

describe('snapshot save', () => {
  it("saves the leader's snapshot through its own endpoint, copies it here 0600 with a manifest, and removes the node's temp file", async () => {
    const bytes = snapshotBytes(4, 1);
    const c = saveCluster(bytes, { leader: 1 });
    const dir = tmpDir('hw-save-');
    const out = path.join(dir, 'snap.db');
    const lines: string[] = [];
    const run = await save({ out }, lines);

    expect(readFileSync(out).equals(bytes)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['snap.db', 'snap.db.json']);
    const manifest = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as Manifest;
    expect(manifest).toEqual({
      file: 'snap.db',
      revision: 57,
      hash: 943374836,
      totalKeys: 7,
      size: bytes.length,
      sha256: sha(bytes),
      member: { name: 'controller-1', id: 'a1' },
      etcdVersion: '3.4.23',
      clusterId: '4d2',
      token: 'tok-1',
      time: '2024-03-05T07:08:09.123Z',
    });
    expect(statSync(`${out}.json`).mode & 0o777).toBe(0o600);

    // Everything about the snapshot happens on the leader's node, with exactly its endpoint.
    const nodeFile = run.nodeFile;
    // Named for this machine and process: a later save from here removes it if this process was killed.
    expect(nodeFile).toBe(`/var/tmp/hardway-snapshot-${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}.${process.pid}-${nodeFile.slice(-15, -3)}.db`);
    expect(nodeFile).toMatch(/-[0-9a-f]{12}\.db$/);
    const onNode = commands(c.log).filter((l) => l.includes(nodeFile));
    expect(onNode.map((l) => l.split(':')[0])).toEqual(['controller-1', 'controller-1', 'controller-1', 'controller-1']);
    const saveCmd = onNode[0]!;
    expect(saveCmd).toMatch(/^controller-1: umask 077 && ETCDCTL_API=3 \/usr\/local\/bin\/etcdctl --endpoints=https:\/\/10\.240\.0\.11:2379 /);
    expect(saveCmd).toContain(` snapshot save ${nodeFile} >/dev/null`);
    expect(onNode[1]).toContain(`snapshot status ${nodeFile} -w json`);
    expect(onNode[2]).toBe(`controller-1: stream cat ${nodeFile}`);
    expect(onNode[3]).toBe(`controller-1: rm -f ${nodeFile} ${nodeFile}.part`);
    // The temp file goes after the copy, before the connections close.
    expect(indexOf(c.log, /rm -f \/var\/tmp\/hardway-snapshot/)).toBeGreaterThan(indexOf(c.log, /: stream cat/));
    expect(indexOf(c.log, /rm -f \/var\/tmp\/hardway-snapshot/)).toBeLessThan(indexOf(c.log, /: close$/));
    expect(c.log.filter((l) => l.endsWith(': close'))).toHaveLength(3);

    expect(saveReport(run)).toEqual([
      `saved ${out} (mode 0600)`,
      '  member controller-1 (a1), cluster 4d2, etcd 3.4.23',
      `  revision 57, 7 database entries, hash 943374836, 16 kB`,
      `  sha256 ${sha(bytes)}; etcd's integrity hash checked here`,
      `  manifest ${out}.json`,
    ]);
    expect(lines[0]).toBe('saving the snapshot of controller-1 (a1) (the leader) on controller-1…');
    expect(lines.some((l) => /^copied 16 kB in \d+\.\d s$/.test(l))).toBe(true);
  });

  it('--node saves that member, by name or by id, through its own endpoint', async () => {
    const bytes = snapshotBytes(1, 2);
    const c = saveCluster(bytes, { leader: 0 });
    const dir = tmpDir('hw-save-');
    const run = await save({ out: path.join(dir, 'a.db'), node: 'controller-2' });
    expect(run.member!.id).toBe('a2');
    expect(c.log.find((l) => l.includes('snapshot save'))).toMatch(/^controller-2: .*--endpoints=https:\/\/10\.240\.0\.12:2379 /);
    expect(c.log.find((l) => l.includes('snapshot save'))!.match(/--endpoints=\S+/g)).toEqual(['--endpoints=https://10.240.0.12:2379']);
    const byId = await save({ out: path.join(dir, 'b.db'), node: 'a1' });
    expect(byId.manifest!.member).toEqual({ name: 'controller-1', id: 'a1' });
  });

  it('without --out: into the snapshots dir (made 0700), named by the token and the UTC time', async () => {
    const bytes = snapshotBytes(1, 3);
    saveCluster(bytes);
    const dir = path.join(tmpDir('hw-save-'), 'snapshots');
    const lines: string[] = [];
    const run = saveRun({ inv: { ...inv, snapshots: { dir } }, hosts: newHosts(inv.nodes), connect, log: (l) => lines.push(l) }, { now: NOW });
    await saveSnapshot(run);
    expect(run.out).toBe(path.join(dir, `tok-1-${STAMP}.db`));
    expect(readFileSync(run.out).equals(bytes)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(lines[0]).toBe(`created ${dir} (mode 0700)`);
  });

  it('never writes over a file: refused before connecting', async () => {
    const c = saveCluster(snapshotBytes(1, 4));
    const out = path.join(tmpDir('hw-save-'), 'x.db');
    writeFileSync(out, 'mine');
    await expect(save({ out })).rejects.toThrow(expect.objectContaining({ exitCode: 2, message: `${out} already exists: a snapshot is never written over; give another --out` }));
    expect(conn.calls).toBe(0);
    expect(c.log).toEqual([]);
    expect(readFileSync(out, 'utf8')).toBe('mine');
  });

  describe('refusals before anything is saved', () => {
    async function refused(c: ReturnType<typeof saveCluster>, opts: SaveOptions = {}) {
      const dir = tmpDir('hw-save-');
      const err = await save({ out: path.join(dir, 's.db'), ...opts }).then(
        () => undefined,
        (e: unknown) => e as Error & { exitCode: number },
      );
      expect(err, 'refused').toBeDefined();
      expect(c.log.filter((l) => /snapshot save|stream|rm -f/.test(l))).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
      return err!;
    }

    it('no leader', async () => {
      const e = await refused(saveCluster(snapshotBytes(1, 5), { leader: null }));
      expect(e.exitCode).toBe(1);
      expect(e.constructor.name).toBe('OperationError');
      expect(e.message).toBe('no leader: the cluster has no quorum or is electing one (controller-0 (a0), controller-1 (a1), controller-2 (a2)); a snapshot now could miss committed writes');
    });

    it('an active NOSPACE alarm, named with its member, read from the members\' status (as etcd reports it there)', async () => {
      const c = saveCluster(snapshotBytes(1, 6), { alarms: ['memberID:161 alarm:NOSPACE '] });
      const e = await refused(c);
      expect(e.exitCode).toBe(1);
      expect(e.message).toMatch(/^the cluster has active alarms \(NOSPACE on controller-1\): a NOSPACE cluster refuses writes/);
      expect(c.log.filter((l) => l.includes('snapshot save'))).toEqual([]);
    });

    it('--node naming an inventory node that is not a member: an operation error (exit 1)', async () => {
      const c = saveCluster(snapshotBytes(1, 7));
      c.state.members = [0, 2];
      const e = await refused(c, { node: 'controller-1' });
      expect(e.constructor.name).toBe('OperationError');
      expect(e.exitCode).toBe(1);
      expect(e.message).toBe('controller-1 is not in the member list (members: controller-0 (a0), controller-2 (a2)): it has no data to save');
    });

    it('--node naming nothing known: a usage error (exit 2)', async () => {
      const e = await refused(saveCluster(snapshotBytes(1, 8)), { node: 'controller-9' });
      expect(e.constructor.name).toBe('UsageError');
      expect(e.exitCode).toBe(2);
      expect(e.message).toBe("controller-9 is neither a member nor in the inventory: did you mean 'controller-0', 'controller-1' or 'controller-2'? (members: controller-0 (a0), controller-1 (a1), controller-2 (a2))");
    });

    it('--node naming a member that does not answer, or whose node cannot be reached', async () => {
      const down = await refused(saveCluster(snapshotBytes(1, 9), { down: [2] }), { node: 'controller-2' });
      expect(down.message).toBe('controller-2 (a2) does not answer: it cannot give a snapshot');
      const c = saveCluster(snapshotBytes(1, 10));
      conn.remotes.set('controller-1', new Error('connect timed out'));
      const e = await refused(c, { node: 'controller-1' });
      expect(e.message).toBe('controller-1 cannot be reached over SSH (connect timed out)');
    });
  });

  describe('a copy that is not what the node has keeps nothing, and still removes the temp file', () => {
    async function failedCopy(c: ReturnType<typeof saveCluster>) {
      const dir = tmpDir('hw-save-');
      const out = path.join(dir, 's.db');
      const err = await save({ out }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err, 'refused').toBeDefined();
      expect(readdirSync(dir)).toEqual([]);
      const stream = indexOf(c.log, /controller-0: stream cat \/var\/tmp\/hardway-snapshot-/);
      const rm = indexOf(c.log, /controller-0: rm -f \/var\/tmp\/hardway-snapshot-[\w.-]+\.db \/var\/tmp\/hardway-snapshot-[\w.-]+\.db\.part$/);
      expect(stream).toBeGreaterThanOrEqual(0);
      expect(rm).toBeGreaterThan(stream);
      return err!;
    }

    it('fewer bytes arrived than the node has', async () => {
      const bytes = snapshotBytes(2, 11);
      const e = await failedCopy(saveCluster(bytes, { nodeSize: bytes.length + 512 }));
      expect(e.message).toBe(`the copy has ${bytes.length} bytes, the file on controller-0 ${bytes.length + 512}: nothing was kept`);
    });

    it("the node's file itself fails etcd's integrity check", async () => {
      const bad = flipped(snapshotBytes(2, 12), 5000);
      const e = await failedCopy(saveCluster(bad));
      expect(e.message).toMatch(/^the snapshot fails etcd's integrity check: integrity hash mismatch: .*: nothing was kept$/);
    });

    it('reading the file on the node fails', async () => {
      const e = await failedCopy(saveCluster(snapshotBytes(1, 13), { streamCode: 1 }));
      expect(e.message).toMatch(/^controller-0: reading \/var\/tmp\/hardway-snapshot-[\w.-]+\.db failed: cat: read error$/);
    });
  });

  it('chooseMember: the leader by default; refusals as above without a cluster', () => {
    const row = (i: number, isLeader = false) => ({ ...member(i), node: inv.nodes[i]!, isLeader });
    const rows = [row(0), row(1, true), row(2)];
    const view = { clusterId: 'c', asker: undefined as never, rows, leader: rows[1]!, notMembers: [] } satisfies MembersView;
    expect(chooseMember({ inv, view, opts: {} })).toBe(rows[1]);
    expect(chooseMember({ inv, view, opts: { node: 'controller-2' } })).toBe(rows[2]);
    expect(chooseMember({ inv, view, opts: { node: 'a0' } })).toBe(rows[0]);
    const { leader: _l, ...leaderless } = view;
    expect(() => chooseMember({ inv, view: leaderless, opts: { node: 'controller-2' } })).toThrow(/^no leader/);
    expect(() => chooseMember({ inv, view: { ...view, rows: [rows[0]!, rows[1]!] }, opts: { node: 'controller-2' } })).toThrow(expect.objectContaining({ exitCode: 1 }));
    expect(() => chooseMember({ inv, view, opts: { node: 'nope' } })).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe('snapshot restore', () => {
  const SNAP_REV = 40;

  /** A snapshot file (with its manifest) in a temp dir. */
  async function snapshotFile(bytes = snapshotBytes(3, 21)): Promise<string> {
    const file = path.join(tmpDir('hw-restore-'), 'tok-1-20240301T000000Z.db');
    writeFileSync(file, bytes);
    await writeManifest(file, { file: path.basename(file), revision: SNAP_REV, hash: 1, totalKeys: 7, size: bytes.length, sha256: sha(bytes), member: { name: 'controller-0', id: 'a0' }, etcdVersion: '3.4.23', clusterId: '4d2', token: 'tok-1', time: '2024-03-01T00:00:00.000Z' });
    return file;
  }

  /** Where the default snapshot goes on the nodes: named by its SHA-256, so a rerun uses (and removes) the same file. */
  const NODE_FILE = `/var/tmp/hardway-restore-${sha(snapshotBytes(3, 21)).slice(0, 16)}.db`;

  function restoreCluster(o: { liveRevision?: number; down?: number[]; leader?: number } = {}) {
    const c = fakeCluster(o.down ? { down: o.down } : {});
    // The members' revision: the live one, then the snapshot's (bumped on 3.4.27) once restored.
    let restored = false;
    for (const r of c.remotes) {
      r.rules.unshift(
        // What systemd says of etcd on the node: active unless the member is down.
        [/^test -x /, () => ({ stdout: `active=${c.state.down.has(Number(r.name.slice(-1))) ? 'inactive' : 'active'}\n` })],
        [/snapshot restore/, (cmd) => ((restored = true), cmd.includes('--bump-revision=1000000000') ? {} : { code: 1, stderr: 'not bumped' })],
        [/endpoint status/, (cmd) => statusRows(cmd, { leader: o.leader ?? 0, revision: restored ? SNAP_REV + 1_000_000_000 : (o.liveRevision ?? 57), down: [...c.state.down] })],
        [/snapshot status/, { stdout: `{"hash":943374836,"revision":${SNAP_REV},"totalKey":7,"totalSize":12320}\n` }],
        [/endpoint hashkv/, (cmd) => ({ stdout: `${JSON.stringify(/--endpoints=(\S+)/.exec(cmd)![1]!.split(',').map((u) => ({ Endpoint: u, HashKV: { hash: 777, compact_revision: 0 } })))}\n` })],
      );
    }
    conn.remotes = new Map<string, unknown>(c.remotes.map((r) => [r.name, r]));
    return c;
  }

  async function restore(file: string, opts: RestoreOptions, lines: string[] = [], inventory: Inventory = inv) {
    const run = restoreRun({ inv: inventory, hosts: newHosts(inventory.nodes), connect, log: (l) => lines.push(l) }, file, { now: NOW, waitMs: 5000, ...opts });
    return restoreSnapshot(run);
  }

  const stops = (log: string[]) => log.filter((l) => l.includes('systemctl stop'));

  it('refuses a file with one flipped byte before any remote command, before even connecting', async () => {
    const c = restoreCluster();
    const file = await snapshotFile(flipped(snapshotBytes(3, 22), 7000));
    const err = await restore(file, { yes: true, force: true }).then(
      () => undefined,
      (e: unknown) => e as Error & { exitCode: number },
    );
    expect(err?.constructor.name).toBe('CheckFailed');
    expect(err?.exitCode).toBe(1);
    expect(err?.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: integrity hash mismatch: .*; not restoring it \\(nothing was changed\\)$`));
    expect(conn.calls).toBe(0);
    expect(c.log).toEqual([]);
  });

  it('refuses a file that is not the one its manifest describes, and a file cut short, likewise', async () => {
    const c = restoreCluster();
    const file = await snapshotFile();
    writeFileSync(file, snapshotBytes(3, 23)); // a whole snapshot, but another one
    await expect(restore(file, { yes: true, force: true })).rejects.toThrow(/: the file is not the one its manifest describes/);
    writeFileSync(file, snapshotBytes(3, 21).subarray(0, 3 * 4096));
    await expect(restore(file, { yes: true, force: true })).rejects.toThrow(/: no integrity hash: 12288 bytes/);
    expect(c.log).toEqual([]);
  });

  it('refuses while a node cannot be reached, before anything is uploaded or stopped', async () => {
    const c = restoreCluster();
    conn.remotes.set('controller-2', new Error('connect timed out'));
    await expect(restore(await snapshotFile(), { yes: true, force: true })).rejects.toThrow(
      expect.objectContaining({ exitCode: 1, message: 'every node must be reachable before anything is stopped; nothing was changed: controller-2: connect timed out' }),
    );
    expect(stops(c.log)).toEqual([]);
    expect(commands(c.log)).toEqual([]);
    // The two connections made are closed.
    expect(c.log).toEqual(['controller-0: close', 'controller-1: close']);
  });

  it('refuses while a node has no etcdctl, before anything is uploaded or stopped', async () => {
    const c = restoreCluster();
    c.remotes[1]!.rules.unshift([/^test -x /, { code: 1 }]);
    await expect(restore(await snapshotFile(), { yes: true, force: true })).rejects.toThrow(/^nothing was changed: controller-1: .*\/usr\/local\/bin\/etcdctl is not installed \(run 'hardway up' first\)/);
    expect(c.log.filter((l) => /: upload |systemctl (stop|start|daemon-reload)/.test(l))).toEqual([]);
  });

  it('refuses a healthy cluster without --force, naming both revisions (the snapshot\'s from its manifest), before anything is uploaded', async () => {
    const c = restoreCluster({ liveRevision: 57 });
    const err = await restore(await snapshotFile(), { yes: true }).then(
      () => undefined,
      (e: unknown) => e as Error & { exitCode: number },
    );
    expect(err?.constructor.name).toBe('OperationError');
    expect(err?.exitCode).toBe(1);
    expect(err?.message).toBe(
      'the cluster is healthy (its quorum answers): restoring replaces what it holds now; the cluster is at revision 57, the snapshot at 40: the 17 revisions since would be lost. Nothing was changed; run again with --force to restore anyway',
    );
    expect(stops(c.log)).toEqual([]);
    // Nothing went to any node: no upload, no snapshot status there, nothing to remove after.
    expect(c.log.filter((l) => l.includes(' upload ') || l.includes('snapshot status') || l.includes(NODE_FILE))).toEqual([]);
    // What the cluster holds was read (that is how it is known to be healthy).
    expect(c.log.some((l) => l.includes('endpoint status'))).toBe(true);
  });

  it('refuses a healthy cluster before uploading a snapshot without a manifest too, saying its revision is unknown', async () => {
    const c = restoreCluster({ liveRevision: 57 });
    const file = await snapshotFile();
    unlinkSync(`${file}.json`);
    const err = await restore(file, { yes: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe(
      "the cluster is healthy (its quorum answers): restoring replaces what it holds now; the cluster is at revision 57; the snapshot's revision is unknown before it is read on a node (it has no manifest): anything written since it was taken would be lost. Nothing was changed; run again with --force to restore anyway",
    );
    expect(c.log.filter((l) => l.includes(' upload ') || l.includes(NODE_FILE))).toEqual([]);
  });

  it('refuses a healthy cluster whose revision is unknown with a message that says so', async () => {
    const c = restoreCluster();
    for (const r of c.remotes) r.rules.unshift([/endpoint status/, { code: 1, stdout: '' }]);
    const err = await restore(await snapshotFile(), { yes: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^the cluster is healthy \(its quorum answers\): restoring replaces what it holds now/);
    expect(err?.message).not.toContain('undefined');
    expect(stops(c.log)).toEqual([]);
  });

  it('without --yes and without a terminal: the plan is printed, then a usage error; nothing stopped', async () => {
    const c = restoreCluster({ liveRevision: 57 });
    const lines: string[] = [];
    const file = await snapshotFile();
    const err = await restore(file, { force: true, isTTY: false }, lines).then(
      () => undefined,
      (e: unknown) => e as Error & { exitCode: number },
    );
    expect(err?.constructor.name).toBe('UsageError');
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toBe(`restore the cluster from ${path.basename(file)}?: not asked without a terminal; run again with --yes to go ahead`);
    expect(lines).toContain('the cluster is healthy (--force): the cluster is at revision 57, the snapshot at 40: the 17 revisions since would be lost');
    expect(lines.at(-1)).toBe(
      [
        'this will:',
        '  - restore tok-1-20240301T000000Z.db (revision 40, 7 database entries, saved 2024-03-01T00:00:00.000Z from controller-0) onto controller-0, controller-1, controller-2',
        `  - stop etcd on every node; move /var/lib/etcd to /var/lib/etcd.pre-restore-${STAMP} on each (nothing is deleted)`,
        `  - restore each member with its own name and peer URL, new cluster token tok-1-restored-${STAMP}`,
        `  - write cluster.token: tok-1-restored-${STAMP} into /i.yaml and the units; start every member together`,
      ].join('\n'),
    );
    expect(stops(c.log)).toEqual([]);
  });

  it('with --force on a healthy cluster: the followers are stopped first, the leader last (no leader-transfer timeout)', async () => {
    const c = restoreCluster({ leader: 1 });
    const inventory = { ...inv, file: '<memory>', etcd: { ...inv.etcd, version: '3.4.27' } };
    // The pre-restore snapshot (snapshot/auto.ts) is another flow's: not this test's subject.
    await restore(await snapshotFile(), { yes: true, force: true, noSnapshot: true }, [], inventory);
    const stopped = stops(commands(c.log)).map((l) => l.split(':')[0]);
    expect(stopped).toHaveLength(3);
    expect(stopped[2]).toBe('controller-1');
    expect(stopped.slice(0, 2).sort()).toEqual(['controller-0', 'controller-2']);
  });

  it('an unhealthy cluster is restored without --force: stop all, move aside, restore each, new token, start, check', async () => {
    const dir = tmpDir('hw-restore-inv-');
    const invFile = path.join(dir, 'inventory.yaml');
    const text =
      '# the lab\ncluster:\n  token: tok-1   # initial cluster token\netcd:\n  version: 3.4.27\n  tarball: /t.tgz\npki:\n  dir: /p/pki\nnodes:\n' +
      [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join('');
    writeFileSync(invFile, text);
    const inventory = validateInventory(text, { file: invFile }).inventory!;
    // Two of three members down: no quorum, nothing to protect.
    const c = restoreCluster({ down: [1, 2], liveRevision: 90 });
    const lines: string[] = [];
    const run = await restore(await snapshotFile(), { yes: true }, lines, inventory);

    const token = `tok-1-restored-${STAMP}`;
    expect(run.healthy).toBe(false);
    expect(run.bump).toBe(true);
    expect(readFileSync(invFile, 'utf8')).toBe(text.replace('token: tok-1   #', `token: ${token} #`));
    expect(run.inv.cluster.token).toBe(token);

    const log = commands(c.log);
    const at = (re: RegExp) => log.flatMap((l, i) => (re.test(l) ? [i] : []));
    const stopAt = at(/: systemctl stop etcd\.service$/);
    const moveAt = at(/\.pre-restore-20240305T070809Z/);
    const restoreAt = at(/snapshot restore/);
    const startAt = at(/systemctl start --no-block etcd\.service/);
    for (const xs of [stopAt, moveAt, restoreAt, startAt]) expect(xs).toHaveLength(3);
    // Every node stopped before any is touched; every one restored before any starts.
    expect(Math.max(...stopAt)).toBeLessThan(Math.min(...moveAt));
    expect(Math.max(...moveAt)).toBeLessThan(Math.min(...restoreAt));
    expect(Math.max(...restoreAt)).toBeLessThan(Math.min(...startAt));
    for (const n of inventory.nodes) {
      const cmd = log.find((l) => l.startsWith(`${n.name}: `) && l.includes('snapshot restore'))!;
      expect(cmd).toContain(`ETCDCTL_API=3 /usr/local/bin/etcdctl snapshot restore ${NODE_FILE} --name=${n.name} `);
      expect(cmd).toContain(`--initial-advertise-peer-urls=https://${n.internalIp}:2380 `);
      expect(cmd).toContain(`--initial-cluster-token=${token} `);
      expect(cmd).toContain('--bump-revision=1000000000 --mark-compacted');
    }
    expect(c.log.filter((l) => l.includes('upload /etc/systemd/system/etcd.service'))).toHaveLength(3);
    // The uploaded snapshot goes from every node at the end.
    expect(c.log.filter((l) => l.includes(`rm -f ${NODE_FILE}`))).toHaveLength(3);
    expect(run.done).toEqual([
      'stopped etcd on 3 node(s)',
      ...inventory.nodes.map((n) => `${n.name}: moved /var/lib/etcd to /var/lib/etcd.pre-restore-${STAMP}`),
      `restored /var/lib/etcd (mode 0700) on every node, token ${token}`,
      `wrote cluster.token: ${token} into ${invFile}`,
      'started etcd on every node; all 3 healthy',
    ]);
    expect(lines).toContain('the cluster is at revision 90, the snapshot at 40: the 50 revisions since would be lost');
    expect(restoreReport(run)[0]).toBe(`restored the cluster from ${run.file}`);
    expect(restoreReport(run).at(-1)).toBe(`the old data dirs stay in /var/lib/etcd.pre-restore-${STAMP} on each node: hardway never deletes them; remove them once you no longer need them`);
    expect(run.checks).toEqual(['one cluster ID 4d2', "every member's hashkv 777", 'revision 1000000040 ≥ 1000000040 (the snapshot\'s 40 + 1000000000)']);
  });
});

describe('temp snapshot files a killed save left on a node', () => {
  it("are this machine's whose process is gone, .part too; another machine's, a live run's and anything else stay", () => {
    const names = [
      'hardway-snapshot-laptop.4242-0123456789ab.db',
      'hardway-snapshot-laptop.4242-0123456789ab.db.part',
      'hardway-snapshot-laptop.777-aaaaaaaaaaaa.db',
      'hardway-snapshot-laptop.build.4242-bbbbbbbbbbbb.db',
      'hardway-snapshot-laptop.4242-xyz.db',
      'hardway-restore-0123456789abcdef.db',
    ];
    expect(orphanedNodeFiles(names, 'hardway-snapshot-laptop.', (pid) => pid === 777)).toEqual(['hardway-snapshot-laptop.4242-0123456789ab.db', 'hardway-snapshot-laptop.4242-0123456789ab.db.part']);
  });
});
