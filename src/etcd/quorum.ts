import { faultTolerance, quorum } from '../inventory/derive.js';

/** Quorum arithmetic for membership changes, pure: what the cluster survives, and whether a removal keeps quorum. */

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `3 members: quorum 2, survives 1 failure` (learners do not vote, so they neither count nor help). */
export function toleranceLine(voting: number, learners = 0): string {
  const who = learners ? `${plural(voting, 'voting member')} (+${plural(learners, 'learner')})` : plural(voting, 'member');
  return `${who}: quorum ${quorum(voting)}, survives ${plural(faultTolerance(voting), 'failure')}`;
}

export interface Voter {
  id: string;
  name: string;
  isLearner: boolean;
  healthy: boolean;
}

export type Verdict = { ok: true; text: string } | { ok: false; text: string };

const names = (vs: Voter[]) => vs.map((v) => v.name || v.id).join(', ') || 'none';

/**
 * Whether removing `target` keeps a quorum healthy: the change itself needs a quorum of today's voting members
 * healthy, and the members left need a quorum of their own number healthy. A learner changes neither count. The last
 * voting member is never removed (etcd cannot remove it, and there would be no cluster).
 */
export function removalVerdict(members: Voter[], target: Voter, what = `removing ${target.name || target.id}`): Verdict {
  const voters = members.filter((m) => !m.isLearner);
  const healthy = voters.filter((m) => m.healthy);
  const need = quorum(voters.length);
  if (healthy.length < need) {
    return { ok: false, text: `${what} is refused: the cluster has ${voters.length} voting members and needs ${need} healthy for quorum, but ${healthy.length} ${healthy.length === 1 ? 'is' : 'are'} (${names(healthy)}): a membership change cannot be committed` };
  }
  if (target.isLearner) return { ok: true, text: `${target.name || target.id} is a learner: the ${voters.length} voting members keep quorum ${need}` };
  if (voters.length === 1) return { ok: false, text: `${what} is refused: ${target.name || target.id} is the last member of the cluster` };
  const left = voters.filter((m) => m.id !== target.id);
  const leftHealthy = left.filter((m) => m.healthy);
  const down = left.filter((m) => !m.healthy);
  const needLeft = quorum(left.length);
  const counts = `${leftHealthy.length} healthy (${names(leftHealthy)})${down.length ? ` and ${down.length} not (${names(down)})` : ''}`;
  if (leftHealthy.length < needLeft) {
    return { ok: false, text: `${what} is refused: ${left.length} voting members would be left, needing ${needLeft} healthy for quorum, and ${counts}: ${leftHealthy.length} < ${needLeft}. Bring the others back first ('hardway verify' shows them)` };
  }
  return { ok: true, text: `${left.length} voting members left, ${counts}: quorum ${needLeft} kept` };
}
