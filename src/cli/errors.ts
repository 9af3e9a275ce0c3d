/** Exit codes of the mesh-release CLI. */
export const EXIT_OK = 0;
/** A stage (or a transition) is unsafe: the safety check found violations. */
export const EXIT_UNSAFE = 1;
/** Bad usage or input: a missing path, invalid YAML, an app that fails to synthesize. */
export const EXIT_USAGE = 2;

/** An error the CLI reports as one line (plus optional details, e.g. an app's stderr) and an exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE, readonly details?: string) {
    super(message);
    this.name = 'CliError';
  }
}
