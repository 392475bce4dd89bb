import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { judgeInstalled, parseInstalled, type NodeCerts } from '../../src/pki/installed.js';
import { shippedFrom, trustConflict } from '../../src/certs/trust.js';
import { issuerIn, joinPem, readBundle } from '../../src/pki/bundle.js';
import { phaseTrust, type Phase, type RotationState } from '../../src/pki/rotation.js';
import { caOf, DAY, leafOf, NOW, sha256, testInventory, testKeys } from './certs-fixtures.js';

let keyA = '';
let keyB = '';
let leafKey = '';
let caA = '';
let caB = '';
let leafA = '';
const inv = testInventory();
const names = inv.nodes.map((n) => n.name);

beforeAll(async () => {
  [keyA, keyB, leafKey] = await testKeys();
  caA = caOf(keyA);
  caB = caOf(keyB);
  leafA = leafOf(caA, keyA, leafKey);
});

const node = (i: number, trust: string, leaf: string, active = 'active', key = leafKey): NodeCerts => ({ node: inv.nodes[i]!, installed: { trust, leaf, keySha256: sha256(key), active } });
const same = (trust: () => string, leaf: () => string) => [0, 1, 2].map((i) => node(i, trust(), leaf()));
const local = () => ({ ca: caA, caKey: keyA, cert: leafA, key: leafKey });

describe('reading the installed files', () => {
  it('parses what the node script prints: files as base64, the key as its SHA-256 only, the unit state', () => {
    const out = [`TRUST ${Buffer.from('T').toString('base64')}`, 'LEAF -', 'KEY abc', 'ACTIVE activating'].join('\n');
    expect(parseInstalled(out)).toEqual({ trust: 'T', keySha256: 'abc', active: 'activating' });
  });
});

describe('verify and doctor: the installed certificates judged', () => {
  it('three nodes with pki.dir\'s files, far from expiry: nothing to say, and each row says the files are pki.dir\'s', () => {
    const j = judgeInstalled(inv, same(() => caA, () => leafA), local(), NOW);
    expect(j.problems).toEqual([]);
    expect(j.rows.map((r) => r.local)).toEqual(names.map(() => ({ trust: true, leaf: true, key: true })));
    expect(j.rows[0]!.leaf!.daysLeft).toBe(365);
  });

  it('a CA with 9 days left: one warning for every node, naming rotate-ca; the leaf ending with it names rotate-ca too', () => {
    const ca = caOf(keyA, 9, { notAfter: new Date(NOW.getTime() + 9 * DAY) });
    const leaf = leafOf(ca, keyA, leafKey, { notAfter: new Date(NOW.getTime() + 9 * DAY) });
    const j = judgeInstalled(inv, same(() => ca, () => leaf), { ca, cert: leaf, key: leafKey }, NOW);
    const caWarning = j.problems.filter((p) => p.check === 'expiry' && !p.node);
    expect(caWarning).toHaveLength(1);
    expect(caWarning[0]).toMatchObject({ severity: 'warning', message: expect.stringMatching(/the CA CN=Kubernetes, O=Kubernetes \(sha256 [0-9a-f]{16}, not after 2026-06-10\) that every node trusts expires in 9 days/), fix: expect.stringMatching(/'hardway pki rotate-ca'/) });
    const leafWarnings = j.problems.filter((p) => p.check === 'expiry' && p.node);
    expect(leafWarnings.map((p) => p.node)).toEqual(names);
    expect(leafWarnings[0]!.fix).toMatch(/ends with its CA: only a new CA extends it; 'hardway pki rotate-ca'/);
  });

  it('an expired leaf is an error on its node, fixed by renew; one not valid yet names the clocks', () => {
    const expired = leafOf(caA, keyA, leafKey, { notBefore: new Date(NOW.getTime() - 400 * DAY), notAfter: new Date(NOW.getTime() - 2 * DAY) });
    const future = leafOf(caA, keyA, leafKey, { notBefore: new Date(NOW.getTime() + DAY), notAfter: new Date(NOW.getTime() + 300 * DAY) });
    const j = judgeInstalled(inv, [node(0, caA, expired), node(1, caA, future), node(2, caA, leafA)], local(), NOW);
    const e = j.problems.filter((p) => p.check === 'expiry');
    expect(e).toEqual([
      expect.objectContaining({ node: 'controller-0', severity: 'error', message: expect.stringMatching(/kubernetes\.pem \(serial \w+\) expired 2 days ago \(2026-05-30\)/), fix: expect.stringMatching(/'hardway pki renew'.*works with the cluster down/) }),
      expect.objectContaining({ node: 'controller-1', severity: 'error', message: expect.stringMatching(/not valid before 2026-06-02/), fix: expect.stringMatching(/check the clocks/) }),
    ]);
  });

  it('a node whose ca.pem holds another CA: an error on that node alone, and up is the fix when pki.dir has the right one', () => {
    const nodes = [node(0, caA, leafA), node(1, caA, leafA), node(2, caB, leafA)];
    const trust = judgeInstalled(inv, nodes, local(), NOW).problems.filter((p) => p.check === 'trust');
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({ node: 'controller-2', severity: 'error', message: expect.stringMatching(/\/etc\/etcd\/ca\.pem on controller-2 .* does not verify the kubernetes\.pem of controller-0, controller-1, controller-2/), fix: expect.stringMatching(/'hardway up' installs pki\.dir's ca\.pem on controller-2/) });
  });

  it("a leaf of another CA on one node: every other node's trust file refuses it", () => {
    const nodes = [node(0, caA, leafA), node(1, caA, leafA), node(2, caA, leafOf(caB, keyB, leafKey))];
    const trust = judgeInstalled(inv, nodes, local(), NOW).problems.filter((p) => p.check === 'trust');
    expect(trust.map((p) => p.node)).toEqual(names);
    expect(trust[0]!.message).toMatch(/does not verify the kubernetes\.pem of controller-2/);
  });

  it('trust files that differ but all verify every leaf (a rotation half done): a warning, no error', () => {
    const bundle = joinPem([caB, caA]);
    const j = judgeInstalled(inv, [node(0, bundle, leafA), node(1, caA, leafA), node(2, caA, leafA)], local(), NOW);
    const trust = j.problems.filter((p) => p.check === 'trust');
    expect(trust).toEqual([expect.objectContaining({ severity: 'warning', node: 'controller-0', message: expect.stringMatching(/the nodes' \/etc\/etcd\/ca\.pem differ: controller-0: [0-9a-f]+ \+ [0-9a-f]+; controller-1, controller-2: [0-9a-f]+/) })]);
  });

  it('a leaf that does not cover its own node, and one for serverAuth only: errors naming the node', () => {
    const narrow = leafOf(caA, keyA, leafKey, { ips: ['10.240.0.10', '10.240.0.11', '127.0.0.1'] });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hardway-eku-'));
    for (const [f, c] of [['ca.pem', caA], ['ca-key.pem', keyA], ['k.pem', leafKey]]) writeFileSync(path.join(dir, f!), c!);
    writeFileSync(path.join(dir, 'ext'), 'extendedKeyUsage=serverAuth\nsubjectAltName=IP:10.240.0.10,IP:10.240.0.11,IP:10.240.0.12,IP:127.0.0.1\n');
    const csr = execFileSync('openssl', ['req', '-new', '-key', path.join(dir, 'k.pem'), '-subj', '/CN=kubernetes']);
    const serverOnly = execFileSync('openssl', ['x509', '-req', '-CA', path.join(dir, 'ca.pem'), '-CAkey', path.join(dir, 'ca-key.pem'), '-CAcreateserial', '-days', '30', '-extfile', path.join(dir, 'ext')], { input: csr, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
    const j = judgeInstalled(inv, [node(0, caA, leafA), node(1, caA, serverOnly), node(2, caA, narrow)], local(), NOW);
    expect(j.problems.filter((p) => p.check === 'san')).toEqual([expect.objectContaining({ node: 'controller-2', message: expect.stringMatching(/does not cover 10\.240\.0\.12 \(its peer and client URLs\)/) })]);
    expect(j.problems.filter((p) => p.check === 'usage')).toEqual([expect.objectContaining({ node: 'controller-1', message: expect.stringMatching(/is for serverAuth only/) })]);
  });

  it("files that are not pki.dir's: a warning per node; pki.dir with no CA at all: one warning with the two ways out", () => {
    const other = leafOf(caA, keyA, leafKey);
    const j = judgeInstalled(inv, [node(0, caA, leafA), node(1, caA, other), node(2, caA, leafA)], local(), NOW);
    expect(j.problems.filter((p) => p.check === 'local')).toEqual([expect.objectContaining({ node: 'controller-1', severity: 'warning', message: expect.stringMatching(/^kubernetes\.pem on controller-1 is not /) })]);
    const none = judgeInstalled(inv, same(() => caA, () => leafA), {}, NOW).problems;
    expect(none).toEqual([expect.objectContaining({ check: 'local', severity: 'warning', message: expect.stringMatching(/holds no ca\.pem: 'hardway up' would refuse/), fix: expect.stringMatching(/put this cluster's pki\.dir back .*'hardway pki rotate-ca'/) })]);
  });

  it('an unreachable node gets a row that says why, and no problem of its own here (verify reports it as ssh)', () => {
    const j = judgeInstalled(inv, [node(0, caA, leafA), node(1, caA, leafA), { node: inv.nodes[2]!, error: 'connect ECONNREFUSED' }], local(), NOW);
    expect(j.problems).toEqual([]);
    expect(j.rows.find((r) => r.node === 'controller-2')).toMatchObject({ error: 'connect ECONNREFUSED' });
  });
});

describe("up's trust guard", () => {
  it('refuses pki.dir with no CA next to running members, naming their CA and both ways out', () => {
    const why = trustConflict('/pki', shippedFrom({}), same(() => caA, () => leafA));
    expect(why).toMatch(/^the running members trust another CA than pki\.dir's: controller-0, controller-1, controller-2 trust CN=Kubernetes, O=Kubernetes \(sha256 [0-9a-f]{16}, not after \S+\); \/pki holds no ca\.pem\./);
    expect(why).toMatch(/Nothing was written to any node\. Either put this cluster's pki\.dir back .* or run 'hardway pki rotate-ca' to move the cluster to a new CA/);
  });

  it("refuses pki.dir's other CA; accepts its own CA, one odd node (up repairs it), and a cluster that does not run", () => {
    const nodes = same(() => caA, () => leafA);
    expect(trustConflict('/pki', shippedFrom({ ca: caB }), nodes)).toMatch(/\/pki\/ca\.pem is CN=Kubernetes.*move the cluster to pki\.dir's CA/);
    expect(trustConflict('/pki', shippedFrom({ ca: caA }), nodes)).toBeUndefined();
    expect(trustConflict('/pki', shippedFrom({ ca: caA }), [node(0, caA, leafA), node(1, caA, leafA), node(2, caB, leafOf(caB, keyB, leafKey))])).toBeUndefined();
    expect(trustConflict('/pki', shippedFrom({ ca: caB }), [0, 1, 2].map((i) => node(i, caA, leafA, 'failed')))).toBeUndefined();
    // Two of three running members on another CA is another CA.
    expect(trustConflict('/pki', shippedFrom({ ca: caA }), [node(0, caA, leafA), node(1, caB, leafOf(caB, keyB, leafKey)), node(2, caB, leafOf(caB, keyB, leafKey))])).toBeDefined();
  });
});

describe('plan and up during a CA rotation: they ship the phase\'s files and never undo one', () => {
  it('phase 1 next to nodes not yet moved, phase 3 next to nodes still on both CAs: no conflict; what is shipped is the phase\'s', () => {
    const s: RotationState = { version: 1, phase: 1, started: '', stamp: '20260601T120000Z', oldCas: caA, newCa: caB, done: {} };
    const newLeaf = leafOf(caB, keyB, leafKey);
    // Phase 1: pki.dir has both CAs and still the old leaf; two nodes trust the old CA alone.
    const p1 = shippedFrom({ ca: phaseTrust(s, 1), cert: leafA }, s);
    expect(p1.trust.map((c) => c.fingerprint)).toEqual(readBundle(phaseTrust(s, 1)).map((c) => c.fingerprint));
    expect(p1.leafIssuer?.fingerprint).toBe(readBundle(caA)[0]!.fingerprint);
    expect(trustConflict('/pki', p1, [node(0, phaseTrust(s, 1), leafA), node(1, caA, leafA), node(2, caA, leafA)])).toBeUndefined();
    // Phase 3: the new CA alone and the new leaf, next to nodes that still trust both.
    const s3 = { ...s, phase: 3 as const };
    const p3 = shippedFrom({ ca: phaseTrust(s3, 3), cert: newLeaf }, s3);
    expect(trustConflict('/pki', p3, [0, 1, 2].map((i) => node(i, phaseTrust(s3, 2), newLeaf)))).toBeUndefined();
    // The new leaf shipped in phase 1 would be a conflict: the nodes do not trust its CA yet.
    expect(trustConflict('/pki', { trust: p1.trust, leafIssuer: readBundle(caB)[0]! }, [0, 1, 2].map((i) => node(i, caA, leafA)))).toBeDefined();
  });
});

/**
 * The design of rotate-ca, checked on real certificates: at every moment of every phase (each node before or after
 * its change, its etcd restarted or not), every running member accepts every other member's leaf on a new
 * connection, and pki.dir's files (what `env` and `up` use) are accepted by all and accept all.
 */
describe('rotate-ca: every member and pki.dir trust each other at every step', () => {
  it('holds through the three phases, node by node', () => {
    const s: RotationState = { version: 1, phase: 1, started: '', stamp: '20260601T120000Z', oldCas: caA, newCa: caB, done: {} };
    const newLeaf = leafOf(caB, keyB, leafKey);
    // Per node: the trust file, the trust etcd read when it last started, and the leaf file (read per connection).
    const nodes = [0, 1, 2].map(() => ({ file: caA, memory: caA, leaf: leafA }));
    const localAt = (p: Phase) => ({ trust: phaseTrust(s, p), leaf: p === 1 ? leafA : newLeaf });
    const check = (where: string, p: Phase) => {
      const { trust, leaf } = localAt(p);
      for (const a of nodes) {
        for (const b of nodes) expect(issuerIn(b.leaf, readBundle(a.memory)), `${where}: a member refuses a peer`).toBeDefined();
        expect(issuerIn(leaf, readBundle(a.memory)), `${where}: a member refuses pki.dir's leaf`).toBeDefined();
        expect(issuerIn(a.leaf, readBundle(trust)), `${where}: pki.dir's ca.pem refuses a member`).toBeDefined();
        // What a member's own etcdctl (its files) sees.
        for (const b of nodes) expect(issuerIn(b.leaf, readBundle(a.file)), `${where}: a node's etcdctl refuses a member`).toBeDefined();
      }
    };
    // As runPhase does it: every node's file written (in any order), then the members restarted one at a time.
    for (const p of [1, 2, 3] as Phase[]) {
      check(`start of phase ${p}`, p);
      for (const [i, n] of nodes.entries()) {
        if (p === 2) n.leaf = newLeaf;
        else n.file = phaseTrust(s, p);
        check(`phase ${p}, controller-${i} written`, p);
      }
      if (p === 2) continue;
      for (const [i, n] of nodes.entries()) {
        n.memory = n.file;
        check(`phase ${p}, controller-${i} restarted`, p);
      }
    }
    expect(nodes.every((n) => readBundle(n.file).length === 1 && issuerIn(n.leaf, readBundle(caB)))).toBe(true);
  });
});
