import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSteps } from '../../src/engine/runner.js';
import { leaveScript, movedAside, movedAsidePath, utcStamp } from '../../src/node/ops.js';
import { removeReport, removeRun, removeSteps, type RemoveOptions, type RemoveRun } from '../../src/members/remove.js';
import { fakeCluster, inv } from './members-fakes.js';

const NOW = new Date('2024-03-05T07:08:09.123Z');

async function remove(name: string, cluster: ReturnType<typeof fakeCluster>, opts: RemoveOptions = { yes: true }): Promise<RemoveRun> {
  const run = removeRun({ inv, hosts: cluster.hosts, log: () => {} }, name, { now: NOW, ...opts });
  const s = removeSteps;
  await runSteps(run, [s.ask, s.check, s.confirm, s.removeMember, s.leaveNode]);
  return run;
}

const changes = (log: string[]) => log.filter((l) => /member remove|move-leader|mv -T/.test(l)).map((l) => `${l.split(':')[0]}: ${/member remove \w+|move-leader \w+|mv -T/.exec(l)![0]}`);

describe('member remove', () => {
  it('removes the member through the others, then stops etcd on the node and moves its data dir aside', async () => {
    const c = fakeCluster({ leader: 0 });
    const run = await remove('controller-2', c);
    expect(changes(c.log)).toEqual(['controller-0: member remove a2', 'controller-2: mv -T']);
    expect(c.log.find((l) => l.includes('member remove'))).toMatch(/--endpoints=https:\/\/10\.240\.0\.10:2379,https:\/\/10\.240\.0\.11:2379 /);
    expect(c.log.find((l) => l.includes('mv -T'))).toContain('/var/lib/etcd.removed-20240305T070809Z');
    expect(removeReport(run)).toEqual([
      'removed member controller-2 (a2)',
      'controller-2: stopped and disabled etcd.service',
      'controller-2: moved /var/lib/etcd to /var/lib/etcd.removed-20240305T070809Z',
      'now 2 members: quorum 2, survives 0 failures',
      "controller-2 is still in the inventory /i.yaml: remove it there, or a later 'hardway up' adds it back",
    ]);
  });

  it('hands the leadership on first when the member leads', async () => {
    const c = fakeCluster({ leader: 1 });
    const run = await remove('controller-1', c);
    expect(changes(c.log)).toEqual(['controller-0: move-leader a0', 'controller-0: member remove a1', 'controller-1: mv -T']);
    expect(run.done[0]).toBe('moved the leadership to controller-0 (a0)');
  });

  it('is refused with the numbers while another member is down, changing nothing', async () => {
    const c = fakeCluster({ down: [1] });
    await expect(remove('controller-2', c)).rejects.toThrow(
      /^removing controller-2 \(a2\) is refused: 2 voting members would be left, needing 2 healthy for quorum, and 1 healthy \(controller-0\) and 1 not \(controller-1\): 1 < 2/,
    );
    expect(changes(c.log)).toEqual([]);
    // The member that is down itself can go: the two left are healthy.
    await remove('controller-1', c);
    expect(c.state.members).toEqual([0, 2]);
  });

  it('asks again just before removing: a member that stopped answering since the check stops the removal', async () => {
    const c = fakeCluster({ leader: 0 });
    const run = removeRun({ inv, hosts: c.hosts, log: () => {} }, 'controller-2', { now: NOW, yes: true });
    const s = removeSteps;
    await runSteps(run, [s.ask, s.check, s.confirm]);
    // The leader hangs while the pre-remove snapshot is saved: controller-1 alone would be left to hold the quorum.
    c.state.down.add(0);
    await expect(runSteps(run, [s.removeMember])).rejects.toThrow(
      /^removing controller-2 \(a2\) now is refused: 2 voting members would be left, needing 2 healthy for quorum, and 1 healthy \(controller-1\) and 1 not \(controller-0\): 1 < 2.*the cluster changed since the check, nothing was removed$/,
    );
    expect(changes(c.log)).toEqual([]);
    expect(c.state.members).toEqual([0, 1, 2]);
  });

  it('removes the member of a node that cannot be reached, and says what is left to do there', async () => {
    const c = fakeCluster({ down: [2], unreachable: [2] });
    const run = await remove('controller-2', c);
    expect(changes(c.log)).toEqual(['controller-0: member remove a2']);
    expect(removeReport(run)).toContain("not done: controller-2 could not be reached: stop and disable etcd there and move /var/lib/etcd aside when it is back ('hardway reset controller-2')");
  });

  it('without a terminal and without --yes it is a usage error before anything changes; a name not a member too', async () => {
    const c = fakeCluster();
    await expect(remove('controller-2', c, { isTTY: false })).rejects.toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/run again with --yes/) }));
    await expect(remove('controller-7', c)).rejects.toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/members: controller-0 \(a0\), controller-1 \(a1\), controller-2 \(a2\)/) }));
    expect(changes(c.log)).toEqual([]);
  });

  it('finishes a removal killed before its node was left: stops etcd there and moves the data dir aside, removing no member', async () => {
    const c = fakeCluster();
    c.state.members = [0, 1];
    // What a removed member's node shows: etcd enabled, in its restart loop, and the data dir.
    c.remotes[2]!.rules.unshift([/systemctl is-enabled/, { stdout: 'enabled\nrunning\ndata\n' }]);
    const run = await remove('controller-2', c);
    expect(changes(c.log)).toEqual(['controller-2: mv -T']);
    expect(removeReport(run)).toEqual([
      'controller-2: stopped and disabled etcd.service',
      'controller-2: moved /var/lib/etcd to /var/lib/etcd.removed-20240305T070809Z',
      'now 2 members: quorum 2, survives 0 failures',
      "controller-2 is still in the inventory /i.yaml: remove it there, or a later 'hardway up' adds it back",
    ]);
    // Asked like any removal: off a terminal, --yes.
    await expect(remove('controller-2', c, { isTTY: false })).rejects.toThrow(/run again with --yes/);
  });

  it('with the removal finished, a node not a member with nothing left changes nothing and says so', async () => {
    const c = fakeCluster();
    c.state.members = [0, 1];
    const run = await remove('controller-2', c, { isTTY: false });
    expect(changes(c.log)).toEqual([]);
    expect(removeReport(run)[0]).toBe('controller-2 is not a member and its etcd is stopped, with no /var/lib/etcd: nothing to do');
  });

  it('refuses the last member', async () => {
    const c = fakeCluster();
    c.state.members = [0];
    await expect(remove('controller-0', c)).rejects.toThrow('removing controller-0 (a0) is refused: controller-0 is the last member of the cluster');
  });
});

describe('moving a data dir aside', () => {
  it('names it with the UTC time', () => {
    expect(utcStamp(NOW)).toBe('20240305T070809Z');
    expect(movedAsidePath('/var/lib/etcd/', NOW)).toBe('/var/lib/etcd.removed-20240305T070809Z');
  });

  /** The script under a real sh, with systemctl a stub that records its arguments. */
  function runLeave(dataDir: string, to: string, mountPoint = false) {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'hw-leave-bin-'));
    writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$@" >> ${bin}/calls\n`);
    chmodSync(path.join(bin, 'systemctl'), 0o755);
    // util-linux's mountpoint, answering for the data dir as a disk of its own would.
    writeFileSync(path.join(bin, 'mountpoint'), `#!/bin/sh\nexit ${mountPoint ? 0 : 1}\n`);
    chmodSync(path.join(bin, 'mountpoint'), 0o755);
    const out = execFileSync('sh', ['-c', leaveScript(dataDir, to)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: `${bin}:${process.env.PATH}` } });
    return { out, calls: readFileSync(path.join(bin, 'calls'), 'utf8') };
  }

  it('stops and disables etcd and renames the dir, keeping its content', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-leave-'));
    mkdirSync(path.join(dir, 'etcd/member/wal'), { recursive: true });
    writeFileSync(path.join(dir, 'etcd/member/wal/0.wal'), 'wal');
    const { out, calls } = runLeave(path.join(dir, 'etcd'), path.join(dir, 'etcd.removed-x'));
    expect(out.trim()).toBe('hardway:stopped\nhardway:moved');
    expect(calls).toBe('cat etcd.service\ndisable --now etcd.service\n');
    expect(readFileSync(path.join(dir, 'etcd.removed-x/member/wal/0.wal'), 'utf8')).toBe('wal');
    expect(existsSync(path.join(dir, 'etcd'))).toBe(false);
    // Nothing there any more: said, not an error.
    expect(runLeave(path.join(dir, 'etcd'), path.join(dir, 'etcd.removed-y')).out.trim()).toBe('hardway:stopped\nhardway:no-data-dir');
  });

  it('a data dir that is a mount point stays where it is: its member dir is renamed on that disk, and said so', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-leave-'));
    const data = path.join(dir, 'etcd');
    mkdirSync(path.join(data, 'member/wal'), { recursive: true });
    mkdirSync(path.join(data, 'lost+found'));
    writeFileSync(path.join(data, 'member/wal/0.wal'), 'wal');
    const to = movedAsidePath(data, NOW);
    const { out } = runLeave(data, to, true);
    expect(movedAside(out, data, to)).toEqual({
      from: `${data}/member`,
      to: `${data}/member.removed-20240305T070809Z`,
      text: `${data}/member to ${data}/member.removed-20240305T070809Z (${data} is a mount point: its member dir is moved on its own disk)`,
    });
    expect(readFileSync(path.join(data, 'member.removed-20240305T070809Z/wal/0.wal'), 'utf8')).toBe('wal');
    // What is not etcd's stays as it was; the mount point is not renamed.
    expect(readdirSync(data).sort()).toEqual(['lost+found', 'member.removed-20240305T070809Z']);
    expect(existsSync(to)).toBe(false);
    // Again, with no member left: nothing to move, not an error; and never into a name already there.
    const again = runLeave(data, to, true).out;
    expect(again.trim()).toBe('hardway:stopped\nhardway:no-data-dir');
    expect(movedAside(again, data, to)).toBeUndefined();
    mkdirSync(path.join(data, 'member'));
    expect(() => runLeave(data, to, true)).toThrow(/member\.removed-20240305T070809Z already exists: not moving/);
    expect(existsSync(path.join(data, 'member'))).toBe(true);
  });

  it('never moves a data dir into one already there', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-leave-'));
    mkdirSync(path.join(dir, 'etcd'));
    mkdirSync(path.join(dir, 'etcd.removed-x'));
    expect(() => runLeave(path.join(dir, 'etcd'), path.join(dir, 'etcd.removed-x'))).toThrow(/already exists: not moving/);
    expect(existsSync(path.join(dir, 'etcd'))).toBe(true);
  });
});
