/**
 * What a driver of a release plan needs besides its stages, as plain JSON: the analysis (interval, count,
 * failureLimit, noData, metrics), which stages analyze and which pause. `ReleasePlan` makes it from its options,
 * `MeshRelease` writes it in the `mesh-release.io/rollout` annotation of the object that carries the plan's stages,
 * and the CLI reads it back from synthesized YAML (`parseRolloutSpec`), so CI artifacts are enough to drive a
 * release. The same checks judge both: what a plan refuses, a hand-edited annotation cannot say either.
 *
 * Units are the JSON's: `interval` in seconds, a latency's `max` and `maxAboveStable` in milliseconds.
 * Loads no cdk8s (the CLI reads it).
 */
import { DNS_1035_LABEL, DNS_1123_LABEL, ROLLOUT_ANNOTATION } from '../_conventions';
import { unknownPlaceholders, PLACEHOLDERS } from './_template';

/** Version of the JSON below: a reader refuses another one instead of misreading it. */
export const ROLLOUT_SPEC_VERSION = 1;

/** What to do with an evaluation that finds no samples of the candidate (values of `NoDataPolicy`). */
export type NoData = 'fail' | 'inconclusive' | 'pass';
export const NO_DATA_VALUES: readonly NoData[] = ['fail', 'inconclusive', 'pass'];

/** The candidate's share of non-5xx responses, in percent. */
export interface SuccessRateSpec {
  readonly name: string;
  readonly type: 'success-rate';
  /** Lowest success rate passing, in percent. */
  readonly min: number;
  /** Most points the candidate's rate may be below the stable's over the same window, where the stable gets traffic. */
  readonly maxBelowStable?: number;
}

/** A percentile of the candidate's request duration, in milliseconds. */
export interface LatencySpec {
  readonly name: string;
  readonly type: 'latency';
  /** The percentile, above 0 and below 100. */
  readonly percentile: number;
  /** Highest latency passing, in milliseconds. */
  readonly max: number;
  /** Most milliseconds the candidate's latency may be above the stable's over the same window. */
  readonly maxAboveStable?: number;
}

/** A PromQL query of the user's, with placeholders, returning one number. */
export interface QuerySpec {
  readonly name: string;
  readonly type: 'prometheus';
  readonly query: string;
  readonly min?: number;
  readonly max?: number;
}

export type MetricSpec = SuccessRateSpec | LatencySpec | QuerySpec;

/** How an analysis evaluates, as users set it (`AnalysisOptions`). */
export interface AnalysisSettings {
  /** Seconds between two evaluations, and the window of each (PromQL `[<interval>s]`). */
  readonly interval: number;
  /** Evaluations per analyzed stage. */
  readonly count: number;
  /** Failed evaluations tolerated per stage; one more fails the stage. */
  readonly failureLimit: number;
  readonly noData: NoData;
  readonly metrics: MetricSpec[];
}

/**
 * Which Istio proxy reports the candidate's requests: its sidecar (`destination`) or, in ambient mode, the waypoint
 * (`waypoint`).
 * @see https://istio.io/latest/docs/ambient/migrate/enable-ambient-mode/#post-migration-observability-changes
 */
export type Reporter = 'destination' | 'waypoint';
export const REPORTERS: readonly Reporter[] = ['destination', 'waypoint'];

/** The analysis of a plan, as a plan makes it: its settings, whom they judge and where. */
export interface PlanAnalysisSpec extends AnalysisSettings {
  /** The version serving all traffic before the release: the baseline of comparisons. */
  readonly stable: string;
  /** The version being released: the one the metrics judge. */
  readonly candidate: string;
  /** Stages analyzed, in plan order: the candidate receives traffic (weight > 0, a header route or a mirror). */
  readonly stages: string[];
  /** Analyzed stages where the stable receives traffic too: comparisons with it are judged there only. */
  readonly baselineStages: string[];
}

/** The analysis as a release writes it: with the proxy whose metrics the built-in metrics read (from its router). */
export interface AnalysisSpec extends PlanAnalysisSpec {
  readonly reporter: Reporter;
}

/** What a plan says about driving it: its pauses and its analysis. */
export interface PlanRolloutSpec {
  readonly version: number;
  /** Stages a driver waits before, until someone promotes the release. */
  readonly pauseBefore: string[];
  /** The analysis, when the plan has one. */
  readonly analysis?: PlanAnalysisSpec;
}

/** The whole annotation, as a release writes it. */
export interface RolloutSpec extends PlanRolloutSpec {
  readonly analysis?: AnalysisSpec;
}

/** Builds the error of a bad field: `prop` as users write it, the value received, what is valid. */
export type Fail = (prop: string, value: unknown, valid: string) => Error;

/** `fail` with every prop prefixed (`analysis.metrics[0].` ...). */
export function under(prefix: string, fail: Fail): Fail {
  return (prop, value, valid) => fail(`${prefix}${prop}`, value, valid);
}

/** A value with its unit, shown as it is (`0.5s`, not `"0.5s"`). */
class WithUnit {
  constructor(readonly text: string) {}
}

export function showValue(value: unknown): string {
  if (value instanceof WithUnit) {
    return value.text;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value);
  }
  return JSON.stringify(value) ?? String(value);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Throws `fail` at the first field of a metric that is not valid. */
export function checkMetric(metric: MetricSpec, fail: Fail): void {
  if (typeof metric?.name !== 'string' || !DNS_1123_LABEL.test(metric.name)) {
    throw fail('name', metric?.name, "must be lowercase letters, digits and '-', at most 63 characters (it names the metric in every evaluation)");
  }
  switch (metric.type) {
    case 'success-rate':
      if (!isNumber(metric.min) || metric.min < 0 || metric.min > 100) {
        throw fail('min', metric.min, 'must be a percentage between 0 and 100');
      }
      if (metric.maxBelowStable !== undefined && (!isNumber(metric.maxBelowStable) || metric.maxBelowStable < 0 || metric.maxBelowStable > 100)) {
        throw fail('maxBelowStable', metric.maxBelowStable, 'must be percentage points between 0 and 100');
      }
      return;
    case 'latency':
      if (!isNumber(metric.percentile) || metric.percentile <= 0 || metric.percentile >= 100) {
        throw fail('percentile', metric.percentile, 'must be above 0 and below 100 (e.g. 99 for the 99th percentile)');
      }
      if (!isNumber(metric.max) || metric.max <= 0) {
        throw fail('max', milliseconds(metric.max), 'must be a duration above 0');
      }
      if (metric.maxAboveStable !== undefined && (!isNumber(metric.maxAboveStable) || metric.maxAboveStable < 0)) {
        throw fail('maxAboveStable', milliseconds(metric.maxAboveStable), 'must be a duration of 0 or more');
      }
      return;
    case 'prometheus':
      checkQuery(metric, fail);
      return;
    default:
      throw fail('type', (metric as { type?: unknown }).type, "must be 'success-rate', 'latency' or 'prometheus'");
  }
}

function checkQuery(metric: QuerySpec, fail: Fail): void {
  if (typeof metric.query !== 'string' || metric.query.trim() === '') {
    throw fail('query', metric.query, 'must be a PromQL query returning one number');
  }
  const unknown = unknownPlaceholders(metric.query);
  if (unknown.length > 0) {
    throw fail('query', metric.query,
      `must use only the placeholders ${PLACEHOLDERS.map((p) => `{{ ${p} }}`).join(', ')}; not ${unknown.map((u) => `'${u}'`).join(', ')}`);
  }
  for (const field of ['min', 'max'] as const) {
    if (metric[field] !== undefined && !isNumber(metric[field])) {
      throw fail(field, metric[field], 'must be a finite number');
    }
  }
  if (metric.min === undefined && metric.max === undefined) {
    throw fail('min', metric.min, 'or max must be given: a custom metric needs at least one threshold to pass or fail');
  }
  if (metric.min !== undefined && metric.max !== undefined && metric.min > metric.max) {
    throw fail('min', metric.min, `must not be above max (${metric.max}): no value could pass`);
  }
}

/** Throws `fail` at the first setting of the analysis that is not valid (metrics included, `metrics[i].` prefixed). */
export function checkAnalysis(analysis: AnalysisSettings, fail: Fail): void {
  if (!Number.isInteger(analysis.interval) || analysis.interval < 1) {
    throw fail('interval', seconds(analysis.interval), 'must be a whole number of seconds, at least 1 second (it is also the window of every query)');
  }
  if (!Number.isInteger(analysis.count) || analysis.count < 1) {
    throw fail('count', analysis.count, 'must be an integer >= 1 (evaluations per stage where the candidate gets traffic)');
  }
  if (!Number.isInteger(analysis.failureLimit) || analysis.failureLimit < 0 || analysis.failureLimit >= analysis.count) {
    throw fail('failureLimit', analysis.failureLimit,
      `must be an integer >= 0 and below count (${analysis.count}): failed evaluations tolerated per stage, one more rolls back`);
  }
  if (!NO_DATA_VALUES.includes(analysis.noData)) {
    throw fail('noData', analysis.noData, `must be one of ${NO_DATA_VALUES.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if (!Array.isArray(analysis.metrics) || analysis.metrics.length === 0) {
    throw fail('metrics', analysis.metrics, 'must list at least one metric (CanaryMetric.successRate(), .latency() or .prometheus())');
  }
  analysis.metrics.forEach((m, i) => checkMetric(m, under(`metrics[${i}].`, fail)));
  const names = analysis.metrics.map((m) => m.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) {
    throw fail('metrics', names, `must have unique names ('${twice}' is there twice; give a custom metric another name, or keep one of the two)`);
  }
}

/**
 * Throws `fail` unless `pauseBefore` names stages of the plan, each once, and not the first one (the first stage is
 * where a release starts: there is nothing to wait before).
 */
export function checkPauseBefore(pauseBefore: string[], stageNames: string[], fail: Fail): void {
  for (const name of pauseBefore) {
    if (!stageNames.includes(name)) {
      throw fail('pauseBefore', name, `must name stages of the plan (${stageNames.join(', ')})`);
    }
    if (name === stageNames[0]) {
      throw fail('pauseBefore', name, `must not name the first stage '${name}': a release starts there, there is nothing to wait before`);
    }
  }
  const twice = pauseBefore.find((name, i) => pauseBefore.indexOf(name) !== i);
  if (twice !== undefined) {
    throw fail('pauseBefore', pauseBefore, `must name each stage once ('${twice}' is there twice)`);
  }
}

/**
 * The rollout spec in a release's annotation, checked as a plan checks its options: any problem is an error naming
 * the annotation, the field, the value and what is valid. `stageNames` are the stages of the release's plan
 * (its `mesh-release.io/plan-stages`).
 */
export function parseRolloutSpec(text: string, stageNames: string[], where: string): RolloutSpec {
  const fail: Fail = (prop, value, valid) =>
    new Error(`${where}: annotation ${ROLLOUT_ANNOTATION}: '${prop}' ${valid}, got ${showValue(value)}`);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: annotation ${ROLLOUT_ANNOTATION} must be JSON written by MeshRelease (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw fail('(root)', json, 'must be a JSON object');
  }
  if (json.version !== ROLLOUT_SPEC_VERSION) {
    throw fail('version', json.version,
      `must be ${ROLLOUT_SPEC_VERSION} (this mesh-release reads version ${ROLLOUT_SPEC_VERSION}: synthesize the app with the same cdk8s-mesh-release version as the CLI)`);
  }
  if (!Array.isArray(json.pauseBefore) || json.pauseBefore.some((p: unknown) => typeof p !== 'string')) {
    throw fail('pauseBefore', json.pauseBefore, 'must be a list of stage names');
  }
  checkPauseBefore(json.pauseBefore, stageNames, fail);
  if (json.analysis !== undefined) {
    if (typeof json.analysis !== 'object' || json.analysis === null || Array.isArray(json.analysis)) {
      throw fail('analysis', json.analysis, 'must be a JSON object');
    }
    parseAnalysis(json.analysis, stageNames, under('analysis.', fail));
  }
  return json as RolloutSpec;
}

function parseAnalysis(analysis: any, stageNames: string[], fail: Fail): void {
  for (const field of ['stable', 'candidate'] as const) {
    if (typeof analysis[field] !== 'string' || !DNS_1035_LABEL.test(analysis[field])) {
      throw fail(field, analysis[field], "must be a version: a DNS-1035 label (lowercase letters, digits and '-', starting with a letter)");
    }
  }
  if (!REPORTERS.includes(analysis.reporter)) {
    throw fail('reporter', analysis.reporter, `must be one of ${REPORTERS.map((r) => JSON.stringify(r)).join(', ')}`);
  }
  for (const field of ['stages', 'baselineStages'] as const) {
    const list = analysis[field];
    if (!Array.isArray(list) || list.some((s: unknown) => typeof s !== 'string' || !stageNames.includes(s))) {
      throw fail(field, list, `must list stages of the plan (${stageNames.join(', ')})`);
    }
  }
  const outside = (analysis.baselineStages as string[]).find((s) => !analysis.stages.includes(s));
  if (outside !== undefined) {
    throw fail('baselineStages', outside, `must be analyzed stages (${analysis.stages.join(', ')})`);
  }
  checkAnalysis(analysis, fail);
}

/** The annotation's text (stable key order: equal specs, equal YAML). */
export function rolloutAnnotation(spec: RolloutSpec): string {
  return JSON.stringify(spec);
}

function seconds(value: unknown): unknown {
  return typeof value === 'number' ? new WithUnit(`${value}s`) : value;
}

function milliseconds(value: unknown): unknown {
  return typeof value === 'number' ? new WithUnit(`${value}ms`) : value;
}
