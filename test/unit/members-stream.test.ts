import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sessionBoundScript } from '../../src/ssh/remote.js';

/** The wrapper `hardway etcdctl` runs its command in on the node, run here by a real sh. */

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** sshd runs it with the login shell: dash (sh) and bash both, where installed. */
const shells = ['sh', 'bash'].filter((sh) => {
  try {
    execFileSync('sh', ['-c', `command -v ${sh}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

describe.each(shells)('sessionBoundScript under %s', (shell) => {
  it("passes stdin through byte for byte and exits with the command's status", () => {
    const bytes = Buffer.concat([Buffer.from([0, 255, 10, 13]), randomBytes(100_000)]);
    expect(Buffer.compare(execFileSync(shell, ['-c', sessionBoundScript('cat')], { input: bytes }), bytes)).toBe(0);
    let status = 0;
    try {
      execFileSync(shell, ['-c', sessionBoundScript('echo out; echo err >&2; exit 7')], { stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
    }
    expect(status).toBe(7);
  });

  it('ends the command once the process that started it (sshd) is gone', async () => {
    // The outer sh stands for sshd: its death, not a signal, is all the wrapper sees.
    const outer = spawn('sh', ['-c', `${shell} -c "$1" & wait`, 'sh', sessionBoundScript('echo $$; exec sleep 30')], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(await new Promise<string>((resolve) => outer.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
    expect(alive(pid)).toBe(true);
    outer.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  });

  it('passes a TERM on to the command and still exits with its status', () => {
    const ready = path.join(mkdtempSync(path.join(os.tmpdir(), 'hw-stream-')), 'ready');
    // TERM only once the command runs (it says so with a file): the wrapper's trap is set before it starts.
    const outer = `${shell} -c "$1" & w=$!; while [ ! -e ${ready} ]; do sleep 0.05; done; kill -TERM $w; wait $w; echo "status $?"`;
    const inner = `trap 'echo got-term; exit 3' TERM; touch ${ready}; sleep 5 >/dev/null 2>&1 & wait`;
    expect(execFileSync('sh', ['-c', outer, 'sh', sessionBoundScript(inner)], { encoding: 'utf8' })).toBe('got-term\nstatus 3\n');
  });
});
