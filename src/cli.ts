import { Command, CommanderError } from 'commander';
import { registerDoctor } from './commands/doctor.js';
import { registerLab } from './commands/lab.js';
import { registerLintUnit } from './commands/lint-unit.js';
import { registerPki } from './commands/pki.js';
import { registerPlan } from './commands/plan.js';
import { registerRender } from './commands/render.js';
import { registerTune } from './commands/tune.js';
import { registerUp } from './commands/up.js';
import { registerVerify } from './commands/verify.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, HardwayError } from './errors.js';
import { color } from './output.js';

export function buildProgram(): Command {
  const program = new Command('hardway')
    .description('Bootstrap and check the etcd cluster of Kubernetes The Hard Way, from a laptop.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of [registerPki, registerRender, registerLintUnit, registerLab, registerPlan, registerUp, registerVerify, registerDoctor, registerTune]) {
    register(program);
  }
  // Subcommands inherit exitOverride only when it is set before they are added.
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** The one place where errors become a message and an exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version end with code 0; every other commander error is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof HardwayError) {
      process.stderr.write(`${color.red('error:')} ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    process.stderr.write(`${color.red('internal error:')} ${err?.message ?? String(e)}\n`);
    if (process.env.HARDWAY_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    else process.stderr.write('(this is a bug in hardway; HARDWAY_DEBUG=1 shows the stack)\n');
    return EXIT_FAILED;
  }
}
