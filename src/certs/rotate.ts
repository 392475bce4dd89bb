import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { OperationError, UsageError } from '../errors.js';
import { connectStep, newHosts, type HostsRun } from '../engine/hosts.js';
import { runSteps, step } from '../engine/runner.js';
import { sanList } from '../inventory/derive.js';
import { confirm } from '../engine/confirm.js';
import { utcStamp } from '../node/ops.js';
import { certMatchesKey, describeCa, hasCert, issuerIn, joinPem, readBundle, sameCerts, sha256Hex, summarize, type CertSummary } from '../pki/bundle.js';
import { caValidityDays, CERT_MODE, KEY_MODE, PKI_FILES } from '../pki/files.js';
import { assessCa, leafNotAfter, wantedSans, assessLeaf } from '../pki/inspect.js';
import { formatRotation, phaseTrust, PHASES, readRotation, ROTATION_FILE, rotationPath, type Phase, type RotationState } from '../pki/rotation.js';
import { ensurePrivateDir, readPkiFiles, syncDir, writeFilesAtomic, type PendingFile, type PkiContents } from '../pki/store.js';
import { waitHealthy } from '../etcd/health.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { readInstalled, type NodeCerts } from '../pki/installed.js';
import { connected, did, healthTimeoutS, installLeaf, installTrust, leafKey, requireAll, restartRolling, served, waitMsOf, type Connected, type CertsOptions, type CertsRun } from './ops.js';

/**
 * `hardway pki rotate-ca`: the cluster moves to a new CA with no downtime, in three rolling phases (see
 * pki/rotation.ts): both CAs trusted, new leaves, the new CA alone. Each phase ends with every member healthy; every
 * restart is one member at a time, the leader last, only while the others keep a healthy quorum. pki.dir records the
 * phase reached (rotate-ca.json) and always holds that phase's files, so a run killed anywhere is finished by the
 * next, and `env`, `etcdctl`, `up` work at any moment. The old CA (and its key, when pki.dir had it) is kept aside as
 * `ca.pem.old-<UTC>`, never deleted. It works without the old CA's key: the old CA's certificate is read from the
 * nodes, and the leaves are reissued for the key the nodes already hold (copied into pki.dir when pki.dir lacks it),
 * so that only kubernetes.pem changes on a node, in one atomic rename.
 */

export interface RotateRun extends CertsRun {
  local: PkiContents;
  nodes: NodeCerts[];
  state?: RotationState;
  /** Set when this run begins the rotation (nothing recorded yet). */
  begin?: Begin;
  /** The CAs the cluster trusted before, and the new one, for the report. */
  oldCas: CertSummary[];
  newCa?: CertSummary;
  kept: string[];
}

/** What a new rotation will do, decided before anything is written (pure but for the key generation). */
interface Begin {
  stamp: string;
  oldCas: CertSummary[];
  newCa: { pem: string; key: string; adopted: boolean };
  /** pki.dir's files to keep aside before they are replaced. */
  aside: PendingFile[];
  /** The leaf and key the nodes run with, copied into pki.dir when pki.dir lacks them (phase 1 keeps them). */
  leaf?: { pem: string; key: string };
}

export function rotateRun(base: HostsRun, opts: CertsOptions): RotateRun {
  return { ...base, opts, done: [], local: {}, nodes: [], oldCas: [], kept: [] };
}

const dirOf = (r: RotateRun) => r.inv.pki.dir;
const nowOf = (r: RotateRun) => r.opts.now ?? new Date();
const installedOf = (r: RotateRun, h: Connected) => r.nodes.find((n) => n.node.name === h.node.name)?.installed;

async function refresh(r: RotateRun): Promise<void> {
  r.local = await readPkiFiles(dirOf(r)).catch(() => ({}));
  r.nodes = await readInstalled(r.hosts);
}

async function saveState(r: RotateRun, s: RotationState): Promise<void> {
  await writeFilesAtomic(dirOf(r), [{ name: ROTATION_FILE, content: formatRotation(s), mode: KEY_MODE }]);
  r.state = s;
}

const read = step<RotateRun>('read pki.dir and the nodes', async (r) => {
  if (!r.inv.etcd.tls) throw new UsageError(`etcd.tls is false in ${r.inv.file}: etcd runs on plain HTTP on loopback, with no certificates to rotate`);
  requireAll(r, 'rotate-ca');
  await ensurePrivateDir(dirOf(r));
  r.state = await readRotation(dirOf(r));
  await refresh(r);
  const missing = r.nodes.filter((n) => !n.installed?.trust || !n.installed.leaf);
  if (missing.length) throw new OperationError(`${missing.map((n) => n.node.name).join(', ')} ${missing.length === 1 ? 'has' : 'have'} no ${REMOTE_PATHS.caCert} or ${REMOTE_PATHS.cert}: 'hardway up' installs them first. Nothing was changed.`);
  // Every member must be healthy: each phase restarts them one at a time and needs the others to keep quorum.
  const probe = connected(r)[0]!;
  await waitHealthy(probe.remote, r.inv.nodes, Math.min(waitMsOf(r), 20_000), undefined, healthTimeoutS(r)).catch((e: Error) => {
    throw new OperationError(`rotate-ca restarts the members one at a time and needs every one healthy first: ${e.message}. 'hardway verify' shows why. Nothing was changed.`);
  });
});

/** The CAs the nodes trust now, and whether each trust file verifies every node's leaf (else nothing is done). */
function clusterTrust(nodes: NodeCerts[]): CertSummary[] {
  const cas = new Map<string, CertSummary>();
  for (const n of nodes) for (const c of readBundle(n.installed!.trust)) cas.set(c.fingerprint, c);
  for (const a of nodes) {
    const trust = readBundle(a.installed!.trust);
    const refused = nodes.filter((b) => !issuerIn(b.installed!.leaf!, trust));
    if (refused.length) {
      throw new OperationError(
        `${a.node.name}'s ${REMOTE_PATHS.caCert} does not verify the ${PKI_FILES.cert} of ${refused.map((b) => b.node.name).join(', ')}: the members do not all trust each other now. ` +
          `'hardway verify' names the node; 'hardway up' repairs one odd node. Nothing was changed.`,
      );
    }
  }
  return [...cas.values()];
}

const decide = step<RotateRun>(
  'decide the new CA',
  async (r) => {
    const now = nowOf(r);
    const oldCas = clusterTrust(r.nodes);
    const local = r.local;
    const localCa = readBundle(local.ca)[0];
    // pki.dir's own CA becomes the new one when the nodes do not trust it yet and it is fit to sign for years.
    const adopt = !!localCa && local.caKey !== undefined && !hasCert(oldCas, localCa) && assessCa(local.ca!, local.caKey, now).ok;
    let newCa: Begin['newCa'];
    if (adopt) newCa = { pem: localCa.pem, key: local.caKey!, adopted: true };
    else {
      const [{ generateRsaKey }, { buildCa }] = await Promise.all([import('../pki/keys.js'), import('../pki/certs.js')]);
      const key = await generateRsaKey(r.inv.pki.keyBits);
      newCa = { pem: buildCa({ keyPem: key, now, validityDays: caValidityDays(r.inv.pki.validityDays) }), key, adopted: false };
    }
    // Never over a file kept by an earlier rotation (two within a second): the next free second.
    const taken = new Set(await readdir(dirOf(r)));
    let at = now.getTime();
    while (taken.has(`${PKI_FILES.ca}.old-${utcStamp(new Date(at))}`)) at += 1000;
    const stamp = utcStamp(new Date(at));
    const retired = [...oldCas, ...(localCa && !adopt && !hasCert(oldCas, localCa) ? [localCa] : [])];
    const aside: PendingFile[] = [{ name: `${PKI_FILES.ca}.old-${stamp}`, content: joinPem(retired.map((c) => c.pem)), mode: CERT_MODE }];
    if (local.caKey !== undefined && !adopt) aside.push({ name: `${PKI_FILES.caKey}.old-${stamp}`, content: local.caKey, mode: KEY_MODE });
    // Phase 1 keeps the leaves the nodes run with: pki.dir gets them when its own are not those (so env works).
    const first = r.nodes[0]!.installed!;
    const localFits = local.cert !== undefined && local.key !== undefined && !!issuerIn(local.cert, oldCas) && certMatchesKey(local.cert, local.key);
    let leaf: Begin['leaf'];
    if (!localFits) {
      const key = await leafKey(r, undefined, r.nodes, r.inv.pki.keyBits);
      if (key.from === 'nodes' && certMatchesKey(first.leaf!, key.pem)) leaf = { pem: first.leaf!, key: key.pem };
    }
    r.begin = { stamp, oldCas, newCa, aside, ...(leaf ? { leaf } : {}) };
    r.oldCas = oldCas;
    r.newCa = summarize(newCa.pem);
  },
  (r) => !r.state,
);

const confirmStep = step<RotateRun>('confirm', async (r) => {
  const oldCas = r.state ? readBundle(r.state.oldCas) : r.begin!.oldCas;
  const newCa = r.state ? summarize(r.state.newCa) : r.newCa!;
  const from = r.state ? r.state.phase : 1;
  const names = r.inv.nodes.map((n) => n.name).join(', ');
  const lines = [
    `move ${names} from the CA ${oldCas.map(describeCa).join(' + ')} to ${r.begin?.newCa.adopted ? `pki.dir's CA ` : r.state ? '' : 'a new CA '}${describeCa(newCa)}, in three phases, each ending with every member healthy${r.state ? ` (resuming at phase ${from}, recorded in ${rotationPath(dirOf(r))})` : ''}:`,
    ...([1, 2, 3] as Phase[])
      .filter((p) => p >= from)
      .map((p) => `  ${p}. ${PHASES[p]}: ${p === 2 ? `${PKI_FILES.cert} from the new CA for the key each node already holds (one atomic rename); etcd reads it for each new connection, so a member is restarted only if it still serves the old one` : `${REMOTE_PATHS.caCert} ${p === 1 ? 'holds both CAs' : 'holds the new CA alone'}; etcd is restarted one member at a time (it reads its trusted CA only at start), the leader last, each only while the others keep quorum`}`),
    ...(r.begin ? [`keep aside in ${dirOf(r)}: ${r.begin.aside.map((f) => f.name).join(', ')} (never deleted)${r.begin.leaf ? `; ${PKI_FILES.cert} and ${PKI_FILES.key} are copied from the nodes into pki.dir` : ''}`] : []),
    `record the phase reached in ${rotationPath(dirOf(r))}: a run killed anywhere is finished by running 'hardway pki rotate-ca' again`,
  ];
  r.log(['this will:', ...lines.map((l) => (l.startsWith('  ') ? `    ${l.trim()}` : `  - ${l}`))].join('\n'));
  await confirm(r.state ? `resume the CA rotation at phase ${from}?` : 'rotate the CA?', r.opts);
});

/** The first writes: the old files aside (durable first), then the record, the new CA's key and the phase-1 trust. */
const beginStep = step<RotateRun>(
  'begin the rotation',
  async (r) => {
    const b = r.begin!;
    await writeFilesAtomic(dirOf(r), b.aside);
    r.kept.push(...b.aside.map((f) => path.join(dirOf(r), f.name)));
    const state: RotationState = { version: 1, phase: 1, started: nowOf(r).toISOString(), stamp: b.stamp, oldCas: joinPem(b.oldCas.map((c) => c.pem)), newCa: b.newCa.pem, done: {} };
    await writeFilesAtomic(dirOf(r), [
      { name: ROTATION_FILE, content: formatRotation(state), mode: KEY_MODE },
      { name: PKI_FILES.caKey, content: b.newCa.key, mode: KEY_MODE },
      { name: PKI_FILES.ca, content: phaseTrust(state, 1), mode: CERT_MODE },
      ...(b.leaf ? [{ name: PKI_FILES.key, content: b.leaf.key, mode: KEY_MODE }, { name: PKI_FILES.cert, content: b.leaf.pem, mode: CERT_MODE }] : []),
    ]);
    r.state = state;
    did(r, `pki.dir: ${b.aside.map((f) => f.name).join(', ')} kept aside; ${PKI_FILES.ca} holds both CAs; ${ROTATION_FILE} records phase 1`);
    await refresh(r);
  },
  (r) => !!r.begin,
);

/** A resumed run checks that pki.dir still holds the new CA's key (written before any node was touched). */
const resume = step<RotateRun>(
  'check the recorded rotation',
  async (r) => {
    const s = r.state!;
    r.oldCas = readBundle(s.oldCas);
    r.newCa = summarize(s.newCa);
    if (r.local.caKey !== undefined && certMatchesKey(s.newCa, r.local.caKey)) return;
    const anyNode = r.nodes.some((n) => hasCert(readBundle(n.installed!.trust), r.newCa!));
    if (anyNode || s.phase > 1) {
      throw new OperationError(`${dirOf(r)}/${PKI_FILES.caKey} is not the key of the new CA ${describeCa(r.newCa)} that ${rotationPath(dirOf(r))} records, and the nodes already trust that CA: restore its key (a backup of pki.dir) to finish the rotation. Nothing was changed.`);
    }
    // Killed between the record and the key: no node has the new CA yet, so a new one replaces it.
    const { generateRsaKey } = await import('../pki/keys.js');
    const { buildCa } = await import('../pki/certs.js');
    const key = await generateRsaKey(r.inv.pki.keyBits);
    const state = { ...s, newCa: buildCa({ keyPem: key, now: nowOf(r), validityDays: caValidityDays(r.inv.pki.validityDays) }) };
    await writeFilesAtomic(dirOf(r), [
      { name: ROTATION_FILE, content: formatRotation(state), mode: KEY_MODE },
      { name: PKI_FILES.caKey, content: key, mode: KEY_MODE },
    ]);
    r.state = state;
    r.newCa = summarize(state.newCa);
    did(r, `pki.dir: the new CA's key was not written before the last run stopped, and no node trusts it yet: a new CA ${describeCa(r.newCa)} replaces it`);
  },
  (r) => !r.begin && !!r.state,
);

/** pki.dir's files for the phase: the trust file, and from phase 2 on the new CA's leaf (for the key in use). */
async function localFiles(r: RotateRun, phase: Phase): Promise<void> {
  const s = r.state!;
  const files: PendingFile[] = [];
  const trust = phaseTrust(s, phase);
  if (!r.local.ca || !sameCerts(readBundle(r.local.ca), readBundle(trust))) files.push({ name: PKI_FILES.ca, content: trust, mode: CERT_MODE });
  if (phase >= 2) {
    const now = nowOf(r);
    const current = r.local.cert;
    const fits = current !== undefined && r.local.key !== undefined && assessLeaf(current, r.local.key, s.newCa, wantedSans(r.inv), now, { keepWhenEndingWithCa: true }).ok;
    if (!fits) {
      const key = await leafKey(r, r.local.key, r.nodes, r.inv.pki.keyBits);
      const { buildLeaf } = await import('../pki/certs.js');
      const newCa = summarize(s.newCa);
      const { notAfter } = leafNotAfter(now, r.inv.pki.validityDays, newCa.notAfter);
      const pem = buildLeaf({ keyPem: key.pem, caPem: s.newCa, caKeyPem: r.local.caKey!, sans: sanList(r.inv), now, validityDays: r.inv.pki.validityDays, notAfter });
      if (current !== undefined && !issuerIn(current, [newCa])) {
        files.unshift({ name: `${PKI_FILES.cert}.old-${s.stamp}`, content: current, mode: CERT_MODE });
        r.kept.push(path.join(dirOf(r), `${PKI_FILES.cert}.old-${s.stamp}`));
      }
      if (key.from !== 'pki.dir') files.push({ name: PKI_FILES.key, content: key.pem, mode: KEY_MODE });
      files.push({ name: PKI_FILES.cert, content: pem, mode: CERT_MODE });
      r.log(`pki.dir: ${PKI_FILES.cert} serial ${summarize(pem).serial} from the new CA, ${key.from === 'new' ? 'with a new key' : 'for the key in use'}`);
    }
  }
  if (files.length) {
    await writeFilesAtomic(dirOf(r), files);
    r.local = await readPkiFiles(dirOf(r));
  }
}

/** One phase on the nodes: files first (all at once), then the restarts or the look at what each member serves. */
async function runPhase(r: RotateRun, phase: Phase): Promise<void> {
  const s = r.state!;
  r.log(`phase ${phase} of 3: ${PHASES[phase]}`);
  await localFiles(r, phase);
  const done = new Set(s.done[`${phase}`] ?? []);
  const markDone = async (h: Connected, line: string) => {
    did(r, `${h.node.name}: ${line}`);
    done.add(h.node.name);
    await saveState(r, { ...r.state!, done: { ...r.state!.done, [`${phase}`]: [...done] } });
  };
  await Promise.all(
    connected(r).map(async (h) => {
      const inst = installedOf(r, h)!;
      if (phase === 2) {
        if (summarize(inst.leaf!).fingerprint !== summarize(r.local.cert!).fingerprint || inst.keySha256 !== sha256Hex(r.local.key!)) {
          did(r, `${h.node.name}: ${await installLeaf(h, r.local.cert!, r.local.key!, inst.keySha256)}`);
        }
      } else if (inst.trust !== phaseTrust(s, phase)) {
        await installTrust(h, phaseTrust(s, phase));
        did(r, `${h.node.name}: wrote ${REMOTE_PATHS.caCert} (${phase === 1 ? 'both CAs' : 'the new CA alone'})`);
      }
    }),
  );
  let todo = connected(r).filter((h) => !done.has(h.node.name));
  if (phase === 2) {
    const newSerial = summarize(r.local.cert!).serial;
    const client = { cert: r.local.cert!, key: r.local.key! };
    const stale: Connected[] = [];
    for (const h of todo) {
      if ((await served(r, h, client))?.serial === newSerial) await markDone(h, `serves serial ${newSerial} on a new connection: no restart`);
      else stale.push(h);
    }
    todo = stale;
  }
  const why = phase === 2 ? `it still serves the old ${PKI_FILES.cert} on new connections` : `etcd reads ${REMOTE_PATHS.caCert} only when it starts`;
  await restartRolling(r, todo, why, (h) => markDone(h, `restarted (${phase === 2 ? 'to serve the new leaf' : phase === 1 ? 'it trusts both CAs' : 'it trusts the new CA alone'})`));
  await waitHealthy(connected(r)[0]!.remote, r.inv.nodes, waitMsOf(r), r.log, healthTimeoutS(r));
  await refresh(r);
  checkPhase(r, phase);
}

/** What every node must show at the end of a phase, read back from the nodes. */
function checkPhase(r: RotateRun, phase: Phase): void {
  const want = readBundle(phaseTrust(r.state!, phase));
  const newCa = summarize(r.state!.newCa);
  const bad = r.nodes.flatMap((n) => {
    const i = n.installed!;
    if (!sameCerts(readBundle(i.trust), want)) return [`${n.node.name}: ${REMOTE_PATHS.caCert} is not the phase's`];
    if (phase >= 2 && !issuerIn(i.leaf!, [newCa])) return [`${n.node.name}: ${REMOTE_PATHS.cert} is not from the new CA`];
    return [];
  });
  if (bad.length) throw new OperationError(`phase ${phase} did not take on every node: ${bad.join('; ')}. Run 'hardway pki rotate-ca' again to finish it`);
}

const phases = step<RotateRun>('rotate', async (r) => {
  for (let p = r.state!.phase; p <= 3; p++) {
    const phase = p as Phase;
    if (phase !== r.state!.phase) await saveState(r, { ...r.state!, phase });
    await runPhase(r, phase);
    r.log(`phase ${phase} of 3 done: ${PHASES[phase]}, every member healthy`);
  }
});

/** pki.dir holds the new CA alone and its leaf already; the record is renamed (kept, as the old files are). */
const finish = step<RotateRun>('finish', async (r) => {
  const done = path.join(dirOf(r), `rotate-ca.done-${r.state!.stamp}.json`);
  await rename(rotationPath(dirOf(r)), done);
  await syncDir(dirOf(r));
  const stamp = r.state!.stamp;
  r.kept = (await readdir(dirOf(r))).filter((f) => f.endsWith(`.old-${stamp}`)).map((f) => path.join(dirOf(r), f));
  did(r, `the cluster trusts ${describeCa(r.newCa!)} alone; the rotation's record is now ${done}`);
});

export const rotateSteps = { read, decide, confirm: confirmStep, begin: beginStep, resume, phases, finish };

export async function rotateCa(run: RotateRun): Promise<RotateRun> {
  const s = rotateSteps;
  await runSteps(run, [connectStep<RotateRun>(), s.read, s.decide, s.confirm, s.begin, s.resume, s.phases, s.finish], { flow: 'pki-rotate-ca' });
  return run;
}

export function newRotateRun(inv: HostsRun['inv'], opts: CertsOptions & { acceptNew?: boolean }, log: (l: string) => void): RotateRun {
  return rotateRun({ inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log }, opts);
}

/** Where the old CA (and the old leaf) were kept, for the report: the files of this rotation's stamp. */
export function keptAside(r: RotateRun): string[] {
  return [...new Set(r.kept)].sort();
}
