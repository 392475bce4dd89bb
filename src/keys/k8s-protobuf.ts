import { type FieldSummary, type RawField, type ScanStop, scanMessage, summarizeFields } from './wire.js';

/**
 * kube-apiserver's protobuf storage format: the magic `k8s\0`, then a runtime.Unknown (1 typeMeta {1 apiVersion,
 * 2 kind}, 2 raw, 3 contentEncoding, 4 contentType) whose raw is the object. Field 1 of every built-in object is its
 * ObjectMeta, so apiVersion, kind and metadata can be shown for any kind without its schema; the object's other
 * fields are listed by number and wire type.
 */

export const K8S_PROTOBUF_MAGIC = new Uint8Array([0x6b, 0x38, 0x73, 0x00]);

export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: OwnerReference[];
  finalizers: string[];
  /** ObjectMeta fields not decoded here (selfLink 4, deletionGracePeriodSeconds 10, managedFields 17, …). */
  otherFields?: FieldSummary[];
}

export interface ProtobufObject {
  apiVersion?: string;
  kind?: string;
  contentEncoding?: string;
  contentType?: string;
  metadata?: ObjectMeta;
  /** The object's fields other than metadata (spec, status, data, …), without their schema. */
  fields: FieldSummary[];
  /** Where reading stopped early: the deepest truncation, and every malformed message. */
  stops: ScanStop[];
}

const utf8 = new TextDecoder();
// A cut string is left out rather than shown as if it were the whole value.
const str = (f: RawField): string | undefined => (f.wireType === 'len' && f.bytes && !f.partial ? utf8.decode(f.bytes) : undefined);
const num = (f: RawField): string | undefined => (f.wireType === 'varint' ? f.number : undefined);

/** Scan a len field's payload as a message, recording where it stopped under `path`. */
function scanField(f: RawField, path: string[], stops: ScanStop[]): RawField[] {
  if (f.wireType !== 'len' || !f.bytes) return [];
  const scan = scanMessage(f.bytes, f.valueAt, !!f.partial);
  if (scan.stop) stops.push({ ...scan.stop, path });
  return scan.fields;
}

export function decodeK8sProtobuf(value: Uint8Array, summaryDepth = 1): ProtobufObject {
  const stops: ScanStop[] = [];
  const out: ProtobufObject = { fields: [], stops: [] };
  const body = value.subarray(K8S_PROTOBUF_MAGIC.length);
  const unknown = scanMessage(body, K8S_PROTOBUF_MAGIC.length, true);
  if (unknown.stop) stops.push({ ...unknown.stop, path: ['runtime.Unknown'] });
  for (const f of unknown.fields) {
    if (f.no === 1) {
      for (const t of scanField(f, ['typeMeta'], stops)) {
        if (t.no === 1) out.apiVersion = str(t);
        if (t.no === 2) out.kind = str(t);
      }
    } else if (f.no === 2) {
      readObject(scanField(f, ['object'], stops), out, stops, summaryDepth);
    } else if (f.no === 3 || f.no === 4) {
      const s = str(f);
      if (s) out[f.no === 3 ? 'contentEncoding' : 'contentType'] = s;
    }
  }
  // kube-apiserver always writes all four fields, contentType last even when empty: an envelope without it was cut.
  if (!stops.length && !unknown.fields.some((f) => f.no === 4)) {
    const detail = 'it ends before contentType (field 4), which kube-apiserver always writes last';
    stops.push({ reason: 'truncated', at: value.length, detail, path: ['runtime.Unknown'] });
  }
  out.stops = keepDeepestTruncation(stops);
  return out;
}

function readObject(fields: RawField[], out: ProtobufObject, stops: ScanStop[], depth: number): void {
  const rest: RawField[] = [];
  for (const f of fields) {
    if (f.no === 1 && f.wireType === 'len' && !out.metadata) {
      out.metadata = readObjectMeta(scanField(f, ['object', 'metadata'], stops), stops);
    } else {
      rest.push(f);
    }
  }
  out.fields = summarizeFields(rest, depth);
}

/** Every level a cut crosses reports it; the innermost says most. Malformed parts are all kept. */
function keepDeepestTruncation(stops: ScanStop[]): ScanStop[] {
  const cuts = stops.filter((s) => s.reason === 'truncated');
  const deepest = cuts.reduce<ScanStop | undefined>((a, s) => (!a || s.path.length >= a.path.length ? s : a), undefined);
  return [...stops.filter((s) => s.reason === 'malformed'), ...(deepest ? [deepest] : [])];
}

export function emptyMeta(): ObjectMeta {
  return { labels: {}, annotations: {}, ownerReferences: [], finalizers: [] };
}

const META_STRINGS: Record<number, 'name' | 'generateName' | 'namespace' | 'uid' | 'resourceVersion'> = {
  1: 'name',
  2: 'generateName',
  3: 'namespace',
  5: 'uid',
  6: 'resourceVersion',
};

function readObjectMeta(fields: RawField[], stops: ScanStop[]): ObjectMeta {
  const m = emptyMeta();
  const other: RawField[] = [];
  const path = (p: string) => ['object', 'metadata', p];
  for (const f of fields) {
    const key = META_STRINGS[f.no];
    if (key) {
      const s = str(f);
      if (s) m[key] = s;
    } else if (f.no === 7) {
      const n = num(f);
      // 0 is Go's zero value, which JSON leaves out.
      if (n !== undefined && n !== '0') m.generation = Number(BigInt.asIntN(64, BigInt(n)));
    } else if (f.no === 8 || f.no === 9) {
      const name = f.no === 8 ? 'creationTimestamp' : 'deletionTimestamp';
      const t = readTime(scanField(f, path(name), stops));
      if (t) m[name] = t;
    } else if (f.no === 11 || f.no === 12) {
      const name = f.no === 11 ? 'labels' : 'annotations';
      readEntry(f, scanField(f, path(name), stops), m[name]);
    } else if (f.no === 13) {
      m.ownerReferences.push(readOwnerReference(scanField(f, path('ownerReferences'), stops)));
    } else if (f.no === 14) {
      const s = str(f);
      if (s !== undefined) m.finalizers.push(s);
    } else {
      other.push(f);
    }
  }
  if (other.length) m.otherFields = summarizeFields(other, 0);
  return m;
}

/**
 * metav1.Time {seconds 1, nanos 2}, as RFC 3339 in seconds: kube-apiserver drops the nanos when it reads one
 * (JSON clients only ever had seconds), so that is what kubectl shows. An empty Time is the zero time: no value.
 */
function readTime(fields: RawField[]): string | undefined {
  const seconds = fields.find((f) => f.no === 1 && f.wireType === 'varint')?.number;
  if (seconds === undefined) return undefined;
  const ms = Number(BigInt.asIntN(64, BigInt(seconds))) * 1000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace('.000Z', 'Z');
}

/** A map<string,string> entry {key 1, value 2}; proto3 leaves an empty value out, but a cut entry is left out whole. */
function readEntry(entry: RawField, fields: RawField[], into: Record<string, string>): void {
  const key = fields.find((f) => f.no === 1);
  const value = fields.find((f) => f.no === 2);
  const k = key && str(key);
  const v = value ? str(value) : entry.partial ? undefined : '';
  if (k !== undefined && v !== undefined) into[k] = v;
}

function readOwnerReference(fields: RawField[]): OwnerReference {
  const ref: OwnerReference = {};
  for (const f of fields) {
    if (f.no === 1) ref.kind = str(f);
    else if (f.no === 3) ref.name = str(f);
    else if (f.no === 4) ref.uid = str(f);
    else if (f.no === 5) ref.apiVersion = str(f);
    else if (f.no === 6 && num(f) !== undefined) ref.controller = num(f) !== '0';
    else if (f.no === 7 && num(f) !== undefined) ref.blockOwnerDeletion = num(f) !== '0';
  }
  return ref;
}
