import type { Command } from 'commander';

export function registerDoctor(_program: Command): void {
  // 'doctor' is not built yet.
}
