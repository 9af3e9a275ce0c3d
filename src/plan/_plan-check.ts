/**
 * A plan is checked on what its stages emit: each stage is rendered by a `MeshRelease` of a
 * sample app (default props, Istio router) and checked after the one before it.
 */
import { renderChart } from '../_render';
import { MeshRelease } from '../mesh-release';
import { checkManifests, readOptions, throwIfUnsafe } from '../safety/_engine';
import { ReleaseStage } from './release-stage';

const SAMPLE_NAMESPACE = 'default';

/** The objects a sample release of `versions` emits at `stage`. */
function render(stage: ReleaseStage, names: string[]): any[] {
  const chart = renderChart(SAMPLE_NAMESPACE);
  const versions = names.map((version) => ({ version, image: `example/app:${version}` }));
  new MeshRelease(chart, 'plan', { app: 'app', port: 8080, versions, stage });
  return chart.toJson();
}

/** Throws when `stage` is unsafe on its own or after its previous stage. */
export function checkPlanTransition(stage: ReleaseStage): void {
  const versions = [...new Set([...stage.versions, ...stage.previous?.versions ?? []])];
  const violations = checkManifests(render(stage, versions), stage.previous && render(stage.previous, versions), readOptions(SAMPLE_NAMESPACE));
  throwIfUnsafe(violations, `ReleasePlan stage '${stage.name}'${stage.previous ? ` (after '${stage.previous.name}')` : ''}`);
}
