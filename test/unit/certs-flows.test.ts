import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { newHosts } from '../../src/engine/hosts.js';
import { renewCluster, renewRun } from '../../src/certs/renew.js';
import { rotateCa, rotateRun } from '../../src/certs/rotate.js';
import type { Connected } from '../../src/certs/ops.js';
import type { Served } from '../../src/certs/served.js';
import type { Inventory } from '../../src/inventory/types.js';
import { readBundle } from '../../src/pki/bundle.js';
import { formatRotation, phaseTrust } from '../../src/pki/rotation.js';
import { REMOTE_PATHS } from '../../src/render/paths.js';
import { caOf, certLab, commandsOn, connectTo, leafOf, NOW, testInventory, testKeys, writePki } from './certs-fixtures.js';

let keyA = '';
let keyB = '';
let leafKey = '';
let caA = '';
let leafA = '';
beforeAll(async () => {
  [keyA, keyB, leafKey] = await testKeys();
  caA = caOf(keyA);
  leafA = leafOf(caA, keyA, leafKey);
});

const pkiFile = (inv: Inventory, f: string) => readFileSync(path.join(inv.pki.dir, f), 'utf8');
const fingerprints = (pem: string) => readBundle(pem).map((c) => c.fingerprint);

/** What a member serves on a new connection: its leaf file, unless `stale` says it keeps an old one in memory. */
function serving(lab: ReturnType<typeof certLab>, stale = new Map<string, string>()) {
  return async (h: Connected): Promise<Served> => {
    const i = Number(h.node.name.slice(-1));
    const pem = stale.get(h.node.name) ?? lab.text(i, REMOTE_PATHS.cert);
    const x = new X509Certificate(pem);
    return { serial: x.serialNumber, fingerprint: x.fingerprint256, issuer: x.issuer, pem };
  };
}

function setup(localFiles: Parameters<typeof writePki>[1] = { 'ca.pem': caA, 'ca-key.pem': keyA, 'kubernetes.pem': leafA, 'kubernetes-key.pem': leafKey }) {
  const inv = testInventory();
  mkdirSync(inv.pki.dir, { mode: 0o700 });
  writePki(inv.pki.dir, localFiles);
  const lab = certLab(inv, [0, 1, 2].map(() => ({ trust: caA, leaf: leafA, key: leafKey })));
  const base = { inv, hosts: newHosts(inv.nodes), log: () => {}, connect: connectTo(lab.remotes) as never };
  return { inv, lab, base };
}

describe('pki renew', () => {
  it('a new leaf for the key in use, only kubernetes.pem installed, no restart where a new connection shows the new serial', async () => {
    const { inv, lab, base } = setup();
    const run = await renewCluster(renewRun(base, { yes: true, now: NOW, waitMs: 3000, serve: serving(lab) }));
    const serial = new X509Certificate(pkiFile(inv, 'kubernetes.pem')).serialNumber;
    expect(serial).not.toBe(new X509Certificate(leafA).serialNumber);
    expect(pkiFile(inv, 'kubernetes-key.pem')).toBe(leafKey);
    for (const i of [0, 1, 2]) expect(lab.text(i, REMOTE_PATHS.cert)).toBe(pkiFile(inv, 'kubernetes.pem'));
    expect(commandsOn(lab.log, /upload \/etc\/etcd\/kubernetes-key\.pem|hardway-new/)).toEqual([]);
    expect(commandsOn(lab.log, /systemctl (re)?start/)).toEqual([]);
    expect([...run.serving.values()]).toEqual(['a new connection, no restart', 'a new connection, no restart', 'a new connection, no restart']);
  });

  it('restarts only the member that still serves the old leaf, and says so', async () => {
    const { lab, base } = setup();
    // controller-1 keeps serving the leaf it read at start (as an etcd older than 3.2 would) until it restarts.
    const stale = new Map([['controller-1', leafA]]);
    lab.remotes[1]!.rules.unshift([/systemctl restart etcd/, () => (stale.clear(), {})]);
    const run = await renewCluster(renewRun(base, { yes: true, now: NOW, waitMs: 3000, serve: serving(lab, stale) }));
    expect(commandsOn(lab.log, /systemctl restart etcd/)).toEqual(['controller-1']);
    expect(run.done.join('\n')).toMatch(/controller-1: serves serial \w+ after a restart/);
  });

  it('with the cluster down (no member healthy), starts what is stopped and waits; restarts nothing that comes up', async () => {
    const { lab, base } = setup();
    for (const n of ['10.240.0.10', '10.240.0.11', '10.240.0.12']) lab.etcd.down.add(n);
    const run = await renewCluster(renewRun(base, { yes: true, now: NOW, waitMs: 5000, serve: serving(lab) }));
    expect(commandsOn(lab.log, /systemctl start --no-block etcd/)).toEqual(['controller-0', 'controller-1', 'controller-2']);
    expect(commandsOn(lab.log, /systemctl restart/)).toEqual([]);
    expect([...run.serving.values()]).toEqual(['start', 'start', 'start']);
  });

  it("refuses, before writing anything, when a node does not trust pki.dir's CA, and during a CA rotation", async () => {
    const { inv, lab, base } = setup({ 'ca.pem': caOf(keyB), 'ca-key.pem': keyB });
    await expect(renewCluster(renewRun(base, { yes: true, now: NOW, serve: serving(lab) }))).rejects.toThrow(/controller-0, controller-1, controller-2 do not trust pki\.dir's CA .* Nothing was changed\./);
    expect(commandsOn(lab.log, /upload/)).toEqual([]);
    expect(existsSync(path.join(inv.pki.dir, 'kubernetes.pem'))).toBe(false);
    writeFileSync(path.join(inv.pki.dir, 'rotate-ca.json'), formatRotation({ version: 1, phase: 2, started: '', stamp: '20260601T120000Z', oldCas: caA, newCa: caOf(keyB), done: {} }));
    await expect(renewCluster(renewRun({ ...base, hosts: newHosts(inv.nodes) }, { yes: true, now: NOW }))).rejects.toThrow(/a CA rotation is in progress \(phase 2 of 3.*'hardway pki rotate-ca' finishes it/);
  });

  it('without --yes and without a terminal: a usage error, nothing written', async () => {
    const { inv, lab, base } = setup();
    await expect(renewCluster(renewRun(base, { isTTY: false, now: NOW, serve: serving(lab) }))).rejects.toThrow(/not asked without a terminal; run again with --yes/);
    expect(pkiFile(inv, 'kubernetes.pem')).toBe(leafA);
    expect(commandsOn(lab.log, /upload/)).toEqual([]);
  });
});

describe('pki rotate-ca', () => {
  it('three phases: both CAs everywhere and every member restarted (the leader last), new leaves without restarts, the new CA alone and restarted again', async () => {
    const { inv, lab, base } = setup();
    const run = await rotateCa(rotateRun(base, { yes: true, now: NOW, waitMs: 3000, serve: serving(lab) }));
    const newCa = pkiFile(inv, 'ca.pem');
    expect(fingerprints(newCa)).toHaveLength(1);
    expect(fingerprints(newCa)).not.toEqual(fingerprints(caA));
    for (const i of [0, 1, 2]) {
      expect(fingerprints(lab.text(i, REMOTE_PATHS.caCert))).toEqual(fingerprints(newCa));
      expect(new X509Certificate(lab.text(i, REMOTE_PATHS.cert)).verify(new X509Certificate(newCa).publicKey)).toBe(true);
      expect(lab.text(i, REMOTE_PATHS.key)).toBe(leafKey);
    }
    // The order on the nodes: trust files, restarts (the leader, controller-0 in the fake, last), leaves, trust, restarts.
    const steps = lab.log.filter((l) => /upload|systemctl restart/.test(l)).map((l) => l.replace(/^(\S+): (upload|systemctl restart).*?(\/etc\/etcd\/\S+)?$/, '$1 $2 $3').trim());
    const uploads = (f: string) => [0, 1, 2].map((i) => `controller-${i} upload /etc/etcd/${f}`);
    const restarts = ['controller-1', 'controller-2', 'controller-0'].map((n) => `${n} systemctl restart`);
    expect(steps).toEqual([...uploads('ca.pem'), ...restarts, ...uploads('kubernetes.pem'), ...uploads('ca.pem'), ...restarts]);
    // pki.dir: the old CA and key kept aside, the record renamed, the new CA's key in ca-key.pem.
    const files = readdirSync(inv.pki.dir);
    const stamp = /^ca\.pem\.old-(\d{8}T\d{6}Z)$/.exec(files.find((f) => f.startsWith('ca.pem.old-')) ?? '')?.[1];
    expect(stamp).toBeDefined();
    expect(readFileSync(path.join(inv.pki.dir, `ca.pem.old-${stamp}`), 'utf8')).toBe(caA.trim() + '\n');
    expect(readFileSync(path.join(inv.pki.dir, `ca-key.pem.old-${stamp}`), 'utf8')).toBe(keyA);
    expect(files).toContain(`rotate-ca.done-${stamp}.json`);
    expect(files).not.toContain('rotate-ca.json');
    expect(new X509Certificate(newCa).checkPrivateKey((await import('node:crypto')).createPrivateKey(pkiFile(inv, 'ca-key.pem')))).toBe(true);
    expect(run.done.join('\n')).toMatch(/serves serial \w+ on a new connection: no restart/);
    // A second rotation in the same second keeps the first one's files: its own go to the next second.
    await rotateCa(rotateRun({ ...base, hosts: newHosts(inv.nodes) }, { yes: true, now: NOW, waitMs: 3000, serve: serving(lab) }));
    const kept = readdirSync(inv.pki.dir).filter((f) => f.startsWith('ca.pem.old-')).sort();
    expect(kept).toEqual([`ca.pem.old-${stamp}`, `ca.pem.old-${stamp!.replace(/(\d\d)Z$/, (_m, sec: string) => `${String(Number(sec) + 1).padStart(2, '0')}Z`)}`]);
    expect(readFileSync(path.join(inv.pki.dir, `ca.pem.old-${stamp}`), 'utf8')).toBe(caA.trim() + '\n');
  });

  it('resumes where it stopped: phase 2 recorded with controller-0 done, nothing of phase 1 again, controller-0 left alone in phase 2', async () => {
    const { inv, lab, base } = setup();
    const newCa = caOf(keyB);
    const state = { version: 1 as const, phase: 2 as const, started: NOW.toISOString(), stamp: '20260601T120000Z', oldCas: caA, newCa, done: { '1': ['controller-0', 'controller-1', 'controller-2'], '2': ['controller-0'] } };
    writeFileSync(path.join(inv.pki.dir, 'rotate-ca.json'), formatRotation(state));
    writePki(inv.pki.dir, { 'ca.pem': phaseTrust(state, 2), 'ca-key.pem': keyB });
    for (const r of lab.remotes) r.files.set(REMOTE_PATHS.caCert, Buffer.from(phaseTrust(state, 2)));
    await rotateCa(rotateRun(base, { yes: true, now: NOW, waitMs: 3000, serve: serving(lab) }));
    const restarts = commandsOn(lab.log, /systemctl restart/);
    expect(restarts).toEqual(['controller-1', 'controller-2', 'controller-0']);
    expect(lab.log.filter((l) => /upload \/etc\/etcd\/ca\.pem/.test(l))).toHaveLength(3);
    for (const i of [0, 1, 2]) expect(fingerprints(lab.text(i, REMOTE_PATHS.caCert))).toEqual(fingerprints(newCa));
  });

  it('without pki.dir: the old CA is read from the nodes, the leaf and key the nodes hold are copied into pki.dir and only kubernetes.pem changes', async () => {
    const { inv, lab, base } = setup({});
    await rotateCa(rotateRun(base, { yes: true, now: NOW, waitMs: 3000, serve: serving(lab) }));
    const files = readdirSync(inv.pki.dir);
    expect(files.filter((f) => f.includes('.old-')).map((f) => f.replace(/-\d{8}T\d{6}Z$/, ''))).toEqual(['ca.pem.old', 'kubernetes.pem.old']);
    expect(pkiFile(inv, 'kubernetes-key.pem')).toBe(leafKey);
    expect(commandsOn(lab.log, /: cat \/etc\/etcd\/kubernetes-key\.pem/).length).toBeGreaterThan(0);
    expect(commandsOn(lab.log, /hardway-new|upload \/etc\/etcd\/kubernetes-key/)).toEqual([]);
  });

  it('refuses with a member down (nothing changed), and when the nodes do not trust each other', async () => {
    const { inv, lab, base } = setup();
    lab.etcd.down.add('10.240.0.12');
    await expect(rotateCa(rotateRun(base, { yes: true, now: NOW, waitMs: 1500, serve: serving(lab) }))).rejects.toThrow(/needs every one healthy first: .*Nothing was changed\./);
    expect(existsSync(path.join(inv.pki.dir, 'rotate-ca.json'))).toBe(false);
    const odd = setup();
    odd.lab.remotes[2]!.files.set(REMOTE_PATHS.caCert, Buffer.from(caOf(keyB)));
    await expect(rotateCa(rotateRun(odd.base, { yes: true, now: NOW, waitMs: 1500, serve: serving(odd.lab) }))).rejects.toThrow(/controller-2's \/etc\/etcd\/ca\.pem does not verify the kubernetes\.pem of controller-0, controller-1, controller-2.*Nothing was changed\./);
    expect(commandsOn(odd.lab.log, /upload/)).toEqual([]);
  });

  it("adopts pki.dir's own CA when the nodes trust another (the CA a refused up left there)", async () => {
    const newCa = caOf(keyB);
    const { inv, lab, base } = setup({ 'ca.pem': newCa, 'ca-key.pem': keyB });
    await rotateCa(rotateRun(base, { yes: true, now: NOW, waitMs: 3000, serve: serving(lab) }));
    expect(fingerprints(pkiFile(inv, 'ca.pem'))).toEqual(fingerprints(newCa));
    expect(fingerprints(lab.text(1, REMOTE_PATHS.caCert))).toEqual(fingerprints(newCa));
  });
});
