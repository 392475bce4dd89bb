import type { Command } from 'commander';

export function registerPlan(_program: Command): void {
  // 'plan' is not built yet.
}
