/**
 * The --json contract on the lab's cluster: every command that takes --json and talks to a cluster (LAB_SUCCESS in
 * test/json-contract-cases.ts; the unit test checks that list against the command tree) run on its success path,
 * stdout parsed whole each time; then the failures of the issue on a live cluster (a missing key, a misspelt
 * member, a refused SSH key, a stopped member), each one JSON document with ok false and the exit code. Also
 * what etcdctl users type: `hardway etcdctl -i INV endpoint status -w table`, HARDWAY_INVENTORY, `hardway leader`.
 *
 * One cluster, brought up by the `up` step; the steps run in order (member remove → replace → reset → replace,
 * snapshot save → restore, recover last) and leave a healthy 3-member cluster.
 */
import { execa } from 'execa';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SUCCESS, oneDocument } from '../json-contract-cases.js';
import { healthyCount, scratchInventory } from './etcd-helpers.js';
import { describeLab, lab, runHardway, sshOk, waitUntil, wipeNode, type CmdResult } from './lab-helpers.js';

type Doc = Record<string, unknown>;
const inv = () => lab().inventoryPath;

/** Runs `args --json -i INV`: exit 0 and one JSON document. */
async function ok(args: string[], opts: { env?: Record<string, string> } = {}): Promise<Doc> {
  const r = await runHardway([...args, '-i', inv(), '--json'], opts);
  expect(r.exitCode, `${args.join(' ')}\n${r.stderr}\n${r.stdout}`).toBe(0);
  return oneDocument(r.stdout) as Doc;
}

/** Runs a failing `--json` command: one document, ok false, error.code the exit code. */
async function failed(args: string[], code: number): Promise<Doc & { error: { code: number; message: string } }> {
  const r: CmdResult = await runHardway([...args, '--json']);
  expect(r.exitCode, `${args.join(' ')}\n${r.stderr}`).toBe(code);
  const doc = oneDocument(r.stdout) as Doc & { error: { code: number; message: string } };
  expect(doc).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
  return doc;
}

const ran = new Set<string>();
const step = (cmd: (typeof LAB_SUCCESS)[number], name: string, fn: () => Promise<void>, timeout = 300_000) =>
  it(`${cmd}: ${name}`, async () => {
    await fn();
    ran.add(cmd);
  }, timeout);

describeLab('the --json contract on the lab', () => {
  let snapshotFile = '';
  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
  });

  describe('every --json command that talks to a cluster, on its success path', () => {
    step('up', 'bootstraps the cluster', async () => {
      const doc = await ok(['up']);
      expect((doc.nodes as { node: string; status: string }[]).map((n) => n.status)).toEqual(['ok', 'ok', 'ok']);
    });
    step('plan', 'nothing to change', async () => {
      expect(await ok(['plan'])).toMatchObject({ changed: false });
    });
    step('member list', 'three members', async () => {
      expect((await ok(['member', 'list'])).members).toHaveLength(3);
    });
    step('leader', 'the leader, as etcd says', async () => {
      const doc = await ok(['leader']);
      expect(doc).toMatchObject({ name: expect.stringMatching(/^controller-\d$/), id: expect.stringMatching(/^[0-9a-f]+$/), endpoint: expect.stringMatching(/^https:\/\/[\d.]+:2379$/), term: expect.any(Number) });
      expect(doc.node).toBe(doc.name);
    });
    step('leader move', 'moves it off the leader', async () => {
      const before = (await ok(['leader'])).name;
      const doc = await ok(['leader', 'move']);
      expect(doc).toMatchObject({ moved: true, before: { name: before } });
      expect((await ok(['leader'])).name).toBe((doc.after as { name: string }).name);
    });
    step('keys list', 'a key put through hardway etcdctl (no options of its own)', async () => {
      const put = await runHardway(['etcdctl', '-i', inv(), 'put', '/json-contract/a', '{"kind":"Thing","n":1}']);
      expect(put.exitCode, put.stderr).toBe(0);
      expect((await ok(['keys', 'list', '/json-contract/'])).count).toBe(1);
    });
    step('keys stats', 'counts it', async () => {
      expect(await ok(['keys', 'stats', '/json-contract/'])).toMatchObject({ revision: expect.anything() });
    });
    step('keys get', 'its value', async () => {
      expect(await ok(['keys', 'get', '/json-contract/a'])).toMatchObject({ key: '/json-contract/a' });
    });
    step('keys diff', 'since revision 1', async () => {
      expect(await ok(['keys', 'diff', '1'])).toEqual(expect.any(Object));
    });
    step('keys encryption', 'no secrets, nothing unencrypted', async () => {
      expect(await ok(['keys', 'encryption'])).toMatchObject({ unencrypted: [] });
    });
    step('alarm list', 'no alarms', async () => {
      expect(await ok(['alarm', 'list'])).toEqual({ alarms: [] });
    });
    step('alarm disarm', 'nothing to disarm', async () => {
      expect(await ok(['alarm', 'disarm'])).toEqual({ disarmed: [] });
    });
    step('defrag', 'every member', async () => {
      expect((await ok(['defrag'])).members).toHaveLength(3);
    });
    step('tune', '--dry-run: a recommendation', async () => {
      expect(await ok(['tune', '--dry-run'])).toMatchObject({ applied: false });
    });
    step('verify', 'a healthy cluster', async () => {
      expect(await ok(['verify'])).toMatchObject({ ok: true });
    });
    step('doctor', 'online', async () => {
      // Warnings (a slow fsync on the loaded machine's shared disk, say) pass: ok true is the contract.
      expect(await ok(['doctor'])).toMatchObject({ ok: true });
    });
    step('snapshot save', 'into snapshots.dir', async () => {
      const doc = await ok(['snapshot', 'save']);
      snapshotFile = doc.file as string;
      expect(snapshotFile).toMatch(/\.db$/);
    });
    step('snapshot status', 'the saved file', async () => {
      expect(await ok(['snapshot', 'status', snapshotFile])).toMatchObject({ verdict: 'ok' });
    });
    step('snapshot list', 'lists it', async () => {
      const list = (await runHardway(['snapshot', 'list', '-i', inv(), '--json'])).stdout;
      expect((oneDocument(list) as { file: string }[]).map((s) => s.file)).toContain(snapshotFile);
    });
    step('pki renew', 'a new leaf on every member', async () => {
      expect(await ok(['pki', 'renew', '--yes'])).toMatchObject({ ok: true, serial: expect.any(String) });
    });
    step('member remove', 'controller-2', async () => {
      expect(await ok(['member', 'remove', 'controller-2', '--yes', '--no-snapshot'])).toMatchObject({ removed: { name: 'controller-2' } });
    });
    step('member replace', 'controller-2 back', async () => {
      expect(await ok(['member', 'replace', 'controller-2', '--yes', '--no-snapshot'])).toMatchObject({ node: 'controller-2' });
      expect(await healthyCount(0)).toBe(3);
    });
    step('reset', 'controller-2 out again', async () => {
      expect(await ok(['reset', 'controller-2', '--yes'])).toMatchObject({ node: 'controller-2' });
      const back = await ok(['member', 'replace', 'controller-2', '--yes', '--no-snapshot']);
      expect(back).toMatchObject({ node: 'controller-2' });
    });
    step('snapshot restore', 'the snapshot, --force on a healthy cluster', async () => {
      expect(await ok(['snapshot', 'restore', snapshotFile, '--force', '--no-snapshot', '--yes'])).toMatchObject({ file: snapshotFile });
    });
    it('ran every command LAB_SUCCESS names', () => {
      expect(LAB_SUCCESS.filter((c) => !ran.has(c))).toEqual([]);
    });
  });

  describe('the failures of the issue, each one JSON document', () => {
    it('keys get /nope: exit 1, no such key', async () => {
      expect((await failed(['keys', 'get', '/nope', '-i', inv()], 1)).error.message).toMatch(/^no such key: \/nope/);
    });

    it('member remove of a name that is no member: exit 2, with a suggestion for a misspelt one', async () => {
      expect((await failed(['member', 'remove', 'nosuch', '--yes', '-i', inv()], 2)).error.message).toMatch(/^nosuch is neither a member nor in the inventory \(members: /);
      expect((await failed(['member', 'remove', 'controler-1', '--yes', '-i', inv()], 2)).error.message).toMatch(/^controler-1 is neither a member nor in the inventory: did you mean 'controller-1'\?/);
    });

    it('snapshot status of a missing file: exit 2', async () => {
      expect((await failed(['snapshot', 'status', path.join(lab().dir, 'missing.db')], 2)).error.message).toMatch(/missing\.db: no such file/);
    });

    it('verify without an inventory: exit 2, naming hardway init', async () => {
      expect((await failed(['verify', '-i', path.join(lab().dir, 'none.yaml')], 2)).error.message).toMatch(/no such inventory file\. Write one with 'hardway init'/);
    });

    it('member list with a key the nodes refuse: a failure document', async () => {
      const refused = await scratchInventory((doc, dir) => doc.setIn(['ssh', 'identityFile'], path.join(dir, 'other_ed25519')));
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(path.dirname(refused), 'other_ed25519')]);
      const r = await runHardway(['member', 'list', '-i', refused, '--json']);
      expect(r.exitCode).not.toBe(0);
      expect(oneDocument(r.stdout)).toMatchObject({ ok: false, error: { code: r.exitCode, message: expect.stringMatching(/controller-0/) } });
    });

    describe('with one member stopped', () => {
      beforeAll(() => sshOk(2, 'systemctl stop etcd'));
      afterAll(async () => {
        await sshOk(2, 'systemctl start etcd');
        await waitUntil(async () => (await healthyCount(0)) === 3, 60_000, 500);
      });

      it("verify: exit 1, the report as the partial result beside ok false and the error", async () => {
        const doc = await failed(['verify', '-i', inv()], 1);
        expect(Object.keys(doc).slice(0, 2)).toEqual(['ok', 'error']);
        expect(doc.error.message).toMatch(/^verify: \d+ errors?\b/);
        expect(doc).toMatchObject({ members: expect.any(Array), problems: expect.arrayContaining([expect.objectContaining({ severity: 'error' })]) });
      }, 120_000);
    });
  });

  describe('what etcdctl users type', () => {
    it('hardway etcdctl -i INV endpoint status -w table: the option is etcdctl\'s', async () => {
      const r = await runHardway(['etcdctl', '-i', inv(), 'endpoint', 'status', '-w', 'table']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/\|\s+ENDPOINT\s+\|\s+ID\s+\|/);
      for (const n of lab().nodes) expect(r.stdout).toContain(`https://${n.address}:2379`);
    });

    it('hardway etcdctl member list still works, and -- too', async () => {
      const r = await runHardway(['etcdctl', '-i', inv(), 'member', 'list']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.match(/started, controller-\d/g)).toHaveLength(3);
      const dashed = await runHardway(['etcdctl', '-i', inv(), '--', 'get', '/json-contract/', '--prefix', '--keys-only']);
      expect(dashed.exitCode, dashed.stderr).toBe(0);
    });

    it('HARDWAY_INVENTORY instead of -i; hardway leader as text', async () => {
      const r = await runHardway(['leader'], { env: { HARDWAY_INVENTORY: inv() } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^controller-\d \([0-9a-f]+\) at https:\/\/[\d.]+:2379, term \d+\n?$/);
    });
  });
});
