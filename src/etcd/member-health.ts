import { quorum } from '../inventory/derive.js';
import { endpointHealthOf, reachableClientUrl } from './health.js';
import type { Remote } from '../ssh/remote.js';
import type { EndpointHealth, MemberInfo } from './etcdctl.js';
import type { Voter } from './quorum.js';

/** Which members answer, for the quorum arithmetic of the member commands and of up's rolling restarts. */

/**
 * A member that answers but reports an active alarm is up: etcdctl 3.4 calls it unhealthy, yet a NOSPACE cluster
 * is repaired through exactly those members (defrag, disarm), and it still commits membership changes.
 */
export function answers(h: EndpointHealth | undefined): boolean {
  return !!h && (h.health || /^Active Alarm/i.test(h.error ?? ''));
}

/** Every member with whether it answers; one never started, or without a client URL, does not. */
export async function membersHealth(remote: Remote, rows: MemberInfo[], timeoutS = 3): Promise<Voter[]> {
  const urls = rows.flatMap((r) => reachableClientUrl(r) ?? []);
  return votersOf(rows, await endpointHealthOf(remote, urls, timeoutS));
}

/** True when `health` has an answer for every member that has a reachable client URL: votersOf needs no other. */
export const coversMembers = (rows: MemberInfo[], health: EndpointHealth[]): boolean =>
  rows.every((r) => {
    const url = reachableClientUrl(r);
    return !url || health.some((h) => h.endpoint === url);
  });

/** The members with whether they answer, from `endpoint health` answers already had. */
export function votersOf(rows: MemberInfo[], health: EndpointHealth[]): Voter[] {
  return rows.map((r) => {
    const url = reachableClientUrl(r);
    return { id: r.id, name: r.name, isLearner: r.isLearner, healthy: !!url && answers(health.find((h) => h.endpoint === url)) };
  });
}

/** Undefined when a quorum of the voting members answers; otherwise why not, with the numbers. */
export function quorumProblem(members: Voter[]): string | undefined {
  const voters = members.filter((m) => !m.isLearner);
  const up = voters.filter((m) => m.healthy);
  const need = quorum(voters.length);
  if (up.length >= need) return undefined;
  const down = voters.filter((m) => !m.healthy).map((m) => m.name || m.id);
  return `the cluster has no quorum: ${voters.length} voting members need ${need} healthy, ${up.length} ${up.length === 1 ? 'is' : 'are'} (down: ${down.join(', ')})`;
}
