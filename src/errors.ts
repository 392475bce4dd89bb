/**
 * The few error kinds hardway knows. Only `main()` in cli.ts turns them into a message and an exit code;
 * anything else that escapes is a bug and is reported as one (still without a stack trace unless HARDWAY_DEBUG).
 */

/** Exit codes, everywhere: 0 ok, 1 an operation or a check failed, 2 invalid input or usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class HardwayError extends Error {
  /**
   * What the command had found or done when it failed (the steps done, say), for `--json`: main() puts it beside
   * `ok: false` and `error` in the one document it writes.
   */
  partial?: unknown;

  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Runs `work`; a HardwayError it throws carries `partial()` as its partial result (unless it carries one already). */
export async function withPartial<T>(work: () => Promise<T>, partial: () => unknown): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof HardwayError && e.partial === undefined) e.partial = partial();
    throw e;
  }
}

/** Invalid input or usage (exit 2). */
export class UsageError extends HardwayError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** A position in a file, 1-based, as editors and compilers print it. */
export interface FilePosition {
  file: string;
  line: number;
  col: number;
}

export function formatPosition(p: FilePosition): string {
  return `${p.file}:${p.line}:${p.col}`;
}

/** One problem in a file, with where it is. */
export interface FileProblem extends FilePosition {
  message: string;
}

export function formatProblem(p: FileProblem): string {
  return `${formatPosition(p)}: ${p.message}`;
}

/** A bad input file (exit 2): every problem found, each with file:line:col. */
export class FileError extends UsageError {
  constructor(readonly problems: FileProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** An operation failed (exit 1): SSH, a remote command, a download. */
export class OperationError extends HardwayError {
  constructor(message: string) {
    super(message, EXIT_FAILED);
  }
}

/**
 * A check found problems (exit 1). The command has already printed its report; the message is a one-line
 * summary for the end.
 */
export class CheckFailed extends HardwayError {
  constructor(message: string) {
    super(message, EXIT_FAILED);
  }
}
