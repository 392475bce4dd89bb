import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';

const run = runCli;

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/units/${name}`, import.meta.url));

afterEach(() => {
  process.exitCode = undefined;
});

describe('hardway lint-unit', () => {
  it('exits 0 on a clean unit', async () => {
    const r = await run('lint-unit', fixture('kthw-controller-1.expected.service'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kthw-controller-1\.expected\.service: no problems \(flags checked against etcd 3\.4\.23; systemd-analyze (verify ran|not installed)\)/);
  });

  it('exits 1 on the doubled-backslash unit and points at line 7', async () => {
    const file = fixture('kthw-heredoc-doubled.service');
    const r = await run('lint-unit', file, '--no-systemd-analyze');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${file}:7:31: error: line ends in a doubled backslash`);
    expect(r.out).toContain('17 errors, 0 warnings');
    expect(r.err).toContain('17 errors');
  });

  it('exits 0 with warnings only, and checks against --etcd-version', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-lint-cmd-'));
    const file = path.join(dir, 'etcd.service');
    await writeFile(file, '[Service]\nType=simple\nExecStart=/usr/local/bin/etcd --name a --log-package-levels=etcdmain=DEBUG\n');
    const r = await run('lint-unit', file, '--no-systemd-analyze');
    expect(r.code).toBe(0);
    expect(r.out).toContain('0 errors, 1 warning');
    const v36 = await run('lint-unit', file, '--etcd-version', '3.6.0', '--json', '--no-systemd-analyze');
    expect(v36.code).toBe(1);
    const json = JSON.parse(v36.out) as { etcdVersion: string; errors: number; problems: { rule: string; line: number }[] };
    expect(json.etcdVersion).toBe('3.6.0');
    expect(json.problems.map((p) => `${p.line} ${p.rule}`)).toEqual(['2 service-type', '3 unknown-flag']);
  });

  it('exits 2 when the file does not exist or the version is not one', async () => {
    const missing = await run('lint-unit', '/nonexistent/etcd.service');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('/nonexistent/etcd.service: no such file');
    const bad = await run('lint-unit', fixture('kthw-controller-1.expected.service'), '--etcd-version', 'latest');
    expect(bad.code).toBe(2);
  });
});
