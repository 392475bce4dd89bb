import { diagnoseJournal, type Finding } from '../src/journal/diagnose.js';
import { parseJournal } from '../src/journal/parse.js';

/** Journal lines for the offline doctor's tests, in journalctl's short format (the year given, as a file has none). */
export const journal = (...lines: string[]) => parseJournal(lines.join('\n'), { year: 2026 });

/** The one finding `id` that these lines give; a test that expects it fails here when there is none. */
export const find = (id: string, ...lines: string[]): Finding => {
  const f = diagnoseJournal(journal(...lines)).find((x) => x.id === id);
  if (!f) throw new Error(`no ${id}`);
  return f;
};

export const sd = (host: string, t: string, msg: string) => `Nov 23 ${t} ${host} systemd[1]: ${msg}`;
export const etcd = (host: string, t: string, msg: string) => `Nov 23 ${t} ${host} etcd[7]: ${msg}`;
export const exit = (host: string, t: string, status = '1/FAILURE') => sd(host, t, `etcd.service: Main process exited, code=exited, status=${status}`);
