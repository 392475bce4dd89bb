import { OperationError } from '../errors.js';
import type { HostsRun } from '../engine/hosts.js';
import { step, type Step } from '../engine/runner.js';
import { describeCa, hasCert, issuerIn, readBundle, type CertSummary } from '../pki/bundle.js';
import { PKI_FILES } from '../pki/files.js';
import { phaseTrust, readRotation, rotationLine, type RotationState } from '../pki/rotation.js';
import { readPkiFiles, type PkiContents } from '../pki/store.js';
import { readInstalled, type NodeCerts } from '../pki/installed.js';

/**
 * `up` never replaces the trust of a running cluster. etcd reads its trusted CA file only when it starts (etcd issue
 * 11555) but its certificate for every new connection: certificates of another CA written over a running cluster
 * are refused by every member still running, and the first member restarted cannot talk to the others. So before
 * anything is written, what pki.dir would install is compared with what the running members trust.
 */

/** What `up` would install from pki.dir: the trust file, and the CA that signs the leaf it ships. */
export interface Shipped {
  trust: CertSummary[];
  /** The leaf's issuer: the CA in ca.pem that signs (or, in phase 1 of a rotation, the old CA of the leaf kept). */
  leafIssuer?: CertSummary;
}

export function shippedFrom(local: PkiContents, rotation?: RotationState): Shipped {
  if (rotation) {
    const trust = readBundle(phaseTrust(rotation, rotation.phase));
    const issuer = local.cert ? issuerIn(local.cert, trust) : undefined;
    return { trust, ...(issuer ? { leafIssuer: issuer } : {}) };
  }
  const trust = readBundle(local.ca);
  // ensurePki reissues a leaf that ca.pem did not sign: whatever leaf is shipped, ca.pem's (first) CA signs it.
  return { trust, ...(trust[0] ? { leafIssuer: trust[0] } : {}) };
}

/**
 * Why writing pki.dir's certificates would cut the running members off from each other, or undefined when it would
 * not. A running member accepts the shipped leaf when its trust file holds the leaf's issuer, and a member restarted
 * on the shipped trust file accepts the leaves the others run with. A minority of running members that disagree
 * (one odd node) is what `up` repairs; most of them disagreeing is another CA.
 */
export function trustConflict(dir: string, shipped: Shipped, nodes: NodeCerts[]): string | undefined {
  const running = nodes.filter((n) => n.installed && n.installed.active === 'active' && n.installed.trust);
  if (!running.length) return undefined;
  const compatible = running.filter((n) => {
    const trust = readBundle(n.installed!.trust);
    const acceptsShipped = !!shipped.leafIssuer && hasCert(trust, shipped.leafIssuer);
    const shippedAcceptsIt = !n.installed!.leaf || !!issuerIn(n.installed!.leaf, shipped.trust);
    return acceptsShipped && shippedAcceptsIt;
  });
  if (compatible.length * 2 > running.length) return undefined;
  const theirs = new Map<string, { ca: CertSummary; nodes: string[] }>();
  for (const n of running) for (const ca of readBundle(n.installed!.trust)) theirs.set(ca.fingerprint, { ca, nodes: [...(theirs.get(ca.fingerprint)?.nodes ?? []), n.node.name] });
  const nodesTrust = [...theirs.values()].map((t) => `${t.nodes.join(', ')} trust${t.nodes.length === 1 ? 's' : ''} ${describeCa(t.ca)}`).join('; ');
  const ours = shipped.trust.length ? `${dir}/${PKI_FILES.ca} is ${shipped.trust.map(describeCa).join(' + ')}` : `${dir} holds no ${PKI_FILES.ca}`;
  return (
    `the running members trust another CA than pki.dir's: ${nodesTrust}; ${ours}. Installing pki.dir's certificates would cut the members off ` +
    `from each other (etcd reads its trusted CA only when it starts, its certificate for every new connection). Nothing was written to any node. ` +
    `Either put this cluster's pki.dir back (the one whose ${PKI_FILES.ca} is the CA above), or run 'hardway pki rotate-ca' to move the cluster to ` +
    `${shipped.trust.length ? "pki.dir's CA" : 'a new CA'} with no downtime (the old CA's certificate is read from the nodes; its key is not needed).`
  );
}

/**
 * The step `plan` and `up` run before anything is issued or written: refuses, naming both CAs and the two ways out.
 * `readEarly`: the nodes' certificates, when the flow started reading them before this step (read here otherwise).
 */
export function trustGuard<R extends HostsRun>(readEarly?: (r: R) => Promise<NodeCerts[]> | undefined): Step<R> {
  return step<R>(
    "check pki.dir against the cluster's trust",
    async (r) => {
      const dir = r.inv.pki.dir;
      const [local, rotation] = await Promise.all([readPkiFiles(dir).catch(() => ({}) as PkiContents), readRotation(dir)]);
      const nodes = await (readEarly?.(r) ?? readInstalled(r.hosts));
      const why = trustConflict(dir, shippedFrom(local, rotation), nodes);
      if (why) throw new OperationError(why);
      // pki.dir holds the phase's files: shipping them moves the rotation forward, never back.
      if (rotation) r.log(`pki: ${rotationLine(rotation)}: the certificates shipped are that phase's ('hardway pki rotate-ca' finishes it)`);
    },
    (r) => r.inv.etcd.tls,
  );
}
