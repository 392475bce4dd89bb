import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_USAGE, UsageError } from '../../src/errors.js';
import { validateInventory } from '../../src/inventory/validate.js';
import {
  aptOptions,
  compareVersions,
  debUpstreamVersion,
  parseDebFileName,
  parseLabEtcd,
  renderAptSource,
  selectEtcdDebs,
} from '../../src/lab/debs.js';
import { debCacheDir, debRelease, releaseFileName } from '../../src/lab/tarball.js';
import { desiredNode, type Artifacts } from '../../src/provision/desired.js';
import { planNode } from '../../src/provision/plan.js';
import { installedPaths, REMOTE_PATHS } from '../../src/render/paths.js';
import { runCli } from './cli-harness.js';

/** The lab's etcd 3.5: choosing it, the apt that fetches it, which .debs make a release, the tarball, what `up` installs. */

describe('lab up --etcd', () => {
  it('takes 3.4 or 3.5, and nothing else', () => {
    expect(parseLabEtcd('3.4')).toBe('3.4');
    expect(parseLabEtcd(' 3.5 ')).toBe('3.5');
    for (const bad of ['3.6', '3', '3.5.16', 'v3.5', '']) expect(() => parseLabEtcd(bad), bad).toThrow(UsageError);
    expect(() => parseLabEtcd('3.6')).toThrow("--etcd '3.6': the lab packs etcd 3.4 (this machine's etcd-server, the default) or 3.5 (Debian trixie's)");
  });

  it('is a usage error (exit 2) on the command line, before the lab is touched', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-lab-etcd-'));
    try {
      const r = await runCli('lab', 'up', '--etcd', '3.6', '--dir', path.join(dir, 'lab'));
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.err).toContain("--etcd '3.6'");
      expect(existsSync(path.join(dir, 'lab'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Debian .debs', () => {
  it("parses apt-get download's file names, epochs included", () => {
    expect(parseDebFileName('etcd-server_3.5.16-4_amd64.deb')).toEqual({ name: 'etcd-server_3.5.16-4_amd64.deb', pkg: 'etcd-server', version: '3.5.16-4', arch: 'amd64' });
    expect(parseDebFileName('etcd-client_1%3a3.5.16-4+b1_arm64.deb')).toMatchObject({ pkg: 'etcd-client', version: '1:3.5.16-4+b1', arch: 'arm64' });
    for (const bad of ['etcd-server_3.5.16-4_amd64.deb.tmp-12-ab', 'etcd-v3.5.16-linux-amd64.tar.gz', 'etcd-server.deb', 'etcd-server_3.5.16_amd64.udeb']) {
      expect(parseDebFileName(bad), bad).toBeUndefined();
    }
  });

  it('takes the upstream x.y.z of a Debian version', () => {
    expect(debUpstreamVersion('3.5.16-4')).toBe('3.5.16');
    expect(debUpstreamVersion('1:3.5.16+dfsg-4+b1')).toBe('3.5.16');
    expect(debUpstreamVersion('3.4.23-4+b4')).toBe('3.4.23');
    expect(debUpstreamVersion('3.5')).toBeUndefined();
    expect(debUpstreamVersion('3.5.1a-1')).toBeUndefined();
    expect(debUpstreamVersion('3.5.17~rc1-1')).toBeUndefined();
    expect(debUpstreamVersion('3.5.16')).toBe('3.5.16');
    expect(compareVersions('3.5.9', '3.5.16')).toBeLessThan(0);
    expect(compareVersions('3.5.16', '3.5.16')).toBe(0);
  });

  it('picks the newest 3.5 both packages are there for, of this architecture', () => {
    const names = [
      'etcd-server_3.5.9-1_amd64.deb',
      'etcd-client_3.5.9-1_amd64.deb',
      'etcd-server_3.5.16-4_amd64.deb',
      // a binNMU of the client only: another revision, the same upstream version
      'etcd-client_3.5.16-4+b1_amd64.deb',
      // newer, but half a pair
      'etcd-server_3.5.17-1_amd64.deb',
      'etcd-client_3.5.18-1_arm64.deb',
      'etcd-server_3.5.18-1_arm64.deb',
      'etcd-server_3.4.23-4+b4_amd64.deb',
      'etcd-client_3.4.23-4+b4_amd64.deb',
      'golang-etcd-server-dev_3.5.16-4_all.deb',
      'README',
    ];
    const got = selectEtcdDebs(names, 'amd64');
    expect(got?.version).toBe('3.5.16');
    expect(got?.server.name).toBe('etcd-server_3.5.16-4_amd64.deb');
    expect(got?.client.name).toBe('etcd-client_3.5.16-4+b1_amd64.deb');
    expect(selectEtcdDebs(names, 'arm64')?.version).toBe('3.5.18');
    expect(selectEtcdDebs(names, 'amd64', '3.4')?.version).toBe('3.4.23');
    expect(selectEtcdDebs(['etcd-server_3.5.16-4_amd64.deb', 'etcd-server_3.5.16-10_amd64.deb', 'etcd-client_3.5.16-4_amd64.deb'], 'amd64')?.server.name).toBe(
      'etcd-server_3.5.16-10_amd64.deb',
    );
    expect(selectEtcdDebs(['etcd-server_3.5.16-4_amd64.deb'], 'amd64')).toBeUndefined();
    expect(selectEtcdDebs([], 'amd64')).toBeUndefined();
  });
});

describe("the lab's own apt", () => {
  it("reads trixie's main archive from the host's mirror, signed by the Debian keyring when there is one", () => {
    expect(renderAptSource('http://mirror.example/debian/', 'trixie', '/usr/share/keyrings/debian-archive-keyring.gpg')).toBe(
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian trixie main\n',
    );
    expect(renderAptSource('http://mirror.example/debian', 'trixie')).toBe('deb http://mirror.example/debian trixie main\n');
  });

  it("keeps every source, list, cache and status apt uses inside its own root, none of the host's", () => {
    const root = '/var/cache/hardway/etcd-3.5/.apt.tmp-1-ab';
    const o = aptOptions({
      sourceList: `${root}/sources.list`,
      emptyDir: `${root}/empty.d`,
      state: `${root}/state`,
      status: `${root}/status`,
      cache: `${root}/cache`,
    });
    const set = new Map<string, string>();
    for (let i = 0; i < o.length; i += 2) {
      expect(o[i]).toBe('-o');
      const [k, v] = o[i + 1]!.split('=');
      set.set(k!, v!);
    }
    for (const k of ['Dir::Etc::SourceList', 'Dir::Etc::SourceParts', 'Dir::Etc::PreferencesParts', 'Dir::State', 'Dir::State::status', 'Dir::Cache']) {
      expect(set.get(k), k).toMatch(new RegExp(`^${root.replace(/[.]/g, '\\.')}/`));
    }
    expect(set.get('Dir::Etc::Preferences')).toBe('/dev/null');
    expect(o.join(' ')).not.toMatch(/\/etc\/apt|\/var\/lib\/apt|\/var\/lib\/dpkg/);
  });
});

const canPack = process.platform === 'linux' && (() => {
  try {
    execFileSync('dpkg-deb', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A .deb as Debian builds them (dpkg-deb -b), its /usr/bin holding scripts that answer like etcd's binaries. */
function fakeDeb(out: string, pkg: string, version: string, bins: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hw-deb-'));
  try {
    mkdirSync(path.join(root, 'DEBIAN'));
    mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    writeFileSync(path.join(root, 'DEBIAN/control'), `Package: ${pkg}\nVersion: ${version}\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: test\n`);
    for (const [name, text] of Object.entries(bins)) writeFileSync(path.join(root, 'usr/bin', name), `#!/bin/sh\n${text}\n`, { mode: 0o755 });
    const file = path.join(out, `${pkg}_${version}_amd64.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', root, file], { stdio: 'ignore' });
    return file;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe.skipIf(!canPack)('the 3.5 release from .debs', () => {
  let cache: string;
  let fetches: number;
  const fetch = async (dir: string) => {
    fetches++;
    fakeDeb(dir, 'etcd-server', '3.5.16-4', { etcd: 'echo "etcd Version: 3.5.16"', etcdutl: 'echo "etcdutl version: 3.5.16"' });
    fakeDeb(dir, 'etcd-client', '3.5.16-4', { etcdctl: 'echo "etcdctl version: 3.5.16"' });
  };
  beforeEach(() => {
    cache = mkdtempSync(path.join(os.tmpdir(), 'hw-etcd35-'));
    fetches = 0;
  });
  afterEach(() => rmSync(cache, { recursive: true, force: true }));

  const list = (tarball: string) => execFileSync('tar', ['-tzvf', tarball], { encoding: 'utf8' });

  it('packs etcd, etcdctl and etcdutl under etcd-v3.5.16-linux-amd64/, and a second call fetches and packs nothing', async () => {
    expect(releaseFileName('3.5.16', 'amd64')).toBe('etcd-v3.5.16-linux-amd64.tar.gz');
    const first = await debRelease(cache, { fetch, arch: 'amd64' });
    expect(first).toMatchObject({ version: '3.5.16', built: true, fetched: true, path: path.join(debCacheDir(cache), 'etcd-v3.5.16-linux-amd64.tar.gz') });
    const entries = list(first.path);
    for (const f of ['etcd', 'etcdctl', 'etcdutl', 'README.md']) expect(entries).toMatch(new RegExp(` root/root .* etcd-v3\\.5\\.16-linux-amd64/${f.replace('.', '\\.')}\\n`));
    expect(entries).toMatch(/^-rwxr-xr-x root\/root .* etcd-v3\.5\.16-linux-amd64\/etcdutl$/m);
    const readme = execFileSync('tar', ['-xzOf', first.path, 'etcd-v3.5.16-linux-amd64/README.md'], { encoding: 'utf8' });
    expect(readme).toContain("Debian trixie's etcd-server_3.5.16-4_amd64.deb (etcd, etcdutl)");
    const mtime = statSync(first.path).mtimeMs;

    const second = await debRelease(cache, { fetch, arch: 'amd64' });
    expect(second).toEqual({ ...first, built: false, fetched: false });
    expect(fetches).toBe(1);
    expect(statSync(first.path).mtimeMs).toBe(mtime);
    expect(readdirSync(debCacheDir(cache)).sort()).toEqual(['etcd-client_3.5.16-4_amd64.deb', 'etcd-server_3.5.16-4_amd64.deb', 'etcd-v3.5.16-linux-amd64.tar.gz']);
  });

  it("removes what a killed run left (by its dead PID) and does not take its half tarball for a release", async () => {
    const dir = debCacheDir(cache);
    mkdirSync(dir, { recursive: true });
    await fetch(dir);
    const dead = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
    mkdirSync(path.join(dir, `.unpack.tmp-${dead}-0badc0de`, 'usr'), { recursive: true });
    writeFileSync(path.join(dir, `etcd-v3.5.16-linux-amd64.tar.gz.tmp-${dead}-0badc0de`), 'half a tarball');
    // A tarball older than its .debs (packed from an earlier pair) is packed again.
    writeFileSync(path.join(dir, 'etcd-v3.5.16-linux-amd64.tar.gz'), 'stale');
    const past = new Date(Date.now() - 3600_000);
    execFileSync('touch', ['-d', past.toISOString(), path.join(dir, 'etcd-v3.5.16-linux-amd64.tar.gz')]);
    const r = await debRelease(cache, { fetch, arch: 'amd64' });
    expect(r).toMatchObject({ built: true, fetched: false });
    expect(list(r.path)).toContain('etcd-v3.5.16-linux-amd64/etcdutl');
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('refuses packages without etcdutl, and a fetch that brings no 3.5 pair', async () => {
    const noUtl = async (dir: string) => {
      fakeDeb(dir, 'etcd-server', '3.5.16-4', { etcd: 'echo "etcd Version: 3.5.16"' });
      fakeDeb(dir, 'etcd-client', '3.5.16-4', { etcdctl: 'true' });
    };
    await expect(debRelease(cache, { fetch: noUtl, arch: 'amd64' })).rejects.toThrow('have no /usr/bin/etcdutl: not the etcd packages the lab expects');
    rmSync(debCacheDir(cache), { recursive: true });
    const old = async (dir: string) => {
      fakeDeb(dir, 'etcd-server', '3.4.23-4', { etcd: 'true' });
      fakeDeb(dir, 'etcd-client', '3.4.23-4', { etcdctl: 'true' });
    };
    await expect(debRelease(cache, { fetch: old, arch: 'amd64' })).rejects.toThrow(/no etcd-server and etcd-client 3\.5\.x for amd64 came from Debian trixie/);
    expect(readdirSync(debCacheDir(cache)).filter((n) => n.endsWith('.tar.gz'))).toEqual([]);
  });

  it('refuses a binary whose version is not the one its package names', async () => {
    const lying = async (dir: string) => {
      fakeDeb(dir, 'etcd-server', '3.5.16-4', { etcd: 'echo "etcd Version: 3.5.15"', etcdutl: 'true' });
      fakeDeb(dir, 'etcd-client', '3.5.16-4', { etcdctl: 'true' });
    };
    await expect(debRelease(cache, { fetch: lying, arch: 'amd64' })).rejects.toThrow('says it is 3.5.15, not 3.5.16');
  });
});

describe('what up installs', () => {
  const inv = validateInventory(
    'cluster:\n  token: tok-1\netcd:\n  version: 3.5.16\n  tarball: /t.tgz\nnodes:\n  - name: controller-0\n    address: 10.240.0.10\n',
    { file: '/i.yaml' },
  ).inventory!;
  const src = (sha: string) => ({ data: Buffer.from(sha), size: sha.length, sha256: sha.padEnd(64, '0') });
  const base: Artifacts = { etcd: src('e1'), etcdctl: src('c1'), ca: src('ca'), cert: src('ce'), key: src('ke'), units: new Map([['controller-0', src('u0')]]) };
  const fresh = {
    files: new Map(),
    dirs: new Map(),
    unit: { enabled: 'not-found', active: 'inactive', mainPid: 0, needsDaemonReload: false, restarts: 0 },
    hasData: false,
  };

  it('a release without etcdutl: the six files of before, none named etcdutl', () => {
    const files = desiredNode(inv, inv.nodes[0]!, base).files;
    expect(files).toHaveLength(6);
    expect(files.map((f) => f.path)).not.toContain(REMOTE_PATHS.etcdutl);
  });

  it('a release with etcdutl: /usr/local/bin/etcdutl as a 0755 binary after etcdctl, uploaded like the others', () => {
    const want = desiredNode(inv, inv.nodes[0]!, { ...base, etcdutl: src('u1') });
    expect(want.files.map((f) => [f.path, f.mode, f.role])).toEqual([
      ['/usr/local/bin/etcd', 0o755, 'binary'],
      ['/usr/local/bin/etcdctl', 0o755, 'binary'],
      ['/usr/local/bin/etcdutl', 0o755, 'binary'],
      ['/etc/etcd/ca.pem', 0o600, 'cert'],
      ['/etc/etcd/kubernetes.pem', 0o600, 'cert'],
      ['/etc/etcd/kubernetes-key.pem', 0o600, 'key'],
      ['/etc/systemd/system/etcd.service', 0o644, 'unit'],
    ]);
    const plan = planNode(inv, want, fresh);
    expect(plan.files.find((f) => f.path === REMOTE_PATHS.etcdutl)).toMatchObject({ reason: 'missing', upload: true });
    // A node with the right etcdutl gets nothing; one with another etcdutl gets it replaced.
    const have = (sha: string) => ({
      ...fresh,
      files: new Map(want.files.map((f) => [f.path, { exists: true, mode: f.mode, sha256: f.path === REMOTE_PATHS.etcdutl ? sha : f.source.sha256 }])),
      dirs: new Map(want.dirs.map((d) => [d.path, { exists: true, mode: d.mode }])),
    });
    expect(planNode(inv, want, have(src('u1').sha256)).files).toEqual([]);
    expect(planNode(inv, want, have('f'.repeat(64))).files.map((f) => [f.path, f.reason])).toEqual([[REMOTE_PATHS.etcdutl, 'content differs']]);
  });

  it("etcdutl is not among the paths every install has (the linter's view)", () => {
    expect(Object.values(installedPaths())).not.toContain(REMOTE_PATHS.etcdutl);
  });
});
