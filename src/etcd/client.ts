import type { ExecResult, Remote, StreamOptions, StreamResult } from '../ssh/remote.js';
import { OperationError } from '../errors.js';
import { EtcdctlError, etcdctlReason } from './errors.js';
import { parseCheckPerf, type PerfResult } from './perf.js';
import { etcdctlCommand, etcdctlUserCommand, parseEndpointStatus, parseHashKv, type EndpointStatus } from './etcdctl.js';
import { parseAlarmList, type Alarm } from './alarms.js';

/**
 * etcdctl on one node, against one set of endpoints: each question or change is one method, which builds the
 * command line, runs it over SSH and reads what etcdctl prints. A failure is an EtcdctlError carrying etcdctl's
 * own one-line message.
 */

/** SSH waits this much longer than etcdctl's own --command-timeout: dialing, starting etcdctl, the round trips. */
export const SSH_MARGIN_S = 10;

/** etcdctl's --command-timeout when a call names none. */
export const DEFAULT_COMMAND_TIMEOUT_S = 5;

export interface CallOptions {
  /** etcdctl's --command-timeout (SSH waits SSH_MARGIN_S more). */
  timeoutS?: number;
  /** How the call is named in its error (default: etcdctl and its arguments without flags). */
  what?: string;
  /** How long SSH waits in all, for a call that makes many requests (`check perf`); default timeoutS + SSH_MARGIN_S. */
  waitS?: number;
}

export interface EtcdClient {
  readonly remote: Remote;
  readonly endpoints: string[];
  /** Runs `etcdctl <args>`, whatever it answers (for callers that read a failure as a fact). */
  exec(args: string[], opts?: CallOptions): Promise<ExecResult>;
  /** Runs `etcdctl <args>`; stdout, or an EtcdctlError. */
  run(args: string[], opts?: CallOptions): Promise<string>;
  endpointStatus(opts?: CallOptions): Promise<EndpointStatus[]>;
  /** `endpoint status` whatever etcdctl's exit: the statuses it printed (those that answered), else its reason. */
  readStatus(opts?: CallOptions): Promise<{ status: EndpointStatus[]; reason?: string }>;
  /** `check perf --load=…`: its verdict lines, and etcdctl's reason when it printed none. */
  checkPerf(load: string, opts?: CallOptions): Promise<{ perf: PerfResult; reason?: string }>;
  downgrade(action: 'validate' | 'enable', version: string): Promise<void>;
  hashKv(opts?: CallOptions): Promise<{ endpoint: string; hash: number; compactRevision: number }[]>;
  alarmList(): Promise<Alarm[]>;
  alarmDisarm(): Promise<void>;
  /** `member add`: etcdctl's output (with `json`, the new member and the cluster as JSON). */
  memberAdd(name: string, peerUrl: string, opts?: { learner?: boolean; json?: boolean }): Promise<string>;
  memberRemove(id: string): Promise<void>;
  memberPromote(id: string): Promise<void>;
  memberUpdate(id: string, peerUrl: string): Promise<void>;
  moveLeader(id: string, opts?: CallOptions): Promise<void>;
  defrag(opts?: CallOptions): Promise<void>;
}

/** How a call is named in its error: `etcdctl member remove 8e9e…`, without flags such as `-w json`. */
function callName(args: string[]): string {
  return ['etcdctl', ...args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '-w')].join(' ');
}

const waitOf = (opts: CallOptions) => opts.waitS ?? (opts.timeoutS ?? DEFAULT_COMMAND_TIMEOUT_S) + SSH_MARGIN_S;

export function etcdClient(remote: Remote, endpoints: string[]): EtcdClient {
  const exec = (args: string[], opts: CallOptions = {}) => {
    const cmd = etcdctlCommand(endpoints, args, opts.timeoutS !== undefined ? { timeoutS: opts.timeoutS } : {});
    return remote.run(cmd, { timeoutMs: waitOf(opts) * 1000 });
  };
  const run = async (args: string[], opts: CallOptions = {}) => {
    const r = await exec(args, opts);
    if (r.code !== 0) throw EtcdctlError.of(opts.what ?? callName(args), r, waitOf(opts));
    return r.stdout;
  };
  return {
    remote,
    endpoints,
    exec,
    run,
    endpointStatus: async (opts) => parseEndpointStatus(await run(['endpoint', 'status', '-w', 'json'], opts)),
    readStatus: async (opts) => {
      const r = await exec(['endpoint', 'status', '-w', 'json'], opts);
      const status = parseEndpointStatus(r.stdout);
      return status.length ? { status } : { status, reason: etcdctlReason(r) };
    },
    checkPerf: async (load, opts) => {
      const r = await exec(['check', 'perf', `--load=${load}`], opts);
      const perf = parseCheckPerf(r.stdout);
      return perf.lines.length ? { perf } : { perf, reason: etcdctlReason(r) };
    },
    downgrade: async (action, version) => void (await run(['downgrade', action, version])),
    hashKv: async (opts) => parseHashKv(await run(['endpoint', 'hashkv', '-w', 'json'], opts)),
    alarmList: async () => parseAlarmList(await run(['alarm', 'list', '-w', 'json'])),
    alarmDisarm: async () => void (await run(['alarm', 'disarm'])),
    memberAdd: (name, peerUrl, opts = {}) => run(['member', 'add', name, `--peer-urls=${peerUrl}`, ...(opts.learner ? ['--learner'] : []), ...(opts.json ? ['-w', 'json'] : [])], { what: 'etcdctl member add' }),
    memberRemove: async (id) => void (await run(['member', 'remove', id])),
    memberPromote: async (id) => void (await run(['member', 'promote', id])),
    memberUpdate: async (id, peerUrl) => void (await run(['member', 'update', id, `--peer-urls=${peerUrl}`], { what: 'etcdctl member update' })),
    moveLeader: async (id, opts) => void (await run(['move-leader', id], opts)),
    defrag: async (opts) => void (await run(['defrag'], { ...opts, what: `etcdctl defrag ${endpoints.join(',')}` })),
  };
}

/**
 * etcdctl with the user's own arguments (`hardway etcdctl`), its stdin, stdout and stderr passed through as they
 * come: what it prints is the user's to read, never parsed here.
 */
export async function streamUserEtcdctl(remote: Remote, endpoints: string[], args: string[], io: StreamOptions): Promise<StreamResult> {
  if (!remote.stream) throw new OperationError(`${remote.name}: this connection cannot stream a command`);
  return remote.stream(etcdctlUserCommand(endpoints, args), io);
}
