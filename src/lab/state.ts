import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { LabEtcd } from './debs.js';
import type { LabNet } from './plan.js';

/**
 * The lab's state file (<lab dir>/state.json): what `up` started, so that `down`, `status` and a later `up`
 * find it again (and a run killed halfway can be cleaned up by recorded PID, mount point and bridge).
 */

export const STATE_VERSION = 1;

export interface NodeState {
  index: number;
  name: string;
  address: string;
  machine: string;
  /** Host side of the node's veth (`vb-<machine>`). */
  veth: string;
  /** The node's overlay: upper and work dirs, mounted at `root`. */
  dir: string;
  upper: string;
  work: string;
  root: string;
  log: string;
  /** The systemd-nspawn process (its own session), while the node runs. */
  pid?: number;
  /** The container's PID 1 (child of nspawn), while the node runs. */
  initPid?: number;
  machineId: string;
  hostKey: string;
}

export interface LabState {
  version: number;
  dir: string;
  net: LabNet;
  rootfs: string;
  /** Whether `up` created the bridge (down removes it). */
  bridge: string;
  keyPath: string;
  knownHostsPath: string;
  tarballPath: string;
  /** The etcd the lab packed (`lab up --etcd`); absent in a state written before there was a choice: 3.4. */
  etcd?: LabEtcd;
  inventoryPath: string;
  nodes: NodeState[];
}

export function statePath(dir: string): string {
  return path.join(dir, 'state.json');
}

export async function readState(dir: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(dir), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // Not a lab directory at all (a file, one we may not read): the --dir given is wrong.
    if (code === 'ENOTDIR' || code === 'EACCES' || code === 'EISDIR') throw new UsageError(`${dir}: not a lab directory (${code === 'ENOTDIR' ? 'not a directory' : (e as Error).message})`);
    throw e;
  }
  try {
    const s = JSON.parse(text) as LabState;
    if (s.version !== STATE_VERSION || !Array.isArray(s.nodes)) return undefined;
    return s;
  } catch {
    // A state file cut short by a killed run: nothing in it can be trusted.
    return undefined;
  }
}

/** Written to a temp file and renamed, so that a killed run never leaves half a state file. */
export async function writeState(state: LabState): Promise<void> {
  await mkdir(state.dir, { recursive: true });
  const file = statePath(state.dir);
  const tmp = `${file}.${process.pid}.tmp`;
  const nodes = [...state.nodes].sort((a, b) => a.index - b.index);
  await writeFile(tmp, `${JSON.stringify({ ...state, nodes }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}
