/**
 * The analysis and pauses of a release, read back from its synthesized YAML (the `mesh-release.io/rollout`
 * annotation its `MeshRelease` writes on the object carrying the plan's stages, whatever the router): a driver of
 * the release needs nothing else than the stage directories (`--stages DIR` on CI artifacts). Loads no cdk8s.
 */
import { ROLLOUT_ANNOTATION } from '../_conventions';
import { CliError } from './errors';
import { ReleaseRef, releaseObjectOf } from './release-view';
import { parseRolloutSpec, RolloutSpec } from '../analysis/_spec';

/**
 * The rollout spec of `release` in one stage's manifests: undefined when its plan has neither analysis nor pauses;
 * a `CliError` naming the object, the field and what is valid when the annotation is not one MeshRelease writes.
 */
export function rolloutIn(manifests: any[], release: ReleaseRef, defaultNamespace?: string): RolloutSpec | undefined {
  const object = releaseObjectOf(manifests, release, defaultNamespace);
  const text = object?.metadata?.annotations?.[ROLLOUT_ANNOTATION];
  if (text === undefined) {
    return undefined;
  }
  const where = `release ${release.name} (${release.kind}/${release.name} in namespace ${release.namespace})`;
  if (typeof text !== 'string') {
    throw new CliError(`${where}: annotation ${ROLLOUT_ANNOTATION} must be a string of JSON, got ${JSON.stringify(text)}`);
  }
  try {
    return parseRolloutSpec(text, release.plan, where);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/**
 * The rollout spec of `release` across its plan's stages (`stages[i]`: the manifests of the i-th stage): the same in
 * every stage that has the release's object, or a `CliError` naming the first two stages that disagree (a stage
 * directory edited by hand, or synthesized from another version of the app).
 */
export function rolloutOfPlan(stages: any[][], release: ReleaseRef, defaultNamespace?: string): RolloutSpec | undefined {
  let first: { stage: string; text: string; spec: RolloutSpec | undefined } | undefined;
  stages.forEach((manifests, i) => {
    if (!releaseObjectOf(manifests, release, defaultNamespace)) {
      return;
    }
    const spec = rolloutIn(manifests, release, defaultNamespace);
    const text = JSON.stringify(spec ?? null);
    const stage = release.plan[i] ?? `#${i + 1}`;
    if (!first) {
      first = { stage, text, spec };
    } else if (text !== first.text) {
      throw new CliError(`release ${release.name}: the ${ROLLOUT_ANNOTATION} annotation of stage '${stage}' differs from the one of stage '${first.stage}': `
        + 'every stage of a plan carries the same analysis and pauses; synthesize the stages again from one version of the app');
    }
  });
  return first?.spec;
}
