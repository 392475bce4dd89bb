import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { setSectionValues, writeClusterToken } from '../../src/inventory/edit.js';
import { validateInventory } from '../../src/inventory/validate.js';
import { restoredToken } from '../../src/snapshot/restore.js';
import { BUMP_REVISION, parseSnapshotStatus, parseVersion, restoreCommand, restoreScript, saveCommand, statusCommand, supportsBumpRevision, usesEtcdutl } from '../../src/etcd/tools.js';
import { inv } from './members-fakes.js';

const TARGET = {
  name: 'controller-1',
  peerUrl: 'https://10.240.0.11:2380',
  initialCluster: 'controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380',
  token: 'tok-1-restored-20240305T070809Z',
  dataDir: '/var/lib/etcd.restoring-20240305T070809Z',
};

const BUMP = `--bump-revision=${BUMP_REVISION} --mark-compacted`;

describe('which tool, by etcd release', () => {
  it('parses versions, and an unknown one as 0.0.0', () => {
    expect(parseVersion('3.5.16')).toEqual([3, 5, 16]);
    expect(parseVersion('3.4.23-rc.1')).toEqual([3, 4, 23]);
    expect(parseVersion('v3.5.0')).toEqual([0, 0, 0]);
  });

  it('3.4.x: etcdctl with ETCDCTL_API=3; 3.5 and later: etcdutl', () => {
    for (const v of ['3.4.0', '3.4.23', '3.4.34']) expect(usesEtcdutl(v), v).toBe(false);
    for (const v of ['3.5.0', '3.5.9', '3.5.16', '3.6.0', '4.0.0']) expect(usesEtcdutl(v), v).toBe(true);
    expect(statusCommand('/var/tmp/s.db', '3.4.23')).toBe('ETCDCTL_API=3 /usr/local/bin/etcdctl snapshot status /var/tmp/s.db -w json');
    expect(statusCommand('/var/tmp/s.db', '3.5.16')).toBe('/usr/local/bin/etcdutl snapshot status /var/tmp/s.db -w json');
    expect(statusCommand("/tmp/it's.db", '3.6.0')).toBe(`/usr/local/bin/etcdutl snapshot status '/tmp/it'\\''s.db' -w json`);
  });

  it('--bump-revision and --mark-compacted from 3.4.27, 3.5.10 and 3.6.0 on', () => {
    const yes = ['3.4.27', '3.4.34', '3.5.10', '3.5.16', '3.6.0', '3.6.5', '3.7.0', '4.0.0'];
    const no = ['3.3.27', '3.4.0', '3.4.23', '3.4.26', '3.5.0', '3.5.9', '2.9.99', 'junk'];
    for (const v of yes) expect(supportsBumpRevision(v), v).toBe(true);
    for (const v of no) expect(supportsBumpRevision(v), v).toBe(false);
  });

  it('restore on 3.4.23: etcdctl, ETCDCTL_API=3, every member flag, no bump flags', () => {
    expect(restoreCommand('/var/tmp/s.db', '3.4.23', TARGET)).toBe(
      'ETCDCTL_API=3 /usr/local/bin/etcdctl snapshot restore /var/tmp/s.db --name=controller-1 ' +
        '--initial-cluster=controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380 ' +
        '--initial-cluster-token=tok-1-restored-20240305T070809Z --initial-advertise-peer-urls=https://10.240.0.11:2380 ' +
        '--data-dir=/var/lib/etcd.restoring-20240305T070809Z',
    );
  });

  it('restore on 3.4.27: still etcdctl, now with the bump flags', () => {
    const c = restoreCommand('/var/tmp/s.db', '3.4.27', TARGET);
    expect(c.startsWith('ETCDCTL_API=3 /usr/local/bin/etcdctl snapshot restore /var/tmp/s.db ')).toBe(true);
    expect(c.endsWith(` --data-dir=${TARGET.dataDir} ${BUMP}`)).toBe(true);
    expect(BUMP).toBe('--bump-revision=1000000000 --mark-compacted');
  });

  it('restore on 3.5.9: etcdutl, no bump flags; 3.5.10, 3.5.16, 3.6.0: etcdutl with them', () => {
    const c9 = restoreCommand('/var/tmp/s.db', '3.5.9', TARGET);
    expect(c9.startsWith('/usr/local/bin/etcdutl snapshot restore /var/tmp/s.db --name=controller-1 ')).toBe(true);
    expect(c9).not.toContain('ETCDCTL_API');
    expect(c9).not.toContain('--bump-revision');
    expect(c9).not.toContain('--mark-compacted');
    for (const v of ['3.5.10', '3.5.16', '3.6.0']) {
      const c = restoreCommand('/var/tmp/s.db', v, TARGET);
      expect(c.startsWith('/usr/local/bin/etcdutl snapshot restore '), v).toBe(true);
      expect(c, v).not.toContain('etcdctl');
      expect(c.endsWith(` ${BUMP}`), v).toBe(true);
    }
  });

  it('quotes what the shell would split', () => {
    const c = restoreCommand('/var/tmp/my snap.db', '3.4.23', { ...TARGET, token: 'a token' });
    expect(c).toContain(" '/var/tmp/my snap.db' ");
    expect(c).toContain(" '--initial-cluster-token=a token' ");
  });

  it('save: always etcdctl, exactly the one endpoint given, a long command timeout', () => {
    const c = saveCommand('https://10.240.0.11:2379', '/var/tmp/hardway-snapshot-abc.db');
    expect(c).toMatch(/^ETCDCTL_API=3 \/usr\/local\/bin\/etcdctl --endpoints=https:\/\/10\.240\.0\.11:2379 /);
    expect(c).toContain('--command-timeout=600s');
    expect(c.endsWith(' snapshot save /var/tmp/hardway-snapshot-abc.db')).toBe(true);
    expect(c.match(/--endpoints=\S+/g)).toEqual(['--endpoints=https://10.240.0.11:2379']);
  });
});

describe('parseSnapshotStatus', () => {
  it("reads etcdctl 3.4's output", () => {
    expect(parseSnapshotStatus('{"hash":943374836,"revision":2,"totalKey":7,"totalSize":20480}\n')).toEqual({ hash: 943374836, revision: 2, totalKey: 7, totalSize: 20480 });
  });

  it("reads etcdutl's, with the storage version, and after a deprecation line", () => {
    expect(parseSnapshotStatus('{"hash":3787458990,"revision":1041,"totalKey":998,"totalSize":2301952,"version":"3.5.0"}')).toEqual({
      hash: 3787458990,
      revision: 1041,
      totalKey: 998,
      totalSize: 2301952,
      version: '3.5.0',
    });
    expect(parseSnapshotStatus('Deprecated: Use `etcdutl snapshot status` instead.\n\n{"hash":1,"revision":5,"totalKey":3,"totalSize":4096}\nsha256=ab\n')).toMatchObject({ revision: 5, totalKey: 3 });
  });

  it('junk: nothing', () => {
    for (const junk of ['', 'Error: open /var/tmp/x.db: no such file or directory\n', '{not json', '{"hash":1,"totalKey":7}', '{"revision":"2","totalKey":7}', '[{"revision":2,"totalKey":7}]']) {
      expect(parseSnapshotStatus(junk), junk).toBeUndefined();
    }
  });
});

describe('restoredToken', () => {
  it('appends -restored-<stamp>', () => {
    expect(restoredToken('tok-1', '20240305T070809Z')).toBe('tok-1-restored-20240305T070809Z');
    expect(restoredToken('etcd-cluster-0', '20991231T235959Z')).toBe('etcd-cluster-0-restored-20991231T235959Z');
  });

  it('replaces an earlier such suffix instead of stacking them', () => {
    const once = restoredToken('tok-1', '20240305T070809Z');
    const twice = restoredToken(once, '20240306T000000Z');
    expect(twice).toBe('tok-1-restored-20240306T000000Z');
    expect(restoredToken(twice, '20240307T111111Z')).toBe('tok-1-restored-20240307T111111Z');
  });

  it('keeps what only looks like a suffix', () => {
    expect(restoredToken('tok-restored-x', '20240305T070809Z')).toBe('tok-restored-x-restored-20240305T070809Z');
    expect(restoredToken('tok-restored-20240305T070809Z-b', '20240306T000000Z')).toBe('tok-restored-20240305T070809Z-b-restored-20240306T000000Z');
  });
});

describe('restoreScript', () => {
  const r = { file: '/var/tmp/hardway-restore-20240305T070809Z.db', token: 'tok-1-restored-20240305T070809Z', stamp: '20240305T070809Z' };

  it('restores into a fresh dir with the node’s own name and peer URL, then renames it over the data dir', () => {
    const lines = restoreScript(inv, 'controller-1', r).split('\n');
    expect(lines.slice(0, 3)).toEqual(['set -e', 'umask 077', 'if systemctl is-active --quiet etcd.service; then echo "etcd still runs: not restoring under it" >&2; exit 3; fi']);
    // The data dir of the inventory is no mount point: the branch after `else`.
    const plain = lines.slice(lines.indexOf('else') + 1, lines.lastIndexOf('fi')).map((l) => l.trim());
    expect(plain[0]).toBe('if [ -e /var/lib/etcd ]; then echo "/var/lib/etcd exists: it should have been moved aside" >&2; exit 3; fi');
    expect(plain[1]).toBe('if [ -e /var/lib/etcd.restoring-20240305T070809Z ]; then echo "/var/lib/etcd.restoring-20240305T070809Z already exists (left by another run): not touching it" >&2; exit 3; fi');
    expect(plain[2]).toBe('log=$(mktemp)');
    expect(plain[3]).toBe(
      'ETCDCTL_API=3 /usr/local/bin/etcdctl snapshot restore /var/tmp/hardway-restore-20240305T070809Z.db --name=controller-1 ' +
        '--initial-cluster=controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380,controller-2=https://10.240.0.12:2380 ' +
        '--initial-cluster-token=tok-1-restored-20240305T070809Z --initial-advertise-peer-urls=https://10.240.0.11:2380 ' +
        '--data-dir=/var/lib/etcd.restoring-20240305T070809Z >/dev/null 2>"$log" || { tail -n 3 "$log" >&2; rm -f "$log"; exit 1; }',
    );
    expect(plain.slice(4)).toEqual(['rm -f "$log"', 'chmod 700 /var/lib/etcd.restoring-20240305T070809Z', 'sync', 'mv -T /var/lib/etcd.restoring-20240305T070809Z /var/lib/etcd']);
  });

  it('a data dir that is a mount point stays: restored into a dir on its disk, whose member is renamed into it', () => {
    const lines = restoreScript(inv, 'controller-1', r).split('\n');
    const mounted = lines.slice(lines.findIndex((l) => l.startsWith('if [ -d ')) + 1, lines.indexOf('else')).map((l) => l.trim());
    expect(mounted[0]).toBe('if [ -e /var/lib/etcd/member ]; then echo "/var/lib/etcd/member exists: it should have been moved aside" >&2; exit 3; fi');
    expect(mounted[3]).toContain('--data-dir=/var/lib/etcd/member.restoring-20240305T070809Z >/dev/null');
    expect(mounted.slice(-3)).toEqual(['sync', 'mv -T /var/lib/etcd/member.restoring-20240305T070809Z/member /var/lib/etcd/member', 'rmdir /var/lib/etcd/member.restoring-20240305T070809Z']);
  });

  it('each node gets its own name and peer URL; 3.5.16 uses etcdutl with the bump flags; a trailing slash is dropped', () => {
    const inv35 = { ...inv, etcd: { ...inv.etcd, version: '3.5.16', dataDir: '/data/etcd/' } };
    const s = restoreScript(inv35, 'controller-2', r);
    expect(s).toContain('/usr/local/bin/etcdutl snapshot restore /var/tmp/hardway-restore-20240305T070809Z.db --name=controller-2 ');
    expect(s).toContain('--initial-advertise-peer-urls=https://10.240.0.12:2380 ');
    expect(s).toContain(`--data-dir=/data/etcd.restoring-20240305T070809Z ${BUMP} >/dev/null`);
    expect(s).toContain('mv -T /data/etcd.restoring-20240305T070809Z /data/etcd');
    expect(s).not.toContain('/data/etcd/.restoring');
    expect(s).not.toContain('ETCDCTL_API');
  });

  /** The script's guards under a real sh, with systemctl a stub answering is-active with `active`'s exit code. */
  function runGuards(dataDir: string, active: boolean, mountPoint = false) {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'hw-restore-bin-'));
    writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$@" >> ${bin}/calls\nexit ${active ? 0 : 3}\n`);
    chmodSync(path.join(bin, 'systemctl'), 0o755);
    // util-linux's mountpoint, answering for the data dir as a disk of its own would.
    writeFileSync(path.join(bin, 'mountpoint'), `#!/bin/sh\nexit ${mountPoint ? 0 : 1}\n`);
    chmodSync(path.join(bin, 'mountpoint'), 0o755);
    const script = restoreScript({ ...inv, etcd: { ...inv.etcd, dataDir } }, 'controller-0', r);
    try {
      execFileSync('sh', ['-c', script], { encoding: 'utf8', stdio: 'pipe', env: { PATH: `${bin}:${process.env.PATH}` } });
      return { code: 0, stderr: '', calls: readFileSync(path.join(bin, 'calls'), 'utf8') };
    } catch (e) {
      const err = e as { status: number; stderr: string };
      return { code: err.status, stderr: err.stderr, calls: readFileSync(path.join(bin, 'calls'), 'utf8') };
    }
  }

  it('refuses, before restoring anything, while etcd runs, while the data dir is there, or when the temp dir is', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-restore-'));
    const data = path.join(dir, 'etcd');
    expect(runGuards(data, true)).toEqual({ code: 3, stderr: 'etcd still runs: not restoring under it\n', calls: 'is-active --quiet etcd.service\n' });
    mkdirSync(data);
    expect(runGuards(data, false)).toMatchObject({ code: 3, stderr: `${data} exists: it should have been moved aside\n` });
    const tmp = `${data}.restoring-${r.stamp}`;
    mkdirSync(tmp);
    writeFileSync(path.join(tmp, 'keep'), 'x');
    expect(runGuards(`${data}/`, false)).toMatchObject({ code: 3, stderr: `${data} exists: it should have been moved aside\n` });
    execFileSync('rmdir', [data]);
    expect(runGuards(data, false)).toMatchObject({ code: 3, stderr: `${tmp} already exists (left by another run): not touching it\n` });
    // Nothing it refused over was touched.
    expect(readFileSync(path.join(tmp, 'keep'), 'utf8')).toBe('x');
    // A data dir on a disk of its own: it stays; its member must have been moved aside, and the temp dir is on that disk.
    mkdirSync(path.join(data, 'member'), { recursive: true });
    expect(runGuards(data, false, true)).toMatchObject({ code: 3, stderr: `${data}/member exists: it should have been moved aside\n` });
    execFileSync('mv', [path.join(data, 'member'), path.join(data, `member.restoring-${r.stamp}`)]);
    expect(runGuards(data, false, true)).toMatchObject({ code: 3, stderr: `${data}/member.restoring-${r.stamp} already exists (left by another run): not touching it\n` });
  });
});

describe('setSectionValues for cluster.token', () => {
  const TOKEN = 'tok-1-restored-20240305T070809Z';
  const lines = (s: string) => s.split('\n');

  it('changes only the token line of a commented file; its comment keeps its column when there is room', () => {
    const src = [
      '# the lab cluster',
      'cluster:',
      '  # the token etcd bootstraps with',
      '  token: tok-1                              # --initial-cluster-token',
      '  initialState: new   # bootstrap',
      '',
      'etcd:',
      '  version: 3.4.23 # pinned',
      'nodes:',
      '  - name: controller-0',
      '    address: 10.240.0.10',
      '',
    ].join('\n');
    const out = setSectionValues(src, 'cluster', { token: TOKEN });
    const a = lines(src);
    const b = lines(out);
    expect(b).toHaveLength(a.length);
    const diff = a.flatMap((l, i) => (l === b[i] ? [] : [i]));
    expect(diff).toEqual([3]);
    expect(a[3]!.indexOf('#')).toBe(44);
    expect(b[3]).toBe(`${`  token: ${TOKEN}`.padEnd(44)}# --initial-cluster-token`);
    expect(b[3]!.indexOf('#')).toBe(a[3]!.indexOf('#'));
    const v = validateInventory(out, { file: '/x/inventory.yaml' });
    expect(v.errors).toEqual([]);
    expect(v.inventory!.cluster).toEqual({ token: TOKEN, initialState: 'new' });
    // Again with the next restore's token: replaced, not appended to.
    const again = setSectionValues(out, 'cluster', { token: 'tok-1-restored-20250101T000000Z' });
    expect(lines(again)[3]).toBe(b[3]!.replace(TOKEN, 'tok-1-restored-20250101T000000Z'));
  });

  it('a comment with no room left stays one space after the value', () => {
    const src = 'cluster:\n  token: t # short\nnodes:\n  - name: a\n    address: 10.0.0.1\n';
    expect(lines(setSectionValues(src, 'cluster', { token: TOKEN }))[1]).toBe(`  token: ${TOKEN} # short`);
  });

  it('adds the token to a cluster: block that has none, at its indentation', () => {
    const src = 'cluster:\n    initialState: new  # keep\nnodes:\n    - name: a\n      address: 10.0.0.1\n';
    const out = setSectionValues(src, 'cluster', { token: TOKEN });
    expect(out).toBe(`cluster:\n    initialState: new  # keep\n    token: ${TOKEN}\nnodes:\n    - name: a\n      address: 10.0.0.1\n`);
  });

  it('adds a cluster: block at the end of a file without one, keeping all the rest', () => {
    const src = '# my inventory\netcd:\n  version: 3.4.23   # pinned\nnodes:\n  - name: a        # first\n    address: 10.0.0.1\n';
    const out = setSectionValues(src, 'cluster', { token: TOKEN });
    expect(out).toBe(`${src}cluster:\n  token: ${TOKEN}\n`);
    expect(validateInventory(out, { file: '/x/i.yaml' }).inventory!.cluster.token).toBe(TOKEN);
    // A file without a final line break gets one before the block.
    const noEol = src.slice(0, -1);
    expect(setSectionValues(noEol, 'cluster', { token: TOKEN })).toBe(`${noEol}\ncluster:\n  token: ${TOKEN}\n`);
  });

  it('fills a bare `cluster:` (with a comment) under its key', () => {
    const src = 'cluster:   # defaults\nnodes:\n  - name: a\n    address: 10.0.0.1\n';
    const out = setSectionValues(src, 'cluster', { token: TOKEN });
    expect(out).toBe(`cluster:   # defaults\n  token: ${TOKEN}\nnodes:\n  - name: a\n    address: 10.0.0.1\n`);
  });

  it('quotes a token YAML would read as something else', () => {
    for (const token of ['a b: c', '123', 'true', 'x #y', "it's"]) {
      const out = setSectionValues('cluster:\n  token: t\nnodes: []\n', 'cluster', { token });
      expect((parseDocument(out).toJS() as { cluster: { token: unknown } }).cluster.token, token).toBe(token);
    }
    expect(setSectionValues('cluster:\n  token: t\n', 'cluster', { token: '123' })).toBe('cluster:\n  token: "123"\n');
  });

  it('refuses a cluster: that is not a mapping, and YAML that does not parse', () => {
    expect(() => setSectionValues('cluster: [1]\n', 'cluster', { token: TOKEN })).toThrow("the inventory's `cluster` is not a mapping");
    expect(() => setSectionValues('cluster:\n  token: [\n', 'cluster', { token: TOKEN })).toThrow(/^the inventory is not valid YAML/);
  });

  it('writeClusterToken edits the file in place, keeping its mode; no write when the token is already there', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-token-'));
    const file = path.join(dir, 'inventory.yaml');
    const src = '# lab\ncluster:\n  token: tok-1   # the token\nnodes:\n  - name: a\n    address: 10.0.0.1\n';
    writeFileSync(file, src);
    chmodSync(file, 0o640);
    expect(await writeClusterToken(file, TOKEN)).toEqual({ file, changed: true });
    expect(readFileSync(file, 'utf8')).toBe(`# lab\ncluster:\n  token: ${TOKEN} # the token\nnodes:\n  - name: a\n    address: 10.0.0.1\n`);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const before = statSync(file).mtimeMs;
    expect(await writeClusterToken(file, TOKEN)).toEqual({ file, changed: false });
    expect(statSync(file).mtimeMs).toBe(before);
  });
});
