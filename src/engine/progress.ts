import { Listr, ListrLogger, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import { failHost, usable, type EachOptions, type Host } from './hosts.js';
import type { Remote } from '../ssh/remote.js';
import { hostFailpoint } from './failpoint.js';

/**
 * `eachHost` with a line per host on stderr (a live list on a terminal, plain lines in CI, nothing under --json):
 * the same failure policy, the host's error recorded in its outcome and shown, the others going on.
 */

/** listr2 options that send a renderer's output (the default one's and the simple one's logger) to stderr. */
function toStderr() {
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  return { processOutput, logger: new ListrLogger({ useIcons: true, processOutput }) };
}

function isTTY(): boolean {
  return !!process.stdout.isTTY && !process.env.CI;
}

export async function eachHostListed(
  hosts: Host[],
  fn: (h: Host & { remote: Remote }, report: (line: string) => void) => Promise<string>,
  opts: Pick<EachOptions, 'which'> & { quiet?: boolean } = {},
): Promise<void> {
  const which = opts.which ?? ((h: Host) => h.selected);
  const todo = hosts.filter((h) => which(h) && usable(h)) as (Host & { remote: Remote })[];
  const tasks = new Listr(
    todo.map((h) => ({
      title: h.node.name,
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
        try {
          hostFailpoint(h.node.name, 'before');
          const summary = await fn(h, (line) => (task.output = line));
          hostFailpoint(h.node.name, 'after');
          task.title = `${h.node.name}: ${summary}`;
        } catch (e) {
          failHost(h, e);
          throw e;
        }
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: opts.quiet ? 'silent' : isTTY() ? 'default' : 'simple',
      fallbackRenderer: 'simple',
      // Progress goes to stderr: stdout carries the result (tables, or --json).
      rendererOptions: { collapseErrors: false, ...toStderr() },
      fallbackRendererOptions: toStderr(),
    } as never,
  );
  await tasks.run();
}
