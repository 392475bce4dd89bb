/**
 * The cluster version as a member's `/version` says it (upgrade/facts.ts parseClusterVersion): the minor every member
 * runs, named as etcd's `etcd_cluster_version` metric names it ("3.4"), for the preflight, `verify` and the wait
 * after a rolling upgrade.
 */
import { describe, expect, it } from 'vitest';
import { parseClusterVersion } from '../../src/upgrade/facts.js';

describe('parseClusterVersion', () => {
  it('is the minor of etcdcluster, from what 3.4 and 3.5 members answer', () => {
    expect(parseClusterVersion('{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}')).toBe('3.4');
    expect(parseClusterVersion('{"etcdserver":"3.5.16","etcdcluster":"3.5.0"}\n')).toBe('3.5');
    // The server's own version never stands in for the cluster's: mid-upgrade they differ.
    expect(parseClusterVersion('{"etcdserver":"3.5.16","etcdcluster":"3.4.0"}')).toBe('3.4');
  });

  it('is unknown before the cluster decided one, and for anything that is not that answer', () => {
    expect(parseClusterVersion('{"etcdserver":"3.4.23","etcdcluster":"not_decided"}')).toBeUndefined();
    expect(parseClusterVersion('{"etcdserver":"3.4.23"}')).toBeUndefined();
    expect(parseClusterVersion('etcd_cluster_version{cluster_version="3.4"} 1')).toBeUndefined();
    expect(parseClusterVersion('')).toBeUndefined();
  });
});
