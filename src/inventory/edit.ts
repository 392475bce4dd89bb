import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import { syncDir } from '../pki/store.js';
import { MAX_ELECTION_TIMEOUT_MS, MIN_ELECTION_TO_HEARTBEAT } from './derive.js';

/**
 * Edits of the user's inventory file that keep it the user's file: every comment, the key order, the alignment of
 * trailing comments and all other values stay as they were.
 *
 * yaml's Document keeps comments but re-renders the layout (comment columns, flow collections, long lines), so the
 * edit is made in the text, at the source ranges that parseDocument reports, and then checked: the edited text must
 * parse to exactly what `doc.setIn` gives on the original. If that check fails (an unusual layout), the
 * re-rendered document is used instead, which is still correct and keeps the comments.
 */

export interface EtcdTimingValues {
  heartbeatInterval: number;
  electionTimeout: number;
}

const KEYS = ['heartbeatInterval', 'electionTimeout'] as const;


function checkValues(v: EtcdTimingValues): void {
  for (const k of KEYS) {
    if (!Number.isInteger(v[k]) || v[k] <= 0) throw new RangeError(`${k} must be a positive whole number of ms (got ${v[k]})`);
  }
  if (v.electionTimeout < MIN_ELECTION_TO_HEARTBEAT * v.heartbeatInterval) {
    throw new RangeError(
      `electionTimeout (${v.electionTimeout} ms) must be at least ${MIN_ELECTION_TO_HEARTBEAT}× heartbeatInterval (${v.heartbeatInterval} ms)`,
    );
  }
  if (v.electionTimeout > MAX_ELECTION_TIMEOUT_MS) {
    throw new RangeError(`electionTimeout ${v.electionTimeout} ms is over etcd's limit of ${MAX_ELECTION_TIMEOUT_MS} ms`);
  }
}

function parse(source: string): Document {
  const doc = parseDocument(source);
  const err = doc.errors[0];
  if (err) throw new Error(`the inventory is not valid YAML: ${err.message}`);
  return doc;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair | undefined;
}

type Range = [number, number, number];
const rangeOf = (n: unknown): Range | undefined => (n as { range?: Range | null } | null | undefined)?.range ?? undefined;

/** The column of `pos` when only blanks precede it on its line; undefined otherwise. */
function columnOf(source: string, pos: number): number | undefined {
  const lineStart = source.lastIndexOf('\n', pos - 1) + 1;
  return /^[ \t]*$/.test(source.slice(lineStart, pos)) ? pos - lineStart : undefined;
}

/** Where a new line goes after the line holding `pos`: before its line break (so `eol + text` is inserted there). */
function endOfLine(source: string, pos: number): number {
  const nl = source.indexOf('\n', pos);
  if (nl < 0) return source.length;
  return source[nl - 1] === '\r' ? nl - 1 : nl;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The indentation step the file uses for nested block mappings (2 unless it shows another). */
function indentStep(source: string, root: YAMLMap): number {
  for (const p of root.items) {
    if (isMap(p.value) && !p.value.flow && p.value.items[0]) {
      const keyCol = columnOf(source, rangeOf(p.key)?.[0] ?? -1);
      const childCol = columnOf(source, rangeOf(p.value.items[0].key)?.[0] ?? -1);
      if (keyCol !== undefined && childCol !== undefined && childCol > keyCol) return childCol - keyCol;
    }
  }
  return 2;
}

/** Replaces a value in place; a trailing comment keeps its column when the blanks before it allow. */
function replaceValue(source: string, range: Range, text: string): Edit {
  const [start, end] = range;
  const gap = /^( +)#/.exec(source.slice(end));
  if (!gap) return { start, end, text };
  const spaces = gap[1]!.length - (text.length - (end - start));
  return { start, end: end + gap[1]!.length, text: text + ' '.repeat(Math.max(1, spaces)) };
}

/** Values to set under one top-level key, as YAML text (a number, or a plain or quoted scalar). */
type SectionValues = Record<string, string>;

function surgicalEdits(source: string, doc: Document, section: string, v: SectionValues): Edit[] | undefined {
  const root = doc.contents;
  if (!isMap(root) || root.flow) return undefined;
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  const step = indentStep(source, root);
  const keys = Object.keys(v);
  const lines = (indent: number, ks: string[]) => ks.map((k) => `${' '.repeat(indent)}${k}: ${v[k]}`);

  const block = findPair(root, section);
  if (!block) {
    const rootCol = columnOf(source, rangeOf(root.items[0]?.key)?.[0] ?? -1);
    if (rootCol !== 0) return undefined;
    const sep = source === '' || source.endsWith('\n') ? '' : eol;
    const text = sep + [`${section}:`, ...lines(step, keys)].join(eol) + eol;
    return [{ start: source.length, end: source.length, text }];
  }

  const keyRange = rangeOf(block.key);
  if (!keyRange) return undefined;
  const value = block.value;
  if (value === null || (isScalar(value) && value.value === null)) {
    // `etcd:` with nothing after it (a bare key, perhaps with a comment): the block goes under it.
    const r = rangeOf(value);
    if (r && r[1] > r[0]) return undefined; // an explicit `null` or `~`
    const keyCol = columnOf(source, keyRange[0]);
    if (keyCol === undefined) return undefined;
    const at = endOfLine(source, keyRange[1]);
    return [{ start: at, end: at, text: eol + lines(keyCol + step, keys).join(eol) }];
  }
  if (!isMap(value)) throw new Error(`the inventory's \`${section}\` is not a mapping`);

  const edits: Edit[] = [];
  const missing: string[] = [];
  for (const k of keys) {
    const pair = findPair(value, k);
    const r = rangeOf(pair?.value);
    if (pair && r) edits.push(replaceValue(source, r, v[k]!));
    else if (pair) return undefined; // `key:` without a value
    else missing.push(k);
  }
  if (missing.length > 0) {
    if (value.flow) return undefined;
    const first = value.items[0];
    const last = value.items.at(-1);
    if (!first || !last) return undefined;
    const col = columnOf(source, rangeOf(first.key)?.[0] ?? -1);
    const lastEnd = rangeOf(last.value)?.[1] ?? rangeOf(last.key)?.[1];
    if (col === undefined || lastEnd === undefined) return undefined;
    // A value that ends with its line break (block scalar) has ended the line already.
    const at = source[lastEnd - 1] === '\n' ? lastEnd : endOfLine(source, lastEnd);
    const text = source[lastEnd - 1] === '\n' ? lines(col, missing).join(eol) + eol : eol + lines(col, missing).join(eol);
    edits.push({ start: at, end: at, text });
  }
  return edits;
}

function applyEdits(source: string, edits: Edit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/**
 * The inventory text with `section.key` set for each of `values` (the section is created when absent). Only those
 * values change; comments and layout are kept. Throws on invalid YAML or a section that is not a mapping.
 */
export function setSectionValues(source: string, section: string, values: Record<string, string | number>): string {
  const doc = parse(source);

  // What doc.setIn makes of it: the reference the text edit must match.
  const want = parse(source);
  const block = want.get(section, true);
  if (block === undefined || block === null || (isScalar(block) && block.value === null)) {
    want.set(section, want.createNode(values));
  } else if (!isMap(block)) {
    throw new Error(`the inventory's \`${section}\` is not a mapping`);
  } else {
    for (const [k, v] of Object.entries(values)) want.setIn([section, k], v);
  }
  const expected: unknown = want.toJS();

  const texts = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, yamlScalar(v)]));
  const edits = surgicalEdits(source, doc, section, texts);
  if (edits) {
    const out = applyEdits(source, edits);
    const check = parseDocument(out);
    if (check.errors.length === 0 && isDeepStrictEqual(check.toJS(), expected)) return out;
  }
  return want.toString({ lineWidth: 0 });
}

/** A value as a YAML scalar: plain when it reads back as the same string, else double-quoted. */
function yamlScalar(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const plain = parseDocument(`k: ${v}`).toJS() as { k?: unknown } | null;
  return /^[A-Za-z0-9_./-][A-Za-z0-9_./:-]*$/.test(v) && plain?.k === v ? v : JSON.stringify(v);
}

/**
 * The inventory text with `etcd.heartbeatInterval` and `etcd.electionTimeout` set. Throws on values etcd would
 * refuse (election < 5× heartbeat, election > 50000 ms).
 */
export function setEtcdTiming(source: string, values: EtcdTimingValues): string {
  checkValues(values);
  return setSectionValues(source, 'etcd', { heartbeatInterval: values.heartbeatInterval, electionTimeout: values.electionTimeout });
}

/** Sets the two timing values in an inventory file (see writeInventoryEdit). */
export function writeEtcdTiming(file: string, values: EtcdTimingValues): Promise<{ file: string; changed: boolean }> {
  return writeInventoryEdit(file, (source) => setEtcdTiming(source, values));
}

/** Sets `cluster.token` in an inventory file (see writeInventoryEdit): after a restore, the token the WALs hold. */
export function writeClusterToken(file: string, token: string): Promise<{ file: string; changed: boolean }> {
  return writeInventoryEdit(file, (source) => setSectionValues(source, 'cluster', { token }));
}

/**
 * Rewrites an inventory file with `edit`: the new text goes to a temp file next to it (same mode, and owner when
 * run as root), is synced, then renamed over the file, so a crash leaves either the old or the new file. A
 * symlink is followed (its target is rewritten). No write when nothing changes.
 */
export async function writeInventoryEdit(file: string, edit: (source: string) => string): Promise<{ file: string; changed: boolean }> {
  const real = await realpath(file);
  const st = await stat(real);
  const source = await readFile(real, 'utf8');
  const out = edit(source);
  if (out === source) return { file: real, changed: false };

  const mode = st.mode & 0o7777;
  const tmp = path.join(path.dirname(real), `.${path.basename(real)}.hardway-tmp.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(out, 'utf8');
      await fh.chmod(mode); // explicit: the umask must not narrow it
      if (process.getuid?.() === 0) await fh.chown(st.uid, st.gid).catch(() => {});
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, real);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await syncDir(path.dirname(real));
  return { file: real, changed: true };
}
