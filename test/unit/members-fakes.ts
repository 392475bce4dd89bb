import { newHosts } from '../../src/engine/hosts.js';
import { validateInventory } from '../../src/inventory/validate.js';
import type { EndpointHealth, EndpointStatus, MemberInfo } from '../../src/etcd/etcdctl.js';
import { healthAnswer, memberListAnswer, scriptedRemote } from './scripted-remote.js';

/** Hand-written cluster facts for the members tests: three inventory nodes, members and statuses built from them. */

export const inv = validateInventory(
  'cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\npki:\n  dir: /p/pki\nnodes:\n' +
    [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''),
  { file: '/i.yaml' },
).inventory!;

export const url = (i: number) => `https://10.240.0.${10 + i}:2379`;

export function member(i: number, extra: Partial<MemberInfo> = {}): MemberInfo {
  return { id: `a${i}`, name: `controller-${i}`, peerURLs: [`https://10.240.0.${10 + i}:2380`], clientURLs: [url(i)], isLearner: false, started: true, ...extra };
}

export function status(i: number, leader: number, raftIndex = 100, extra: Partial<EndpointStatus> = {}): EndpointStatus {
  return {
    endpoint: url(i),
    memberId: `a${i}`,
    version: '3.4.23',
    dbSize: 1_000_000,
    leader: `a${leader}`,
    isLeader: i === leader,
    raftTerm: 2,
    raftIndex,
    raftAppliedIndex: raftIndex,
    errors: [],
    isLearner: false,
    revision: 100,
    clusterId: 'c1',
    ...extra,
  };
}

export const health = (i: number, ok = true): EndpointHealth => ({ endpoint: url(i), health: ok, took: '1ms', ...(ok ? {} : { error: 'context deadline exceeded' }) });

/** `etcdctl endpoint status -w json` for the endpoints in `command`, member `a<i>` at url(i), `leader` leading. */
export function statusAnswer(command: string, leader: number, dbSize = (i: number) => 1_000_000 + i): { stdout: string } {
  const urls = /--endpoints=(\S+)/.exec(command)![1]!.split(',');
  const rows = urls.map((u) => {
    const i = Number(/\.(\d+):2379/.exec(u)![1]) - 10;
    return { Endpoint: u, Status: { header: { member_id: 160 + i }, leader: 160 + leader, dbSize: dbSize(i), raftIndex: 100, raftTerm: 2, raftAppliedIndex: 100 } };
  });
  return { stdout: `${JSON.stringify(rows)}\n` };
}

/**
 * Three scripted nodes that behave like one cluster: member list, endpoint status and health follow `state`, and
 * move-leader, member remove/add/promote change it. `down` members do not answer; `unreachable` nodes have no SSH.
 */
export function fakeCluster(opts: { leader?: number; down?: number[]; unreachable?: number[]; silent?: boolean; promoteRefusals?: number } = {}) {
  const log: string[] = [];
  const state = { leader: opts.leader ?? 0, members: [0, 1, 2], learners: new Set<number>(), down: new Set(opts.down ?? []), promoteRefusals: opts.promoteRefusals ?? 0 };
  const up = (u: string) => !state.down.has(Number(/\.(\d+):2379/.exec(u)![1]) - 10);
  const remotes = inv.nodes.map((n) =>
    scriptedRemote(n.name, log, [
      [/member list/, () => (opts.silent ? { code: 1, stderr: 'Error: context deadline exceeded\n' } : memberListAnswer(state.members.map((i) => [`controller-${i}`, `10.240.0.${10 + i}`, BigInt(160 + i)])))],
      [/member add controller-(\d)/, (c) => {
        const i = Number(/member add controller-(\d)/.exec(c)![1]);
        state.members.push(i);
        if (c.includes('--learner')) state.learners.add(i);
        return { stdout: `{"header":{"cluster_id":1},"member":{"ID":${160 + i},"peerURLs":["https://10.240.0.${10 + i}:2380"],"isLearner":true}}\n` };
      }],
      [/member promote a(\d)/, (c) => {
        if (state.promoteRefusals-- > 0) return { code: 1, stderr: 'Error: etcdserver: can only promote a learner member which is in sync with leader\n' };
        state.learners.delete(Number(/member promote a(\d)/.exec(c)![1]));
        return { stdout: 'Member promoted\n' };
      }],
      [/endpoint status/, (c) => {
        const urls = /--endpoints=(\S+)/.exec(c)![1]!.split(',').filter(up);
        return urls.length ? statusAnswer(c.replace(/--endpoints=\S+/, `--endpoints=${urls.join(',')}`), state.leader) : { code: 1, stdout: '' };
      }],
      [/endpoint health/, (c) => healthAnswer(c, up)],
      [/move-leader a(\d)/, (c) => ((state.leader = Number(/move-leader a(\d)/.exec(c)![1])), { stdout: 'Leadership transferred\n' })],
      [/member remove a(\d)/, (c) => {
        const i = Number(/member remove a(\d)/.exec(c)![1]);
        state.members = state.members.filter((m) => m !== i);
        return { stdout: `Member a${i} removed\n` };
      }],
      [/mv -T/, { stdout: 'hardway:stopped\nhardway:moved\n' }],
      [/rm -f \/etc\/systemd\/system\/etcd\.service/, { stdout: '' }],
      [/systemctl start/, () => (state.down.delete(Number(n.name.slice(-1))), {})],
    ]),
  );
  const hosts = newHosts(inv.nodes).map((h, i) => (opts.unreachable?.includes(i) ? { ...h, outcome: { status: 'failed' as const, reason: 'connect timed out', done: [] } } : { ...h, remote: remotes[i]! }));
  return { log, state, hosts, remotes };
}
