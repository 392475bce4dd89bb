import type { Command } from 'commander';

export function registerTune(_program: Command): void {
  // 'tune' is not built yet.
}
