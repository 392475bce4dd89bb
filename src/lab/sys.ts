import { access, readdir, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { OperationError } from '../errors.js';
import { isLabNspawn, mountsUnder, parseMountinfo } from './plan.js';

/** The lab's adapters to the host: commands, /proc, mounts, links. Thin on purpose; the logic is in plan.ts. */

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; throws OperationError with its stderr unless `allowFail`. */
export async function run(
  cmd: string,
  args: string[],
  opts: { allowFail?: boolean; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  // Loaded on the first command run: importers that run no command never load execa.
  const { execa } = await import('execa');
  const r = await execa(cmd, args, {
    reject: false,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    input: opts.input,
    timeout: opts.timeoutMs,
    cwd: opts.cwd,
    env: { LC_ALL: 'C' },
  });
  const res = { exitCode: r.exitCode ?? (r.timedOut ? 124 : 1), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  if (!opts.allowFail && res.exitCode !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs} ms` : (res.stderr.trim() || res.stdout.trim() || r.shortMessage || 'failed').split('\n').slice(-5).join('\n') ?? '';
    throw new OperationError(`${cmd} ${args.join(' ')}: ${why}`);
  }
  return res;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await access(p, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable in PATH (plus the sbin directories a root shell has). */
export async function which(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs.filter(Boolean)) {
    const p = `${d}/${name}`;
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export async function cmdline(pid: number): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The recorded nspawn PID still runs, and is still the nspawn of this root (not a recycled PID). */
export async function isNspawnOf(pid: number | undefined, root: string): Promise<boolean> {
  if (!pid) return false;
  const c = await cmdline(pid);
  return c !== undefined && isLabNspawn(c, root);
}

/** A process's parent PID and command name from /proc/<pid>/stat. */
export async function procStat(pid: number): Promise<{ ppid: number; comm: string; state: string } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    const rest = text.slice(close + 2).split(' ');
    return { comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

export async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  try {
    for (const t of await readdir(`/proc/${pid}/task`)) {
      const text = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '');
      out.push(...text.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `pred` is true or `timeoutMs` passes; returns the last value of pred. */
export async function waitFor(pred: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= end) return false;
    await sleep(stepMs);
  }
}

export async function mountPointsUnder(dir: string): Promise<string[]> {
  return mountsUnder(parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8')), dir);
}

export async function isMountPoint(p: string): Promise<boolean> {
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return mounts.some((m) => m.mountPoint === p);
}

/** Unmounts every mount at or below `dir`, deepest first; a busy mount is detached lazily as a last resort. */
export async function unmountAll(dir: string): Promise<void> {
  for (const p of await mountPointsUnder(dir)) {
    const r = await run('umount', [p], { allowFail: true });
    if (r.exitCode !== 0 && (await isMountPoint(p))) await run('umount', ['-l', p], { allowFail: true });
  }
  const left = await mountPointsUnder(dir);
  if (left.length) throw new OperationError(`cannot unmount ${left.join(', ')}`);
}

export async function linkExists(name: string): Promise<boolean> {
  return exists(`/sys/class/net/${name}`);
}

export async function linkMaster(name: string): Promise<string | undefined> {
  try {
    const { readlink } = await import('node:fs/promises');
    const target = await readlink(`/sys/class/net/${name}/master`);
    return target.split('/').pop();
  } catch {
    return undefined;
  }
}

export async function linkOperUp(name: string): Promise<boolean> {
  try {
    const flags = Number(await readFile(`/sys/class/net/${name}/flags`, 'utf8'));
    return (flags & 0x1) === 0x1; // IFF_UP
  } catch {
    return false;
  }
}
