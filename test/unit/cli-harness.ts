import { vi } from 'vitest';
import { main } from '../../src/cli.js';

/** Runs the CLI in-process through main(), the one place errors become exit codes; returns what it printed. */
export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(['node', 'hardway', ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
