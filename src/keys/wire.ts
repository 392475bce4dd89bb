import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { hexPreview, printableText } from './bytes.js';

/**
 * Schema-less protobuf reading on top of @bufbuild/protobuf's BinaryReader: a message becomes a list of fields, and
 * a message cut short or not well formed becomes the fields read so far plus where and why reading stopped, never a
 * throw. Offsets are absolute (from the start of the etcd value), so that notes point into `-o hex`.
 */

export type WireTypeName = 'varint' | 'i64' | 'len' | 'group' | 'i32';

const WIRE_NAMES: Record<number, WireTypeName> = {
  [WireType.Varint]: 'varint',
  [WireType.Bit64]: 'i64',
  [WireType.LengthDelimited]: 'len',
  [WireType.StartGroup]: 'group',
  [WireType.Bit32]: 'i32',
};

export interface RawField {
  no: number;
  wireType: WireTypeName;
  /** Offset of the field's tag. */
  at: number;
  /** Offset of the field's payload (after tag and, for len, the length). */
  valueAt: number;
  /** Offset just past the field (or where the data ends, for a partial one). */
  end: number;
  /** varint, i32 and i64 as unsigned decimal. */
  number?: string;
  /** len (and group) payload; for a partial field only the bytes present. */
  bytes?: Uint8Array;
  /** A len field's declared length, which a partial field does not have in full. */
  declared?: number;
  partial?: boolean;
}

export interface ScanStop {
  reason: 'truncated' | 'malformed';
  /** truncated: where the data ends; malformed: where the bad field starts. */
  at: number;
  detail: string;
  /** Names of the messages the stop is inside, outermost first. */
  path: string[];
}

export interface Scan {
  fields: RawField[];
  stop?: ScanStop;
}

/**
 * Read every field of one message. `atEnd`: these bytes run to the end of the value (the top level, or a field that
 * was itself cut), so reading past them means the value was cut short; elsewhere it means a malformed message.
 */
export function scanMessage(bytes: Uint8Array, base = 0, atEnd = false): Scan {
  const r = new BinaryReader(bytes);
  const fields: RawField[] = [];
  const stop = (reason: ScanStop['reason'], at: number, detail: string): Scan => ({ fields, stop: { reason, at, detail, path: [] } });
  while (r.pos < r.len) {
    const at = r.pos;
    try {
      const field = readField(r, bytes, base, at);
      fields.push(field);
      if (field.partial) {
        const detail = `field ${field.no} declares ${field.declared} bytes, ${field.bytes?.length ?? 0} present`;
        return atEnd ? stop('truncated', base + bytes.length, detail) : stop('malformed', base + at, detail);
      }
    } catch (e) {
      // BinaryReader throws a RangeError when a read runs past the end.
      if (atEnd && e instanceof RangeError) return stop('truncated', base + bytes.length, `field at byte ${base + at} is cut`);
      return stop('malformed', base + at, (e as Error).message);
    }
  }
  return { fields };
}

function readField(r: BinaryReader, bytes: Uint8Array, base: number, at: number): RawField {
  const [no, wt] = r.tag();
  const wireType = WIRE_NAMES[wt];
  if (!wireType) throw new Error(`unexpected end-group tag for field ${no}`);
  const field: RawField = { no, wireType, at: base + at, valueAt: base + r.pos, end: 0 };
  if (wt === WireType.LengthDelimited) {
    const declared = r.uint32();
    const start = r.pos;
    field.valueAt = base + start;
    field.declared = declared;
    // Read the length with the library but cut the payload ourselves: a cut value keeps the bytes it has.
    if (start + declared > r.len) {
      field.bytes = bytes.subarray(start);
      field.partial = true;
      r.pos = r.len;
    } else {
      r.pos = start + declared;
      field.bytes = bytes.subarray(start, r.pos);
    }
  } else if (wt === WireType.Varint) {
    field.number = String(r.uint64());
  } else if (wt === WireType.Bit32) {
    field.number = String(r.fixed32());
  } else if (wt === WireType.Bit64) {
    field.number = String(r.fixed64());
  } else {
    field.bytes = r.skip(wt, no);
  }
  field.end = base + r.pos;
  return field;
}

/** One field of a message without its schema: number, wire type, size, and what it holds when that can be told. */
export interface FieldSummary {
  field: number;
  wireType: WireTypeName;
  offset: number;
  /** Bytes of the payload (present, for a partial field). */
  size: number;
  /** A varint or fixed number (unsigned decimal), or a len payload that is printable text. */
  value?: string;
  /** A len payload that reads as a message: how many fields, and those fields while depth allows. */
  fieldCount?: number;
  fields?: FieldSummary[];
  /** The first bytes of a len payload that is neither text nor a message. */
  hex?: string;
  partial?: true;
}

export function summarizeFields(fields: RawField[], depth = 1): FieldSummary[] {
  return fields.map((f) => {
    const s: FieldSummary = { field: f.no, wireType: f.wireType, offset: f.at, size: f.bytes?.length ?? f.end - f.valueAt };
    if (f.partial) s.partial = true;
    if (f.number !== undefined) s.value = f.number;
    else if (f.wireType === 'len' && f.bytes) Object.assign(s, describeLen(f, f.bytes, depth));
    return s;
  });
}

function describeLen(f: RawField, b: Uint8Array, depth: number): Partial<FieldSummary> {
  const text = printableText(b);
  const inner = scanMessage(b, f.valueAt, !!f.partial);
  const isMessage = inner.fields.length > 0 && (!inner.stop || inner.stop.reason === 'truncated');
  // A message whose first field is a string (tag 0x0a, a newline) can look printable: the parse decides.
  if (text !== undefined && !(isMessage && b[0] === 0x0a)) return { value: text };
  if (isMessage) return { fieldCount: inner.fields.length, ...(depth > 0 ? { fields: summarizeFields(inner.fields, depth - 1) } : {}) };
  return { hex: hexPreview(b) };
}
