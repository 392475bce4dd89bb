import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LintProblem } from './lint.js';

/**
 * `systemd-analyze verify` as a second opinion, when the machine has it (a Linux laptop usually does; macOS
 * does not). It runs on a copy named etcd.service alone in a temporary directory (verify also loads the other
 * units of the directory it is given), and its `file:line:` complaints are mapped back to the linted file.
 */

/** The systemd-analyze binary on PATH, if any. */
export async function findSystemdAnalyze(envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'systemd-analyze');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Messages about the laptop rather than the unit: the binary lives on the nodes, not here. */
const MACHINE_SPECIFIC = [/Command .* is not executable: No such file or directory/, /Failed to locate executable/, /is not executable: /];

export interface SystemdVerifyResult {
  status: 'ran' | 'absent' | 'failed';
  problems: LintProblem[];
  /** Why it failed (timeout, spawn error), when it did. */
  detail?: string;
}

/** Runs `systemd-analyze verify` on the text; never throws. */
export async function systemdAnalyzeVerify(
  text: string,
  opts: { file: string; binary?: string; timeoutMs?: number },
): Promise<SystemdVerifyResult> {
  const binary = opts.binary ?? (await findSystemdAnalyze());
  if (!binary) return { status: 'absent', problems: [] };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hardway-verify-'));
  const unit = path.join(dir, 'etcd.service');
  try {
    await writeFile(unit, text, { mode: 0o644 });
    // Loaded only when systemd-analyze runs: rendering for `up` does not ask it.
    const { execa } = await import('execa');
    const r = await execa(binary, ['verify', unit], {
      reject: false,
      all: true,
      timeout: opts.timeoutMs ?? 20_000,
      stdin: 'ignore',
      env: { SYSTEMD_COLORS: '0', SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', LC_ALL: 'C' },
    });
    if (r.timedOut || (r.exitCode === undefined && r.failed)) {
      return { status: 'failed', problems: [], detail: r.shortMessage };
    }
    return { status: 'ran', problems: parseVerifyOutput(String(r.all ?? ''), unit, opts.file) };
  } catch (e) {
    return { status: 'failed', problems: [], detail: (e as Error).message };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `…/etcd.service:8: Missing '=', ignoring line.` → a problem at line 8 of `file`. */
export function parseVerifyOutput(output: string, unitPath: string, file: string): LintProblem[] {
  const out: LintProblem[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line || !line.includes('etcd.service')) continue;
    if (MACHINE_SPECIFIC.some((re) => re.test(line))) continue;
    let at = 1;
    let message = line;
    const m = /^(.*?etcd\.service):(\d+): (.*)$/.exec(line);
    if (m && (m[1] === unitPath || m[1]!.endsWith('/etcd.service'))) {
      at = Number(m[2]);
      message = m[3]!;
    } else {
      message = line.replace(/^etcd\.service: /, '');
    }
    const severe = /Missing '='|Refusing|bad unit file|Invalid|Failed|Bad message/i.test(message);
    out.push({
      file,
      line: at,
      severity: severe ? 'error' : 'warning',
      rule: 'systemd-analyze',
      message: `systemd-analyze verify: ${message}`,
      fix: 'change the setting systemd-analyze points at (see systemd.service(5) and systemd.unit(5))',
    });
  }
  return out;
}

/**
 * Adds systemd-analyze's problems that hardway's own lint did not already explain (same line, the line after
 * a continuation mistake, or a systemd message the lint already quotes).
 */
export function mergeSystemdProblems(own: LintProblem[], fromSystemd: LintProblem[]): LintProblem[] {
  const merged = [...own];
  for (const p of fromSystemd) {
    const text = p.message.replace(/^systemd-analyze verify: /, '');
    const explained = own.some(
      (o) =>
        o.line === p.line ||
        (o.rule === 'continuation' && o.line === p.line - 1) ||
        o.message.includes(text) ||
        (/bad unit file setting/.test(text) && o.severity === 'error'),
    );
    if (!explained) merged.push(p);
  }
  return merged.sort((a, b) => a.line - b.line || (a.col ?? 0) - (b.col ?? 0));
}
