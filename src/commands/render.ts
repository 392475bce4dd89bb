import type { Command } from 'commander';

export function registerRender(_program: Command): void {
  // 'render' is not built yet.
}
