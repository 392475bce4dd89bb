import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { diagnoseFiles } from '../../src/doctor/offline.js';
import { EXIT_OK, EXIT_USAGE } from '../../src/errors.js';
import { isJournalShaped, looksBinary, parseJournal } from '../../src/journal/parse.js';
import { runCli } from './cli-harness.js';

/** `hardway doctor --journal FILE` on something that is not a journal: exit 2, not "no problems found". */

const ROOT = path.join(import.meta.dirname, '../..');
const FIX = path.join(ROOT, 'test/fixtures/journal');
let dir: string;
const tmp = (name: string, data: string | Buffer): string => {
  const p = path.join(dir, name);
  writeFileSync(p, data);
  return p;
};

/** A few KiB of what a binary journal file or a tarball looks like to a text reader. */
function binary(): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < 4096; i++) bytes.push((i * 131 + 7) % 256);
  return Buffer.concat([Buffer.from('LPKSHHRH\u0000\u0000'), Buffer.from(bytes)]);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hw-doctor-recognised-'));
  process.env.NO_COLOR = '1';
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.NO_COLOR;
});

describe('doctor --journal: a file with no journal line is a usage error', () => {
  const cases: [string, () => string, RegExp][] = [
    ['an empty file', () => tmp('empty.txt', ''), /\(no line in it\)/],
    ['blank lines and journalctl markers only', () => tmp('none.txt', '\n-- No entries --\n\n'), /\(no line in it\)/],
    ['a binary file', () => tmp('blob.bin', binary()), /binary data/],
    ['the inventory (YAML)', () => path.join(ROOT, 'inventory.example.yaml'), /lines of plain text, none from journalctl, etcd or systemd/],
    ['prose', () => tmp('notes.txt', 'etcd would not start on controller-1\nI think the certificate is wrong\n'), /2 lines of plain text/],
  ];
  for (const [what, file, why] of cases) {
    it(`${what}: exit 2, says no journal line was recognised in it, prints nothing on stdout`, async () => {
      const f = file();
      const r = await runCli('doctor', '--journal', f);
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.out).toBe('');
      expect(r.err).toContain(`no journal line was recognised in ${f}`);
      expect(r.err).toMatch(why);
      expect(r.err).not.toMatch(/no problems found/);
    });
  }

  it('one wrong file among good ones: exit 2 before any report', async () => {
    const r = await runCli('doctor', '--journal', path.join(FIX, 'unrelated.short.txt'), path.join(ROOT, 'inventory.example.yaml'));
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.out).toBe('');
    expect(r.err).toContain('inventory.example.yaml');
  });

  it('a binary .journal file is pointed at journalctl --file', async () => {
    const f = tmp('system.journal', binary());
    await expect(diagnoseFiles([f])).rejects.toThrow(new RegExp(`journalctl --file ${f.replace(/[.]/g, '\\.')} -u etcd`));
  });

  it('stdin that is empty is named as stdin', async () => {
    const stdin = vi.spyOn(process, 'stdin', 'get').mockReturnValue((async function* () {})() as unknown as typeof process.stdin);
    try {
      await expect(diagnoseFiles(['-'])).rejects.toThrow(/no journal line was recognised in stdin/);
    } finally {
      stdin.mockRestore();
    }
  });
});

describe('doctor --journal: what counts as a journal', () => {
  it('every journal fixture is accepted', async () => {
    const files = readdirSync(FIX).filter((f) => f !== 'README.md');
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) await expect(diagnoseFiles([path.join(FIX, f)], { year: 2026 }), f).resolves.toMatchObject({ files: [path.join(FIX, f)] });
  });

  it('bare etcd messages (`journalctl -o cat`) count when a signature knows them', async () => {
    const r = await diagnoseFiles([tmp('cat.txt', 'sync duration of 1.200572091s, expected less than 1s\nsome other line\n')]);
    expect(r.findings.map((f) => f.id)).toContain('DISK-01');
  });

  it("a bare payload in etcd's own format counts, even with no signature (zap JSON)", async () => {
    const zap = '{"level":"info","ts":"2026-11-23T10:00:00.000Z","caller":"embed/etcd.go:558","msg":"cmux::serve","address":"127.0.0.1:2380"}';
    await expect(diagnoseFiles([tmp('zap.txt', `${zap}\n`)])).resolves.toMatchObject({ lines: 1, findings: [] });
    const r = await runCli('doctor', '--journal', path.join(dir, 'zap.txt'));
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain('no problems found in 1 lines');
  });

  it('a real journal with a few undecodable lines is still a journal', async () => {
    const text = readFileSync(path.join(FIX, 'unrelated.short.txt'));
    const f = tmp('mangled.txt', Buffer.concat([text, Buffer.from([0x00, 0xff, 0xfe, 0x0a]), Buffer.from([0xc3, 0x28, 0x0a])]));
    await expect(diagnoseFiles([f])).resolves.toMatchObject({ findings: [] });
  });

  it('isJournalShaped: envelopes and etcd formats yes, plain text no; looksBinary: most lines', () => {
    const shaped = (t: string): boolean => parseJournal(t, { year: 2026 }).some(isJournalShaped);
    expect(shaped('Nov 23 10:00:00 h nginx[3]: GET /')).toBe(true);
    expect(shaped('{"__CURSOR":"s=1","MESSAGE":"x"}')).toBe(true);
    expect(shaped('2026-11-23 09:55:41.962700 W | wal: x')).toBe(true);
    expect(shaped('raft2026/11/23 10:17:52 INFO: x')).toBe(true);
    expect(shaped('name: controller-0\n  internalIp: 10.0.0.1')).toBe(false);
    expect(looksBinary('a\u0000b\nc\uFFFDd\nok')).toBe(true);
    expect(looksBinary('a\u0000b\nok\nok')).toBe(false);
    expect(looksBinary('')).toBe(false);
  });
});
