import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { CliError } from './errors';
import { readManifests } from './manifests';
import { displayPath } from './paths';

/** A cdk8s app: its directory and the command of the `app:` key of its cdk8s.yaml. */
export interface CdkApp {
  readonly dir: string;
  readonly command: string;
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
  return { dir: path.resolve(dir), command: config.app };
}

/**
 * Runs the app once into `outdir` (emptied first) with `CDK8S_OUTDIR` set, and `RELEASE_STAGE`
 * when `stage` is given (else the variable is inherited), and returns the manifests it wrote.
 * The command runs through a shell, in the app's directory. A failure throws a `CliError`
 * carrying the app's stderr
 * (its stdout when stderr is empty).
 */
export async function synthApp(app: CdkApp, outdir: string, stage?: string): Promise<any[]> {
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  const env = { ...process.env, CDK8S_OUTDIR: path.resolve(outdir), ...(stage === undefined ? {} : { RELEASE_STAGE: stage }) };
  const { code, signal, stdout, stderr } = await run(app.command, app.dir, env);
  const inherited = process.env.RELEASE_STAGE === undefined ? '' : ` with RELEASE_STAGE=${process.env.RELEASE_STAGE} from the environment`;
  const what = stage === undefined ? `the app in ${displayPath(app.dir)}${inherited}` : `stage '${stage}' of the app in ${displayPath(app.dir)}`;
  if (code !== 0) {
    throw new CliError(`${what} failed to synthesize (\`${app.command}\` ${signal ? `killed by ${signal}` : `exited with ${code}`}); its stderr:`,
      undefined, stderr.trim() || stdout.trim() || '(no output)');
  }
  try {
    return readManifests(outdir).objects;
  } catch (e) {
    throw new CliError(`${what} wrote no manifests to CDK8S_OUTDIR: ${(e as Error).message}`);
  }
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
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
