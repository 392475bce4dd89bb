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

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Messages about progress and warnings go to stderr so that `--json` stdout stays parseable. */
export function info(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function warn(text: string): void {
  process.stderr.write(`${color.yellow('warning:')} ${text}\n`);
}
