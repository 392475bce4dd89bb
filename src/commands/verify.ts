import type { Command } from 'commander';

export function registerVerify(_program: Command): void {
  // 'verify' is not built yet.
}
