import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chooseReleases } from './discover';
import { CliError } from './errors';
import { readManifests } from './manifests';
import { OutDir, readRecord, stageDirName } from './out-dir';
import { displayPath } from './paths';
import { clusterDomainOf, ReleaseRef, stageOf } from './release-view';
import { changesBetween, StageChanges } from './stage-diff';
import { CdkApp, loadApp, synthApp, synthInOneProcess } from './synth-app';
import { checkManifests } from '../routing/_registry';
import { readOptions } from '../safety/_engine';
import { SafetyViolation, Severity } from '../safety/safety-rule';

/** How manifests are read: the namespace of objects without one, the cluster DNS domain. */
export interface ReadFlags {
  readonly namespace?: string;
  readonly clusterDomain?: string;
}

export interface SynthesizeOptions extends ReadFlags {
  /** The cdk8s app directory (with cdk8s.yaml). */
  readonly app?: string;
  /** Stage directories written by an earlier `plan` (instead of `app`): read, not synthesized. */
  readonly stages?: string;
  /** Where the stage directories go; default `<app>/dist/stages`. */
  readonly out?: string;
  /** Write into a non-empty `out` that the CLI did not write. */
  readonly force?: boolean;
  /** `name` or `namespace/name` of the release to walk. */
  readonly release?: string;
  /** Synthesize each stage in a process of its own (for apps the one-process mode cannot drive). */
  readonly isolate?: boolean;
  /** How many stages to synthesize at once in isolated mode; default: the number of CPUs, at most 4. */
  readonly jobs?: number;
}

/** One synthesized stage. */
export interface StageResult {
  /** 0-based position in the plan. */
  readonly index: number;
  readonly name: string;
  /** `<out>/<NN>-<name>`. */
  readonly dir: string;
  /** Every object the app wrote for this stage. */
  readonly manifests: any[];
  /** What applying it after the previous stage creates, changes and deletes (all created for the first). */
  readonly changes: StageChanges;
  /** What rolling back from it to the previous stage creates, changes and deletes (none for the first). */
  readonly rollback: StageChanges;
  /** The safety check of this stage after the previous one, over all of the app's objects: errors first. */
  readonly violations: SafetyViolation[];
  /** The safety check of rolling back from it: the previous stage applied after this one. */
  readonly rollbackViolations: SafetyViolation[];
}

export interface PlanResult {
  /** The app directory (absolute). */
  readonly appDir: string;
  readonly outDir: string;
  readonly releases: ReleaseRef[];
  readonly stages: StageResult[];
  readonly read: ReadFlags;
}

/** Finds the release, synthesizes each stage of its plan into its own directory and checks every transition. */
export async function synthesizePlan(options: SynthesizeOptions, log: (message: string) => void): Promise<PlanResult> {
  if (options.stages !== undefined) {
    return readPlan(options);
  }
  if (options.app === undefined) {
    throw new CliError('pass --app <dir> (a cdk8s app) or --stages <dir> (the output of an earlier plan)');
  }
  const app = loadApp(options.app);
  const out = OutDir.claim(options.out ?? path.join(app.dir, 'dist', 'stages'), options.force ?? false);
  const work = out.scratch();
  try {
    let synthesized = options.isolate ? await synthIsolated(app, work, options, log) : await synthOneProcess(app, work, options, log);
    const read = (s: Synthesized) => s.releases[0].plan.map((name, i) => s.parsed?.get(stageDirName(i, name))
      ?? readManifests(s.dirs.get(name)!, { allowEmpty: true }).objects);
    let manifests = read(synthesized);
    const stale = synthesized.oneProcess && synthesized.releases[0].plan
      .find((name, i) => synthesized.releases.some((r) => stageOf(manifests[i], r, options.namespace) !== name));
    if (stale) {
      log(`with RELEASE_STAGE=${stale} the one-process synthesis gave another stage (does a module outside the app directory read `
        + 'RELEASE_STAGE when it is loaded?): synthesizing each stage in a process of its own');
      synthesized = await synthIsolated(app, work, options, log);
      manifests = read(synthesized);
    }
    const { releases, dirs } = synthesized;
    const plan = releases[0].plan;
    const names = plan.map((name, i) => stageDirName(i, name));
    const installed = plan.map((name, i) => out.install(dirs.get(name)!, names[i]));
    const flags: ReadFlags = { namespace: options.namespace, clusterDomain: clusterDomainOf(options.clusterDomain, releases) };
    out.finish({ app: app.dir, releases, stages: plan, ...flags }, names);
    return checkPlan(app.dir, out.dir, releases, manifests, installed, flags);
  } finally {
    removeQuietly(work);
  }
}

/** The stages synthesized into the scratch directory, by stage name; `oneProcess` when the hook drove the app. */
interface Synthesized {
  readonly releases: ReleaseRef[];
  readonly dirs: Map<string, string>;
  readonly oneProcess?: boolean;
  /** Stages parsed while the app ran, by directory name. */
  readonly parsed?: Map<string, any[]>;
}

/** One process for all stages; falls back to isolated mode when the hook cannot drive the app. */
async function synthOneProcess(app: CdkApp, work: string, options: SynthesizeOptions, log: (message: string) => void): Promise<Synthesized> {
  log(`synthesizing the stages of the app in ${displayPath(app.dir)} in one process...`);
  const outcome = await synthInOneProcess(app, work, { release: options.release, namespace: options.namespace });
  if (!outcome.driven) {
    log('the app could not be driven in one process (not a CommonJS Node.js main?): synthesizing each stage in a process of its own');
    return synthIsolated(app, work, options, log, outcome.manifests);
  }
  outcome.result.log.forEach(log);
  const { releases, stages } = outcome.result;
  const dirs = new Map(stages.map((name, i) => [name, path.join(work, stageDirName(i, name))]));
  return { releases, dirs, oneProcess: true, parsed: outcome.parsed };
}

/** One app process per stage (the app run once more first, to find the release, unless `found` is that run's output). */
async function synthIsolated(app: CdkApp, work: string, options: SynthesizeOptions, log: (message: string) => void, found?: any[]):
Promise<Synthesized> {
  const stageDir = (index: number, name: string) => path.join(work, stageDirName(index, name));
  if (found === undefined) {
    log('running the app once to find its releases...');
    found = await synthApp(app, path.join(work, 'discover'));
  }
  const { releases, synthesized } = await chooseReleases(found, (stage, dir) => synthApp(app, dir, stage),
    { release: options.release, namespace: options.namespace, stageDir, log });
  const plan = releases[0].plan;
  const todo = plan.map((name, index) => ({ name, index })).filter((s) => !synthesized.has(s.name));
  log(`synthesizing ${todo.length} stage${todo.length === 1 ? '' : 's'} of ${releases.map((r) => r.name).join(', ')}, one process each...`);
  await inParallel(todo, options.jobs ?? Math.min(4, os.availableParallelism()), async ({ name, index }) => {
    await synthApp(app, stageDir(index, name), name);
  });
  return { releases, dirs: new Map(plan.map((name, i) => [name, stageDir(i, name)])) };
}

/** The plan recorded in a directory written by an earlier `plan` (`--stages`). */
function readPlan(options: SynthesizeOptions): PlanResult {
  const dir = path.resolve(options.stages!);
  const record = readRecord(dir);
  if (!record?.stages || !record.releases || record.releases.length === 0) {
    throw new CliError(`${displayPath(dir)} holds no plan written by mesh-release plan (its .mesh-release.json is missing or incomplete)`);
  }
  const dirs = record.stages.map((name, i) => path.join(dir, stageDirName(i, name)));
  const read = {
    namespace: options.namespace ?? record.namespace,
    clusterDomain: clusterDomainOf(options.clusterDomain ?? record.clusterDomain, record.releases),
  };
  return checkPlan(record.app ?? dir, dir, record.releases, dirs.map((d) => readManifests(d, { allowEmpty: true }).objects), dirs, read);
}

function checkPlan(appDir: string, outDir: string, releases: ReleaseRef[], manifests: any[][], dirs: string[], read: ReadFlags): PlanResult {
  const plan = releases[0].plan;
  const options = readOptions(read.namespace, read.clusterDomain);
  const stages = plan.map((name, index): StageResult => {
    for (const release of releases) {
      const actual = stageOf(manifests[index], release, read.namespace);
      if (actual !== name) {
        throw new CliError(`with RELEASE_STAGE=${name} the app synthesized release ${release.name} at stage '${actual ?? '(none)'}': `
          + 'the app must choose the stage of this release from process.env.RELEASE_STAGE');
      }
    }
    const previous = index > 0 ? manifests[index - 1] : undefined;
    return {
      index,
      name,
      dir: dirs[index],
      manifests: manifests[index],
      changes: changesBetween(manifests[index], previous, options.namespace),
      rollback: previous ? changesBetween(previous, manifests[index], options.namespace) : { created: [], changed: [], deleted: [] },
      violations: checkManifests(manifests[index], previous, options),
      rollbackViolations: previous ? checkManifests(previous, manifests[index], options) : [],
    };
  });
  return { appDir, outDir, releases, stages, read };
}

export function errorsIn(violations: SafetyViolation[]): SafetyViolation[] {
  return violations.filter((v) => v.severity === Severity.ERROR);
}

function removeQuietly(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // a scratch directory left behind is harmless (hidden, and never read as manifests)
  }
}

/** Runs `fn` on every item, `jobs` at a time; after a failure starts no new item, then throws the failure of the first item. */
async function inParallel<T>(items: T[], jobs: number, fn: (item: T) => Promise<void>): Promise<void> {
  const failures = new Map<number, unknown>();
  let next = 0;
  const worker = async () => {
    while (failures.size === 0 && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]);
      } catch (e) {
        failures.set(i, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (failures.size > 0) {
    throw failures.get(Math.min(...failures.keys()));
  }
}
