import { clientUrl } from '../inventory/derive.js';
import type { NodeSpec } from '../inventory/types.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq } from '../ssh/remote.js';

/**
 * etcdctl as run on a node (v3 API, the certs hardway installs in /etc/etcd), and parsers for its `-w json`
 * output. Pure: building command strings and reading output.
 */

export function etcdctlCommand(endpoints: string[], args: string[], opts: { timeoutS?: number } = {}): string {
  // Plain-HTTP endpoints (etcd.tls: false, loopback only) take no certificates: none are installed.
  const tls = endpoints.some((e) => e.startsWith('https://'));
  const flags = [
    `--endpoints=${endpoints.join(',')}`,
    ...(tls ? [`--cacert=${REMOTE_PATHS.caCert}`, `--cert=${REMOTE_PATHS.cert}`, `--key=${REMOTE_PATHS.key}`] : []),
    `--command-timeout=${opts.timeoutS ?? 5}s`,
    `--dial-timeout=${Math.min(opts.timeoutS ?? 5, 3)}s`,
  ];
  return `ETCDCTL_API=3 ${REMOTE_PATHS.etcdctl} ${flags.map(shq).join(' ')} ${args.map(shq).join(' ')}`;
}

export function endpointsOf(nodes: NodeSpec[]): string[] {
  return nodes.map(clientUrl);
}

/** etcd's IDs are uint64 and exceed 2^53: quote long integers before JSON.parse so none is rounded. */
export function parseEtcdJson<T>(text: string): T {
  return JSON.parse(text.replace(/([:[,]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"$2"')) as T;
}

export const idHex = (id: string | number | undefined): string => (id === undefined ? '' : BigInt(id).toString(16));

export interface MemberInfo {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
  started: boolean;
}

export function parseMemberList(text: string): { clusterId: string; members: MemberInfo[] } {
  const raw = parseEtcdJson<{
    header?: { cluster_id?: string };
    members?: { ID?: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }[];
  }>(text);
  return {
    clusterId: idHex(raw.header?.cluster_id),
    members: (raw.members ?? []).map((m) => ({
      id: idHex(m.ID),
      name: m.name ?? '',
      peerURLs: m.peerURLs ?? [],
      clientURLs: m.clientURLs ?? [],
      isLearner: !!m.isLearner,
      // An added member that never started has no name (etcdctl prints it as `unstarted`).
      started: !!m.name,
    })),
  };
}

export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  took: string;
  error?: string;
}

/** `endpoint health -w json` prints the JSON array on stdout even when some endpoints are unhealthy. */
export function parseEndpointHealth(stdout: string): EndpointHealth[] {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('['));
  if (!line) return [];
  return (JSON.parse(line) as EndpointHealth[]).map((h) => ({ ...h, health: !!h.health }));
}

export interface EndpointStatus {
  endpoint: string;
  memberId: string;
  version: string;
  dbSize: number;
  leader: string;
  isLeader: boolean;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  errors: string[];
  isLearner: boolean;
  /** The store's revision and the cluster it belongs to, from the response header. */
  revision: number;
  clusterId: string;
}

export function parseEndpointStatus(stdout: string): EndpointStatus[] {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('['));
  if (!line) return [];
  const raw = parseEtcdJson<
    {
      Endpoint: string;
      Status: {
        header?: { member_id?: string; cluster_id?: string; revision?: number | string };
        version?: string;
        dbSize?: number;
        leader?: string;
        raftIndex?: number;
        raftTerm?: number;
        raftAppliedIndex?: number;
        errors?: string[];
        isLearner?: boolean;
      };
    }[]
  >(line);
  return raw.map(({ Endpoint, Status: s }) => {
    const memberId = idHex(s.header?.member_id);
    const leader = idHex(s.leader);
    return {
      endpoint: Endpoint,
      memberId,
      version: s.version ?? '',
      dbSize: Number(s.dbSize ?? 0),
      leader,
      isLeader: !!leader && leader === memberId,
      raftTerm: Number(s.raftTerm ?? 0),
      raftIndex: Number(s.raftIndex ?? 0),
      raftAppliedIndex: Number(s.raftAppliedIndex ?? 0),
      errors: s.errors ?? [],
      isLearner: !!s.isLearner,
      revision: Number(s.header?.revision ?? 0),
      clusterId: idHex(s.header?.cluster_id),
    };
  });
}

/** `endpoint hashkv -w json`: each endpoint's hash of the keyspace at its latest revision. */
export function parseHashKv(stdout: string): { endpoint: string; hash: number; compactRevision: number }[] {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('['));
  if (!line) return [];
  const raw = parseEtcdJson<{ Endpoint: string; HashKV?: { hash?: number | string; compact_revision?: number | string } }[]>(line);
  return raw.map((r) => ({ endpoint: r.Endpoint, hash: Number(r.HashKV?.hash ?? 0), compactRevision: Number(r.HashKV?.compact_revision ?? 0) }));
}

/**
 * etcdctl with the user's own arguments: endpoints and certificates as ETCDCTL_* variables rather than flags, so
 * a flag the user gives wins (a repeated `--endpoints` flag would add to ours). `exec`: a signal reaches etcdctl.
 */
export function etcdctlUserCommand(endpoints: string[], args: string[]): string {
  const tls = endpoints.some((e) => e.startsWith('https://'));
  const env = [
    'ETCDCTL_API=3',
    `ETCDCTL_ENDPOINTS=${endpoints.join(',')}`,
    ...(tls ? [`ETCDCTL_CACERT=${REMOTE_PATHS.caCert}`, `ETCDCTL_CERT=${REMOTE_PATHS.cert}`, `ETCDCTL_KEY=${REMOTE_PATHS.key}`] : []),
  ];
  return `export ${env.map(shq).join(' ')}; exec ${REMOTE_PATHS.etcdctl}${args.map((a) => ` ${shq(a)}`).join('')}`;
}
