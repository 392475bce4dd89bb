import { execWords, parseUnitText, unitEntries, type UnitEntry } from './unit-parse.js';
import { createHash } from 'node:crypto';

/**
 * Flags etcd reads only when it bootstraps a member (an empty data dir); once the data dir exists it ignores them.
 * Units are also compared with their values blanked, so that `up` neither rewrites nor restarts for nothing:
 * - `--initial-cluster-state` alone: a member `up` re-added to a running cluster runs a unit saying `existing`
 *   while the inventory says `new`; the unit is left as it is.
 * - any of them (a node added to the inventory changes every member's `--initial-cluster`): the unit is rewritten so
 *   that it shows the cluster as it is, but the member is not restarted.
 * The seds below and the regexps must agree (unit-tested against each other).
 */
const STATE = 'initial-cluster-state';
// Longest first: `--initial-cluster` is a prefix of two of the others (in sed's ERE the `[= ]` after it decides).
const BOOTSTRAP = `(${STATE}|initial-cluster-token|initial-cluster|initial-advertise-peer-urls)`;

export const STATE_FLAG_SED = `sed -E 's/--${STATE}[= ]+[^ ]+/--${STATE}/g'`;
export const BOOTSTRAP_FLAGS_SED = `sed -E 's/--${BOOTSTRAP}[= ]+[^ ]+/--\\1/g'`;

export function stateFreeText(unit: string): string {
  return unit.replace(new RegExp(`--${STATE}[= ]+[^ \\n]+`, 'g'), `--${STATE}`);
}

export function bootstrapFreeText(unit: string): string {
  return unit.replace(new RegExp(`--${BOOTSTRAP}[= ]+[^ \\n]+`, 'g'), '--$1');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const stateFreeSha256 = (unit: string) => sha256(stateFreeText(unit));
export const bootstrapFreeSha256 = (unit: string) => sha256(bootstrapFreeText(unit));

const BOOTSTRAP_FLAG_NAMES = new Set(['initial-cluster-state', 'initial-cluster-token', 'initial-cluster', 'initial-advertise-peer-urls']);

/**
 * etcd's flags from an argv (`--flag value`, `--flag=value`, `-flag` all as `flag=value`), sorted, without the flags
 * etcd reads only when bootstrapping: what a running member's configuration is, to compare with its unit.
 */
export function effectiveFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) continue;
    let value = m[2];
    if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) value = argv[++i];
    if (!BOOTSTRAP_FLAG_NAMES.has(m[1]!)) out.push(`${m[1]}=${value ?? 'true'}`);
  }
  return out.sort();
}

/** The argv of a unit's last [Service] ExecStart=, split and unquoted as systemd does (the linter's parser). */
export function execStartArgv(unit: string): string[] {
  const execs = unitEntries(parseUnitText(unit).intended).filter(
    (e): e is Extract<UnitEntry, { kind: 'assignment' }> => e.kind === 'assignment' && e.section === 'Service' && e.key === 'ExecStart',
  );
  const last = execs[execs.length - 1];
  const argv = last ? execWords(last.ll, last.valueStart).map((w) => w.value) : [];
  // ExecStart's own prefixes (`-`, `@`, `+`, …) are on the program only.
  if (argv[0]) argv[0] = argv[0].replace(/^[-@:+!]+/, '');
  return argv;
}

/** `--wal-dir` of a unit, if it sets one (etcd then keeps the WAL there instead of `<data-dir>/member/wal`). */
export function walDirOf(unit: string): string | undefined {
  return effectiveFlags(execStartArgv(unit))
    .find((f) => f.startsWith('wal-dir='))
    ?.slice('wal-dir='.length);
}
