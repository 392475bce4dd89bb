import type { NodeFacts } from '../../src/cluster/condition.js';

/** Facts the cluster condition is judged from, for its unit tests (types only: the module is not loaded here). */

/** Node i's peer URL. */
export const peerUrlOf = (i: number) => `https://10.0.0.${10 + i}:2380`;

/** Node `c<i>`, reached, its etcd active, its data dir holding member `a<i>` of cluster `c1`. */
export const nodeFacts = (i: number, extra: Partial<NodeFacts> = {}): NodeFacts => ({
  node: `c${i}`,
  peerUrl: peerUrlOf(i),
  observed: true,
  active: true,
  hasData: true,
  wal: { memberId: `a${i}`, clusterId: 'c1' },
  ...extra,
});
