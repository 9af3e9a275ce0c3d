/**
 * The PromQL of a metric for one version of a release over one evaluation window.
 *
 * The built-in metrics read Istio's standard metrics of the version's workload, as Flagger's built-in Istio checks
 * do (fluxcd/flagger pkg/metrics/observers/istio.go: `request-success-rate`, `request-duration`), with the
 * workload's exact name instead of a regex, the reporter of the mesh mode, and a success rate that is 0 (not "no
 * data") when every response was a 5xx:
 *
 * - `istio_requests_total` counts the requests a proxy handled, labelled `reporter`, `destination_workload`,
 *   `destination_workload_namespace`, `response_code`; `istio_request_duration_milliseconds` is their duration
 *   histogram (https://istio.io/latest/docs/reference/config/metrics/).
 * - `reporter="destination"`: the server's sidecar; in ambient mode the waypoint reports L7 metrics with
 *   `reporter="waypoint"` (https://istio.io/latest/docs/ambient/migrate/enable-ambient-mode/#post-migration-observability-changes).
 *
 * Loads no cdk8s.
 */
import { versionedName } from '../_conventions';
import { LatencySpec, MetricSpec, Reporter, SuccessRateSpec } from './_spec';
import { PlaceholderValues, renderQuery } from './_template';

/** Whose metric, over which window. */
export interface QueryTarget {
  readonly namespace: string;
  readonly app: string;
  /** The version judged (the candidate, or the stable as a baseline). */
  readonly version: string;
  readonly reporter: Reporter;
  /** The window, in seconds (the analysis interval). */
  readonly windowSeconds: number;
}

/** The PromQL duration of a window in seconds: `60s`. */
export function promDuration(seconds: number): string {
  return `${seconds}s`;
}

/**
 * A PromQL string literal of `value`: PromQL's double-quoted strings take Go's escapes, of which JSON's are a subset
 * (names read from hand-written YAML cannot break out of the quotes).
 * @see https://prometheus.io/docs/prometheus/latest/querying/basics/#string-literals
 */
export function promString(value: string): string {
  return JSON.stringify(value);
}

/** The label matchers of a version's requests, as Istio's proxies label them. */
export function workloadSelector(target: QueryTarget, extra: string = ''): string {
  return `{reporter=${promString(target.reporter)},destination_workload_namespace=${promString(target.namespace)},`
    + `destination_workload=${promString(versionedName(target.app, target.version))}${extra}}`;
}

/**
 * Percentage of the version's responses that are not 5xx over the window. The numerator falls back to 0 when no
 * response but 5xx was counted (`or on() vector(0)`: a version failing every request has a success rate of 0, not
 * "no data"); with no request at all the division is empty (no series) or NaN (0/0): no data.
 */
export function successRateQuery(target: QueryTarget): string {
  const window = promDuration(target.windowSeconds);
  const ok = `sum(rate(istio_requests_total${workloadSelector(target, ',response_code!~"5.."')}[${window}]))`;
  const all = `sum(rate(istio_requests_total${workloadSelector(target)}[${window}]))`;
  return `(${ok} or on() vector(0)) / ${all} * 100`;
}

/** The percentile of the version's request duration (milliseconds) over the window. */
export function latencyQuery(target: QueryTarget, percentile: number): string {
  const window = promDuration(target.windowSeconds);
  // 99.9 / 100 is 0.9990000000000001 in floating point: rounded to what a percentile can mean.
  const quantile = Number((percentile / 100).toPrecision(12));
  return `histogram_quantile(${quantile}, sum by (le) (rate(istio_request_duration_milliseconds_bucket${workloadSelector(target)}[${window}])))`;
}

/**
 * The values of a custom query's placeholders for `target`, escaped for the inside of a PromQL string (placeholders
 * stand inside the query's own quotes: `workload="{{ workload }}"`).
 */
export function placeholderValues(target: QueryTarget): PlaceholderValues {
  const inQuotes = (value: string) => promString(value).slice(1, -1);
  return {
    namespace: inQuotes(target.namespace),
    app: inQuotes(target.app),
    version: inQuotes(target.version),
    workload: inQuotes(versionedName(target.app, target.version)),
    interval: promDuration(target.windowSeconds),
  };
}

/** The query of any metric for `target`. */
export function metricQuery(metric: MetricSpec, target: QueryTarget): string {
  switch (metric.type) {
    case 'success-rate':
      return successRateQuery(target);
    case 'latency':
      return latencyQuery(target, metric.percentile);
    default:
      return renderQuery(metric.query, placeholderValues(target));
  }
}

/** Whether the metric has a comparison with the stable version. */
export function comparesWithStable(metric: MetricSpec): metric is SuccessRateSpec | LatencySpec {
  return (metric.type === 'success-rate' && metric.maxBelowStable !== undefined)
    || (metric.type === 'latency' && metric.maxAboveStable !== undefined);
}
