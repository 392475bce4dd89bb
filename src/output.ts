import Table from 'cli-table3';
import pc from 'picocolors';

/**
 * Colour only for a terminal: NO_COLOR wins, FORCE_COLOR forces it, otherwise stdout must be a TTY. (picocolors'
 * own default also colours whenever CI is set, which would put escape codes into CI logs.)
 */
export function colorEnabled(env: NodeJS.ProcessEnv = process.env, isTTY = !!process.stdout.isTTY): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

export const color = pc.createColors(colorEnabled());

/** A plain table: no colour in the borders or head, so `NO_COLOR` and pipes get clean text. */
export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({ head, style: { head: [], border: [], compact: false } });
  for (const row of rows) table.push(row.map((c) => String(c)));
  return table.toString();
}

/**
 * While main() runs a command with `--json`, the document a command prints is held here rather than written, and
 * text meant for stdout goes to stderr: main() then writes exactly one JSON document, on success as on failure.
 */
let held: { value?: unknown; printed: boolean } | undefined;

/** From now on printJson holds its document and println writes to stderr (main() only). */
export function holdJson(): void {
  held = { printed: false };
}

/** Ends holding: the document printed meanwhile, if any. */
export function releaseJson(): { printed: boolean; value?: unknown } {
  const h = held ?? { printed: false };
  held = undefined;
  return h;
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printJson(value: unknown): void {
  if (held) Object.assign(held, { value, printed: true });
  else writeJson(value);
}

export function println(text = ''): void {
  (held ? process.stderr : process.stdout).write(`${text}\n`);
}

/** Messages about progress and warnings go to stderr so that `--json` stdout stays parseable. */
export function info(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function warn(text: string): void {
  process.stderr.write(`${color.yellow('warning:')} ${text}\n`);
}
