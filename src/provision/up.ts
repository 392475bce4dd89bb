import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Listr, ListrLogger, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import { CheckFailed, OperationError, UsageError } from '../errors.js';
import { selectNodes } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { checkPki } from '../pki/check.js';
import { ensurePki } from '../pki/ensure.js';
import { PKI_FILES } from '../pki/files.js';
import { closeAll, connectAll, type Connection } from '../ssh/connect.js';
import { ChannelRefused, shq, uploadTimeoutMs, type Remote, type UploadSource } from '../ssh/remote.js';
import { peerUrl } from '../inventory/derive.js';
import { endpointsOf, etcdctlCommand, type MemberInfo } from '../verify/etcdctl.js';
import { bootstrapFreeSha256, stateFreeSha256, walDirOf } from './unit-state.js';
import { bufferSource, etcdBinaries } from './artifacts.js';
import { desiredNode, type Artifacts, type DesiredNode } from './desired.js';
import { observeScript, parseObserved, type ObservedNode } from './observe.js';
import { warn } from '../output.js';
import { membersNotInInventory, offlineView, planCluster, planNode, rollingOrder, type ClusterPlan, type FileAction, type NodePlan } from './plan.js';
import { clusterHealth, leaderName, memberList, waitHealthy, type ClusterView } from './health.js';

/** `hardway up` and `hardway plan`: the I/O around the pure plan. */

export interface UpOptions {
  nodes?: string[];
  acceptNew?: boolean;
  dryRun?: boolean;
  json?: boolean;
  lint?: boolean;
  templates?: string;
  /** How long to wait for the cluster to become healthy (default 60 s). */
  waitMs?: number;
  /**
   * Restart changed running members all at once instead of one by one: for a cluster with no quorum to keep
   * (an election loop), where a rolling restart would wait for a health that cannot come.
   */
  restartTogether?: boolean;
}

export interface NodeOutcome {
  node: string;
  status: 'ok' | 'failed' | 'conflict';
  reason?: string;
  plan?: NodePlan;
  /** What was done: uploads, chmods, systemd actions. */
  done: string[];
}

export interface UpReport {
  changed: boolean;
  nodes: NodeOutcome[];
  cluster?: ClusterView;
}

const log = (json: boolean | undefined, line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

function unitSource(text: string): UploadSource {
  return { ...bufferSource(Buffer.from(text)), stateFreeSha256: stateFreeSha256(text), bootstrapFreeSha256: bootstrapFreeSha256(text) };
}

/** Everything that runs on the laptop before any connection: PKI, units (linted), binaries. */
export async function prepareArtifacts(inv: Inventory, nodes: NodeSpec[], opts: UpOptions): Promise<Artifacts> {
  if (opts.dryRun) {
    // `plan` changes nothing, not even locally: say what `up` would issue instead of issuing it.
    for (const p of (await checkPki(inv)).problems) log(opts.json, `pki: up would fix: ${p}`);
  } else {
    const pki = await ensurePki(inv);
    if (pki.ca === 'kept' && pki.leaf === 'kept' && !pki.notes.length) log(opts.json, `pki: kept ca.pem and kubernetes.pem in ${inv.pki.dir}`);
    else for (const line of pki.messages) log(opts.json, `pki: ${line}`);
  }
  // Loaded on use: `plan`/`up` are the only commands that render.
  const { renderAndLint } = await import('../render/index.js');
  const units = new Map<string, ReturnType<typeof bufferSource>>();
  const lintErrors: string[] = [];
  for (const node of nodes) {
    const { text, problems } = await renderAndLint(inv, node, opts.templates ? { templatesDir: opts.templates } : {});
    for (const p of problems) {
      const line = `${node.name}: ${p.file}:${p.line}: ${p.severity}: ${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`;
      if (p.severity === 'error') lintErrors.push(line);
      else log(opts.json, `lint: ${line}`);
    }
    units.set(node.name, unitSource(text));
  }
  if (lintErrors.length && opts.lint !== false) {
    throw new CheckFailed(`the rendered etcd.service has lint errors; not shipping it:\n${lintErrors.join('\n')}\n(--no-lint ships it anyway)`);
  }
  for (const l of lintErrors) log(opts.json, `lint (ignored by --no-lint): ${l}`);
  const bin = await etcdBinaries(inv, (line) => log(opts.json, line));
  // In a dry run a certificate not issued yet stands as a file that cannot match what the node has.
  const read = async (name: string) =>
    bufferSource(await readFile(path.join(inv.pki.dir, name)).catch((e: NodeJS.ErrnoException) => (opts.dryRun && e.code === 'ENOENT' ? Buffer.from(`(${name}: not issued yet)`) : Promise.reject(e))));
  return {
    etcd: bin.etcd,
    etcdctl: bin.etcdctl,
    ca: await read(PKI_FILES.ca),
    cert: await read(PKI_FILES.cert),
    key: await read(PKI_FILES.key),
    units,
  };
}

async function must(remote: Remote, cmd: string, what: string, timeoutMs = 60_000): Promise<string> {
  const r = await remote.run(cmd, { timeoutMs });
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${timeoutMs / 1000} s` : (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ') || `exit ${r.code}`;
    throw new Error(`${what}: ${why}`);
  }
  return r.stdout;
}

export async function observeNode(remote: Remote, want: DesiredNode, dataDir: string, recordSums: boolean): Promise<ObservedNode> {
  // A unit of the user's own may keep the WAL apart (--wal-dir): data is where etcd looks for it.
  const walDir = walDirOf(want.files.find((f) => f.role === 'unit')?.source.data?.toString('utf8') ?? '');
  const script = observeScript({ files: want.files.map((f) => f.path), dirs: want.dirs.map((d) => d.path), dataDir, recordSums, ...(walDir ? { walDir } : {}) });
  return parseObserved(await must(remote, script, 'reading the node state'));
}

/** Retries a step that fails for a while before it can succeed, up to `ms`. */
async function retry<T>(step: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await step();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** The channels one node's uploads use at once: below OpenSSH's default MaxSessions (10). */
const UPLOAD_CHANNELS = 6;

/** fn over items, at most `limit` at a time; every item runs (none is abandoned mid-way), results in item order. */
async function settleAll<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!).then(
        (value): PromiseSettledResult<R> => ({ status: 'fulfilled', value }),
        (reason: unknown): PromiseSettledResult<R> => ({ status: 'rejected', reason }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The one command that prepares a node for its uploads: the dirs (created or chmodded), temp files left by a run
 * killed mid-upload (older than 10 minutes, so never a live one), and the files whose content is right but whose mode
 * is not. Pure.
 */
export function prepareCommand(plan: Pick<NodePlan, 'dirs' | 'files'>): string | undefined {
  // One command per line: set -e ignores a failure on the left of &&.
  const lines = plan.dirs.flatMap((d) => [`mkdir -p ${shq(d.path)}`, `chmod ${d.mode.toString(8)} ${shq(d.path)}`]);
  const uploadDirs = [...new Set(plan.files.filter((f) => f.upload).map((f) => path.posix.dirname(f.path)))];
  if (uploadDirs.length) {
    lines.push(`for d in ${uploadDirs.map(shq).join(' ')}; do find "$d" -maxdepth 1 -name '.*.hardway-tmp.*' -mmin +10 -delete 2>/dev/null || true; done`);
  }
  for (const f of plan.files) if (!f.upload) lines.push(`chmod ${f.mode.toString(8)} ${shq(f.path)}`);
  return lines.length ? ['set -e', ...lines].join('\n') : undefined;
}

/**
 * Writes what the plan says to one node, starting nothing: one command for the dirs and modes, then every file
 * (atomically) in its own channel of the one connection, all at once. Each upload costs a round trip or more, so in
 * sequence the three PEMs and the unit alone took ~0.3 s per node. A server that allows fewer sessions (sshd's
 * MaxSessions) gets the files it refused one at a time.
 */
export async function applyFiles(remote: Remote, plan: NodePlan, report: (msg: string) => void, done: string[]): Promise<void> {
  const prepare = prepareCommand(plan);
  if (prepare) await must(remote, prepare, 'preparing dirs and modes');
  for (const d of plan.dirs) done.push(`${d.reason === 'missing' ? 'created' : 'chmod'} ${d.path}`);
  for (const f of plan.files) if (!f.upload) done.push(`chmod ${f.mode.toString(8)} ${f.path}`);
  const uploads = plan.files.filter((f) => f.upload);
  // The files share the link: each one's timeout allows for all of them.
  const timeoutMs = uploadTimeoutMs(uploads.reduce((sum, f) => sum + f.bytes, 0));
  const send = async (f: FileAction) => {
    let last = 0;
    const onBytes = (sent: number) => {
      // A progress line per quarter of a big file: visible in a TTY, not a flood in CI logs.
      if (f.bytes > 1e6 && sent - last >= f.bytes / 4 && sent < f.bytes) {
        last = sent;
        report(`${f.path} ${mb(sent)} / ${mb(f.bytes)}`);
      }
    };
    await remote.upload(f.file.source, f.path, f.mode, { onBytes, timeoutMs });
    report(`wrote ${f.path} (${f.reason})`);
  };
  const results = await settleAll(uploads, UPLOAD_CHANNELS, send);
  const refused = uploads.filter((_, i) => results[i]!.status === 'rejected' && (results[i] as PromiseRejectedResult).reason instanceof ChannelRefused);
  const retried = await settleAll(refused, 1, send);
  refused.forEach((f, i) => (results[uploads.indexOf(f)] = retried[i]!));
  results.forEach((r, i) => r.status === 'fulfilled' && done.push(`wrote ${uploads[i]!.path} (${uploads[i]!.reason})`));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new OperationError(failures.map((e) => e.message).join('; '));
}

/**
 * The systemd step of a node as one command, with one reload: `systemctl enable` reloads the manager itself, so an
 * explicit daemon-reload is only needed when the unit is already enabled (measured: the double reload cost 0.6 s on 3
 * nodes, 1.4 s on 7). With `start`, the member is started without blocking (Type=notify would wait for quorum).
 */
export function systemdStep(plan: Pick<NodePlan, 'daemonReload' | 'enable'>, start: boolean): { command: string; done: string[] } {
  const parts: string[] = [];
  const done: string[] = [];
  if (plan.daemonReload && !plan.enable) parts.push('systemctl daemon-reload'), done.push('daemon-reload');
  if (plan.enable) parts.push(`systemctl enable${start ? ' --now --no-block' : ''} etcd.service`), done.push('enable');
  if (start && !plan.enable) parts.push('systemctl start --no-block etcd.service');
  if (start) done.push('start');
  return { command: parts.join(' && '), done };
}

interface NodeWork {
  node: NodeSpec;
  remote?: Remote;
  observed?: ObservedNode;
  outcome: NodeOutcome;
}

function describePlan(p: NodePlan): string[] {
  if (p.conflict) return [`CONFLICT: ${p.conflict}`];
  const lines = [
    ...p.dirs.map((d) => `${d.reason === 'missing' ? 'create' : 'chmod '} ${d.path} (${d.mode.toString(8)}, ${d.reason})`),
    ...p.files.map((f) => `${f.upload ? 'write ' : 'chmod '} ${f.path} (${f.mode.toString(8)}, ${f.reason}${f.upload ? `, ${f.bytes} bytes` : ''})`),
  ];
  if (p.daemonReload) lines.push('systemctl daemon-reload');
  if (p.enable) lines.push('systemctl enable etcd');
  if (p.rejoin?.removeId) lines.push(`etcdctl member remove ${p.rejoin.removeId} (its old member; the data dir is empty)`);
  if (p.rejoin?.add) lines.push(`etcdctl member add ${p.node} (joins the running cluster as existing)`);
  if (p.start) lines.push('systemctl start etcd');
  if (p.restart) lines.push(`systemctl restart etcd (rolling, one member at a time)${p.stale ? `: ${p.stale}` : ''}`);
  else if (p.running && p.files.some((f) => f.upload)) lines.push('no restart: only flags etcd reads when it bootstraps a member changed');
  return lines;
}

export function formatPlanText(plan: ClusterPlan, failed: NodeOutcome[]): string {
  const out: string[] = [];
  for (const p of plan.nodes) {
    const state = p.state === 'new' ? 'new node' : p.state === 'member' ? (p.running ? 'running member' : 'stopped member') : 'holds data from another cluster';
    const lines = describePlan(p);
    out.push(`${p.node} (${state}): ${lines.length ? '' : 'nothing to do'}`);
    for (const l of lines) out.push(`  ${l}`);
  }
  for (const f of failed) out.push(`${f.node}: unreachable: ${f.reason}`);
  return out.join('\n');
}

/** listr2 options that send a renderer's output (the default one's and the simple one's logger) to stderr. */
function toStderr() {
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  return { processOutput, logger: new ListrLogger({ useIcons: true, processOutput }) };
}

function isTTY(): boolean {
  return !!process.stdout.isTTY && !process.env.CI;
}

/** Connect, observe and plan every node in parallel; a node that fails is recorded, the others go on. */
async function connectAndPlan(
  inv: Inventory,
  nodes: NodeSpec[],
  artifacts: Artifacts,
  opts: UpOptions,
): Promise<{ work: NodeWork[]; conns: Connection[]; members?: MemberInfo[] }> {
  const conns = await connectAll(inv, nodes, { acceptNew: !!opts.acceptNew });
  const work = await Promise.all(
    conns.map(async (c): Promise<NodeWork> => {
      const outcome: NodeOutcome = { node: c.node.name, status: 'ok', done: [] };
      if ('error' in c) return { node: c.node, outcome: { ...outcome, status: 'failed', reason: c.error.message } };
      try {
        const observed = await observeNode(c.remote, desiredNode(inv, c.node, artifacts), inv.etcd.dataDir, !opts.dryRun);
        return { node: c.node, remote: c.remote, observed, outcome };
      } catch (e) {
        return { node: c.node, remote: c.remote, outcome: { ...outcome, status: 'failed', reason: (e as Error).message } };
      }
    }),
  );
  // A running member knows the truth about membership: ask it once, for every node's plan.
  const asker = work.find((w) => w.observed?.unit.active === 'active')?.remote;
  let unanswered: string | undefined;
  const live = asker
    ? await memberList(asker, inv.nodes).catch((e: Error) => {
        unanswered = `${asker.name}: ${e.message}`;
        return undefined;
      })
    : undefined;
  const offline = live ? undefined : offlineView(inv, work.flatMap((w) => (w.observed ? [{ node: w.node, have: w.observed }] : [])), unanswered);
  for (const w of work) {
    if (!w.observed) continue;
    const plan = planNode(inv, desiredNode(inv, w.node, artifacts), w.observed, live, offline);
    w.outcome.plan = plan;
    if (plan.conflict) Object.assign(w.outcome, { status: 'conflict', reason: plan.conflict });
  }
  if (live) await planRejoins(inv, work, artifacts, opts, live.members);
  for (const line of live ? membersNotInInventory(inv, live) : []) warn(line);
  return { work, conns, ...(live ? { members: live.members } : {}) };
}

/**
 * An empty node whose member the running cluster already knows (it published client URLs, so it ran once) was
 * wiped or replaced: starting it with --initial-cluster-state=new would never join. Plan it as a re-join instead.
 */
async function planRejoins(inv: Inventory, work: NodeWork[], artifacts: Artifacts, opts: UpOptions, members: MemberInfo[]): Promise<void> {
  const fresh = work.filter((w) => w.observed && w.outcome.plan?.state === 'new' && !w.outcome.plan.running && !w.outcome.plan.conflict);
  if (!fresh.length) return;
  const { renderAndLint } = await import('../render/index.js');
  const joining = { ...inv, cluster: { ...inv.cluster, initialState: 'existing' as const } };
  for (const w of fresh) {
    const m = members.find((x) => x.peerURLs.includes(peerUrl(w.node)));
    // Listed with a name but never published: a bootstrap member that has not started yet joins with `new`.
    if (m && m.name && m.clientURLs.length === 0) continue;
    const rejoin = m ? (m.name ? { removeId: m.id, add: true } : { add: false }) : { add: true };
    const { text } = await renderAndLint(joining, w.node, opts.templates ? { templatesDir: opts.templates } : {});
    const units = new Map(artifacts.units).set(w.node.name, unitSource(text));
    const want = desiredNode(inv, w.node, { ...artifacts, units });
    w.outcome.plan = { ...planNode(inv, want, w.observed!), rejoin };
  }
}

export async function runUp(inv: Inventory, opts: UpOptions): Promise<UpReport> {
  const { nodes, unknown } = selectNodes(inv, opts.nodes);
  if (unknown.length) throw new UsageError(`--nodes: no node named ${unknown.join(', ')} in ${inv.file}`);
  const artifacts = await prepareArtifacts(inv, nodes, opts);
  const { work, conns, members } = await connectAndPlan(inv, nodes, artifacts, opts);
  try {
    const plans = work.flatMap((w) => (w.outcome.plan && !w.outcome.plan.conflict ? [w.outcome.plan] : []));
    const cluster = planCluster(plans);
    const unreachable = work.filter((w) => w.outcome.status === 'failed').map((w) => w.outcome);
    if (opts.dryRun) {
      if (!opts.json) process.stdout.write(`${formatPlanText(cluster, unreachable)}\n`);
      return { changed: cluster.changed, nodes: work.map((w) => w.outcome) };
    }

    // Phase 1, all nodes at once: files, daemon-reload, enable; a stopped member starts as soon as its own files are
    // in. Starts stay 200 ms apart: etcd 3.4 asks each peer whether the cluster exists (1 s timeout each) and
    // members started in the same instant keep each other waiting (measured on 7 nodes: 9.4 s to healthy, 4.9 s spaced).
    const ready = work.filter((w) => w.outcome.status === 'ok' && w.remote);
    let nextStartAt = 0;
    const systemdFor = async (w: NodeWork) => {
      const plan = w.outcome.plan!;
      const start = plan.start && !plan.rejoin;
      const step = systemdStep(plan, start);
      if (!step.command) return;
      if (start) {
        const at = Math.max(Date.now(), nextStartAt);
        nextStartAt = at + 200;
        await new Promise((r) => setTimeout(r, at - Date.now()));
      }
      await must(w.remote!, step.command, step.done.join(', '));
      w.outcome.done.push(...step.done);
    };
    const tasks = new Listr(
      ready.map((w) => ({
        title: w.node.name,
        task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
          const plan = w.outcome.plan!;
          try {
            if (plan.dirs.length || plan.files.length) await applyFiles(w.remote!, plan, (m) => (task.output = m), w.outcome.done);
            await systemdFor(w);
            task.title = `${w.node.name}: ${w.outcome.done.length ? `${w.outcome.done.length} change(s)` : 'files up to date'}`;
          } catch (e) {
            Object.assign(w.outcome, { status: 'failed', reason: (e as Error).message });
            throw e;
          }
        },
      })),
      {
        concurrent: true,
        exitOnError: false,
        renderer: opts.json ? 'silent' : isTTY() ? 'default' : 'simple',
        fallbackRenderer: 'simple',
        // Progress goes to stderr: stdout carries the result (tables, or --json).
        rendererOptions: { collapseErrors: false, ...toStderr() },
        fallbackRendererOptions: toStderr(),
      } as never,
    );
    await tasks.run();

    // Phase 2: start or restart, keeping quorum.
    const live = ready.filter((w) => w.outcome.status === 'ok');
    const livePlans = live.map((w) => w.outcome.plan!);
    const probe = live[0]?.remote;
    const endpointsNodes = live.map((w) => w.node);
    const waitMs = opts.waitMs ?? 60_000;
    // A health check is a linearizable read: allow it a few heartbeats on a slow (tuned) cluster.
    const healthTimeoutS = Math.max(3, Math.ceil((2 * inv.etcd.heartbeatInterval) / 1000) + 2);
    // Re-joins one at a time (etcd refuses a second unstarted member while one is pending), through a running member.
    const asker = live.find((w) => w.outcome.plan?.running)?.remote;
    for (const p of livePlans.filter((x) => x.rejoin)) {
      const w = live.find((x) => x.node.name === p.node)!;
      try {
        if (!asker) throw new Error('no running member to re-add it through');
        const eps = endpointsOf(live.filter((x) => x.outcome.plan?.running).map((x) => x.node));
        const { removeId, add } = p.rejoin!;
        if (removeId) {
          log(opts.json, `${p.node}: its data dir is empty but the cluster has its old member ${removeId}: removing it`);
          await must(asker, etcdctlCommand(eps, ['member', 'remove', removeId]), 'etcdctl member remove');
          w.outcome.done.push(`removed old member ${removeId}`);
        }
        if (add) {
          log(opts.json, `${p.node}: adding it to the running cluster`);
          // etcd accepts a membership change only once the leader has been connected to a quorum for a few seconds.
          await retry(() => must(asker, etcdctlCommand(eps, ['member', 'add', p.node, `--peer-urls=${peerUrl(w.node)}`]), 'etcdctl member add'), 30_000);
          w.outcome.done.push('member add');
        }
        await must(w.remote!, 'systemctl start --no-block etcd.service', 'systemctl start etcd');
        w.outcome.done.push('start (joining as existing)');
        const joined = live.filter((x) => x.outcome.plan?.running || x.node.name === p.node).map((x) => x.node);
        await waitHealthy(asker, joined, waitMs, (m) => log(opts.json, m), healthTimeoutS);
      } catch (e) {
        Object.assign(w.outcome, { status: 'failed', reason: (e as Error).message });
      }
    }
    const toStart = livePlans.filter((p) => p.start && !p.rejoin);
    if (toStart.length) log(opts.json, `started etcd on ${toStart.map((p) => p.node).join(', ')}; waiting for the cluster to be healthy`);
    if (probe && toStart.length) {
      try {
        await waitHealthy(probe, endpointsNodes, waitMs, (m) => log(opts.json, m), healthTimeoutS);
      } catch (e) {
        // Reported per node below (the health table says which); 'hardway doctor' explains why.
        log(opts.json, `${(e as Error).message}\nrun 'hardway doctor' to find out why`);
      }
    }
    if (opts.restartTogether) {
      const together = livePlans.filter((p) => p.restart);
      await Promise.all(
        together.map(async (p) => {
          const w = live.find((x) => x.node.name === p.node)!;
          await must(w.remote!, 'systemctl restart --no-block etcd.service', 'systemctl restart etcd');
          w.outcome.done.push('restart');
        }),
      );
      if (together.length) {
        log(opts.json, `restarted etcd on ${together.map((p) => p.node).join(', ')} together; waiting for a leader`);
        await waitHealthy(probe!, endpointsNodes, waitMs, (m) => log(opts.json, m), healthTimeoutS).catch((e: Error) => log(opts.json, e.message));
      }
    }
    const restarts = cluster.mode === 'rolling' && !opts.restartTogether ? rollingOrder(livePlans, probe ? await leaderName(probe, inv, members) : undefined) : [];
    for (const p of restarts) {
      const w = live.find((x) => x.node.name === p.node)!;
      const remote = w.remote!;
      try {
        // Each restart only once the other members are healthy, so quorum holds throughout (the member itself may
        // be the broken one this run repairs).
        const others = endpointsNodes.filter((n) => n.name !== p.node);
        if (others.length) await waitHealthy(probe!, others, waitMs, (m) => log(opts.json, m), healthTimeoutS);
        log(opts.json, `restarting etcd on ${p.node}${p.stale ? ` (${p.stale})` : ''}`);
        await must(remote, 'systemctl restart etcd.service', 'systemctl restart etcd', waitMs);
        w.outcome.done.push('restart');
        await waitHealthy(probe!, endpointsNodes, waitMs, (m) => log(opts.json, m), healthTimeoutS);
      } catch (e) {
        Object.assign(w.outcome, { status: 'failed', reason: (e as Error).message });
        // Stop the roll: restarting more members while one is unhealthy could lose quorum.
        log(opts.json, `stopping the rolling restart: ${p.node} did not come back healthy`);
        break;
      }
    }

    let view: ClusterView | undefined;
    if (probe) {
      try {
        view = await clusterHealth(probe, inv, endpointsNodes);
        const unhealthy = view.health.filter((h) => !h.health);
        for (const h of unhealthy) {
          const w = live.find((x) => h.endpoint.includes(`//${x.node.internalIp}:`));
          if (w && w.outcome.status === 'ok') Object.assign(w.outcome, { status: 'failed', reason: `etcd is not healthy: ${h.error ?? 'no answer'}` });
        }
      } catch (e) {
        for (const w of live) if (w.outcome.status === 'ok') Object.assign(w.outcome, { status: 'failed', reason: (e as Error).message });
      }
    }
    const changed = work.some((w) => w.outcome.done.length > 0);
    return { changed, nodes: work.map((w) => w.outcome), ...(view ? { cluster: view } : {}) };
  } finally {
    await closeAll(conns);
  }
}

