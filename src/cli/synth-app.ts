import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { CHECKED_BY_ENV } from '../_conventions';
import { readCapture } from './_yaml-capture';
import { CliError } from './errors';
import { readManifests } from './manifests';
import { displayPath } from './paths';
import { ReleaseRef } from './release-view';

/** A cdk8s app: its directory and the command of the `app:` key of its cdk8s.yaml. */
export interface CdkApp {
  readonly dir: string;
  readonly command: string;
}

/** What `synth-hook.ts` reads from `MESH_RELEASE_SYNTH`. */
export interface HookControl {
  /** Scratch directory: stage outputs, `result.json` / `error.json`. */
  readonly work: string;
  /** Modules under it (outside node_modules) are loaded again for each stage. */
  readonly appDir: string;
  readonly release?: string;
  readonly namespace?: string;
  /** `NODE_OPTIONS` as it was, restored in the driven process so its children do not load the hook. */
  readonly nodeOptions?: string;
}

/** `result.json`: the releases found and the stages synthesized, each in `<work>/<NN>-<stage>`. */
export interface HookResult {
  readonly releases: ReleaseRef[];
  readonly stages: string[];
  readonly log: string[];
}

/** `error.json`: why the driven process stopped. */
export interface HookFailure {
  /** `cli`: bad input found by the CLI's code (exit code given); `app`: the app threw. */
  readonly kind: 'cli' | 'app';
  /** The stage being synthesized (none: the first run, with the environment as is). */
  readonly stage?: string;
  readonly message: string;
  readonly details?: string;
  readonly exitCode?: number;
  readonly log: string[];
}

/** Reads `<dir>/cdk8s.yaml`; throws a `CliError` when the directory, the file or its `app:` key is missing. */
export function loadApp(dir: string): CdkApp {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new CliError(`app directory not found: ${displayPath(dir)}`);
  }
  const configFile = path.join(dir, 'cdk8s.yaml');
  if (!fs.existsSync(configFile)) {
    throw new CliError(`not a cdk8s app: ${displayPath(configFile)} does not exist`);
  }
  let config: any;
  try {
    config = parse(fs.readFileSync(configFile, 'utf8'));
  } catch (e) {
    throw new CliError(`invalid YAML in ${displayPath(configFile)}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof config?.app !== 'string' || config.app.trim() === '') {
    throw new CliError(`${displayPath(configFile)} has no 'app:' command (e.g. app: npx ts-node main.ts)`);
  }
  return { dir: fs.realpathSync(path.resolve(dir)), command: config.app };
}

/** What one run of the app in one process gave. */
export type OneProcessOutcome =
  /** The hook drove every stage: each is in `<work>/<NN>-<stage>`; `parsed`: their objects, by directory name, for those read already. */
  | { readonly driven: true; readonly result: HookResult; readonly parsed: Map<string, any[]> }
  /** The hook did not drive the app (not a CommonJS Node.js main): the app ran once, its output is in `<work>/discover`. */
  | { readonly driven: false; readonly manifests: any[] };

/**
 * Runs the app's command once with the synth hook preloaded, which synthesizes the discovery run and
 * every stage of the release in that one process. When the hook could not drive the app, the run
 * still counts as the discovery run (the app wrote to `<work>/discover`).
 */
export async function synthInOneProcess(app: CdkApp, work: string, options: { release?: string; namespace?: string }): Promise<OneProcessOutcome> {
  const discoverDir = path.join(work, 'discover');
  fs.mkdirSync(discoverDir, { recursive: true });
  const control: HookControl = {
    work, appDir: app.dir, release: options.release, namespace: options.namespace, nodeOptions: process.env.NODE_OPTIONS,
  };
  const hook = path.join(__dirname, `synth-hook${path.extname(__filename)}`);
  // From source (ts-node), the hook is TypeScript: the app's process needs ts-node to load it.
  const preload = path.extname(hook) === '.ts' ? [require.resolve('ts-node/register/transpile-only'), hook] : [hook];
  const env = {
    ...process.env,
    CDK8S_OUTDIR: discoverDir,
    MESH_RELEASE_SYNTH: JSON.stringify(control),
    // The CLI checks every transition of the YAML it writes: the releases leave their synth-time check to it.
    [CHECKED_BY_ENV]: 'cli',
    NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...preload.map((p) => `--require ${JSON.stringify(p)}`)].join(' ').trim(),
  };
  // Parse each stage as soon as the app finished it, while the app synthesizes the next one.
  const parsed = new Map<string, any[]>();
  const doneDir = path.join(work, 'done');
  const parseDone = () => {
    for (const name of fs.existsSync(doneDir) ? fs.readdirSync(doneDir) : []) {
      if (!parsed.has(name) && name !== 'discover') {
        try {
          const dir = path.join(work, name);
          parsed.set(name, readManifests(dir, { allowEmpty: true, documents: (files) => readCapture(dir, files) }).objects);
        } catch {
          // Read again after the run, where the error is reported with its context.
        }
      }
    }
  };
  const poller = setInterval(parseDone, 50);
  let run: RunResult;
  try {
    run = await runCommand(app.command, app.dir, env);
  } finally {
    clearInterval(poller);
  }
  // The stages finished since the last poll (the last one, at least).
  parseDone();
  const resultFile = path.join(work, 'result.json');
  const errorFile = path.join(work, 'error.json');
  if (fs.existsSync(errorFile)) {
    const failure: HookFailure = JSON.parse(fs.readFileSync(errorFile, 'utf8'));
    if (failure.kind === 'cli') {
      throw new CliError(failure.message, failure.exitCode, failure.details);
    }
    const what = failure.stage === undefined ? describeDiscoveryRun(app) : `stage '${failure.stage}' of the app in ${displayPath(app.dir)}`;
    throw new CliError(`${what} failed to synthesize; its stderr:`,
      undefined, run.stderr.trim() || run.stdout.trim() || failure.message);
  }
  if (!fs.existsSync(resultFile)) {
    const currentFile = path.join(work, 'current.json');
    failIfExited(run, app, fs.existsSync(currentFile) ? JSON.parse(fs.readFileSync(currentFile, 'utf8')).stage : undefined);
    if (fs.existsSync(path.join(work, 'claimed'))) {
      throw new CliError(`the app in ${displayPath(app.dir)} exited before every stage was synthesized in one process `
        + '(does it call process.exit()?): run with --isolate to synthesize each stage in a process of its own');
    }
    return { driven: false, manifests: readOutput(discoverDir, app, undefined) };
  }
  return { driven: true, result: JSON.parse(fs.readFileSync(resultFile, 'utf8')), parsed };
}

/**
 * Runs the app once into `outdir` (emptied first) with `CDK8S_OUTDIR` set, and `RELEASE_STAGE`
 * when `stage` is given (else the variable is inherited), and returns the manifests it wrote.
 * The command runs through a shell, in the app's directory. A failure throws a `CliError`
 * carrying the app's stderr (its stdout when stderr is empty).
 */
export async function synthApp(app: CdkApp, outdir: string, stage?: string): Promise<any[]> {
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  const env = { ...process.env, CDK8S_OUTDIR: path.resolve(outdir), [CHECKED_BY_ENV]: 'cli', ...(stage === undefined ? {} : { RELEASE_STAGE: stage }) };
  failIfExited(await runCommand(app.command, app.dir, env), app, stage);
  return readOutput(outdir, app, stage);
}

function describeDiscoveryRun(app: CdkApp): string {
  const inherited = process.env.RELEASE_STAGE === undefined ? '' : ` with RELEASE_STAGE=${process.env.RELEASE_STAGE} from the environment`;
  return `the app in ${displayPath(app.dir)}${inherited}`;
}

function describeRun(app: CdkApp, stage: string | undefined): string {
  return stage === undefined ? describeDiscoveryRun(app) : `stage '${stage}' of the app in ${displayPath(app.dir)}`;
}

function failIfExited(run: RunResult, app: CdkApp, stage: string | undefined): void {
  if (run.code !== 0) {
    throw new CliError(`${describeRun(app, stage)} failed to synthesize (\`${app.command}\` ${run.signal ? `killed by ${run.signal}` : `exited with ${run.code}`}); its stderr:`,
      undefined, run.stderr.trim() || run.stdout.trim() || '(no output)');
  }
}

function readOutput(dir: string, app: CdkApp, stage: string | undefined): any[] {
  try {
    return readManifests(dir, { allowEmpty: true }).objects;
  } catch (e) {
    throw new CliError(`${describeRun(app, stage)} wrote no manifests to CDK8S_OUTDIR: ${(e as Error).message}`);
  }
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCommand(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', (e) => reject(new CliError(`cannot run \`${command}\` in ${displayPath(cwd)}: ${e.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
