import { OperationError } from '../errors.js';
import type { Remote } from '../ssh/remote.js';

/** The two ways every flow runs a step on a node: a command that must succeed, and a step retried until it does. */

/** Runs a command that must succeed; its failure says what was being done and the command's last words. */
export async function must(remote: Remote, cmd: string, what: string, timeoutMs = 60_000): Promise<string> {
  const r = await remote.run(cmd, { timeoutMs });
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${timeoutMs / 1000} s` : (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ') || `exit ${r.code}`;
    throw new OperationError(`${what}: ${why}`);
  }
  return r.stdout;
}

/** Retries a step that fails for a while before it can succeed, up to `ms`. */
export async function retry<T>(attempt: () => Promise<T>, ms: number, pauseMs = 1000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
