import { DNS_1123_LABEL, PLAN_ANNOTATION } from '../_conventions';
import { CliError } from './errors';
import { ReleaseRef, releasesIn } from './release-view';

/** Synthesizes the app at `stage` into `dir` and returns its manifests. */
export type StageSynth = (stage: string, dir: string) => Promise<any[]>;

/** The release(s) whose plan the CLI walks, and the stages already synthesized while finding them. */
export interface Discovery {
  /** The selected releases; they all have the same plan. */
  readonly releases: ReleaseRef[];
  /** Manifests of stages synthesized while probing, by stage name (already in their stage directory). */
  readonly synthesized: Map<string, any[]>;
}

export interface DiscoverOptions {
  /** `name` or `namespace/name` of the release's annotated object. */
  readonly release?: string;
  /** Directory a stage is synthesized to, from its 0-based index in the plan. */
  readonly stageDir: (index: number, stage: string) => string;
  /** Progress messages. */
  readonly log: (message: string) => void;
  /** Namespace of objects without one. */
  readonly namespace?: string;
}

/**
 * Chooses the release whose stage `RELEASE_STAGE` chooses, from the app's output with the environment as is:
 * 1. every VirtualService, HTTPRoute or Service with the `mesh-release.io/plan-stages` annotation is a candidate;
 * 2. `--release` picks one by name; otherwise, when all candidates share one plan, they are taken;
 * 3. otherwise each distinct plan is probed in turn: the app is synthesized with `RELEASE_STAGE` set to a stage
 *    of that plan other than the one it is at, and the plan whose releases then report that stage wins
 *    (the probe's output is kept as that stage's output).
 * Plans whose stage names cannot name a directory are refused first.
 */
export async function chooseReleases(found: any[], probe: StageSynth, options: DiscoverOptions): Promise<Discovery> {
  const candidates = releasesIn(found, options.namespace);
  if (candidates.length === 0) {
    throw new CliError(`the app's output has no VirtualService, HTTPRoute or Service with the ${PLAN_ANNOTATION} annotation: is it a MeshRelease app?`);
  }
  const synthesized = new Map<string, any[]>();
  if (options.release !== undefined) {
    const release = byName(candidates, options.release);
    checkPlan(release);
    return { releases: [release], synthesized };
  }
  candidates.forEach(checkPlan);
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
    const stage = stages[index];
    options.log(`several releases; probing RELEASE_STAGE=${stage} (plan of ${group.map((c) => c.name).join(', ')})...`);
    try {
      const manifests = await probe(stage, options.stageDir(index, stage));
      const driven = releasesIn(manifests, options.namespace).filter((r) => r.stage === stage && group.some((c) => same(c, r)));
      if (driven.length > 0) {
        synthesized.set(stage, manifests);
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

/** Stage names become directory names and CLI arguments: DNS-1123 labels (at most 63 characters). */
function checkPlan(release: ReleaseRef): void {
  const bad = release.plan.find((name) => !DNS_1123_LABEL.test(name));
  if (bad !== undefined || release.plan.length === 0) {
    const shown = bad === undefined ? '(no stage)' : bad.length > 70 ? `'${bad.slice(0, 60)}…' (${bad.length} characters)` : `'${bad}'`;
    throw new CliError(`release ${release.name} has an invalid ${PLAN_ANNOTATION} annotation: stage names must be lowercase letters, `
      + `digits and '-', at most 63 characters (they name directories), got ${shown}`);
  }
  if (new Set(release.plan).size !== release.plan.length) {
    throw new CliError(`release ${release.name} has an invalid ${PLAN_ANNOTATION} annotation: a stage name appears twice in '${release.plan.join(',')}'`);
  }
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
