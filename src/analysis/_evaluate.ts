/**
 * One evaluation of a stage: every metric of the analysis queried at one time, each judged against its thresholds
 * (and, where the stable version gets traffic too, against the stable's value over the same window).
 *
 * - A query error (Prometheus unreachable, a refused query, several series, not an instant vector) fails the
 *   metric, naming the error: `failureLimit` tolerates a passing hiccup, a lasting one rolls back.
 * - No sample (an empty vector) or NaN (0/0: series exist but no request in the window) is "no data": the
 *   analysis's `noData` decides (FAIL: verdict `no-data`, counted as a failure; INCONCLUSIVE: `inconclusive`; PASS:
 *   `pass`). (Flagger's provider, fluxcd/flagger pkg/metrics/providers/prometheus.go, keeps the last of several
 *   series and judges NaN as a number: both would pass or fail a canary on a value that means nothing.)
 * - ±Inf fails: no threshold can judge it (e.g. a custom query dividing by 0). A latency percentile falling in the
 *   `+Inf` bucket is not +Inf: `histogram_quantile` returns the largest finite bucket bound (Istio's: 3600000 ms)
 *   (https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile), judged as any value.
 *
 * Loads no cdk8s.
 */
import { PrometheusError, QueryAnswer } from './_prometheus';
import { comparesWithStable, metricQuery, QueryTarget } from './_promql';
import { AnalysisSpec, MetricSpec, NoData } from './_spec';

/** What runs a query (a `PrometheusClient`). */
export interface Querier {
  query(query: string, time: Date): Promise<QueryAnswer>;
}

/** How one metric fared in one evaluation. */
export type MetricVerdict = 'pass' | 'fail' | 'no-data' | 'inconclusive';

export interface MetricEvaluation {
  /** The metric's name. */
  readonly metric: string;
  /** The candidate's value, when there was one (may be ±Inf). */
  readonly value?: number;
  /** The stable's value over the same window, when the metric is compared with it at this stage. */
  readonly stableValue?: number;
  /** What passes, e.g. `>= 99%`, `<= 500ms and <= stable + 100ms (412ms)`. */
  readonly threshold: string;
  readonly verdict: MetricVerdict;
  /** Why, in a sentence. */
  readonly message: string;
}

/** The verdict of one evaluation: fail when a metric failed or had no data under noData FAIL. */
export type EvaluationVerdict = 'pass' | 'fail' | 'inconclusive';

export interface Evaluation {
  readonly stage: string;
  /** 1-based number of the evaluation in its stage. */
  readonly index: number;
  /** Evaluations the stage has (the analysis's `count`). */
  readonly count: number;
  /** When the queries were evaluated (their `time`), ISO 8601. */
  readonly time: string;
  readonly verdict: EvaluationVerdict;
  readonly metrics: MetricEvaluation[];
}

/** The release whose candidate is judged. */
export interface AnalysisTarget {
  readonly namespace: string;
  readonly app: string;
  readonly analysis: AnalysisSpec;
}

/** Evaluates every metric of the analysis at `time`, for `stage` (which must analyze). */
export async function evaluate(querier: Querier, target: AnalysisTarget, stage: string, time: Date, index: number): Promise<Evaluation> {
  const { analysis } = target;
  if (!analysis.stages.includes(stage)) {
    throw new Error(`stage '${stage}' has no analysis: the candidate gets no traffic there (analyzed: ${analysis.stages.join(', ') || 'none'})`);
  }
  const baseline = analysis.baselineStages.includes(stage);
  const metrics = await Promise.all(analysis.metrics.map((m) => evaluateMetric(querier, m, target, baseline, time)));
  const failed = metrics.some((m) => m.verdict === 'fail' || m.verdict === 'no-data');
  const verdict = failed ? 'fail' : metrics.some((m) => m.verdict === 'inconclusive') ? 'inconclusive' : 'pass';
  return { stage, index, count: analysis.count, time: time.toISOString(), verdict, metrics };
}

/** A value read, or why there is none. */
type Reading = { readonly value: number } | { readonly noData: string } | { readonly error: string };

async function read(querier: Querier, query: string, time: Date): Promise<Reading> {
  let answer: QueryAnswer;
  try {
    answer = await querier.query(query, time);
  } catch (e) {
    if (e instanceof PrometheusError) {
      return { error: e.message };
    }
    throw e;
  }
  if (answer.kind === 'empty') {
    return { noData: 'no samples in the window (no series matched: no request in it, its metrics not scraped, or an interval under two scrape intervals)' };
  }
  if (Number.isNaN(answer.value)) {
    return { noData: 'NaN (0/0: no request in the window)' };
  }
  return { value: answer.value };
}

/** One metric judged: the candidate against the thresholds, then, at a baseline stage, against the stable. */
export async function evaluateMetric(querier: Querier, metric: MetricSpec, target: AnalysisTarget, baseline: boolean, time: Date):
Promise<MetricEvaluation> {
  const rollout = target.analysis;
  const queryTarget = (version: string): QueryTarget =>
    ({ namespace: target.namespace, app: target.app, version, reporter: rollout.reporter, windowSeconds: rollout.interval });
  const compare = baseline && comparesWithStable(metric);
  const absolute = thresholdText(metric);
  const unit = unitOf(metric);
  const noData = (why: string, threshold: string, value?: number) =>
    noDataVerdict(metric.name, rollout.noData, why, threshold, value);

  const candidate = await read(querier, metricQuery(metric, queryTarget(rollout.candidate)), time);
  if ('error' in candidate) {
    return { metric: metric.name, threshold: absolute, verdict: 'fail', message: `query failed: ${candidate.error}` };
  }
  if ('noData' in candidate) {
    return noData(`the candidate ${rollout.candidate} has ${candidate.noData}`, absolute);
  }
  const value = candidate.value;
  if (!Number.isFinite(value)) {
    return {
      metric: metric.name,
      value,
      threshold: absolute,
      verdict: 'fail',
      message: `${value} is not a finite number: no threshold can judge it (a division by 0 in the query?)`,
    };
  }
  const missed = missedThreshold(metric, value);
  if (!compare) {
    return missed
      ? { metric: metric.name, value, threshold: absolute, verdict: 'fail', message: `${show(value, unit)} ${missed}` }
      : { metric: metric.name, value, threshold: absolute, verdict: 'pass', message: `${show(value, unit)} meets ${absolute}` };
  }

  const relative = relativeText(metric);
  if (missed) {
    // The candidate's own threshold decides first: the stable's data (or its lack) cannot make a miss pass.
    return { metric: metric.name, value, threshold: `${absolute} and ${relative}`, verdict: 'fail', message: `${show(value, unit)} ${missed}` };
  }
  const stable = await read(querier, metricQuery(metric, queryTarget(rollout.stable)), time);
  if ('error' in stable) {
    return { metric: metric.name, value, threshold: `${absolute} and ${relative}`, verdict: 'fail', message: `query of the stable ${rollout.stable} failed: ${stable.error}` };
  }
  if ('noData' in stable) {
    return noData(`the stable ${rollout.stable} has ${stable.noData}, so the comparison cannot be judged`, `${absolute} and ${relative}`, value);
  }
  const stableValue = stable.value;
  const bound = relativeBound(metric, stableValue);
  const threshold = `${absolute} and ${relative} (${show(bound, unit)})`;
  const result = { metric: metric.name, value, stableValue, threshold };
  const worse = metric.type === 'success-rate' ? value < bound : value > bound;
  if (!Number.isFinite(stableValue) || worse) {
    const below = metric.type === 'success-rate';
    const margin = below ? metric.maxBelowStable! : (metric as { maxAboveStable: number }).maxAboveStable;
    return {
      ...result,
      verdict: 'fail',
      message: `${show(value, unit)} is more than ${show(margin, unit)} ${below ? 'below' : 'above'} the stable ${rollout.stable}'s `
        + `${show(stableValue, unit)} (${below ? 'at least' : 'at most'} ${show(bound, unit)} passes)`,
    };
  }
  return { ...result, verdict: 'pass', message: `${show(value, unit)} meets ${absolute}, and the stable ${rollout.stable}'s ${show(stableValue, unit)} within the margin` };
}

function noDataVerdict(metric: string, policy: NoData, why: string, threshold: string, value?: number): MetricEvaluation {
  const base = { metric, value, threshold };
  switch (policy) {
    case 'pass':
      return { ...base, verdict: 'pass', message: `${why}: passed (noData PASS)` };
    case 'inconclusive':
      return { ...base, verdict: 'inconclusive', message: `${why}: inconclusive (noData INCONCLUSIVE: the stage fails if it still has no data at its last evaluation)` };
    default:
      return { ...base, verdict: 'no-data', message: `${why}: counted as a failure (noData FAIL)` };
  }
}

/** How the value misses the metric's own thresholds, or undefined when it meets them. */
function missedThreshold(metric: MetricSpec, value: number): string | undefined {
  const unit = unitOf(metric);
  switch (metric.type) {
    case 'success-rate':
      return value < metric.min ? `is below the minimum ${show(metric.min, unit)}` : undefined;
    case 'latency':
      return value > metric.max ? `is above the maximum ${show(metric.max, unit)}` : undefined;
    default:
      if (metric.min !== undefined && value < metric.min) {
        return `is below the minimum ${show(metric.min, unit)}`;
      }
      return metric.max !== undefined && value > metric.max ? `is above the maximum ${show(metric.max, unit)}` : undefined;
  }
}

function thresholdText(metric: MetricSpec): string {
  const unit = unitOf(metric);
  switch (metric.type) {
    case 'success-rate':
      return `>= ${show(metric.min, unit)}`;
    case 'latency':
      return `<= ${show(metric.max, unit)}`;
    default:
      return [metric.min !== undefined ? `>= ${show(metric.min, unit)}` : '', metric.max !== undefined ? `<= ${show(metric.max, unit)}` : '']
        .filter((t) => t !== '').join(' and ');
  }
}

function relativeText(metric: MetricSpec): string {
  const unit = unitOf(metric);
  return metric.type === 'success-rate'
    ? `>= stable - ${show(metric.maxBelowStable!, unit)}`
    : `<= stable + ${show((metric as { maxAboveStable: number }).maxAboveStable, unit)}`;
}

function relativeBound(metric: MetricSpec, stableValue: number): number {
  return metric.type === 'success-rate' ? stableValue - metric.maxBelowStable! : stableValue + (metric as { maxAboveStable: number }).maxAboveStable;
}

function unitOf(metric: MetricSpec): string {
  return metric.type === 'success-rate' ? '%' : metric.type === 'latency' ? 'ms' : '';
}

/** A value for people: at most 3 decimals, with its unit. */
export function show(value: number, unit: string = ''): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  return `${Number.isInteger(value) ? value : Number(value.toFixed(3))}${unit}`;
}

/** An evaluation as the lines a driver prints as it happens. */
export function formatEvaluation(e: Evaluation): string[] {
  return [
    `stage ${e.stage}: evaluation ${e.index}/${e.count} at ${e.time}: ${e.verdict}`,
    ...e.metrics.map((m) => `  ${m.metric}: ${m.verdict} (${m.threshold}): ${m.message}`),
  ];
}
