import { writeFile, rm } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { info } from '../output.js';
import { exists, run, which } from './sys.js';

/** What the lab needs on the host: each command and the Debian package that has it. */
export const HOST_NEEDS: { what: string; pkg: string }[] = [
  { what: 'debootstrap', pkg: 'debootstrap' },
  { what: 'systemd-nspawn', pkg: 'systemd-container' },
  { what: '/usr/bin/etcd', pkg: 'etcd-server' },
  { what: '/usr/bin/etcdctl', pkg: 'etcd-client' },
  { what: 'ip', pkg: 'iproute2' },
  { what: 'ssh', pkg: 'openssh-client' },
  { what: 'ssh-keygen', pkg: 'openssh-client' },
  { what: 'tar', pkg: 'tar' },
];

/** Why the lab cannot run here at all (not Linux, not root), or undefined. */
/** What stops the lab on this host: not Linux, or not root (`uid` undefined where there are no uids). */
export function platformProblem(
  platform: NodeJS.Platform = process.platform,
  uid: number | undefined = typeof process.getuid === 'function' ? process.getuid() : undefined,
): string | undefined {
  if (platform !== 'linux') return `the lab needs Linux (this is ${platform}): it boots nodes with systemd-nspawn`;
  if (uid !== undefined && uid !== 0) {
    return 'the lab needs root (it mounts overlays, creates a bridge and boots containers): run it with sudo';
  }
  return undefined;
}

export async function missingPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const n of HOST_NEEDS) {
    const found = n.what.startsWith('/') ? await exists(n.what) : (await which(n.what)) !== undefined;
    if (!found && !missing.includes(n.pkg)) missing.push(n.pkg);
  }
  return missing;
}

/**
 * Linux, root, and the host packages; missing packages are installed with apt-get (their services are not
 * started: a policy-rc.d denies it for the duration). Anything left missing is a usage error (exit 2).
 */
export async function ensureHost(opts: { install?: boolean } = {}): Promise<void> {
  const problem = platformProblem();
  if (problem) throw new UsageError(problem);
  let missing = await missingPackages();
  if (missing.length && opts.install !== false && (await which('apt-get'))) {
    info(`lab: installing ${missing.join(' ')} with apt-get…`);
    const policy = '/usr/sbin/policy-rc.d';
    const hadPolicy = await exists(policy);
    if (!hadPolicy) await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    try {
      const env = ['DEBIAN_FRONTEND=noninteractive'];
      await run('env', [...env, 'apt-get', 'update', '-qq'], { allowFail: true, timeoutMs: 600_000 });
      await run('env', [...env, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], { allowFail: true, timeoutMs: 900_000 });
    } finally {
      if (!hadPolicy) await rm(policy, { force: true });
    }
    missing = await missingPackages();
  }
  if (missing.length) {
    throw new UsageError(`the lab needs these Debian packages: ${missing.join(' ')} (apt-get install ${missing.join(' ')})`);
  }
}
