/**
 * A plan is checked on what its stages emit: each stage is rendered by a `MeshRelease` of a
 * sample app (default props, Istio router) and checked after the one before it.
 */
import { renderChart } from '../_render';
import { formatValue } from '../_validation';
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

/**
 * Renders a plan's stages in order with one sample release's props: a version's objects are built once per
 * scaling (floor) and taken over by the next stages that keep it (see `MeshRelease._renderStage`).
 */
class SampleRenderer {
  private base?: MeshRelease;
  private known: ReturnType<MeshRelease['_render']>['byVersion'] = new Map();

  constructor(private readonly names: string[]) {}

  /** The objects a sample release of the plan's versions emits at `stage`. */
  public render(stage: ReleaseStage): any[] {
    const key = JSON.stringify([this.names, stageRenderKey(stage)]);
    let manifests = RENDERS.get(key);
    if (manifests) {
      return manifests;
    }
    if (!this.base) {
      const versions = this.names.map((version) => ({ version, image: `example/app:${version}` }));
      // A version's objects are named '<app>-<version>' (at most 63 characters): with a long version, the shortest app
      // name, so the plan takes every version some app can deploy (see MAX_DEPLOYABLE_VERSION).
      const app = this.names.some((version) => `app-${version}`.length > 63) ? 'a' : 'app';
      this.base = new MeshRelease(renderChart(SAMPLE_NAMESPACE), 'plan', { app, port: 8080, versions, stage });
    }
    const rendered = this.base.stage === stage ? this.base._render() : this.base._renderStage(stage, this.known);
    manifests = rendered.manifests;
    this.known = rendered.byVersion;
    if (RENDERS.size >= MAX_RENDERS) {
      RENDERS.delete(RENDERS.keys().next().value!);
    }
    RENDERS.set(key, manifests);
    return manifests;
  }
}

/**
 * Longest version a release can deploy: its Deployment (and, with the Gateway API, its Service) is named
 * `<app>-<version>`, at most 63 characters, and an app name has at least one.
 */
const MAX_DEPLOYABLE_VERSION = 61;

/** Throws at the first stage that is unsafe on its own or after the stage before it. */
export function checkPlan(stages: ReleaseStage[]): void {
  const names = [...new Set(stages.flatMap((s) => s.versions))];
  const long = names.find((version) => version.length > MAX_DEPLOYABLE_VERSION);
  if (long !== undefined) {
    throw new Error(`ReleasePlan: 'version' must be at most ${MAX_DEPLOYABLE_VERSION} characters: a version's objects are named `
      + `'<app>-<version>', at most 63 characters, even with an app of one letter (it is ${long.length}), got ${formatValue(long)}`);
  }
  const renderer = new SampleRenderer(names);
  let previous: any[] | undefined;
  for (const stage of stages) {
    const current = renderer.render(stage);
    throwIfUnsafe(checkManifests(current, previous, readOptions(SAMPLE_NAMESPACE)),
      `ReleasePlan stage '${stage.name}'${stage.previous ? ` (after '${stage.previous.name}')` : ''}`);
    previous = current;
  }
}
