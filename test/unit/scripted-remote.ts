import type { ExecResult, Remote } from '../../src/ssh/remote.js';

/**
 * A node for flow tests: every command it is asked is recorded (`log`, shared between nodes so that order across
 * nodes shows), and answered by the first rule whose pattern matches; no rule means exit 0 with no output.
 */
export type Answer = Partial<ExecResult> | ((command: string) => Partial<ExecResult> | Promise<Partial<ExecResult>>);

export interface ScriptedRemote extends Remote {
  rules: [RegExp, Answer][];
  /** What was uploaded to the node, by remote path: the bytes of an in-memory source, else its local path. */
  files: Map<string, Buffer | string>;
}

export function scriptedRemote(name: string, log: string[], rules: [RegExp, Answer][] = []): ScriptedRemote {
  const remote: ScriptedRemote = {
    name,
    rules,
    files: new Map(),
    async run(command) {
      log.push(`${name}: ${command}`);
      const rule = remote.rules.find(([re]) => re.test(command));
      const a = rule ? (typeof rule[1] === 'function' ? await rule[1](command) : rule[1]) : {};
      return { code: 0, stdout: '', stderr: '', timedOut: false, ...a };
    },
    async upload(src, p) {
      log.push(`${name}: upload ${p}`);
      remote.files.set(p, src.data ?? src.path ?? '');
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

/** The words of a command as `sh` would split them (single and double quotes, backslashes; no expansions). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      word = (word ?? '') + command.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      word ??= '';
      for (; command[j] !== '"'; j++) word += command[j] === '\\' ? command[++j] : command[j];
      i = j;
    } else word = (word ?? '') + (c === '\\' ? command[++i] : c);
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** etcdctl's subcommand words and its `--flag=value` options, from a command line that runs etcdctl. */
export function etcdctlArgs(command: string): { words: string[]; flags: Map<string, string> } | undefined {
  const all = shellWords(command);
  const at = all.findIndex((w) => /(^|\/)etcdctl$/.test(w));
  if (at < 0) return undefined;
  const words: string[] = [];
  const flags = new Map<string, string>();
  const rest = all.slice(at + 1);
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (!w.startsWith('--') && !/^-w$/.test(w)) words.push(w);
    else if (w === '-w') flags.set('write-out', rest[++i]!);
    else {
      const eq = w.indexOf('=');
      flags.set(eq < 0 ? w.slice(2) : w.slice(2, eq), eq < 0 ? 'true' : w.slice(eq + 1));
    }
  }
  return { words, flags };
}

export interface FakeMember {
  id: bigint;
  /** Empty until the member's etcd has started (etcdctl lists it as `unstarted`). */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

const quorumOf = (voters: number) => Math.floor(voters / 2) + 1;

/**
 * An etcd cluster behind scripted nodes, changed by what is asked of it the way etcd changes: `member remove` and
 * `member add` change the member list, refused where etcd's --strict-reconfig-check refuses them; an added member is
 * `unstarted` until etcd starts on its node; nothing is healthy and nothing changes while the up voting members
 * (started, their node not `down`, by IP) are fewer than a quorum. Tests assert on `members`, not on the commands
 * that changed them.
 */
export class FakeEtcd {
  members: FakeMember[];
  readonly down = new Set<string>();
  private nextId = 0xadd0n;

  constructor(
    members: { name: string; ip: string; id: bigint }[],
    readonly clusterId = 1234n,
  ) {
    this.members = members.map((m) => ({ id: m.id, name: m.name, peerURLs: [`https://${m.ip}:2380`], clientURLs: [`https://${m.ip}:2379`], isLearner: false }));
  }

  private voters(): FakeMember[] {
    return this.members.filter((m) => !m.isLearner);
  }

  /** Its etcd runs: it has started once (published its name) and its node is not down. */
  private isUp(m: FakeMember): boolean {
    return !!m.name && !this.down.has(ipOf(m.peerURLs[0]!));
  }

  hasQuorum(): boolean {
    return this.voters().filter((m) => this.isUp(m)).length >= quorumOf(this.voters().length);
  }

  private memberAt(clientUrl: string): FakeMember | undefined {
    return this.members.find((m) => m.clientURLs.includes(clientUrl));
  }

  /** etcd's mayAddMember: enough started voting members for the new count (1 → 2 allowed), all of them connected. */
  private mayAdd(isLearner: boolean): string | undefined {
    const voters = this.voters();
    const started = voters.filter((m) => m.name).length;
    if (!isLearner && !(started === 1 && voters.length === 1) && started < quorumOf(voters.length + 1)) {
      return 'etcdserver: re-configuration failed due to not enough started members';
    }
    return voters.every((m) => this.isUp(m)) ? undefined : 'etcdserver: unhealthy cluster';
  }

  /** etcd's mayRemoveMember: the started voting members left keep a quorum, and so do the connected ones. */
  private mayRemove(gone: FakeMember): string | undefined {
    if (gone.isLearner) return undefined;
    const left = this.voters().filter((m) => m !== gone);
    if (left.filter((m) => m.name).length < quorumOf(left.length)) return 'etcdserver: re-configuration failed due to not enough started members';
    if (!this.isUp(gone)) return undefined;
    const active = this.voters().filter((m) => this.isUp(m)).length;
    return active - 1 < quorumOf(left.length) ? 'etcdserver: unhealthy cluster' : undefined;
  }

  /** The answer to an etcdctl command, or undefined for any other command. */
  etcdctl(command: string): Partial<ExecResult> | undefined {
    const args = etcdctlArgs(command);
    if (!args) return undefined;
    const [verb, sub, ...rest] = args.words;
    const json = args.flags.get('write-out') === 'json';
    const endpoints = (args.flags.get('endpoints') ?? '').split(',').filter(Boolean);
    const up = (url: string) => { const m = this.memberAt(url); return !!m && this.isUp(m); };
    const healthy = (url: string) => up(url) && this.hasQuorum();
    const timeout = { code: 1, stderr: 'Error: context deadline exceeded\n' };
    if (!endpoints.some(up)) return timeout;
    if (verb === 'member' && sub === 'list') return { stdout: `${this.memberListJson()}\n` };
    if (verb === 'member' && (sub === 'add' || sub === 'remove') && !this.hasQuorum()) return timeout;
    if (verb === 'member' && sub === 'remove') {
      const gone = this.members.find((m) => m.id.toString(16) === rest[0]);
      const refused = gone ? this.mayRemove(gone) : 'etcdserver: member not found';
      if (refused) return { code: 1, stderr: `Error: ${refused}\n` };
      this.members = this.members.filter((m) => m !== gone);
      return { stdout: `Member ${rest[0]} removed from cluster ${this.clusterId.toString(16)}\n` };
    }
    if (verb === 'member' && sub === 'add') {
      const peerURLs = (args.flags.get('peer-urls') ?? '').split(',');
      const isLearner = args.flags.has('learner');
      const refused = this.members.some((m) => m.peerURLs.some((u) => peerURLs.includes(u))) ? 'etcdserver: Peer URLs already exists' : this.mayAdd(isLearner);
      if (refused) return { code: 1, stderr: `Error: ${refused}\n` };
      const m: FakeMember = { id: this.nextId++, name: '', peerURLs, clientURLs: [], isLearner };
      this.members.push(m);
      return json
        ? { stdout: `${etcdJson({ header: { cluster_id: this.clusterId }, member: { ID: m.id, peerURLs, isLearner } })}\n` }
        : { stdout: `Member ${m.id.toString(16)} added to cluster ${this.clusterId.toString(16)}\n` };
    }
    if (verb === 'endpoint' && sub === 'health') {
      return { stdout: `${JSON.stringify(endpoints.map((endpoint) => ({ endpoint, health: healthy(endpoint), took: '1ms', ...(healthy(endpoint) ? {} : { error: 'context deadline exceeded' }) })))}\n` };
    }
    if (verb === 'endpoint' && sub === 'status') {
      const leader = this.hasQuorum() ? this.voters().find((m) => this.isUp(m))!.id : 0n;
      const rows = endpoints.filter(up).map((Endpoint) => {
        const m = this.memberAt(Endpoint)!;
        return { Endpoint, Status: { header: { cluster_id: this.clusterId, member_id: m.id }, leader, dbSize: 1_000_000, raftIndex: 100, raftTerm: 2, raftAppliedIndex: 100, isLearner: m.isLearner } };
      });
      return { stdout: `${etcdJson(rows)}\n` };
    }
    return undefined;
  }

  /** What `systemctl start|restart etcd` on the node at `ip` does: the member with its peer URL starts (and publishes its name). */
  started(name: string, ip: string): void {
    this.down.delete(ip);
    const m = this.members.find((x) => x.peerURLs.includes(`https://${ip}:2380`));
    if (m && !m.name) Object.assign(m, { name, clientURLs: [`https://${ip}:2379`] });
  }

  memberListJson(): string {
    const members = this.members.map(({ id, name, peerURLs, clientURLs, isLearner }) => ({ ID: id, name, peerURLs, clientURLs, ...(isLearner ? { isLearner } : {}) }));
    return etcdJson({ header: { cluster_id: this.clusterId, member_id: 1, raft_term: 2 }, members });
  }

  /** The rules for the node `name` at `ip`: etcdctl answered from this cluster, systemd start/stop of etcd followed. */
  rules(name: string, ip: string): [RegExp, Answer][] {
    return [
      [/etcdctl/, (c) => this.etcdctl(c) ?? {}],
      [/systemctl (--no-block )?(start|restart)( --no-block)? etcd/, () => (this.started(name, ip), {})],
      [/systemctl stop etcd/, () => (this.down.add(ip), {})],
    ];
  }
}

const ipOf = (url: string) => new URL(url).hostname;

/** JSON as etcdctl prints it: 64-bit IDs as bare integers (bigints here), which JSON.stringify cannot write. */
function etcdJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(\d+)"/g, '$1');
}
