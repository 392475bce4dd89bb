import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { etcdClient } from '../../src/etcd/client.js';
import { EtcdctlError, etcdctlMessage } from '../../src/etcd/errors.js';
import { scriptedRemote } from './scripted-remote.js';

/**
 * etcdctl's stderr as the lab's etcdctl 3.4.23 and 3.5.16 wrote it (test/fixtures/etcdctl/<version>/), each run
 * against the lab cluster over TLS: a log record of its gRPC client first, then its own line.
 */
const FIXTURES = path.join(import.meta.dirname, '../fixtures/etcdctl');
const stderrOf = (version: string, name: string) => readFileSync(path.join(FIXTURES, version, `${name}.stderr`), 'utf8');

const CASES: { name: string; message: (v: string) => string; timedOut: boolean }[] = [
  { name: 'member-remove-bad-id', message: () => 'Error: etcdserver: member not found', timedOut: false },
  { name: 'member-promote-voter', message: () => 'Error: etcdserver: can only promote a learner member', timedOut: false },
  { name: 'member-add-existing-peer', message: () => 'Error: etcdserver: Peer URLs already exists', timedOut: false },
  { name: 'get-compacted-revision', message: () => 'Error: etcdserver: mvcc: required revision has been compacted', timedOut: false },
  { name: 'member-list-stopped', message: () => 'Error: context deadline exceeded', timedOut: true },
  { name: 'status-stopped-endpoint', message: () => 'Failed to get the status of endpoint https://10.240.4.10:2999 (context deadline exceeded)', timedOut: true },
];

describe.each(['3.4.23', '3.5.16'])("etcdctl %s's stderr", (version) => {
  it.each(CASES)('$name: its own line, never its log records', ({ name, message, timedOut }) => {
    const stderr = stderrOf(version, name);
    // The fixture really carries the JSON log record the message must leave out.
    expect(stderr).toMatch(/^\{"level":"warn".*"msg":"retrying of unary invoker failed"/);
    expect(etcdctlMessage(stderr)).toBe(message(version));
    const e = EtcdctlError.of('etcdctl x', { stderr, code: 1, timedOut: false });
    expect(e.message).toBe(`etcdctl x: ${message(version)}`);
    expect(e.timedOut).toBe(timedOut);
    expect(e.message).not.toContain('{');
  });

  it('a failed member change throws the one-line message, naming the call and the member', async () => {
    const remote = scriptedRemote('controller-0', [], [[/member remove/, { code: 1, stderr: stderrOf(version, 'member-remove-bad-id') }]]);
    const err = await etcdClient(remote, ['https://10.240.4.10:2379']).memberRemove('1234abcd').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EtcdctlError);
    expect((err as EtcdctlError).message).toBe('etcdctl member remove 1234abcd: Error: etcdserver: member not found');
    expect((err as EtcdctlError).exitCode).toBe(1);
  });
});

describe('EtcdctlError when SSH gave up first', () => {
  it('says how long it waited: etcdctl --command-timeout plus the SSH margin, and that it timed out', async () => {
    const log: string[] = [];
    const remote = scriptedRemote('controller-0', log, [[/defrag/, { code: null, timedOut: true, stderr: '' }]]);
    const err = (await etcdClient(remote, ['https://10.240.4.11:2379']).defrag({ timeoutS: 30 }).catch((e: unknown) => e)) as EtcdctlError;
    expect(err.message).toBe('etcdctl defrag https://10.240.4.11:2379: timed out after 40 s');
    expect(err.timedOut).toBe(true);
    expect(log[0]).toContain(' --command-timeout=30s ');
  });

  it('a run that printed nothing says its exit status', () => {
    expect(EtcdctlError.of('etcdctl alarm list', { stderr: '', code: 2, timedOut: false }).message).toBe('etcdctl alarm list: exit 2');
  });
});
