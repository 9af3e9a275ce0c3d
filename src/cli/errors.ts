/** Exit codes of the mesh-release CLI. */
export const EXIT_OK = 0;
/** A stage (or a transition) is unsafe: the safety check found errors (or warnings, with `--strict`), or schema violations. */
export const EXIT_UNSAFE = 1;
/** Bad usage or input: a missing path, invalid YAML, an app that fails to synthesize, an output directory it may not write. */
export const EXIT_USAGE = 2;
/** An unexpected failure: a bug of the CLI, never bad input. */
export const EXIT_INTERNAL = 3;

/** An error the CLI reports as one line (plus optional details, e.g. an app's stderr) and an exit code. */
export class CliError extends Error {
  /** Already written as a JSON `error` event on stdout (`--output json`): not written again. */
  reportedAsJson = false;

  constructor(message: string, readonly exitCode: number = EXIT_USAGE, readonly details?: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * A file system error (ENOENT, EACCES, ENAMETOOLONG, ENOSPC...) as a `CliError` naming what was being done:
 * those come from the paths and the machine the user gave, not from a bug.
 */
export function fileError(doing: string, e: unknown): CliError {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof CliError) {
    return e;
  }
  if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    return new CliError(`cannot ${doing}: ${err.code}${err.path ? ` (${err.path})` : ''}: ${err.message.replace(/^E[A-Z]+: /, '').split(',')[0]}`);
  }
  throw e;
}

/** Whether `e` is a Node.js system error about a file (it then is the user's input or machine, not a bug). */
export function isFileSystemError(e: unknown): e is NodeJS.ErrnoException {
  const err = e as NodeJS.ErrnoException;
  return typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code) && typeof err.syscall === 'string';
}
