import type { ExecResult, Remote } from '../ssh/remote.js';
import { EtcdctlError } from './errors.js';
import { etcdctlCommand, parseEndpointStatus, parseHashKv, type EndpointStatus } from './etcdctl.js';
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
}

export interface EtcdClient {
  readonly remote: Remote;
  readonly endpoints: string[];
  /** Runs `etcdctl <args>`, whatever it answers (for callers that read a failure as a fact). */
  exec(args: string[], opts?: CallOptions): Promise<ExecResult>;
  /** Runs `etcdctl <args>`; stdout, or an EtcdctlError. */
  run(args: string[], opts?: CallOptions): Promise<string>;
  endpointStatus(opts?: CallOptions): Promise<EndpointStatus[]>;
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

export function etcdClient(remote: Remote, endpoints: string[]): EtcdClient {
  const exec = (args: string[], opts: CallOptions = {}) => {
    const timeoutS = opts.timeoutS ?? DEFAULT_COMMAND_TIMEOUT_S;
    // The command line is built with the timeout only when one was asked for, as etcdctlCommand's default is 5 s too.
    const cmd = etcdctlCommand(endpoints, args, opts.timeoutS !== undefined ? { timeoutS } : {});
    return remote.run(cmd, { timeoutMs: (timeoutS + SSH_MARGIN_S) * 1000 });
  };
  const run = async (args: string[], opts: CallOptions = {}) => {
    const r = await exec(args, opts);
    if (r.code !== 0) throw EtcdctlError.of(opts.what ?? callName(args), r, (opts.timeoutS ?? DEFAULT_COMMAND_TIMEOUT_S) + SSH_MARGIN_S);
    return r.stdout;
  };
  return {
    remote,
    endpoints,
    exec,
    run,
    endpointStatus: async (opts) => parseEndpointStatus(await run(['endpoint', 'status', '-w', 'json'], opts)),
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
