import { checkRebuilt } from '../cluster/check.js';
import type { ClusterFacts, Condition, NodeFacts } from '../cluster/condition.js';
import { gatherCondition } from '../cluster/gather.js';
import { connectStep, eachHost, newHosts, type HostsRun, type Connected } from '../engine/hosts.js';
import { runSteps, step } from '../engine/runner.js';
import { OperationError, UsageError } from '../errors.js';
import { clientUrl, findNode, peerUrl, unknownNodesMessage } from '../inventory/derive.js';
import { confirm } from '../engine/confirm.js';
import { moveAsideLines, movedAside, movedAsidePath, utcStamp } from '../node/ops.js';
import { ensurePki } from '../pki/ensure.js';
import { PKI_FILES } from '../pki/files.js';
import { must, retry } from '../engine/must.js';
import { memberList, waitHealthy } from '../etcd/health.js';
import { renderUnits } from '../provision/prepare.js';
import { execStartArgv } from '../render/unit-flags.js';
import { runUp, type UpReport } from '../provision/up.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq } from '../ssh/remote.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bufferSource } from '../release/artifacts.js';
import { etcdClient } from '../etcd/client.js';

/**
 * `hardway recover`: rebuilds a cluster that lost its quorum from the member with the newest data.
 *
 * Of the two ways etcd's disaster-recovery guide documents, this uses `--force-new-cluster` on that member, then adds
 * the others one at a time, rather than restoring its `member/snap/db` with `--skip-hash-check` onto every node:
 * - nothing it holds is lost: a forced member replays its whole WAL, where the db file alone lacks the entries its
 *   backend had not committed yet (up to a batch interval of writes when etcd was killed);
 * - the cluster keeps its ID, its token and its revisions (kube-apiserver's watches never go back in time, and the
 *   inventory is not edited);
 * - no multi-gigabyte copy of the db to every node: the others receive it from the leader as they join.
 * The forced run is a transient unit (`hardway-recover-etcd`), never a change to etcd.service: a reboot or a
 * killed run cannot leave a member that forces a new cluster again at its next start.
 *
 * Guarded like `snapshot restore`: every inventory node reachable, refused while a quorum is healthy (unless
 * --force) or when starting stopped members would do (`up`), says what it will do, asks on a terminal and needs
 * --yes without one; data dirs are moved aside, never deleted. A run killed anywhere is finished by the next one:
 * each step works from what the nodes show, and once the source runs alone, what is left is what `up` does.
 */

export interface RecoverOptions {
  from?: string;
  force?: boolean;
  yes?: boolean;
  isTTY?: boolean;
  json?: boolean;
  templates?: string;
  waitMs?: number;
  now?: Date;
}

export interface RecoverRun extends HostsRun {
  opts: RecoverOptions;
  stamp: string;
  /** Where the other members' data dirs go. */
  movedTo: string;
  facts?: ClusterFacts;
  condition?: Condition;
  /** The member the cluster is rebuilt from. */
  source?: NodeFacts;
  /** Only joins are left (an earlier run rebuilt the source): no guard, nothing destructive, what `up` does. */
  joinOnly?: boolean;
  done: string[];
  checks: string[];
  up?: UpReport;
}

/** The transient unit the source runs once with --force-new-cluster. */
export const FORCED_UNIT = 'hardway-recover-etcd.service';

const did = (r: RecoverRun, line: string) => {
  r.done.push(line);
  r.log(line);
};
const everyNode = (what: string) => ({ which: () => true, barrier: what });
const hostOf = (r: RecoverRun, name: string) => r.hosts.find((h) => h.node.name === name)! as Connected;

/**
 * What to do, from the condition (pure): the source to rebuild from, only the joins, or a refusal that names what
 * repairs the cluster instead. Nothing has been changed when it throws.
 */
export function decideRecover(inv: RecoverRun['inv'], facts: ClusterFacts, condition: Condition, opts: Pick<RecoverOptions, 'from' | 'force'>): { source?: NodeFacts; joinOnly?: boolean } {
  const nothing = 'Nothing was changed.';
  const withData = facts.nodes.filter((n) => n.hasData);
  const newest = () => withData.reduce<NodeFacts | undefined>((b, n) => (!b || (n.revision ?? -1) > (b.revision ?? -1) ? n : b), undefined);
  const named = (): NodeFacts | undefined => {
    if (!opts.from) return undefined;
    if (!findNode(inv, opts.from)) throw new UsageError(unknownNodesMessage(inv, [opts.from], '--from'));
    const n = facts.nodes.find((x) => x.node === opts.from)!;
    if (!n.hasData) throw new OperationError(`--from ${opts.from}: its data dir holds no etcd data, nothing to rebuild from. ${nothing}`);
    return n;
  };
  const from = named();
  const pick = (fallback?: string) => from ?? facts.nodes.find((n) => n.node === fallback) ?? newest();
  switch (condition.kind) {
    case 'quorum-lost':
      if (condition.startable && !opts.force) throw new OperationError(`${condition.headline} ${condition.fix}; no rebuild is needed. ${nothing}`);
      return { source: pick(condition.source?.node) };
    case 'address-changed':
      // With a quorum on the old addresses, `up` updates the member; without one, rebuilt with the new addresses.
      if (facts.live && !opts.force) throw new OperationError(`${condition.headline}; ${condition.fix}. ${nothing}`);
      return { source: pick() };
    case 'healthy':
    case 'degraded': {
      // An earlier recover rebuilt the source and was stopped before every node joined: the rest is joins.
      const live = facts.live!;
      const missing = facts.nodes.filter((n) => !live.members.some((m) => m.peerURLs.includes(n.peerUrl)));
      const allKnown = live.members.every((m) => facts.nodes.some((n) => m.peerURLs.includes(n.peerUrl)));
      if (!opts.force && allKnown && missing.length && missing.every((n) => !n.hasData)) return { joinOnly: true };
      if (!opts.force) throw new OperationError(`the cluster's quorum is healthy (${condition.headline}): nothing to recover. ${nothing} (--force rebuilds it anyway from one member)`);
      return { source: pick(live.members.find((m) => m.id === live.leader)?.name) };
    }
    case 'stopped':
      if (!opts.force) throw new OperationError(`${condition.headline}: no rebuild is needed. ${nothing}`);
      return { source: pick() };
    case 'two-clusters':
      if (!from) throw new OperationError(`${condition.headline}. Name the member to rebuild from with --from NODE. ${nothing}`);
      return { source: from };
    default:
      throw new OperationError(`${condition.headline}: nothing to recover. ${nothing}`);
  }
}

export const recoverSteps = {
  reachable: step<RecoverRun>('every node reachable', async (r) => {
    const down = r.hosts.filter((h) => !h.remote);
    if (down.length) {
      throw new OperationError(
        `every inventory node must be reachable to rebuild the cluster, and ${down.map((h) => `${h.node.name} (${h.outcome.reason})`).join(', ')} ${down.length === 1 ? 'is' : 'are'} not. Nothing was changed. ` +
          `To rebuild without ${down.length === 1 ? 'it' : 'them'}, take ${down.map((h) => h.node.name).join(', ')} out of ${r.inv.file} and run 'hardway recover' again; once ${down.length === 1 ? 'it is' : 'they are'} back, add ${down.length === 1 ? 'it' : 'them'} to the inventory and run 'hardway up'.`,
      );
    }
  }),

  /** A killed run can leave the forced member running: it is stopped, so that what the nodes hold decides alone. */
  leftovers: step<RecoverRun>('stop a forced member left by a killed run', async (r) => {
    await eachHost(
      r.hosts,
      async (h) => {
        const out = await must(h.remote, `if systemctl is-active --quiet ${FORCED_UNIT}; then systemctl stop ${FORCED_UNIT}; echo hardway:stopped; fi; systemctl reset-failed ${FORCED_UNIT} 2>/dev/null || true`, `stopping ${FORCED_UNIT}`);
        if (out.includes('hardway:stopped')) did(r, `${h.node.name}: stopped ${FORCED_UNIT}, left running by an earlier recover`);
      },
      everyNode('nothing else was changed'),
    );
  }),

  gather: step<RecoverRun>('read the cluster', async (r) => {
    const { facts, condition } = await gatherCondition(r.inv, r.hosts);
    r.facts = facts;
    r.condition = condition;
    r.log(`condition: ${condition.headline}`);
    const d = decideRecover(r.inv, facts, condition, r.opts);
    if (d.joinOnly) r.joinOnly = true;
    if (d.source) r.source = d.source;
    if (!r.joinOnly && !r.source) throw new OperationError(`no node holds etcd data to rebuild from: 'hardway snapshot restore FILE' rebuilds the cluster from a snapshot. Nothing was changed.`);
  }),

  confirm: step<RecoverRun>(
    'confirm',
    async (r) => {
      const s = r.source!;
      const others = r.inv.nodes.filter((n) => n.name !== s.node);
      const withData = r.facts!.nodes.filter((n) => n.node !== s.node && n.hasData);
      const plan = [
        `rebuild the cluster from ${s.node} (revision ${s.revision ?? 'unknown'}, the newest data${r.opts.from ? ', chosen with --from' : ''}): everything it holds is kept`,
        `stop etcd on ${r.inv.nodes.map((n) => n.name).join(', ')}`,
        ...(withData.length ? [`move ${r.inv.etcd.dataDir} to ${r.movedTo} on ${withData.map((n) => `${n.node} (revision ${n.revision ?? 'unknown'})`).join(', ')} (nothing is deleted)`] : []),
        `start ${s.node} once with --force-new-cluster (a transient unit, ${FORCED_UNIT}): it becomes a one-member cluster with the same cluster ID, token and revisions`,
        ...(others.length ? [`add ${others.map((n) => n.name).join(', ')} back one at a time, as new members ('hardway up')`] : []),
        'check: one cluster ID, equal hashkv on every member, revision at least the source\'s',
      ];
      r.log(['this will:', ...plan.map((l) => `  - ${l}`)].join('\n'));
      await confirm(`rebuild the cluster from ${s.node}?`, r.opts);
    },
    (r) => !r.joinOnly,
  ),

  stop: step<RecoverRun>(
    'stop etcd everywhere',
    async (r) => {
      // The source last: the others must not run while it becomes a cluster of one (an emptied member could then
      // bootstrap a cluster of its own under the same ID).
      // Unconditionally: a crash-looping unit waiting to restart is 'activating', and only a stop cancels that restart.
      // The others are also disabled until they join ('up' enables them): a reboot meanwhile must not start an
      // emptied member with --initial-cluster-state=new, which, once the source no longer lists it, could bootstrap
      // a second cluster under the same ID.
      const stop = (disable: boolean) => async (h: Connected) => {
        const out = await must(
          h.remote,
          `state=$(systemctl is-active etcd.service 2>/dev/null || true); systemctl ${disable ? 'disable --now' : 'stop'} etcd.service >/dev/null 2>&1 || systemctl stop etcd.service; systemctl reset-failed etcd.service 2>/dev/null || true; echo "hardway:was=$state"`,
          'systemctl stop etcd',
        );
        const was = /hardway:was=(\S*)/.exec(out)?.[1] ?? '';
        if (was && was !== 'inactive' && was !== 'unknown') did(r, `${h.node.name}: stopped etcd (it was ${was})${disable ? ', disabled until it joins' : ''}`);
      };
      await eachHost(r.hosts, stop(true), { which: (h) => h.node.name !== r.source!.node, barrier: 'stopping etcd failed' });
      await eachHost(r.hosts, stop(false), { which: (h) => h.node.name === r.source!.node, barrier: 'stopping etcd failed' });
    },
    (r) => !r.joinOnly,
  ),

  moveAside: step<RecoverRun>(
    'move the other data dirs aside',
    async (r) => {
      await eachHost(
        r.hosts,
        async (h) => {
          const out = await must(h.remote, ['set -e', ...moveAsideLines(r.inv.etcd.dataDir, r.movedTo)].join('\n'), `moving ${r.inv.etcd.dataDir} aside`);
          const moved = movedAside(out, r.inv.etcd.dataDir, r.movedTo);
          if (moved) did(r, `${h.node.name}: moved ${moved.text}`);
        },
        { which: (h) => h.node.name !== r.source!.node, barrier: 'moving the data dirs aside failed' },
      );
    },
    (r) => !r.joinOnly,
  ),

  /**
   * The source gets the inventory's unit and certificates before its forced start: after an address change they
   * are what lets it listen on, and be reached at, its new address.
   */
  prepareSource: step<RecoverRun>(
    "install the source's unit and certificates",
    async (r) => {
      const h = hostOf(r, r.source!.node);
      if (r.inv.etcd.tls) {
        const pki = await ensurePki(r.inv);
        for (const line of pki.messages) r.log(`pki: ${line}`);
        for (const [name, to] of [
          [PKI_FILES.ca, REMOTE_PATHS.caCert],
          [PKI_FILES.cert, REMOTE_PATHS.cert],
          [PKI_FILES.key, REMOTE_PATHS.key],
        ] as const) {
          await h.remote.upload(bufferSource(await readFile(path.join(r.inv.pki.dir, name))), to, 0o600);
        }
      }
      const unit = (await renderUnits(r.inv, [h.node], r.opts.templates ? { templates: r.opts.templates } : {}, r.log)).get(h.node.name)!;
      await h.remote.upload(unit, REMOTE_PATHS.unit, 0o644);
      await must(h.remote, 'systemctl daemon-reload', 'systemctl daemon-reload');
    },
    (r) => !r.joinOnly,
  ),

  force: step<RecoverRun>(
    'force a new cluster on the source',
    async (r) => {
      const h = hostOf(r, r.source!.node);
      const unitText = await must(h.remote, `cat ${shq(REMOTE_PATHS.unit)}`, 'reading etcd.service');
      const argv = [...execStartArgv(unitText), '--force-new-cluster'];
      const own = [clientUrl(h.node)];
      // Type=notify: systemd-run returns once etcd says it is ready (a cluster of one elects itself at once).
      await must(
        h.remote,
        `systemd-run --unit=${FORCED_UNIT} --collect --property=Type=notify --property=TimeoutStartSec=120 --property=LimitNOFILE=65536 -- ${argv.map(shq).join(' ')}`,
        `starting ${h.node.name} with --force-new-cluster`,
        150_000,
      );
      did(r, `${h.node.name}: started once with --force-new-cluster (${FORCED_UNIT})`);
      try {
        await waitHealthy(h.remote, [h.node], r.opts.waitMs ?? 60_000, r.log);
        const { members } = await memberList(h.remote, [h.node]);
        const self = members[0];
        if (members.length !== 1 || !self) throw new OperationError(`after --force-new-cluster ${h.node.name} lists ${members.length} members, not 1`);
        // Its member keeps the peer URL it had: after an address change, set to the inventory's (a cluster of one commits alone).
        if (!self.peerURLs.includes(peerUrl(h.node))) {
          await retry(() => etcdClient(h.remote, own).memberUpdate(self.id, peerUrl(h.node)), 20_000);
          did(r, `${h.node.name}: member ${self.id} peer URL updated to ${peerUrl(h.node)}`);
        }
      } finally {
        await must(h.remote, `systemctl stop ${FORCED_UNIT}; systemctl reset-failed ${FORCED_UNIT} 2>/dev/null || true`, `stopping ${FORCED_UNIT}`);
      }
      await must(h.remote, 'systemctl enable etcd.service >/dev/null 2>&1; systemctl start etcd.service', 'systemctl start etcd', 150_000);
      await waitHealthy(h.remote, [h.node], r.opts.waitMs ?? 60_000, r.log);
      did(r, `${h.node.name}: etcd.service runs it as a one-member cluster`);
    },
    (r) => !r.joinOnly,
  ),
};

/** What was connected for the rebuild is closed before the joins: `up` connects on its own. */
async function rebuild(run: RecoverRun): Promise<void> {
  const s = recoverSteps;
  await runSteps(run, [connectStep<RecoverRun>(), s.reachable, s.leftovers, s.gather, s.confirm, s.stop, s.moveAside, s.prepareSource, s.force], { flow: 'recover' });
}

export function recoverRun(base: HostsRun, opts: RecoverOptions): RecoverRun {
  const stamp = utcStamp(opts.now ?? new Date());
  return { ...base, opts, stamp, movedTo: movedAsidePath(base.inv.etcd.dataDir, stamp, 'pre-recover'), done: [], checks: [] };
}

export async function recoverCluster(run: RecoverRun): Promise<RecoverRun> {
  await rebuild(run);
  // The joins are what `up` does for empty nodes next to a running cluster: member add, a unit for `existing`,
  // start, healthy, one at a time.
  run.log(run.joinOnly ? `the cluster runs (${run.condition!.headline}); adding the inventory nodes that are not members, as 'hardway up' does` : 'adding the other members back');
  run.up = await runUp(run.inv, { json: !!run.opts.json, ...(run.opts.templates ? { templates: run.opts.templates } : {}), ...(run.opts.waitMs ? { waitMs: run.opts.waitMs } : {}) });
  const failed = run.up.nodes.filter((n) => n.status !== 'ok');
  if (failed.length) throw new OperationError(`adding the members back failed: ${failed.map((f) => `${f.node}: ${f.reason}`).join('; ')}. Run 'hardway recover' again to finish`);
  for (const n of run.up.nodes) for (const d of n.done) run.done.push(`${n.node}: ${d}`);
  await checkAfter(run);
  return run;
}

async function checkAfter(run: RecoverRun): Promise<void> {
  run.hosts = newHosts(run.inv.nodes);
  await runSteps(run, [
    connectStep<RecoverRun>(),
    step<RecoverRun>('check the rebuilt cluster', async (r) => {
      const probe = r.hosts.find((h) => h.remote)?.remote;
      if (!probe) throw new OperationError('no node reachable to check the rebuilt cluster');
      const from = r.source?.revision ?? 0;
      const { checks } = await checkRebuilt(probe, r.inv, { revision: from, ...(r.source ? { note: `${r.source.node}'s revision when the rebuild began` } : {}) });
      r.checks.push(...checks);
    }),
  ]);
}

export function recoverReport(r: RecoverRun): string[] {
  const aside = r.done.some((d) => d.includes(r.movedTo));
  return [
    r.source ? `rebuilt the cluster from ${r.source.node}` : 'the cluster was already rebuilt: added the missing members',
    ...r.checks.map((c) => `checked: ${c}`),
    ...(aside ? [`the other members' old data dirs stay in ${r.movedTo}: hardway never deletes them; remove them once you no longer need them`] : []),
  ];
}
