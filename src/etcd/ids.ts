import { createHash } from 'node:crypto';

/**
 * etcd's member and cluster IDs, computed as etcd does at bootstrap (membership.NewMember with now=nil and
 * RaftCluster.genID), and read back from a data dir's WAL. This lets `up` tell, without starting anything,
 * whether a data dir belongs to this cluster's member or to something else.
 */

function sha1First8(b: Buffer): bigint {
  return createHash('sha1').update(b).digest().readBigUInt64BE(0);
}

/** A bootstrap member's ID: SHA-1 of its sorted peer URLs joined, then the cluster token. */
export function computeMemberId(peerUrls: string[], clusterToken: string): bigint {
  return sha1First8(Buffer.from([...peerUrls].sort().join('') + clusterToken));
}

/** The cluster ID: SHA-1 of the sorted member IDs, each 8 bytes big-endian. */
export function computeClusterId(memberIds: bigint[]): bigint {
  // Stryker disable next-line EqualityOperator,ConditionalExpression: V8 sorts arrays under 64 elements by binary insertion, which only asks whether compare(a, b) < 0; member IDs are distinct, so only the `a < b` test can change the order
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const b = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => b.writeBigUInt64BE(id, 8 * i));
  return sha1First8(b);
}

export const hexId = (id: bigint): string => id.toString(16);

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    // Stryker disable next-line StringLiteral: caught by parseWalMetadata, never shown
    if (pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return [result, pos];
    shift += 7n;
  }
}

/** Protobuf fields of one message: varints as bigint, length-delimited as Buffer. */
function protoFields(buf: Buffer): Map<number, bigint | Buffer> {
  const fields = new Map<number, bigint | Buffer>();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, p1);
      fields.set(field, v);
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, p1);
      fields.set(field, buf.subarray(p2, p2 + Number(len)));
      pos = p2 + Number(len);
    } else if (wire === 5) {
      pos = p1 + 4;
    } else if (wire === 1) {
      pos = p1 + 8;
    } else {
      // Stryker disable next-line StringLiteral: caught by parseWalMetadata, never shown
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return fields;
}

const WAL_METADATA_TYPE = 1n;

/**
 * The member and cluster IDs recorded in a WAL file's metadata record (the first records of the first WAL
 * file). Frames are an 8-byte little-endian length (top byte: padding flag and size) then a walpb.Record
 * {type=1, crc=2, data=3}; the metadata record's data is etcdserverpb.Metadata {NodeID=1, ClusterID=2}.
 */
export function parseWalMetadata(head: Buffer): { memberId: bigint; clusterId: bigint } | undefined {
  try {
    return walMetadata(head);
  } catch {
    // Not protobuf etcd writes (a torn write, another file): unreadable, as the callers expect, not an exception.
    return undefined;
  }
}

function walMetadata(head: Buffer): { memberId: bigint; clusterId: bigint } | undefined {
  let pos = 0;
  for (let i = 0; i < 8 && pos + 8 <= head.length; i++) {
    const word = head.readBigUInt64LE(pos);
    const len = Number(word & 0x00ffffffffffffffn);
    const lenField = Number(word >> 56n);
    const pad = lenField & 0x80 ? lenField & 0x7 : 0;
    const start = pos + 8;
    if (start + len > head.length) return undefined;
    const rec = protoFields(head.subarray(start, start + len));
    if (rec.get(1) === WAL_METADATA_TYPE) {
      const data = rec.get(3);
      if (!Buffer.isBuffer(data)) return undefined;
      const meta = protoFields(data);
      const memberId = meta.get(1);
      const clusterId = meta.get(2);
      if (typeof memberId === 'bigint' && typeof clusterId === 'bigint') return { memberId, clusterId };
      return undefined;
    }
    pos = start + len + pad;
  }
  return undefined;
}
