import { isIP } from 'node:net';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type * as z from 'zod';
import type { FileProblem } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { faultTolerance, isLoopback, MAX_ELECTION_TIMEOUT_MS, MIN_ELECTION_TO_HEARTBEAT } from './derive.js';
import { inventorySchema, type ParsedInventory } from './schema.js';
import type { Inventory, NodeSpec, SshSettings } from './types.js';

export interface ValidateOptions {
  /** The file name used in messages and to resolve relative paths. */
  file: string;
  /** Directory relative paths are resolved against (default: the file's directory). */
  baseDir?: string;
  /** Expands `~` (default: no expansion beyond what the caller passes). */
  homeDir?: string;
}

export interface ValidationResult {
  inventory?: Inventory;
  warnings: FileProblem[];
  errors: FileProblem[];
}

/** DNS-1123 label: what a member name must be so that it cannot corrupt `--initial-cluster`. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

type PathKey = string | number;

/** Where a problem is placed: the value at a key path, or (preferKey) the key itself. */
type Place = (keyPath: PathKey[], message: string, preferKey?: boolean) => FileProblem;

/** The node at a path of keys ([] is the document's root), as a node even when it is a scalar. */
function nodeAt(doc: Document, keyPath: PathKey[]): YamlNode | undefined {
  return doc.getIn(keyPath, true) as YamlNode | undefined;
}

/**
 * The key node that names the last step of `keyPath` in its mapping. Compared as text: YAML reads `8080:` or `-5:`
 * as a number, which the parsed object (and so the key path) holds as the string '8080'.
 */
function keyNodeAt(doc: Document, keyPath: PathKey[]): YamlNode | undefined {
  const parent = nodeAt(doc, keyPath.slice(0, -1));
  if (!isMap(parent)) return undefined;
  const name = String(keyPath[keyPath.length - 1]);
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === name);
  return pair?.key as YamlNode | undefined;
}

/** The node at the longest part of `keyPath` that the document has (at worst its root), if that has a place. */
function nearestNode(doc: Document, keyPath: PathKey[]): YamlNode | undefined {
  for (let n = keyPath.length; n >= 0; n--) {
    const node = nodeAt(doc, keyPath.slice(0, n));
    if (node?.range) return node;
  }
  return undefined;
}

/** Where a path of keys points in the document; falls back to the nearest ancestor that exists. */
function locate(doc: Document, lc: LineCounter, keyPath: PathKey[], preferKey: boolean): { line: number; col: number } {
  const target = (preferKey ? keyNodeAt(doc, keyPath) : undefined) ?? nearestNode(doc, keyPath);
  if (!target?.range) return { line: 1, col: 1 };
  const pos = lc.linePos(target.range[0]);
  return { line: pos.line, col: pos.col };
}

/** The keys the schema allows in the mapping at `keyPath` (array indexes and wrappers such as defaults skipped). */
export function knownKeysAt(schema: z.core.$ZodType, keyPath: PathKey[]): string[] {
  const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; innerType?: z.core.$ZodType; options?: z.core.$ZodType[] };
  if (def.innerType) return knownKeysAt(def.innerType, keyPath);
  if (def.type === 'union') return [...new Set(def.options!.flatMap((o) => knownKeysAt(o, keyPath)))];
  if (def.type === 'array') return typeof keyPath[0] === 'number' ? knownKeysAt(def.element!, keyPath.slice(1)) : [];
  if (def.type === 'object') {
    if (!keyPath.length) return Object.keys(def.shape!);
    const next = def.shape![String(keyPath[0])];
    return next ? knownKeysAt(next, keyPath.slice(1)) : [];
  }
  return [];
}

/** An unknown key, with the known key of that mapping it was probably meant to be. */
function unknownKeyMessage(key: string, mappingPath: PathKey[]): string {
  const hint = didYouMean(key, knownKeysAt(inventorySchema, mappingPath));
  return hint ? `unknown key '${key}': ${hint} (see inventory.example.yaml)` : `unknown key '${key}' (check the spelling; see inventory.example.yaml)`;
}

function zodIssueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    const key = issue.path[issue.path.length - 1];
    return `missing required key '${String(key)}'`;
  }
  return issue.message;
}

/** f over one value, or over each value of a per-architecture map. */
function mapValues<V extends string | Record<string, string>>(v: V, f: (s: string) => string): V {
  return (typeof v === 'string' ? f(v) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)]))) as V;
}

function expandPath(p: string, baseDir: string, homeDir?: string): string {
  if (homeDir && (p === '~' || p.startsWith('~/'))) return path.join(homeDir, p.slice(1));
  return path.resolve(baseDir, p);
}

/** YAML's own errors and warnings, each by the first line of its message. */
function yamlProblems(doc: Document, lc: LineCounter, file: string): { errors: FileProblem[]; warnings: FileProblem[] } {
  const problem = (e: (typeof doc.errors)[number] | (typeof doc.warnings)[number]): FileProblem => {
    const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
    return { file, line: pos.line, col: pos.col, message: `YAML: ${e.message.split('\n')[0]}` };
  };
  return { errors: doc.errors.map(problem), warnings: doc.warnings.map(problem) };
}

/** The schema's issues: an unknown key at the key itself (one problem per key), any other at the value. */
function schemaProblems(issues: z.core.$ZodIssue[], at: Place): FileProblem[] {
  return issues.flatMap((issue) => {
    const keyPath = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => at([...keyPath, key], unknownKeyMessage(key, keyPath), true));
    const where = keyPath.length ? `${keyPath.join('.')}: ` : '';
    return [at(keyPath, `${where}${zodIssueMessage(issue)}`)];
  });
}

/** Plain HTTP only where no byte leaves the machine: one node, on loopback (the current edition's server). */
function plainHttpProblems(inv: ParsedInventory, at: Place): FileProblem[] {
  if (inv.etcd.tls) return [];
  const errors: FileProblem[] = [];
  if (inv.nodes.length !== 1) {
    errors.push(
      at(['etcd', 'tls'], `etcd.tls: false sends etcd's traffic unencrypted: it is only for a single node on loopback; with ${inv.nodes.length} nodes the peers talk over the network, which needs TLS`, true),
    );
  }
  inv.nodes.forEach((node, i) => {
    if (node.internalIp !== undefined && !isLoopback(node.internalIp)) {
      errors.push(at(['nodes', i, 'internalIp'], `node '${node.name}': with etcd.tls: false etcd must stay on loopback (internalIp 127.0.0.1, the default then), not '${node.internalIp}': plain HTTP on a network address needs TLS`));
    }
  });
  return errors;
}

/** Node-level checks the schema cannot express: member names, IP addresses, and values two nodes must not share. */
function nodeProblems(inv: ParsedInventory, at: Place): FileProblem[] {
  const errors: FileProblem[] = [];
  const seen = { name: new Map<string, number>(), address: new Map<string, number>(), internalIp: new Map<string, number>() };
  inv.nodes.forEach((node, i) => {
    if (!DNS1123_LABEL.test(node.name)) {
      errors.push(
        at(
          ['nodes', i, 'name'],
          `node name '${node.name}' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63, ` +
            `starting and ending with a letter or digit); spaces, commas or '=' would corrupt --initial-cluster`,
        ),
      );
    }
    const internalIp = node.internalIp ?? (inv.etcd.tls || inv.nodes.length > 1 ? node.address : '127.0.0.1');
    if (!isIP(internalIp)) {
      errors.push(
        node.internalIp === undefined
          ? at(['nodes', i, 'address'], `node '${node.name}': address '${node.address}' is not an IP address, so internalIp must be set (etcd's peer/client IP)`)
          : at(['nodes', i, 'internalIp'], `node '${node.name}': internalIp '${node.internalIp}' is not an IP address`),
      );
    }
    const values = { name: node.name, address: node.address, internalIp };
    for (const key of ['name', 'address', 'internalIp'] as const) {
      const first = seen[key].get(values[key]);
      if (first !== undefined) {
        const field = key === 'internalIp' && node.internalIp === undefined ? 'address' : key;
        errors.push(
          at(['nodes', i, field], `duplicate ${key} '${values[key]}': node ${first + 1} (${inv.nodes[first]!.name}) has it too`),
        );
      } else {
        seen[key].set(values[key], i);
      }
    }
  });
  return errors;
}

/** Where the etcd release comes from: a tarball or a url with its sum, either one value or a map per architecture. */
function releaseProblems(inv: ParsedInventory, at: Place): FileProblem[] {
  const errors: FileProblem[] = [];
  if (inv.etcd.tarball && inv.etcd.url) {
    errors.push(at(['etcd', 'url'], 'etcd: give either tarball or url + sha256, not both', true));
  }
  if (inv.etcd.url && !inv.etcd.sha256) {
    errors.push(at(['etcd', 'url'], 'etcd.url needs etcd.sha256 so the download can be verified', true));
  }
  for (const key of ['tarball', 'url'] as const) {
    const v = inv.etcd[key];
    if (typeof v === 'object' && Object.keys(v).length === 0) errors.push(at(['etcd', key], `etcd.${key}: the map names no architecture (amd64, arm64, ppc64le, s390x)`));
  }
  const { url, sha256 } = inv.etcd;
  if (!url || !sha256) return errors;
  if (typeof url !== typeof sha256) {
    errors.push(at(['etcd', 'sha256'], 'etcd.url and etcd.sha256 must both be one value, or both a map per architecture', true));
  } else if (typeof url !== 'string') {
    // Both are maps (the types are alike, checked just above).
    const sums = sha256 as Partial<Record<string, string>>;
    const missing = Object.keys(url).filter((a) => !(a in sums));
    if (missing.length) errors.push(at(['etcd', 'sha256'], `etcd.sha256 has no sum for ${missing.join(', ')} (etcd.url downloads it)`, true));
  }
  return errors;
}

/** The limits etcd itself puts on its timing, and extraFlags keys that would not make a flag. */
function etcdSettingProblems(inv: ParsedInventory, at: Place): FileProblem[] {
  const errors: FileProblem[] = [];
  const { heartbeatInterval: hb, electionTimeout: et } = inv.etcd;
  if (et < MIN_ELECTION_TO_HEARTBEAT * hb) {
    errors.push(
      at(
        ['etcd', 'electionTimeout'],
        `electionTimeout (${et} ms) must be at least ${MIN_ELECTION_TO_HEARTBEAT}× heartbeatInterval (${hb} ms); etcd refuses to start otherwise (10× is recommended: ${hb * 10})`,
      ),
    );
  }
  if (et > MAX_ELECTION_TIMEOUT_MS) {
    errors.push(at(['etcd', 'electionTimeout'], `electionTimeout ${et} ms is over etcd's limit of ${MAX_ELECTION_TIMEOUT_MS} ms`));
  }
  for (const flag of Object.keys(inv.etcd.extraFlags)) {
    if (flag.startsWith('-') || /[\s=]/.test(flag)) {
      errors.push(at(['etcd', 'extraFlags', flag], `extraFlags key '${flag}' must be a bare flag name such as 'auto-compaction-retention' (no leading '--', spaces or '=')`, true));
    }
  }
  return errors;
}

/** Member counts etcd runs with but advises against. */
function memberCountWarnings(inv: ParsedInventory, at: Place): FileProblem[] {
  const warnings: FileProblem[] = [];
  const n = inv.nodes.length;
  if (n % 2 === 0) {
    const table = [1, 2, 3, 4, 5, 6, 7].map((m) => `${m}→${faultTolerance(m)}`).join(', ');
    warnings.push(
      at(
        ['nodes'],
        `${n} nodes: an even number of members tolerates no more failures than ${n - 1} (members→failures tolerated: ${table}); use ${n - 1} or ${n + 1}`,
      ),
    );
  }
  if (n > 7) {
    warnings.push(at(['nodes'], `${n} members: more than 7 slows every write (each needs a quorum of ${Math.floor(n / 2) + 1}); etcd recommends 3, 5 or 7`));
  }
  return warnings;
}

/** The inventory a valid file describes: paths resolved, each node's SSH settings merged with the file's. */
function buildInventory(inv: ParsedInventory, raw: Record<string, unknown>, file: string, baseDir: string, homeDir: string | undefined): Inventory {
  const resolve = (p: string) => expandPath(p, baseDir, homeDir);
  const rawSsh = (raw.ssh ?? {}) as Record<string, unknown>;
  const rawNodes = raw.nodes as Record<string, unknown>[];
  const overridable = ['user', 'port', 'identityFile', 'jumpHost'];
  const ssh: SshSettings = {
    defaulted: overridable.filter((k) => rawSsh[k] === undefined),
    user: inv.ssh.user,
    port: inv.ssh.port,
    identityFile: resolve(inv.ssh.identityFile),
    knownHosts: resolve(inv.ssh.knownHosts),
    sudo: inv.ssh.sudo,
    ...(inv.ssh.jumpHost ? { jumpHost: inv.ssh.jumpHost } : {}),
    ...(inv.ssh.config ? { config: resolve(inv.ssh.config) } : {}),
  };
  const nodes: NodeSpec[] = inv.nodes.map((node, i) => {
    const jumpHost = node.jumpHost ?? ssh.jumpHost;
    const defaulted = ssh.defaulted.filter((k) => rawNodes[i]![k] === undefined);
    return {
      name: node.name,
      address: node.address,
      internalIp: node.internalIp ?? (inv.etcd.tls ? node.address : '127.0.0.1'),
      ...(inv.etcd.tls ? {} : { plainHttp: true as const }),
      ssh: {
        ...ssh,
        user: node.user ?? ssh.user,
        port: node.port ?? ssh.port,
        identityFile: node.identityFile ? resolve(node.identityFile) : ssh.identityFile,
        sudo: node.sudo ?? ssh.sudo,
        ...(jumpHost ? { jumpHost } : {}),
        defaulted,
      },
    };
  });
  return {
    file,
    cluster: inv.cluster,
    etcd: { ...inv.etcd, ...(inv.etcd.tarball ? { tarball: mapValues(inv.etcd.tarball, resolve) } : {}) },
    pki: { ...inv.pki, dir: resolve(inv.pki.dir) },
    snapshots: { dir: resolve(inv.snapshots.dir), keep: inv.snapshots.keep },
    ssh,
    ...(inv.templates ? { templates: resolve(inv.templates) } : {}),
    nodes,
  };
}

/**
 * Validates an inventory's text. Pure: no file system, no environment; every problem carries file:line:col.
 * Errors make `inventory` undefined; warnings do not.
 */
export function validateInventory(source: string, opts: ValidateOptions): ValidationResult {
  const { file } = opts;
  const lc = new LineCounter();
  // YAML refuses a key given twice in one mapping (its default): a typo'd copy must not silently win.
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false });
  const { errors, warnings } = yamlProblems(doc, lc, file);
  if (errors.length) return { errors, warnings: [] };

  const at: Place = (keyPath, message, preferKey = false) => ({ file, ...locate(doc, lc, keyPath, preferKey), message });

  const raw: unknown = doc.toJS();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { errors: [at([], 'the inventory must be a mapping with at least a `nodes:` list')], warnings };
  }
  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) return { errors: schemaProblems(parsed.error.issues, at), warnings };
  const inv = parsed.data;

  errors.push(...plainHttpProblems(inv, at), ...nodeProblems(inv, at), ...releaseProblems(inv, at), ...etcdSettingProblems(inv, at));
  warnings.push(...memberCountWarnings(inv, at));
  if (errors.length) return { errors, warnings };
  return { inventory: buildInventory(inv, raw as Record<string, unknown>, file, opts.baseDir ?? path.dirname(file), opts.homeDir), warnings, errors };
}
