import { describe, expect, it } from 'vitest';

// hexId is a constant the module defines when it loads: imported inside the test (not at the top of the file) so that
// a mutation tool knows this test is the one that reads it.
describe('member and cluster IDs in hex', () => {
  it('as etcdctl prints them: lowercase, without leading zeros, all 64 bits', async () => {
    const { hexId } = await import('../../src/etcd/ids.js');
    expect(hexId(0x8e9e05c52164694dn)).toBe('8e9e05c52164694d');
    expect(hexId(1n)).toBe('1');
    expect(hexId(0x00000000000abcden)).toBe('abcde');
    expect(hexId(0xFFFFFFFFFFFFFFFFn)).toBe('ffffffffffffffff');
  });
});
