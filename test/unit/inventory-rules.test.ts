import { describe, expect, it } from 'vitest';
import { validateInventory } from '../../src/inventory/validate.js';

// Inventory rules whose messages no other test read: each inventory is written and validated inside its test.
const nodes = 'nodes:\n  - name: n0\n    address: 127.0.0.1\n';
const messages = (yaml: string) => validateInventory(yaml, { file: '/inv/inventory.yaml' }).errors.map((e) => e.message);

describe('the etcd release in the inventory', () => {
  it('a url needs its sha256; a map per architecture names one at least, and every url of it has its sum', () => {
    const sum = 'a'.repeat(64);
    expect(messages(`etcd:\n  url: https://example.org/etcd.tar.gz\n${nodes}`)).toContain('etcd.url needs etcd.sha256 so the download can be verified');
    expect(messages(`etcd:\n  tarball: {}\n${nodes}`)).toContain('etcd.tarball: the map names no architecture (amd64, arm64, ppc64le, s390x)');
    const perArch = (archs: string[], sums: string[]) =>
      `etcd:\n  url:\n${archs.map((a) => `    ${a}: https://example.org/etcd-${a}.tar.gz\n`).join('')}  sha256:\n${sums.map((a) => `    ${a}: ${sum}\n`).join('')}${nodes}`;
    expect(messages(perArch(['amd64', 'arm64', 's390x'], ['amd64']))).toContain('etcd.sha256 has no sum for arm64, s390x (etcd.url downloads it)');
    expect(messages(perArch(['amd64', 'arm64'], ['amd64', 'arm64']))).toEqual([]);
  });
});

describe('what the file says wrongly', () => {
  it('each unknown key is named, quoted; a YAML syntax error is said as such', () => {
    expect(messages(`colour: red\nsize: 3\n${nodes}`)).toEqual(['colour', 'size'].map((k) => `unknown key '${k}' (check the spelling; see inventory.example.yaml)`));
    expect(messages(`nodes: [\n`)[0]).toMatch(/^YAML: \S/);
  });
});
