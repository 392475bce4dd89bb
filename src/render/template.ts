import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { UsageError } from '../errors.js';
import { clientUrl, initialCluster, listenClientUrls, peerUrl } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { REMOTE_PATHS } from './paths.js';

/** The unit template's file name, in the built-in directory or the user's. */
export const UNIT_TEMPLATE = 'etcd.service.hbs';

/** The package root: the directory holding package.json, above this module (src/render or dist/render). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`hardway: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The templates shipped with hardway (`<package>/templates`). */
export const BUILTIN_TEMPLATES_DIR = path.join(packageRoot(), 'templates');

export type TemplatesSource = 'flag' | 'inventory' | 'builtin';

/** `--templates DIR` (relative to the working directory) > the inventory's `templates` > the built-in ones. */
export function resolveTemplatesDir(inv: Pick<Inventory, 'templates'>, flagDir?: string): { dir: string; source: TemplatesSource } {
  if (flagDir) return { dir: path.resolve(flagDir), source: 'flag' };
  if (inv.templates) return { dir: inv.templates, source: 'inventory' };
  return { dir: BUILTIN_TEMPLATES_DIR, source: 'builtin' };
}

/**
 * One ExecStart argument, written so that systemd passes it to etcd unchanged: `%` (specifiers) and `$`
 * (environment variables) doubled, and quoted when it holds whitespace, quotes or backslashes.
 */
export function systemdArg(value: string | number | boolean): string {
  const s = String(value).replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (s !== '' && !/[\s"'\\]/.test(s)) return s;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The variables of etcd.service.hbs. Strings are ready to paste into ExecStart (see systemdArg). */
export interface UnitContext {
  /** The member name (`--name`). */
  name: string;
  internalIp: string;
  etcdVersion: string;
  etcdBinary: string;
  etcdctlBinary: string;
  certFile: string;
  keyFile: string;
  peerCertFile: string;
  peerKeyFile: string;
  trustedCaFile: string;
  peerTrustedCaFile: string;
  dataDir: string;
  peerUrl: string;
  clientUrl: string;
  initialAdvertisePeerUrls: string;
  listenPeerUrls: string;
  /** The node's client URL, plus https://127.0.0.1:2379 when `listenLocalhost`. */
  listenClientUrls: string;
  advertiseClientUrls: string;
  listenLocalhost: boolean;
  /** false: plain HTTP on loopback (etcd.tls: false), no certificate flags. */
  tls: boolean;
  initialClusterToken: string;
  initialCluster: string;
  initialClusterState: string;
  heartbeatInterval: number;
  electionTimeout: number;
  /** `etcd.extraFlags` rendered as `--name=value`, in the inventory's order (empty list when none). */
  extraFlags: string[];
}

const FLAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The template variables for one node, all taken from derive.ts and REMOTE_PATHS. Pure. */
export function unitContext(inv: Inventory, node: NodeSpec): UnitContext {
  const extraFlags = Object.entries(inv.etcd.extraFlags).map(([key, value]) => {
    const name = key.replace(/^--?/, '');
    if (!FLAG_NAME.test(name)) {
      throw new UsageError(`${inv.file}: etcd.extraFlags: '${key}' is not an etcd flag name (letters, digits and '-', e.g. auto-compaction-retention)`);
    }
    return `--${name}=${systemdArg(value)}`;
  });
  const peer = systemdArg(peerUrl(node));
  const client = systemdArg(clientUrl(node));
  return {
    name: systemdArg(node.name),
    internalIp: systemdArg(node.internalIp),
    etcdVersion: systemdArg(inv.etcd.version),
    etcdBinary: systemdArg(REMOTE_PATHS.etcd),
    etcdctlBinary: systemdArg(REMOTE_PATHS.etcdctl),
    certFile: systemdArg(REMOTE_PATHS.cert),
    keyFile: systemdArg(REMOTE_PATHS.key),
    peerCertFile: systemdArg(REMOTE_PATHS.cert),
    peerKeyFile: systemdArg(REMOTE_PATHS.key),
    trustedCaFile: systemdArg(REMOTE_PATHS.caCert),
    peerTrustedCaFile: systemdArg(REMOTE_PATHS.caCert),
    dataDir: systemdArg(inv.etcd.dataDir),
    peerUrl: peer,
    clientUrl: client,
    initialAdvertisePeerUrls: peer,
    listenPeerUrls: peer,
    listenClientUrls: systemdArg(listenClientUrls(inv, node).join(',')),
    advertiseClientUrls: client,
    listenLocalhost: inv.etcd.listenLocalhost,
    tls: inv.etcd.tls,
    initialClusterToken: systemdArg(inv.cluster.token),
    initialCluster: systemdArg(initialCluster(inv)),
    initialClusterState: systemdArg(inv.cluster.initialState),
    heartbeatInterval: inv.etcd.heartbeatInterval,
    electionTimeout: inv.etcd.electionTimeout,
    extraFlags,
  };
}

type Compiled = Handlebars.TemplateDelegate<UnitContext>;

const handlebars = Handlebars.create();
/** Compiled templates, by file and content (an edited file is compiled again). */
const cache = new Map<string, Compiled>();

function compiled(file: string, source: string): Compiled {
  const key = `${file}\0${source}`;
  let fn = cache.get(key);
  if (!fn) {
    // noEscape: '=' and '&' must stay as they are in a unit file; strict: a missing variable is an error.
    fn = handlebars.compile<UnitContext>(source, { noEscape: true, strict: true });
    cache.set(key, fn);
  }
  return fn;
}

function templateError(file: string, e: unknown, ctx: UnitContext): UsageError {
  const msg = (e as Error)?.message ?? String(e);
  const missing = /"([^"]+)" not defined in .*? - (\d+):(\d+)/s.exec(msg);
  if (missing) {
    return new UsageError(
      `${file}:${missing[2]}:${Number(missing[3]) + 1}: the template uses '${missing[1]}', which is not a variable hardway provides ` +
        `(variables: ${Object.keys(ctx).join(', ')})`,
    );
  }
  const parse = /Parse error on line (\d+):([\s\S]*)/.exec(msg);
  if (parse) return new UsageError(`${file}:${parse[1]}: template syntax error:${parse[2]}`);
  return new UsageError(`${file}: cannot render the template: ${msg}`);
}

export interface RenderOptions {
  /** `--templates DIR`: beats the inventory's `templates` and the built-in directory. */
  templatesDir?: string;
  /**
   * `--initial-cluster` for a member joining a running cluster: the members it will meet (`name=peerURL,…`).
   * etcd refuses to join when their count differs from the running cluster's ("member count is unequal").
   */
  initialCluster?: string;
}

/** Renders etcd.service for one node from `<templates dir>/etcd.service.hbs`. */
export async function renderUnit(inv: Inventory, node: NodeSpec, opts: RenderOptions = {}): Promise<string> {
  const { dir, source: from } = resolveTemplatesDir(inv, opts.templatesDir);
  const file = path.join(dir, UNIT_TEMPLATE);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (e) {
    const why = from === 'flag' ? '--templates' : from === 'inventory' ? `'templates' in ${inv.file}` : 'the built-in templates';
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `${file}: no such template (the templates directory comes from ${why}; it must hold ${UNIT_TEMPLATE})`
        : `${file}: cannot read the template: ${(e as Error).message}`,
    );
  }
  const ctx = unitContext(inv, node);
  if (opts.initialCluster) ctx.initialCluster = systemdArg(opts.initialCluster);
  try {
    const text = compiled(file, source)(ctx);
    return text.endsWith('\n') ? text : `${text}\n`;
  } catch (e) {
    throw templateError(file, e, ctx);
  }
}
