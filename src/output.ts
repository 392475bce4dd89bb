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

/**
 * The one table style of hardway: borderless columns as kubectl prints them — the head in capitals, columns two
 * spaces apart, no rule anywhere, no trailing blanks. `awk` reads it; `grep` finds a row.
 */
const GAP = '  ';
const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
  middle: GAP,
};

const heads = (head: string[]) => head.map((h) => h.toUpperCase());
const trimLines = (text: string) => text.split('\n').map((l) => l.trimEnd()).join('\n');

/** A table in the one style, no colour in the head, so `NO_COLOR` and pipes get clean text. Cells may hold several lines. */
export function renderTable(head: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  // cli-table3 measures every cell (ANSI codes, wide characters, lines): fine for a screenful, minutes for 100 000
  // rows. Plain one-line ASCII rows take the fast path, which draws exactly the same.
  if (cells.length > 200 && cells.every((r) => r.every((c) => /^[\x20-\x7e]*$/.test(c)))) return renderColumns(head, cells);
  const table = new Table({ head: heads(head), chars: BORDERLESS, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true } });
  for (const row of cells) table.push(row);
  return trimLines(table.toString());
}

/**
 * The same style for one-line ASCII cells without measuring them: listings of 100 000 keys (`keys list`, `keys
 * diff`) stay one line per row and take a moment, not minutes.
 */
export function renderColumns(head: string[], rows: string[][]): string {
  const h = heads(head);
  const widths = h.map((x, i) => Math.max(x.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    h
      .map((_, i) => (cells[i] ?? '').padEnd(widths[i]!))
      .join(GAP)
      .trimEnd();
  return [line(h), ...rows.map(line)].join('\n');
}

/**
 * A size in the unit that fits, decimal as etcd prints them (1 kB = 1000 B): `512 B`, `8.0 kB`, `24 kB`, `2.5 MB`,
 * `2.1 GB`; one decimal below 10 of a unit, whole numbers above. The one formatter for every size hardway prints.
 */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1000) return `${sign}${Math.round(v)} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (u < units.length - 1 && Number((v < 10 ? v.toFixed(1) : v.toFixed(0))) >= 1000);
  return `${sign}${v < 9.95 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
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
