import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { nextPageSize, objectName, PAGE, pageRequest, parseRevision, prefixRangeEnd, resourceName, resourceOf } from '../../src/keys/keyspace.js';

describe('resourceOf: the resource type of a key as kube-apiserver lays them out', () => {
  it.each([
    ['/registry/pods/default/www', { resource: 'pods', rest: 'default/www' }],
    ['/registry/namespaces/kube-system', { resource: 'namespaces', rest: 'kube-system' }],
    ['/registry/deployments/default/web', { resource: 'deployments', rest: 'default/web' }],
    ['/registry/cert-manager.io/certificates/default/tls', { resource: 'certificates', group: 'cert-manager.io', rest: 'default/tls' }],
    ['/registry/apiregistration.k8s.io/apiservices/v1.apps', { resource: 'apiservices', group: 'apiregistration.k8s.io', rest: 'v1.apps' }],
    ['/registry/services/specs/default/kubernetes', { resource: 'services/specs', rest: 'default/kubernetes' }],
    ['/registry/services/endpoints/default/kubernetes', { resource: 'services/endpoints', rest: 'default/kubernetes' }],
    ['/registry/ranges/serviceips', { resource: 'ranges', rest: 'serviceips' }],
  ])('%s', (key, want) => {
    expect(resourceOf(key)).toEqual(want);
  });

  it('names a key outside /registry/ by its first path segment', () => {
    expect(resourceOf('/a/b/c')).toEqual({ resource: '/a', rest: 'b/c', outside: true });
    expect(resourceOf('plain')).toEqual({ resource: 'plain', rest: '', outside: true });
    // A dotted first segment with nothing after it is a resource, not a group.
    expect(resourceOf('/registry/odd.name')).toEqual({ resource: 'odd.name', rest: '' });
  });

  it('names a resource of a group as kubectl does, and splits namespace and name', () => {
    expect(resourceName(resourceOf('/registry/cert-manager.io/certificates/default/tls'))).toBe('certificates.cert-manager.io');
    expect(resourceName(resourceOf('/registry/pods/default/www'))).toBe('pods');
    expect(objectName('/registry/secrets/kube-system/token')).toEqual({ namespace: 'kube-system', name: 'token' });
    expect(objectName('/registry/namespaces/default')).toEqual({ name: 'default' });
    expect(objectName('/registry/cert-manager.io/certificates/ns1/c1')).toEqual({ namespace: 'ns1', name: 'c1' });
  });
});

describe('prefixRangeEnd and pageRequest: reading a prefix in pages', () => {
  it('ends a prefix where etcd does, or gives up when the end cannot be an argument', () => {
    expect(prefixRangeEnd('/registry/')).toBe('/registry0');
    expect(prefixRangeEnd('/registry/pods')).toBe('/registry/podt');
    expect(prefixRangeEnd('')).toBeUndefined();
    // 0x7f + 1 is 0x80: not UTF-8 on its own.
    expect(prefixRangeEnd('/a\u007f')).toBeUndefined();
  });

  it('asks the first page from the prefix to its end, the next ones from the last key (dropped) at the first revision', () => {
    expect(pageRequest('/registry/', 1000)).toEqual({ get: { key: '/registry/', end: '/registry0', limit: 1000 }, dropFirst: false });
    expect(pageRequest('/registry/', 500, { after: '/registry/pods/a', rev: '42' })).toEqual({
      get: { key: '/registry/pods/a', end: '/registry0', limit: 501, rev: '42' },
      dropFirst: true,
    });
  });

  it('reads the whole keyspace, or a prefix without a usable end, --from-key', () => {
    expect(pageRequest('', 10).get).toEqual({ key: '', fromKey: true, limit: 10 });
    expect(pageRequest('', 10, { after: '/x' }).get).toEqual({ key: '/x', fromKey: true, limit: 11 });
    expect(pageRequest('/a\u007f', 10).get).toEqual({ key: '/a\u007f', fromKey: true, limit: 10 });
  });

  it('sizes pages to about 16 MB of values, changing at most by half or double, within bounds', () => {
    expect(nextPageSize(1000, 1000, 2_000_000)).toBe(2000); // 2 kB values: would want 8000, doubles
    expect(nextPageSize(1000, 1000, 1000 * 1024 * 1024)).toBe(500); // 1 MB values: would want 16, halves
    expect(nextPageSize(200, 200, 200 * 1024 * 1024)).toBe(PAGE.min);
    expect(nextPageSize(8000, 8000, 8000)).toBe(PAGE.max);
    expect(nextPageSize(1000, 1000, 16 * 1024 * 1024)).toBe(1000);
    expect(nextPageSize(700, 0, 0)).toBe(700);
  });
});

describe('parseRevision', () => {
  it('keeps a positive integer as its digits', () => {
    expect(parseRevision('REV', '42')).toBe('42');
    expect(parseRevision('REV', ' 9007199254740993 ')).toBe('9007199254740993');
  });

  it.each(['0', '-1', '1.5', 'abc', '', '1e3', '010', '9223372036854775808'])('refuses %j as a usage error', (v) => {
    expect(() => parseRevision('--rev', v)).toThrow(UsageError);
    expect(() => parseRevision('--rev', v)).toThrow(/--rev must be a positive integer/);
  });
});
