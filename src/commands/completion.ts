import { Argument, type Command } from 'commander';
import { completionScript, completionTree, SHELLS, type CompletionShell } from '../completion.js';
import { readInventory } from '../inventory/read.js';
import { println } from '../output.js';
import { withInventory, type CommonOptions } from './options.js';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description("print a shell completion script: commands, subcommands, flags, and node names from the inventory")
    .addArgument(new Argument('<shell>', 'the shell').choices([...SHELLS]))
    .action((shell: CompletionShell, _opts: unknown, cmd: Command) => {
      // The whole tree: cli.ts registers every command for `completion`.
      println(completionScript(shell, completionTree(cmd.parent!)).trimEnd());
    });
}

/** `hardway __complete nodes`: what the completion scripts call; never an error (a completion must stay quiet). */
export function registerComplete(program: Command): void {
  const complete = program.command('__complete', { hidden: true }).description('values for the completion scripts');
  withInventory(complete.command('nodes').description("the inventory's node names, one a line")).action(async (opts: CommonOptions) => {
    const inv = await readInventory(opts.inventory).catch(() => undefined);
    for (const n of inv?.nodes ?? []) println(n.name);
  });
}
