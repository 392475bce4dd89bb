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

/** Where a path of keys points in the document; falls back to the nearest ancestor that exists. */
function locate(doc: Document, lc: LineCounter, keyPath: PathKey[], preferKey = false): { line: number; col: number } {
  for (let n = keyPath.length; n >= 0; n--) {
    const sub = keyPath.slice(0, n);
    let target: YamlNode | undefined;
    if (preferKey && n === keyPath.length && n > 0) {
      const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === sub[sub.length - 1]);
        if (pair && isScalar(pair.key)) target = pair.key;
      }
    }
    target ??= (sub.length === 0 ? doc.contents : doc.getIn(sub, true)) as YamlNode | undefined;
    if (target && (target as { range?: unknown }).range) {
      const range = (target as { range: [number, number, number] }).range;
      const pos = lc.linePos(range[0]);
      return { line: pos.line, col: pos.col };
    }
  }
  return { line: 1, col: 1 };
}

/** The keys the schema allows in the mapping at `keyPath` (array indexes and wrappers such as defaults skipped). */
export function knownKeysAt(schema: z.core.$ZodType, keyPath: PathKey[]): string[] {
  const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; innerType?: z.core.$ZodType; options?: z.core.$ZodType[] };
  if (def.innerType) return knownKeysAt(def.innerType, keyPath);
  if (def.type === 'union') return [...new Set((def.options ?? []).flatMap((o) => knownKeysAt(o, keyPath)))];
  if (def.type === 'array' && def.element) return typeof keyPath[0] === 'number' ? knownKeysAt(def.element, keyPath.slice(1)) : [];
  if (def.type === 'object' && def.shape) {
    if (!keyPath.length) return Object.keys(def.shape);
    const next = def.shape[String(keyPath[0])];
    return next ? knownKeysAt(next, keyPath.slice(1)) : [];
  }
  return [];
}

function zodIssueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    const known = knownKeysAt(inventorySchema, issue.path.filter((k): k is PathKey => typeof k !== 'symbol'));
    const hint = issue.keys.length === 1 ? didYouMean(issue.keys[0]!, known) : undefined;
    return hint ? `unknown key ${keys}: ${hint} (see inventory.example.yaml)` : `unknown key ${keys} (check the spelling; see inventory.example.yaml)`;
  }
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

/**
 * Validates an inventory's text. Pure: no file system, no environment; every problem carries file:line:col.
 * Errors make `inventory` undefined; warnings do not.
 */
export function validateInventory(source: string, opts: ValidateOptions): ValidationResult {
  const { file } = opts;
  const baseDir = opts.baseDir ?? path.dirname(file);
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: FileProblem[] = [];
  const warnings: FileProblem[] = [];

  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
    errors.push({ file, line: pos.line, col: pos.col, message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (errors.length) return { errors, warnings };
  for (const w of doc.warnings) {
    const pos = w.linePos?.[0] ?? lc.linePos(w.pos[0]);
    warnings.push({ file, line: pos.line, col: pos.col, message: `YAML: ${w.message.split('\n')[0]}` });
  }

  const at = (keyPath: PathKey[], message: string, preferKey = false): FileProblem => ({
    file,
    ...locate(doc, lc, keyPath, preferKey),
    message,
  });

  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push(at([], 'the inventory must be a mapping with at least a `nodes:` list'));
    return { errors, warnings };
  }

  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const keyPath = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          errors.push(at([...keyPath, key], zodIssueMessage({ ...issue, keys: [key] }), true));
        }
      } else {
        const where = keyPath.length ? `${keyPath.join('.')}: ` : '';
        errors.push(at(keyPath, `${where}${zodIssueMessage(issue)}`));
      }
    }
    return { errors, warnings };
  }
  const inv: ParsedInventory = parsed.data;

  // Plain HTTP only where no byte leaves the machine: one node, on loopback (the current edition's server).
  if (!inv.etcd.tls) {
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
  }

  // Node-level checks the schema cannot express.
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

  if (inv.etcd.tarball && inv.etcd.url) {
    errors.push(at(['etcd', 'url'], 'etcd: give either tarball or url + sha256, not both', true));
  }
  if (inv.etcd.url && !inv.etcd.sha256) {
    errors.push(at(['etcd', 'url'], 'etcd.url needs etcd.sha256 so the download can be verified', true));
  }
  for (const key of ['tarball', 'url'] as const) {
    const v = inv.etcd[key];
    if (v !== undefined && typeof v !== 'string' && Object.keys(v).length === 0) errors.push(at(['etcd', key], `etcd.${key}: the map names no architecture (amd64, arm64, ppc64le, s390x)`));
  }
  const { url, sha256 } = inv.etcd;
  if (url && sha256 && (typeof url === 'string') !== (typeof sha256 === 'string')) {
    errors.push(at(['etcd', 'sha256'], 'etcd.url and etcd.sha256 must both be one value, or both a map per architecture', true));
  } else if (url && sha256 && typeof url !== 'string' && typeof sha256 !== 'string') {
    const missing = Object.keys(url).filter((a) => !(a in sha256));
    if (missing.length) errors.push(at(['etcd', 'sha256'], `etcd.sha256 has no sum for ${missing.join(', ')} (etcd.url downloads it)`, true));
  }

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

  if (errors.length) return { errors, warnings };

  const resolve = (p: string) => expandPath(p, baseDir, opts.homeDir);
  const rawSsh = ((raw as Record<string, unknown>).ssh ?? {}) as Record<string, unknown>;
  const rawNodes = (raw as { nodes: Record<string, unknown>[] }).nodes;
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
    const defaulted = ssh.defaulted.filter((k) => rawNodes[i]?.[k] === undefined);
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

  const inventory: Inventory = {
    file,
    cluster: inv.cluster,
    etcd: { ...inv.etcd, ...(inv.etcd.tarball ? { tarball: mapValues(inv.etcd.tarball, resolve) } : {}) },
    pki: { ...inv.pki, dir: resolve(inv.pki.dir) },
    snapshots: { dir: resolve(inv.snapshots.dir), keep: inv.snapshots.keep },
    ssh,
    ...(inv.templates ? { templates: resolve(inv.templates) } : {}),
    nodes,
  };
  return { inventory, warnings, errors };
}
