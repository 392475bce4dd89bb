import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerDoctor, runOfflineDoctor } from '../../src/commands/doctor.js';
import { CheckFailed, EXIT_FAILED, EXIT_OK, EXIT_USAGE, HardwayError, UsageError } from '../../src/errors.js';
import { diagnose, diagnoseJournal, parseGoDuration, renderFindings, sortFindings, type Finding } from '../../src/journal/diagnose.js';
import { parseJournal } from '../../src/journal/parse.js';

const ROOT = path.join(import.meta.dirname, '../..');
const FIX = path.join(ROOT, 'test/fixtures/journal');
const fx = (name: string): string => path.join(FIX, name);
const findings = (name: string): Finding[] => diagnoseJournal(parseJournal(readFileSync(fx(name), 'utf8'), { year: 2026 }));
const idsOf = (fs: Finding[]): string[] => fs.map((f) => f.id);
const byId = (fs: Finding[], id: string): Finding => {
  const f = fs.find((x) => x.id === id);
  if (!f) throw new Error(`no ${id} in ${idsOf(fs).join(', ')}`);
  return f;
};

describe('diagnoseJournal on the fixtures', () => {
  it("doubled backslash (systemd 252): SD-01 names file and line and explains the cause, before etcd's exit", () => {
    const fs = findings('kthw-doubled-backslash.short.txt');
    expect(idsOf(fs)).toEqual(['SD-01', 'SD-02', 'BOOT-14', 'SD-05', 'SD-07', 'SD-06']);
    const sd01 = byId(fs, 'SD-01');
    expect(sd01).toMatchObject({ severity: 'error', count: 1, hosts: ['controller-0'] });
    expect(sd01.facts).toMatchObject({ files: '/etc/systemd/system/etcd.service', lines: '8' });
    expect(sd01.details.join('\n')).toMatch(/line 8: .*doubled backslash/);
    expect(sd01.details.join('\n')).toMatch(/not a valid flag/);
    expect(sd01.meaning).toContain('/etc/systemd/system/etcd.service (line 8)');
    expect(sd01.fix).toContain("sudo sed -i 's/\\\\\\\\$/\\\\/' /etc/systemd/system/etcd.service");
    expect(sd01.fix).toContain('hardway up');
    expect(sd01.evidence).toEqual(["Nov 23 10:02:11 controller-0 systemd[1]: /etc/systemd/system/etcd.service:8: Missing '=', ignoring line."]);
    expect(byId(fs, 'BOOT-14').details[0]).toMatch(/doubled backslash/);
    expect(byId(fs, 'SD-05').details.join('\n')).toMatch(/Preceded by: BOOT-14/);
    expect(byId(fs, 'SD-07').facts).toMatchObject({ restartCounter: 2 });
  });

  it("the seed's old-systemd `Missing '='.` with systemctl's errors: SD-01 (unit not loaded) and SD-03", () => {
    const fs = findings('seed-qiita-missing-equals.txt');
    expect(idsOf(fs)).toEqual(['SD-01', 'SD-03']);
    expect(byId(fs, 'SD-01').facts).toMatchObject({ lines: '7' });
  });

  it('missing certificate: BOOT-07 names the file and the fix; the exit points at it', () => {
    const fs = findings('seed-qiita-missing-cert.short.txt');
    expect(idsOf(fs)).toEqual(['BOOT-07', 'SD-05']);
    const b = byId(fs, 'BOOT-07');
    expect(b.facts).toMatchObject({ files: '/etc/etcd/kubernetes.pem', reason: 'no such file or directory' });
    expect(b.meaning).toContain('/etc/etcd/kubernetes.pem');
    expect(b.fix).toContain('ls -l /etc/etcd/kubernetes.pem');
    expect(b.fix).toContain('hardway up');
    expect(byId(fs, 'SD-05').details.join('\n')).toMatch(/Preceded by: BOOT-07/);
  });

  it('election loop: ELECT-LOOP first, with counts, terms and the related peer and disk findings', () => {
    const fs = findings('etcd34-election-loop.short.txt');
    expect(idsOf(fs)).toEqual(['ELECT-LOOP', 'PEER-01', 'DISK-01', 'BOOT-10']);
    const loop = byId(fs, 'ELECT-LOOP');
    expect(loop).toMatchObject({ severity: 'error', count: 12, hosts: ['controller-0'] });
    expect(loop.facts).toMatchObject({ elections: 12, termStart: 1, termEnd: 13, electionsPerMinute: 12 });
    expect(loop.evidence).toHaveLength(3);
    expect(loop.details.join('\n')).toMatch(/PEER-01/);
    expect(loop.details.join('\n')).toMatch(/DISK-01/);
    expect(byId(fs, 'PEER-01').facts).toMatchObject({ peers: '1ec55d2fb473165c, 9063e4b1bee7ea1b' });
  });

  it('slow disk: sync durations max and median', () => {
    const disk = byId(findings('etcd34-election-loop.short.txt'), 'DISK-01');
    // 1.200572091s, 1.040853586s, 2.503117s, 1.13s
    expect(disk.facts).toMatchObject({ syncs: 4, syncMax: '2.503s', syncMedian: '1.165s', threshold: '1s' });
    expect(disk.details[0]).toMatch(/max 2\.503s, median 1\.165s/);
    const lab = findings('lab-strace-slowdisk.short.txt');
    expect(idsOf(lab)).toEqual(['DISK-01', 'DISK-02', 'DISK-07']);
    expect(byId(lab, 'DISK-01').facts).toMatchObject({ syncs: 4, syncMax: '1.209s', syncMedian: '1.202s' });
    expect(byId(lab, 'DISK-02').facts).toMatchObject({ applyMax: '2.408s' });
  });

  it('-o json journals (3.4 and 3.5)', () => {
    // One missed heartbeat or one slow apply is an isolated outlier (a note, last), not a warning.
    expect(idsOf(findings('etcd34.journal.json'))).toEqual(['SD-01', 'SD-02', 'BOOT-07', 'SD-05', 'PEER-01', 'DISK-01', 'BOOT-10', 'SD-06', 'DISK-03']);
    expect(byId(findings('etcd34.journal.json'), 'DISK-03')).toMatchObject({ severity: 'info', count: 1 });
    const z = findings('etcd35.journal.json');
    expect(idsOf(z)).toEqual(['TLS-03', 'DISK-01', 'DISK-02']);
    expect(byId(z, 'DISK-02').title).toMatch(/\(isolated: 1×; a problem from 3×\)$/);
    expect(byId(z, 'DISK-01').facts).toMatchObject({ syncs: 2, syncMax: '2.5s' });
  });

  it('the unrelated journal and a healthy start yield no finding at all', () => {
    expect(findings('unrelated.short.txt')).toEqual([]);
  });

  it('findings are ordered by severity, then causes before consequences', () => {
    const fs = findings('catalog-34.short.txt');
    const sev = fs.map((f) => f.severity);
    expect(sev).toEqual([...sev].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)));
    expect(idsOf(fs).indexOf('SD-01')).toBe(0);
    expect(idsOf(fs).indexOf('SD-05')).toBeGreaterThan(idsOf(fs).indexOf('BOOT-07'));
    expect(sortFindings([])).toEqual([]);
  });

  it('every finding carries 1–3 evidence lines, a meaning and a fix', () => {
    for (const f of [...findings('catalog-34.short.txt'), ...findings('catalog-35.zap.short.txt')]) {
      expect(f.evidence.length, f.id).toBeGreaterThanOrEqual(1);
      expect(f.evidence.length, f.id).toBeLessThanOrEqual(3);
      expect(f.meaning, f.id).not.toMatch(/\{\w+\}/);
      expect(f.fix.length, f.id).toBeGreaterThan(10);
    }
  });

  it('diagnose() also returns the election analysis and the matches', () => {
    const d = diagnose(parseJournal(readFileSync(fx('etcd34-election-loop.short.txt'), 'utf8'), { year: 2026 }));
    expect(d.lines).toBe(132);
    expect(d.elections.loop).toBe(true);
    expect(d.matches.filter((m) => m.id === 'RAFT-01')).toHaveLength(12);
  });

  it('parseGoDuration', () => {
    expect(parseGoDuration('1.200572091s')).toBeCloseTo(1.200572091);
    expect(parseGoDuration('312.5ms')).toBeCloseTo(0.3125);
    expect(parseGoDuration('1m2.5s')).toBeCloseTo(62.5);
    expect(parseGoDuration('850µs')).toBeCloseTo(0.00085);
    expect(parseGoDuration('soon')).toBeUndefined();
  });
});

describe('renderFindings', () => {
  it('prints a table, then each finding with evidence, what was found, cause and fix', () => {
    const text = renderFindings(findings('seed-qiita-missing-cert.short.txt'));
    expect(text).toMatch(/^SEVERITY +ID +PROBLEM/m);
    // The row shape e2e tests (certs, recover, upgrade) look for: `error  ID  title`, borderless.
    expect(text).toMatch(/^error {2,}BOOT-07 {2,}A file named by a flag is missing or unreadable {2,}1 /m);
    expect(text).toContain('BOOT-07');
    expect(text).toContain('May 09 04:46:10 k8smaster0 etcd[1379]: open /etc/etcd/kubernetes.pem: no such file or directory');
    expect(text).toMatch(/cause\s+etcd could not open \/etc\/etcd\/kubernetes\.pem/);
    expect(text).toMatch(/fix\s+Copy the file to the node/);
    expect(text.search(/^ERROR +BOOT-07/m)).toBeLessThan(text.search(/^ERROR +SD-05/m));
    expect(text.search(/^ERROR +BOOT-07/m)).toBeGreaterThan(0);
    expect(renderFindings([])).toBe('');
  });
});

// ---------------------------------------------------------------- the command

/** Runs `hardway doctor …` like cli.ts main() does: errors → exit codes; stdout/stderr captured. */
async function runDoctor(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const program = new Command('hardway').exitOverride();
  registerDoctor(program);
  for (const c of program.commands) c.exitOverride();
  let code = EXIT_OK;
  try {
    await program.parseAsync(['node', 'hardway', 'doctor', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    else if (e instanceof HardwayError) {
      code = e.exitCode;
      stderr += `error: ${e.message}\n`;
    } else throw e;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { code, stdout, stderr };
}

describe('hardway doctor --journal', () => {
  beforeEach(() => {
    process.env.NO_COLOR = '1';
  });
  afterEach(() => {
    delete process.env.NO_COLOR;
  });

  it('exit 1 with the ids when something is found', async () => {
    const r = await runDoctor(['--journal', fx('kthw-doubled-backslash.short.txt')]);
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.stdout.split('\n')[0]).toBe('17 lines from 1 file: 4 errors, 2 warnings');
    expect(r.stdout).toContain('SD-01');
    expect(r.stdout).toContain('/etc/systemd/system/etcd.service: line 8');
    expect(r.stderr).toMatch(/doctor: 4 errors, 2 warnings in 17 lines \(SD-01, SD-02, BOOT-14, SD-05, SD-07, SD-06\)/);
  });

  it('several files, repeated or variadic', async () => {
    for (const args of [
      ['--journal', fx('seed-qiita-missing-cert.short.txt'), '--journal', fx('etcd34-election-loop.short.txt')],
      ['--journal', fx('seed-qiita-missing-cert.short.txt'), fx('etcd34-election-loop.short.txt')],
    ]) {
      const r = await runDoctor(args);
      expect(r.code).toBe(EXIT_FAILED);
      for (const id of ['BOOT-07', 'SD-05', 'ELECT-LOOP', 'PEER-01', 'DISK-01']) expect(r.stdout).toContain(id);
    }
  });

  it('exit 0 and "no problems found in N lines" on the unrelated journal', async () => {
    const r = await runDoctor(['--journal', fx('unrelated.short.txt')]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout.trim()).toBe('no problems found in 54 lines');
  });

  it('--json: findings, counts and the election analysis on stdout', async () => {
    const r = await runDoctor(['--journal', fx('etcd34-election-loop.short.txt'), '--json']);
    expect(r.code).toBe(EXIT_FAILED);
    const j = JSON.parse(r.stdout) as {
      ok: boolean;
      lines: number;
      counts: Record<string, number>;
      findings: { id: string; first: string; evidence: string[] }[];
      elections: { loop: boolean; elections: number; termStart: number; termEnd: number; evidence: string[] };
    };
    expect(j.ok).toBe(false);
    expect(j.lines).toBe(132);
    expect(j.counts).toEqual({ error: 1, warning: 3, info: 0 });
    expect(j.findings.map((f) => f.id)).toEqual(['ELECT-LOOP', 'PEER-01', 'DISK-01', 'BOOT-10']);
    expect(j.findings[0]!.first).toBe('2026-11-23T10:17:52.000Z');
    expect(j.elections).toMatchObject({ loop: true, elections: 12, termStart: 1, termEnd: 13 });
    const clean = await runDoctor(['--journal', fx('unrelated.short.txt'), '--json']);
    expect(clean.code).toBe(EXIT_OK);
    expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true, findings: [] });
  });

  it('exit 2 on a missing file, before any output', async () => {
    const r = await runDoctor(['--journal', fx('unrelated.short.txt'), '--journal', fx('no-such-file.txt')]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no-such-file\.txt: no such journal file/);
    expect((await runDoctor(['--journal', FIX])).code).toBe(EXIT_USAGE);
  });

  it('exit 2 without --journal when there is no inventory for the online doctor', async () => {
    const r = await runDoctor(['-i', '/nonexistent/inventory.yaml']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/\/nonexistent\/inventory\.yaml: no such inventory file/);
  });

  it('--year sets the year of short timestamps; a bad year is a usage error', async () => {
    const r = await runDoctor(['--journal', fx('seed-qiita-missing-cert.short.txt'), '--json', '--year', '2020']);
    expect((JSON.parse(r.stdout) as { findings: { first: string }[] }).findings[0]!.first).toBe('2020-05-09T04:46:10.000Z');
    expect((await runDoctor(['--journal', fx('unrelated.short.txt'), '--year', '20x'])).code).toBe(EXIT_USAGE);
  });

  it('runOfflineDoctor throws CheckFailed / UsageError and returns the report when clean', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(runOfflineDoctor([fx('seed-qiita-missing-cert.short.txt')])).rejects.toBeInstanceOf(CheckFailed);
      await expect(runOfflineDoctor([fx('missing.txt')])).rejects.toBeInstanceOf(UsageError);
      await expect(runOfflineDoctor([])).rejects.toBeInstanceOf(UsageError);
      const report = await runOfflineDoctor([fx('unrelated.short.txt')]);
      expect(report).toMatchObject({ lines: 54, findings: [] });
    } finally {
      out.mockRestore();
    }
  });
});

// The real binary, as bin/hardway runs it: dist/bundle, which `npm run test:unit` builds first. Built before the
// last change to src/ (vitest run alone), it is skipped with the reason; with CI=true that fails instead.
const newest = (dir: string): number =>
  Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs)));
const bundle = path.join(ROOT, 'dist/bundle/cli.cjs');
const stale = !existsSync(bundle) ? 'dist/bundle is not built' : statSync(bundle).mtimeMs < newest(path.join(ROOT, 'src')) ? 'dist/bundle is older than src/' : undefined;

describe('node bin/hardway doctor (built)', () => {
  beforeEach(({ skip }) => {
    if (stale && process.env.CI === 'true') throw new Error(`${stale}: run npm run build (npm run test:unit does)`);
    skip(!!stale, `${stale}: run npm run build (npm run test:unit does)`);
  });
  const bin = path.join(ROOT, 'bin/hardway');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, 'doctor', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('exit codes 1 / 0 / 2', () => {
    const bad = run(['--journal', fx('seed-qiita-missing-cert.short.txt')]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('BOOT-07');
    const ok = run(['--journal', fx('unrelated.short.txt')]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('no problems found in 54 lines');
    expect(run(['--journal', fx('nope.txt')]).status).toBe(2);
  });

  it('reads stdin with --journal -', () => {
    const out = execFileSync('sh', ['-c', `cat '${fx('unrelated.short.txt')}' | '${process.execPath}' '${bin}' doctor --journal -`], { encoding: 'utf8' });
    expect(out).toContain('no problems found in 54 lines');
  });
});
