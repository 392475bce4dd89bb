import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeClusterId, computeMemberId, hexId, parseWalMetadata } from '../../src/etcd/ids.js';

// etcd's own definitions (server/etcdserver/api/membership): a bootstrap member's ID is the first 8 bytes, big-endian,
// of SHA-1(sorted peer URLs concatenated + cluster token); the cluster ID is that of SHA-1(sorted member IDs, each
// 8 bytes big-endian). Written out here from that definition, independently of the module.
const sha1Head = (b: Buffer) => createHash('sha1').update(b).digest().readBigUInt64BE(0);
const be64 = (ids: bigint[]) => Buffer.concat(ids.map((id) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(id); return b; }));

describe('bootstrap IDs as etcd computes them', () => {
  it('a member with several peer URLs: sorted, concatenated with nothing between them, then the token', () => {
    const urls = ['https://10.0.0.2:2380', 'https://10.0.0.1:2380'];
    const want = sha1Head(Buffer.from('https://10.0.0.1:2380https://10.0.0.2:2380tok'));
    expect(computeMemberId(urls, 'tok')).toBe(want);
    expect(computeMemberId([...urls].reverse(), 'tok')).toBe(want);
    // The caller's array is left as it was.
    expect(urls).toEqual(['https://10.0.0.2:2380', 'https://10.0.0.1:2380']);
  });

  it('the cluster ID takes the member IDs in numeric order, whatever order they are given in', () => {
    // 9 < 10 as numbers but '10' < '9' as text: the order is the numbers'.
    const ids = [10n, 9n, 0xffffffffffffffffn, 0x8000000000000000n];
    const want = sha1Head(be64([9n, 10n, 0x8000000000000000n, 0xffffffffffffffffn]));
    expect(computeClusterId(ids)).toBe(want);
    expect(computeClusterId([...ids].reverse())).toBe(want);
    expect(computeClusterId([ids[2]!, ids[0]!, ids[3]!, ids[1]!])).toBe(want);
  });

  it('an ID is written as etcdctl prints it (Go %x): lower-case hex without leading zeros', () => {
    // plan.ts compares it with the cluster ID `etcdctl member list` reports, text for text.
    expect(hexId(0x8e9e05c52164694dn)).toBe('8e9e05c52164694d');
    expect(hexId(0x00000000000abcden)).toBe('abcde');
  });
});

// A WAL file is frames: an 8-byte little-endian word (low 56 bits: the record's length; top byte: 0x80 | padding
// when the record is padded to 8 bytes) then a walpb.Record {type=1 varint, crc=2 varint, data=3 bytes}; the
// metadata record (type 1) holds etcdserverpb.Metadata {NodeID=1, ClusterID=2}. An encoder for that format:
const varint = (n: bigint): Buffer => {
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
};
const vField = (field: number, v: bigint) => Buffer.concat([varint(BigInt(field << 3)), varint(v)]);
const bField = (field: number, b: Buffer) => Buffer.concat([varint(BigInt((field << 3) | 2)), varint(BigInt(b.length)), b]);
const fixed = (field: number, wire: 1 | 5) => Buffer.concat([varint(BigInt((field << 3) | wire)), Buffer.alloc(wire === 1 ? 8 : 4, 0xee)]);
const frame = (rec: Buffer): Buffer => {
  const pad = (8 - (rec.length % 8)) % 8;
  const word = Buffer.alloc(8);
  word.writeBigUInt64LE(BigInt(rec.length) | (pad ? BigInt(0x80 | pad) << 56n : 0n));
  return Buffer.concat([word, rec, Buffer.alloc(pad)]);
};
const record = (type: bigint, data?: Buffer) => Buffer.concat([vField(1, type), vField(2, 0x1234n), ...(data ? [bField(3, data)] : [])]);
const metadata = (member: bigint, cluster: bigint) => Buffer.concat([vField(1, member), vField(2, cluster)]);
const CRC_TYPE = 4n;

describe('member and cluster IDs read from the head of a WAL file', () => {
  it('IDs written in etcd\'s frame format by the encoder are read back as from the real 3.4.23 head', () => {
    const head = Buffer.from(readFileSync(new URL('../fixtures/wal-head-3.4.23.b64', import.meta.url), 'utf8'), 'base64');
    const got = parseWalMetadata(head)!;
    const ours = Buffer.concat([frame(record(CRC_TYPE)), frame(record(1n, metadata(got.memberId, got.clusterId)))]);
    expect(parseWalMetadata(ours)).toEqual(got);
  });

  it('finds the metadata record after other records, padded or not', () => {
    const meta = frame(record(1n, metadata(0xabcn, 0xdefn)));
    const head = Buffer.concat([frame(record(CRC_TYPE)), frame(record(CRC_TYPE, Buffer.from('x'))), meta]);
    expect(parseWalMetadata(head)).toEqual({ memberId: 0xabcn, clusterId: 0xdefn });
  });

  it('a head cut right after the metadata record is enough; cut inside it, nothing is read (no partial ID)', () => {
    const rec = record(1n, metadata(0xffffffffffffffffn, 0x7n));
    expect(rec.length % 8).not.toBe(0);
    const head = Buffer.concat([frame(record(CRC_TYPE)), frame(rec)]);
    const end = head.length - ((8 - (rec.length % 8)) % 8);
    expect(parseWalMetadata(head.subarray(0, end))).toEqual({ memberId: 0xffffffffffffffffn, clusterId: 0x7n });
    for (const cut of [end - 1, end - 5, end - rec.length + 2]) expect(parseWalMetadata(head.subarray(0, cut)), `cut at ${cut}`).toBeUndefined();
  });

  it('skips fields of every protobuf wire type it does not need (fixed 32 and 64 bits, bytes)', () => {
    const rec = Buffer.concat([fixed(9, 5), fixed(10, 1), bField(11, Buffer.from('ignored')), record(1n, Buffer.concat([fixed(7, 1), metadata(5n, 6n), fixed(8, 5)]))]);
    expect(parseWalMetadata(frame(rec))).toEqual({ memberId: 5n, clusterId: 6n });
  });

  it('a metadata record without data, or without both IDs, gives no IDs', () => {
    expect(parseWalMetadata(frame(record(1n)))).toBeUndefined();
    expect(parseWalMetadata(frame(record(1n, vField(1, 5n))))).toBeUndefined();
    expect(parseWalMetadata(frame(record(1n, vField(2, 6n))))).toBeUndefined();
  });

  it('bytes that are not a WAL (a torn write, another file) are unreadable, not an error', () => {
    // A truncated varint, a group (wire type 3) and an end-group (4): no protobuf etcd writes.
    const torn = Buffer.concat([vField(1, 1n), Buffer.from([0x10, 0xff])]);
    for (const rec of [torn, Buffer.from([0x0b, 0x00]), Buffer.from([0x0c])]) {
      expect(() => parseWalMetadata(frame(rec)), rec.toString('hex')).not.toThrow();
      expect(parseWalMetadata(frame(rec)), rec.toString('hex')).toBeUndefined();
    }
    expect(parseWalMetadata(frame(record(1n, Buffer.from([0x08, 0x80]))))).toBeUndefined();
  });

  it('a metadata record whose cluster ID is cut short gives no IDs, not the bytes read so far as an ID', () => {
    // NodeID whole, ClusterID's varint announces more bytes (0x80 set) that are not there.
    const cut = Buffer.concat([vField(1, 5n), Buffer.from([0x10, 0xff, 0xff])]);
    expect(parseWalMetadata(frame(record(1n, cut)))).toBeUndefined();
  });

  it('a field of a wire type etcd never writes (a group) makes the metadata unreadable, even after both IDs', () => {
    // Field 3, wire type 3 (start group), then 8 bytes: not skipped as if it were a fixed64.
    const meta = Buffer.concat([metadata(5n, 6n), Buffer.from([0x1b]), Buffer.alloc(8, 0x01)]);
    expect(parseWalMetadata(frame(record(1n, meta)))).toBeUndefined();
  });

  it('a record cut short is not read, even when the cut falls after the IDs (the frame says more bytes follow)', () => {
    // A bytes field after the data: a torn write that stops inside it leaves the IDs whole.
    const rec = Buffer.concat([vField(1, 1n), bField(3, metadata(5n, 6n)), bField(4, Buffer.alloc(6, 0x01))]);
    const whole = frame(rec);
    expect(parseWalMetadata(whole)).toEqual({ memberId: 5n, clusterId: 6n });
    expect(parseWalMetadata(whole.subarray(0, 8 + rec.length - 2))).toBeUndefined();
  });

  it('the metadata record is looked for among the first 8 records only (where etcd writes it), not further', () => {
    const meta = frame(record(1n, metadata(5n, 6n)));
    const others = (n: number) => Array.from({ length: n }, () => frame(record(CRC_TYPE)));
    expect(parseWalMetadata(Buffer.concat([...others(7), meta]))).toEqual({ memberId: 5n, clusterId: 6n });
    expect(parseWalMetadata(Buffer.concat([...others(8), meta]))).toBeUndefined();
  });
});
