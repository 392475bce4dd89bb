import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { askCluster } from '../../src/etcd/cluster.js';
import { eachHost, newHosts, type Host } from '../../src/engine/hosts.js';
import { runSteps, type Step } from '../../src/engine/runner.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { desiredNode, type Artifacts } from '../../src/provision/desired.js';
import { computeMemberId, hexId } from '../../src/etcd/ids.js';
import type { ObservedNode } from '../../src/provision/observe.js';
import { type NodePlan } from '../../src/provision/plan.js';
import { joiningCluster } from '../../src/etcd/joining.js';
import { checkQuorumWithout, upStep, type UpRun } from '../../src/provision/up-steps.js';
import { FakeEtcd, scriptedRemote, type ScriptedRemote } from './scripted-remote.js';

const inv = validateInventory(
  'cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\nnodes:\n' +
    [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''),
  { file: '/i.yaml' },
).inventory!;

const ids = inv.nodes.map((n) => computeMemberId([`https://${n.internalIp}:2380`], 'tok-1'));
const members = (names = inv.nodes.map((n) => n.name)): [string, string, bigint][] => inv.nodes.map((n, i) => [names[i]!, n.internalIp, ids[i]!]);

const src = (sha: string, size = 10) => ({ data: Buffer.alloc(size), size, sha256: sha.padEnd(64, '0') });
const artifacts: Artifacts = {
  etcd: src('e1'),
  etcdctl: src('c1'),
  ca: src('ca'),
  cert: src('ce'),
  key: src('ke'),
  units: new Map(inv.nodes.map((n) => [n.name, src(`u-${n.name.slice(-1)}`)])),
};

const memberPlan = (node: string, extra: Partial<NodePlan> = {}): NodePlan => ({
  node,
  state: 'member',
  running: true,
  dirs: [],
  files: [],
  daemonReload: false,
  enable: false,
  start: false,
  restart: false,
  ...extra,
});

/**
 * Three scripted nodes sharing one log and one etcd cluster (`etcd`: its member list changes with member remove/add;
 * a node is healthy while its member has started and its IP is not in `down`).
 */
function lab(down = new Set<string>(), memberNodes = [0, 1, 2]) {
  const log: string[] = [];
  const etcd = new FakeEtcd(memberNodes.map((i) => members()[i]!).map(([name, ip, id]) => ({ name, ip, id })));
  for (const ip of down) etcd.down.add(ip);
  const remotes = inv.nodes.map((n) => scriptedRemote(n.name, log, etcd.rules(n.name, n.internalIp)));
  return { log, remotes, down: etcd.down, etcd };
}

function runOf(remotes: ScriptedRemote[], plans: (NodePlan | undefined)[], opts: UpRun['opts'] = {}): UpRun {
  const hosts = newHosts(inv.nodes).map((h, i) => ({ ...h, ...(remotes[i] ? { remote: remotes[i] } : {}), ...(plans[i] ? { plan: plans[i] } : {}) }));
  return { inv, hosts, opts: { waitMs: 1200, ...opts }, log: () => {}, plan: { nodes: plans.filter((p): p is NodePlan => !!p), mode: 'rolling', changed: true } };
}

const commands = (log: string[], re: RegExp) => log.filter((l) => re.test(l)).map((l) => l.split(':')[0]);

describe('step runner', () => {
  it('runs steps in order, skips what should not run, and cleans up every started step last-first, also after a failure', async () => {
    const seen: string[] = [];
    const s = (name: string, extra: Partial<Step<object>> = {}): Step<object> => ({
      title: name,
      run: async () => void seen.push(`run ${name}`),
      cleanUp: async () => void seen.push(`clean ${name}`),
      ...extra,
    });
    const failing = s('plan', { run: async () => Promise.reject(new Error('planning failed')) });
    await expect(runSteps({}, [s('connect'), s('skipped', { shouldRun: () => false }), failing, s('never')])).rejects.toThrow('planning failed');
    expect(seen).toEqual(['run connect', 'clean plan', 'clean connect']);
  });

  it('reports a failing clean-up without hiding the step error or skipping the other clean-ups', async () => {
    const seen: string[] = [];
    const steps: Step<object>[] = [
      { title: 'a', run: async () => {}, cleanUp: async () => void seen.push('clean a') },
      { title: 'b', run: async () => Promise.reject(new Error('b failed')), cleanUp: async () => Promise.reject(new Error('close failed')) },
    ];
    await expect(runSteps({}, steps, { onCleanUpError: (t, e) => seen.push(`${t}: ${(e as Error).message}`) })).rejects.toThrow('b failed');
    expect(seen).toEqual(['b: close failed', 'clean a']);
  });
});

describe('eachHost', () => {
  it('records a host failure in its outcome, lets the others finish, keeps to the limit, and a barrier names the failed', async () => {
    const { remotes } = lab();
    const hosts = newHosts(inv.nodes).map((h, i) => ({ ...h, remote: remotes[i]! }));
    let running = 0;
    let most = 0;
    const work = async (h: Host) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      if (h.node.name === 'controller-1') throw new TypeError('x is undefined');
      h.outcome.done.push('worked');
    };
    await eachHost(hosts, work, { limit: 2 });
    expect(most).toBe(2);
    expect(hosts.map((h) => h.outcome.status)).toEqual(['ok', 'failed', 'ok']);
    expect(hosts[1]!.outcome.reason).toBe('x is undefined');
    expect(hosts[2]!.outcome.done).toEqual(['worked']);
    // A failed host is not worked on again; a barrier fails the step naming it.
    await expect(eachHost(hosts, async (h) => void h.outcome.done.push('again'), { barrier: 'every node must be reachable' })).rejects.toThrow(
      'every node must be reachable: controller-1: x is undefined',
    );
    expect(hosts.map((h) => h.outcome.done)).toEqual([['worked', 'again'], [], ['worked', 'again']]);
  });
});

describe('askCluster', () => {
  it('asks the running members in order until one answers, and says when a running member did not', async () => {
    const { remotes, log } = lab();
    remotes[0]!.rules.unshift([/member list/, { code: 1, stderr: '{"level":"warn"}\nError: context deadline exceeded\n' }]);
    const hosts = newHosts(inv.nodes).map((h, i) => ({ ...h, remote: remotes[i]! }));
    const active = (h: Host) => h.node.name !== 'controller-2';
    const got = await askCluster(inv, hosts, { isActive: active });
    expect(got.answer?.asker.node.name).toBe('controller-1');
    expect(got.answer?.members.map((m) => m.name)).toEqual(['controller-0', 'controller-1', 'controller-2']);
    expect(commands(log, /member list/)).toEqual(['controller-0', 'controller-1']);
    remotes[1]!.rules.unshift([/member list/, { code: 1, timedOut: true }]);
    expect(await askCluster(inv, hosts, { isActive: active })).toEqual({ unanswered: 'controller-1: etcdctl member list timed out', reason: 'timed out' });
    // Nothing runs: nobody is asked, and that is not "unanswered".
    expect(await askCluster(inv, hosts, { isActive: () => false })).toEqual({});
  });
});

describe('up flow over scripted nodes', () => {
  it('restarts followers first, the leader last, and stops at the first member that does not come back healthy', async () => {
    const { remotes, log, down } = lab();
    // controller-0 leads (the fake's leader is its first member); controller-1's etcd does not come back.
    remotes[1]!.rules.unshift([/systemctl restart etcd/, () => (down.add(inv.nodes[1]!.internalIp), {})]);
    const run = runOf(remotes, inv.nodes.map((n) => memberPlan(n.name, { restart: true })));
    await runSteps(run, [upStep.rollingRestart]);
    expect(commands(log, /systemctl restart/)).toEqual(['controller-1']);
    expect(run.hosts[1]!.outcome).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^cluster not healthy after 1 s: https:\/\/10\.240\.0\.11:2379/), done: ['restart'] });
    expect([run.hosts[0]!.outcome, run.hosts[2]!.outcome]).toEqual([
      { status: 'ok', done: [] },
      { status: 'ok', done: [] },
    ]);
    // All come back: every member restarted, the leader last.
    const again = lab();
    const all = runOf(again.remotes, inv.nodes.map((n) => memberPlan(n.name, { restart: true })));
    await runSteps(all, [upStep.rollingRestart]);
    expect(commands(again.log, /systemctl restart/)).toEqual(['controller-1', 'controller-2', 'controller-0']);
    expect(all.hosts.map((h) => h.outcome.done)).toEqual([['restart'], ['restart'], ['restart']]);
  });

  it('refuses a restart that would leave the member list without quorum, counting an unreachable member as down', async () => {
    const { remotes, log, down, etcd } = lab(new Set([inv.nodes[2]!.internalIp]));
    const run = runOf([remotes[0]!, remotes[1]!], [memberPlan('controller-0', { restart: true }), memberPlan('controller-1', { restart: true })]);
    run.hosts[2]!.outcome = { status: 'failed', reason: 'connect ETIMEDOUT', done: [] };
    await runSteps(run, [upStep.rollingRestart]);
    expect(commands(log, /systemctl restart/)).toEqual([]);
    // The follower goes first, and is refused: the leader would be left alone.
    expect(run.hosts[1]!.outcome.reason).toBe(
      'not restarting controller-1: the cluster has 3 voting members and needs 2 healthy for quorum; besides controller-1, 1 is healthy (controller-0) and 1 is not (controller-2): restarting it would leave 1 < 2. Bring the others back first (\'hardway verify\' shows them).',
    );
    expect(run.hosts[0]!.outcome).toEqual({ status: 'ok', done: [] });
    // A member the inventory no longer lists counts as well: 4 members, 2 of them down.
    etcd.members.push({ id: 99n, name: 'old-node', peerURLs: ['https://10.240.0.99:2380'], clientURLs: ['https://10.240.0.99:2379'], isLearner: false });
    down.clear();
    down.add('10.240.0.99');
    down.add(inv.nodes[2]!.internalIp);
    await expect(checkQuorumWithout(remotes[0]!, inv.nodes, inv.nodes[1]!)).rejects.toThrow('has 4 voting members and needs 3 healthy');
    // Only the departed node down: still 2 < 3 without controller-1; all four up, the restart may go.
    down.delete(inv.nodes[2]!.internalIp);
    await expect(checkQuorumWithout(remotes[0]!, inv.nodes, inv.nodes[1]!)).rejects.toThrow('2 are healthy (controller-0, controller-2) and 1 is not (old-node): restarting it would leave 2 < 3');
    down.clear();
    await expect(checkQuorumWithout(remotes[0]!, inv.nodes, inv.nodes[1]!)).resolves.toBeUndefined();
  });

  it('re-adds a wiped member under a new ID, its old member removed, joining the members it meets', async () => {
    const { remotes, etcd } = lab(new Set([inv.nodes[2]!.internalIp]));
    const plans = [memberPlan('controller-0'), memberPlan('controller-1'), memberPlan('controller-2', { state: 'new', running: false, rejoin: { removeId: hexId(ids[2]!), add: true } })];
    const run = runOf(remotes, plans);
    run.live = { asker: run.hosts[0] as Host & { remote: ScriptedRemote }, clusterId: 'c', members: [] };
    await runSteps(run, [upStep.rejoin]);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'ok', 'ok']);
    expect(etcd.members.map((m) => m.name)).toEqual(['controller-0', 'controller-1', 'controller-2']);
    expect(etcd.members[2]!.id).not.toBe(ids[2]);
    expect(etcd.members.map((m) => m.peerURLs)).toEqual([0, 1, 2].map((i) => [`https://10.240.0.${10 + i}:2380`]));
    expect(etcd.hasQuorum()).toBe(true);
    const unit = remotes[2]!.files.get('/etc/systemd/system/etcd.service')!.toString();
    expect(unit).toContain('--initial-cluster-state existing');
    expect(unit).toContain('--initial-cluster controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380,controller-2=https://10.240.0.12:2380');
  });

  it('grows a one-member cluster one node at a time, each starting with the members it meets, all units listing all in the end', async () => {
    const { remotes, etcd } = lab(new Set(), [0]);
    const unitAt = (i: number) => /--initial-cluster (\S+)/.exec(remotes[i]!.files.get('/etc/systemd/system/etcd.service')!.toString())![1];
    // A slow start: were the joins concurrent, the second member add would come while the first member is
    // unstarted, and etcd refuses it (the fake as well): 3 members with 1 started have no quorum.
    const startedWith: string[] = [];
    for (const [i, r] of remotes.entries()) {
      r.rules.unshift([/systemctl start/, async () => {
        startedWith[i] = unitAt(i)!;
        await new Promise((res) => setTimeout(res, 50));
        etcd.started(inv.nodes[i]!.name, inv.nodes[i]!.internalIp);
        return {};
      }]);
    }
    const plans = [memberPlan('controller-0'), ...[1, 2].map((i) => memberPlan(`controller-${i}`, { state: 'new', running: false, rejoin: { add: true } }))];
    const run = runOf(remotes, plans);
    run.live = { asker: run.hosts[0] as Host & { remote: ScriptedRemote }, clusterId: 'c', members: [] };
    await runSteps(run, [upStep.rejoin]);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'ok', 'ok']);
    expect(etcd.members.map((m) => m.name)).toEqual(['controller-0', 'controller-1', 'controller-2']);
    const all = 'controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380,controller-2=https://10.240.0.12:2380';
    expect(startedWith.slice(1)).toEqual(['controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380', all]);
    expect([unitAt(1), unitAt(2)]).toEqual([all, all]);
  });

  it('restarting all together, names the node whose restart failed and restarts the others', async () => {
    const { remotes } = lab();
    remotes[1]!.rules.unshift([/systemctl restart/, { code: 1, stderr: 'Job for etcd.service failed because the control process exited with error code.\n' }]);
    const run = runOf(remotes, inv.nodes.map((n) => memberPlan(n.name, { restart: true })), { restartTogether: true });
    await runSteps(run, [upStep.restartTogether]);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'failed', 'ok']);
    expect(run.hosts[1]!.outcome.reason).toBe('systemctl restart etcd: Job for etcd.service failed because the control process exited with error code.');
    expect(run.hosts[0]!.outcome.done).toEqual(['restart']);
  });
});

describe('joining cluster', () => {
  it('lists the members a joining node meets, inventory nodes in inventory order, then the others', () => {
    const two = [
      { id: 'b', name: '', peerURLs: ['https://10.240.0.11:2380'] },
      { id: 'a', name: 'controller-0', peerURLs: ['https://10.240.0.10:2380'] },
    ];
    expect(joiningCluster(inv, two)).toBe('controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380');
    expect(joiningCluster(inv, [...two, { id: 'c9', name: '', peerURLs: ['https://10.9.9.9:2380'] }])).toBe(
      'controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380,c9=https://10.9.9.9:2380',
    );
  });
});

describe('planning over scripted nodes', () => {
  /** A node that has every file, its unit looping on an empty data dir (`member … has already been bootstrapped`). */
  function looping(i: number): ObservedNode {
    const want = desiredNode(inv, inv.nodes[i]!, artifacts);
    return {
      files: new Map(want.files.map((f) => [f.path, { exists: true, mode: f.mode, sha256: f.source.sha256 }])),
      dirs: new Map(want.dirs.map((d) => [d.path, { exists: true, mode: d.mode }])),
      unit: { enabled: 'enabled', active: 'activating', mainPid: 0, needsDaemonReload: false, restarts: 7 },
      hasData: false,
    };
  }
  const member = (i: number): ObservedNode => ({ ...looping(i), unit: { enabled: 'enabled', active: 'active', mainPid: 40 + i, needsDaemonReload: false, restarts: 0 }, hasData: true });

  async function planWith(selected: string[], opts: UpRun['opts'] = {}, log: string[] = []) {
    const { remotes } = lab();
    const run = { ...runOf(remotes, [], opts), log: (l: string) => void log.push(l) };
    run.artifacts = artifacts;
    run.hosts.forEach((h, i) => {
      h.selected = selected.includes(h.node.name);
      h.observed = i === 1 ? looping(1) : member(i);
    });
    await runSteps(run, [upStep.ask, upStep.planNodes]);
    return run;
  }

  it('plans a member looping on its emptied data dir as stop, remove, add, start as existing; --nodes plans it alike', async () => {
    const all = await planWith(inv.nodes.map((n) => n.name));
    const plan = all.hosts[1]!.plan!;
    expect(plan.rejoin).toEqual({ removeId: hexId(ids[1]!), add: true, stopFirst: true });
    expect(plan).toMatchObject({ state: 'new', running: false, start: true, restart: false });
    expect(plan.files.map((f) => f.role)).toEqual(['unit']);
    expect(plan.files[0]!.file.source.data!.toString()).toContain('--initial-cluster-state existing');
    expect(all.hosts.filter((h) => h.node.name !== 'controller-1').map((h) => h.plan!.restart || h.plan!.start)).toEqual([false, false]);
    // Named alone, it is planned from what the other nodes and the running cluster say: the same plan.
    const one = await planWith(['controller-1']);
    expect(one.hosts[1]!.plan).toEqual(plan);
    expect(one.plan!.nodes.map((p) => p.node)).toEqual(['controller-1']);
    expect(one.plan!.mode).toBe('rolling');
  });

  it('lints the unit a re-joining member gets, as every other unit: errors stop it, --no-lint ships it with a warning', async () => {
    // A template whose ExecStart has the doubled backslash of a pasted heredoc (systemd's `Missing '='`).
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hardway-tpl-'));
    const builtin = readFileSync(new URL('../../templates/etcd.service.hbs', import.meta.url), 'utf8');
    writeFileSync(path.join(dir, 'etcd.service.hbs'), builtin.replace('--name {{name}} \\', '--name {{name}} \\\\'));
    await expect(planWith(['controller-1'], { templates: dir })).rejects.toThrow(/lint errors; not shipping it:\ncontroller-1: controller-1\/etcd\.service:\d+: error/);
    const log: string[] = [];
    const run = await planWith(['controller-1'], { templates: dir, lint: false }, log);
    expect(run.hosts[1]!.plan!.rejoin).toBeDefined();
    expect(log.some((l) => l.startsWith('lint (ignored by --no-lint): controller-1: '))).toBe(true);
  });

  it('stops a node whose CPU the release is not built for before any upload, naming the release it needs', async () => {
    const { remotes, log } = lab();
    remotes.forEach((r, i) => r.rules.unshift([/uname -m/, { stdout: `H ${i === 1 ? 'aarch64' : 'x86_64'}\nA inactive\nE disabled\nM 0\n` }]));
    const run = runOf(remotes, [], { json: true });
    run.artifacts = { ...artifacts, arch: { uname: 'x86_64', release: 'amd64' } };
    await runSteps(run, [upStep.observe]);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'failed', 'ok']);
    expect(run.hosts[1]!.outcome.reason).toBe(
      'controller-1: the node is aarch64 (uname -m) but the etcd release\'s binaries are built for x86_64: nothing was uploaded; it needs etcd-v3.4.23-linux-arm64.tar.gz',
    );
    // The rest of the flow runs for real: the other nodes are planned and get their files, the stopped one nothing.
    await runSteps(run, [upStep.ask, upStep.planNodes, upStep.writeFiles]);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'failed', 'ok']);
    const installed = ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl', '/etc/etcd/ca.pem', '/etc/etcd/kubernetes.pem', '/etc/etcd/kubernetes-key.pem', '/etc/systemd/system/etcd.service'];
    for (const i of [0, 2]) expect([...remotes[i]!.files.keys()].sort()).toEqual([...installed].sort());
    expect(remotes[1]!.files.size).toBe(0);
    expect([...new Set(commands(log, /^[\w-]+: systemctl (daemon-reload|enable|start)/))].sort()).toEqual(['controller-0', 'controller-2']);
  });

  it('asks the cluster once per question in a run that changes nothing: early, through the first node, and not again at the end', async () => {
    const { remotes, log } = lab();
    const run = runOf(remotes, [], { json: true });
    run.artifacts = artifacts;
    await runSteps(run, [upStep.askEarly]);
    run.hosts.forEach((h, i) => (h.observed = member(i)));
    await runSteps(run, [upStep.ask, upStep.planNodes, upStep.writeFiles, upStep.rollingRestart, upStep.finalHealth]);
    expect(run.live?.asker.node.name).toBe('controller-0');
    expect(run.plan!.changed).toBe(false);
    expect(log.filter((l) => /etcdctl/.test(l)).map((l) => `${l.split(':')[0]} ${/ (member list|endpoint status|endpoint health)/.exec(l)?.[1]}`).sort()).toEqual([
      'controller-0 endpoint health',
      'controller-0 endpoint status',
      'controller-0 member list',
    ]);
    expect(run.view?.members.map((m) => m.name)).toEqual(['controller-0', 'controller-1', 'controller-2']);
    expect(run.view?.health.every((h) => h.health)).toBe(true);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('waits for a member systemd keeps restarting once it has its files, as for one it started; not for a running one', async () => {
    const { remotes, log } = lab();
    const lines: string[] = [];
    const run = { ...runOf(remotes, inv.nodes.map((n) => memberPlan(n.name))), log: (l: string) => void lines.push(l) };
    run.hosts.forEach((h, i) => (h.observed = i === 1 ? { ...member(1), unit: { ...member(1).unit, active: 'activating', mainPid: 0 } } : member(i)));
    await runSteps(run, [upStep.awaitStarted]);
    expect(commands(log, /endpoint health/)).toEqual([]);
    run.hosts[1]!.outcome.done.push('wrote /etc/etcd/kubernetes.pem (missing)');
    await runSteps(run, [upStep.awaitStarted]);
    expect(commands(log, /endpoint health/)).toEqual(['controller-0']);
    expect(lines).toEqual(['etcd on controller-1 was failing and restarts by itself with its files in place; waiting for the cluster to be healthy']);
  });

  it('asks the first running node as before when the node asked early does not run etcd, and then asks again at the end', async () => {
    const { remotes, log } = lab();
    const run = runOf(remotes, []);
    run.artifacts = artifacts;
    await runSteps(run, [upStep.askEarly]);
    run.hosts.forEach((h, i) => (h.observed = i === 0 ? { ...member(0), unit: { ...member(0).unit, active: 'inactive', mainPid: 0 } } : member(i)));
    await runSteps(run, [upStep.ask]);
    expect(run.live?.asker.node.name).toBe('controller-1');
    expect(commands(log, /etcdctl .*member list/)).toEqual(['controller-0', 'controller-1']);
    await runSteps(run, [upStep.finalHealth]);
    expect(commands(log, /etcdctl .*member list/)).toEqual(['controller-0', 'controller-1', 'controller-0']);
  });

  it('with a release per architecture, plans each node with its CPU\'s binaries and stops a node whose CPU has none', async () => {
    const { remotes } = lab();
    const machine = ['x86_64', 'aarch64', 's390x'];
    remotes.forEach((r, i) => r.rules.unshift([/uname -m/, { stdout: `H ${machine[i]}\nA inactive\nE disabled\nM 0\n` }]));
    const run = runOf(remotes, []);
    const arm = { etcd: { size: 1, sha256: 'b'.repeat(64) }, etcdctl: { size: 1, sha256: 'c'.repeat(64) }, arch: { uname: 'aarch64', release: 'arm64' } };
    const amd = { etcd: artifacts.etcd, etcdctl: artifacts.etcdctl, arch: { uname: 'x86_64', release: 'amd64' } };
    run.artifacts = { ...artifacts, ...amd, byArch: new Map([['amd64', amd], ['arm64', arm]]) };
    await runSteps(run, [upStep.observe, upStep.ask, upStep.planNodes]);
    expect(run.hosts.map((h) => h.outcome.status)).toEqual(['ok', 'ok', 'failed']);
    expect(run.hosts[2]!.outcome.reason).toBe(
      'controller-2: the node is s390x (uname -m) and etcd.tarball (or etcd.url) names no release for it (only amd64, arm64): nothing was uploaded; add s390x: …/etcd-v3.4.23-linux-s390x.tar.gz',
    );
    const shaOf = (i: number) => run.hosts[i]!.plan!.files.find((f) => f.path === '/usr/local/bin/etcd')!.file.source.sha256;
    expect([shaOf(0), shaOf(1)]).toEqual([artifacts.etcd.sha256, 'b'.repeat(64)]);
  });
});
