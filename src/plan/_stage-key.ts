/**
 * What a stage's rendering depends on, as a key: a release emits the same objects for two stage
 * objects with equal keys (apps run by the CLI, and tests, make the same plans again and again).
 */
import { ReleaseStage } from './release-stage';

/** The fields of one stage that its objects follow. */
function contents(stage: ReleaseStage | undefined): unknown {
  return stage && [stage.name, stage.deployed, stage.subsets, stage.weights, stage.headerRoutes, stage.mirror];
}

/**
 * The key of a stage's rendering: its own contents, its neighbours' (autoscaler floors follow the
 * weights of the stages before and after it) and the names of its plan (the plan annotation).
 */
export function stageRenderKey(stage: ReleaseStage): string {
  return JSON.stringify([stage.planStageNames, contents(stage), contents(stage.previous), contents(stage.next)]);
}
