import { createHash } from 'node:crypto';

/**
 * `--initial-cluster-state` only matters on a member's first start: once its data dir exists etcd ignores it. A member
 * that `up` re-added to a running cluster runs a unit saying `existing` while the inventory says `new`; comparing
 * units without that value keeps later runs from restarting it for nothing. The sed below and the regexp must agree.
 */
export const STATE_FLAG_SED = "sed -E 's/--initial-cluster-state[= ]+[^ ]+/--initial-cluster-state/g'";

export function stateFreeText(unit: string): string {
  return unit.replace(/--initial-cluster-state[= ]+[^ \n]+/g, '--initial-cluster-state');
}

export function stateFreeSha256(unit: string): string {
  return createHash('sha256').update(stateFreeText(unit)).digest('hex');
}
