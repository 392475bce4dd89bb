/**
 * One output contract on the lab's cluster (issue 23): the one member table in `up`, `verify` and `member list`
 * (same columns, same words, `-o wide` for more), snapshot names as `snapshot list` shows them, and a `snapshot
 * restore` of a healthy cluster refused before anything reaches a node.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { etcdctl, scratchInventory } from './etcd-helpers.js';
import { describeLab, lab, runHardway, sshOk, sshRun, wipeNode } from './lab-helpers.js';

const COLUMNS = ['NAME', 'STATUS', 'VERSION', 'LEARNER', 'LEADER', 'CLIENT URLS'];
const WIDE = [...COLUMNS, 'ID', 'PEER URLS', 'IN INVENTORY'];

/** The member table in a command's output: its head line and the rows under it, cut into cells. */
function memberTable(stdout: string): { head: string[]; rows: string[][] } {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => /^NAME {2,}STATUS {2,}VERSION/.test(l));
  expect(at, stdout).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const l of lines.slice(at + 1)) {
    // A member row: its name (or `-`), then started/unstarted; `up`'s per-node lines below are not.
    if (!/^\S+ {2,}(started|unstarted) {2,}/.test(l)) break;
    rows.push(l.split(/ {2,}/));
  }
  return { head: lines[at]!.split(/ {2,}/), rows: rows.sort((a, b) => a[0]!.localeCompare(b[0]!)) };
}

describeLab('one output contract', () => {
  let inventory = '';
  const inv = () => inventory;

  beforeAll(async () => {
    await Promise.all(lab().nodes.map((n) => wipeNode(n)));
    // A copy of its own: snapshots.dir is the default, ./snapshots beside it.
    inventory = await scratchInventory(() => {});
    const r = await runHardway(['up', '-i', inventory]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  describe('the member table', () => {
    it('up, verify and member list show the members with the same columns and the same words', async () => {
      const [up, verify, list] = [await runHardway(['up', '-i', inv()]), await runHardway(['verify', '-i', inv()]), await runHardway(['member', 'list', '-i', inv()])];
      for (const r of [up, verify, list]) expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const tables = [up, verify, list].map((r) => memberTable(r.stdout));
      for (const t of tables) {
        expect(t.head).toEqual(COLUMNS);
        expect(t.rows.map((r) => r.slice(0, 4))).toEqual(lab().nodes.map((n) => [n.name, 'started', '3.4.23', 'no']));
        for (const row of t.rows) expect(['yes', 'no']).toContain(row[4]);
        expect(t.rows.filter((r) => r[4] === 'yes')).toHaveLength(1);
        expect(t.rows.map((r) => r[5])).toEqual(lab().nodes.map((n) => `https://${n.address}:2379`));
      }
      // The same rows everywhere, leader included (nothing moved it in between).
      expect(tables[1]!.rows).toEqual(tables[0]!.rows);
      expect(tables[2]!.rows).toEqual(tables[0]!.rows);
      // No word of another table's: true/false, an empty LEADER.
      for (const r of [up, verify, list]) expect(memberTable(r.stdout).rows.flat()).not.toContain('false');
      // And the same versions line.
      for (const r of [up, verify, list]) expect(r.stdout).toMatch(/all 3 members on 3\.4\.23/);
    });

    it('-o wide adds the member ID, its peer URLs and IN INVENTORY, the same in all three', async () => {
      const runs = [await runHardway(['up', '-i', inv(), '-o', 'wide']), await runHardway(['verify', '-i', inv(), '-o', 'wide']), await runHardway(['member', 'list', '-i', inv(), '-o', 'wide'])];
      const ids = (await etcdctl(0, 'member list -w simple')).stdout
        .trim()
        .split('\n')
        .map((l) => l.split(', '))
        .map((f) => [f[2], f[0]]);
      for (const r of runs) {
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        const t = memberTable(r.stdout);
        expect(t.head).toEqual(WIDE);
        for (const [name, id] of ids) {
          const row = t.rows.find((x) => x[0] === name)!;
          expect(row.slice(6)).toEqual([id, `https://${lab().nodes.find((n) => n.name === name)!.address}:2380`, 'yes']);
        }
      }
      expect((await runHardway(['member', 'list', '-i', inv(), '-o', 'tall'])).exitCode).toBe(2);
    });
  });

  describe('snapshots', () => {
    let name = '';

    it('snapshot status NAME finds a snapshot by the name snapshot list shows; a size in kB or MB, never 0.0 MB', async () => {
      const save = await runHardway(['snapshot', 'save', '-i', inv()]);
      expect(save.exitCode, save.stderr).toBe(0);
      const list = await runHardway(['snapshot', 'list', '-i', inv()]);
      expect(list.exitCode, list.stderr).toBe(0);
      const lines = list.stdout.split('\n');
      expect(lines[0]).toMatch(/^TIME {2,}NAME {2,}REVISION {2,}DB ENTRIES {2,}SIZE {2,}MEMBER {2,}VERDICT$/);
      const row = lines[1]!.split(/ {2,}/);
      name = row[1]!;
      expect(name).toMatch(/^[^/]+\.db$/);
      expect(row[4]).toMatch(/^\d+(\.\d)? (kB|MB)$/);
      expect(list.stdout).not.toContain('0.0 MB');
      expect(list.stdout).toMatch(/^DB ENTRIES: .*not the live keys 'hardway keys list' counts$/m);

      // From another directory: the name is looked up in the inventory's snapshots.dir, not in the cwd.
      const status = await runHardway(['snapshot', 'status', name, '-i', inv()], { cwd: '/tmp' });
      expect(status.exitCode, status.stderr).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`^/.*/snapshots/${name.replace(/\./g, '\\.')}$`, 'm'));
      expect(status.stdout).toMatch(/^ {2}verdict {4}ok/m);
      const json = JSON.parse((await runHardway(['snapshot', 'status', name, '-i', inv(), '--json'])).stdout) as { ok: boolean; file: string };
      expect(json.ok).toBe(true);
      // Without .db too; and a name found nowhere is exit 2 naming snapshots.dir.
      expect((await runHardway(['snapshot', 'status', name.replace(/\.db$/, ''), '-i', inv()])).exitCode).toBe(0);
      const missing = await runHardway(['snapshot', 'status', 'nosuch.db', '-i', inv()]);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toMatch(/nosuch\.db: no such file here, nor a snapshot of that name in \/.*\/snapshots/);
      // A real path needs no inventory.
      const byPath = await runHardway(['snapshot', 'status', json.file, '-i', '/nonexistent/inventory.yaml']);
      expect(byPath.exitCode, byPath.stderr).toBe(0);
    });

    it('snapshot restore NAME of a healthy cluster is refused before anything is uploaded to any node', async () => {
      expect(name).not.toBe('');
      // The file's name on the nodes comes from its SHA-256: a stand-in put there first must be left untouched.
      const file = (JSON.parse((await runHardway(['snapshot', 'status', name, '-i', inv(), '--json'])).stdout) as { file: string }).file;
      const sha = createHash('sha256').update(await readFile(file)).digest('hex');
      const nodeFile = `/var/tmp/hardway-restore-${sha.slice(0, 16)}.db`;
      for (const n of lab().nodes) await sshOk(n, `rm -f /var/tmp/hardway-restore-*; echo stand-in > ${nodeFile}`);

      const r = await runHardway(['snapshot', 'restore', name, '-i', inv(), '--yes']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toMatch(/the cluster is healthy \(its quorum answers\).*the snapshot at \d+.*Nothing was changed; run again with --force/);
      expect(r.stderr).not.toMatch(/uploaded/);
      for (const n of lab().nodes) {
        // Only the stand-in, as it was: nothing written over it, nothing beside it.
        expect((await sshRun(n, 'ls /var/tmp/ | grep hardway-restore || true')).stdout.trim()).toBe(nodeFile.replace('/var/tmp/', ''));
        expect((await sshOk(n, `cat ${nodeFile}`)).trim()).toBe('stand-in');
        expect((await sshOk(n, 'systemctl is-active etcd')).trim()).toBe('active');
        expect((await sshRun(n, 'ls -d /var/lib/etcd.pre-restore-* 2>/dev/null | wc -l')).stdout.trim()).toBe('0');
      }
      for (const n of lab().nodes) await sshOk(n, `rm -f ${nodeFile}`);
    });
  });
});
