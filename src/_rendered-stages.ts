/**
 * Stages as releases rendered them when built (before any user patch), by the stage's contents and
 * the release's props: building a plan's stages in order (tests; the CLI, which runs an app once
 * per stage in one process), the release of the next stage reuses them as its previous stage
 * instead of rendering it again.
 */
import { stageRenderKey } from './plan/_stage-key';
import { ReleaseStage } from './plan/release-stage';

/**
 * Set (to true) on `globalThis` by the CLI's synth hook (`mesh-release plan` / `runbook`), which
 * builds an app's stages in order in one process and synthesizes each right after building it:
 * every release's render is then kept for the next stage (not only a few), and a release checks
 * its objects once, as they are synthesized (see `MeshRelease`).
 */
export const CLI_SYNTH = Symbol.for('cdk8s-mesh-release.cli-synth');

/** Whether the CLI's synth hook drives this process (see `CLI_SYNTH`). */
export function synthesizedByCli(): boolean {
  return (globalThis as any)[CLI_SYNTH] === true;
}

/** Renders per stage kept when nothing says the stages are built in order: enough for tests, bounded for apps of thousands of releases. */
const PER_STAGE = 8;
/** Stages kept: the one being built and the few before it. */
const STAGES = 4;

const RENDERED = new Map<string, Map<string, any[]>>();

/**
 * The props of a release, as a key; undefined when JSON does not spell them exactly: constructs (cycles), or
 * functions, e.g. a `Lazy` value, whose result JSON cannot see (two such props would share a key).
 */
function propsKey(namespace: string, props: object): string | undefined {
  let exact = true;
  try {
    const key = JSON.stringify([namespace, { ...props, stage: undefined }], (_key, value) => {
      if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
        exact = false;
        return undefined;
      }
      return value;
    });
    return exact ? key : undefined;
  } catch {
    return undefined;
  }
}

/** What a release with these props emitted at `stage`, if one did. */
export function renderedStage(stage: ReleaseStage, namespace: string, props: object): any[] | undefined {
  const key = propsKey(namespace, props);
  return key === undefined ? undefined : RENDERED.get(stageRenderKey(stage))?.get(key);
}

/** Remembers what a release with these props emitted at `stage`. */
export function rememberRender(stage: ReleaseStage, namespace: string, props: object, manifests: any[]): void {
  const key = propsKey(namespace, props);
  if (key === undefined) {
    return;
  }
  const stageKey = stageRenderKey(stage);
  let byProps = RENDERED.get(stageKey);
  if (!byProps) {
    byProps = new Map<string, any[]>();
    RENDERED.set(stageKey, byProps);
    if (RENDERED.size > STAGES) {
      RENDERED.delete(RENDERED.keys().next().value!);
    }
  }
  byProps.set(key, manifests);
  if (byProps.size > PER_STAGE && !synthesizedByCli()) {
    byProps.delete(byProps.keys().next().value!);
  }
}
