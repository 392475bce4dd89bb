import { describe, expect, it } from 'vitest';
import { mixedVersions, preflight, preflightText, removedFlags, type MemberVersion } from '../../src/upgrade/preflight.js';

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
