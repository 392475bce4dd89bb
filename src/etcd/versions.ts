/**
 * etcd versions as members report them, and how a cluster's members differ: what `member list`, `verify` and the
 * upgrade preflight say alike. Pure.
 */

export type Version = [number, number, number];

export function parseVersion(v: string | undefined): Version | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export const minorOf = (v: Version) => `${v[0]}.${v[1]}`;
export const compareVersions = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

export interface MemberVersion {
  name: string;
  /** The server version the member reports (endpoint status); undefined when it did not answer. */
  version?: string;
  healthy: boolean;
}

/** "2 of 3 members on 3.5.16, 1 on 3.4.23; cluster version 3.4 until all run 3.5" — or undefined when all agree. */
export function mixedVersions(members: MemberVersion[], clusterVersion?: string): string | undefined {
  const by = new Map<string, string[]>();
  for (const m of members) if (m.version) by.set(m.version, [...(by.get(m.version) ?? []), m.name]);
  if (by.size < 2) return undefined;
  const groups = [...by].sort((a, b) => compareVersions(parseVersion(b[0])!, parseVersion(a[0])!) || b[1].length - a[1].length);
  const [top, ...rest] = groups;
  const cv = parseVersion(clusterVersion);
  const newest = parseVersion(top![0])!;
  return `${top![1].length} of ${members.length} members on ${top![0]}, ${rest.map(([v, ns]) => `${ns.length} on ${v}`).join(', ')}${cv ? `; cluster version ${minorOf(cv)}${compareVersions(cv, newest) < 0 && cv[1] !== newest[1] ? ` until all run ${minorOf(newest)}` : ''}` : ''}`;
}
