import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DNS_1123_LABEL, DNS_1123_SUBDOMAIN } from '../_conventions';
import { checkCommand } from './check';
import { CliError, EXIT_INTERNAL, EXIT_USAGE, isFileSystemError } from './errors';
import type { RolloutHooks } from '../rollout/analysis';

const EXIT_CODES = `
Exit codes:
  0  done: every stage (or the transition checked) is safe; warnings alone do not fail (unless --strict)
  1  unsafe: the safety check found errors (or warnings, with --strict), or schema violations (listed on stdout)
  2  bad usage or input: unknown option, missing path or app, invalid YAML or no Kubernetes object, unknown release,
     an app that fails to synthesize (its stderr is shown), an output directory it may not write
  3  internal error: a bug of mesh-release (please report it with the stack trace printed)
  rollout, promote, abort: 0 reached the target stage; 1 refused (unsafe, the Lease held by another driver, the
  cluster not at a stage the plan expects, RBAC); 4 a stage's analysis failed or a wait timed out, and the release
  was rolled back to its first stage; 5 paused before a pauseBefore stage (run promote)`;

const ROLLOUT_HELP = `
Each stage: the floors of the versions that get more traffic, the guard on the live stage (the routing objects'
mesh-release.io/stage must be the stage before, or this one), a server-side dry run of every apply and delete
(refused: nothing applied), the apply, then waits until live: rollouts complete, floors (readyReplicas >= floor),
HTTPRoutes Accepted and ResolvedRefs by every parent, EndpointSlices of a switched Service, Istio proxies
(istioctl proxy-status when on PATH, --istio-status, else the --propagation-wait dwell, printed), the deletes of what
the stage drops and their waits; then, at the stages the plan's analysis names (the mesh-release.io/rollout
annotation), count evaluations interval apart against --prometheus, each printed as it happens. The runbook's environment variables set the waits' timeouts
(MESH_RELEASE_ROUTE_TIMEOUT, MESH_RELEASE_ENDPOINTS_TIMEOUT, MESH_RELEASE_PROPAGATION_TIMEOUT) and the dwell after
routing changes (MESH_RELEASE_DWELL, default 5 s).

One driver per release: it holds the Lease mesh-release.<release> in the release's namespace (renewed; taken over
when seen unchanged for its duration by this machine's clock) and records the live stage, the plan's digest, the state and the analysis in
the ConfigMap mesh-release.<release>. Run again after a kill, it resumes at the live stage. SIGINT/SIGTERM stop it
after the current step.`;

const RELEASE_CHOICE = `
How the release is chosen: the app runs once with the environment as is, and every VirtualService, HTTPRoute or
Service with the mesh-release.io/plan-stages annotation is a release. --release picks one by name (or
<namespace>/<name>). Without it, if all releases share one plan they are all taken; otherwise the app is run with
RELEASE_STAGE set to a stage of each plan in turn, and the release whose mesh-release.io/stage annotation follows
RELEASE_STAGE wins (in examples/helloworld: helloworld and reviews follow RELEASE_STAGE, ratings is fixed at pin-v3). Then each
stage i of the plan is synthesized with RELEASE_STAGE=<stage> into <out>/<NN>-<stage> (NN = i, two digits, from 01).

How the stages are synthesized: in ONE process. The app's command runs once with NODE_OPTIONS=--require <the
mesh-release synth hook>; in the app's Node.js process the hook loads the app's main module once per stage (with
RELEASE_STAGE and CDK8S_OUTDIR set, the app's own modules reloaded, cdk8s and the libraries kept loaded). An app the
hook cannot drive (not a CommonJS Node.js main, e.g. ESM, Python, Go), or whose stages come out stale (a module
outside the app directory reading RELEASE_STAGE when loaded), is synthesized one process per stage instead, as with
--isolate.

The output directory: created if missing; the CLI writes a .mesh-release.json marker into it and only ever removes
the stage directories that marker lists. A non-empty directory without the marker is refused unless --force.`;

const RUNBOOK_STEPS = `
What each stage of the runbook runs: a guard (mr_expect_stage: the live mesh-release.io/stage annotation of each
release's VirtualService, HTTPRoute or selector Service must be the stage before, or this stage; the script's --force
skips it), kubectl apply, then blocking waits: new pods ready, autoscaler floors, and per router: Istio proxies in sync
(mr_wait_proxies, only when Istio objects change), every parent of an HTTPRoute Accepted and ResolvedRefs at its
current generation (mr_wait_routes), the EndpointSlices of a switched Service listing only the ready pods it selects
(mr_wait_endpoints); then the deletes of what the stage drops. The script: --from/--to apply a range, --rollback --from X
rolls back one stage (to X-1; --to goes further), --list. The route and endpoint waits need jq.`;

/**
 * Runs the CLI on `argv` (as in `process.argv`) and returns the exit code. `hooks`: in place of the plan's own
 * (its analysis against `--prometheus`, its pauses), the analysis of a stage or the pauses of `rollout` and
 * `promote` (`rollout/analysis.ts`; tests).
 */
export async function main(argv: string[], hooks?: Partial<RolloutHooks>): Promise<number> {
  let exitCode = 0;
  const program = new Command('mesh-release')
    .description('Plan, check and run zero-downtime releases made with cdk8s-mesh-release (Kubernetes + Istio or Gateway API).')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES);

  const readOptions = (command: Command) => command
    .option('--namespace <ns>', 'namespace of objects that carry none (as applied with kubectl -n) (default: "default")', namespaceName)
    .option('--cluster-domain <domain>', 'cluster DNS domain of in-cluster hosts <svc>.<ns>.svc.<domain> (default: "cluster.local")', domainName);

  const stageOptions = (command: Command) => readOptions(command
    .option('--app <dir>', 'cdk8s app directory (with a cdk8s.yaml whose app: command is run there, through a shell)')
    .option('--stages <dir>', 'instead of --app: the stage directories written by an earlier `plan` (read, not synthesized)')
    .option('--out <dir>', 'directory of the stage directories (default: <app>/dist/stages)')
    .option('--force', 'write into a non-empty --out directory that mesh-release did not write (files of the same name are replaced)')
    .option('--release <name>', 'the release to walk: name (or <namespace>/<name>) of its annotated object (default: see below)')
    .option('--isolate', 'synthesize each stage in a process of its own (slower; for apps the one-process mode cannot drive)')
    .option('--jobs <n>', 'with --isolate: stages synthesized at once (default: number of CPUs, at most 4)', positiveInteger)
    .option('--strict', 'exit 1 on warnings too')
    .allowExcessArguments(false));

  stageOptions(program.command('plan'))
    .description('Synthesize every stage of a release into its own directory, print what each stage deploys and routes, '
      + 'what it creates, changes and deletes, and check each stage against the previous one (over all of the app\'s objects).')
    .option('--diff', 'list the objects each stage creates (+), changes (~) and deletes (-) under the table')
    .addOption(new Option('--output <format>', 'text, or json (machine-readable: releases, per stage its state, changes, roll back, violations)')
      .choices(['text', 'json']).default('text'))
    .addHelpText('after', `${RELEASE_CHOICE}\n\nExamples:\n  $ mesh-release plan --app examples/helloworld --out dist/stages --diff\n`
      + `  $ mesh-release plan --stages dist/stages --output json\n${EXIT_CODES}`)
    .action(async (options) => {
      exitCode = await loadPlan().planCommand(options);
    });

  readOptions(program.command('check'))
    .description('Check that applying the manifests <after> on top of <before> cannot drop a request (make-before-break): '
      + 'schemas first (unknown fields, enums, types), then the safety rules.')
    .argument('<before>', 'YAML file, or directory of *.yaml/*.yml files (recursive): the stage applied now')
    .argument('<after>', 'YAML file or directory: the stage to apply next')
    .option('--rollback', 'check rolling back instead: applying <before> on top of <after> (the same as swapping the arguments)')
    .option('--strict', 'exit 1 on warnings too')
    .option('--no-schemas', 'skip schema validation (the safety rules only)')
    .addOption(new Option('--output <format>', 'text, or json (machine-readable)').choices(['text', 'json']).default('text'))
    .allowExcessArguments(false)
    .addHelpText('after', `
Prints each violation as "<severity>: <object>  [<rule>]  <message>" and "  fix: <fix>"; errors can drop
requests, warnings are hygiene (exit 0 unless --strict). Schema violations are printed as
"schema: <object> <path>: <message>" (e.g. spec.http[0].route[0].port: unknown field "port"); the safety rules
then read the objects as the API server would keep them: unknown fields dropped, objects it would refuse left out
(both named). Loads no cdk8s: it reads YAML and runs the rules.

Examples:
  $ mesh-release check dist/stages/03-deploy dist/stages/04-shift-10
  $ mesh-release check --rollback dist/stages/03-deploy dist/stages/04-shift-10   # is going back to 03 safe?
  $ mesh-release check --namespace shop --output json before.yaml after.yaml
${EXIT_CODES}`)
    .action((before: string, after: string, options) => {
      exitCode = checkCommand(before, after, options);
    });

  stageOptions(program.command('runbook'))
    .description('Synthesize (or read, with --stages) every stage like plan, then write a runbook: per stage the kubectl apply, '
      + 'the deletes of what the stage drops, blocking waits, and the roll back in reverse, with a chart of the weights.')
    .option('--file <path>', 'the runbook to write (default: <app>/RUNBOOK.md, or <app>/runbook.sh); its commands use paths relative to it')
    .addOption(new Option('--format <format>', 'md (Markdown), or sh (an executable bash script: one function per stage and per roll back, '
      + '--from/--to/--rollback/--force)').choices(['md', 'sh']).default('md'))
    .addHelpText('after', `${RELEASE_CHOICE}\n${RUNBOOK_STEPS}\n\nNo runbook is written for an unsafe plan (exit 1).\n\n`
      + 'Examples:\n  $ mesh-release runbook --app examples/helloworld\n'
      + '  $ mesh-release runbook --stages dist/stages --format sh --file release.sh && ./release.sh --from deploy --to shift-10\n'
      + `  $ ./release.sh --rollback --from shift-10   # back to deploy, one stage\n${EXIT_CODES}`)
    .action(async (options) => {
      exitCode = await loadRunbook().runbookCommand(options);
    });

  const clusterOptions = (command: Command) => readOptions(command
    .option('--app <dir>', 'cdk8s app directory (with a cdk8s.yaml whose app: command is run there, through a shell)')
    .option('--stages <dir>', 'instead of --app: the stage directories written by an earlier `plan` (read, not synthesized)')
    .option('--out <dir>', 'directory of the stage directories (default: <app>/dist/stages)')
    .option('--release <name>', 'the release: name (or <namespace>/<name>) of its annotated object (default: as for plan)')
    .option('--isolate', 'synthesize each stage in a process of its own')
    .option('--jobs <n>', 'with --isolate: stages synthesized at once', positiveInteger)
    .option('--kubeconfig <file>', 'the kubeconfig (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)')
    .option('--context <name>', 'the kubeconfig context (default: its current-context)')
    .addOption(new Option('--output <format>', 'text (one line per step), or json (one JSON event per line)').choices(['text', 'json']).default('text'))
    .allowExcessArguments(false));

  const driveOptions = (command: Command) => clusterOptions(command)
    .option('--prometheus <url>', 'Prometheus with the mesh\'s metrics (e.g. http://prometheus.istio-system:9090): required when a stage up to --to '
      + 'is analyzed by the plan, and checked before anything is applied')
    .option('--prometheus-header <header>', 'a header of every request to --prometheus, \'Name: value\' (repeatable): e.g. \'Authorization: Bearer <token>\', '
      + '\'Authorization: Basic <base64>\', \'X-Scope-OrgID: <tenant>\' (values are never printed)', collect, [])
    .option('--prometheus-bearer-token-file <file>', 'send Authorization: Bearer <the file\'s content> to --prometheus, the file read again for every request '
      + '(a rotated token works)')
    .option('--prometheus-ca-file <file>', 'PEM certificate(s) of the CA that signed an https --prometheus\'s certificate (a private CA)')
    .option('--prometheus-insecure-skip-tls-verify', 'do not verify the certificate of an https --prometheus (tests only)')
    .option('--force', 'apply even when the live stage is not the one the plan expects (each step is still checked by the safety check)')
    .option('--propagation-wait <seconds>', 'Istio without istioctl on PATH: seconds to wait for the proxies after a routing change (default: 30)', wholeNumber)
    .option('--istio-status', 'wait for istiod\'s Reconciled condition of the Istio objects (PILOT_ENABLE_STATUS=true) instead of istioctl proxy-status')
    .option('--wait-timeout <seconds>', 'every wait at most this long (default: each wait\'s own: the progress deadline + 60 s for pods, 120 s for routing)', positiveInteger)
    .option('--lease-duration <seconds>', 'how long the release\'s Lease lasts without renewal (default: 30)', positiveInteger)
    .addHelpText('after', `${ROLLOUT_HELP}\n${EXIT_CODES}`);

  driveOptions(program.command('rollout'))
    .description('Drive the release through the cluster, stage by stage: apply (server-side, field manager mesh-release), delete what the stage '
      + 'drops, wait until it is live, analyze it, and roll back to the first stage on its own when the analysis fails or a wait times out.')
    .option('--to <stage>', 'the stage to reach (default: the last)')
    .option('--retry', 'run a plan that was rolled back before (same digest)')
    .action(async (options) => {
      exitCode = await loadRollout().rolloutCommand('rollout', options, hooks);
    });

  driveOptions(program.command('promote'))
    .description('Pass the pending pause (a pauseBefore stage) and go on like rollout.')
    .option('--to <stage>', 'the stage to reach (default: the last)')
    .option('--retry', 'run a plan that was rolled back before (same digest)')
    .action(async (options) => {
      exitCode = await loadRollout().rolloutCommand('promote', options, hooks);
    });

  driveOptions(program.command('abort'))
    .description('Roll the release back now, one stage at a time (each with its waits), to the first stage of its plan.')
    .action(async (options) => {
      exitCode = await loadRollout().rolloutCommand('abort', options, hooks);
    });

  clusterOptions(program.command('status'))
    .description('Where the release stands, read from the cluster: its live stage, its state, the last analysis results.')
    .action(async (options) => {
      exitCode = await loadRollout().statusCommand(options);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    const code = reportError(e);
    if (code !== 0 && jsonRequested(argv) && !(e instanceof CliError && e.reportedAsJson)) {
      // `--output json` of rollout, promote, abort, status: CI reads stdout as JSON events, so a refusal or a usage
      // error is one too (the text stays on stderr).
      process.stdout.write(`${JSON.stringify({ event: 'error', message: e instanceof Error ? e.message : String(e), exitCode: code })}\n`);
    }
    return code;
  }
}

/** Whether `argv` runs one of the driver's commands with `--output json`. */
function jsonRequested(argv: string[]): boolean {
  const args = argv.slice(2);
  const json = args.some((a, i) => a === '--output=json' || (a === '--output' && args[i + 1] === 'json'));
  return json && ['rollout', 'promote', 'abort', 'status'].includes(args.find((a) => !a.startsWith('-')) ?? '');
}

// plan and runbook need more modules than check and --help: they are required when their command runs.
function loadPlan(): typeof import('./plan') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./plan');
}

function loadRollout(): typeof import('../rollout/commands') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../rollout/commands');
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
  if (isFileSystemError(e)) {
    // A path the user gave, or the machine (permissions, a full disk, a name too long): not a bug.
    console.error(`mesh-release: error: ${e.message}`);
    return EXIT_USAGE;
  }
  console.error(`mesh-release: internal error (a bug, please report it): ${e instanceof Error ? e.stack : String(e)}`);
  return EXIT_INTERNAL;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer.');
  }
  return n;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError('must be a whole number of seconds.');
  }
  return n;
}

function namespaceName(value: string): string {
  if (!DNS_1123_LABEL.test(value)) {
    throw new InvalidArgumentError("must be a namespace name (a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters).");
  }
  return value;
}

function domainName(value: string): string {
  if (!DNS_1123_SUBDOMAIN.test(value)) {
    throw new InvalidArgumentError('must be a DNS domain, e.g. cluster.local.');
  }
  return value;
}

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
