import { describe, expect, it } from 'vitest';
import { renderStats } from '../../src/keys/render.js';
import { keyStats } from '../../src/keys/stats.js';

const keys = [
  { key: '/registry/pods/default/a', size: 1500 },
  { key: '/registry/pods/default/b', size: 4000 },
  { key: '/registry/pods/kube-system/c', size: 2500 },
  { key: '/registry/namespaces/default', size: 100 },
  { key: '/registry/cert-manager.io/certificates/default/tls', size: 900 },
  { key: '/registry/cert-manager.io/issuers/default/ca', size: 300 },
  { key: '/registry/events/default/a.17a', size: 700, lease: '694d87bb66288101' },
  { key: '/registry/events/default/b.17b', size: 800, lease: '694d87bb66288101' },
  { key: '/registry/events/default/c.17c', size: 650, lease: '694d87bb66288102' },
  // An event from before kube-apiserver set leases (or a copy) counts with the stored objects.
  { key: '/registry/events/default/old', size: 600 },
  { key: '/registry/masterleases/10.240.0.10', size: 60, lease: '694d87bb66288103' },
  { key: '/hardway-test/x', size: 5 },
];

describe('keyStats: per resource type, leased keys apart', () => {
  const s = keyStats(keys);

  it('counts, sums and finds the largest per resource, the API group for custom resources', () => {
    expect(s).toMatchObject({ count: 12, bytes: 12115, leasedCount: 4, leasedBytes: 2210 });
    const pods = s.groups.find((g) => g.resource === 'pods')!;
    expect(pods).toEqual({ resource: 'pods', leased: false, count: 3, bytes: 8000, largest: { key: '/registry/pods/default/b', size: 4000 } });
    expect(s.groups.find((g) => g.resource === 'certificates.cert-manager.io')).toMatchObject({ group: 'cert-manager.io', count: 1, bytes: 900 });
    expect(s.groups.find((g) => g.resource === 'issuers.cert-manager.io')).toMatchObject({ group: 'cert-manager.io', count: 1 });
    expect(s.groups.find((g) => g.resource === '/hardway-test')).toMatchObject({ outside: true, count: 1, bytes: 5 });
  });

  it('puts keys with a lease in groups of their own, with how many leases they share, after the others', () => {
    const events = s.groups.filter((g) => g.resource === 'events');
    expect(events).toEqual([
      { resource: 'events', leased: false, count: 1, bytes: 600, largest: { key: '/registry/events/default/old', size: 600 } },
      { resource: 'events', leased: true, count: 3, bytes: 2150, largest: { key: '/registry/events/default/b.17b', size: 800 }, leases: 2 },
    ]);
    const order = s.groups.map((g) => `${g.leased ? 'L' : '-'} ${g.resource}`);
    expect(order.slice(0, 2)).toEqual(['- pods', '- certificates.cert-manager.io']);
    expect(order.slice(-2)).toEqual(['L events', 'L masterleases']);
  });

  it('prints both tables, leased apart', () => {
    const text = renderStats(s, '321', '');
    expect(text).toMatch(/^12 keys, 12 kB of values, at revision 321$/m);
    expect(text).toMatch(/^pods {2,}3 {2,}8\.0 kB {2,}\/registry\/pods\/default\/b {2,}4\.0 kB$/m);
    expect(text).toMatch(/With a lease \(deleted when it expires: events, mostly\): 4 keys, 2\.2 kB/);
    expect(text).toMatch(/^events {2,}3 {2,}2 {2,}2\.1 kB /m);
  });

  it('is empty for no keys', () => {
    expect(keyStats([])).toEqual({ count: 0, bytes: 0, leasedCount: 0, leasedBytes: 0, groups: [] });
  });
});
