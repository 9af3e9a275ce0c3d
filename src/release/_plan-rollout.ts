/**
 * A plan's rollout options (`analysis`, `pauseBefore`) checked against its stages and turned into the JSON a
 * release carries (`analysis/_spec.ts`): which stages analyze, where the stable receives traffic too (comparisons
 * with it), which stages pause.
 *
 * A stage is analyzed when the candidate receives traffic in it (weight > 0, a header route or a mirror) AND the
 * stable is still deployed there. An analysis decides whether to go on or to roll back to the stable; where the
 * stable is deployed (up to `drop-routable` of a canary: `unroute` and `drop-routable` are more time at 100% with
 * the stable's pods still running), a roll back routes to pods that are ready. Once a stage deleted the stable
 * (`retire`), its analysis would gate nothing: no stage follows, and a roll back would deploy the stable again
 * from nothing while the candidate keeps serving everything — what a new release does, with a person deciding. The
 * analysis of the stage before (`drop-routable`) is the last gate before the stable is deleted. (Flagger and Argo
 * Rollouts end their analysis at the promotion too.)
 */
import { Duration } from 'cdk8s';
import { unique } from '../_util';
import { Fail, checkAnalysis, checkPauseBefore, MetricSpec, PlanRolloutSpec, ROLLOUT_SPEC_VERSION, showValue, under } from '../analysis/_spec';
import { NoDataPolicy, RolloutOptions } from '../analysis/analysis-options';
import { CanaryMetric } from '../analysis/canary-metric';
import { ReleaseStage } from '../plan/release-stage';

/** Stable and candidate of a plan: given by canary and blueGreen, given or found for a custom plan. */
export interface PlanVersions {
  readonly stable?: string;
  readonly candidate?: string;
}

/** The plan's rollout spec, or undefined when it has neither analysis nor pauses. Throws on any bad option. */
export function planRollout(where: string, stages: ReleaseStage[], options: RolloutOptions, versions: PlanVersions): PlanRolloutSpec | undefined {
  const fail: Fail = (prop, value, valid) => new Error(`${where}: '${prop}' ${valid}, got ${showValue(value)}`);
  const names = stages.map((s) => s.name);
  const pauseBefore = options.pauseBefore ?? [];
  if (!Array.isArray(pauseBefore)) {
    throw fail('pauseBefore', pauseBefore, 'must be a list of stage names');
  }
  checkPauseBefore(pauseBefore, names, fail);
  const analysis = options.analysis;
  if (analysis === undefined) {
    return pauseBefore.length > 0 ? { version: ROLLOUT_SPEC_VERSION, pauseBefore: [...pauseBefore] } : undefined;
  }
  const { stable, candidate } = versions;
  if (stable === undefined || candidate === undefined) {
    throw fail(stable === undefined ? 'stable' : 'candidate', stable === undefined ? stable : candidate,
      'must be given with analysis when the plan does not tell it: the stable is the version with all the traffic in the first stage, '
      + 'the candidate the one with all the traffic in the last stage');
  }
  const all = unique(stages.flatMap((s) => s.versions));
  for (const [prop, version] of [['stable', stable], ['candidate', candidate]] as const) {
    if (!all.includes(version)) {
      throw fail(prop, version, `must be a version of the plan (${all.join(', ')})`);
    }
  }
  if (stable === candidate) {
    throw fail('candidate', candidate, `must differ from stable ('${stable}'): the analysis judges the candidate, against the stable`);
  }
  if (analysis.interval !== undefined && !(analysis.interval instanceof Duration)) {
    throw fail('analysis.interval', analysis.interval, 'must be a Duration, e.g. Duration.minutes(1)');
  }
  const interval = analysis.interval?.toSeconds({ integral: false }) ?? 60;
  const metrics = analysis.metrics;
  if (!Array.isArray(metrics)) {
    throw fail('analysis.metrics', metrics, 'must list at least one metric (CanaryMetric.successRate(), .latency() or .prometheus())');
  }
  const settings = {
    interval,
    count: analysis.count ?? 3,
    failureLimit: analysis.failureLimit ?? 0,
    noData: analysis.noData ?? NoDataPolicy.FAIL,
    metrics: metrics.map((m, i): MetricSpec => CanaryMetric._specOf(m, under(`analysis.metrics[${i}]`, fail))),
  };
  checkAnalysis(settings, under('analysis.', fail));
  const analyzed = stages.filter((s) => receivesTraffic(s, candidate) && s.deployed.includes(stable));
  if (analyzed.length === 0) {
    throw fail('analysis', metrics.map((m) => m.name), `needs a stage where the candidate '${candidate}' receives traffic while the stable '${stable}' `
      + `is still deployed (a roll back goes back to it); there is none in ${names.join(', ')}`);
  }
  return {
    version: ROLLOUT_SPEC_VERSION,
    pauseBefore: [...pauseBefore],
    analysis: {
      stable,
      candidate,
      stages: analyzed.map((s) => s.name),
      baselineStages: analyzed.filter((s) => receivesTraffic(s, stable)).map((s) => s.name),
      ...settings,
    },
  };
}

/** Whether `version` receives traffic in `stage`: a weight above 0, a header route, or a mirror. */
export function receivesTraffic(stage: ReleaseStage, version: string): boolean {
  return stage.weightOf(version) > 0 || stage.headerRoutes.some((r) => r.version === version) || stage.mirror?.version === version;
}

/** The version with all the catch-all traffic in `stage`, if one has it. */
export function soleVersion(stage: ReleaseStage): string | undefined {
  return stage.weights.find((w) => w.weight === 100)?.version;
}
