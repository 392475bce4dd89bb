import { OperationError, UsageError } from '../errors.js';
import { connectStep, failHost, newHosts, type HostsRun } from '../engine/hosts.js';
import { runSteps, step } from '../engine/runner.js';
import { sanList } from '../inventory/derive.js';
import { confirm } from '../engine/confirm.js';
import { describeCa, hasCert, readBundle, sha256Hex, summarize, type CertSummary } from '../pki/bundle.js';
import { CERT_MODE, KEY_MODE, PKI_FILES } from '../pki/files.js';
import { shortenedNote } from '../pki/ensure.js';
import { assessCa, leafNotAfter } from '../pki/inspect.js';
import { readRotation, rotationLine } from '../pki/rotation.js';
import { ensurePrivateDir, readPkiFiles, writeFilesAtomic, type PendingFile, type PkiContents } from '../pki/store.js';
import { must } from '../engine/must.js';
import { waitHealthy } from '../etcd/health.js';
import { readInstalled, type NodeCerts } from '../pki/installed.js';
import { anyHealthy, connected, did, healthTimeoutS, installLeaf, leafKey, restartRolling, served, waitMsOf, type Connected, type CertsOptions, type CertsRun } from './ops.js';

/**
 * `hardway pki renew`: a new kubernetes.pem from the same CA, for the key already in use, installed on every member
 * and taken into use with the fewest restarts proven to work. etcd reads its certificate again for each new
 * connection (since 3.2): after the install, a new TLS connection to each member shows the serial it serves, and only
 * a member still serving the old one is restarted (one at a time, the leader last, quorum kept). With the cluster
 * down (every certificate expired), the leaf is installed and the members that do not run are started together.
 */

export interface RenewRun extends CertsRun {
  local?: PkiContents;
  nodes?: NodeCerts[];
  ca?: CertSummary;
  leaf?: { pem: string; key: string; keyFrom: 'pki.dir' | 'nodes' | 'new'; serial: string; notAfter: Date; note?: string };
  /** The nodes whose member serves the new leaf, and how it came to (`new connection`, `restart`, `start`). */
  serving: Map<string, string>;
}

export function renewRun(base: HostsRun, opts: CertsOptions): RenewRun {
  return { ...base, opts, done: [], serving: new Map() };
}

const read = step<RenewRun>("read pki.dir and the nodes' certificates", async (r) => {
  const dir = r.inv.pki.dir;
  if (!r.inv.etcd.tls) throw new UsageError(`etcd.tls is false in ${r.inv.file}: etcd runs on plain HTTP on loopback, with no certificate to renew`);
  const rotation = await readRotation(dir);
  if (rotation) throw new OperationError(`${rotationLine(rotation)}: 'hardway pki rotate-ca' finishes it, and its leaves are new already. Nothing was changed.`);
  r.local = await readPkiFiles(dir).catch(() => ({}));
  if (r.local.ca === undefined || r.local.caKey === undefined) {
    throw new OperationError(`${dir} has no ${r.local.ca === undefined ? PKI_FILES.ca : PKI_FILES.caKey}: renew issues the leaf from pki.dir's CA. Put this cluster's pki.dir back, or 'hardway pki rotate-ca' moves the cluster to a new CA. Nothing was changed.`);
  }
  const now = r.opts.now ?? new Date();
  const a = assessCa(r.local.ca, r.local.caKey, now);
  if (!a.usable) throw new OperationError(`${dir}/${PKI_FILES.ca}: ${a.reasons.join('; ')}: no leaf can be issued from it. Nothing was changed.`);
  r.ca = readBundle(r.local.ca)[0]!;
  r.nodes = await readInstalled(r.hosts);
  // Only kubernetes.pem changes: every node must already trust the CA that signs it.
  const strangers = r.nodes.filter((n) => n.installed?.trust && !hasCert(readBundle(n.installed.trust), r.ca!));
  if (strangers.length) {
    throw new OperationError(
      `${strangers.map((n) => n.node.name).join(', ')} ${strangers.length === 1 ? 'does' : 'do'} not trust pki.dir's CA ${describeCa(r.ca)} ` +
        `(${strangers.map((n) => `${n.node.name}: ${readBundle(n.installed!.trust).map(describeCa).join(' + ') || 'nothing readable'}`).join('; ')}): a leaf from it would be refused there. ` +
        `One odd node: 'hardway up' installs pki.dir's ca.pem on it. Another CA on the cluster: put its pki.dir back, or 'hardway pki rotate-ca'. Nothing was changed.`,
    );
  }
});

const issue = step<RenewRun>('issue the new leaf', async (r) => {
  const now = r.opts.now ?? new Date();
  const key = await leafKey(r, r.local!.key, r.nodes!, r.inv.pki.keyBits);
  const { notAfter, shortened } = leafNotAfter(now, r.inv.pki.validityDays, r.ca!.notAfter);
  const { buildLeaf } = await import('../pki/certs.js');
  const pem = buildLeaf({ keyPem: key.pem, caPem: r.ca!.pem, caKeyPem: r.local!.caKey!, sans: sanList(r.inv), now, validityDays: r.inv.pki.validityDays, notAfter });
  r.leaf = { pem, key: key.pem, keyFrom: key.from, serial: summarize(pem).serial, notAfter, ...(shortened ? { note: shortenedNote(notAfter, now, r.inv.pki.validityDays) } : {}) };
});

const confirmStep = step<RenewRun>('confirm', async (r) => {
  const l = r.leaf!;
  const keyLine = { 'pki.dir': 'for the key already in pki.dir', nodes: `for the key the nodes hold (copied into ${r.inv.pki.dir})`, new: 'with a new key (pki.dir had none, and the nodes do not share one)' }[l.keyFrom];
  const down = r.nodes!.filter((n) => n.installed && n.installed.active !== 'active').map((n) => n.node.name);
  const plan = [
    `issue ${PKI_FILES.cert} serial ${l.serial}, valid until ${l.notAfter.toISOString().slice(0, 10)}, from ${describeCa(r.ca!)}, ${keyLine}`,
    `install it on ${r.hosts.map((h) => h.node.name).join(', ')} (an atomic rename${r.nodes!.some((n) => n.installed?.keySha256 !== sha256Hex(l.key)) ? `; ${PKI_FILES.key} too where the node's differs` : ''})`,
    'look at the serial each member serves on a new connection: etcd reads its certificate for each one, so a member serving the new one is not restarted; one still serving the old one is, one at a time, quorum kept',
    ...(down.length ? [`where etcd is not active (${down.join(', ')}): wait a moment for the members to take the new leaf on their next connections, start what is stopped, restart what is still down`] : []),
  ];
  if (l.note) r.log(`pki: ${l.note}`);
  r.log(['this will:', ...plan.map((p) => `  - ${p}`)].join('\n'));
  await confirm('renew the etcd certificate on every node?', r.opts);
});

const writeLocal = step<RenewRun>('write pki.dir', async (r) => {
  const l = r.leaf!;
  await ensurePrivateDir(r.inv.pki.dir);
  const files: PendingFile[] = [...(l.keyFrom === 'pki.dir' ? [] : [{ name: PKI_FILES.key, content: l.key, mode: KEY_MODE }]), { name: PKI_FILES.cert, content: l.pem, mode: CERT_MODE }];
  await writeFilesAtomic(r.inv.pki.dir, files);
  did(r, `pki.dir: ${PKI_FILES.cert} serial ${l.serial}${l.keyFrom === 'pki.dir' ? '' : ` and ${PKI_FILES.key} (${l.keyFrom === 'nodes' ? "the nodes' key" : 'a new key'})`}`);
});

const install = step<RenewRun>('install the leaf', async (r) => {
  await Promise.all(
    connected(r).map(async (h) => {
      try {
        const line = await installLeaf(h, r.leaf!.pem, r.leaf!.key, r.nodes!.find((n) => n.node.name === h.node.name)?.installed?.keySha256);
        did(r, `${h.node.name}: ${line}`);
      } catch (e) {
        failHost(h, e);
      }
    }),
  );
});

/**
 * A cluster that runs: look, restart only who serves the old leaf. One that is down (every leaf expired, say): its
 * members keep dialling each other, each new connection with the new leaf, so they are given a moment to find each
 * other first; only what is stopped is started, and only what is still down after that is restarted, together (there
 * is no quorum to keep).
 */
const takeIntoUse = step<RenewRun>('take the leaf into use', async (r) => {
  const client = { cert: r.leaf!.pem, key: r.leaf!.key };
  const isNew = (h: Connected) => served(r, h, client).then((s) => s?.serial === r.leaf!.serial);
  const stateOf = (h: Connected) => r.nodes!.find((n) => n.node.name === h.node.name)?.installed?.active ?? 'unknown';
  const serving = async (h: Connected, how: string, line: string) => {
    r.serving.set(h.node.name, how);
    did(r, `${h.node.name}: serves serial ${r.leaf!.serial} ${line}`);
  };
  const probe = connected(r)[0]?.remote;
  if (!probe) throw new OperationError('no node could be reached: nothing was installed');
  if (await anyHealthy(r)) {
    const stale: Connected[] = [];
    for (const h of connected(r).filter((x) => stateOf(x) === 'active')) {
      if (await isNew(h)) await serving(h, 'a new connection, no restart', 'on a new connection: no restart');
      else stale.push(h);
    }
    await restartRolling(r, stale, `it still serves the old ${PKI_FILES.cert} on new connections`, async (h) => {
      if (await isNew(h)) await serving(h, 'restart', 'after a restart (it served the old leaf on new connections)');
    });
  }
  const down = connected(r).filter((h) => !r.serving.has(h.node.name));
  if (!down.length) return finishCheck(r);
  // Stopped or failed units are started; members still trying to start ('activating') may come up on their own.
  const stopped = down.filter((h) => !['active', 'activating', 'reloading'].includes(stateOf(h)));
  await Promise.all(
    stopped.map(async (h) => {
      await must(h.remote, 'systemctl reset-failed etcd.service 2>/dev/null; systemctl start --no-block etcd.service', `starting etcd on ${h.node.name}`);
      did(r, `${h.node.name}: started etcd (it was ${stateOf(h)})`);
    }),
  );
  const settled = await waitHealthy(probe, r.inv.nodes, Math.min(waitMsOf(r), 20_000), r.log, healthTimeoutS(r)).then(() => true, () => false);
  if (!settled) {
    const still = down.filter((h) => !stopped.includes(h));
    await Promise.all(
      still.map(async (h) => {
        await must(h.remote, 'systemctl restart --no-block etcd.service', `restarting etcd on ${h.node.name}`);
        did(r, `${h.node.name}: restarted etcd (still not healthy with the new leaf)`);
      }),
    );
    await waitHealthy(probe, r.inv.nodes, waitMsOf(r), r.log, healthTimeoutS(r));
  }
  for (const h of down) {
    const how = stopped.includes(h) ? 'start' : settled ? 'a new connection, no restart' : 'restart';
    if (await isNew(h)) await serving(h, how, how === 'start' ? 'since it was started' : how === 'restart' ? 'after a restart' : `(it was ${stateOf(h)}: it took the new leaf on its next connections, no restart)`);
  }
  finishCheck(r);
});

function finishCheck(r: RenewRun): void {
  const missing = r.hosts.filter((h) => !r.serving.has(h.node.name));
  if (missing.length) {
    throw new OperationError(`${missing.map((h) => `${h.node.name}${h.outcome.reason ? ` (${h.outcome.reason})` : ''}`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not serve serial ${r.leaf!.serial} yet. Run 'hardway pki renew' again once ${missing.length === 1 ? 'it is' : 'they are'} reachable ('hardway verify' shows why)`);
  }
}

export const renewSteps = { read, issue, confirm: confirmStep, writeLocal, install, takeIntoUse };

export async function renewCluster(run: RenewRun): Promise<RenewRun> {
  const s = renewSteps;
  await runSteps(run, [connectStep<RenewRun>(), s.read, s.issue, s.confirm, s.writeLocal, s.install, s.takeIntoUse], { flow: 'pki-renew' });
  return run;
}

export function newRenewRun(inv: HostsRun['inv'], opts: CertsOptions & { acceptNew?: boolean }, log: (l: string) => void): RenewRun {
  return renewRun({ inv, hosts: newHosts(inv.nodes), acceptNew: !!opts.acceptNew, log }, opts);
}
