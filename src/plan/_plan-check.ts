/**
 * A plan is checked on what its stages emit: each stage is rendered by a `MeshRelease` of a
 * sample app (default props, Istio router) and checked after the one before it.
 */
import { renderChart } from '../_render';
import { MeshRelease } from '../mesh-release';
import { stageRenderKey } from './_stage-key';
import { ReleaseStage } from './release-stage';
import { checkManifests, readOptions, throwIfUnsafe } from '../safety/_engine';

const SAMPLE_NAMESPACE = 'default';

/**
 * Renders already made, by what decides them (the stage, its neighbours' weights for the
 * autoscaler floors, the versions): apps and tests make the same plans again and again (an app
 * run by the CLI makes its plans once per stage).
 */
const RENDERS = new Map<string, any[]>();
const MAX_RENDERS = 256;

/** The objects a sample release of `versions` emits at `stage`. */
function render(stage: ReleaseStage, names: string[]): any[] {
  const key = JSON.stringify([names, stageRenderKey(stage)]);
  let manifests = RENDERS.get(key);
  if (!manifests) {
    const chart = renderChart(SAMPLE_NAMESPACE);
    const versions = names.map((version) => ({ version, image: `example/app:${version}` }));
    new MeshRelease(chart, 'plan', { app: 'app', port: 8080, versions, stage });
    manifests = chart.toJson();
    if (RENDERS.size >= MAX_RENDERS) {
      RENDERS.delete(RENDERS.keys().next().value!);
    }
    RENDERS.set(key, manifests);
  }
  return manifests;
}

/** Throws at the first stage that is unsafe on its own or after the stage before it. */
export function checkPlan(stages: ReleaseStage[]): void {
  const versions = [...new Set(stages.flatMap((s) => s.versions))];
  let previous: any[] | undefined;
  for (const stage of stages) {
    const current = render(stage, versions);
    throwIfUnsafe(checkManifests(current, previous, readOptions(SAMPLE_NAMESPACE)),
      `ReleasePlan stage '${stage.name}'${stage.previous ? ` (after '${stage.previous.name}')` : ''}`);
    previous = current;
  }
}
