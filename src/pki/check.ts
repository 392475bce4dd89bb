import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { DIR_MODE, KEY_MODE, PKI_FILES } from './files.js';
import { assessCa, assessLeaf, daysLeft, parseCert, wantedSans, type CertInfo } from './inspect.js';
import { readRotation, rotationLine } from './rotation.js';
import { fileMode, octal, readPkiFiles } from './store.js';

export interface CertRow {
  /** ca.pem or kubernetes.pem. */
  file: string;
  path: string;
  subject: string | null;
  sans: string[];
  /** ISO 8601. */
  notAfter: string | null;
  daysLeft: number | null;
  ok: boolean;
  problems: string[];
}

export interface PkiCheck {
  dir: string;
  ok: boolean;
  /** ca.pem, then kubernetes.pem. */
  certs: CertRow[];
  /** Problems with the directory itself. */
  problems: string[];
  /** A CA rotation in progress (`rotate-ca.json`): ca.pem then holds that phase's trust (both CAs in phases 1-2). */
  rotation?: string;
}

function row(dir: string, file: string, info: CertInfo | undefined, now: Date, problems: string[]): CertRow {
  return {
    file,
    path: path.join(dir, file),
    subject: info?.subject ?? null,
    sans: info?.sans ?? [],
    notAfter: info ? info.notAfter.toISOString() : null,
    daysLeft: info ? daysLeft(info.notAfter, now) : null,
    ok: problems.length === 0,
    problems,
  };
}

/** Info for the table even when the assessment stopped early (e.g. a missing key). */
function tryParse(pem: string | undefined): CertInfo | undefined {
  if (pem === undefined) return undefined;
  try {
    return parseCert(pem);
  } catch {
    return undefined;
  }
}

async function keyModeProblem(dir: string, name: string): Promise<string[]> {
  const mode = await fileMode(path.join(dir, name));
  return mode !== undefined && mode & ~KEY_MODE ? [`${name} is mode ${octal(mode)}, others can read it (want ${octal(KEY_MODE)})`] : [];
}

/** Reads inv.pki.dir and judges ca.pem and kubernetes.pem against the inventory; changes nothing. */
export async function checkPki(inv: Inventory, now: Date = new Date()): Promise<PkiCheck> {
  const dir = inv.pki.dir;
  const dirProblems: string[] = [];
  let isDir = false;
  try {
    const st = await stat(dir);
    isDir = st.isDirectory();
    if (!isDir) dirProblems.push(`${dir} is not a directory`);
    else if (st.mode & 0o077) dirProblems.push(`${dir} is mode ${octal(st.mode)}, others can list it (want ${octal(DIR_MODE)})`);
  } catch {
    dirProblems.push(`${dir} does not exist (run 'hardway pki')`);
  }
  const cur = isDir ? await readPkiFiles(dir) : {};

  const caProblems: string[] = [];
  if (cur.ca === undefined) caProblems.push(`${PKI_FILES.ca} missing`);
  if (cur.caKey === undefined) caProblems.push(`${PKI_FILES.caKey} missing`);
  if (cur.ca !== undefined && cur.caKey !== undefined) caProblems.push(...assessCa(cur.ca, cur.caKey, now).reasons);
  else if (cur.ca !== undefined) {
    try {
      parseCert(cur.ca);
    } catch (e) {
      caProblems.push(`${PKI_FILES.ca} cannot be parsed (${(e as Error).message})`);
    }
  }
  if (cur.caKey !== undefined) caProblems.push(...(await keyModeProblem(dir, PKI_FILES.caKey)));

  const leafProblems: string[] = [];
  if (cur.cert === undefined) leafProblems.push(`${PKI_FILES.cert} missing`);
  if (cur.key === undefined) leafProblems.push(`${PKI_FILES.key} missing`);
  if (cur.cert !== undefined && cur.key !== undefined) {
    leafProblems.push(...assessLeaf(cur.cert, cur.key, cur.ca, wantedSans(inv), now, { keyBits: inv.pki.keyBits }).reasons);
  }
  if (cur.key !== undefined) leafProblems.push(...(await keyModeProblem(dir, PKI_FILES.key)));

  const certs = [
    row(dir, PKI_FILES.ca, tryParse(cur.ca), now, caProblems),
    row(dir, PKI_FILES.cert, tryParse(cur.cert), now, leafProblems),
  ];
  const rotation = isDir ? await readRotation(dir).catch((e: Error) => ({ error: e.message })) : undefined;
  if (rotation && 'error' in rotation) dirProblems.push(rotation.error);
  const line = rotation && !('error' in rotation) ? { rotation: `${rotationLine(rotation)}: 'hardway pki rotate-ca' finishes it` } : {};
  return { dir, ok: dirProblems.length === 0 && certs.every((c) => c.ok), certs, problems: dirProblems, ...line };
}
