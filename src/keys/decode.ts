import { printableText, startsWith } from './bytes.js';
import { hexdump } from './hexdump.js';
import { decodeK8sProtobuf, emptyMeta, K8S_PROTOBUF_MAGIC, type ObjectMeta, type OwnerReference } from './k8s-protobuf.js';
import { renderSummary } from './summary.js';
import { type FieldSummary, type ScanStop, scanMessage } from './wire.js';

/**
 * What a value in etcd holds, as kube-apiserver stores it: protobuf (`k8s\0` + runtime.Unknown), JSON (custom
 * resources), CBOR, encrypted at rest (`k8s:enc:…`), plain text or bytes. Pure: the core of `hardway keys get`.
 */

export type ValueFormat = 'protobuf' | 'json' | 'cbor' | 'encrypted' | 'text' | 'binary' | 'empty';

/**
 * How `keys get -o` shows a value: `summary` (for people: what it is, its metadata, a JSON value's content
 * pretty-printed), `decoded` (the decoded structure as JSON, which `--json` also holds under `value`), `hex`, `raw`.
 * `--json` is the machine envelope (the key's metadata and the decoded value), never a way of showing the value.
 */
export const KEYS_OUTPUTS = ['summary', 'decoded', 'hex', 'raw'] as const;
export type KeysOutput = (typeof KEYS_OUTPUTS)[number];

export interface EncryptionInfo {
  /** aescbc, aesgcm, secretbox or kms (another name is reported, with knownProvider false). */
  provider: string;
  version: string;
  /** The key's name in the EncryptionConfiguration; for kms, the KMS provider's name. */
  keyName: string;
  prefix: string;
  knownProvider: boolean;
  ciphertextSize: number;
  /** kms v2 only: the plugin's key ID, which the EncryptedObject keeps in the clear. */
  kmsKeyId?: string;
}

export interface DecodedValue {
  format: ValueFormat;
  size: number;
  encryption?: EncryptionInfo;
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  /** kube-apiserver stores objects without a resourceVersion: it is the key's mod_revision, when the caller gave it. */
  resourceVersionFrom?: 'value' | 'mod_revision';
  /** protobuf: the object's fields other than metadata, by number and wire type. */
  fields?: FieldSummary[];
  /** json: the object's top-level keys other than apiVersion, kind and metadata. */
  otherKeys?: string[];
  contentType?: string;
  contentEncoding?: string;
  text?: string;
  /** Where a protobuf value ends early: what is shown was read before it. */
  truncatedAt?: number;
  notes: string[];
}

export interface DecodeOptions {
  /** The key's mod_revision, shown as the resourceVersion. */
  modRevision?: string | number | bigint;
  /** How many levels of nested messages the protobuf field list expands (default 1). */
  depth?: number;
}

const ENC_PREFIX = 'k8s:enc:';
// kube-apiserver's CBOR serializer starts every value with the self-described CBOR tag 55799.
const CBOR_SELF_DESCRIBE = new Uint8Array([0xd9, 0xd9, 0xf7]);

export function detectFormat(value: Uint8Array): ValueFormat {
  if (value.length === 0) return 'empty';
  if (startsWith(value, ENC_PREFIX)) return 'encrypted';
  if (startsWith(value, K8S_PROTOBUF_MAGIC)) return 'protobuf';
  if (startsWith(value, CBOR_SELF_DESCRIBE)) return 'cbor';
  const text = printableText(value);
  if (text === undefined) return 'binary';
  return text.trimStart().startsWith('{') && parseJsonObject(text) ? 'json' : 'text';
}

export function decodeValue(value: Uint8Array, opts: DecodeOptions = {}): DecodedValue {
  const format = detectFormat(value);
  const out: DecodedValue = { format, size: value.length, notes: [] };
  if (format === 'encrypted') decodeEncrypted(value, out);
  else if (format === 'protobuf') decodeProtobuf(value, out, opts.depth ?? 1);
  else if (format === 'json') decodeJson(parseJsonObject(printableText(value)!)!, out);
  else if (format === 'cbor') out.notes.push('CBOR (self-described, tag 55799): not decoded here; -o hex shows its bytes');
  else if (format === 'text') decodeText(printableText(value)!, out);
  if (out.metadata && !out.metadata.resourceVersion && opts.modRevision !== undefined) {
    out.metadata.resourceVersion = String(opts.modRevision);
    out.resourceVersionFrom = 'mod_revision';
  } else if (out.metadata?.resourceVersion) {
    out.resourceVersionFrom = 'value';
  }
  return out;
}

function decodeProtobuf(value: Uint8Array, out: DecodedValue, depth: number): void {
  let obj = decodeK8sProtobuf(value, depth);
  // `etcdctl get --print-value-only` prints a newline after the value; as protobuf, a lone 0x0a is a cut field.
  if (value.at(-1) === 0x0a && obj.stops.length) {
    const trimmed = decodeK8sProtobuf(value.subarray(0, -1), depth);
    if (!trimmed.stops.length) {
      obj = trimmed;
      out.notes.push('a newline after the message (as etcdctl --print-value-only prints it) is left out');
    }
  }
  Object.assign(out, {
    ...(obj.apiVersion !== undefined ? { apiVersion: obj.apiVersion } : {}),
    ...(obj.kind !== undefined ? { kind: obj.kind } : {}),
    ...(obj.metadata ? { metadata: obj.metadata } : {}),
    fields: obj.fields,
    ...(obj.contentType ? { contentType: obj.contentType } : {}),
    ...(obj.contentEncoding ? { contentEncoding: obj.contentEncoding } : {}),
  });
  for (const stop of obj.stops) {
    if (stop.reason === 'truncated') out.truncatedAt = stop.at;
    out.notes.push(stopNote(stop));
  }
  if (!obj.kind && !obj.stops.length) out.notes.push('the k8s protobuf envelope has no kind');
}

function stopNote(s: ScanStop): string {
  const where = s.path.length ? ` in ${s.path.join('.')}` : '';
  return s.reason === 'truncated'
    ? `truncated at byte ${s.at}${where} (${s.detail}): what is shown was read before it`
    : `malformed protobuf at byte ${s.at}${where}: ${s.detail}`;
}

/** `k8s:enc:<provider>:<version>:<key name>:<ciphertext>`; identity stores values unprefixed, so never gets here. */
function decodeEncrypted(value: Uint8Array, out: DecodedValue): void {
  const colons: number[] = [];
  for (let i = 0; i < Math.min(value.length, 512) && colons.length < 5; i++) if (value[i] === 0x3a) colons.push(i);
  if (colons.length < 5) {
    out.notes.push('starts with k8s:enc: but has no <provider>:<version>:<key name>: after it');
    return;
  }
  const prefix = new TextDecoder().decode(value.subarray(0, colons[4]! + 1));
  const [, , provider = '', version = '', keyName = ''] = prefix.split(':');
  const rest = value.subarray(colons[4]! + 1);
  const known = ['aescbc:v1', 'aesgcm:v1', 'secretbox:v1', 'kms:v1', 'kms:v2'].includes(`${provider}:${version}`);
  const enc: EncryptionInfo = { provider, version, keyName, prefix, knownProvider: known, ciphertextSize: rest.length };
  if (provider === 'kms' && version === 'v2') {
    // EncryptedObject {1 encryptedData, 2 keyID, 3 encryptedDEKSource, 4 annotations, 5 encryptedDEKSourceType}.
    const keyId = scanMessage(rest, colons[4]! + 1).fields.find((f) => f.no === 2 && f.wireType === 'len' && !f.partial);
    if (keyId?.bytes) enc.kmsKeyId = new TextDecoder().decode(keyId.bytes);
  }
  out.encryption = enc;
  if (!known) out.notes.push(`encryption prefix of a provider hardway does not know: ${provider} ${version}`);
  out.notes.push(
    provider === 'kms'
      ? `encrypted at rest by the KMS ${version} provider "${keyName}": cannot be decoded without its KMS plugin's key`
      : `encrypted at rest by the ${provider} provider with key "${keyName}": cannot be decoded without that key`,
  );
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const strOf = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function stringMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function decodeJson(obj: Record<string, unknown>, out: DecodedValue): void {
  if (strOf(obj.apiVersion)) out.apiVersion = strOf(obj.apiVersion);
  if (strOf(obj.kind)) out.kind = strOf(obj.kind);
  if (obj.metadata && typeof obj.metadata === 'object') out.metadata = metaFromJson(obj.metadata as Record<string, unknown>);
  out.otherKeys = Object.keys(obj).filter((k) => !['apiVersion', 'kind', 'metadata'].includes(k));
}

function metaFromJson(m: Record<string, unknown>): ObjectMeta {
  const meta = emptyMeta();
  for (const k of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'] as const) {
    const s = strOf(m[k]);
    if (s) meta[k] = s;
  }
  if (typeof m.generation === 'number' && m.generation !== 0) meta.generation = m.generation;
  meta.labels = stringMap(m.labels);
  meta.annotations = stringMap(m.annotations);
  meta.finalizers = Array.isArray(m.finalizers) ? m.finalizers.filter((f): f is string => typeof f === 'string') : [];
  const refs = Array.isArray(m.ownerReferences) ? (m.ownerReferences as Record<string, unknown>[]) : [];
  meta.ownerReferences = refs.map((r) => {
    const ref: OwnerReference = {};
    for (const k of ['apiVersion', 'kind', 'name', 'uid'] as const) if (strOf(r[k])) ref[k] = strOf(r[k]);
    if (typeof r.controller === 'boolean') ref.controller = r.controller;
    if (typeof r.blockOwnerDeletion === 'boolean') ref.blockOwnerDeletion = r.blockOwnerDeletion;
    return ref;
  });
  return meta;
}

function decodeText(text: string, out: DecodedValue): void {
  out.text = text;
  if (text.trimStart().startsWith('{')) out.notes.push('starts like JSON but does not parse as a JSON object (cut short?)');
}

/** The value as `-o` asks: a summary for people, the decoded structure as JSON, a hexdump, or the bytes as stored. */
export function renderValue(value: Uint8Array, output: KeysOutput, opts: DecodeOptions = {}): string | Uint8Array {
  if (output === 'raw') return value;
  if (output === 'hex') return hexdump(value);
  const decoded = decodeValue(value, opts);
  return output === 'decoded' ? `${JSON.stringify(decoded, null, 2)}\n` : renderSummary(decoded, value);
}

export { renderSummary };
