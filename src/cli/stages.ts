import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MeshRelease } from '../mesh-release';
import { SafetyCheck } from '../safety/safety-check';
import { SafetyViolation } from '../safety/safety-rule';
import { discoverRelease } from './discover';
import { CliError } from './errors';
import { displayPath } from './paths';
import { ReleaseRef, virtualServiceOf } from './release-view';
import { CdkApp, loadApp, synthApp } from './synth-app';

export interface SynthesizeOptions {
  /** The cdk8s app directory (with cdk8s.yaml). */
  readonly app: string;
  /** Where the stage directories go; default `<app>/dist/stages`. */
  readonly out?: string;
  /** `name` or `namespace/name` of the release to walk. */
  readonly release?: string;
  /** How many stages to synthesize at once; default: the number of CPUs, at most 4. */
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
  /** `SafetyCheck.check(this stage, previous stage)` over all of the app's objects. */
  readonly violations: SafetyViolation[];
}

export interface PlanResult {
  readonly app: CdkApp;
  readonly outDir: string;
  readonly releases: ReleaseRef[];
  readonly stages: StageResult[];
}

/** `01-stable`: the 1-based, two-digit position and the name of a stage. */
export function stageDirName(index: number, name: string): string {
  return `${String(index + 1).padStart(2, '0')}-${name}`;
}

/** Finds the release, synthesizes each stage of its plan into its own directory and checks every transition. */
export async function synthesizePlan(options: SynthesizeOptions, log: (message: string) => void): Promise<PlanResult> {
  const app = loadApp(options.app);
  const outDir = path.resolve(options.out ?? path.join(app.dir, 'dist', 'stages'));
  const stageDir = (index: number, name: string) => path.join(outDir, stageDirName(index, name));
  const { releases, synthesized } = await discoverRelease(app, { release: options.release, stageDir, log });
  const plan = releases[0].plan;
  const badName = plan.find((name) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name));
  if (badName !== undefined || plan.length === 0) {
    throw new CliError(`release ${releases[0].name} has an invalid ${MeshRelease.PLAN_ANNOTATION} annotation: `
      + `stage names must be lowercase letters, digits and '-', got '${plan.join(',')}'`);
  }
  removeStaleStageDirs(outDir, plan.map((name, i) => stageDirName(i, name)));

  const todo = plan.map((name, index) => ({ name, index })).filter((s) => !synthesized.has(s.name));
  log(`synthesizing ${todo.length} stage${todo.length === 1 ? '' : 's'} of ${releases.map((r) => r.name).join(', ')} into ${displayPath(outDir)}...`);
  const manifests = await inParallel(todo, options.jobs ?? Math.min(4, os.availableParallelism()), async ({ name, index }) => {
    synthesized.set(name, await synthApp(app, stageDir(index, name), name));
  }).then(() => plan.map((name) => synthesized.get(name)!));

  const stages = plan.map((name, index) => {
    for (const release of releases) {
      const actual = virtualServiceOf(manifests[index], release)?.metadata?.annotations?.[MeshRelease.STAGE_ANNOTATION];
      if (actual !== name) {
        throw new CliError(`with RELEASE_STAGE=${name} the app synthesized release ${release.name} at stage '${actual ?? '(none)'}': `
          + 'the app must choose the stage of this release from process.env.RELEASE_STAGE');
      }
    }
    const violations = SafetyCheck.check(manifests[index], index > 0 ? manifests[index - 1] : undefined);
    return { index, name, dir: stageDir(index, name), manifests: manifests[index], violations };
  });
  return { app, outDir, releases, stages };
}

/** Removes `NN-name` directories of an earlier run that are not stages of this plan. */
function removeStaleStageDirs(outDir: string, keep: string[]): void {
  if (!fs.existsSync(outDir)) {
    return;
  }
  for (const entry of fs.readdirSync(outDir, { withFileTypes: true })) {
    if (entry.isDirectory() && /^[0-9]{2,}-[a-z0-9-]+$/.test(entry.name) && !keep.includes(entry.name)) {
      fs.rmSync(path.join(outDir, entry.name), { recursive: true, force: true });
    }
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
