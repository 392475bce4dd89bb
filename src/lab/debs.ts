import { UsageError } from '../errors.js';

/**
 * Pure logic of the lab's etcd 3.5: which etcd it packs, the apt configuration that fetches Debian trixie's
 * etcd-server and etcd-client without touching the host's apt, and which cached .debs make a release.
 * The I/O is in tarball.ts; the tests in test/unit/lab-etcd35.test.ts.
 */

/** The etcd minors the lab can pack: the host's own packages (bookworm: 3.4) or trixie's (3.5). */
export type LabEtcd = '3.4' | '3.5';
export const LAB_ETCDS: readonly LabEtcd[] = ['3.4', '3.5'];
export const DEFAULT_LAB_ETCD: LabEtcd = '3.4';

/** The Debian suite whose etcd-server and etcd-client are 3.5.x. */
export const ETCD35_SUITE = 'trixie';
/** Both packages are needed: etcd and etcdutl are in etcd-server, etcdctl in etcd-client. */
export const ETCD_DEBS = { server: 'etcd-server', client: 'etcd-client' } as const;
/** Where each binary is in those packages (checked with `dpkg-deb -c` on 3.5.16-4). */
export const DEB_BINARIES = { etcd: 'usr/bin/etcd', etcdctl: 'usr/bin/etcdctl', etcdutl: 'usr/bin/etcdutl' } as const;

export function parseLabEtcd(value: string): LabEtcd {
  const v = value.trim();
  const found = LAB_ETCDS.find((e) => e === v);
  if (!found) {
    throw new UsageError(`--etcd '${value}': the lab packs etcd 3.4 (this machine's etcd-server, the default) or 3.5 (Debian ${ETCD35_SUITE}'s)`);
  }
  return found;
}

export interface DebFile {
  name: string;
  pkg: string;
  /** The Debian version, epoch included (`apt-get download` writes `:` as `%3a`). */
  version: string;
  arch: string;
}

/** `etcd-server_3.5.16-4_amd64.deb` (as `apt-get download` names it) → its parts; undefined for anything else. */
export function parseDebFileName(name: string): DebFile | undefined {
  const m = /^([a-z0-9][a-z0-9+.-]+)_([^_/]+)_([a-z0-9-]+)\.deb$/.exec(name);
  if (!m) return undefined;
  let version: string;
  try {
    version = decodeURIComponent(m[2]!);
  } catch {
    return undefined;
  }
  return { name, pkg: m[1]!, version, arch: m[3]! };
}

/**
 * The upstream x.y.z of a Debian version: `1:3.5.16+dfsg-4+b1` → `3.5.16` (`+…` is a repack of the same
 * release). A pre-release (`3.5.17~rc1`) or anything else is not a release the lab can name: undefined.
 */
export function debUpstreamVersion(version: string): string | undefined {
  return /^(?:\d+:)?(\d+\.\d+\.\d+)(?:[+-]|$)/.exec(version)?.[1];
}

/** Orders x.y.z versions numerically (3.5.9 < 3.5.16). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface EtcdDebs {
  server: DebFile;
  client: DebFile;
  /** The upstream version both have, e.g. `3.5.16`. */
  version: string;
}

/**
 * From the .debs in the cache, the etcd-server and etcd-client of the newest `minor`.x both are there for (a
 * binNMU may give them different Debian revisions, but never a different upstream version), for `arch`.
 */
export function selectEtcdDebs(names: string[], arch: string, minor = '3.5'): EtcdDebs | undefined {
  const debs = names.map(parseDebFileName).filter((d): d is DebFile => !!d && d.arch === arch);
  const byVersion = new Map<string, Partial<Record<'server' | 'client', DebFile>>>();
  for (const d of debs) {
    const role = d.pkg === ETCD_DEBS.server ? 'server' : d.pkg === ETCD_DEBS.client ? 'client' : undefined;
    const upstream = debUpstreamVersion(d.version);
    if (!role || !upstream?.startsWith(`${minor}.`)) continue;
    const pair = byVersion.get(upstream) ?? {};
    const had = pair[role];
    // Two revisions of one upstream version: the later one (numeric-aware, enough for `-4` against `-10`).
    if (!had || had.version.localeCompare(d.version, 'en', { numeric: true }) < 0) pair[role] = d;
    byVersion.set(upstream, pair);
  }
  const complete = [...byVersion.entries()].filter(([, p]) => p.server && p.client).sort(([a], [b]) => compareVersions(b, a));
  const best = complete[0];
  return best ? { server: best[1].server!, client: best[1].client!, version: best[0] } : undefined;
}

/** The one-line apt source of `suite`'s main archive on the host's mirror. */
export function renderAptSource(mirror: string, suite: string, signedBy?: string): string {
  const opts = signedBy ? `[signed-by=${signedBy}] ` : '';
  return `deb ${opts}${mirror.replace(/\/+$/, '')} ${suite} main\n`;
}

export interface AptRoot {
  /** The sources list file (renderAptSource's text). */
  sourceList: string;
  /** Empty directories standing for sources.list.d and preferences.d. */
  emptyDir: string;
  /** apt's lists and its (empty) dpkg status. */
  state: string;
  status: string;
  cache: string;
}

/**
 * `-o` options that make apt-get read only `root`'s sources and keep its lists, caches and status there: the
 * host's sources, lists and pins are never read or written, and the host's installed packages do not decide
 * which version is downloaded. apt's own configuration (a proxy, say) still applies.
 */
export function aptOptions(root: AptRoot): string[] {
  const o: [string, string][] = [
    ['Dir::Etc::SourceList', root.sourceList],
    ['Dir::Etc::SourceParts', root.emptyDir],
    ['Dir::Etc::Preferences', '/dev/null'],
    ['Dir::Etc::PreferencesParts', root.emptyDir],
    ['Dir::State', root.state],
    ['Dir::State::status', root.status],
    ['Dir::Cache', root.cache],
    ['Acquire::Languages', 'none'],
    // The temp root is root's 0700 dir, which the _apt user could not write into (apt warns, then does it as root).
    ['APT::Sandbox::User', 'root'],
  ];
  return o.flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}
