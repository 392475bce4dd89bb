import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';
import { desiredNode, type Artifacts } from '../../src/provision/desired.js';
import { computeClusterId, computeMemberId, hexId, parseWalMetadata } from '../../src/etcd/ids.js';
import { observeScript, parseObserved, type ObservedNode, type ObserveScriptOptions } from '../../src/provision/observe.js';
import { keepPreviousScript } from '../../src/provision/roll.js';
import { membersNotInInventory, offlineView, planCluster, planNode, removedMember, rollingOrder, staleReason, type OfflineView } from '../../src/provision/plan.js';
import { REMOTE_PATHS } from '../../src/render/paths.js';
import { renderUnit } from '../../src/render/template.js';
import { atomicInstallScript } from '../../src/ssh/remote.js';
import { BOOTSTRAP_FLAGS_SED, bootstrapFreeSha256, effectiveFlags, execStartArgv, STATE_FLAG_SED, stateFreeSha256, walDirOf } from '../../src/render/unit-flags.js';
import { applyFiles, prepareCommand, systemdStep } from '../../src/provision/up.js';
import { ChannelRefused, type ExecResult, type Remote, type UploadSource } from '../../src/ssh/remote.js';
import { parseEndpointHealth, parseEndpointStatus, parseMemberList } from '../../src/etcd/etcdctl.js';

const inv = validateInventory(
  'cluster:\n  token: tok-1\netcd:\n  tarball: /t.tgz\nnodes:\n' +
    [0, 1, 2].map((i) => `  - name: controller-${i}\n    address: 10.240.0.${10 + i}\n`).join(''),
  { file: '/i.yaml' },
).inventory!;

const src = (sha: string, size = 10) => ({ data: Buffer.alloc(size), size, sha256: sha.padEnd(64, '0') });
const artifacts: Artifacts = {
  etcd: src('e1', 20_000_000),
  etcdctl: src('c1', 17_000_000),
  ca: src('ca'),
  cert: src('ce'),
  key: src('ke'),
  units: new Map(inv.nodes.map((n) => [n.name, src(`u-${n.name.slice(-1)}`)])),
};

/** What a node that already has everything reports. */
function upToDate(nodeIdx: number, extra: Partial<ObservedNode> = {}): ObservedNode {
  const want = desiredNode(inv, inv.nodes[nodeIdx]!, artifacts);
  return {
    files: new Map(want.files.map((f) => [f.path, { exists: true, mode: f.mode, sha256: f.source.sha256 }])),
    dirs: new Map(want.dirs.map((d) => [d.path, { exists: true, mode: d.mode }])),
    unit: { enabled: 'enabled', active: 'active', mainPid: 42, needsDaemonReload: false, restarts: 0 },
    hasData: true,
    ...extra,
  };
}

const fresh = (): ObservedNode => ({
  files: new Map(),
  dirs: new Map(),
  unit: { enabled: 'not-found', active: 'inactive', mainPid: 0, needsDaemonReload: false, restarts: 0 },
  hasData: false,
});

describe('etcd IDs', () => {
  it('computes member and cluster IDs as etcd 3.4.23 did for a real single-member cluster', () => {
    // Observed: etcd --initial-cluster n1=http://127.0.0.1:23800 --initial-cluster-token tok-1
    // member list -w json → cluster_id 14194993031503503814, member ID 10908436505915459540.
    const m = computeMemberId(['http://127.0.0.1:23800'], 'tok-1');
    expect(m).toBe(10908436505915459540n);
    expect(computeClusterId([m])).toBe(14194993031503503814n);
    expect(hexId(m)).toBe(10908436505915459540n.toString(16));
  });

  it('reads member and cluster IDs from the head of a real WAL file', () => {
    const head = Buffer.from(readFileSync(new URL('../fixtures/wal-head-3.4.23.b64', import.meta.url), 'utf8'), 'base64');
    expect(parseWalMetadata(head)).toEqual({ memberId: 10908436505915459540n, clusterId: 14194993031503503814n });
    expect(parseWalMetadata(Buffer.alloc(64))).toBeUndefined();
    expect(parseWalMetadata(head.subarray(0, 20))).toBeUndefined();
  });
});

describe('observe output', () => {
  it('parses files, dirs, systemd state and data', () => {
    const out = [
      'F 755 abc /usr/local/bin/etcd',
      'F - - /etc/etcd/ca.pem',
      'D 700 /etc/etcd',
      'D - /var/lib/etcd',
      'E enabled',
      'A active',
      'P MainPID=812',
      'P NeedDaemonReload=no',
      'P NRestarts=2',
      'M 0',
    ].join('\n');
    const o = parseObserved(out);
    expect(o.files.get('/usr/local/bin/etcd')).toEqual({ exists: true, mode: 0o755, sha256: 'abc' });
    expect(o.files.get('/etc/etcd/ca.pem')).toEqual({ exists: false });
    expect(o.dirs.get('/etc/etcd')).toEqual({ exists: true, mode: 0o700 });
    expect(o.dirs.get('/var/lib/etcd')).toEqual({ exists: false });
    expect(o.unit).toEqual({ enabled: 'enabled', active: 'active', mainPid: 812, needsDaemonReload: false, restarts: 2 });
    expect(o.hasData).toBe(false);
    expect(parseObserved('E \nA \n').unit).toMatchObject({ enabled: 'not-found', active: 'unknown' });
  });

  it('keeps sums in a cache that only the very same, settled file can hit (run by a real shell)', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hardway-observe-'));
    try {
      const bin = path.join(root, 'etcd');
      const unit = path.join(root, 'missing.service');
      const sumsFile = path.join(root, 'cache/sha256sums');
      writeFileSync(bin, 'AAAA', { mode: 0o755 });
      const sha = (s: string) => execFileSync('sha256sum', { input: s }).toString().split(' ')[0]!;
      const observe = (o: Partial<ObserveScriptOptions> = {}) =>
        parseObserved(execFileSync('sh', ['-c', observeScript({ files: [bin, unit], dirs: [root], dataDir: path.join(root, 'data'), recordSums: true, sumsFile, settleSeconds: 0, ...o })], { stdio: ['ignore', 'pipe', 'pipe'] }).toString());

      // plan reads but never writes the cache.
      expect(observe({ recordSums: false }).files.get(bin)).toEqual({ exists: true, mode: 0o755, sha256: sha('AAAA') });
      expect(existsSync(sumsFile)).toBe(false);
      // A file changed less than settleSeconds ago is not recorded (its timestamps could still repeat).
      observe({ settleSeconds: 3600 });
      expect(existsSync(sumsFile)).toBe(false);

      observe();
      expect(statSync(path.dirname(sumsFile)).mode & 0o777).toBe(0o700);
      const line = readFileSync(sumsFile, 'utf8');
      expect(line).toMatch(new RegExp(`^\\d+:\\d+:4:\\S+ ${sha('AAAA')} ${bin}\n$`));
      // A run that finds the cache right leaves the file alone (same inode: not rewritten and renamed over).
      const written = statSync(sumsFile).ino;
      const again = observe();
      expect(statSync(sumsFile).ino).toBe(written);
      expect(again.files.get(bin)?.sha256).toBe(sha('AAAA'));
      expect(again.dirs.get(root)).toEqual({ exists: true, mode: statSync(root).mode & 0o777 });
      // The cache is used: a sum planted for the unchanged file is what comes back.
      writeFileSync(sumsFile, line.replace(sha('AAAA'), 'f'.repeat(64)));
      expect(observe().files.get(bin)?.sha256).toBe('f'.repeat(64));
      // Rewritten in place, same size (new mtime and ctime): hashed again.
      writeFileSync(bin, 'BBBB');
      expect(observe().files.get(bin)?.sha256).toBe(sha('BBBB'));
      // Only the mode changed: the ctime moves, so hashed again too.
      writeFileSync(sumsFile, readFileSync(sumsFile, 'utf8').replace(sha('BBBB'), 'e'.repeat(64)));
      execFileSync('chmod', ['700', bin]);
      expect(observe().files.get(bin)).toEqual({ exists: true, mode: 0o700, sha256: sha('BBBB') });
      expect(observe().files.get(unit)).toEqual({ exists: false });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('copies a killed rolling change kept (run by a real shell)', () => {
  it('are said by observe and left in place, and a later keep leaves them as they are', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hardway-kept-'));
    try {
      const bin = path.join(root, 'etcd');
      const unit = path.join(root, 'etcd.service');
      writeFileSync(bin, 'new', { mode: 0o755 });
      writeFileSync(`${bin}.hardway-prev`, 'old', { mode: 0o755 });
      writeFileSync(unit, 'unit');
      const o = parseObserved(execFileSync('sh', ['-c', observeScript({ files: [bin, unit], dirs: [], dataDir: path.join(root, 'data'), recordSums: true, sumsFile: path.join(root, 'sums') })]).toString());
      // Only the copy that exists, by the path it stands for; the node decides nothing about it.
      expect(o.kept).toEqual([bin]);
      expect(readFileSync(`${bin}.hardway-prev`, 'utf8')).toBe('old');
      // The next keep copies what has none yet and leaves the killed run's copy: what the member ran before it.
      execFileSync('sh', ['-c', keepPreviousScript([bin, unit])]);
      expect(readFileSync(`${bin}.hardway-prev`, 'utf8')).toBe('old');
      expect(readFileSync(`${unit}.hardway-prev`, 'utf8')).toBe('unit');
      expect(parseObserved(execFileSync('sh', ['-c', observeScript({ files: [bin, unit], dirs: [], dataDir: root, recordSums: false })]).toString()).kept).toEqual([bin, unit]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('observe script, run by a real shell on a rendered unit and a data dir', () => {
  it('hashes the unit with its bootstrap flags blanked as here, and counts data only once a WAL exists', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hardway-observe-'));
    try {
      const text = await renderUnit(inv, inv.nodes[1]!);
      const unitDir = path.join(root, 'etc/systemd/system');
      mkdirSync(unitDir, { recursive: true });
      writeFileSync(path.join(unitDir, 'etcd.service'), text);
      const dataDir = path.join(root, 'data');
      const observe = () => {
        // The script reads /etc/systemd/system/<unit>: let it read ours instead.
        const script = observeScript({ files: [], dirs: [], dataDir, recordSums: false }).replaceAll('/etc/systemd/system/', `${unitDir}/`);
        return parseObserved(execFileSync('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }).toString());
      };
      const seen = observe();
      expect(seen.unitStateFreeSha256).toBe(stateFreeSha256(text));
      expect(seen.unitBootstrapFreeSha256).toBe(bootstrapFreeSha256(text));
      expect(seen.unitBootstrapFreeSha256).not.toBe(seen.unitStateFreeSha256);
      expect(seen.hasData).toBe(false);
      // What a failed first start leaves: member/snap/db, no WAL. etcd bootstraps again from that, so it is no data.
      mkdirSync(path.join(dataDir, 'member/snap'), { recursive: true });
      writeFileSync(path.join(dataDir, 'member/snap/db'), 'bolt');
      expect(observe().hasData).toBe(false);
      mkdirSync(path.join(dataDir, 'member/wal'));
      writeFileSync(path.join(dataDir, 'member/wal/0000000000000000-0000000000000000.wal'), Buffer.from(readFileSync(new URL('../fixtures/wal-head-3.4.23.b64', import.meta.url), 'utf8'), 'base64'));
      const withWal = observe();
      expect(withWal.hasData).toBe(true);
      expect(withWal.wal).toEqual({ memberId: 10908436505915459540n, clusterId: 14194993031503503814n });
      // A unit with --wal-dir: the WAL is looked for there (and not in member/wal).
      const elsewhere = `${text.replace('--data-dir=', `--wal-dir ${path.join(root, 'wal')} \\\n  --data-dir=`)}`;
      const walDir = walDirOf(elsewhere);
      expect(walDir).toBe(path.join(root, 'wal'));
      expect(walDirOf(text)).toBeUndefined();
      execFileSync('mv', [path.join(dataDir, 'member/wal'), walDir!]);
      expect(observe().hasData).toBe(false);
      const script = observeScript({ files: [], dirs: [], dataDir, walDir, recordSums: false });
      expect(parseObserved(execFileSync('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }).toString()).hasData).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('plan', () => {
  it('installs everything on a fresh node and starts it', () => {
    const want = desiredNode(inv, inv.nodes[0]!, artifacts);
    const p = planNode(inv, want, fresh());
    expect(p.state).toBe('new');
    expect(p.dirs.map((d) => [d.path, d.mode, d.reason])).toEqual([
      [REMOTE_PATHS.configDir, 0o700, 'missing'],
      ['/var/lib/etcd', 0o700, 'missing'],
    ]);
    expect(p.files.map((f) => [f.path, f.mode, f.reason])).toEqual([
      ['/usr/local/bin/etcd', 0o755, 'missing'],
      ['/usr/local/bin/etcdctl', 0o755, 'missing'],
      ['/etc/etcd/ca.pem', 0o600, 'missing'],
      ['/etc/etcd/kubernetes.pem', 0o600, 'missing'],
      ['/etc/etcd/kubernetes-key.pem', 0o600, 'missing'],
      ['/etc/systemd/system/etcd.service', 0o644, 'missing'],
    ]);
    expect(p).toMatchObject({ daemonReload: true, enable: true, start: true, restart: false });
    expect(planCluster([p]).mode).toBe('bootstrap');
  });

  it('does nothing on a node that matches', () => {
    const p = planNode(inv, desiredNode(inv, inv.nodes[1]!, artifacts), upToDate(1));
    expect(p).toMatchObject({ state: 'member', dirs: [], files: [], daemonReload: false, enable: false, start: false, restart: false });
    expect(planCluster([p]).changed).toBe(false);
  });

  it('restarts a running member whose unit changed, after a daemon-reload', () => {
    const have = upToDate(0);
    have.files.set(REMOTE_PATHS.unit, { exists: true, mode: 0o644, sha256: 'old' });
    const p = planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), have);
    expect(p.files.map((f) => [f.path, f.reason, f.upload])).toEqual([[REMOTE_PATHS.unit, 'content differs', true]]);
    expect(p).toMatchObject({ daemonReload: true, restart: true, start: false });
    expect(planCluster([p]).mode).toBe('rolling');
  });

  it('fixes a mode without a transfer or a restart', () => {
    const have = upToDate(0);
    have.files.set(REMOTE_PATHS.key, { exists: true, mode: 0o644, sha256: artifacts.key.sha256 });
    have.dirs.set('/var/lib/etcd', { exists: true, mode: 0o755 });
    const p = planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), have);
    expect(p.files.map((f) => [f.reason, f.upload, f.bytes])).toEqual([['mode differs', false, 0]]);
    expect(p.dirs.map((d) => d.reason)).toEqual(['mode differs']);
    expect(p.restart).toBe(false);
  });

  it('reloads systemd when it says the unit changed on disk', () => {
    const p = planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), upToDate(0, { unit: { enabled: 'enabled', active: 'active', mainPid: 1, needsDaemonReload: true, restarts: 0 } }));
    expect(p).toMatchObject({ daemonReload: true, restart: false });
  });

  it('keeps hands off a data dir of another cluster or member', () => {
    const own = computeMemberId(['https://10.240.0.10:2380'], 'tok-1');
    const cluster = computeClusterId(inv.nodes.map((n) => computeMemberId([`https://${n.internalIp}:2380`], 'tok-1')));
    const want = desiredNode(inv, inv.nodes[0]!, artifacts);
    expect(planNode(inv, want, upToDate(0, { wal: { memberId: own, clusterId: cluster } })).conflict).toBeUndefined();
    const other = planNode(inv, want, upToDate(0, { wal: { memberId: own, clusterId: 1234n } }));
    expect(other.state).toBe('foreign');
    expect(other.conflict).toMatch(/holds member .* of cluster 4d2, not of this inventory's cluster/);
    expect(other.conflict).toMatch(/reset that node.*mv \/var\/lib\/etcd/);
    expect(other.conflict).toMatch(/initialState: existing/);
    expect(other.files).toEqual([]);
    expect(other.start).toBe(false);
    const stranger = planNode(inv, want, upToDate(0, { wal: { memberId: 99n, clusterId: cluster } }));
    expect(stranger.conflict).toMatch(/holds member 63, which is not in the inventory/);
  });

  it('asks the running cluster, not the bootstrap IDs, when it can', () => {
    const want = desiredNode(inv, inv.nodes[1]!, artifacts);
    const live = { clusterId: 'c1', members: [{ id: 'ab', name: 'controller-1', peerURLs: ['https://10.240.0.11:2380'] }] };
    // A member re-added by `up` has a time-based ID: fine as long as the cluster lists it with this peer URL.
    expect(planNode(inv, want, upToDate(1, { wal: { memberId: 0xabn, clusterId: 0xc1n } }), live).conflict).toBeUndefined();
    expect(planNode(inv, want, upToDate(1, { wal: { memberId: 0xabn, clusterId: 0xc2n } }), live).conflict).toMatch(/of cluster c2, but the running cluster is c1/);
    // A member this cluster removed is no conflict: up moves its data aside and re-joins the node (removedMember).
    const removed = upToDate(1, { wal: { memberId: 0xcdn, clusterId: 0xc1n } });
    expect(planNode(inv, want, removed, live).conflict).toBeUndefined();
    expect(removedMember(removed, live)).toBe('cd');
    expect(removedMember(upToDate(1, { wal: { memberId: 0xabn, clusterId: 0xc1n } }), live)).toBeUndefined();
    expect(removedMember(upToDate(1, { wal: { memberId: 0xcdn, clusterId: 0xc2n } }), live)).toBeUndefined();
    // The node's own member under another peer URL (same name, the ID in its WAL): an address change, no conflict.
    const movedLive = { clusterId: 'c1', members: [{ id: 'ab', name: 'controller-1', peerURLs: ['https://10.240.0.99:2380'] }] };
    const movedPlan = planNode(inv, want, upToDate(1, { wal: { memberId: 0xabn, clusterId: 0xc1n } }), movedLive);
    expect(movedPlan.conflict).toBeUndefined();
    expect(movedPlan.moved).toEqual({ memberId: 'ab', from: ['https://10.240.0.99:2380'], to: 'https://10.240.0.11:2380' });
    const elsewhere = { ...live, members: [{ id: 'ab', name: 'x', peerURLs: ['https://10.9.9.9:2380'] }] };
    expect(planNode(inv, want, upToDate(1, { wal: { memberId: 0xabn, clusterId: 0xc1n } }), elsewhere).conflict).toMatch(/not controller-1 at https:\/\/10\.240\.0\.11:2380/);
  });

  it('does not rewrite a member whose unit differs only in --initial-cluster-state', () => {
    const text = 'ExecStart=/usr/local/bin/etcd \\\n  --initial-cluster-state new \\\n  --data-dir=/var/lib/etcd\n';
    const joined = text.replace('state new', 'state existing');
    expect(stateFreeSha256(joined)).toBe(stateFreeSha256(text));
    expect(stateFreeSha256(text.replace('/var/lib/etcd', '/srv/etcd'))).not.toBe(stateFreeSha256(text));
    const unit = { ...src('unit-new'), stateFreeSha256: stateFreeSha256(text) };
    const want = desiredNode(inv, inv.nodes[0]!, { ...artifacts, units: new Map([['controller-0', unit]]) });
    const have = upToDate(0);
    have.files.set(REMOTE_PATHS.unit, { exists: true, mode: 0o644, sha256: 'unit-existing'.padEnd(64, '0') });
    have.unitStateFreeSha256 = stateFreeSha256(joined);
    expect(planNode(inv, want, have).files).toEqual([]);
    // Without data the flag matters (first start): the unit is written.
    expect(planNode(inv, want, { ...have, hasData: false }).files.map((f) => f.path)).toEqual([REMOTE_PATHS.unit]);
  });

  it('rewrites a running member\'s unit for a node added to --initial-cluster, but restarts it only for flags it reads', () => {
    const text = [
      'ExecStart=/usr/local/bin/etcd \\',
      '  --initial-advertise-peer-urls https://10.240.0.10:2380 \\',
      '  --initial-cluster-token etcd-cluster-0 \\',
      '  --initial-cluster controller-0=https://10.240.0.10:2380,controller-1=https://10.240.0.11:2380 \\',
      '  --initial-cluster-state new \\',
      '  --heartbeat-interval=100',
      '',
    ].join('\n');
    const added = text.replace('controller-1=https://10.240.0.11:2380', 'controller-1=https://10.240.0.11:2380,controller-2=https://10.240.0.12:2380');
    const sources = (unit: string) => ({ ...src(unit === text ? 'unit-old' : `unit-${unit.length}`), stateFreeSha256: stateFreeSha256(unit), bootstrapFreeSha256: bootstrapFreeSha256(unit) });
    const have = upToDate(0);
    have.files.set(REMOTE_PATHS.unit, { exists: true, mode: 0o644, sha256: 'unit-old'.padEnd(64, '0') });
    have.unitStateFreeSha256 = stateFreeSha256(text);
    have.unitBootstrapFreeSha256 = bootstrapFreeSha256(text);
    const planFor = (unit: string, observed = have) =>
      planNode(inv, desiredNode(inv, inv.nodes[0]!, { ...artifacts, units: new Map([['controller-0', sources(unit)]]) }), observed);

    const grown = planFor(added);
    expect(grown.files.map((f) => [f.path, f.upload])).toEqual([[REMOTE_PATHS.unit, true]]);
    expect([grown.daemonReload, grown.restart]).toEqual([true, false]);
    // Any other flag is read at every start: that change restarts the member.
    expect(planFor(added.replace('--heartbeat-interval=100', '--heartbeat-interval=150')).restart).toBe(true);
    // Without data every flag matters: a running member with no WAL yet (still bootstrapping) is restarted.
    expect(planFor(added, { ...have, hasData: false }).restart).toBe(true);
  });

  it('hashes the installed unit on the node exactly as the rendered one here (sed against the regexps)', () => {
    // Both spellings (`--flag value`, `--flag=value`); the rendered template's are checked through observeScript above.
    const unit = [
      '  --initial-advertise-peer-urls https://10.240.0.10:2380 \\',
      '  --initial-cluster-token=etcd-cluster-0 \\',
      '  --initial-cluster controller-0=https://10.240.0.10:2380 \\',
      '  --initial-cluster-state=existing \\',
      '  --data-dir=/var/lib/etcd',
      '',
    ].join('\n');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hardway-unit-'));
    try {
      writeFileSync(path.join(dir, 'etcd.service'), unit);
      const onNode = (sed: string) => execFileSync('sh', ['-c', `${sed} etcd.service | sha256sum | cut -d' ' -f1`], { cwd: dir, encoding: 'utf8' }).trim();
      expect(onNode(STATE_FLAG_SED)).toBe(stateFreeSha256(unit));
      expect(onNode(BOOTSTRAP_FLAGS_SED)).toBe(bootstrapFreeSha256(unit));
      expect(bootstrapFreeSha256(unit)).not.toBe(stateFreeSha256(unit));
      expect(bootstrapFreeSha256(unit.replace('/var/lib/etcd', '/srv/etcd'))).not.toBe(bootstrapFreeSha256(unit));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('with no member running to ask', () => {
    const memberOf = (i: number, token = 'tok-1') => computeMemberId([`https://10.240.0.${10 + i}:2380`], token);
    const clusterOf = (nodes: number[], token = 'tok-1') => computeClusterId(nodes.map((i) => memberOf(i, token)));
    const bootstrap = clusterOf([0, 1, 2]);
    const stopped = (i: number, clusterId: bigint, memberId = memberOf(i)) =>
      upToDate(i, { unit: { enabled: 'enabled', active: 'inactive', mainPid: 0, needsDaemonReload: false, restarts: 0 }, wal: { memberId, clusterId } });
    const view = (...have: ObservedNode[]) => offlineView(inv, have.map((h, i) => ({ node: inv.nodes[i]!, have: h })));
    const plan = (i: number, have: ObservedNode, offline: OfflineView) => planNode(inv, desiredNode(inv, inv.nodes[i]!, artifacts), have, undefined, offline);

    it('accepts this cluster as it was before the inventory grew (2 → 3 and 1 → 3); the empty node waits for it to run', () => {
      const two = clusterOf([0, 1]);
      const grown = view(stopped(0, two), stopped(1, two), fresh());
      expect(grown).toEqual({ cluster: two, foreignData: true });
      const kept = plan(0, stopped(0, two), grown);
      expect([kept.conflict, kept.state, kept.start]).toEqual([undefined, 'member', true]);
      // A member re-added while the cluster ran has a time-based ID: its cluster is what can be checked.
      expect(plan(1, stopped(1, two, 0x1234n), grown).conflict).toBeUndefined();
      expect(plan(2, fresh(), grown).conflict).toMatch(/^controller-2 is empty and can join the cluster the other nodes hold \([0-9a-f]+\) only while it runs.*run 'hardway up' again to add controller-2\.$/);
      // One node of three with data (grown from a single member): a minority, but the same lineage; both others wait.
      const one = clusterOf([0]);
      const fromOne = view(stopped(0, one), fresh(), fresh());
      expect(fromOne.cluster).toBe(one);
      expect(plan(0, stopped(0, one), fromOne).conflict).toBeUndefined();
      expect(plan(1, fresh(), fromOne).conflict).toMatch(/can join the cluster the other nodes hold/);
    });

    it('refuses what is not this cluster: another token, two clusters, a minority of the bootstrap one, a swapped data dir', () => {
      // The token changed on purpose: no member has the ID this token gives it, so nothing is accepted.
      const otherToken = clusterOf([0, 1], 'tok-0');
      const renamed = view(stopped(0, otherToken, memberOf(0, 'tok-0')), stopped(1, otherToken, memberOf(1, 'tok-0')), fresh());
      expect(renamed).toEqual({ foreignData: true });
      expect(plan(0, stopped(0, otherToken, memberOf(0, 'tok-0')), renamed).conflict).toMatch(/not of this inventory's cluster/);
      expect(plan(2, fresh(), renamed).conflict).toMatch(/^controller-2 is empty, and other nodes hold data this inventory would not bootstrap/);
      // Two clusters other than the bootstrap one: neither is accepted.
      expect(view(stopped(0, clusterOf([0])), stopped(1, clusterOf([1])), fresh()).cluster).toBeUndefined();
      // Next to the accepted cluster, a node with the bootstrap cluster's data is refused, not started beside it.
      const two = clusterOf([0, 1]);
      const mixed = view(stopped(0, two), stopped(1, two), stopped(2, bootstrap));
      expect(mixed.cluster).toBe(two);
      expect(plan(2, stopped(2, bootstrap), mixed).conflict).toMatch(/holds member [0-9a-f]+ of cluster [0-9a-f]+, but this inventory's nodes hold cluster/);
      // controller-0's data on controller-1.
      expect(plan(1, stopped(1, bootstrap, memberOf(0)), view()).conflict).toMatch(/holds member [0-9a-f]+, which is controller-0's \(https:\/\/10\.240\.0\.10:2380\), not controller-1's/);
      // A WAL that cannot be read, next to foreign data.
      expect(plan(1, upToDate(1, { wal: undefined }), renamed).conflict).toMatch(/has a WAL that cannot be read/);
    });

    it('accepts a lineage only when it is the one cluster other than the bootstrap one on the nodes', () => {
      const two = clusterOf([0, 1]);
      // controller-1 holds some other cluster's member (an ID no node of this token has): nothing is accepted.
      const other = view(stopped(0, two), stopped(1, clusterOf([5]), 0x999n), fresh());
      expect(other).toEqual({ foreignData: true });
      expect(plan(0, stopped(0, two), other).conflict).toMatch(/not of this inventory's cluster/);
    });

    it('starts empty nodes of a bootstrap still in progress, and holds them back when a running member does not answer', () => {
      const bootstrapping = view(stopped(0, bootstrap), fresh(), fresh());
      expect(bootstrapping).toEqual({ foreignData: false });
      const p = plan(1, fresh(), bootstrapping);
      expect([p.conflict, p.state, p.start]).toEqual([undefined, 'new', true]);
      const silent = offlineView(inv, [], 'controller-0: etcdctl member list timed out');
      expect(plan(1, fresh(), silent).conflict).toMatch(/^controller-1 is empty, and a member runs but did not answer 'member list' \(controller-0: etcdctl member list timed out\)/);
    });
  });

  it('names running members that no inventory node is, and only those', () => {
    const live = {
      clusterId: 'c1',
      members: [
        { id: 'a1', name: 'controller-0', peerURLs: ['https://10.240.0.10:2380'] },
        { id: 'b2', name: 'old-node', peerURLs: ['https://10.240.0.99:2380'] },
        { id: 'c3', name: '', peerURLs: ['https://10.240.0.98:2380'] },
      ],
    };
    const lines = membersNotInInventory(inv, live);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `member b2 (old-node, https://10.240.0.99:2380) of the running cluster is not in ${inv.file}: up does not remove members, and the quorum counts it until it is removed ('etcdctl member remove b2', then stop etcd on that machine)`,
    );
    expect(lines[1]).toMatch(/^member c3 \(unstarted, https:\/\/10\.240\.0\.98:2380\)/);
  });

  it('restarts a member whose files are right but whose process runs another configuration or a replaced binary', async () => {
    const text = await renderUnit(inv, inv.nodes[0]!);
    const want = desiredNode(inv, inv.nodes[0]!, artifacts);
    // What systemd loaded from the unit (`systemctl show -p ExecStart`) and, as it started it, /proc/<pid>/cmdline;
    // a re-added member runs with `existing`, which does not count.
    const loaded = execStartArgv(text);
    expect(loaded[0]).toBe('/usr/local/bin/etcd');
    expect(loaded).toContain('--heartbeat-interval=100');
    expect(effectiveFlags(loaded)).toContain('peer-client-cert-auth=true');
    expect(effectiveFlags(loaded)).not.toContainEqual(expect.stringMatching(/^initial-/));
    const argv = execStartArgv(text.replace(/--initial-cluster-state[= ]new/, '--initial-cluster-state existing'));
    const asRunning = (args: string[], binaryReplaced = false, extra: Partial<ObservedNode> = {}) => upToDate(0, { loadedExecStart: loaded, running: { args, binaryReplaced }, ...extra });
    expect(staleReason(asRunning(argv))).toBeUndefined();
    expect(planNode(inv, want, asRunning(argv)).restart).toBe(false);
    // A run killed after writing a new heartbeat into the unit and reloading systemd, before the restart.
    const old = argv.map((a) => a.replace('--heartbeat-interval=100', '--heartbeat-interval=150'));
    const p = planNode(inv, want, asRunning(old));
    expect([p.files, p.restart, p.stale]).toEqual([[], true, 'the running etcd was started with other flags than its unit (--heartbeat-interval)']);
    // Killed before the reload: systemd still has the old ExecStart loaded, this run reloads, so the unit decides.
    const unreloaded = { unit: { ...upToDate(0).unit, needsDaemonReload: true }, loadedExecStart: old };
    expect(staleReason(asRunning(old, false, unreloaded), text)).toMatch(/other flags than its unit \(--heartbeat-interval\)/);
    expect(staleReason(asRunning(argv, false, unreloaded), text)).toBeUndefined();
    // systemd shows the loaded argv joined by spaces: an argument with a space compares equal all the same.
    const spaced = (a: string[]) => a.map((x) => x.replace('--data-dir=/var/lib/etcd', '--data-dir=/srv/etcd data'));
    expect(staleReason(upToDate(0, { loadedExecStart: spaced(loaded).join(' ').split(' '), running: { args: spaced(argv), binaryReplaced: false } }))).toBeUndefined();
    // `$$` and variables are expanded only when systemd starts the process: not compared.
    expect(staleReason(upToDate(0, { loadedExecStart: [...loaded, '--log-package-levels=$$x'], running: { args: [...old, '--log-package-levels=$x'], binaryReplaced: false } }))).toBeUndefined();
    expect(planNode(inv, want, asRunning(argv, true)).stale).toBe('the running etcd binary was replaced on disk after it started');
    // A wrapper as the main process (the lab's slow disk: sh running a script that reads the unit): no etcd flags to compare.
    const wrapper = ['/usr/local/sbin/hw-slowdisk', '20000', '/etc/systemd/system/etcd.service'];
    expect(staleReason(upToDate(0, { loadedExecStart: wrapper, running: { args: ['/bin/sh', ...wrapper], binaryReplaced: false } }))).toBeUndefined();
    // Not running: started anyway, with what the unit says.
    expect(planNode(inv, want, { ...asRunning(old), unit: { ...upToDate(0).unit, active: 'inactive' } }).restart).toBe(false);
  });

  it('never calls a member stale because its unit runs etcd through another program (taskset, nice): only the same program is compared', () => {
    const etcd = ['/usr/local/bin/etcd', '--name', 'controller-0', '--heartbeat-interval=100'];
    const through = ['/usr/bin/taskset', '--cpu-list', '1', ...etcd];
    expect(staleReason(upToDate(0, { loadedExecStart: through, running: { args: etcd, binaryReplaced: false } }))).toBeUndefined();
    // The same program with another flag is stale.
    expect(staleReason(upToDate(0, { loadedExecStart: [...etcd, '--snapshot-count=5000'], running: { args: etcd, binaryReplaced: false } }))).toMatch(/\(--snapshot-count\)$/);
  });

  it('counts a unit that is reloading or activating as running: it is restarted when changed, never started again', () => {
    const want = desiredNode(inv, inv.nodes[0]!, artifacts);
    for (const active of ['reloading', 'activating', 'active']) {
      const p = planNode(inv, want, upToDate(0, { unit: { ...upToDate(0).unit, active }, files: new Map() }));
      expect([active, p.running, p.start, p.restart]).toEqual([active, true, false, true]);
    }
    for (const active of ['inactive', 'failed']) {
      const p = planNode(inv, want, upToDate(0, { unit: { ...upToDate(0).unit, active }, files: new Map() }));
      expect([active, p.running, p.start, p.restart]).toEqual([active, false, true, false]);
    }
  });

  it('reads what systemd loaded for ExecStart and what the process runs', () => {
    const shown = '{ path=/usr/local/bin/etcd ; argv[]=/usr/local/bin/etcd --name controller-0 --heartbeat-interval=100 ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }';
    // The script says ExecStart as systemctl printed it (R), and the argv in a block of base64 lines as base64 wraps them.
    const argv = Buffer.from('/usr/local/bin/etcd\0--name\0controller-0\0').toString('base64');
    const o = parseObserved([`R ${shown}`, 'C<', argv.slice(0, 12), argv.slice(12), '>', 'X 1'].join('\n'));
    expect(o.loadedExecStart).toEqual(['/usr/local/bin/etcd', '--name', 'controller-0', '--heartbeat-interval=100']);
    expect(o.running).toEqual({ args: ['/usr/local/bin/etcd', '--name', 'controller-0'], binaryReplaced: true });
    // The process ended between its PID and its cmdline: nothing known. No X line (exe unreadable): not "replaced".
    expect(parseObserved('C \nX 1').running).toBeUndefined();
    expect(parseObserved(`C ${Buffer.from('/usr/local/bin/etcd\0').toString('base64')}`).running).toEqual({ args: ['/usr/local/bin/etcd'], binaryReplaced: false });
  });

  it('restarts followers first and the leader last', () => {
    const mk = (node: string) => ({ ...planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), upToDate(0)), node, restart: true });
    expect(rollingOrder([mk('controller-0'), mk('controller-1'), mk('controller-2')], 'controller-0').map((p) => p.node)).toEqual([
      'controller-1',
      'controller-2',
      'controller-0',
    ]);
  });
});

describe('systemd step', () => {
  it('reloads systemd once: enable reloads it, so daemon-reload only for an enabled unit', () => {
    expect(systemdStep({ daemonReload: true, enable: true }, true)).toEqual({ command: 'systemctl enable --now --no-block etcd.service', done: ['enable', 'start'] });
    expect(systemdStep({ daemonReload: true, enable: false }, false)).toEqual({ command: 'systemctl daemon-reload', done: ['daemon-reload'] });
    expect(systemdStep({ daemonReload: true, enable: false }, true).command).toBe('systemctl daemon-reload && systemctl start --no-block etcd.service');
    expect(systemdStep({ daemonReload: false, enable: true }, false).command).toBe('systemctl enable etcd.service');
    expect(systemdStep({ daemonReload: false, enable: false }, false)).toEqual({ command: '', done: [] });
  });
});

describe('applying a plan to a node', () => {
  /** A node in a temp dir: the paths of a plan, rooted there. */
  function planUnder(root: string) {
    const p = planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), fresh());
    const at = (x: string) => path.join(root, x);
    return {
      ...p,
      dirs: p.dirs.map((d) => ({ ...d, path: at(d.path) })),
      files: p.files.map((f) => ({ ...f, path: at(f.path) })),
    };
  }

  it('prepares dirs, stale temp files and modes with one command, which a real shell runs', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hardway-prepare-'));
    try {
      const plan = planUnder(root);
      const keyPath = plan.files.find((f) => f.role === 'key')!.path;
      // The key is there with the right content but mode 0644: a chmod, no upload.
      const keyFile = plan.files.find((f) => f.role === 'key')!;
      plan.files = plan.files.map((f) => (f === keyFile ? { ...f, reason: 'mode differs' as const, upload: false, bytes: 0 } : f));
      const etcDir = path.dirname(keyPath);
      mkdirSync(etcDir, { recursive: true, mode: 0o755 });
      writeFileSync(keyPath, 'k', { mode: 0o644 });
      const stale = path.join(etcDir, '.ca.pem.hardway-tmp.123');
      const live = path.join(etcDir, '.kubernetes.pem.hardway-tmp.456');
      writeFileSync(stale, 'x');
      writeFileSync(live, 'y');
      utimesSync(stale, new Date(Date.now() - 20 * 60_000), new Date(Date.now() - 20 * 60_000));

      const cmd = prepareCommand(plan)!;
      execFileSync('sh', ['-c', cmd]);
      for (const d of plan.dirs) expect(statSync(d.path).mode & 0o777).toBe(0o700);
      expect(statSync(keyPath).mode & 0o777).toBe(0o600);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
      // set -e: any failing step fails the command, the first dir's as well as the last chmod.
      const blocked = path.join(root, 'file-not-dir');
      writeFileSync(blocked, '');
      const failing = prepareCommand({ dirs: [{ path: path.join(blocked, 'sub'), mode: 0o700, reason: 'missing' }, { path: path.join(root, 'later'), mode: 0o700, reason: 'missing' }], files: [] })!;
      expect(() => execFileSync('sh', ['-c', failing], { stdio: 'pipe' })).toThrow();
      expect(existsSync(path.join(root, 'later'))).toBe(false);
      expect(() => execFileSync('sh', ['-c', prepareCommand({ dirs: [], files: [{ ...keyFile, path: path.join(root, 'nope/x'), upload: false }] })!], { stdio: 'pipe' })).toThrow();
      expect(prepareCommand({ dirs: [], files: [] })).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  /**
   * A node that records what it is asked, and answers uploads after `delay(path)` ms; `fail` paths fail, and with
   * `maxSessions` it refuses a channel beyond that many at once, as sshd does.
   */
  function fakeRemote(delay: (p: string) => number, fail: string[] = [], maxSessions = Infinity) {
    const events: string[] = [];
    let open = 0;
    const remote: Remote = {
      name: 'controller-0',
      async run(command): Promise<ExecResult> {
        events.push(`run ${command.split('\n').length} lines`);
        return { code: 0, stdout: '', stderr: '', timedOut: false };
      },
      async upload(_src: UploadSource, p: string) {
        if (open >= maxSessions) {
          events.push(`refused ${path.basename(p)}`);
          throw new ChannelRefused('controller-0: cannot start a command: (SSH) Channel open failure: open failed');
        }
        open++;
        events.push(`start ${path.basename(p)}`);
        await new Promise((r) => setTimeout(r, delay(p)));
        events.push(`end ${path.basename(p)}`);
        open--;
        if (fail.includes(p)) throw new Error(`writing ${p} failed`);
      },
      async close() {},
    };
    return { remote, events };
  }

  it('prepares first, then sends every file at once over its own channel', async () => {
    const plan = planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), fresh());
    const { remote, events } = fakeRemote((p) => (p.endsWith('/etcd') ? 30 : 5));
    const done: string[] = [];
    await applyFiles(remote, plan, () => {}, done);
    expect(events[0]).toMatch(/^run /);
    expect(events.filter((e) => e.startsWith('run'))).toHaveLength(1);
    // All six started before the first one ended.
    expect(events.slice(1, 7).every((e) => e.startsWith('start '))).toBe(true);
    expect(done).toEqual([
      `created ${REMOTE_PATHS.configDir}`,
      'created /var/lib/etcd',
      ...plan.files.map((f) => `wrote ${f.path} (missing)`),
    ]);
  });

  it('lets the other uploads finish when one fails, then reports the failure', async () => {
    const plan = planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), fresh());
    const { remote, events } = fakeRemote((p) => (p === REMOTE_PATHS.caCert ? 1 : 20), [REMOTE_PATHS.caCert]);
    const done: string[] = [];
    await expect(applyFiles(remote, plan, () => {}, done)).rejects.toThrow(`writing ${REMOTE_PATHS.caCert} failed`);
    expect(events.filter((e) => e.startsWith('end '))).toHaveLength(6);
    expect(done.filter((d) => d.startsWith('wrote'))).toHaveLength(5);
    expect(done.some((d) => d.includes(REMOTE_PATHS.caCert))).toBe(false);
    // Two failures: both named.
    const two = fakeRemote(() => 1, [REMOTE_PATHS.caCert, REMOTE_PATHS.key]);
    await expect(applyFiles(two.remote, plan, () => {}, [])).rejects.toThrow(`writing ${REMOTE_PATHS.caCert} failed; writing ${REMOTE_PATHS.key} failed`);
  });

  it('sends the files a server with a low MaxSessions refused, one at a time', async () => {
    const plan = planNode(inv, desiredNode(inv, inv.nodes[0]!, artifacts), fresh());
    const { remote, events } = fakeRemote(() => 5, [], 2);
    const done: string[] = [];
    await applyFiles(remote, plan, () => {}, done);
    expect(events.filter((e) => e.startsWith('refused '))).toHaveLength(4);
    expect(events.filter((e) => e.startsWith('end '))).toHaveLength(6);
    expect(done.filter((d) => d.startsWith('wrote'))).toEqual(plan.files.map((f) => `wrote ${f.path} (missing)`));
  });
});

describe('atomic install script', () => {
  it('writes to a temp name in the same dir, checks the checksum, then renames', () => {
    const s = atomicInstallScript('/usr/local/bin/etcd', 0o755, 'ab'.repeat(32));
    const lines = s.split('\n');
    expect(lines).toContain('tmp=/usr/local/bin/.etcd.hardway-tmp.$$');
    const order = ['cat > "$tmp"', 'sha256sum -c', 'chmod 0755 "$tmp"', 'mv -f "$tmp" /usr/local/bin/etcd'].map((k) => lines.findIndex((l) => l.includes(k)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('etcdctl JSON', () => {
  it('keeps 64-bit member IDs exact', () => {
    const text =
      '{"header":{"cluster_id":14021712442445556424,"member_id":4549957421782673025,"raft_term":2},"members":[{"ID":3925945332778922383,"name":"n2","peerURLs":["https://127.0.0.2:2380"],"clientURLs":["https://127.0.0.2:2379"]},{"ID":9299178283036028553,"peerURLs":["http://10.240.0.13:2380"]}]}';
    const r = parseMemberList(text);
    expect(r.clusterId).toBe(14021712442445556424n.toString(16));
    expect(r.members[0]).toEqual({ id: '367bc27ac7e3f18f', name: 'n2', peerURLs: ['https://127.0.0.2:2380'], clientURLs: ['https://127.0.0.2:2379'], isLearner: false, started: true });
    expect(r.members[1]).toMatchObject({ started: false, clientURLs: [] });
  });

  it('reads endpoint status and health', () => {
    const status = parseEndpointStatus(
      '[{"Endpoint":"https://127.0.0.1:2379","Status":{"header":{"cluster_id":14021712442445556424,"member_id":4549957421782673025,"revision":1,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":4549957421782673025,"raftIndex":6,"raftTerm":2,"raftAppliedIndex":6,"dbSizeInUse":16384}}]',
    );
    expect(status[0]).toMatchObject({ memberId: '3f24b22b1c822681', isLeader: true, raftTerm: 2, raftIndex: 6, version: '3.4.23', dbSize: 20480 });
    const health = parseEndpointHealth(
      '[{"endpoint":"https://127.0.0.1:2379","health":true,"took":"13.9ms"},{"endpoint":"http://127.0.0.1:32379","health":false,"took":"3.0s","error":"context deadline exceeded"}]\n',
    );
    expect(health.map((h) => h.health)).toEqual([true, false]);
    expect(health[1]!.error).toBe('context deadline exceeded');
  });
});
