import type { Command } from 'commander';

export function registerLintUnit(_program: Command): void {
  // 'lint-unit' is not built yet.
}
