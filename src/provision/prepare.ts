import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CheckFailed, UsageError } from '../errors.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { checkPki } from '../pki/check.js';
import { ensurePki } from '../pki/ensure.js';
import { PKI_FILES } from '../pki/files.js';
import type { UploadSource } from '../ssh/remote.js';
import { bufferSource, etcdBinaries, releaseArches } from '../release/artifacts.js';
import type { Artifacts, ReleaseBinaries } from './desired.js';
import type { ReleaseArch } from '../inventory/schema.js';
import { elfArchOfFile, type Arch } from './elf.js';
import { bootstrapFreeSha256, stateFreeSha256 } from '../render/unit-flags.js';

/** What runs on the laptop before any connection: PKI, the units (rendered and linted), the binaries. */

export interface PrepareOptions {
  dryRun?: boolean;
  json?: boolean;
  lint?: boolean;
  templates?: string;
}

type Log = (line: string) => void;

export function unitSource(text: string): UploadSource {
  return { ...bufferSource(Buffer.from(text)), stateFreeSha256: stateFreeSha256(text), bootstrapFreeSha256: bootstrapFreeSha256(text) };
}

/**
 * Renders and lints the units of `nodes`, every unit hardway ships going through here (a re-joining member's
 * too). Warnings are logged; lint errors stop the ship (CheckFailed) unless `lint: false`, which logs them.
 * `quiet` nodes are rendered without a word (observed read-only, never written).
 */
export async function renderUnits(
  inv: Inventory,
  nodes: NodeSpec[],
  opts: PrepareOptions,
  log: Log,
  quiet: (n: NodeSpec) => boolean = () => false,
  initialCluster?: (n: NodeSpec) => string | undefined,
): Promise<Map<string, UploadSource>> {
  // Loaded on use: `plan`/`up` are the only commands that render.
  const { renderAndLint } = await import('../render/index.js');
  const units = new Map<string, UploadSource>();
  const lintErrors: string[] = [];
  for (const node of nodes) {
    const cluster = initialCluster?.(node);
    const { text, problems } = await renderAndLint(inv, node, { ...(opts.templates ? { templatesDir: opts.templates } : {}), ...(cluster ? { initialCluster: cluster } : {}) });
    units.set(node.name, unitSource(text));
    if (quiet(node)) continue;
    for (const p of problems) {
      const line = `${node.name}: ${p.file}:${p.line}: ${p.severity}: ${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`;
      if (p.severity === 'error') lintErrors.push(line);
      else log(`lint: ${line}`);
    }
  }
  if (lintErrors.length && opts.lint !== false) {
    throw new CheckFailed(`the rendered etcd.service has lint errors; not shipping it:\n${lintErrors.join('\n')}\n(--no-lint ships it anyway)`);
  }
  for (const l of lintErrors) log(`lint (ignored by --no-lint): ${l}`);
  return units;
}

/** What a run ships that does not come from pki.dir: the units and the release's binaries. */
export type Release = Omit<Artifacts, 'ca' | 'cert' | 'key'>;

/**
 * Every inventory node's unit (only `selected` ones reported and linted) and the binaries. Nothing here reads or
 * writes pki.dir, so a flow may do this before its trust check (see certs/trust.ts), while the nodes are being asked.
 */
export async function prepareRelease(inv: Inventory, selected: NodeSpec[], opts: PrepareOptions, log: Log): Promise<Release> {
  const units = await renderUnits(inv, inv.nodes, opts, log, (n) => !selected.includes(n));
  const arches = releaseArches(inv);
  const bin = await etcdBinaries(inv, log, arches?.[0]);
  return {
    etcd: bin.etcd,
    etcdctl: bin.etcdctl,
    ...(bin.etcdutl ? { etcdutl: bin.etcdutl } : {}),
    units,
    ...(await releaseArch(bin)),
    ...(arches ? { byArch: await releasesByArch(inv, arches, log) } : {}),
  };
}

/** PKI, then the release (prepareRelease, unless already prepared), then the certificates. */
export async function prepareArtifacts(inv: Inventory, selected: NodeSpec[], opts: PrepareOptions, log: Log, prepared?: Release): Promise<Artifacts> {
  if (!inv.etcd.tls) {
    log('pki: none needed (etcd.tls: false: plain HTTP on loopback)');
  } else if (opts.dryRun) {
    // `plan` changes nothing, not even locally: say what `up` would issue instead of issuing it.
    for (const p of (await checkPki(inv)).problems) log(`pki: up would fix: ${p}`);
  } else {
    const pki = await ensurePki(inv);
    if (pki.ca === 'kept' && pki.leaf === 'kept' && !pki.notes.length) log(`pki: kept ca.pem and kubernetes.pem in ${inv.pki.dir}`);
    else for (const line of pki.messages) log(`pki: ${line}`);
  }
  const release = prepared ?? (await prepareRelease(inv, selected, opts, log));
  // In a dry run a certificate not issued yet stands as a file that cannot match what the node has.
  const read = async (name: string) =>
    // Without TLS nothing is read: desiredNode ships no certificates then.
    !inv.etcd.tls ? bufferSource(Buffer.alloc(0)) : bufferSource(await readFile(path.join(inv.pki.dir, name)).catch((e: NodeJS.ErrnoException) => (opts.dryRun && e.code === 'ENOENT' ? Buffer.from(`(${name}: not issued yet)`) : Promise.reject(e))));
  return { ...release, ca: await read(PKI_FILES.ca), cert: await read(PKI_FILES.cert), key: await read(PKI_FILES.key) };
}

/** Each architecture's release, its binaries checked to be built for it (a tarball under the wrong key is refused). */
async function releasesByArch(inv: Inventory, arches: ReleaseArch[], log: Log): Promise<Map<string, ReleaseBinaries>> {
  const byArch = new Map<string, ReleaseBinaries>();
  for (const key of arches) {
    const bin = await etcdBinaries(inv, log, key);
    const { arch } = await releaseArch(bin);
    if (arch && arch.release !== key) throw new UsageError(`${inv.file}: etcd's release for ${key} (${bin.tarball}) holds binaries built for ${arch.release} (${arch.uname})`);
    byArch.set(key, { etcd: bin.etcd, etcdctl: bin.etcdctl, ...(bin.etcdutl ? { etcdutl: bin.etcdutl } : {}), ...(arch ? { arch } : {}) });
  }
  return byArch;
}

/** The CPU of the release's binaries, read from their ELF headers; binaries of different CPUs are refused. */
async function releaseArch(bin: { tarball?: string; etcd: UploadSource; etcdctl: UploadSource; etcdutl?: UploadSource }): Promise<{ arch?: Arch }> {
  const files = [bin.etcd, bin.etcdctl, ...(bin.etcdutl ? [bin.etcdutl] : [])].flatMap((f) => (f.path ? [f.path] : []));
  const arches = await Promise.all(files.map(async (f) => ({ f, arch: await elfArchOfFile(f).catch(() => undefined) })));
  const kinds = new Set(arches.map((a) => a.arch?.uname ?? 'not an ELF executable of a known CPU'));
  if (kinds.size > 1) {
    throw new UsageError(`the etcd release ${bin.tarball ?? ''} mixes architectures: ${arches.map((a) => `${path.basename(a.f)} ${a.arch?.uname ?? 'unknown'}`).join(', ')}`);
  }
  const arch = arches[0]?.arch;
  return arch ? { arch } : {};
}
