import { describe, expect, it } from 'vitest';

// The decoder's constants (the encryption prefix, the CBOR tag, its string helper) are built when the module loads:
// it is imported inside the test, not at the top of this file, so that a mutation tool knows this test reads them.
describe('what a value is, told by its first bytes', () => {
  it('k8s:enc: is encryption, the CBOR self-describe tag is CBOR, a JSON object gives its kind and name', async () => {
    const { decodeValue, detectFormat } = await import('../../src/keys/decode.js');
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(detectFormat(bytes('k8s:enc:aescbc:v1:key1:\x00\x01'))).toBe('encrypted');
    expect(detectFormat(bytes('k8s:encrypted'))).not.toBe('encrypted');
    expect(detectFormat(new Uint8Array([0xd9, 0xd9, 0xf7, 0xa1, 0x61, 0x61, 0x01]))).toBe('cbor');
    expect(detectFormat(new Uint8Array([0xd9, 0xd9, 0xf6, 0xa1]))).not.toBe('cbor');
    const pod = decodeValue(bytes('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default","uid":""}}'));
    expect([pod.format, pod.apiVersion, pod.kind, pod.metadata?.name, pod.metadata?.namespace, pod.metadata?.uid]).toEqual(['json', 'v1', 'Pod', 'web', 'default', undefined]);
  });
});
