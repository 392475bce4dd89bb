import { parseVersion } from '../etcd/tools.js';
import { parseUnitText, unitEntries, type UnitEntry } from '../render/unit-parse.js';
import { execStartArgv } from '../render/unit-flags.js';

/**
 * What differs between two etcd units, as a person reads it (flags added, removed, changed) and as etcd sees it
 * (a flag given its default value is the same as a flag left out). Pure. A cluster made by hand from the guide
 * differs from hardway's unit only by `--heartbeat-interval=100 --election-timeout=1000`, etcd's own defaults:
 * writing them changes nothing etcd does, so no member is restarted for them.
 */

/** Flags etcd reads only when it bootstraps a member (an empty data dir). */
export const BOOTSTRAP_FLAGS = new Set(['initial-cluster-state', 'initial-cluster-token', 'initial-cluster', 'initial-advertise-peer-urls']);

/**
 * etcd's defaults for the flags a KTHW unit or `extraFlags` set, by release (etcd's `etcd --help` of 3.4, 3.5 and
 * 3.6). Boolean flags default to false: absent and `=false` are the same.
 */
export function etcdDefault(flag: string, version: string): string | undefined {
  const [, minor] = parseVersion(version);
  const table: Record<string, string> = {
    'heartbeat-interval': '100',
    'election-timeout': '1000',
    'snapshot-count': minor >= 6 ? '10000' : '100000',
    'max-snapshots': '5',
    'max-wals': '5',
    'quota-backend-bytes': '0',
    'auto-compaction-retention': '0',
    'auto-compaction-mode': 'periodic',
    'max-request-bytes': '1572864',
    'grpc-keepalive-min-time': '5s',
    'grpc-keepalive-interval': '2h0m0s',
    'grpc-keepalive-timeout': '20s',
    'strict-reconfig-check': 'true',
    'pre-vote': minor >= 5 ? 'true' : 'false',
    metrics: 'basic',
    'log-level': 'info',
    'initial-cluster-state': 'new',
    'initial-cluster-token': 'etcd-cluster',
    'client-cert-auth': 'false',
    'peer-client-cert-auth': 'false',
    'enable-v2': 'false',
    'enable-pprof': 'false',
    'auto-tls': 'false',
    'peer-auto-tls': 'false',
  };
  return table[flag];
}

/** `--flag value`, `--flag=value`, `-flag`, a bare boolean: name → value ('true' for a bare flag). */
export function flagMap(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 1; i < argv.length; i++) {
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue;
    let value = m[2];
    if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) value = argv[++i];
    out.set(m[1]!, value ?? 'true');
  }
  return out;
}

export interface FlagChange {
  flag: string;
  /** The installed (or running) value; undefined when the flag is not given there. */
  from?: string;
  to?: string;
  /** etcd's default, when it has one that applies. */
  defaultValue?: string;
  /** The same to etcd: one side gives the default, the other leaves it out. */
  equivalent: boolean;
  /** Read only when bootstrapping a member. */
  bootstrapOnly: boolean;
}

export function flagChanges(have: string[], want: string[], version: string): FlagChange[] {
  const [a, b] = [flagMap(have), flagMap(want)];
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return names.flatMap((flag) => {
    const from = a.get(flag);
    const to = b.get(flag);
    if (from === to) return [];
    const def = etcdDefault(flag, version);
    const equivalent = def !== undefined && (from ?? def) === (to ?? def);
    return [{ flag, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(def !== undefined ? { defaultValue: def } : {}), equivalent, bootstrapOnly: BOOTSTRAP_FLAGS.has(flag) }];
  });
}

/** Does a process started with `have` do something else than one started with `want`? (bootstrap flags aside) */
export function argvDiffers(have: string[], want: string[], version: string): FlagChange[] {
  return flagChanges(have, want, version).filter((c) => !c.equivalent && !c.bootstrapOnly);
}

/** The [Service] settings other than ExecStart, normalized: they too change what a restart starts. */
function serviceSettings(unit: string): string[] {
  return unitEntries(parseUnitText(unit).intended)
    .filter((e): e is Extract<UnitEntry, { kind: 'assignment' }> => e.kind === 'assignment' && e.section === 'Service' && e.key !== 'ExecStart')
    .map((e) => `${e.key}=${e.value.trim()}`)
    .sort();
}

export interface UnitComparison {
  flags: FlagChange[];
  /** [Service] settings only one of them has (ExecStart aside). */
  service: { removed: string[]; added: string[] };
  /** A different program in ExecStart. */
  program?: { from: string; to: string };
  /** What etcd runs would change: a restart is needed for the new unit to matter. */
  restartNeeded: boolean;
}

/** `hasData`: the member exists, so flags etcd reads only at bootstrap change nothing. */
export function compareUnits(installed: string, wanted: string, version: string, hasData: boolean): UnitComparison {
  const [ha, wa] = [execStartArgv(installed), execStartArgv(wanted)];
  const flags = flagChanges(ha, wa, version);
  const [hs, ws] = [serviceSettings(installed), serviceSettings(wanted)];
  const service = { removed: hs.filter((s) => !ws.includes(s)), added: ws.filter((s) => !hs.includes(s)) };
  const program = ha[0] !== wa[0] ? { from: ha[0] ?? '', to: wa[0] ?? '' } : undefined;
  // The comparison reads the units as their author meant them; where systemd would read either otherwise (a doubled
  // backslash at a line end), what etcd runs cannot be told from it: restart, as for any change.
  const unreadable = parseUnitText(installed).continuation.length > 0 || parseUnitText(wanted).continuation.length > 0;
  const restartNeeded = unreadable || !!program || service.removed.length > 0 || service.added.length > 0 || flags.some((f) => !f.equivalent && !(hasData && f.bootstrapOnly));
  return { flags, service, ...(program ? { program } : {}), restartNeeded };
}

/** The comparison as lines for `plan`: `+ --flag=value`, `- --flag=value`, `~ --flag: a → b`, each with why it matters. */
export function unitDiffLines(c: UnitComparison, hasData: boolean): string[] {
  const note = (f: FlagChange) =>
    f.equivalent ? ` (etcd's default ${f.defaultValue}: no change to what etcd does)` : f.bootstrapOnly && hasData ? ' (read only when a member bootstraps: no restart)' : '';
  return [
    ...(c.program ? [`~ program: ${c.program.from} → ${c.program.to}`] : []),
    ...c.flags.map((f) =>
      f.from === undefined ? `+ --${f.flag}=${f.to}${note(f)}` : f.to === undefined ? `- --${f.flag}=${f.from}${note(f)}` : `~ --${f.flag}: ${f.from} → ${f.to}${note(f)}`,
    ),
    ...c.service.removed.map((s) => `- [Service] ${s}`),
    ...c.service.added.map((s) => `+ [Service] ${s}`),
  ];
}
