import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MeshRelease } from '../mesh-release';
import { CliError } from './errors';
import { ReleaseRef, releasesIn } from './release-view';
import { CdkApp, synthApp } from './synth-app';

/** The release(s) whose plan the CLI walks, and any stage already synthesized while finding them. */
export interface Discovery {
  /** The selected releases; they all have the same plan. */
  readonly releases: ReleaseRef[];
  /** Manifests of stages synthesized while probing, by stage name (already in their stage directory). */
  readonly synthesized: Map<string, any[]>;
}

export interface DiscoverOptions {
  /** `name` or `namespace/name` of the release's VirtualService. */
  readonly release?: string;
  /** Directory a stage is synthesized to, from its 0-based index in the plan. */
  readonly stageDir: (index: number, stage: string) => string;
  /** Progress messages. */
  readonly log: (message: string) => void;
}

/**
 * Finds the release whose stage `RELEASE_STAGE` chooses:
 * 1. the app is run once (with the environment as is) and every VirtualService with the
 *    `mesh-release.io/plan-stages` annotation is a candidate;
 * 2. `--release` picks one by name; otherwise, when all candidates share one plan, they are taken;
 * 3. otherwise each distinct plan is probed in turn: the app is run with `RELEASE_STAGE` set to a stage
 *    of that plan other than the one it is at, and the plan whose releases then report that stage wins
 *    (the probe's output is kept as that stage's output).
 */
export async function discoverRelease(app: CdkApp, options: DiscoverOptions): Promise<Discovery> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-release-'));
  let candidates: ReleaseRef[];
  try {
    options.log('running the app once to find its releases...');
    candidates = releasesIn(await synthApp(app, tmp));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (candidates.length === 0) {
    throw new CliError(`the app's output has no VirtualService with the ${MeshRelease.PLAN_ANNOTATION} annotation: is it a MeshRelease app?`);
  }
  const synthesized = new Map<string, any[]>();
  if (options.release !== undefined) {
    return { releases: [byName(candidates, options.release)], synthesized };
  }
  const plans = [...new Set(candidates.map((c) => c.plan.join(',')))];
  if (plans.length === 1) {
    return { releases: candidates, synthesized };
  }
  let lastFailure: CliError | undefined;
  for (const plan of plans) {
    const group = candidates.filter((c) => c.plan.join(',') === plan);
    const stages = group[0].plan;
    const index = stages.findIndex((s) => group.every((c) => c.stage !== s));
    if (index < 0) {
      continue;
    }
    const probe = stages[index];
    options.log(`several releases; probing RELEASE_STAGE=${probe} (plan of ${group.map((c) => c.name).join(', ')})...`);
    try {
      const manifests = await synthApp(app, options.stageDir(index, probe), probe);
      const driven = releasesIn(manifests).filter((r) => r.stage === probe && group.some((c) => same(c, r)));
      if (driven.length > 0) {
        synthesized.set(probe, manifests);
        return { releases: group.filter((c) => driven.some((r) => same(c, r))), synthesized };
      }
    } catch (e) {
      if (!(e instanceof CliError)) {
        throw e;
      }
      lastFailure = e;
    }
  }
  throw new CliError(`cannot tell which release RELEASE_STAGE drives; pass --release with one of: ${describe(candidates)}`,
    undefined, lastFailure && `${lastFailure.message}\n${lastFailure.details ?? ''}`);
}

function byName(candidates: ReleaseRef[], wanted: string): ReleaseRef {
  const matches = candidates.filter((c) => c.name === wanted || `${c.namespace}/${c.name}` === wanted);
  if (matches.length === 1) {
    return matches[0];
  }
  throw new CliError(matches.length === 0
    ? `unknown release '${wanted}'; the app's releases are: ${describe(candidates)}`
    : `release '${wanted}' is ambiguous; use <namespace>/<name>: ${matches.map((c) => `${c.namespace}/${c.name}`).join(', ')}`);
}

function same(a: ReleaseRef, b: ReleaseRef): boolean {
  return a.name === b.name && a.namespace === b.namespace;
}

function describe(releases: ReleaseRef[]): string {
  return releases.map((r) => `${r.name} (namespace ${r.namespace}, stages ${r.plan.join(', ')})`).join('; ');
}
