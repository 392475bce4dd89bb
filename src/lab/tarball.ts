import { copyFile, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { etcdReleaseName, goArch, parseEtcdVersion } from './plan.js';
import { removeTree } from './rootfs.js';
import { exists, run } from './sys.js';

/**
 * The etcd release tarball for the lab, packed from the host's Debian etcd-server/etcd-client, laid out like an
 * upstream release (etcd-vX-linux-ARCH/{etcd,etcdctl,README.md}) so hardway installs it as it would a download.
 */

export const HOST_ETCD = '/usr/bin/etcd';
export const HOST_ETCDCTL = '/usr/bin/etcdctl';

export async function hostEtcdVersion(): Promise<string> {
  const r = await run(HOST_ETCD, ['--version'], { allowFail: true });
  const v = parseEtcdVersion(r.stdout);
  if (!v) throw new OperationError(`cannot tell the version of ${HOST_ETCD}: ${r.stdout.trim() || r.stderr.trim()}`);
  return v;
}

async function mtime(p: string): Promise<number> {
  return (await stat(p)).mtimeMs;
}

/** Builds <dir>/etcd-vX-linux-ARCH.tar.gz unless it is already newer than the host's binaries. */
export async function ensureEtcdTarball(dir: string): Promise<{ path: string; version: string; built: boolean }> {
  const version = await hostEtcdVersion();
  const name = etcdReleaseName(version, goArch(process.arch));
  const out = path.join(dir, `${name}.tar.gz`);
  if ((await exists(out)) && (await mtime(out)) >= Math.max(await mtime(HOST_ETCD), await mtime(HOST_ETCDCTL))) {
    return { path: out, version, built: false };
  }
  const staging = path.join(dir, `.tarball-${process.pid}`);
  await removeTree(staging);
  const rel = path.join(staging, name);
  await mkdir(rel, { recursive: true });
  try {
    await copyFile(HOST_ETCD, path.join(rel, 'etcd'));
    await copyFile(HOST_ETCDCTL, path.join(rel, 'etcdctl'));
    await writeFile(
      path.join(rel, 'README.md'),
      `# etcd v${version}\n\nPacked by \`hardway lab\` from this machine's Debian etcd-server and etcd-client\n` +
        `(${HOST_ETCD}, ${HOST_ETCDCTL}), laid out like an upstream release tarball.\n`,
    );
    await run('tar', ['-czf', `${out}.tmp`, '--owner=0', '--group=0', '-C', staging, name]);
    await rename(`${out}.tmp`, out);
  } finally {
    await removeTree(staging);
  }
  return { path: out, version, built: true };
}
