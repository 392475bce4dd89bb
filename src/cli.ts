import { Command, CommanderError } from 'commander';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, HardwayError } from './errors.js';
import { color } from './output.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded on demand: a run loads only the command it runs (the others pull in SSH, listr2,
 * node-forge…), which keeps `hardway pki` as quick to start as the tools it replaces.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  pki: async () => (await import('./commands/pki.js')).registerPki,
  render: async () => (await import('./commands/render.js')).registerRender,
  'lint-unit': async () => (await import('./commands/lint-unit.js')).registerLintUnit,
  lab: async () => (await import('./commands/lab.js')).registerLab,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  up: async () => (await import('./commands/up.js')).registerUp,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  tune: async () => (await import('./commands/tune.js')).registerTune,
  init: async () => (await import('./commands/init.js')).registerInit,
  etcdctl: async () => (await import('./commands/etcdctl.js')).registerEtcdctl,
  env: async () => (await import('./commands/env.js')).registerEnv,
  member: async () => (await import('./commands/member.js')).registerMember,
  leader: async () => (await import('./commands/leader.js')).registerLeader,
  defrag: async () => (await import('./commands/defrag.js')).registerDefrag,
  alarm: async () => (await import('./commands/alarm.js')).registerAlarm,
  reset: async () => (await import('./commands/reset.js')).registerReset,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  snapshot: async () => (await import('./commands/snapshot.js')).registerSnapshot,
  recover: async () => (await import('./commands/recover.js')).registerRecover,
};

/** The program with the commands `argv` needs: just the one named, or all of them (help, unknown command). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('hardway')
    .description('Bootstrap and check the etcd cluster of Kubernetes The Hard Way, from a laptop.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const versionOnly = !named && argv.slice(2).some((a) => a === '-V' || a === '--version');
  const names = named && named in COMMANDS ? [named] : versionOnly ? [] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]!()))) register(program);
  // Subcommands inherit exitOverride only when it is set before they are added.
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

function endOnClosedStdout(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
}

/** The one place where errors become a message and an exit code. */
export async function main(argv: string[]): Promise<number> {
  // `hardway verify | head`: a reader that goes away ends the output, not the process with a stack trace.
  if (!process.stdout.listeners('error').includes(endOnClosedStdout)) process.stdout.on('error', endOnClosedStdout);
  const program = await buildProgram(argv);
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
