import Table from 'cli-table3';
import pc from 'picocolors';

/**
 * Output for people and for scripts. picocolors already honours NO_COLOR, FORCE_COLOR and a non-TTY stdout,
 * so colour never leaks into CI logs or pipes.
 */
export const color = pc;

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
