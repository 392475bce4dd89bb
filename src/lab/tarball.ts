import { chmod, copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.js';
import { info } from '../output.js';
import { removeStaleTemps, tempName } from '../release/artifacts.js';
import { aptOptions, DEB_BINARIES, ETCD35_SUITE, ETCD_DEBS, renderAptSource, selectEtcdDebs, type AptRoot, type EtcdDebs, type LabEtcd } from './debs.js';
import { etcdReleaseName, goArch, parseEtcdVersion } from './plan.js';
import { findMirror, removeTree } from './rootfs.js';
import { exists, run, which } from './sys.js';

/**
 * The etcd release tarball for the lab, laid out like an upstream release (etcd-vX-linux-ARCH/{etcd,etcdctl,…})
 * so hardway installs it as it would a download: 3.4 packed from the host's Debian etcd-server/etcd-client,
 * 3.5 from Debian trixie's, fetched once into the lab's cache with an apt of its own.
 */

export const HOST_ETCD = '/usr/bin/etcd';
export const HOST_ETCDCTL = '/usr/bin/etcdctl';
/** The keyring the host's Debian sources are signed with (trixie's archive keys are in bookworm's package too). */
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface LabRelease {
  path: string;
  version: string;
  /** Packed by this call (not found up to date). */
  built: boolean;
  /** The .debs were downloaded by this call (3.5 only). */
  fetched: boolean;
}

export async function hostEtcdVersion(): Promise<string> {
  const r = await run(HOST_ETCD, ['--version'], { allowFail: true });
  const v = parseEtcdVersion(r.stdout);
  if (!v) throw new OperationError(`cannot tell the version of ${HOST_ETCD}: ${r.stdout.trim() || r.stderr.trim()}`);
  return v;
}

async function mtime(p: string): Promise<number> {
  return (await stat(p)).mtimeMs;
}

/** `etcd-v3.5.16-linux-amd64.tar.gz`: a real release's name, whose version `up` checks against the inventory. */
export function releaseFileName(version: string, arch: string): string {
  return `${etcdReleaseName(version, arch)}.tar.gz`;
}

/** An up-to-date tarball is newer than everything it was packed from. */
async function upToDate(out: string, inputs: string[]): Promise<boolean> {
  if (!(await exists(out))) return false;
  const newest = Math.max(...(await Promise.all(inputs.map(mtime))));
  return (await mtime(out)) >= newest;
}

/**
 * Packs `files` (name in the release → file here) and a README into `out`, top dir named after it. Staging dir and
 * tarball go through temp names with our PID, so a killed run leaves no half tarball, and its leftovers are
 * removed by the next run.
 */
export async function packRelease(out: string, files: Record<string, string>, readme: string): Promise<void> {
  const dir = path.dirname(out);
  const name = path.basename(out).replace(/\.tar\.gz$/, '');
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);
  const staging = tempName(path.join(dir, '.release'));
  const tmp = tempName(out);
  try {
    await mkdir(path.join(staging, name), { recursive: true });
    for (const [inRelease, from] of Object.entries(files)) {
      await copyFile(from, path.join(staging, name, inRelease));
      await chmod(path.join(staging, name, inRelease), 0o755);
    }
    await writeFile(path.join(staging, name, 'README.md'), readme);
    await run('tar', ['-czf', tmp, '--owner=0', '--group=0', '-C', staging, name], { timeoutMs: 300_000 });
    await rename(tmp, out);
  } finally {
    await removeTree(staging);
    await rm(tmp, { force: true });
  }
}

/** The host's 3.4, packed into the lab dir unless the tarball there is already newer than the host's binaries. */
async function hostRelease(labDir: string): Promise<LabRelease> {
  const version = await hostEtcdVersion();
  const out = path.join(labDir, releaseFileName(version, goArch(process.arch)));
  if (await upToDate(out, [HOST_ETCD, HOST_ETCDCTL])) return { path: out, version, built: false, fetched: false };
  const readme =
    `# etcd v${version}\n\nPacked by \`hardway lab\` from this machine's Debian etcd-server and etcd-client\n` +
    `(${HOST_ETCD}, ${HOST_ETCDCTL}), laid out like an upstream release tarball.\n`;
  await packRelease(out, { etcd: HOST_ETCD, etcdctl: HOST_ETCDCTL }, readme);
  return { path: out, version, built: true, fetched: false };
}

/** The lab's cache of trixie's etcd: the two .debs and the tarball packed from them. */
export function debCacheDir(cacheDir: string): string {
  return path.join(cacheDir, 'etcd-3.5');
}

/**
 * Downloads etcd-server and etcd-client from the host's Debian mirror's trixie into `dir`, with apt-get run on a
 * temp root of its own (sources, lists, status): the host's apt sources and state are never read for packages
 * nor written. The .debs are checked by apt against the suite's signed Release file.
 */
export async function fetchEtcdDebs(dir: string): Promise<void> {
  if (!(await which('apt-get'))) throw new UsageError(`lab up --etcd 3.5 fetches Debian ${ETCD35_SUITE}'s etcd packages with apt-get, which this machine lacks`);
  const mirror = await findMirror();
  const root = tempName(path.join(dir, '.apt'));
  const a: AptRoot = {
    sourceList: path.join(root, 'sources.list'),
    emptyDir: path.join(root, 'empty.d'),
    state: path.join(root, 'state'),
    status: path.join(root, 'status'),
    cache: path.join(root, 'cache'),
  };
  const downloads = path.join(root, 'debs');
  const started = Date.now();
  info(`lab: fetching ${ETCD_DEBS.server} and ${ETCD_DEBS.client} from Debian ${ETCD35_SUITE} (${mirror})…`);
  try {
    for (const d of [path.join(a.state, 'lists', 'partial'), path.join(a.cache, 'archives', 'partial'), a.emptyDir, downloads]) await mkdir(d, { recursive: true });
    await writeFile(a.sourceList, renderAptSource(mirror, ETCD35_SUITE, (await exists(DEBIAN_KEYRING)) ? DEBIAN_KEYRING : undefined));
    await writeFile(a.status, '');
    const o = aptOptions(a);
    await run('apt-get', [...o, '-q', 'update'], { timeoutMs: 600_000 });
    await run('apt-get', [...o, '-q', 'download', ETCD_DEBS.server, ETCD_DEBS.client], { cwd: downloads, timeoutMs: 600_000 });
    const got = (await readdir(downloads)).filter((n) => n.endsWith('.deb'));
    // Older .debs (a pair left incomplete by a killed run) go: the cache holds one release.
    for (const old of (await readdir(dir)).filter((n) => n.endsWith('.deb') && !got.includes(n))) await rm(path.join(dir, old), { force: true });
    for (const n of got) await rename(path.join(downloads, n), path.join(dir, n));
    info(`lab: fetched ${got.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Unpacks both .debs (dpkg-deb -x) and packs etcd, etcdctl and etcdutl as release `out`. */
async function packDebs(dir: string, debs: EtcdDebs, out: string): Promise<void> {
  const x = tempName(path.join(dir, '.unpack'));
  try {
    for (const d of [debs.server, debs.client]) await run('dpkg-deb', ['-x', path.join(dir, d.name), x], { timeoutMs: 120_000 });
    const files: Record<string, string> = {};
    for (const [name, rel] of Object.entries(DEB_BINARIES)) {
      if (!(await exists(path.join(x, rel)))) throw new OperationError(`${debs.server.name} and ${debs.client.name} have no /${rel}: not the etcd packages the lab expects`);
      files[name] = path.join(x, rel);
    }
    // The inventory names the version the file name says: the binary must say the same.
    const said = parseEtcdVersion((await run(files.etcd!, ['--version'], { allowFail: true })).stdout);
    if (said !== debs.version) throw new OperationError(`the etcd in ${debs.server.name} says it is ${said ?? 'no version'}, not ${debs.version}`);
    const readme =
      `# etcd v${debs.version}\n\nPacked by \`hardway lab\` from Debian ${ETCD35_SUITE}'s ${debs.server.name} (etcd, etcdutl) and\n` +
      `${debs.client.name} (etcdctl), laid out like an upstream release tarball.\n`;
    await packRelease(out, files, readme);
  } finally {
    await removeTree(x);
  }
}

export interface DebReleaseOptions {
  /** Downloads the .debs into the dir given (default: fetchEtcdDebs); tests pass their own. */
  fetch?: (dir: string) => Promise<void>;
  arch?: string;
}

/**
 * etcd 3.5 from trixie's packages, in `<cacheDir>/etcd-3.5/`: the .debs are fetched only when the cache has no
 * complete pair, the tarball packed only when it is older than them. A second call reads a directory listing.
 */
export async function debRelease(cacheDir: string, opts: DebReleaseOptions = {}): Promise<LabRelease> {
  const dir = debCacheDir(cacheDir);
  const arch = opts.arch ?? goArch(process.arch);
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);
  let debs = selectEtcdDebs(await readdir(dir), arch);
  const fetched = !debs;
  if (!debs) {
    await (opts.fetch ?? fetchEtcdDebs)(dir);
    debs = selectEtcdDebs(await readdir(dir), arch);
    if (!debs) throw new OperationError(`no ${ETCD_DEBS.server} and ${ETCD_DEBS.client} 3.5.x for ${arch} came from Debian ${ETCD35_SUITE} (in ${dir}: ${(await readdir(dir)).join(', ') || 'nothing'})`);
  }
  const out = path.join(dir, releaseFileName(debs.version, arch));
  if (await upToDate(out, [debs.server, debs.client].map((d) => path.join(dir, d.name)))) return { path: out, version: debs.version, built: false, fetched };
  await packDebs(dir, debs, out);
  return { path: out, version: debs.version, built: true, fetched };
}

/** The release tarball of the etcd the lab was asked for. */
export async function ensureEtcdTarball(labDir: string, etcd: LabEtcd, cacheDir: string): Promise<LabRelease> {
  return etcd === '3.5' ? debRelease(cacheDir) : hostRelease(labDir);
}
