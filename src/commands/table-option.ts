import { Option, type Command } from 'commander';
import { TABLE_OUTPUTS, type TableOutput } from '../cluster/members-table.js';

/** `-o wide` where a table has more to say than fits a screen (kubectl's word); `--json` stays the machine output. */
export function withWide(cmd: Command, more: string): Command {
  return cmd.addOption(new Option('-o, --output <format>', `wide: more columns (${more}); --json is the machine output`).choices([...TABLE_OUTPUTS]));
}

export const isWide = (opts: { output?: TableOutput | string }): boolean => opts.output === 'wide';

export const MEMBER_WIDE = "the members' ID, peer URLs and whether the inventory lists them";
