/**
 * The offline doctor's reading: pasted `journalctl -u etcd` output (short formats or `-o json`, etcd and systemd
 * lines mixed; `-` reads stdin), checked to be a journal and diagnosed. No inventory, no SSH.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { diagnose, type Diagnosis } from '../journal/diagnose.js';
import { dedupeEntries, isJournalShaped, looksBinary, parseJournal, type JournalEntry } from '../journal/parse.js';
import { matchSignatures } from '../journal/signatures.js';

export interface DoctorReport extends Diagnosis {
  files: string[];
}

async function readJournalFile(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${file}: no such journal file (save it with: journalctl -u etcd --no-pager > ${file})`);
    if (code === 'EISDIR') throw new UsageError(`${file}: is a directory, not a journal file`);
    throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
  }
}

/**
 * The wrong file (an inventory, a binary `.journal`, an empty save) would otherwise pass as "no problems found in
 * 0 lines": a usage error instead. A file counts as a journal when one line has journalctl's or etcd's shape, or
 * a plain line is a known etcd/systemd message (`-o cat`, pasted systemctl output).
 */
function assertJournal(file: string, text: string, entries: JournalEntry[]): void {
  const name = file === '-' ? 'stdin' : file;
  const save = 'save the journal with: journalctl -u etcd --no-pager > FILE';
  if (looksBinary(text)) {
    const how = /\.journal~?$/.test(name) ? `read a journal file with: journalctl --file ${name} -u etcd --no-pager > FILE` : save;
    throw new UsageError(`no journal line was recognised in ${name}: it is binary data, not journalctl's text output; ${how}`);
  }
  if (entries.some(isJournalShaped) || matchSignatures(entries).length > 0) return;
  const what = entries.length ? `${entries.length} line${entries.length > 1 ? 's' : ''} of plain text, none from journalctl, etcd or systemd` : 'no line in it';
  throw new UsageError(`no journal line was recognised in ${name} (${what}); ${save}`);
}

/** Reads and analyses the files; no printing (for tests and for the online doctor). */
export async function diagnoseFiles(files: string[], opts: { year?: number } = {}): Promise<DoctorReport> {
  if (files.length === 0) throw new UsageError('doctor --journal needs at least one file');
  // Read and check everything first: a missing or wrong file is a usage error before any analysis.
  const texts = await Promise.all(files.map(readJournalFile));
  const entries: JournalEntry[] = [];
  texts.forEach((text, i) => {
    const parsed = parseJournal(text, { year: opts.year, file: files[i] });
    assertJournal(files[i]!, text, parsed);
    entries.push(...parsed);
  });
  // Two saves of one journal (`-u etcd` and `_PID=1`) share entries: count each once.
  return { ...diagnose(dedupeEntries(entries)), files };
}
