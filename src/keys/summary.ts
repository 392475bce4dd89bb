import type { DecodedValue, EncryptionInfo, ValueFormat } from './decode.js';
import { hexdump } from './hexdump.js';
import type { ObjectMeta, OwnerReference } from './k8s-protobuf.js';
import type { FieldSummary } from './wire.js';

/**
 * `hardway keys get` (-o summary): the decoded value for people, one fact a line, long values cut (-o decoded has
 * all); a JSON value's content follows, pretty-printed.
 */

const WIDTH = 17;
const PAD = ' '.repeat(WIDTH);
const HEX_PREVIEW = 256;
const TEXT_PREVIEW = 4000;

const FORMAT_NAMES: Record<ValueFormat, string> = {
  protobuf: 'protobuf (k8s\\0 + runtime.Unknown)',
  json: 'JSON',
  cbor: 'CBOR',
  encrypted: 'encrypted at rest',
  text: 'plain text',
  binary: 'binary (no known format)',
  empty: 'empty',
};

const row = (label: string, value: string): string => `${label.padEnd(WIDTH - 1)} ${value}`;
const rows = (label: string, values: string[]): string[] => values.map((v, i) => (i === 0 ? row(label, v) : PAD + v));
const oneLine = (s: string): string => s.replace(/[\n\r\t]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
const cut = (s: string, max = 100): string =>
  s.length > max ? `${oneLine(s.slice(0, max))}… (${Buffer.byteLength(s)} bytes)` : oneLine(s);

export function renderSummary(d: DecodedValue, value?: Uint8Array): string {
  const lines = [row('format', `${FORMAT_NAMES[d.format]}, ${d.size} bytes`)];
  if (d.encryption) lines.push(...encryptionLines(d.encryption));
  else if (d.format === 'protobuf' || d.format === 'json' || d.format === 'cbor') {
    // The identity provider writes values unprefixed: from etcd it looks the same as no encryption at all.
    lines.push(row('encryption', 'none: stored in the clear (no provider for this resource, or identity)'));
  }
  if (d.contentType) lines.push(row('contentType', d.contentType));
  if (d.contentEncoding) lines.push(row('contentEncoding', d.contentEncoding));
  if (d.apiVersion) lines.push(row('apiVersion', d.apiVersion));
  if (d.kind) lines.push(row('kind', d.kind));
  if (d.metadata) lines.push(...metaLines(d.metadata, d.resourceVersionFrom));
  if (d.fields?.length) lines.push('fields of the object, without its schema (number, wire type, size):', ...fieldLines(d.fields, 1));
  if (d.otherKeys?.length) lines.push(row('other keys', d.otherKeys.join(', ')));
  if (d.text !== undefined) lines.push(...textLines(d.text));
  if (d.format === 'json' && value) lines.push(...jsonLines(value));
  if ((d.format === 'binary' || d.format === 'cbor') && value) lines.push(...hexLines(value));
  for (const n of d.notes) lines.push(row('note', n));
  return `${lines.join('\n')}\n`;
}

function encryptionLines(e: EncryptionInfo): string[] {
  const lines = [row('provider', `${e.provider} ${e.version}${e.knownProvider ? '' : ' (unknown provider)'}`)];
  lines.push(row(e.provider === 'kms' ? 'kms provider' : 'key', e.keyName));
  if (e.kmsKeyId !== undefined) lines.push(row('kms key ID', e.kmsKeyId));
  lines.push(row('ciphertext', `${e.ciphertextSize} bytes after ${e.prefix}`));
  return lines;
}

function metaLines(m: ObjectMeta, rvFrom: DecodedValue['resourceVersionFrom']): string[] {
  const lines: string[] = [];
  const add = (label: string, v: string | number | undefined) => v !== undefined && v !== '' && lines.push(row(label, String(v)));
  add('name', m.name);
  add('generateName', m.generateName);
  add('namespace', m.namespace);
  add('uid', m.uid);
  const fromKey = rvFrom === 'mod_revision' ? " (the key's mod_revision)" : '';
  add('resourceVersion', m.resourceVersion && `${m.resourceVersion}${fromKey}`);
  add('generation', m.generation);
  add('created', m.creationTimestamp);
  add('deleted', m.deletionTimestamp);
  const pairs = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}=${cut(v)}`);
  lines.push(...rows('labels', pairs(m.labels)), ...rows('annotations', pairs(m.annotations)));
  lines.push(...rows('owners', m.ownerReferences.map(ownerLine)), ...rows('finalizers', m.finalizers));
  if (m.otherFields?.length) lines.push(...rows('other metadata', fieldLines(m.otherFields, 0)));
  return lines;
}

function ownerLine(r: OwnerReference): string {
  const extra = [r.apiVersion, r.uid && `uid ${r.uid}`, r.controller && 'controller'].filter(Boolean).join(', ');
  return `${r.kind ?? '?'} ${r.name ?? '?'}${extra ? ` (${extra})` : ''}`;
}

function fieldLines(fields: FieldSummary[], level: number): string[] {
  return fields.flatMap((f) => {
    const head = `${'  '.repeat(level)}${f.field} ${f.wireType}`;
    let what: string;
    if (f.wireType !== 'len' && f.wireType !== 'group') what = `= ${f.value}`;
    else if (f.fieldCount !== undefined) what = `${f.size} bytes, a message of ${f.fieldCount} field${f.fieldCount === 1 ? '' : 's'}`;
    else if (f.value !== undefined) what = `${f.size} bytes ${JSON.stringify(cut(f.value, 60))}`;
    else what = `${f.size} bytes${f.hex ? `: ${f.hex}` : ''}`;
    const line = `${head} ${what}${f.partial ? ' (cut short)' : ''}`;
    return [line, ...fieldLines(f.fields ?? [], level + 1)];
  });
}

function textLines(text: string): string[] {
  const more = text.length - TEXT_PREVIEW;
  const shown = more > 0 ? `${text.slice(0, TEXT_PREVIEW)}\n… (${more} more characters: -o raw has all)` : text;
  return ['', ...shown.replace(/\n$/, '').split('\n'), ''];
}

/** A JSON value's content, pretty-printed, between blank lines (the facts above say what it is). */
function jsonLines(value: Uint8Array): string[] {
  try {
    return ['', ...JSON.stringify(JSON.parse(new TextDecoder().decode(value)), null, 2).split('\n'), ''];
  } catch {
    return [];
  }
}

function hexLines(value: Uint8Array): string[] {
  const dump = hexdump(value.subarray(0, HEX_PREVIEW)).trimEnd().split('\n');
  const more = value.length > HEX_PREVIEW ? [`… ${value.length} bytes in all: -o hex has every byte`] : [];
  return ['', ...dump, ...more, ''];
}
