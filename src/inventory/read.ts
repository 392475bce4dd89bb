import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileError, formatProblem, UsageError } from '../errors.js';
import { warn } from '../output.js';
import type { Inventory } from './types.js';
import { validateInventory } from './validate.js';

export const DEFAULT_INVENTORY = './inventory.yaml';

/** Reads and validates an inventory file; prints warnings; throws FileError (exit 2) on any error. */
export async function readInventory(file: string = DEFAULT_INVENTORY): Promise<Inventory> {
  const abs = path.resolve(file);
  let source: string;
  try {
    source = await readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UsageError(
        `${file}: no such inventory file. Write one with 'hardway init' (or copy inventory.example.yaml), or name yours` +
          ` with -i <file> or HARDWAY_INVENTORY ('hardway lab up' writes one for the lab).`,
      );
    }
    throw new UsageError(`${file}: cannot read: ${(e as Error).message}`);
  }
  const result = validateInventory(source, { file, baseDir: path.dirname(abs), homeDir: os.homedir() });
  for (const w of result.warnings) warn(formatProblem(w));
  if (!result.inventory) throw new FileError(result.errors);
  return { ...result.inventory, file: abs };
}
