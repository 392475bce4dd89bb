import { mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.js';
import { info, warn } from '../output.js';
import { parseAptMirror, parseTempRootfsName, renderSshdConfig, rootfsHash, ROOTFS_PACKAGES, ROOTFS_SUITE, ROOTFS_VARIANT } from './plan.js';
import { exists, mountPointsUnder, run, unmountAll } from './sys.js';
import { isAlive } from '../processes.js';

/**
 * The base rootfs: one debootstrap per package list, cached under <cacheDir>/rootfs-<hash>, shared read-only
 * by every node (each node is an overlay on top). Built in a temp dir and renamed when complete, so a killed
 * build never leaves a cache that looks whole.
 */

const COMPLETE_MARK = '.hardway-rootfs-complete';

/** The mirror from this machine's apt sources; HARDWAY_LAB_MIRROR overrides. */
export async function findMirror(): Promise<string> {
  const override = process.env.HARDWAY_LAB_MIRROR?.trim();
  if (override) return override;
  const deb822: string[] = [];
  const lists: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const f of files.sort()) {
    const text = await readFile(path.join(dir, f), 'utf8').catch(() => '');
    if (f.endsWith('.sources')) deb822.push(text);
    else if (f.endsWith('.list')) lists.push(text);
  }
  lists.unshift(await readFile('/etc/apt/sources.list', 'utf8').catch(() => ''));
  const mirror = parseAptMirror({ deb822, lists });
  if (!mirror) {
    throw new UsageError(
      'no Debian mirror found in /etc/apt/sources.list.d/*.sources (URIs:) or /etc/apt/sources.list; ' +
        'set HARDWAY_LAB_MIRROR to the mirror debootstrap should use',
    );
  }
  return mirror;
}

/** Removes a directory tree without ever crossing into a mount (debootstrap mounts /proc and /sys inside). */
export async function removeTree(dir: string): Promise<void> {
  if (!(await exists(dir))) return;
  await unmountAll(dir);
  if ((await mountPointsUnder(dir)).length) throw new OperationError(`${dir} still has mounts; not removing it`);
  await run('rm', ['-rf', '--one-file-system', '--', dir]);
}

/** Half-built caches of runs that were killed: temp dirs whose building process is gone. */
async function cleanStaleBuilds(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    const t = parseTempRootfsName(name);
    if (t && (t.pid === process.pid || !isAlive(t.pid))) {
      info(`lab: removing half-built rootfs ${path.join(cacheDir, name)}`);
      await removeTree(path.join(cacheDir, name));
    }
  }
}

export function rootfsDir(cacheDir: string): string {
  return path.join(cacheDir, `rootfs-${rootfsHash()}`);
}

export async function isRootfsComplete(dir: string): Promise<boolean> {
  return exists(path.join(dir, COMPLETE_MARK));
}

/** Returns the base rootfs directory, building it first when the cache has none for this package list. */
export async function ensureRootfs(cacheDir: string): Promise<{ dir: string; built: boolean; seconds: number }> {
  const final = rootfsDir(cacheDir);
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  await cleanStaleBuilds(cacheDir);
  if (await isRootfsComplete(final)) return { dir: final, built: false, seconds: 0 };
  if (await exists(final)) {
    warn(`${final} is incomplete; rebuilding it`);
    await removeTree(final);
  }
  const mirror = await findMirror();
  const tmp = path.join(cacheDir, `.tmp-rootfs-${rootfsHash()}-${process.pid}`);
  const started = Date.now();
  info(`lab: building the base rootfs (debootstrap ${ROOTFS_SUITE} from ${mirror}; about a minute)…`);
  try {
    await run(
      'debootstrap',
      [`--variant=${ROOTFS_VARIANT}`, `--include=${ROOTFS_PACKAGES.join(',')}`, ROOTFS_SUITE, tmp, mirror],
      { timeoutMs: 1_800_000 },
    );
    await customize(tmp);
    await writeFile(path.join(tmp, COMPLETE_MARK), `${JSON.stringify({ suite: ROOTFS_SUITE, packages: ROOTFS_PACKAGES, mirror, builtAt: new Date().toISOString() })}\n`);
    await unmountAll(tmp);
    if (await isRootfsComplete(final)) {
      // Someone else finished the same build first: theirs is as good as ours.
      await removeTree(tmp);
    } else {
      await rename(tmp, final);
    }
  } catch (e) {
    await removeTree(tmp).catch(() => undefined);
    throw e instanceof OperationError ? new OperationError(`building the base rootfs failed: ${e.message}`) : e;
  }
  await pruneOldRootfs(cacheDir, final);
  return { dir: final, built: true, seconds: (Date.now() - started) / 1000 };
}

/** Base rootfs dirs of older package lists, unless some overlay still has one as its lower dir. */
async function pruneOldRootfs(cacheDir: string, keep: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    const dir = path.join(cacheDir, name);
    if (!/^rootfs-[0-9a-f]+$/.test(name) || dir === keep) continue;
    if (mountinfo.includes(`lowerdir=${dir},`) || mountinfo.includes(`lowerdir=${dir}:`)) continue;
    info(`lab: removing the old base rootfs ${dir}`);
    await removeTree(dir).catch((e: Error) => warn(`cannot remove ${dir}: ${e.message}`));
  }
}

/**
 * What every node shares: systemd-networkd on, a persistent journal, sshd with only the per-node ed25519
 * host key, no host keys and no machine-id of its own (each node gets fresh ones in its overlay).
 */
async function customize(root: string): Promise<void> {
  await run('chroot', [root, 'systemctl', 'enable', 'systemd-networkd.service']);
  for (const name of await readdir(path.join(root, 'etc/ssh'))) {
    if (name.startsWith('ssh_host_')) await run('rm', ['-f', path.join(root, 'etc/ssh', name)]);
  }
  await mkdir(path.join(root, 'etc/ssh/sshd_config.d'), { recursive: true });
  await writeFile(path.join(root, 'etc/ssh/sshd_config.d/hardway-lab.conf'), renderSshdConfig());
  await writeFile(path.join(root, 'etc/machine-id'), '');
  await run('rm', ['-f', path.join(root, 'var/lib/dbus/machine-id')]);
  await mkdir(path.join(root, 'var/log/journal'), { recursive: true });
  // Nothing to remount in a container, and in these containers it can fail at boot (a cgroup race) and
  // leave the node "degraded" for no reason.
  await symlink('/dev/null', path.join(root, 'etc/systemd/system/systemd-remount-fs.service'));
  await writeFile(path.join(root, 'etc/default/locale'), 'LANG=C.UTF-8\n');
  await run('chroot', [root, 'apt-get', 'clean'], { allowFail: true });
}
