import { describe, expect, it } from 'vitest';

// The preflight's fixed tables (the patch floors, the removed flags) are built when the module loads: it is imported
// inside the tests, not at the top of this file, so that a mutation tool knows which test reads them (the first one
// to load it: the others get the module already loaded).
const load = () => import('../../src/upgrade/preflight.js');
const loadVersions = () => import('../../src/etcd/versions.js');
const members = (...versions: string[]) => versions.map((version, i) => ({ name: `c${i}`, version, healthy: true }));

describe("the preflight's tables", () => {
  // Each flag, the release that removed it, and what the user is told to do instead.
  const removed: [string, string, string][] = [
    ['debug', '3.5', '--log-level=debug'],
    ['log-package-levels', '3.5', '--log-level'],
    ['log-output', '3.5', '--log-outputs'],
    ['enable-v2', '3.6', "nothing: remove it (the v2 store is gone; check it holds no data of yours with 'etcdutl check v2store')"],
    ['experimental-enable-v2v3', '3.6', 'nothing: remove it (the v2 API is gone)'],
  ];
  // The minor a floor guards, a release of the next minor, the floor, and the guide that sets it.
  const floors: [cluster: string, release: string, floor: string, guide: string][] = [
    ['3.5', '3.6.5', '3.5.26', 'https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/'],
    ['3.6', '3.7.0', '3.6.11', 'https://etcd.io/docs/v3.7/upgrades/upgrade_3_7/'],
  ];

  it('removed flags refused from the release that removed them, with their replacement; a patch floor per minor, with its guide', async () => {
    const { removedFlags, preflight, preflightText, PATCH_FLOORS } = await load();
    for (const [flag, removedIn, replacement] of removed) {
      const [major, minor] = removedIn.split('.').map(Number) as [number, number];
      expect(removedFlags([flag], [major, minor - 1, 99]), flag).toEqual([]);
      expect(removedFlags([flag], [major, minor, 0]), flag).toEqual([`--${flag} was removed in etcd ${removedIn}: ${replacement}`]);
    }

    // 3.7 drops the experimental- prefix of every flag that had one: the new name is the rest of the flag's name.
    const renamed = (rest: string) => `--experimental-${rest} was removed in etcd 3.7: --${rest} (3.6 accepts both names: rename it before the upgrade)`;
    for (const rest of ['x', 'initial-corrupt-check', 'compact-hash-check-enabled']) {
      expect(removedFlags([`experimental-${rest}`], [3, 6, 11])).toEqual([]);
      expect(removedFlags([`experimental-${rest}`], [3, 7, 0])).toEqual([renamed(rest)]);
    }
    // The prefix only: a flag with "experimental-" inside its name, or with nothing after it, is another flag.
    expect(removedFlags(['no-experimental-x', 'experimental-'], [3, 7, 0])).toEqual([]);

    // A member one patch below the floor stops the next minor, naming the floor and the guide; on the floor it goes.
    expect(PATCH_FLOORS.map((f) => [f.from, f.floor])).toEqual(floors.map(([cluster, , floor]) => [cluster, floor]));
    for (const [cluster, release, floor, guide] of floors) {
      const [major, minor, patch] = floor.split('.').map(Number) as [number, number, number];
      const below = `${major}.${minor}.${patch - 1}`;
      const input = { flags: [], clusterVersion: `${cluster}.0`, release, inventory: release };
      const refused = preflight({ ...input, members: members(floor, below) });
      expect(refused.kind).toBe('refused');
      expect(preflightText(refused)).toContain(`before ${release.split('.').slice(0, 2).join('.')} every member must run ${floor} or later (${guide}`);
      expect(preflightText(refused)).toContain(`c1 runs ${below}: upgrade to the latest ${cluster} patch release first`);
      expect(preflight({ ...input, members: members(floor, floor) })).toMatchObject({ kind: 'upgrade', from: floor, to: release, clusterVersion: cluster });
    }
  });
});

describe('the preflight at its less travelled edges', () => {
  it('no member reported its version: refused as such, even with a cluster version known', async () => {
    const { preflight } = await load();
    const silent = [{ name: 'c0', healthy: true }, { name: 'c1', healthy: false }];
    for (const clusterVersion of ['3.5.0', undefined]) {
      expect(preflight({ members: silent, clusterVersion, release: '3.5.26', inventory: '3.5.26', flags: [] })).toEqual({
        kind: 'refused',
        refused: ['no member reported its version: the cluster must be healthy before a version change'],
      });
    }
  });

  it('the cluster version is said to follow only when the newest member is a minor ahead of it', async () => {
    const { mixedVersions } = await loadVersions();
    // A cluster version ahead of every member (as a member reports it while the others are still being asked).
    expect(mixedVersions(members('3.4.23', '3.4.22'), '3.5.0')).toBe('1 of 2 members on 3.4.23, 1 on 3.4.22; cluster version 3.5');
    expect(mixedVersions(members('3.5.16', '3.4.22'), '3.4.0')).toBe('1 of 2 members on 3.5.16, 1 on 3.4.22; cluster version 3.4 until all run 3.5');
  });

  it('two notes are said one after the other: an older patch onto members done upgrading while the cluster version still lags', async () => {
    const { preflight, preflightText } = await load();
    const p = preflight({ members: members('3.5.16', '3.5.16'), clusterVersion: '3.4.0', release: '3.5.10', inventory: '3.5.10', flags: [] });
    expect(p).toMatchObject({ kind: 'upgrade', from: '3.5.16', to: '3.5.10', clusterVersion: '3.4' });
    const notes = p.kind === 'upgrade' ? p.notes : [];
    expect(notes).toHaveLength(2);
    expect(preflightText(p).endsWith(`the leader last; ${notes[0]}; ${notes[1]}`)).toBe(true);
  });

  it('a release of a newer major is no downgrade, and a downgrade across a major is no one-minor downgrade', async () => {
    const { preflight, preflightText } = await load();
    const base = { flags: [], members: members('3.6.11', '3.6.11'), clusterVersion: '3.6.0' };
    expect(preflight({ ...base, release: '4.0.0', inventory: '4.0.0' }).kind).not.toBe('downgrade');
    const across = preflight({ members: members('4.6.0'), clusterVersion: '4.6.0', release: '3.5.0', inventory: '3.5.0', flags: [], downgrade: true });
    expect(across.kind).toBe('downgrade');
    expect(preflightText(across)).not.toContain("runs 'etcdctl downgrade validate");
  });

  it('a downgrade over members on different patches says they differ, as an upgrade does', async () => {
    const { preflight } = await load();
    const p = preflight({ members: members('3.6.5', '3.6.4', '3.6.5'), clusterVersion: '3.6.0', release: '3.5.26', inventory: '3.5.26', flags: [], downgrade: true });
    expect(p).toMatchObject({ kind: 'upgrade', downgrade: '3.5', mixed: '2 of 3 members on 3.6.5, 1 on 3.6.4; cluster version 3.6' });
  });

  it('two spellings of one version are listed apart, the one more members report first', async () => {
    const { mixedVersions } = await loadVersions();
    expect(mixedVersions(members('3.5', '3.5.0', '3.5.0'))).toBe('2 of 3 members on 3.5.0, 1 on 3.5');
    expect(mixedVersions(members('3.5', '3.5', '3.5.0'))).toBe('2 of 3 members on 3.5, 1 on 3.5.0');
  });
});
