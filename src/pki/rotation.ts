import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OperationError } from '../errors.js';
import { joinPem, splitPem } from './bundle.js';

/**
 * The record of a CA rotation in progress (`hardway pki rotate-ca`), in pki.dir, and what each phase makes the
 * trust file and the leaf. Kept free of heavy imports: `pki`, `up` and `env` read it.
 *
 * The phases, each ending with every member healthy:
 *  1. every member trusts both CAs (ca.pem = new + old), restarted one at a time (etcd reads its trusted CA only
 *     when it starts; etcd issue 11555); the leaves stay the old CA's;
 *  2. every member gets a leaf from the new CA (etcd reads its certificate for each new connection: no restart);
 *  3. every member trusts the new CA alone, restarted one at a time.
 * pki.dir always holds the files of the phase under way, so that `hardway env`, `up` and every other command work
 * with it at any moment, and a run killed anywhere is finished by the next.
 */

export const ROTATION_FILE = 'rotate-ca.json';

export type Phase = 1 | 2 | 3;

export const PHASES: Record<Phase, string> = {
  1: 'every member trusts both CAs',
  2: 'every member gets a leaf from the new CA',
  3: 'every member trusts only the new CA',
};

export interface RotationState {
  version: 1;
  /** The phase under way; the ones before it are done. */
  phase: Phase;
  /** ISO 8601: when the rotation began. */
  started: string;
  /** `20240131T235959Z`: the suffix of the files kept aside (`ca.pem.old-<stamp>`). */
  stamp: string;
  /** The CA certificates the cluster trusted before (PEM, one or more). */
  oldCas: string;
  /** The new CA's certificate (PEM); its key is pki.dir's ca-key.pem. */
  newCa: string;
  /** Per phase, the nodes whose member is done with it (restarted, or serving its new leaf). */
  done: Partial<Record<`${Phase}`, string[]>>;
}

export const rotationPath = (dir: string): string => path.join(dir, ROTATION_FILE);

function invalid(dir: string, why: string): OperationError {
  return new OperationError(`${rotationPath(dir)}: ${why}. It records a CA rotation in progress: restore it, or move it away if no rotation is under way (then 'hardway verify' shows what the nodes trust)`);
}

/** The rotation in progress in `dir`, or undefined when there is none. */
export async function readRotation(dir: string): Promise<RotationState | undefined> {
  let text: string;
  try {
    text = await readFile(rotationPath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new OperationError(`cannot read ${rotationPath(dir)}: ${(e as Error).message}`);
  }
  return parseRotation(dir, text);
}

export function parseRotation(dir: string, text: string): RotationState {
  let raw: Partial<RotationState>;
  try {
    raw = JSON.parse(text) as Partial<RotationState>;
  } catch (e) {
    throw invalid(dir, `not JSON (${(e as Error).message})`);
  }
  if (raw.version !== 1) throw invalid(dir, `version ${String(raw.version)} is not one this hardway knows`);
  if (raw.phase !== 1 && raw.phase !== 2 && raw.phase !== 3) throw invalid(dir, `phase ${String(raw.phase)} is not 1, 2 or 3`);
  if (typeof raw.newCa !== 'string' || splitPem(raw.newCa).length !== 1) throw invalid(dir, 'newCa is not one PEM certificate');
  if (typeof raw.oldCas !== 'string' || splitPem(raw.oldCas).length === 0) throw invalid(dir, 'oldCas holds no PEM certificate');
  if (typeof raw.stamp !== 'string' || !/^\d{8}T\d{6}Z$/.test(raw.stamp)) throw invalid(dir, 'stamp is not a UTC stamp');
  return {
    version: 1,
    phase: raw.phase,
    started: String(raw.started ?? ''),
    stamp: raw.stamp,
    oldCas: raw.oldCas,
    newCa: raw.newCa,
    done: raw.done && typeof raw.done === 'object' ? raw.done : {},
  };
}

export function formatRotation(s: RotationState): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}

/** What the trust file (ca.pem, in pki.dir and on every node) holds during `phase`: both CAs, then the new one alone. */
export function phaseTrust(s: Pick<RotationState, 'oldCas' | 'newCa'>, phase: Phase): string {
  return phase === 3 ? joinPem(splitPem(s.newCa)) : joinPem([...splitPem(s.newCa), ...splitPem(s.oldCas)]);
}

/** `CA rotation in progress (phase 2 of 3: every member gets a leaf from the new CA; begun 2024-…)`. */
export function rotationLine(s: RotationState): string {
  return `a CA rotation is in progress (phase ${s.phase} of 3: ${PHASES[s.phase]}; begun ${s.started || s.stamp})`;
}
