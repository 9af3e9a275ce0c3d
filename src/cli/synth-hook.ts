/**
 * Synthesizes every stage of a cdk8s app in ONE process: `mesh-release plan` and `runbook` run the
 * app's command once with this file preloaded (`NODE_OPTIONS=--require <this file>`) and the
 * `MESH_RELEASE_SYNTH` variable set (see `synth-app.ts`).
 *
 * In the first Node.js process of the command whose main module is not inside a `node_modules`
 * directory (the app's own entry, e.g. `main.ts`, not `npx` or `ts-node`'s bin), the main module
 * is not loaded once but once per stage: each time with `RELEASE_STAGE` and `CDK8S_OUTDIR` set,
 * after the app's own modules (those under the app directory, outside node_modules) are removed
 * from the require cache. cdk8s, cdk8s-plus, ts-node and the library stay loaded, so a stage costs
 * its construct tree and its YAML, not a process start. The first load runs with the environment
 * as given and finds the release (as `discover.ts` does); results go to files in the scratch
 * directory (`result.json` or `error.json`), which the CLI reads.
 *
 * A stage is done when the app called `App.synth()` (patched to count calls): synchronously
 * during the load, or later for an app whose main is async; or, for an app that writes its
 * manifests some other way, when it has nothing left to do (the event loop drained). Processes the hook does not drive
 * (an ESM main, a Python app, a main under node_modules) leave no `result.json`: the CLI then
 * falls back to one process per stage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { beginStage, endStage, patchYaml, readCapture, writeCapture } from './_yaml-capture';
import type { HookControl, HookFailure, HookResult } from './synth-app';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require('module');

const CONTROL_ENV = 'MESH_RELEASE_SYNTH';
const SYNTH_PATCHED = Symbol.for('mesh-release.synth-patched');

let synthCount = 0;
let synthWaiter: (() => void) | undefined;

const raw = process.env[CONTROL_ENV];
if (raw) {
  let control: HookControl | undefined;
  try {
    control = JSON.parse(raw);
  } catch {
    control = undefined;
  }
  if (control && typeof control.work === 'string') {
    install(control);
  }
}

function install(control: HookControl): void {
  const originalLoad = Module._load;
  let claimed = false;
  Module._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean) {
    if (isMain && !claimed && isUserMain(request, parent) && claim(control)) {
      claimed = true;
      restoreEnvironment(control);
      drive(control, () => originalLoad.call(this, request, parent, true)).catch((e) => fail(control, e));
      return {};
    }
    // eslint-disable-next-line prefer-rest-params
    const exports = originalLoad.apply(this, arguments);
    if (request === 'cdk8s') {
      patchSynth(exports);
      patchYaml(exports);
    }
    return exports;
  };
}

function isUserMain(request: string, parent: unknown): boolean {
  try {
    const filename: string = Module._resolveFilename(request, parent, true);
    return !filename.split(path.sep).includes('node_modules');
  } catch {
    return false;
  }
}

/** The first process to claim the scratch directory drives the stages; its children (if the app spawns node) do not. */
function claim(control: HookControl): boolean {
  try {
    fs.closeSync(fs.openSync(path.join(control.work, 'claimed'), 'wx'));
    return true;
  } catch {
    return false;
  }
}

function restoreEnvironment(control: HookControl): void {
  delete process.env[CONTROL_ENV];
  if (control.nodeOptions === undefined) {
    delete process.env.NODE_OPTIONS;
  } else {
    process.env.NODE_OPTIONS = control.nodeOptions;
  }
}

/** Counts `App.synth()` calls of every copy of cdk8s the app loads. */
function patchSynth(cdk8s: any): void {
  const proto = cdk8s?.App?.prototype;
  if (!proto || typeof proto.synth !== 'function' || proto[SYNTH_PATCHED]) {
    return;
  }
  const synth = proto.synth;
  proto.synth = function patched(this: unknown, ...args: unknown[]) {
    const result = synth.apply(this, args);
    synthCount++;
    const waiter = synthWaiter;
    synthWaiter = undefined;
    waiter?.();
    return result;
  };
  proto[SYNTH_PATCHED] = true;
}

/**
 * Waits for the next `App.synth()`, or for the event loop to drain (`beforeExit`: an app that writes its
 * manifests without `App.synth()` is done when it has nothing left to do).
 */
function nextSynthOrIdle(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      synthWaiter = undefined;
      process.removeListener('beforeExit', idle);
      resolve();
    };
    // Node.js exits after 'beforeExit' unless the loop has work again: setImmediate gives it some.
    const idle = () => setImmediate(done);
    process.once('beforeExit', idle);
    synthWaiter = done;
  });
}

async function drive(control: HookControl, loadMain: () => unknown): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { CliError } = require('./errors') as typeof import('./errors');
  const { chooseReleases } = require('./discover') as typeof import('./discover');
  const { readManifests } = require('./manifests') as typeof import('./manifests');
  const { stageDirName } = require('./out-dir') as typeof import('./out-dir');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const log: string[] = [];
  let current: string | undefined;
  const inherited = process.env.RELEASE_STAGE;
  const synth = async (stage: string | undefined, dir: string, read: boolean = true): Promise<any[]> => {
    if (stage !== undefined) {
      process.env.RELEASE_STAGE = stage;
    } else if (inherited === undefined) {
      delete process.env.RELEASE_STAGE;
    } else {
      process.env.RELEASE_STAGE = inherited;
    }
    process.env.CDK8S_OUTDIR = dir;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(`${dir}.json`, { force: true });
    fs.mkdirSync(dir, { recursive: true });
    forgetUserModules(control.appDir);
    const before = synthCount;
    current = stage;
    beginStage();
    // If the app exits in the middle (process.exit), the CLI can still tell which stage it was at.
    fs.writeFileSync(path.join(control.work, 'current.json'), JSON.stringify({ stage }));
    loadMain();
    if (synthCount === before) {
      await nextSynthOrIdle();
    }
    writeCapture(dir, endStage(dir));
    // Tell the CLI this directory is complete: it reads it while the next stage synthesizes (another core).
    fs.mkdirSync(path.join(control.work, 'done'), { recursive: true });
    fs.writeFileSync(path.join(control.work, 'done', path.basename(dir)), '');
    // Only the discovery run and the probes are read here; the CLI reads the stages (once).
    return read ? readManifests(dir, { allowEmpty: true, documents: (files) => readCapture(dir, files) }).objects : [];
  };
  try {
    const found = await synth(undefined, path.join(control.work, 'discover'));
    const stageDir = (index: number, stage: string) => path.join(control.work, stageDirName(index, stage));
    const { releases, synthesized } = await chooseReleases(found, (stage, dir) => synth(stage, dir),
      { release: control.release, namespace: control.namespace, stageDir, log: (m) => log.push(m) });
    const plan = releases[0].plan;
    for (const [index, stage] of plan.entries()) {
      if (!synthesized.has(stage)) {
        await synth(stage, stageDir(index, stage), false);
      }
    }
    current = undefined;
    const result: HookResult = { releases, stages: plan, log };
    fs.writeFileSync(path.join(control.work, 'result.json'), JSON.stringify(result));
  } catch (e) {
    const failure: HookFailure = e instanceof CliError
      ? { kind: 'cli', stage: current, message: e.message, details: e.details, exitCode: e.exitCode, log }
      : { kind: 'app', stage: current, message: e instanceof Error ? e.message : String(e), log };
    fs.writeFileSync(path.join(control.work, 'error.json'), JSON.stringify(failure));
    throw e;
  }
}

function fail(control: HookControl, e: unknown): void {
  if (!fs.existsSync(path.join(control.work, 'error.json'))) {
    fs.writeFileSync(path.join(control.work, 'error.json'), JSON.stringify({ kind: 'app', message: String(e), log: [] }));
  }
  // As Node.js reports an uncaught error: the CLI shows the app's stderr.
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exitCode = 1;
}

/** Removes the app's own modules from the require cache, so that the next load runs them again. */
function forgetUserModules(appDir: string): void {
  const prefix = appDir.endsWith(path.sep) ? appDir : appDir + path.sep;
  for (const file of Object.keys(require.cache)) {
    if (file.startsWith(prefix) && !file.split(path.sep).includes('node_modules') && !file.startsWith(__dirname + path.sep)) {
      delete require.cache[file];
    }
  }
}
