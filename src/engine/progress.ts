import type { ListrTaskWrapper } from 'listr2';
import { eachHost, failHost, usable, type Connected, type EachOptions, type Host } from './hosts.js';
import { hostFailpoint } from './failpoint.js';

/**
 * `eachHost` with progress per host on a stream (stderr: stdout carries the result, tables or --json). On a terminal
 * a live list, one entry per host; off a terminal (CI logs, `| tee`, `2>up.log`) plain lines, each starting with its
 * host's name, since the hosts' lines interleave; nothing under --json. The same failure policy either way: the
 * host's error recorded in its outcome and shown, the others going on.
 */

/** The stream progress is drawn on: its own terminal test decides, not stdout's (`up > report.txt` still draws). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export type ProgressMode = 'live' | 'lines' | 'silent';

/** A live list only where the stream is a terminal and not in CI (whose log viewers show cursor escapes as text). */
export function progressMode(stream: ProgressStream, env: NodeJS.ProcessEnv, quiet: boolean): ProgressMode {
  if (quiet) return 'silent';
  return stream.isTTY && !env.CI ? 'live' : 'lines';
}

/** One host's progress line off a terminal: named, since the hosts' lines interleave. */
export const hostLine = (host: string, line: string): string => `${host}: ${line}\n`;

export interface ListedOptions<H extends Host = Host> extends Pick<EachOptions<H>, 'which'> {
  quiet?: boolean;
  /** Where progress goes (default stderr). */
  stream?: ProgressStream;
  env?: NodeJS.ProcessEnv;
}

export async function eachHostListed<H extends Host>(
  hosts: H[],
  fn: (h: Connected<H>, report: (line: string) => void) => Promise<string>,
  opts: ListedOptions<H> = {},
): Promise<void> {
  const stream = opts.stream ?? process.stderr;
  const mode = progressMode(stream, opts.env ?? process.env, !!opts.quiet);
  const which = opts.which ?? ((h: H) => h.selected);
  if (mode === 'live') return live(hosts.filter((h): h is Connected<H> => which(h) && usable(h)), fn, stream as NodeJS.WriteStream);
  const say = mode === 'lines' ? (h: Host, line: string) => void stream.write(hostLine(h.node.name, line)) : () => {};
  await eachHost(
    hosts,
    async (h) => {
      try {
        say(h, await fn(h, (line) => say(h, line)));
      } catch (e) {
        say(h, `failed: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
    },
    { which },
  );
}

/** The live list, drawn on `stream` only. listr2 is loaded here: only a terminal draws it. */
async function live<H extends Host>(todo: Connected<H>[], fn: (h: Connected<H>, report: (line: string) => void) => Promise<string>, stream: NodeJS.WriteStream): Promise<void> {
  const { DefaultRenderer, Listr, ListrLogger, ProcessOutput } = await import('listr2');
  /**
   * listr2's default renderer, allowed wherever progressMode said 'live': listr2 itself would fall back to plain lines
   * whenever stdout is not a terminal, e.g. with `hardway up > report.txt` on a terminal.
   */
  class LiveList extends DefaultRenderer {
    static override nonTTY = true;
  }
  const processOutput = new ProcessOutput(stream, stream);
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
      renderer: LiveList,
      rendererOptions: { collapseErrors: false, processOutput, logger: new ListrLogger({ useIcons: true, processOutput }) },
    } as never,
  );
  await tasks.run();
}
