import { compareVersions as cmp, minorOf, mixedVersions, parseVersion, type MemberVersion, type Version } from '../etcd/versions.js';

/**
 * Whether a version change may start, decided before any file is written. Pure: the facts (each member's server
 * version and health, the cluster version, the release's own `etcd --version`, the flags the unit will carry) come
 * from the caller. etcd's rules, from its upgrade guides:
 * - one minor at a time (3.4 → 3.6 goes through 3.5), after every member is on a patch release the guide names;
 * - no downgrade below 3.6 (the cluster version never goes down): a snapshot taken on the older release is the
 *   only way back; from 3.6, `etcdctl downgrade validate|enable` first, then the binaries one member at a time;
 * - a flag the target release removed stops it at start: it must leave the unit first.
 */

const text = (v: Version) => v.join('.');

/** The patch release every member must run before the next minor, with where the rule is written. */
export interface PatchFloor {
  from: string;
  floor: string;
  source: string;
}

/**
 * One table, newest rule per minor. The 3.5 → 3.6 guide first asked for 3.5.20 ("too many learner members"), then
 * raised it to 3.5.26 (3.5.24–3.5.26 fix further upgrade blockers). The 3.4 → 3.5 guide sets no floor (it asks for
 * the latest patch, and says clusters with auth enabled cannot roll from 3.4).
 */
export const PATCH_FLOORS: readonly PatchFloor[] = [
  { from: '3.5', floor: '3.5.26', source: 'https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/ ("Update 3.5": 3.5.26 or later; 3.5.20 when the guide was first published)' },
  { from: '3.6', floor: '3.6.11', source: 'https://etcd.io/docs/v3.7/upgrades/upgrade_3_7/ ("Update 3.6": 3.6.11 or later)' },
];

/** Flags a release no longer accepts (etcd exits at start naming the flag), and what replaces them. */
export interface RemovedFlag {
  flag: string | RegExp;
  removedIn: string;
  replacement: string;
}

export const REMOVED_FLAGS: readonly RemovedFlag[] = [
  { flag: 'debug', removedIn: '3.5', replacement: '--log-level=debug' },
  { flag: 'log-package-levels', removedIn: '3.5', replacement: '--log-level' },
  { flag: 'log-output', removedIn: '3.5', replacement: '--log-outputs' },
  { flag: 'enable-v2', removedIn: '3.6', replacement: "nothing: remove it (the v2 store is gone; check it holds no data of yours with 'etcdutl check v2store')" },
  { flag: 'experimental-enable-v2v3', removedIn: '3.6', replacement: 'nothing: remove it (the v2 API is gone)' },
  { flag: /^experimental-(.+)$/, removedIn: '3.7', replacement: '--$1 (3.6 accepts both names: rename it before the upgrade)' },
];

export interface PreflightInput {
  members: MemberVersion[];
  /** The cluster version (`etcd_cluster_version`, e.g. 3.4.0): the lowest minor every member runs. */
  clusterVersion?: string;
  /** What the release's own `etcd --version` says. */
  release: string;
  /** What the inventory says (`etcd.version`). */
  inventory: string;
  /** Flag names (without dashes) the unit will carry, extraFlags included. */
  flags: string[];
  /** The user asked for a downgrade (`up --downgrade`): etcd 3.6+ allows one minor down, through its downgrade API. */
  downgrade?: boolean;
}

export type Preflight =
  | { kind: 'same'; note?: string }
  | { kind: 'upgrade'; from: string; to: string; clusterVersion: string; notes: string[]; mixed?: string; downgrade?: string }
  | { kind: 'downgrade'; from: string; to: string; refused: string[]; how: string }
  | { kind: 'refused'; refused: string[] };

export function removedFlags(flags: string[], target: Version): string[] {
  return flags.flatMap((f) =>
    REMOVED_FLAGS.flatMap((r) => {
      const removed = parseVersion(r.removedIn)!;
      if (cmp(target, removed) < 0) return [];
      const m = typeof r.flag === 'string' ? (f === r.flag ? [f] : null) : r.flag.exec(f);
      if (!m) return [];
      const replacement = typeof r.flag === 'string' ? r.replacement : r.replacement.replace('$1', m[1] ?? '');
      return [`--${f} was removed in etcd ${r.removedIn}: ${replacement}`];
    }),
  );
}

export function preflight(input: PreflightInput): Preflight {
  const release = parseVersion(input.release);
  if (!release) return { kind: 'refused', refused: [`the release's etcd --version said nothing readable ('${input.release}')`] };
  const inventory = parseVersion(input.inventory);
  if (inventory && cmp(release, inventory) !== 0) {
    return { kind: 'refused', refused: [`the release's own etcd --version is ${text(release)}, but etcd.version says ${input.inventory}: correct one of them (a tarball of another release?)`] };
  }
  const running = input.members.filter((m) => m.version).map((m) => ({ ...m, v: parseVersion(m.version)! }));
  if (running.length && running.every((m) => cmp(m.v, release) === 0)) return { kind: 'same' };
  const lowest = running.reduce<Version | undefined>((lo, m) => (!lo || cmp(m.v, lo) < 0 ? m.v : lo), undefined);
  const highest = running.reduce<Version | undefined>((hi, m) => (!hi || cmp(m.v, hi) > 0 ? m.v : hi), undefined);
  const cluster = parseVersion(input.clusterVersion) ?? lowest;
  if (!cluster || !highest || !lowest) return { kind: 'refused', refused: ['no member reported its version: the cluster must be healthy before a version change'] };
  const refused: string[] = [];
  const down = input.members.filter((m) => !m.healthy || !m.version);
  if (down.length) refused.push(`every member must be healthy before a version change, and ${down.map((m) => m.name).join(', ')} ${down.length === 1 ? 'is' : 'are'} not`);
  refused.push(...removedFlags(input.flags, release));
  const mixed = mixedVersions(input.members, input.clusterVersion);

  // Below the cluster version: a downgrade. (Members on a newer minor while the cluster version is still the old one
  // may go back: that is an upgrade not finished, which the cluster version has not followed yet.)
  if (release[0] < cluster[0] || (release[0] === cluster[0] && release[1] < cluster[1])) {
    const to = minorOf(release);
    // From 3.6, one minor down through etcd's downgrade API, when asked for: it rolls like an upgrade, the downgrade
    // enabled first ('etcdctl downgrade validate|enable'), so that the members on the older release may join.
    const oneDown = cluster[0] === release[0] && cluster[1] >= 6 && release[1] === cluster[1] - 1;
    if (oneDown && input.downgrade && !refused.length) {
      return { kind: 'upgrade', from: text(highest), to: text(release), clusterVersion: minorOf(cluster), notes: [`a downgrade to ${to}: 'etcdctl downgrade validate ${to}' and 'downgrade enable ${to}' first`], downgrade: to, ...(mixed ? { mixed } : {}) };
    }
    const how = oneDown
      ? `from 3.6 on etcd downgrades one minor at a time: 'hardway up --downgrade' runs 'etcdctl downgrade validate ${to}' and 'etcdctl downgrade enable ${to}', then puts the ${text(release)} binaries on one member at a time`
      : cluster[1] >= 6
        ? `etcd downgrades one minor at a time: to ${to}, go through ${cluster[0]}.${cluster[1] - 1} first ('hardway up --downgrade' with its release)`
        : `etcd ${minorOf(cluster)} cannot be downgraded (its cluster version never goes down): the way back to ${to} is 'hardway snapshot restore FILE' of a snapshot taken while the cluster ran ${to}`;
    return { kind: 'downgrade', from: text(highest), to: text(release), refused: [`the cluster version is ${minorOf(cluster)} and the release is ${text(release)}: a downgrade`, ...refused], how };
  }
  if (release[1] > cluster[1] + 1) {
    const next = `${cluster[0]}.${cluster[1] + 1}`;
    refused.push(`etcd upgrades one minor at a time: the cluster runs ${minorOf(cluster)}, so go through ${next} (its latest patch release) before ${minorOf(release)}`);
  }
  const notes: string[] = [];
  if (release[1] === cluster[1] + 1) {
    const floor = PATCH_FLOORS.find((f) => f.from === minorOf(cluster));
    const below = floor ? running.filter((m) => m.v[1] === cluster[1] && cmp(m.v, parseVersion(floor.floor)!) < 0) : [];
    if (floor && below.length) refused.push(`before ${minorOf(release)} every member must run ${floor.floor} or later (${floor.source}); ${below.map((m) => `${m.name} runs ${m.version}`).join(', ')}: upgrade to the latest ${minorOf(cluster)} patch release first`);
    if (!floor && cluster[1] === 4) notes.push("etcd's 3.4 → 3.5 guide sets no patch floor; a cluster with auth enabled cannot roll from 3.4 (its WAL format for auth changed)");
  }
  if (refused.length) return { kind: 'refused', refused };
  if (cmp(release, lowest) < 0) notes.push(`${text(release)} is an older patch of ${minorOf(release)} than some members run: patch releases of one minor are interchangeable`);
  return { kind: 'upgrade', from: text(lowest), to: text(release), clusterVersion: minorOf(cluster), notes, ...(mixed ? { mixed } : {}) };
}

/** The preflight as a sentence for plan and up. */
export function preflightText(p: Preflight): string {
  switch (p.kind) {
    case 'same':
      return 'every member already runs this release';
    case 'upgrade':
      return `${p.downgrade ? 'downgrade' : 'upgrade'} ${p.from} → ${p.to} (cluster version ${p.clusterVersion}${p.mixed ? `; ${p.mixed}` : ''}): a snapshot first, then one member at a time, followers first, the leader last${p.notes.length ? `; ${p.notes.join('; ')}` : ''}`;
    case 'downgrade':
      return `refused before anything moves: ${p.refused.join('; ')}. ${p.how}`;
    case 'refused':
      return `refused before anything moves: ${p.refused.join('; ')}`;
  }
}
