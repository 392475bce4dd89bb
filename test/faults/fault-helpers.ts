/**
 * What the fault matrix (matrix.test.ts) checks around a flow killed at a failpoint: a writer putting numbered keys
 * through the whole scenario, the files under the data dirs (by inode, so a moved-aside file still counts), temp files
 * left on the nodes or here, the inventory's validity and comments.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { validateInventory } from '../../src/inventory/validate.js';
import { allEndpoints, ETCDCTL_TLS } from '../e2e/etcd-helpers.js';
import { lab, sshOk, sshRun, type NodeRef } from '../e2e/lab-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** hardway's own temp dir in these runs (TMPDIR): what a killed run leaves there is its, not another test's. */
export const RUN_TMP = mkdtempSync(path.join(os.tmpdir(), 'hardway-faults-'));

export interface Run {
  exitCode: number | undefined;
  /** SIGKILL when a failpoint fired. */
  signal: string | undefined;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The built CLI with a failpoint (or none), its signal kept: runHardway folds a kill into exit code 1. */
export async function hardway(args: string[], failpoint?: string): Promise<Run> {
  const started = Date.now();
  const r = await execa('node', [path.join(REPO, 'bin/hardway'), ...args], {
    reject: false,
    cwd: REPO,
    // Set even when empty: a HARDWAY_FAILPOINT of the caller's must not reach the re-runs.
    env: { NO_COLOR: '1', TMPDIR: RUN_TMP, HARDWAY_FAILPOINT: failpoint ?? '' },
    extendEnv: true,
    timeout: 600_000,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? undefined, signal: r.signal ?? undefined, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), seconds: (Date.now() - started) / 1000 };
}

/**
 * The built CLI stopped (SIGSTOP, HARDWAY_FAILPOINT_ACTION=stop) at `point` while `fault` is done to the lab, then let
 * go on (SIGCONT): the fault comes at that exact step boundary. `stopped` says whether the point was reached.
 */
export async function hardwayStoppedAt(args: string[], point: string, fault: () => Promise<void>): Promise<Run & { stopped: boolean }> {
  const started = Date.now();
  const child = execa('node', [path.join(REPO, 'bin/hardway'), ...args], {
    reject: false,
    cwd: REPO,
    env: { NO_COLOR: '1', TMPDIR: RUN_TMP, HARDWAY_FAILPOINT: point, HARDWAY_FAILPOINT_ACTION: 'stop' },
    extendEnv: true,
    timeout: 600_000,
    stdin: 'ignore',
  });
  let stopped = false;
  let seen = '';
  const faulted = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (stopped || !seen.includes(`hardway: failpoint ${point}: stopping`)) return;
      stopped = true;
      const pid = child.pid!;
      // The line is written just before the signal: wait until the process is stopped indeed.
      const isStopped = () => / T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
      const wait = async () => {
        for (let i = 0; i < 100 && !isStopped(); i++) await new Promise((r) => setTimeout(r, 20));
      };
      wait()
        .then(fault)
        .finally(() => process.kill(pid, 'SIGCONT'))
        .then(resolve, reject);
    });
    void child.then(() => resolve());
  });
  const r = await child;
  await faulted;
  return { exitCode: r.exitCode ?? undefined, signal: r.signal ?? undefined, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), seconds: (Date.now() - started) / 1000, stopped };
}

/** The points a run passed, in order, from its `HARDWAY_FAILPOINT=trace` lines. */
export function passedPoints(r: Run): string[] {
  return [...r.stderr.matchAll(/^hardway: failpoint (\S+) passed$/gm)].map((m) => m[1]!);
}

/** A flow's failpoints as `HARDWAY_FAILPOINT=list` prints them: the matrix's rows come from the code. */
export async function failpointsOf(args: string[]): Promise<string[]> {
  const r = await execa('node', [path.join(REPO, 'bin/hardway'), ...args], { reject: false, cwd: REPO, env: { HARDWAY_FAILPOINT: 'list' }, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`HARDWAY_FAILPOINT=list hardway ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return String(r.stdout).trim().split('\n');
}

const etcdctlOn = (endpoints: string) => `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints=${endpoints} ${ETCDCTL_TLS}`;

export interface Writer {
  prefix: string;
  /** Stops it; the keys etcd acknowledged and the writes that failed. */
  stop(): Promise<{ acked: number[]; failed: number[] }>;
}

/**
 * A writer on `ref`: `put <prefix>k<i>` every 100 ms through every endpoint until stopped, one line per write
 * (`ok i` once etcdctl says OK, `fail i` otherwise). A write whose answer was lost counts as failed: it may or may
 * not be in the cluster, and only acknowledged ones are promised.
 */
export function startWriter(ref: NodeRef, prefix: string, endpoints = allEndpoints()): Writer {
  const stopFile = `/tmp/fault-writer-stop-${prefix.replace(/[^a-z0-9]/gi, '')}`;
  const running = sshRun(
    ref,
    `rm -f ${stopFile}; i=0; while [ ! -e ${stopFile} ]; do i=$((i+1));
       if ${etcdctlOn(endpoints)} --command-timeout=3s put ${prefix}k$i v$i >/dev/null 2>&1; then echo "ok $i"; else echo "fail $i"; fi;
       sleep 0.1; done; rm -f ${stopFile}`,
    { timeoutMs: 1_800_000 },
  );
  return {
    prefix,
    async stop() {
      await sshOk(ref, `touch ${stopFile}`);
      const out = (await running).stdout.trim().split('\n').filter(Boolean);
      const of = (what: string) => out.filter((l) => l.startsWith(`${what} `)).map((l) => Number(l.split(' ')[1]));
      return { acked: of('ok'), failed: of('fail') };
    },
  };
}

/** The members' names and client URLs, asked through `ref`. */
export async function memberEndpoints(ref: NodeRef = 0): Promise<{ name: string; endpoint: string }[]> {
  const out = await sshOk(ref, `${etcdctlOn(allEndpoints())} --command-timeout=5s member list -w simple`);
  return out
    .trim()
    .split('\n')
    .map((l) => l.split(', '))
    .filter((f) => f[1] === 'started' && f[4])
    .map((f) => ({ name: f[2]!, endpoint: f[4]!.split(',')[0]! }));
}

/**
 * The acknowledged keys each member does not have: read from that member alone (a linearizable read it serves
 * once it has applied the cluster's commit index).
 */
export async function missingOnMembers(ref: NodeRef, prefix: string, acked: number[]): Promise<Record<string, number[]>> {
  const missing: Record<string, number[]> = {};
  for (const m of await memberEndpoints(ref)) {
    const out = await sshOk(ref, `${etcdctlOn(m.endpoint)} --command-timeout=10s get ${prefix} --prefix --keys-only`, { timeoutMs: 60_000 });
    const have = new Set(out.split('\n').filter(Boolean).map((k) => Number(k.slice(prefix.length + 1))));
    const gone = acked.filter((i) => !have.has(i));
    if (gone.length) missing[m.name] = gone;
  }
  return missing;
}

/** Every file under the node's data dirs (/var/lib/etcd and the dirs moved aside beside it): inode → path. */
export async function dataFiles(ref: NodeRef): Promise<Map<string, string>> {
  // WAL segments being prepared (*.tmp) are etcd's own to rename or drop.
  const out = await sshOk(ref, `find /var/lib -maxdepth 1 -name 'etcd*' -type d -exec find {} -type f ! -name '*.tmp' -printf '%i %p\\n' \\; 2>/dev/null; true`);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)] as [string, string]),
  );
}

/**
 * Files of `before` not found after: each must still exist under its inode, at its path or at the same path inside
 * a dir moved aside (`/var/lib/etcd.<why>-<stamp>/…`).
 */
export function lostFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const rest = (p: string) => p.replace(/^\/var\/lib\/etcd[^/]*\//, '');
  return [...before].filter(([inode, p]) => {
    const now = after.get(inode);
    return !(now && rest(now) === rest(p) && (now === p || /^\/var\/lib\/etcd\.[^/]+\//.test(now)));
  }).map(([, p]) => p);
}

/** Temp files a flow leaves on a node: uploads cut short, kept copies, snapshots on their way, restores half done. */
export async function nodeLeftovers(ref: NodeRef): Promise<string[]> {
  const out = await sshOk(
    ref,
    "ls -d /var/tmp/hardway-* /var/lib/etcd.restoring-* 2>/dev/null; find /etc/etcd /usr/local/bin /etc/systemd/system -maxdepth 1 \\( -name '*.hardway-tmp.*' -o -name '*.hardway-prev' \\) 2>/dev/null; true",
  );
  return out.split('\n').filter(Boolean);
}

/** Temp files left here: in the inventory's dir, pki.dir, snapshots.dir and the runs' temp dir. */
export async function localLeftovers(inventoryFile: string): Promise<string[]> {
  const doc = validateInventory(await readFile(inventoryFile, 'utf8'), { file: inventoryFile }).inventory;
  const dirs = [path.dirname(inventoryFile), ...(doc ? [doc.pki.dir, doc.snapshots.dir] : [])];
  const left: string[] = [];
  for (const d of dirs) {
    for (const f of await readdir(d).catch(() => [] as string[])) {
      if (/\.hardway-tmp\.|\.part$|^\..*\.tmp$/.test(f)) left.push(path.join(d, f));
    }
  }
  for (const f of await readdir(RUN_TMP).catch(() => [] as string[])) left.push(path.join(RUN_TMP, f));
  return left;
}

/** Why the inventory is no longer what it was: invalid, or a comment lost. */
export async function inventoryProblems(file: string, comments: string[]): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const v = validateInventory(text, { file });
  return [...(v.inventory ? [] : ['no longer valid']), ...comments.filter((c) => !text.includes(c)).map((c) => `comment lost: ${c}`)];
}

export function commentsOf(text: string): string[] {
  return text.split('\n').flatMap((l) => (l.includes('#') ? [l.slice(l.indexOf('#')).trim()] : []));
}

export const allNodes = () => lab().nodes.map((n) => n.name);
