import { describe, expect, it } from 'vitest';
import { mixedVersions, parseVersion, type MemberVersion } from '../../src/etcd/versions.js';
import { PATCH_FLOORS, preflight, preflightText, removedFlags } from '../../src/upgrade/preflight.js';

const members = (...versions: string[]): MemberVersion[] => versions.map((version, i) => ({ name: `c${i}`, version, healthy: true }));
const base = { flags: ['name', 'data-dir', 'heartbeat-interval'] };

describe('upgrade preflight, before any file is written', () => {
  const cases: [string, Parameters<typeof preflight>[0], string, RegExp][] = [
    ['3.4 → 3.5: one minor up, no floor in the guide', { ...base, members: members('3.4.23', '3.4.23', '3.4.23'), clusterVersion: '3.4.0', release: '3.5.16', inventory: '3.5.16' }, 'upgrade', /upgrade 3\.4\.23 → 3\.5\.16 \(cluster version 3\.4\).*no patch floor/],
    ['3.4 → 3.6: skips a minor', { ...base, members: members('3.4.23', '3.4.23', '3.4.23'), clusterVersion: '3.4.0', release: '3.6.5', inventory: '3.6.5' }, 'refused', /go through 3\.5 \(its latest patch release\) before 3\.6/],
    ['3.5.16 → 3.6: below the 3.5 floor', { ...base, members: members('3.5.16', '3.5.26', '3.5.26'), clusterVersion: '3.5.0', release: '3.6.5', inventory: '3.6.5' }, 'refused', /every member must run 3\.5\.26 or later .*c0 runs 3\.5\.16/],
    ['3.5.26 → 3.6 with --enable-v2 in the unit', { flags: ['name', 'enable-v2'], members: members('3.5.26', '3.5.26', '3.5.26'), clusterVersion: '3.5.0', release: '3.6.5', inventory: '3.6.5' }, 'refused', /--enable-v2 was removed in etcd 3\.6/],
    ['3.6.11 → 3.7 with an experimental flag', { flags: ['experimental-initial-corrupt-check'], members: members('3.6.11', '3.6.11', '3.6.11'), clusterVersion: '3.6.0', release: '3.7.0', inventory: '3.7.0' }, 'refused', /--experimental-initial-corrupt-check was removed in etcd 3\.7: --initial-corrupt-check/],
    ['3.5 → 3.4: no downgrade below 3.6', { ...base, members: members('3.5.16', '3.5.16', '3.5.16'), clusterVersion: '3.5.0', release: '3.4.23', inventory: '3.4.23' }, 'downgrade', /cannot be downgraded .*'hardway snapshot restore FILE' of a snapshot taken while the cluster ran 3\.4/],
    ['3.6 → 3.5 not asked for: refused, naming up --downgrade', { ...base, members: members('3.6.5', '3.6.5', '3.6.5'), clusterVersion: '3.6.0', release: '3.5.26', inventory: '3.5.26' }, 'downgrade', /'hardway up --downgrade' runs 'etcdctl downgrade validate 3\.5' and 'etcdctl downgrade enable 3\.5'/],
    ['3.6 → 3.5 with --downgrade: rolls, the downgrade enabled first', { ...base, downgrade: true, members: members('3.6.5', '3.6.5', '3.6.5'), clusterVersion: '3.6.0', release: '3.5.26', inventory: '3.5.26' }, 'upgrade', /^downgrade 3\.6\.5 → 3\.5\.26 .*'etcdctl downgrade validate 3\.5' and 'downgrade enable 3\.5' first/],
    ['3.6 → 3.4 even with --downgrade: one minor at a time', { ...base, downgrade: true, members: members('3.6.5', '3.6.5', '3.6.5'), clusterVersion: '3.6.0', release: '3.4.23', inventory: '3.4.23' }, 'downgrade', /go through 3\.5 first/],
    ['3.5 → 3.4 even with --downgrade: below 3.6 there is no downgrade', { ...base, downgrade: true, members: members('3.5.16', '3.5.16', '3.5.16'), clusterVersion: '3.5.0', release: '3.4.23', inventory: '3.4.23' }, 'downgrade', /cannot be downgraded/],
    ['mixed: an upgrade killed halfway goes on', { ...base, members: members('3.5.16', '3.4.23', '3.4.23'), clusterVersion: '3.4.0', release: '3.5.16', inventory: '3.5.16' }, 'upgrade', /1 of 3 members on 3\.5\.16, 2 on 3\.4\.23; cluster version 3\.4 until all run 3\.5/],
    ['mixed: back to 3.4 while the cluster version is still 3.4', { ...base, members: members('3.5.16', '3.4.23', '3.4.23'), clusterVersion: '3.4.0', release: '3.4.23', inventory: '3.4.23' }, 'upgrade', /upgrade 3\.4\.23 → 3\.4\.23/],
    ["the release's etcd --version disagrees with the inventory", { ...base, members: members('3.4.23', '3.4.23', '3.4.23'), clusterVersion: '3.4.0', release: '3.5.16', inventory: '3.5.17' }, 'refused', /etcd --version is 3\.5\.16, but etcd\.version says 3\.5\.17/],
    ['a member down', { ...base, members: [...members('3.4.23', '3.4.23'), { name: 'c2', healthy: false }], clusterVersion: '3.4.0', release: '3.5.16', inventory: '3.5.16' }, 'refused', /every member must be healthy .*c2 is not/],
    ['nothing to do', { ...base, members: members('3.4.23', '3.4.23', '3.4.23'), clusterVersion: '3.4.0', release: '3.4.23', inventory: '3.4.23' }, 'same', /already runs this release/],
  ];
  for (const [name, input, kind, words] of cases) {
    it(name, () => {
      const p = preflight(input);
      expect(p.kind).toBe(kind);
      expect(preflightText(p)).toMatch(words);
    });
  }

  it('names removed flags only from the release that removed them', () => {
    expect(removedFlags(['enable-v2'], [3, 5, 26])).toEqual([]);
    expect(removedFlags(['experimental-x'], [3, 6, 0])).toEqual([]);
    expect(removedFlags(['debug'], [3, 5, 0])[0]).toMatch(/--log-level=debug/);
  });

  it('says nothing about versions when every member runs the same one', () => {
    expect(mixedVersions(members('3.4.23', '3.4.23'))).toBeUndefined();
  });
});

describe('upgrade preflight: the rules at their edges', () => {
  const up = (over: Partial<Parameters<typeof preflight>[0]>) => preflight({ ...base, members: members('3.5.26', '3.5.26', '3.5.26'), clusterVersion: '3.5.0', release: '3.6.5', inventory: '3.6.5', ...over });

  it('reads a version wherever it is in the text, a missing patch as 0, and nothing from no digits', () => {
    expect(parseVersion('etcd Version: 3.5.16')).toEqual([3, 5, 16]);
    expect(parseVersion('v3.6')).toEqual([3, 6, 0]);
    expect(parseVersion('none')).toBeUndefined();
    expect(parseVersion(undefined)).toBeUndefined();
  });

  it("refuses a release whose etcd --version says nothing readable, quoting what it said", () => {
    expect(up({ release: 'garbage' })).toEqual({ kind: 'refused', refused: ["the release's etcd --version said nothing readable ('garbage')"] });
  });

  it('an inventory version that is no version is not compared with the release', () => {
    expect(up({ inventory: 'latest' }).kind).toBe('upgrade');
  });

  it('needs at least one member reporting its version, and names every member down in the plural', () => {
    expect(up({ members: [{ name: 'c0', healthy: false }, { name: 'c1', healthy: false }] })).toEqual({
      kind: 'refused',
      refused: ['no member reported its version: the cluster must be healthy before a version change'],
    });
    const p = up({ members: [...members('3.5.26'), { name: 'c1', healthy: false }, { name: 'c2', version: '3.5.26', healthy: false }], clusterVersion: undefined });
    expect(p).toEqual({ kind: 'refused', refused: ['every member must be healthy before a version change, and c1, c2 are not'] });
  });

  it('without a cluster version, the lowest member version stands for it', () => {
    expect(up({ members: members('3.5.26', '3.6.5', '3.6.5'), clusterVersion: undefined })).toMatchObject({ kind: 'upgrade', from: '3.5.26', to: '3.6.5', clusterVersion: '3.5' });
    expect(up({ members: members('3.4.23', '3.4.23'), clusterVersion: undefined }).kind).toBe('refused');
  });

  it('the 3.6 → 3.7 floor is 3.6.11; members on the floor itself may go', () => {
    const floor = { members: members('3.6.11', '3.6.10', '3.6.11'), clusterVersion: '3.6.0', release: '3.7.0', inventory: '3.7.0' };
    expect(preflightText(up(floor))).toMatch(/every member must run 3\.6\.11 or later .*; c1 runs 3\.6\.10: upgrade to the latest 3\.6 patch release first$/);
    expect(up({ ...floor, members: members('3.6.11', '3.6.11', '3.6.12') })).toEqual({ kind: 'upgrade', from: '3.6.11', to: '3.7.0', clusterVersion: '3.6', notes: [], mixed: '1 of 3 members on 3.6.12, 2 on 3.6.11; cluster version 3.6' });
  });

  it('an older patch of the same minor is no downgrade: patch releases are interchangeable, and it says so', () => {
    const p = up({ members: members('3.5.26', '3.5.26'), release: '3.5.20', inventory: '3.5.20' });
    expect(p).toEqual({ kind: 'upgrade', from: '3.5.26', to: '3.5.20', clusterVersion: '3.5', notes: ['3.5.20 is an older patch of 3.5 than some members run: patch releases of one minor are interchangeable'] });
    expect(preflightText(p)).toBe(
      'upgrade 3.5.26 → 3.5.20 (cluster version 3.5): a snapshot first, then one member at a time, followers first, the leader last; 3.5.20 is an older patch of 3.5 than some members run: patch releases of one minor are interchangeable',
    );
    expect(preflightText(up({}))).toBe('upgrade 3.5.26 → 3.6.5 (cluster version 3.5): a snapshot first, then one member at a time, followers first, the leader last');
  });

  it('a downgrade asked for is still refused while a member is down, and a major version down is no one-minor downgrade', () => {
    const down = up({ downgrade: true, members: [...members('3.6.5', '3.6.5'), { name: 'c2', healthy: false }], clusterVersion: '3.6.0', release: '3.5.26', inventory: '3.5.26' });
    expect(down).toMatchObject({ kind: 'downgrade', refused: ['the cluster version is 3.6 and the release is 3.5.26: a downgrade', 'every member must be healthy before a version change, and c2 is not'] });
    expect(preflightText(down)).toMatch(/^refused before anything moves: the cluster version is 3\.6 and the release is 3\.5\.26: a downgrade; every member .*\. from 3\.6 on etcd downgrades one minor at a time/);
    const major = up({ downgrade: true, members: members('4.0.0'), clusterVersion: '4.0.0', release: '3.9.0', inventory: '3.9.0' });
    expect(major.kind).toBe('downgrade');
    const fromSeven = up({ downgrade: true, members: members('3.7.1'), clusterVersion: '3.7.0', release: '3.6.11', inventory: '3.6.11' });
    expect(fromSeven).toMatchObject({ kind: 'upgrade', downgrade: '3.6', from: '3.7.1', to: '3.6.11' });
  });

  it('mixed versions: the newest first, then the others; the cluster version is said to follow only while it is behind a minor', () => {
    const ms = [...members('3.4.23', '3.5.16'), { name: 'c2', version: '3.4.22', healthy: true }, { name: 'c3', version: '3.4.23', healthy: true }];
    expect(mixedVersions(ms, '3.4.0')).toBe('1 of 4 members on 3.5.16, 2 on 3.4.23, 1 on 3.4.22; cluster version 3.4 until all run 3.5');
    expect(mixedVersions(members('3.5.16', '3.5.17'), '3.5.0')).toBe('1 of 2 members on 3.5.17, 1 on 3.5.16; cluster version 3.5');
    expect(mixedVersions(members('3.5.16', '3.5.17'))).toBe('1 of 2 members on 3.5.17, 1 on 3.5.16');
    // Members that did not answer are counted as members, not as a version.
    expect(mixedVersions([...members('3.5.16', '3.5.17'), { name: 'c9', healthy: false }])).toBe('1 of 3 members on 3.5.17, 1 on 3.5.16');
  });

  it('version parts of two digits or more are read whole', () => {
    expect(parseVersion('3.10.2')).toEqual([3, 10, 2]);
    expect(parseVersion('v10.2.1')).toEqual([10, 2, 1]);
  });

  it('a patch release of the same minor needs no patch floor, and a release no member is below gets no older-patch note', () => {
    expect(up({ members: members('3.5.16', '3.5.16'), release: '3.5.26', inventory: '3.5.26' })).toEqual({ kind: 'upgrade', from: '3.5.16', to: '3.5.26', clusterVersion: '3.5', notes: [] });
    expect(up({ members: members('3.5.16', '3.5.17'), release: '3.5.16', inventory: '3.5.16' })).toMatchObject({ kind: 'upgrade', notes: [] });
  });

  it("only the 3.4 → 3.5 step carries the guide's auth note; a minor without a floor otherwise gets none", () => {
    expect(up({ members: members('3.3.27', '3.3.27'), clusterVersion: '3.3.0', release: '3.4.23', inventory: '3.4.23' })).toMatchObject({ kind: 'upgrade', notes: [] });
  });

  it('a downgrade comes from the highest version any member runs', () => {
    expect(up({ members: members('3.6.5', '3.6.9', '3.6.7'), clusterVersion: '3.6.0', release: '3.5.26', inventory: '3.5.26' })).toMatchObject({ kind: 'downgrade', from: '3.6.9' });
  });

  it('every reason to refuse is said, one after the other; every member below the floor is named', () => {
    const p = up({ flags: ['enable-v2'], members: [...members('3.5.16', '3.5.20'), { name: 'c2', healthy: false }] });
    expect(preflightText(p)).toBe(
      `refused before anything moves: every member must be healthy before a version change, and c2 is not; --enable-v2 was removed in etcd 3.6: nothing: remove it (the v2 store is gone; check it holds no data of yours with 'etcdutl check v2store'); before 3.6 every member must run 3.5.26 or later (${PATCH_FLOORS[0]!.source}); c0 runs 3.5.16, c1 runs 3.5.20: upgrade to the latest 3.5 patch release first`,
    );
  });

  it('a removed flag is that flag only, named with its replacement', () => {
    expect(removedFlags(['debug-level', 'logger', 'log-output'], [3, 5, 0])).toEqual(['--log-output was removed in etcd 3.5: --log-outputs']);
    expect(removedFlags(['experimental-watch-progress-notify-interval'], [3, 7, 0])).toEqual([
      '--experimental-watch-progress-notify-interval was removed in etcd 3.7: --watch-progress-notify-interval (3.6 accepts both names: rename it before the upgrade)',
    ]);
  });
});
