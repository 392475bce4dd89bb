import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { K8S_STORAGE } from '../k8s-storage.js';
import { type DecodedValue, decodeValue, detectFormat, renderSummary, renderValue } from '../../src/keys/decode.js';
import { parseEtcdGet } from '../../src/etcd/get.js';
import { hexdump } from '../../src/keys/hexdump.js';

const DATA = K8S_STORAGE;
const file = (name: string) => new Uint8Array(readFileSync(`${DATA}/${name}`));
const podBin = file('pod.storage.bin');
const jobBin = file('job.storage.bin');
const podJson = JSON.parse(readFileSync(`${DATA}/pod.json`, 'utf8'));
const enc = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => Array.from(p)));

// --- Values built from the field numbers of the issue, with @bufbuild/protobuf's writer ---

interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  created?: number;
  deleted?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  owners?: { kind: string; name: string; uid: string; apiVersion: string; controller?: boolean }[];
  finalizers?: string[];
}

const msg = (w: BinaryWriter, no: number, body: (w: BinaryWriter) => void) => {
  w.tag(no, WireType.LengthDelimited).fork();
  body(w);
  w.join();
};
const entry = (w: BinaryWriter, no: number, k: string, v: string | Uint8Array) =>
  msg(w, no, (e) => {
    e.tag(1, WireType.LengthDelimited).string(k);
    if (typeof v === 'string') e.tag(2, WireType.LengthDelimited).string(v);
    else e.tag(2, WireType.LengthDelimited).bytes(v);
  });
const time = (w: BinaryWriter, no: number, seconds: number) =>
  msg(w, no, (t) => t.tag(1, WireType.Varint).int64(seconds).tag(2, WireType.Varint).int32(123456789));

function writeMeta(w: BinaryWriter, m: Meta): void {
  msg(w, 1, (o) => {
    if (m.name) o.tag(1, WireType.LengthDelimited).string(m.name);
    if (m.namespace) o.tag(3, WireType.LengthDelimited).string(m.namespace);
    if (m.uid) o.tag(5, WireType.LengthDelimited).string(m.uid);
    o.tag(6, WireType.LengthDelimited).string(''); // stored without a resourceVersion
    if (m.generation) o.tag(7, WireType.Varint).int64(m.generation);
    if (m.created) time(o, 8, m.created);
    if (m.deleted) time(o, 9, m.deleted);
    for (const [k, v] of Object.entries(m.labels ?? {})) entry(o, 11, k, v);
    for (const [k, v] of Object.entries(m.annotations ?? {})) entry(o, 12, k, v);
    for (const r of m.owners ?? [])
      msg(o, 13, (x) => {
        x.tag(1, WireType.LengthDelimited).string(r.kind).tag(3, WireType.LengthDelimited).string(r.name);
        x.tag(4, WireType.LengthDelimited).string(r.uid).tag(5, WireType.LengthDelimited).string(r.apiVersion);
        if (r.controller !== undefined) x.tag(6, WireType.Varint).bool(r.controller);
      });
    for (const f of m.finalizers ?? []) o.tag(14, WireType.LengthDelimited).string(f);
  });
}

function k8sValue(apiVersion: string, kind: string, meta: Meta, rest: (w: BinaryWriter) => void = () => {}): Uint8Array {
  const raw = new BinaryWriter();
  writeMeta(raw, meta);
  rest(raw);
  const w = new BinaryWriter();
  msg(w, 1, (t) => t.tag(1, WireType.LengthDelimited).string(apiVersion).tag(2, WireType.LengthDelimited).string(kind));
  w.tag(2, WireType.LengthDelimited).bytes(raw.finish());
  w.tag(3, WireType.LengthDelimited).string('').tag(4, WireType.LengthDelimited).string('');
  return concat(enc('k8s\0'), w.finish());
}

const T0 = Date.UTC(2024, 4, 1, 12, 30, 0) / 1000;
const junk = (n: number, seed = 7) => Uint8Array.from({ length: n }, (_, i) => (seed * (i + 13) * 2654435761) >>> 24);

const secret = k8sValue('v1', 'Secret', { name: 'db', namespace: 'prod', uid: 'u-secret', created: T0, labels: { app: 'db' } }, (w) => {
  entry(w, 2, 'password', new Uint8Array([0x00, 0xff, 0x10, 0x80]));
  w.tag(3, WireType.LengthDelimited).string('Opaque');
});
const configMap = k8sValue('v1', 'ConfigMap', { name: 'settings', namespace: 'kube-system', created: T0 }, (w) => {
  entry(w, 2, 'mode', 'fast');
  entry(w, 2, 'level', '3');
});
const event = k8sValue('v1', 'Event', { name: 'pi-dqtsw.14ab', namespace: 'default', created: T0 }, (w) => {
  msg(w, 2, (o) => o.tag(1, WireType.LengthDelimited).string('Pod').tag(3, WireType.LengthDelimited).string('pi-dqtsw'));
  w.tag(3, WireType.LengthDelimited).string('Started');
  w.tag(4, WireType.LengthDelimited).string('Started container pi');
  time(w, 6, T0);
  w.tag(8, WireType.Varint).int32(3);
  w.tag(9, WireType.LengthDelimited).string('Normal');
});
const widgetMeta: Meta = {
  name: 'w1',
  namespace: 'team-a',
  uid: 'u-w1',
  generation: 4,
  created: T0,
  deleted: T0 + 60,
  labels: { tier: 'gold', empty: '' },
  annotations: { note: 'line one\nline two' },
  owners: [{ kind: 'Gadget', name: 'g1', uid: 'u-g1', apiVersion: 'example.com/v1', controller: true }],
  finalizers: ['example.com/cleanup'],
};
const widget = k8sValue('example.com/v1alpha1', 'Widget', widgetMeta, (w) => {
  msg(w, 2, (s) => {
    s.tag(1, WireType.Varint).int32(5);
    s.tag(2, WireType.Bit32).fixed32(0xdeadbeef);
    s.tag(3, WireType.Bit64).fixed64(2n ** 60n);
    s.tag(4, WireType.LengthDelimited).bytes(new Uint8Array([0x00, 0x01, 0xfe, 0xff, 0x07]));
    msg(s, 5, (n) => msg(n, 1, (d) => d.tag(1, WireType.LengthDelimited).string('deep')));
  });
  w.tag(3, WireType.LengthDelimited).string('Ready');
});

// --- The two real values ---

describe('real values as kube-apiserver stored them', () => {
  // Decoded in each test, not while the file is collected: mutation testing (Stryker) switches a mutant on only for
  // the tests that ran the mutated code, and a value decoded before them would hide every mutant from these tests.
  const pod = (): DecodedValue => decodeValue(podBin, { modRevision: 82648 });
  const job = (): DecodedValue => decodeValue(jobBin);

  it('decodes the Pod to what its JSON says', () => {
    const m = podJson.metadata;
    expect(pod().format).toBe('protobuf');
    expect(pod().apiVersion).toBe(podJson.apiVersion);
    expect(pod().kind).toBe(podJson.kind);
    expect(pod().metadata).toMatchObject({
      name: m.name,
      generateName: m.generateName,
      namespace: m.namespace,
      uid: m.uid,
      creationTimestamp: m.creationTimestamp,
      labels: m.labels,
      annotations: m.annotations,
      ownerReferences: m.ownerReferences,
      finalizers: [],
    });
    expect(pod().truncatedAt).toBeUndefined();
  });

  it('decodes the Pod protobuf and the Pod JSON to the same metadata', () => {
    const fromJson = decodeValue(enc(JSON.stringify(podJson)), { modRevision: 82648 });
    expect(fromJson.format).toBe('json');
    const { otherFields, ...meta } = pod().metadata!;
    expect(otherFields?.map((f) => f.field)).toContain(4); // selfLink, not decoded
    expect(fromJson.metadata).toEqual(meta);
    expect(fromJson.otherKeys).toEqual(['spec', 'status']);
  });

  it('shows the mod_revision as resourceVersion, which is stored empty', () => {
    expect(pod().metadata?.resourceVersion).toBe('82648');
    expect(pod().resourceVersionFrom).toBe('mod_revision');
    expect(job().metadata?.resourceVersion).toBeUndefined();
  });

  it('decodes the Job that owns the Pod (its uid and labels are those the Pod refers to)', () => {
    const owner = podJson.metadata.ownerReferences[0];
    expect(job().apiVersion).toBe(owner.apiVersion);
    expect(job().kind).toBe(owner.kind);
    expect(job().metadata).toMatchObject({ name: owner.name, namespace: podJson.metadata.namespace, uid: owner.uid });
    expect(job().metadata?.labels).toEqual(podJson.metadata.labels);
    const created = job().metadata!.creationTimestamp!;
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(created)).toBeLessThanOrEqual(Date.parse(podJson.metadata.creationTimestamp));
  });

  it('lists the rest of the object by field number, nested messages summarised and strings shown', () => {
    expect(pod().fields?.map((f) => f.field)).toEqual([2, 3]);
    const spec = pod().fields![0]!;
    expect(spec).toMatchObject({ wireType: 'len', fieldCount: expect.any(Number) });
    expect(spec.fields).toContainEqual(expect.objectContaining({ wireType: 'len', value: podJson.spec.restartPolicy }));
    expect(spec.fields).toContainEqual(expect.objectContaining({ wireType: 'varint', value: String(podJson.spec.terminationGracePeriodSeconds) }));
    const status = pod().fields![1]!;
    expect(status.fields).toContainEqual(expect.objectContaining({ value: podJson.status.podIP }));
    expect(status.fields?.filter((f) => f.field === 2)).toHaveLength(podJson.status.conditions.length);
  });

  it('notes the newline etcdctl --print-value-only adds after the value instead of calling it a cut', () => {
    expect(pod().notes.join('\n')).toMatch(/newline/);
    expect(decodeValue(podBin.subarray(0, -1)).notes).toEqual([]);
  });
});

describe('values of other kinds and formats', () => {
  it('reads a Secret, a ConfigMap and an Event with their metadata and other fields', () => {
    const s = decodeValue(secret, { modRevision: 7 });
    expect(s).toMatchObject({ format: 'protobuf', apiVersion: 'v1', kind: 'Secret' });
    expect(s.metadata).toMatchObject({ name: 'db', namespace: 'prod', uid: 'u-secret', labels: { app: 'db' }, resourceVersion: '7' });
    expect(s.metadata?.creationTimestamp).toBe('2024-05-01T12:30:00Z'); // nanos dropped, as kube-apiserver reads them
    expect(s.fields?.find((f) => f.field === 2)).toMatchObject({ fieldCount: 2, fields: [{ field: 1, value: 'password' }, { field: 2, hex: '00 ff 10 80' }] });
    expect(s.fields?.find((f) => f.field === 3)?.value).toBe('Opaque');

    const cm = decodeValue(configMap);
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'kube-system' } });
    expect(cm.fields?.filter((f) => f.field === 2).map((f) => f.fields?.map((x) => x.value))).toEqual([['mode', 'fast'], ['level', '3']]);

    const ev = decodeValue(event);
    expect(ev).toMatchObject({ kind: 'Event', metadata: { name: 'pi-dqtsw.14ab' } });
    expect(ev.fields?.find((f) => f.field === 8)).toMatchObject({ wireType: 'varint', value: '3' });
    expect(ev.fields?.find((f) => f.field === 2)).toMatchObject({ fieldCount: 2, fields: [{ value: 'Pod' }, { value: 'pi-dqtsw' }] });
  });

  it('reads every metadata field of a kind it never heard of, and its other fields by wire type', () => {
    const w = decodeValue(widget);
    expect(w).toMatchObject({ apiVersion: 'example.com/v1alpha1', kind: 'Widget', notes: [] });
    expect(w.metadata).toEqual({
      name: 'w1',
      namespace: 'team-a',
      uid: 'u-w1',
      generation: 4,
      creationTimestamp: '2024-05-01T12:30:00Z',
      deletionTimestamp: '2024-05-01T12:31:00Z',
      labels: { tier: 'gold', empty: '' },
      annotations: { note: 'line one\nline two' },
      ownerReferences: [{ kind: 'Gadget', name: 'g1', uid: 'u-g1', apiVersion: 'example.com/v1', controller: true }],
      finalizers: ['example.com/cleanup'],
    });
    const spec = w.fields![0]!;
    expect(spec.fields?.map((f) => [f.field, f.wireType])).toEqual([[1, 'varint'], [2, 'i32'], [3, 'i64'], [4, 'len'], [5, 'len']]);
    expect(spec.fields?.map((f) => f.value ?? f.hex ?? f.fieldCount)).toEqual(['5', String(0xdeadbeef), String(2n ** 60n), '00 01 fe ff 07', 1]);
    expect(spec.fields?.[4]?.fields).toBeUndefined(); // depth 1: the nested message is counted, not expanded
    expect(decodeValue(widget, { depth: 3 }).fields![0]!.fields![4]!.fields![0]!.fields![0]!.value).toBe('deep');
    expect(w.fields?.[1]).toMatchObject({ field: 3, value: 'Ready' });
  });

  const providers = [
    ['aescbc', 'v1', 'key1'],
    ['aesgcm', 'v1', 'key-2024'],
    ['secretbox', 'v1', 'sb'],
    ['kms', 'v1', 'vault'],
    ['kms', 'v2', 'vault-v2'],
  ] as const;
  it.each(providers)('recognises a Secret encrypted by %s %s and names its key', (provider, version, keyName) => {
    const prefix = `k8s:enc:${provider}:${version}:${keyName}:`;
    const body =
      version === 'v2'
        ? new BinaryWriter() // EncryptedObject {1 encryptedData, 2 keyID, 3 encryptedDEKSource}
            .tag(1, WireType.LengthDelimited).bytes(junk(40))
            .tag(2, WireType.LengthDelimited).string('kek-17')
            .tag(3, WireType.LengthDelimited).bytes(junk(32, 3))
            .finish()
        : junk(64);
    const d = decodeValue(concat(enc(prefix), body));
    expect(d.format).toBe('encrypted');
    expect(d.encryption).toMatchObject({ provider, version, keyName, prefix, knownProvider: true, ciphertextSize: body.length });
    expect(d.encryption?.kmsKeyId).toBe(version === 'v2' ? 'kek-17' : undefined);
    expect(d.notes.join('\n')).toMatch(new RegExp(`"${keyName}".*cannot be decoded without`));
    expect(d.metadata).toBeUndefined();
  });

  it('reports an encryption prefix it does not know, or one without a key name, without guessing', () => {
    expect(decodeValue(enc('k8s:enc:rot13:v9:k:abc')).encryption).toMatchObject({ provider: 'rot13', version: 'v9', keyName: 'k', knownProvider: false });
    const bad = decodeValue(enc('k8s:enc:aescbc'));
    expect(bad.format).toBe('encrypted');
    expect(bad.encryption).toBeUndefined();
    expect(bad.notes[0]).toMatch(/no <provider>/);
  });

  it('recognises CBOR, JSON, plain text, empty values and binary junk', () => {
    const cbor = concat(new Uint8Array([0xd9, 0xd9, 0xf7, 0xa1, 0x64]), enc('kind'));
    expect(decodeValue(cbor)).toMatchObject({ format: 'cbor', notes: [expect.stringMatching(/CBOR/)] });

    const metadata = { name: 'c', namespace: 'd', uid: 'u', generation: 2, creationTimestamp: '2024-05-01T12:30:00Z', labels: { a: 'b' }, finalizers: ['f'] };
    const cr = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata, spec: { cronSpec: '* * * * */5' } };
    const json = decodeValue(enc(`${JSON.stringify(cr)}\n`), { modRevision: '12' });
    expect(json).toMatchObject({ format: 'json', apiVersion: cr.apiVersion, kind: 'CronTab', otherKeys: ['spec'], resourceVersionFrom: 'mod_revision' });
    expect(json.metadata).toEqual({ ...cr.metadata, resourceVersion: '12', annotations: {}, ownerReferences: [] });

    expect(decodeValue(enc('10.240.0.10\n'))).toMatchObject({ format: 'text', text: '10.240.0.10\n', notes: [] });
    expect(decodeValue(enc('{"kind":"Po'))).toMatchObject({ format: 'text', notes: [expect.stringMatching(/JSON/)] });
    expect(decodeValue(new Uint8Array())).toMatchObject({ format: 'empty', size: 0 });
    expect(decodeValue(junk(100))).toMatchObject({ format: 'binary', size: 100 });
    expect(detectFormat(podBin)).toBe('protobuf');
  });

  it('reads junk after the k8s magic as malformed protobuf, not a throw', () => {
    for (const seed of [1, 2, 3, 5, 8]) {
      const d = decodeValue(concat(enc('k8s\0'), junk(60, seed)));
      expect(d.format).toBe('protobuf');
      expect(d.notes.length).toBeGreaterThan(0);
      expect(() => renderSummary(d)).not.toThrow();
    }
    // Wire type 7 does not exist: not a cut, a value that is not protobuf.
    expect(decodeValue(concat(enc('k8s\0'), new Uint8Array([0x0f, 0x01]))).notes).toEqual([
      'malformed protobuf at byte 4 in runtime.Unknown: illegal tag: field no 1 wire type 7',
    ]);
  });
});

// --- Truncation ---

describe('a truncated protobuf value', () => {
  const full = [
    ['Pod', podBin.subarray(0, -1)],
    ['Job', jobBin.subarray(0, -1)],
    ['Widget', widget],
  ] as const;

  it.each(full)('%s cut at any byte gives what was read and where it stopped, never a throw', (_, value) => {
    const whole = decodeValue(value);
    for (let n = 0; n < value.length; n++) {
      const d = decodeValue(value.subarray(0, n));
      expect(() => renderSummary(d, value.subarray(0, n))).not.toThrow();
      if (n < 4) continue; // inside the magic: not yet protobuf
      expect(d.format).toBe('protobuf');
      // What a cut value shows is right, and all of it when nothing was lost.
      if (d.kind !== undefined) expect(d.kind).toBe(whole.kind);
      for (const k of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) if (d.metadata?.[k] !== undefined) expect(d.metadata[k]).toBe(whole.metadata?.[k]);
      for (const [k, v] of Object.entries(d.metadata?.labels ?? {})) expect(whole.metadata?.labels[k]).toBe(v);
      if (d.truncatedAt === undefined) expect({ ...d, size: 0 }).toEqual({ ...whole, size: 0 });
      else {
        expect(d.truncatedAt).toBe(n);
        expect(d.notes).toContainEqual(expect.stringMatching(new RegExp(`^truncated at byte ${n}\\b`)));
      }
    }
  });

  it('names where the Pod was cut and keeps the fields before it', () => {
    const d = decodeValue(podBin.subarray(0, 300));
    expect(d).toMatchObject({ kind: 'Pod', apiVersion: 'v1', truncatedAt: 300 });
    expect(d.metadata).toMatchObject({ name: 'pi-dqtsw', namespace: 'default', uid: podJson.metadata.uid, labels: podJson.metadata.labels, annotations: {} });
    expect(d.notes).toEqual(['truncated at byte 300 in object.metadata.annotations (field 2 declares 202 bytes, 53 present): what is shown was read before it']);
    const early = decodeValue(podBin.subarray(0, 10));
    expect(early).toMatchObject({ format: 'protobuf', truncatedAt: 10 });
    expect(early.kind).toBeUndefined();
  });

  it('marks a field of the rest that was cut', () => {
    const d = decodeValue(jobBin.subarray(0, 300));
    expect(d.fields?.at(-1)).toMatchObject({ field: 2, partial: true });
    expect(renderSummary(d)).toMatch(/\(cut short\)/);
  });
});

// --- Renderings ---

describe('renderings', () => {
  it('summarises a Pod for people', () => {
    const text = renderValue(podBin, 'summary', { modRevision: 82648 }) as string;
    expect(text).toContain('format           protobuf (k8s\\0 + runtime.Unknown), 1577 bytes\n');
    expect(text).toContain('encryption       none: stored in the clear');
    expect(text).toContain('kind             Pod\n');
    expect(text).toContain('name             pi-dqtsw\n');
    expect(text).toContain("resourceVersion  82648 (the key's mod_revision)\n");
    expect(text).toContain('labels           controller-uid=a4acc46c-5b56-11e7-8d4b-42010a800002\n                 job-name=pi\n');
    expect(text).toContain('owners           Job pi (batch/v1, uid a4acc46c-5b56-11e7-8d4b-42010a800002, controller)\n');
    expect(text).toMatch(/^fields of the object.*\n  2 len 478 bytes, a message of \d+ fields\n    1 len/m);
    expect(text).toContain('    3 len 5 bytes "Never"\n');
    expect(text.split('\n').every((l) => l.length <= 200)).toBe(true);
  });

  it('summarises an encrypted Secret, binary and CBOR with a hexdump head, and text as it is', () => {
    const e = renderValue(concat(enc('k8s:enc:kms:v2:vault:'), junk(20)), 'summary') as string;
    expect(e).toContain('provider         kms v2\n');
    expect(e).toContain('kms provider     vault\n');
    expect(e).not.toContain('encryption       none');
    const cbor = renderValue(concat(new Uint8Array([0xd9, 0xd9, 0xf7, 0xa0])), 'summary') as string;
    expect(cbor).toContain('format           CBOR, 4 bytes\n');
    expect(cbor).toContain('00000000  d9 d9 f7 a0');
    const bin = renderValue(junk(300), 'summary') as string;
    expect(bin).toContain(hexdump(junk(300).subarray(0, 256)));
    expect(bin).toContain('300 bytes in all: -o hex has every byte');
    expect(renderValue(enc('hello\nworld\n'), 'summary')).toBe('format           plain text, 12 bytes\n\nhello\nworld\n\n');
  });

  it("shows a JSON value's content by default, pretty-printed, after what it is", () => {
    const value = enc('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}');
    const text = renderValue(value, 'summary') as string;
    expect(text).toMatch(/^format {11}JSON, \d+ bytes$/m);
    expect(text).toContain('\n\n{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {\n    "name": "a"\n  },\n  "data": {\n    "k": "v"\n  }\n}\n');
    // Not for values that are not JSON: a protobuf value has no JSON content to show.
    expect(renderValue(podBin, 'summary') as string).not.toContain('"metadata"');
  });

  it('gives a JSON-able structure for -o decoded, hex and raw as they are', () => {
    for (const v of [podBin, jobBin, secret, widget, podBin.subarray(0, 500), enc('k8s:enc:aescbc:v1:k:xx'), junk(30)]) {
      const d = decodeValue(v);
      expect(JSON.parse(JSON.stringify(d))).toEqual(d);
      expect(JSON.parse(renderValue(v, 'decoded') as string) as DecodedValue).toEqual(d);
    }
    expect(renderValue(podBin, 'hex')).toBe(hexdump(podBin));
    expect(renderValue(podBin, 'raw')).toBe(podBin);
  });
});

describe('hexdump', () => {
  it('lays bytes out as hexdump -C does, repeated lines squeezed', () => {
    expect(hexdump(new Uint8Array())).toBe('');
    expect(hexdump(enc('hello\n'))).toBe('00000000  68 65 6c 6c 6f 0a                                 |hello.|\n00000006\n');
    expect(hexdump(enc('0123456789abcdefg'))).toBe(
      '00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n00000010  67                                                |g|\n00000011\n',
    );
    expect(hexdump(new Uint8Array(64))).toBe('00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n00000040\n');
  });

  const tool = existsSync('/usr/bin/hexdump');
  it.skipIf(!tool)('matches the hexdump tool byte for byte', () => {
    const samples = [podBin, jobBin, concat(new Uint8Array(40), enc('abc'), new Uint8Array(50), junk(21)), junk(16), junk(15)];
    for (const s of samples) expect(hexdump(s)).toBe(execFileSync('hexdump', ['-C'], { input: s, encoding: 'utf8' }));
  });
});

describe('parseEtcdGet', () => {
  const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
  const stdout =
    `{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":82650,"raft_term":4},` +
    `"kvs":[{"key":"${b64('/registry/pods/default/pi-dqtsw')}","create_revision":82640,"mod_revision":82648,"version":3,` +
    `"value":"${b64(podBin)}","lease":7587862072907233026},` +
    `{"key":"${b64('/registry/health')}","create_revision":5,"mod_revision":6,"version":2,"value":"${b64('{"health":"true"}')}"}],` +
    `"count":2}\n`;

  it('decodes keys and values and keeps IDs above 2^53 exact', () => {
    const r = parseEtcdGet(stdout);
    expect(r).toMatchObject({ clusterId: 'cdf818194e3a8c32', memberId: '8e9e05c52164694d', revision: '82650', raftTerm: '4', count: 2, more: false });
    expect(r.kvs[0]).toMatchObject({ key: '/registry/pods/default/pi-dqtsw', createRevision: '82640', modRevision: '82648', version: '3', lease: '694d805a644b7702' });
    expect(r.kvs[0]!.value).toEqual(podBin);
    expect(r.kvs[1]).not.toHaveProperty('lease');
    const pod = decodeValue(r.kvs[0]!.value, { modRevision: r.kvs[0]!.modRevision });
    expect(pod.metadata).toMatchObject({ name: 'pi-dqtsw', resourceVersion: '82648' });
    expect(decodeValue(r.kvs[1]!.value).format).toBe('json');
  });

  it('reads a get that found no key', () => {
    const r = parseEtcdGet('{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":9,"raft_term":2}}');
    expect(r).toMatchObject({ kvs: [], count: 0, revision: '9' });
  });
});

describe('decoding rules at their edges', () => {
  it('reads JSON after leading whitespace as JSON, as JSON.parse does', () => {
    const d = decodeValue(enc(' \n\t{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}'));
    expect(d).toMatchObject({ format: 'json', kind: 'ConfigMap', metadata: { name: 'a' } });
    expect(detectFormat(enc('  [1, 2]'))).toBe('text');
  });

  it('never lets the key mod_revision override a resourceVersion the value itself holds', () => {
    const d = decodeValue(enc('{"kind":"Widget","metadata":{"name":"w","resourceVersion":"7"}}'), { modRevision: 12 });
    expect(d.metadata?.resourceVersion).toBe('7');
    expect(d.resourceVersionFrom).toBe('value');
    expect(decodeValue(enc('{"kind":"Widget","metadata":{"name":"w"}}'))).toMatchObject({ metadata: { name: 'w' } });
    expect(decodeValue(enc('{"kind":"Widget","metadata":{"name":"w"}}')).resourceVersionFrom).toBeUndefined();
  });

  it('leaves generation 0 out of JSON metadata, as protobuf does (its zero value is never written)', () => {
    expect(decodeValue(enc('{"kind":"W","metadata":{"name":"w","generation":0}}')).metadata?.generation).toBeUndefined();
    expect(decodeValue(enc('{"kind":"W","metadata":{"name":"w","generation":3}}')).metadata?.generation).toBe(3);
  });

  it('needs all five colons of k8s:enc:<provider>:<version>:<key name>: before the ciphertext', () => {
    const four = decodeValue(enc('k8s:enc:aescbc:v1:key1'));
    expect(four.encryption).toBeUndefined();
    expect(four.notes).toEqual(['starts with k8s:enc: but has no <provider>:<version>:<key name>: after it']);
    const five = decodeValue(enc('k8s:enc:aescbc:v1:key1:'));
    expect(five.encryption).toMatchObject({ provider: 'aescbc', version: 'v1', keyName: 'key1', prefix: 'k8s:enc:aescbc:v1:key1:', ciphertextSize: 0 });
  });

  it('looks for the prefix in the first 512 bytes only: colons deep in the ciphertext make no key name', () => {
    const long = 'k'.repeat(512 - 'k8s:enc:aescbc:v1:'.length - 1);
    // The fifth colon is byte 511: a key name of 493 characters.
    expect(decodeValue(enc(`k8s:enc:aescbc:v1:${long}:data`)).encryption).toMatchObject({ keyName: long, ciphertextSize: 4 });
    // One more character and the fifth colon is byte 512: no prefix.
    expect(decodeValue(enc(`k8s:enc:aescbc:v1:${long}k:data`)).encryption).toBeUndefined();
    expect(decodeValue(enc(`k8s:enc:aescbc${'x'.repeat(600)}:v1:key:data`)).encryption).toBeUndefined();
  });
});

describe('JSON metadata read defensively', () => {
  it('keeps only fields of the type Kubernetes gives them: strings, string maps, string lists, boolean owner flags', () => {
    const value = {
      apiVersion: 5,
      kind: '',
      metadata: {
        name: 'w',
        namespace: '',
        uid: 7,
        generation: '3',
        labels: { a: 'b', n: 1, o: null },
        annotations: 'not a map',
        finalizers: ['f', 2, null],
        ownerReferences: [{ apiVersion: 'v1', kind: 'Job', name: '', uid: 9, controller: 'yes', blockOwnerDeletion: true }, { controller: false }],
      },
      spec: {},
    };
    const d = decodeValue(enc(JSON.stringify(value)));
    expect(d.format).toBe('json');
    expect(d.apiVersion).toBeUndefined();
    expect(d.kind).toBeUndefined();
    expect(d.metadata).toEqual({
      name: 'w',
      labels: { a: 'b' },
      annotations: {},
      finalizers: ['f'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'Job', blockOwnerDeletion: true }, { controller: false }],
    });
    expect(d.otherKeys).toEqual(['spec']);
  });

  it('has no metadata when metadata is not an object, and takes a JSON array or scalar for text', () => {
    expect(decodeValue(enc('{"kind":"W","metadata":"m"}')).metadata).toBeUndefined();
    expect(decodeValue(enc('{"kind":"W","metadata":null}')).metadata).toBeUndefined();
    expect(decodeValue(enc('{"kind":"W"}'))).toMatchObject({ format: 'json', kind: 'W', otherKeys: [] });
    expect(decodeValue(enc('{"kind":"W"}')).metadata).toBeUndefined();
    expect(decodeValue(enc('{')).notes).toEqual(['starts like JSON but does not parse as a JSON object (cut short?)']);
    expect(decodeValue(enc('  {"a":')).notes).toEqual(['starts like JSON but does not parse as a JSON object (cut short?)']);
    expect(decodeValue(enc('plain')).notes).toEqual([]);
  });

  it('says which encryption it is: a known provider with its key, a KMS plugin by name, an unknown provider as such', () => {
    const notes = (s: string) => decodeValue(enc(s)).notes;
    expect(notes('k8s:enc:aesgcm:v1:key2:xyz')).toEqual(['encrypted at rest by the aesgcm provider with key "key2": cannot be decoded without that key']);
    expect(notes('k8s:enc:kms:v1:vault:xyz')).toEqual(['encrypted at rest by the KMS v1 provider "vault": cannot be decoded without its KMS plugin\'s key']);
    expect(notes('k8s:enc:aescbc:v2:k:xyz')).toEqual([
      'encryption prefix of a provider hardway does not know: aescbc v2',
      'encrypted at rest by the aescbc provider with key "k": cannot be decoded without that key',
    ]);
    // Only kms v2 keeps a key ID in the clear: a v1 value is never read for one.
    expect(decodeValue(enc('k8s:enc:kms:v1:vault:\x12\x03abc')).encryption?.kmsKeyId).toBeUndefined();
    expect(decodeValue(enc('k8s:enc:secretbox:v2:k:\x12\x03abc')).encryption?.kmsKeyId).toBeUndefined();
  });
});

describe('the protobuf envelope, field by field', () => {
  /** runtime.Unknown with its four fields: typeMeta, raw, contentEncoding, contentType. */
  const envelope = (typeMeta: { apiVersion?: string; kind?: string }, contentEncoding = '', contentType = '') => {
    const w = new BinaryWriter();
    msg(w, 1, (t) => {
      if (typeMeta.apiVersion !== undefined) t.tag(1, WireType.LengthDelimited).string(typeMeta.apiVersion);
      if (typeMeta.kind !== undefined) t.tag(2, WireType.LengthDelimited).string(typeMeta.kind);
    });
    const raw = new BinaryWriter();
    writeMeta(raw, { name: 'x' });
    w.tag(2, WireType.LengthDelimited).bytes(raw.finish());
    w.tag(3, WireType.LengthDelimited).string(contentEncoding).tag(4, WireType.LengthDelimited).string(contentType);
    return concat(enc('k8s\0'), w.finish());
  };

  it('keeps the content encoding and type the envelope names, and leaves them out when empty', () => {
    const d = decodeValue(envelope({ apiVersion: 'v1', kind: 'Pod' }, 'gzip', 'application/vnd.kubernetes.protobuf'));
    expect([d.contentEncoding, d.contentType]).toEqual(['gzip', 'application/vnd.kubernetes.protobuf']);
    const plain = decodeValue(envelope({ apiVersion: 'v1', kind: 'Pod' }));
    expect(Object.keys(plain)).not.toContain('contentEncoding');
    expect(Object.keys(plain)).not.toContain('contentType');
    expect(plain.notes).toEqual([]);
  });

  it('says when a whole envelope names no kind (what it holds cannot be told)', () => {
    expect(decodeValue(envelope({ apiVersion: 'v1' })).notes).toEqual(['the k8s protobuf envelope has no kind']);
  });

  it('a malformed value is no cut: nothing is said to be truncated; a cut value names where it was cut', () => {
    const d = decodeValue(concat(enc('k8s\0'), new Uint8Array([0x0f, 0x01])));
    expect(d.truncatedAt).toBeUndefined();
    const cut = decodeValue(envelope({ apiVersion: 'v1', kind: 'Pod' }).subarray(0, 20));
    expect(cut.truncatedAt).toBeGreaterThan(0);
    expect(cut.notes[0]).toMatch(new RegExp(`^truncated at byte ${cut.truncatedAt} in object\\.metadata`));
  });
});

describe('JSON owner references', () => {
  it('takes blockOwnerDeletion only as a boolean', () => {
    const value = { kind: 'W', metadata: { ownerReferences: [{ kind: 'Job', blockOwnerDeletion: 'yes' }, { kind: 'Job', blockOwnerDeletion: false }] } };
    expect(decodeValue(enc(JSON.stringify(value))).metadata!.ownerReferences).toStrictEqual([{ kind: 'Job' }, { kind: 'Job', blockOwnerDeletion: false }]);
  });
});
