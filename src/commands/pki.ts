import type { Command } from 'commander';

export function registerPki(_program: Command): void {
  // 'pki' is not built yet.
}
