import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { checkCommand } from './check';
import { CliError, EXIT_USAGE } from './errors';

/** Exit code of an unexpected failure (a bug, not bad input). */
const EXIT_INTERNAL = 3;

const EXIT_CODES = `
Exit codes:
  0  done, every stage (or the transition checked) is safe
  1  unsafe: the safety check found violations (listed on stdout)
  2  bad usage or input: unknown option, missing path or app, invalid YAML, unknown release,
     an app that fails to synthesize (its stderr is shown)`;

const RELEASE_CHOICE = `
How the release is chosen: the app is run once (CDK8S_OUTDIR = a temp directory) and every
VirtualService with the mesh-release.io/plan-stages annotation is a release. --release picks one
by name (or <namespace>/<name>). Without it, if all releases share one plan they are all taken;
otherwise the app is run with RELEASE_STAGE set to a stage of each plan in turn, and the release
whose mesh-release.io/stage annotation follows RELEASE_STAGE wins (in examples/helloworld:
helloworld follows RELEASE_STAGE, ratings is fixed at pin-v3). Then each stage i of the plan is
synthesized with RELEASE_STAGE=<stage> into <out>/<NN>-<stage> (NN = i, two digits, from 01);
stale NN-* directories of an earlier plan are removed.`;

/** Runs the CLI on `argv` (as in `process.argv`) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('mesh-release')
    .description('Plan, check and document zero-downtime releases made with cdk8s-mesh-release (Kubernetes + Istio).')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES);

  const stageOptions = (command: Command) => command
    .requiredOption('--app <dir>', 'cdk8s app directory (with a cdk8s.yaml whose app: command is run there, through a shell)')
    .option('--out <dir>', 'directory of the stage directories (default: <app>/dist/stages)')
    .option('--release <name>', 'the release to walk: name (or <namespace>/<name>) of its VirtualService (default: see below)')
    .option('--jobs <n>', 'stages synthesized at once (default: number of CPUs, at most 4)', positiveInteger)
    .allowExcessArguments(false);

  stageOptions(program.command('plan'))
    .description('Synthesize every stage of a release into its own directory, print what each stage deploys and routes, '
      + 'and check each stage against the previous one (over all of the app\'s objects).')
    .addHelpText('after', `${RELEASE_CHOICE}\n\nExample:\n  $ mesh-release plan --app examples/helloworld --out dist/stages\n${EXIT_CODES}`)
    .action(async (options) => {
      exitCode = await loadPlan().planCommand(options);
    });

  program.command('check')
    .description('Check that applying the manifests <after> on top of <before> cannot drop a request (make-before-break).')
    .argument('<before>', 'YAML file, or directory of *.yaml/*.yml files (recursive): the stage applied now')
    .argument('<after>', 'YAML file or directory: the stage to apply next')
    .allowExcessArguments(false)
    .addHelpText('after', `
Prints each violation as "<object>  [<rule>]  <message>" and "  fix: <fix>".

Example:
  $ mesh-release check dist/stages/03-deploy dist/stages/04-shift-10
${EXIT_CODES}`)
    .action((before: string, after: string) => {
      exitCode = checkCommand(before, after);
    });

  stageOptions(program.command('runbook'))
    .description('Synthesize every stage like plan, then write a Markdown runbook: per stage the kubectl apply command, '
      + 'the waits before the next stage and how to roll back, with a chart of the weights.')
    .option('--file <path>', 'the runbook to write (default: <app>/RUNBOOK.md); its commands use paths relative to it')
    .addHelpText('after', `${RELEASE_CHOICE}\n\nNo runbook is written for an unsafe plan (exit 1).\n\n`
      + `Example:\n  $ mesh-release runbook --app examples/helloworld\n${EXIT_CODES}`)
    .action(async (options) => {
      exitCode = await loadRunbook().runbookCommand(options);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    return reportError(e);
  }
}

// plan and runbook load the construct library (cdk8s, cdk8s-plus, the Istio classes), which takes a
// second or two that check and --help do without: they are required when their command runs.
function loadPlan(): typeof import('./plan') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./plan');
}

function loadRunbook(): typeof import('./runbook') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./runbook');
}

function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander printed the message (or the help) already.
    return e.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (e instanceof CliError) {
    console.error(`mesh-release: error: ${e.message}`);
    if (e.details) {
      console.error(e.details);
    }
    return e.exitCode;
  }
  console.error(`mesh-release: internal error: ${e instanceof Error ? e.stack : String(e)}`);
  return EXIT_INTERNAL;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return n;
}

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
