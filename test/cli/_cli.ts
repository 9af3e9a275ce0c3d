/**
 * Shared harness of the CLI tests: the built CLI (`_build.ts`) run as a process, or the sources run in
 * this process; temporary directories; fake apps.
 */
import { spawn, spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { cliBuild, ROOT } from './_build';

export { cliBuild, ROOT };
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'cli');
export const EXAMPLE = path.join('examples', 'helloworld');

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mesh-release <args>` from the repository root (RELEASE_STAGE unset unless given in `env`). */
export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Run {
  const env = { ...process.env, ...options.env };
  if (!options.env || !('RELEASE_STAGE' in options.env)) {
    delete env.RELEASE_STAGE;
  }
  const result = spawnSync(process.execPath, [path.join(cliBuild(), 'cli', 'main.js'), ...args], {
    cwd: options.cwd ?? ROOT, env, encoding: 'utf8', timeout: 300_000,
  } as SpawnSyncOptions);
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

export function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-test-'));
  tmpDirs.push(dir);
  return dir;
}

/** One stage of a fake app: [deployed versions, subsets, weights]. */
export type FakeStage = [string[], string[], { [version: string]: number }];

/**
 * A fake cdk8s app (plain node, fast) writing one Istio release as JSON (valid YAML) to $CDK8S_OUTDIR,
 * through a real `cdk8s.App`-like object (`synth()`), so the one-process mode drives it.
 * `stages` maps a stage name to [deployed versions, subsets, weights].
 */
export function fakeApp(stages: { [stage: string]: FakeStage }, options: { ignoreStage?: boolean; esm?: boolean; name?: string } = {}): string {
  const dir = tmpDir();
  const app = options.name ?? 'web';
  const script = `
const fs = require('fs');
const stages = ${JSON.stringify(stages)};
const names = Object.keys(stages);
const stage = ${options.ignoreStage ? 'names[0]' : 'process.env.RELEASE_STAGE || names[0]'};
if (!stages[stage]) { console.error('unknown stage ' + stage); process.exit(1); }
const [deployed, subsets, weights] = stages[stage];
const ns = 'shop';
const app = ${JSON.stringify(app)};
const host = app + '.shop.svc.cluster.local';
const objects = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: app, namespace: ns }, spec: { selector: { app }, ports: [{ name: 'http', port: 80 }] } },
  ...deployed.map((v) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app + '-' + v, namespace: ns },
    spec: { replicas: 2, selector: { matchLabels: { app, version: v } }, template: { metadata: { labels: { app, version: v } }, spec: { containers: [{ name: 'app', image: 'example/' + app + ':' + v }] } } } })),
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: app, namespace: ns },
    spec: { host, subsets: subsets.map((v) => ({ name: v, labels: { version: v } })) } },
  { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService',
    metadata: { name: app, namespace: ns, annotations: { 'mesh-release.io/stage': stage, 'mesh-release.io/plan-stages': names.join(',') } },
    spec: { hosts: [host], http: [{ route: Object.entries(weights).map(([v, w]) => ({ destination: { host, subset: v }, weight: w })) }] } },
];
fs.mkdirSync(process.env.CDK8S_OUTDIR, { recursive: true });
fs.writeFileSync(process.env.CDK8S_OUTDIR + '/' + app + '.k8s.yaml', objects.map((o) => JSON.stringify(o)).join('\\n---\\n'));
`;
  fs.writeFileSync(path.join(dir, options.esm ? 'app.mjs' : 'app.js'), script.replace("const fs = require('fs');", options.esm ? "import fs from 'fs';" : "const fs = require('fs');"));
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), `app: node ${options.esm ? 'app.mjs' : 'app.js'}\n`);
  return dir;
}

/** Runs a command, for tests that need a tool (bash, shellcheck). */
export function run(command: string, args: string[], options: SpawnSyncOptions = {}): Run {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  return { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') + (result.error ? String(result.error) : '') };
}

/**
 * `run` without blocking the event loop: a test file can run several commands, and tests, at once (tests whose
 * commands mostly wait: a poll loop's sleep, a timeout). After `timeout` ms the command and the processes it started
 * (its process group) are killed, and stderr ends with the reason.
 */
export function runAsync(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let error = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (e) => {
      error += String(e);
    });
    const timer = options.timeout === undefined ? undefined : setTimeout(() => {
      error += `Error: ${command} did not end within ${options.timeout} ms: killed`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // It ended meanwhile.
      }
    }, options.timeout);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') + error });
    });
  });
}

/**
 * Runs `mesh-release <args>` in this process (the sources, through the jest transform), capturing its output: much
 * faster than a process for commands that do not synthesize (schemas compile once per test file).
 */
export async function cliInProcess(args: string[]): Promise<Run> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { main } = require('../../src/cli/program') as typeof import('../../src/cli/program');
  return captured(() => main(['node', 'mesh-release', ...args]));
}

/**
 * Runs `mesh-release <args>` of the built CLI (`cliBuild()`) in this process, capturing its output, with `env` set
 * as `cli()` gives it to a process (RELEASE_STAGE unset unless given). For commands that run an app: the app still
 * runs as a process of its own, with the built synth hook (from the sources, the hook would need ts-node in every
 * app process), and the test saves a process that starts Node.js and loads the CLI (~0.25 s of CPU per command).
 * What only a process shows (exit codes set by `main.ts`, output written on exit) is tested with `cli()`.
 */
export async function cliBuiltInProcess(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { main } = require(path.join(cliBuild(), 'cli', 'program.js')) as typeof import('../../src/cli/program');
  const env = { ...options.env };
  if (!('RELEASE_STAGE' in env)) {
    env.RELEASE_STAGE = undefined;
  }
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const set = (values: NodeJS.ProcessEnv) => Object.entries(values).forEach(([key, value]) => {
    if (value === undefined) {
      delete process.env[key];
    } else {
      process.env[key] = value;
    }
  });
  set(env);
  try {
    return await captured(() => main(['node', 'mesh-release', ...args]));
  } finally {
    set(saved);
  }
}

/** What `command` (a CLI's `main`) returned and printed, through console and process.stdout/stderr. */
async function captured(command: () => Promise<number>): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => { out.push(String(chunk).replace(/\n$/, '')); return true; });
  const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => { err.push(String(chunk).replace(/\n$/, '')); return true; });
  try {
    const status = await command();
    const text = (lines: string[]) => (lines.length > 0 ? `${lines.join('\n')}\n` : '');
    return { status, stdout: text(out), stderr: text(err) };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
    writeErr.mockRestore();
  }
}

/** A port of 127.0.0.1 nothing listens on (it was free a moment ago): a server that does not answer. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
