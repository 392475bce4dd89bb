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

/** `--wal-dir` of a unit, if it sets one (etcd then keeps the WAL there instead of `<data-dir>/member/wal`). */
export function walDirOf(unit: string): string | undefined {
  return /--wal-dir[= ]+([^\s\\]+)/.exec(unit)?.[1];
}
