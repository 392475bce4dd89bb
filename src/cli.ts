import { Command, CommanderError, type Option } from 'commander';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, HardwayError } from './errors.js';
import { EXAMPLES, examplesText } from './help-examples.js';
import { color, holdJson, releaseJson, writeJson } from './output.js';
import { inventoryOption } from './commands/options.js';
import { startEarly } from './commands/early.js';

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
  completion: async () => (await import('./commands/completion.js')).registerCompletion,
  __complete: async () => (await import('./commands/completion.js')).registerComplete,
};

/** Commands that need the whole command tree (completion is generated from it). */
const NEEDS_ALL = new Set(['completion']);

/** Every command under `cmd`, itself first, each with its path ('member list'; '' for the program). */
export function commandTree(cmd: Command, prefix: string[] = []): { path: string; cmd: Command }[] {
  return [{ path: prefix.join(' '), cmd }, ...cmd.commands.flatMap((c) => commandTree(c, [...prefix, c.name()]))];
}

/** Hidden from help, itself or through a parent (`__complete nodes`). */
export const isHidden = (cmd: Command): boolean => !!(cmd as unknown as { _hidden?: boolean })._hidden || (!!cmd.parent && isHidden(cmd.parent));

/**
 * What every command gets in one place rather than in each module: `-i` accepted everywhere (hidden where the
 * command reads no inventory), its examples after the help, numeric defaults shown as numbers.
 */
function finish(program: Command): void {
  for (const { path, cmd } of commandTree(program)) {
    if (cmd !== program && cmd.commands.length === 0 && !cmd.options.some((o) => o.long === '--inventory')) {
      cmd.addOption(inventoryOption('inventory file (not read by this command)').hideHelp());
    }
    const examples = EXAMPLES[path];
    if (examples && !isHidden(cmd)) cmd.addHelpText('after', examplesText(examples));
    for (const o of cmd.options as Option[]) {
      if (typeof o.defaultValue === 'string' && /^\d+(\.\d+)?$/.test(o.defaultValue) && o.defaultValueDescription === undefined) o.defaultValueDescription = o.defaultValue;
    }
  }
  // An option given on a parent command (`leader -i x move`, `pki -i x check`) reaches the subcommand that runs when
  // that one has the option too and was not given it itself: commander hands such an option to the first command
  // that knows it.
  program.hook('preAction', (_root, action) => {
    for (let p = action.parent; p; p = p.parent) {
      for (const o of p.options) {
        const key = o.attributeName();
        if (p.getOptionValueSource(key) !== 'cli' || action.getOptionValueSource(key) === 'cli') continue;
        if (action.options.some((x) => x.attributeName() === key)) action.setOptionValueWithSource(key, p.getOptionValue(key), 'cli');
      }
    }
  });
}

/** The program with the commands `argv` needs: just the one named, or all of them (help, unknown command). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('hardway')
    .description('Bootstrap and check the etcd cluster of Kubernetes The Hard Way, from a laptop.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const versionOnly = !named && argv.slice(2).some((a) => a === '-V' || a === '--version');
  const names = named && named in COMMANDS && !NEEDS_ALL.has(named) ? [named] : versionOnly ? [] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]!()))) register(program);
  // Subcommands inherit exitOverride only when it is set before they are added.
  for (const { cmd } of commandTree(program)) cmd.exitOverride();
  finish(program);
  return program;
}

/** The command argv runs: subcommand names followed from the program, options and their values skipped. */
export function commandOf(program: Command, argv: string[]): Command {
  let cmd = program;
  for (const a of argv.slice(2)) {
    if (a === '--') break;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (sub) cmd = sub;
  }
  return cmd;
}

/** `--json` on the command line, before any `--`. */
function jsonAsked(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** A partial result's fields: an object's own, anything else as `result`. */
const fieldsOf = (v: unknown): Record<string, unknown> => (v === undefined ? {} : v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { result: v });

/** The one document of a failed `--json` run: ok, error, then what the command had (printed, or carried by the error). */
export function failureDocument(code: number, message: string, ...partials: unknown[]): Record<string, unknown> {
  const rest = Object.assign({}, ...partials.map(fieldsOf)) as Record<string, unknown>;
  delete rest.ok;
  delete rest.error;
  return { ok: false, error: { code, message }, ...rest };
}

function endOnClosedStdout(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
}

/** The one place where errors become a message and an exit code (and, with --json, the one JSON document). */
export async function main(argv: string[]): Promise<number> {
  // `hardway verify | head`: a reader that goes away ends the output, not the process with a stack trace.
  if (!process.stdout.listeners('error').includes(endOnClosedStdout)) process.stdout.on('error', endOnClosedStdout);
  const asked = jsonAsked(argv);
  let json = false;
  const done = (code: number, message?: string, partial?: unknown): number => {
    if (!json) return code;
    const held = releaseJson();
    if (code === EXIT_OK) writeJson(held.printed ? held.value : { ok: true });
    else writeJson(failureDocument(code, message ?? `exit status ${code}`, held.value, partial));
    return code;
  };
  let dropEarly = async () => {};
  try {
    // `up` and `verify`: the inventory read and the nodes' SSH connections under way while their module loads.
    dropEarly = await startEarly(argv, argv.slice(2).find((a) => !a.startsWith('-')));
    const program = await buildProgram(argv);
    // A command that offers --json and was given it: from here on stdout gets one JSON document and nothing else.
    json = asked && commandOf(program, argv).options.some((o) => o.long === '--json');
    if (json) holdJson();
    await program.parseAsync(argv);
    return done(typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version end with code 0; every other commander error is a usage error (said on stderr already).
      if (e.exitCode === 0) {
        if (json) releaseJson();
        return EXIT_OK;
      }
      // A usage error with --json: the document too, whether or not the command offers --json.
      if (asked && !json) {
        json = true;
        holdJson();
      }
      // `unknown option '--nod'\n(Did you mean --node?)`: one line.
      return done(EXIT_USAGE, e.message.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' '));
    }
    if (e instanceof HardwayError) {
      process.stderr.write(`${color.red('error:')} ${e.message}\n`);
      return done(e.exitCode, e.message, e.partial);
    }
    const err = e as Error;
    process.stderr.write(`${color.red('internal error:')} ${err?.message ?? String(e)}\n`);
    if (process.env.HARDWAY_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    else process.stderr.write('(this is a bug in hardway; HARDWAY_DEBUG=1 shows the stack)\n');
    return done(EXIT_FAILED, `internal error: ${err?.message ?? String(e)}`);
  } finally {
    if (json) releaseJson();
    await dropEarly();
  }
}
