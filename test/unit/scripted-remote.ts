import type { ExecResult, Remote } from '../../src/ssh/remote.js';

/**
 * A node for flow tests: every command it is asked is recorded (`log`, shared between nodes so that order across
 * nodes shows), and answered by the first rule whose pattern matches; no rule means exit 0 with no output.
 */
export type Answer = Partial<ExecResult> | ((command: string) => Partial<ExecResult> | Promise<Partial<ExecResult>>);

export interface ScriptedRemote extends Remote {
  rules: [RegExp, Answer][];
}

export function scriptedRemote(name: string, log: string[], rules: [RegExp, Answer][] = []): ScriptedRemote {
  const remote: ScriptedRemote = {
    name,
    rules,
    async run(command) {
      log.push(`${name}: ${command}`);
      const rule = remote.rules.find(([re]) => re.test(command));
      const a = rule ? (typeof rule[1] === 'function' ? await rule[1](command) : rule[1]) : {};
      return { code: 0, stdout: '', stderr: '', timedOut: false, ...a };
    },
    async upload(_src, p) {
      log.push(`${name}: upload ${p}`);
    },
    async close() {
      log.push(`${name}: close`);
    },
  };
  return remote;
}

/** What `etcdctl endpoint health -w json` prints for the endpoints in `command`, healthy as `healthy(url)` says. */
export function healthAnswer(command: string, healthy: (url: string) => boolean): Partial<ExecResult> {
  const urls = /--endpoints=(\S+)/.exec(command)![1]!.split(',');
  return { stdout: `${JSON.stringify(urls.map((endpoint) => ({ endpoint, health: healthy(endpoint), took: '1ms', ...(healthy(endpoint) ? {} : { error: 'context deadline exceeded' }) })))}\n` };
}

/** `etcdctl member list -w json` for members given as [name, ip, id]. */
export function memberListAnswer(members: [string, string, bigint][], clusterId = 1234n): Partial<ExecResult> {
  const ms = members.map(([name, ip, id]) => `{"ID":${id},"name":"${name}","peerURLs":["https://${ip}:2380"],"clientURLs":${name ? `["https://${ip}:2379"]` : '[]'}}`);
  return { stdout: `{"header":{"cluster_id":${clusterId},"member_id":1,"raft_term":2},"members":[${ms.join(',')}]}\n` };
}
