/**
 * The signature catalog (signatures.json, the one data file) and matching of journal entries against it.
 *
 * A non-JSON entry (journald text, capnslog, raft lines, systemd) is tested with `pattern34`: regexes on the
 * entry's message, whose named groups become the match's evidence. A zap JSON entry (3.4 `--logger=zap`,
 * 3.5, 3.6) is tested with `patternJson`: a regex on `msg`, regexes on other fields (each must exist and match)
 * and `capture` (fields copied into the groups). A signature applies to entries of its `sources`; an entry of
 * unknown origin (ident '') is tried against every signature, an entry of another program (nginx, sshd…) never.
 */
import * as z from 'zod';
import type { EntrySource, JournalEntry } from './parse.js';
import catalogData from './signatures.json' with { type: 'json' };

export type Severity = 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

const regexSource = z.string().min(1);
const jsonPatternSchema = z
  .strictObject({
    msg: regexSource.optional(),
    fields: z.record(z.string(), regexSource).optional(),
    capture: z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).optional(),
  })
  .refine((p) => p.msg !== undefined || (p.fields !== undefined && Object.keys(p.fields).length > 0), {
    message: 'a JSON pattern needs msg or fields',
  });

const signatureSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Z]+-[0-9A-Z]+[a-z]?$/),
    severity: z.enum(['error', 'warning', 'info']),
    /**
     * etcd logs some of these for any single outlier (one apply over 100 ms on a busy laptop): fewer lines than this
     * in the window are a note, not a warning.
     */
    minCount: z.number().int().min(2).optional(),
    title: z.string().min(1),
    sources: z.array(z.enum(['etcd', 'systemd'])).min(1),
    /** Counted by an analysis instead of being reported alone (RAFT-* → elections). */
    analysis: z.literal('elections').optional(),
    /** Produced by an analysis, not by a log line (ELECT-*): both patterns are null. */
    derived: z.literal('elections').optional(),
    pattern34: z.array(regexSource).min(1).nullable(),
    patternJson: z.array(jsonPatternSchema).min(1).nullable(),
    /** Why a form does not exist (required when a pattern is null). */
    note: z.string().min(1).optional(),
    meaning: z.string().min(1),
    fix: z.string().min(1),
    /** Section of the reference catalog. */
    ref: z.string().optional(),
    /**
     * Lines that say the problem is over (a peer that "became active" again): a finding all of whose lines are
     * followed, on the same host and for the same `key` group, by one of these is history, not a problem now.
     */
    resolvedBy: z
      .strictObject({
        key: z.string().min(1).optional(),
        pattern34: z.array(regexSource).min(1),
        patternJson: z.array(jsonPatternSchema).min(1),
      })
      .optional(),
  })
  .refine((s) => (s.pattern34 !== null && s.patternJson !== null) || s.note !== undefined, {
    message: 'a signature without a 3.4 or a JSON form needs a note saying why',
  })
  .refine((s) => (s.derived !== undefined) === (s.pattern34 === null && s.patternJson === null), {
    message: 'only derived signatures (and all of them) have no pattern at all',
  });

const catalogSchema = z.strictObject({
  $comment: z.string().optional(),
  signatures: z.array(signatureSchema).min(1),
});

export type SignatureDef = z.infer<typeof signatureSchema>;
export type JsonPatternDef = z.infer<typeof jsonPatternSchema>;

interface CompiledJsonPattern {
  msg?: RegExp;
  fields: [string, RegExp][];
  capture: [string, string[]][];
}

export interface Signature extends SignatureDef {
  re34: RegExp[];
  reJson: CompiledJsonPattern[];
  /** `resolvedBy` compiled as a signature of its own (id `<id>/resolved`), to match with `matchSignatures`. */
  resolver?: Signature;
}

export interface Match {
  id: string;
  signature: Signature;
  entry: JournalEntry;
  /** Named groups of the regexes that matched, plus captured zap fields. */
  groups: Record<string, string>;
  /** Which form matched: '34' (text) or 'json' (zap). */
  form: '34' | 'json';
}

function compile(source: string, where: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new Error(`signature catalog: bad regex in ${where}: ${(e as Error).message}`);
  }
}

/** Validates and compiles a catalog (the parsed JSON). Throws on a malformed catalog: that is a bug. */
export function compileCatalog(data: unknown): Signature[] {
  const parsed = catalogSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`signature catalog: ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  const seen = new Set<string>();
  return parsed.data.signatures.map((def) => {
    if (seen.has(def.id)) throw new Error(`signature catalog: duplicate id ${def.id}`);
    seen.add(def.id);
    const { re34, reJson } = compilePatterns(def.id, def.pattern34 ?? [], def.patternJson ?? []);
    const r = def.resolvedBy;
    const resolver = r ? { ...def, id: `${def.id}/resolved`, resolvedBy: undefined, ...compilePatterns(`${def.id}.resolvedBy`, r.pattern34, r.patternJson) } : undefined;
    return { ...def, re34, reJson, ...(resolver ? { resolver } : {}) };
  });
}

function compilePatterns(where: string, pattern34: string[], patternJson: JsonPatternDef[]): { re34: RegExp[]; reJson: CompiledJsonPattern[] } {
  return {
    re34: pattern34.map((p, i) => compile(p, `${where}.pattern34[${i}]`)),
    reJson: patternJson.map((p, i) => ({
      msg: p.msg !== undefined ? compile(p.msg, `${where}.patternJson[${i}].msg`) : undefined,
      fields: Object.entries(p.fields ?? {}).map(([k, v]) => [k, compile(v, `${where}.patternJson[${i}].fields.${k}`)] as [string, RegExp]),
      capture: Object.entries(p.capture ?? {}).map(([g, f]) => [g, Array.isArray(f) ? f : [f]] as [string, string[]]),
    })),
  };
}

let cached: Signature[] | undefined;

/** The built-in catalog (src/verify/signatures.json), validated and compiled once. */
export function loadCatalog(): Signature[] {
  cached ??= compileCatalog(catalogData);
  return cached;
}

export function signatureById(id: string, catalog: Signature[] = loadCatalog()): Signature | undefined {
  return catalog.find((s) => s.id === id);
}

function addGroups(into: Record<string, string>, m: RegExpExecArray): void {
  for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined && into[k] === undefined) into[k] = v;
}

/** A zap field as text (strings unquoted, the rest as JSON). */
export function fieldValue(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function matchJson(p: CompiledJsonPattern, fields: Record<string, unknown>): Record<string, string> | undefined {
  const groups: Record<string, string> = {};
  if (p.msg) {
    const msg = typeof fields.msg === 'string' ? fields.msg : undefined;
    if (msg === undefined) return undefined;
    const m = p.msg.exec(msg);
    if (!m) return undefined;
    addGroups(groups, m);
  }
  for (const [name, re] of p.fields) {
    const v = fieldValue(fields[name]);
    if (v === undefined) return undefined;
    const m = re.exec(v);
    if (!m) return undefined;
    addGroups(groups, m);
  }
  for (const [group, names] of p.capture) {
    if (groups[group] !== undefined) continue;
    for (const n of names) {
      const v = fieldValue(fields[n]);
      if (v !== undefined && v !== 'null' && v !== '') {
        groups[group] = v;
        break;
      }
    }
  }
  return groups;
}

function applies(sig: Signature, source: EntrySource, ident: string): boolean {
  if (source === 'other') return ident === '';
  return (sig.sources as string[]).includes(source);
}

/** Longer messages are matched on their first 64 KiB (journald's own line limit is 48 KiB). */
const MAX_MATCH_LENGTH = 64 * 1024;

/** The signatures one entry matches (several are possible, each at most once). */
export function matchEntry(entry: JournalEntry, catalog: Signature[] = loadCatalog()): Match[] {
  const out: Match[] = [];
  const message = entry.message.length > MAX_MATCH_LENGTH ? entry.message.slice(0, MAX_MATCH_LENGTH) : entry.message;
  const isJson = entry.fields !== undefined && typeof entry.fields.msg === 'string';
  for (const sig of catalog) {
    if (!applies(sig, entry.source, entry.ident)) continue;
    if (isJson) {
      for (const p of sig.reJson) {
        const groups = matchJson(p, entry.fields!);
        if (groups) {
          out.push({ id: sig.id, signature: sig, entry, groups, form: 'json' });
          break;
        }
      }
    } else {
      for (const re of sig.re34) {
        const m = re.exec(message);
        if (m) {
          const groups: Record<string, string> = {};
          addGroups(groups, m);
          out.push({ id: sig.id, signature: sig, entry, groups, form: '34' });
          break;
        }
      }
    }
  }
  return out;
}

/** Every match of every entry, in entry order. */
export function matchSignatures(entries: JournalEntry[], catalog: Signature[] = loadCatalog()): Match[] {
  const out: Match[] = [];
  for (const e of entries) out.push(...matchEntry(e, catalog));
  return out;
}

/**
 * Fills `{name}` / `{name|default}` from groups (distinct values joined by ', '); a missing value without a
 * default becomes '?'. `${NAME}` (shell variables in fixes) is left alone.
 */
export function fillTemplate(text: string, groups: Record<string, string[]>): string {
  return text.replace(/(?<!\$)\{([A-Za-z]\w*)(?:\|([^}]*))?\}/g, (_all, name: string, dflt: string | undefined) => {
    const values = groups[name]?.filter((v) => v !== '') ?? [];
    if (values.length > 0) return values.join(', ');
    return dflt ?? '?';
  });
}
