import { X509Certificate } from 'node:crypto';
import { usable, type Host } from '../engine/hosts.js';
import { quorum } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import { describeCa, issuerIn, readBundle, sameCerts, sha256Hex, shortFingerprint, summarize, type CertSummary } from './bundle.js';
import { PKI_FILES, RENEW_BEFORE_DAYS } from './files.js';
import { daysLeft } from './inspect.js';
import { readPkiFiles, type PkiContents } from './store.js';
import { readRotation, rotationLine, type RotationState } from './rotation.js';
import { REMOTE_PATHS } from '../render/paths.js';
import { shq } from '../ssh/remote.js';

/**
 * The certificates installed on the nodes (/etc/etcd), read on the nodes, and what `verify`, `doctor` and `up`'s
 * trust guard make of them. The reading is one command per node (certificates are public; of the key only its
 * SHA-256 leaves the node); the judging is pure.
 */

export interface Installed {
  /** /etc/etcd/ca.pem as text (a bundle during a CA rotation), when there is one. */
  trust?: string;
  /** /etc/etcd/kubernetes.pem as text. */
  leaf?: string;
  /** SHA-256 of /etc/etcd/kubernetes-key.pem. */
  keySha256?: string;
  /** `systemctl is-active etcd.service`. */
  active: string;
}

export interface NodeCerts {
  node: NodeSpec;
  installed?: Installed;
  /** Why nothing could be read (unreachable). */
  error?: string;
}

export function installedScript(): string {
  const file = (tag: string, p: string) => `if [ -r ${shq(p)} ]; then echo "${tag} $(head -c 65536 ${shq(p)} | base64 | tr -d '\\n')"; else echo "${tag} -"; fi`;
  return [
    file('TRUST', REMOTE_PATHS.caCert),
    file('LEAF', REMOTE_PATHS.cert),
    `if [ -r ${shq(REMOTE_PATHS.key)} ]; then echo "KEY $(sha256sum < ${shq(REMOTE_PATHS.key)} | cut -d' ' -f1)"; else echo "KEY -"; fi`,
    'echo "ACTIVE $(systemctl is-active etcd.service 2>/dev/null || true)"',
  ].join('\n');
}

export function parseInstalled(out: string): Installed {
  const r: Installed = { active: '' };
  for (const line of out.split('\n')) {
    const [tag, value = ''] = line.split(' ');
    const text = value && value !== '-' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
    if (tag === 'TRUST' && text) r.trust = text;
    if (tag === 'LEAF' && text) r.leaf = text;
    if (tag === 'KEY' && value && value !== '-') r.keySha256 = value;
    if (tag === 'ACTIVE') r.active = value.trim() || 'unknown';
  }
  return r;
}

/** Every host's installed certificates, in parallel over its connection; an unreachable host says why. */
export async function readInstalled(hosts: Host[]): Promise<NodeCerts[]> {
  return Promise.all(
    hosts.map(async (h): Promise<NodeCerts> => {
      if (!usable(h)) return { node: h.node, error: h.outcome.reason ?? 'not connected' };
      try {
        const r = await h.remote.run(installedScript(), { timeoutMs: 20_000 });
        if (r.code !== 0) return { node: h.node, error: `reading ${REMOTE_PATHS.configDir} failed: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.code}`}` };
        return { node: h.node, installed: parseInstalled(r.stdout) };
      } catch (e) {
        return { node: h.node, error: (e as Error).message };
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Judging

export type CertCheck = 'expiry' | 'trust' | 'san' | 'usage' | 'local' | 'missing';

export interface CertProblem {
  check: CertCheck;
  /** The node it is about; none when it is about every node (one CA they all trust). */
  node?: string;
  severity: 'error' | 'warning';
  message: string;
  /** The hardway command that fixes it, in a sentence. */
  fix: string;
}

/** One row per node for the report: what its files are. */
export interface CertRowView {
  node: string;
  leaf?: { serial: string; issuer: string; notAfter: string; daysLeft: number; sans: string[] };
  trust: { ca: string; notAfter: string; daysLeft: number }[];
  /** Whether each file is the one in pki.dir. */
  local: { trust: boolean; leaf: boolean; key: boolean };
  error?: string;
}

export interface CertJudgement {
  problems: CertProblem[];
  rows: CertRowView[];
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
const names = (ns: string[]) => ns.join(', ');

const RENEW = "'hardway pki renew' issues a new kubernetes.pem from the same CA and installs it (no restart: etcd reads it for each new connection; it also works with the cluster down)";
const ROTATE = "'hardway pki rotate-ca' moves the cluster to a new CA with no downtime";

function when(c: { notAfter: Date; notBefore: Date }, now: Date): { state: 'expired' | 'future' | 'soon' | 'ok'; text: string } {
  const left = daysLeft(c.notAfter, now);
  if (c.notAfter.getTime() <= now.getTime()) {
    const ago = Math.floor((now.getTime() - c.notAfter.getTime()) / 86_400_000);
    return { state: 'expired', text: `expired ${ago === 0 ? 'today' : `${plural(ago, 'day')} ago`} (${isoDate(c.notAfter)})` };
  }
  if (c.notBefore.getTime() > now.getTime()) return { state: 'future', text: `not valid before ${c.notBefore.toISOString()} (a clock is wrong, here or on the node)` };
  if (left < RENEW_BEFORE_DAYS) return { state: 'soon', text: `expires in ${plural(left, 'day')} (${isoDate(c.notAfter)}), within ${RENEW_BEFORE_DAYS} days` };
  return { state: 'ok', text: '' };
}

interface Parsed {
  name: string;
  node: NodeSpec;
  cas: CertSummary[];
  leaf?: CertSummary;
  leafX?: X509Certificate;
  inst: Installed;
}

/**
 * What is wrong with the certificates the nodes hold: expiry (a warning within 30 days, an error once expired or not
 * yet valid), every node's trust file against every node's leaf, the leaf's SANs against the node's address, its
 * usages, and whether the files are pki.dir's. Each problem names the hardway command that fixes it.
 */
export function judgeInstalled(inv: Inventory, nodes: NodeCerts[], local: PkiContents, now: Date, rotation?: RotationState): CertJudgement {
  const problems: CertProblem[] = [];
  const rows: CertRowView[] = [];
  const parsed: Parsed[] = [];
  for (const n of nodes) {
    if (!n.installed) {
      rows.push({ node: n.node.name, trust: [], local: { trust: false, leaf: false, key: false }, error: n.error ?? 'not read' });
      continue;
    }
    const inst = n.installed;
    const cas = readBundle(inst.trust);
    let leaf: CertSummary | undefined;
    let leafX: X509Certificate | undefined;
    if (inst.leaf) {
      try {
        leaf = summarize(inst.leaf);
        leafX = new X509Certificate(inst.leaf);
      } catch (e) {
        problems.push({ check: 'missing', node: n.node.name, severity: 'error', message: `${REMOTE_PATHS.cert} cannot be read as a certificate (${(e as Error).message})`, fix: "'hardway up' installs pki.dir's" });
      }
    } else problems.push({ check: 'missing', node: n.node.name, severity: 'error', message: `no ${REMOTE_PATHS.cert}`, fix: "'hardway up' installs pki.dir's" });
    if (!inst.trust) problems.push({ check: 'missing', node: n.node.name, severity: 'error', message: `no ${REMOTE_PATHS.caCert}`, fix: "'hardway up' installs pki.dir's" });
    else if (!cas.length) problems.push({ check: 'missing', node: n.node.name, severity: 'error', message: `${REMOTE_PATHS.caCert} holds no readable certificate`, fix: "'hardway up' installs pki.dir's" });
    parsed.push({ name: n.node.name, node: n.node, cas, ...(leaf ? { leaf } : {}), ...(leafX ? { leafX } : {}), inst });
  }

  // Expiry of the leaves, per node (each node has its own file).
  for (const p of parsed) {
    if (!p.leaf) continue;
    const w = when(p.leaf, now);
    if (w.state === 'ok') continue;
    const issuer = issuerIn(p.leaf.pem, p.cas);
    const endsWithCa = w.state === 'soon' && issuer && p.leaf.notAfter.getTime() >= issuer.notAfter.getTime() - 86_400_000;
    problems.push({
      check: 'expiry',
      node: p.name,
      severity: w.state === 'soon' ? 'warning' : 'error',
      message: `${REMOTE_PATHS.cert} (serial ${p.leaf.serial}) ${w.text}${w.state === 'expired' ? ': members reject it, on peer and client connections alike' : ''}`,
      fix: endsWithCa ? `it ends with its CA: only a new CA extends it; ${ROTATE}` : w.state === 'future' ? `check the clocks (timedatectl), then ${RENEW}` : RENEW,
    });
  }

  // Expiry of the CAs, once per CA with the nodes that trust it.
  const byCa = new Map<string, { ca: CertSummary; nodes: string[] }>();
  for (const p of parsed) for (const ca of p.cas) byCa.set(ca.fingerprint, { ca, nodes: [...(byCa.get(ca.fingerprint)?.nodes ?? []), p.name] });
  const everyNode = (ns: string[]) => ns.length === parsed.length;
  for (const { ca, nodes: ns } of byCa.values()) {
    if (!ca.isCa) {
      problems.push({ check: 'trust', ...(ns.length === 1 ? { node: ns[0]! } : {}), severity: 'error', message: `${REMOTE_PATHS.caCert} on ${names(ns)} holds ${ca.subject} (sha256 ${shortFingerprint(ca.fingerprint)}), which is not a CA certificate`, fix: "'hardway up' installs pki.dir's ca.pem" });
      continue;
    }
    const retired = rotation && readBundle(rotation.oldCas).some((o) => o.fingerprint === ca.fingerprint);
    const w = when(ca, now);
    if (w.state === 'ok' || (retired && w.state === 'soon')) continue;
    problems.push({
      check: 'expiry',
      ...(ns.length === 1 && !everyNode(ns) ? { node: ns[0]! } : {}),
      severity: w.state === 'soon' ? 'warning' : 'error',
      message: `the CA ${describeCa(ca)} that ${everyNode(ns) ? 'every node trusts' : `${names(ns)} trust${ns.length > 1 ? '' : 's'}`} ${w.text}${w.state === 'soon' ? ': once it expires, no member accepts another' : ''}`,
      fix: w.state === 'future' ? 'check the clocks (timedatectl)' : rotation ? `${rotationLine(rotation)}: 'hardway pki rotate-ca' finishes it` : ROTATE,
    });
  }

  // Every node's trust file against every node's leaf: what a member restarted now would accept.
  const withLeaf = parsed.filter((p) => p.leaf);
  const localCas = readBundle(local.ca);
  for (const a of parsed.filter((p) => p.cas.length)) {
    const rejected = withLeaf.filter((b) => !issuerIn(b.leaf!.pem, a.cas));
    if (!rejected.length) continue;
    const issuers = [...new Set(rejected.map((b) => issuerIn(b.leaf!.pem, [...byCa.values()].map((x) => x.ca))).map((c) => (c ? describeCa(c) : 'a CA no node trusts')))];
    const localFixes = rejected.every((b) => issuerIn(b.leaf!.pem, localCas)) && localCas.length > 0;
    problems.push({
      check: 'trust',
      node: a.name,
      severity: 'error',
      message:
        `${REMOTE_PATHS.caCert} on ${a.name} (${a.cas.map(describeCa).join('; ')}) does not verify the ${PKI_FILES.cert} of ${names(rejected.map((b) => b.name))} ` +
        `(issued by ${issuers.join('; ')}): once etcd on ${a.name} (re)starts, it refuses ${rejected.length === withLeaf.length ? 'every member' : 'those members'}, and they it`,
      fix: localFixes
        ? `'hardway up' installs pki.dir's ${PKI_FILES.ca} on ${a.name} and restarts it (the other members keep quorum)`
        : `put the CA that signed the members' ${PKI_FILES.cert} back into ${REMOTE_PATHS.caCert} on ${a.name}; to move the cluster to another CA, ${ROTATE}`,
    });
  }
  // Trust files that differ but still verify every leaf: a rotation half done, or a hand edit.
  const groups = new Map<string, string[]>();
  for (const p of parsed.filter((x) => x.cas.length)) {
    const key = p.cas.map((c) => c.fingerprint).sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), p.name]);
  }
  if (groups.size > 1 && !problems.some((x) => x.check === 'trust')) {
    const majority = Math.max(...[...groups.values()].map((g) => g.length));
    const odd = [...groups.values()].filter((g) => g.length < majority || majority < quorum(parsed.length)).flat();
    problems.push({
      check: 'trust',
      ...(odd.length === 1 ? { node: odd[0]! } : {}),
      severity: 'warning',
      message: `the nodes' ${REMOTE_PATHS.caCert} differ: ${[...groups.entries()].map(([k, ns]) => `${names(ns)}: ${k.split(',').map((f) => shortFingerprint(f)).join(' + ')}`).join('; ')} (each still verifies every member's ${PKI_FILES.cert})`,
      fix: rotation ? `${rotationLine(rotation)}: 'hardway pki rotate-ca' finishes it` : "'hardway plan' shows which nodes 'hardway up' would give pki.dir's ca.pem",
    });
  }

  // SANs and usages of each node's own leaf.
  for (const p of parsed) {
    if (!p.leafX) continue;
    const need = [p.node.internalIp, ...(inv.etcd.listenLocalhost ? ['127.0.0.1'] : [])];
    const missing = need.filter((ip) => p.leafX!.checkIP(ip) === undefined);
    if (missing.length) {
      problems.push({
        check: 'san',
        node: p.name,
        severity: 'error',
        message: `${REMOTE_PATHS.cert} on ${p.name} does not cover ${names(missing)} (${missing.includes(p.node.internalIp) ? 'its peer and client URLs' : 'its loopback client URL'}): peers and clients reject it`,
        fix: RENEW.replace('from the same CA', "from the same CA for the inventory's addresses"),
      });
    }
    const eku = p.leafX.keyUsage;
    if (eku && !eku.includes(ANY_EKU) && !(eku.includes(SERVER_AUTH) && eku.includes(CLIENT_AUTH))) {
      const has = [eku.includes(SERVER_AUTH) ? 'serverAuth' : '', eku.includes(CLIENT_AUTH) ? 'clientAuth' : ''].filter(Boolean);
      problems.push({
        check: 'usage',
        node: p.name,
        severity: 'error',
        message: `${REMOTE_PATHS.cert} on ${p.name} is for ${has.join(' and ') || 'neither serverAuth nor clientAuth'} only: etcd peers use one certificate as server and as client, and need both`,
        fix: `${RENEW} (hardway's leaves have both)`,
      });
    }
  }

  // The laptop's files: what 'up' and 'env' use.
  const localLeaf = local.cert ? safeSummary(local.cert) : undefined;
  const localKeySha = local.key ? sha256Hex(local.key) : undefined;
  for (const p of parsed) {
    const same = {
      trust: localCas.length > 0 && sameCerts(p.cas, localCas),
      leaf: !!localLeaf && !!p.leaf && localLeaf.fingerprint === p.leaf.fingerprint,
      key: !!localKeySha && localKeySha === p.inst.keySha256,
    };
    const differ = [...(same.trust ? [] : [PKI_FILES.ca]), ...(same.leaf ? [] : [PKI_FILES.cert]), ...(same.key ? [] : [PKI_FILES.key])];
    if (differ.length && (local.ca !== undefined || local.cert !== undefined)) {
      problems.push({
        check: 'local',
        node: p.name,
        severity: 'warning',
        message: `${names(differ)} on ${p.name} ${differ.length === 1 ? 'is' : 'are'} not ${inv.pki.dir}'s`,
        fix: "'hardway plan' shows what 'hardway up' would install; if pki.dir is not this cluster's, put the right one back, or 'hardway pki rotate-ca' moves the cluster to pki.dir's CA",
      });
    }
    rows.push({
      node: p.name,
      ...(p.leaf
        ? {
            leaf: {
              serial: p.leaf.serial,
              issuer: (() => {
                const i = issuerIn(p.leaf.pem, [...byCa.values()].map((x) => x.ca));
                return i ? `${i.subject} (${shortFingerprint(i.fingerprint)})` : p.leaf.issuer;
              })(),
              notAfter: isoDate(p.leaf.notAfter),
              daysLeft: daysLeft(p.leaf.notAfter, now),
              sans: p.leafX?.subjectAltName?.split(', ').map((s) => s.replace(/^(IP Address|DNS):/, '')) ?? [],
            },
          }
        : {}),
      trust: p.cas.map((c) => ({ ca: `${c.subject} (${shortFingerprint(c.fingerprint)})`, notAfter: isoDate(c.notAfter), daysLeft: daysLeft(c.notAfter, now) })),
      local: same,
    });
  }
  if (local.ca === undefined && parsed.some((p) => p.cas.length)) {
    problems.push({
      check: 'local',
      severity: 'warning',
      message: `${inv.pki.dir} holds no ${PKI_FILES.ca}: 'hardway up' would refuse to install a new CA over the one the nodes trust`,
      fix: `put this cluster's pki.dir back (its ca.pem: ${[...byCa.values()].map((x) => describeCa(x.ca)).join('; ')}), or ${ROTATE} (it reads the old CA's certificate from the nodes)`,
    });
  }
  return { problems, rows };
}

function safeSummary(pem: string): CertSummary | undefined {
  try {
    return summarize(pem);
  } catch {
    return undefined;
  }
}

/** Reads the nodes' certificates over `hosts` and pki.dir here, and judges them (verify and doctor). */
export async function checkInstalled(inv: Inventory, hosts: Host[], now: Date = new Date()): Promise<CertJudgement> {
  if (!inv.etcd.tls) return { problems: [], rows: [] };
  const [nodes, local, rotation] = await Promise.all([
    readInstalled(hosts),
    readPkiFiles(inv.pki.dir).catch(() => ({}) as PkiContents),
    readRotation(inv.pki.dir).catch(() => undefined),
  ]);
  return judgeInstalled(inv, nodes, local, now, rotation);
}

/** `CERT-EXPIRY` and so on: the doctor's id of each kind of problem. */
export function certFindingId(p: CertProblem): string {
  return `CERT-${p.check.toUpperCase()}`;
}
