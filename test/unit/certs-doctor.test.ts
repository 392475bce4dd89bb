import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { newHosts } from '../../src/engine/hosts.js';
import { runSteps } from '../../src/engine/runner.js';
import { planSteps, upSteps, type UpRun } from '../../src/provision/up-steps.js';
import { certFinding, withCertCause } from '../../src/doctor/cluster.js';
import type { Finding } from '../../src/journal/diagnose.js';
import { diagnose } from '../../src/journal/diagnose.js';
import { parseJournal } from '../../src/journal/parse.js';
import { matchEntry } from '../../src/journal/signatures.js';
import { caOf, certLab, connectTo, leafOf, testInventory, testKeys } from './certs-fixtures.js';

const line = (text: string) => parseJournal(text, { year: 2026 })[0]!;
const fixture = readFileSync(path.join(import.meta.dirname, '../fixtures/journal/tls-expiry.short.txt'), 'utf8');

describe('doctor: expired and not-yet-valid certificates in the journal', () => {
  it("TLS-09 from both sides of a 3.4 handshake, with the dates Go prints, and from Go's older bare form", () => {
    const [dial] = matchEntry(line('Dec 07 10:47:14 controller-0 etcd[141]: failed to dial 7eb0844bd77e18ef on stream Message (x509: certificate has expired or is not yet valid: current time 2026-12-07T10:47:14Z is after 2024-06-01T00:00:00Z)'));
    expect(dial).toMatchObject({ id: 'TLS-09', form: '34', groups: { peer: '7eb0844bd77e18ef', now: '2026-12-07T10:47:14Z', notAfter: '2024-06-01T00:00:00Z' } });
    const rejected = matchEntry(line('Dec 07 10:47:15 controller-0 etcd[141]: rejected connection from "10.240.4.12:57742" (error "tls: failed to verify client certificate: x509: certificate has expired or is not yet valid: current time 2026-12-07T10:47:15Z is after 2024-06-01T00:00:00Z", ServerName "")'));
    expect(rejected.map((m) => m.id)).toEqual(['TLS-09']);
    expect(rejected[0]!.groups).toMatchObject({ remote: '10.240.4.12:57742', notAfter: '2024-06-01T00:00:00Z' });
    expect(matchEntry(line('Dec 07 10:48:00 c etcd[1]: rejected connection from "10.240.4.12:1" (error "tls: failed to verify client\'s certificate: x509: certificate has expired or is not yet valid", ServerName "")')).map((m) => m.id)).toEqual(['TLS-09']);
  });

  it('TLS-09b (not valid yet: a clock) is its own finding, never TLS-09; both in zap JSON too', () => {
    const before = 'Dec 07 10:50:02 c etcd[1]: health check for peer 7eb0844bd77e18ef could not connect: x509: certificate has expired or is not yet valid: current time 2026-12-07T10:50:02Z is before 2026-12-07T11:20:00Z';
    expect(matchEntry(line(before)).map((m) => m.id).filter((id) => id.startsWith('TLS'))).toEqual(['TLS-09b']);
    const json = matchEntry(line('May 03 02:42:05 c etcd[1]: {"level":"warn","msg":"rejected connection on client endpoint","remote-addr":"10.240.0.21:53416","error":"tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2024-05-03T02:42:05Z is before 2024-05-03T03:10:00Z"}'));
    expect(json).toEqual([expect.objectContaining({ id: 'TLS-09b', form: 'json', groups: expect.objectContaining({ remote: '10.240.0.21:53416', notBefore: '2024-05-03T03:10:00Z' }) })]);
    const ids = diagnose(parseJournal(fixture, { year: 2026 })).findings.map((f) => f.id);
    expect(ids).toEqual(expect.arrayContaining(['TLS-09', 'TLS-09b', 'TLS-04']));
    const f = diagnose(parseJournal(fixture, { year: 2026 })).findings.find((x) => x.id === 'TLS-09')!;
    expect(f.fix).toMatch(/'hardway pki renew'.*works with the cluster down/);
  });
});

describe('doctor: the installed certificates as findings', () => {
  it('each kind has its own id, the node, the whole sentence and its fix', () => {
    const f = certFinding({ check: 'expiry', node: 'controller-1', severity: 'error', message: '/etc/etcd/kubernetes.pem (serial 01) expired 2 days ago (2026-05-30)', fix: "'hardway pki renew' …" });
    expect(f).toMatchObject({ id: 'CERT-EXPIRY', severity: 'error', hosts: ['controller-1'], details: ['/etc/etcd/kubernetes.pem (serial 01) expired 2 days ago (2026-05-30)'], fix: "'hardway pki renew' …" });
  });

  it('a lost quorum next to expired or untrusted certificates takes their fix; a warning alone changes nothing', () => {
    const lead: Finding = { id: 'CLUSTER', severity: 'error', title: 'quorum lost', count: 1, hosts: [], evidence: [], facts: {}, details: ['quorum lost'], meaning: 'm', fix: "'hardway up' starts …" };
    const expiry = { check: 'expiry' as const, node: 'controller-0', severity: 'error' as const, message: 'expired', fix: "'hardway pki renew' issues a new kubernetes.pem" };
    const withCause = withCertCause(lead, [expiry, { ...expiry, node: 'controller-1' }]);
    expect(withCause.fix).toBe("'hardway pki renew' issues a new kubernetes.pem");
    expect(withCause.details.join()).toMatch(/the members refuse each other's certificates \(CERT-EXPIRY below\)/);
    expect(withCertCause(lead, [{ ...expiry, severity: 'warning' }])).toBe(lead);
  });
});

describe('plan and up: the trust guard runs before pki.dir is issued', () => {
  let keys: string[] = [];
  beforeAll(async () => {
    keys = await testKeys();
  });

  it('pki.dir missing next to a running cluster: refused, and no CA created here, no file written there', async () => {
    const inv = testInventory();
    const ca = caOf(keys[0]!);
    const lab = certLab(inv, [0, 1, 2].map(() => ({ trust: ca, leaf: leafOf(ca, keys[0]!, keys[2]!), key: keys[2]! })));
    const runOf = (dryRun: boolean) => ({ inv, hosts: newHosts(inv.nodes), opts: { dryRun }, log: () => {}, connect: connectTo(lab.remotes) as never }) as UpRun;
    await expect(runSteps(runOf(true), planSteps(() => {}))).rejects.toThrow(/the running members trust another CA than pki\.dir's/);
    await expect(runSteps(runOf(false), upSteps)).rejects.toThrow(/the running members trust another CA than pki\.dir's/);
    expect(existsSync(inv.pki.dir)).toBe(false);
    expect(lab.log.filter((l) => /upload/.test(l))).toEqual([]);
  });
});
