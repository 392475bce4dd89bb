/**
 * The command-line flags etcd accepts, per minor release. Used by the unit linter to catch a flag that the
 * configured etcd would refuse (`flag provided but not defined: -x`, exit 2) before the unit reaches a node.
 *
 * Sources:
 * - 3.4: every flag below was probed against the etcd 3.4.23 binary (`etcd --<flag>=x --version`: a
 *   defined flag parses, an undefined one fails with `flag provided but not defined`). Flags that later 3.4
 *   patch releases added carry `addedAfter: '3.4.23'` (they are in 3.5.14 but not listed as missing from 3.4.33
 *   in etcd's 3.5→3.4 downgrade guide); patch-level additions before 3.4.23 come from CHANGELOG-3.4.
 * - 3.5: the v3.5 configuration docs, CHANGELOG-3.5 and the 3.5→3.4 downgrade guide's flag diff.
 * - 3.6: the 3.5→3.6 upgrade guide (flags added, removed, deprecated) and `deprecatedFlags` in
 *   server/etcdmain/config.go.
 * A flag that exists only from some patch release on is known to the whole minor; `addedAfter` narrows it.
 */

export type EtcdMinor = '3.4' | '3.5' | '3.6';
export const ETCD_MINORS: readonly EtcdMinor[] = ['3.4', '3.5', '3.6'];

export interface EtcdFlagSpec {
  /** A Go boolean flag: `--x` or `--x=true`; a separate `true` becomes a positional argument. */
  bool?: boolean;
  /** The values etcd accepts, when it restricts them. */
  values?: readonly string[];
  /** Still accepted but deprecated in this minor: what to use instead. */
  deprecated?: string;
  /** The flag is missing from this patch release and earlier ones of the minor. */
  addedAfter?: string;
  /** etcd accepts the flag and does nothing with it. */
  ignored?: boolean;
  /** The value is a file etcd opens at start (TLS material) or a directory it uses. */
  path?: 'file' | 'dir';
}

type FlagTable = Record<EtcdMinor, Map<string, EtcdFlagSpec>>;

const table: FlagTable = { '3.4': new Map(), '3.5': new Map(), '3.6': new Map() };

const ALL: EtcdMinor[] = ['3.4', '3.5', '3.6'];
const V34: EtcdMinor[] = ['3.4'];
const V34_35: EtcdMinor[] = ['3.4', '3.5'];
const V35_36: EtcdMinor[] = ['3.5', '3.6'];
const V36: EtcdMinor[] = ['3.6'];

function add(minors: EtcdMinor[], names: string[], spec: EtcdFlagSpec = {}, per: Partial<Record<EtcdMinor, EtcdFlagSpec>> = {}): void {
  for (const m of minors) for (const n of names) table[m].set(n, { ...spec, ...per[m] });
}

const BOOL: EtcdFlagSpec = { bool: true };
const FILE: EtcdFlagSpec = { path: 'file' };

/** 3.6 message for an experimental flag renamed to a stable one. */
const renamed36 = (to: string): Partial<Record<EtcdMinor, EtcdFlagSpec>> => ({ '3.6': { deprecated: `--${to}` } });
/** 3.6 message for an experimental flag replaced by a feature gate. */
const gate36 = (gate: string, value = true): Partial<Record<EtcdMinor, EtcdFlagSpec>> => ({
  '3.6': { bool: true, deprecated: `--feature-gates=${gate}=${value}` },
});

// ---- member
add(ALL, ['name', 'heartbeat-interval', 'election-timeout', 'max-wals', 'quota-backend-bytes', 'backend-batch-interval', 'backend-batch-limit', 'max-txn-ops', 'max-request-bytes', 'grpc-keepalive-min-time', 'grpc-keepalive-interval', 'grpc-keepalive-timeout', 'listen-peer-urls', 'listen-client-urls', 'listen-metrics-urls', 'cors', 'host-whitelist', 'metrics']);
add(ALL, ['data-dir', 'wal-dir'], { path: 'dir' });
add(ALL, ['snapshot-count', 'max-snapshots'], {}, { '3.6': { deprecated: 'nothing (it is deprecated in 3.6 and goes away in 3.7; remove it)' } });
add(ALL, ['max-concurrent-streams'], {}, { '3.4': { addedAfter: '3.4.19' } });
add(ALL, ['initial-election-tick-advance', 'strict-reconfig-check', 'pre-vote', 'enable-pprof', 'enable-grpc-gateway', 'force-new-cluster', 'version'], BOOL);
add(ALL, ['unsafe-no-fsync'], BOOL, { '3.4': { bool: true, addedAfter: '3.4.9' } });
add(ALL, ['listen-client-http-urls'], {}, { '3.4': { addedAfter: '3.4.23' } });
add(V35_36, ['socket-reuse-port', 'socket-reuse-address'], BOOL);
add(V35_36, ['raft-read-timeout', 'raft-write-timeout', 'backend-bbolt-freelist-type']);
add(V34, ['experimental-backend-bbolt-freelist-type']);

// ---- clustering
add(ALL, ['initial-advertise-peer-urls', 'advertise-client-urls', 'initial-cluster', 'initial-cluster-token', 'discovery', 'discovery-proxy', 'discovery-srv', 'discovery-srv-name', 'auto-compaction-retention']);
add(ALL, ['initial-cluster-state'], { values: ['new', 'existing'] });
add(ALL, ['discovery-fallback'], { values: ['exit', 'proxy'] }, { '3.6': { values: ['exit'] } });
add(ALL, ['auto-compaction-mode'], { values: ['periodic', 'revision'] });
add(V34_35, ['enable-v2'], BOOL, { '3.5': { bool: true, deprecated: 'nothing: the v2 API is removed in 3.6 (migrate to v3, then drop the flag)' } });
add(V34_35, ['experimental-enable-v2v3'], {}, { '3.5': { deprecated: 'nothing: v2 emulation is removed in 3.6' } });
add(V35_36, ['v2-deprecation'], { values: ['not-yet', 'write-only', 'write-only-drop-data', 'gone'] }, { '3.6': { values: ['write-only', 'write-only-drop-data', 'gone'], deprecated: 'nothing: 3.6 enforces the default and ignores the value' } });
add(V36, ['discovery-token', 'discovery-endpoints', 'discovery-dial-timeout', 'discovery-request-timeout', 'discovery-keepalive-time', 'discovery-keepalive-timeout', 'discovery-user', 'discovery-password']);
add(V36, ['discovery-cert', 'discovery-key', 'discovery-cacert'], FILE);
add(V36, ['discovery-insecure-transport', 'discovery-insecure-skip-tls-verify'], BOOL);
add(V36, ['feature-gates']);

// ---- v2 proxy (removed in 3.6)
add(V34_35, ['proxy'], { values: ['off', 'readonly', 'on'] });
add(V34_35, ['proxy-failure-wait', 'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout', 'proxy-read-timeout']);
add(V34, ['next-cluster-version-compatible'], { bool: true, addedAfter: '3.4.31' });

// ---- security
add(ALL, ['cert-file', 'key-file', 'trusted-ca-file', 'peer-cert-file', 'peer-key-file', 'peer-trusted-ca-file', 'client-crl-file', 'peer-crl-file'], FILE);
add(ALL, ['client-cert-auth', 'peer-client-cert-auth', 'auto-tls', 'peer-auto-tls'], BOOL);
add(ALL, ['client-cert-allowed-hostname', 'peer-cert-allowed-cn', 'peer-cert-allowed-hostname', 'cipher-suites']);
add(ALL, ['tls-min-version', 'tls-max-version'], { values: ['TLS1.2', 'TLS1.3'] }, { '3.4': { values: ['TLS1.2', 'TLS1.3'], addedAfter: '3.4.23' } });
add(V35_36, ['client-cert-file', 'client-key-file', 'peer-client-cert-file', 'peer-client-key-file'], FILE);
add(V35_36, ['self-signed-cert-validity']);

// ---- auth
add(ALL, ['auth-token', 'bcrypt-cost']);
add(ALL, ['auth-token-ttl'], {}, { '3.4': { addedAfter: '3.4.9' } });

// ---- logging
add(ALL, ['logger'], { values: ['zap'] }, { '3.4': { values: ['capnslog', 'zap'] } });
add(ALL, ['log-outputs']);
add(ALL, ['log-level'], { values: ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] });
add(V34, ['debug'], BOOL);
add(V34, ['log-package-levels']);
add(V34, ['log-output'], { deprecated: '--log-outputs' });
add(V35_36, ['enable-log-rotation'], BOOL);
add(V35_36, ['log-rotation-config-json']);
add(V36, ['log-format'], { values: ['json', 'console'] });

// ---- config file
add(ALL, ['config-file'], FILE);

// ---- experimental (3.6 renames most of them or turns them into feature gates)
add(ALL, ['experimental-initial-corrupt-check'], BOOL, gate36('InitialCorruptCheck'));
add(ALL, ['experimental-corrupt-check-time'], {}, renamed36('corrupt-check-time'));
add(ALL, ['experimental-enable-lease-checkpoint'], BOOL, gate36('LeaseCheckpoint'));
add(ALL, ['experimental-enable-lease-checkpoint-persist'], BOOL, {
  '3.4': { bool: true, addedAfter: '3.4.19' },
  '3.5': { bool: true, addedAfter: '3.5.1' },
  ...gate36('LeaseCheckpointPersist'),
});
add(ALL, ['experimental-compaction-batch-limit'], {}, renamed36('compaction-batch-limit'));
add(ALL, ['experimental-peer-skip-client-san-verification'], BOOL, { '3.6': { bool: true, deprecated: '--peer-skip-client-san-verification' } });
add(ALL, ['experimental-watch-progress-notify-interval'], {}, { '3.4': { addedAfter: '3.4.10' }, ...renamed36('watch-progress-notify-interval') });
add(ALL, ['experimental-warning-apply-duration'], {}, { '3.4': { addedAfter: '3.4.15' }, ...renamed36('warning-apply-duration') });
add(V35_36, ['experimental-enable-distributed-tracing'], BOOL, { '3.6': { bool: true, deprecated: '--enable-distributed-tracing' } });
for (const f of ['address', 'service-name', 'instance-id', 'sampling-rate']) {
  add(V35_36, [`experimental-distributed-tracing-${f}`], {}, renamed36(`distributed-tracing-${f}`));
}
add(V35_36, ['experimental-compact-hash-check-enabled'], BOOL, gate36('CompactHashCheck'));
add(V35_36, ['experimental-compact-hash-check-time'], {}, renamed36('compact-hash-check-time'));
add(V35_36, ['experimental-downgrade-check-time'], {}, renamed36('downgrade-check-time'));
add(V35_36, ['experimental-memory-mlock'], BOOL, { '3.6': { bool: true, deprecated: '--memory-mlock' } });
add(V35_36, ['experimental-txn-mode-write-with-shared-buffer'], BOOL, gate36('TxnModeWriteWithSharedBuffer', false));
add(V35_36, ['experimental-stop-grpc-service-on-defrag'], BOOL, gate36('StopGRPCServiceOnDefrag'));
add(V35_36, ['experimental-bootstrap-defrag-threshold-megabytes'], {}, renamed36('bootstrap-defrag-threshold-megabytes'));
add(V35_36, ['experimental-warning-unary-request-duration'], {}, renamed36('warning-unary-request-duration'));
add(V35_36, ['experimental-compaction-sleep-interval'], {}, renamed36('compaction-sleep-interval'));
add(V35_36, ['experimental-snapshot-catchup-entries'], {}, renamed36('snapshot-catchup-entries'));
add(V36, ['experimental-max-learners'], { deprecated: '--max-learners' });
add(V36, ['corrupt-check-time', 'compaction-batch-limit', 'watch-progress-notify-interval', 'warning-apply-duration', 'distributed-tracing-address', 'distributed-tracing-service-name', 'distributed-tracing-instance-id', 'distributed-tracing-sampling-rate', 'compact-hash-check-time', 'downgrade-check-time', 'bootstrap-defrag-threshold-megabytes', 'warning-unary-request-duration', 'compaction-sleep-interval', 'snapshot-catchup-entries', 'max-learners']);
add(V36, ['enable-distributed-tracing', 'memory-mlock', 'peer-skip-client-san-verification'], BOOL);

// ---- accepted and ignored (etcdmain `ignored`: leftovers of etcd 0.4 / 2.x)
add(ALL, ['cluster-active-size', 'cluster-remove-delay', 'cluster-sync-interval', 'config', 'force', 'max-result-buffer', 'max-retry-attempts', 'peer-heartbeat-interval', 'peer-election-timeout', 'retry-interval', 'snapshot', 'v', 'vv'], { ignored: true });

/** `3.4.23` → `3.4`; undefined for a minor this table does not cover. */
export function etcdMinor(version: string): EtcdMinor | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  const minor = `${m[1]}.${m[2]}`;
  return (ETCD_MINORS as readonly string[]).includes(minor) ? (minor as EtcdMinor) : undefined;
}

/** The flags of one minor release, name (without dashes) → spec. */
export function etcdFlags(minor: EtcdMinor): ReadonlyMap<string, EtcdFlagSpec> {
  return table[minor];
}

export function etcdFlag(minor: EtcdMinor, name: string): EtcdFlagSpec | undefined {
  return table[minor].get(name);
}

/** The minors that know a flag (for messages such as "removed in 3.6"). */
export function minorsWithFlag(name: string): EtcdMinor[] {
  return ETCD_MINORS.filter((m) => table[m].has(name));
}

/** -1, 0, 1 comparing dotted versions numerically (missing parts count as 0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.replace(/^v/, '').split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
