import { Duration } from 'cdk8s';
import { checkMetric, Fail, LatencySpec, MetricSpec, QuerySpec, showValue, SuccessRateSpec } from './_spec';

/** Options of `CanaryMetric.successRate()`. */
export interface SuccessRateMetricOptions {
  /** Lowest share of the candidate's responses that are not 5xx, in percent (0–100), e.g. 99. */
  readonly min: number;
  /**
   * Also judge the candidate against the stable version over the same window: its success
   * rate may be at most this many percentage points below the stable's (e.g. 1: with the
   * stable at 99.8%, the candidate needs 98.8% or more). Judged at the stages where the stable
   * receives traffic too (`ReleasePlan.baselineStages`); elsewhere `min` alone judges.
   * @default - no comparison with the stable
   */
  readonly maxBelowStable?: number;
}

/** Options of `CanaryMetric.latency()`. */
export interface LatencyMetricOptions {
  /** The percentile of the candidate's request duration, above 0 and below 100, e.g. 99. */
  readonly percentile: number;
  /** Highest latency passing at that percentile, above 0 (milliseconds count; e.g. `Duration.millis(500)`). */
  readonly max: Duration;
  /**
   * Also judge the candidate against the stable version over the same window: its latency may
   * be at most this much above the stable's. Judged at the stages where the stable receives
   * traffic too (`ReleasePlan.baselineStages`); elsewhere `max` alone judges.
   * @default - no comparison with the stable
   */
  readonly maxAboveStable?: Duration;
}

/** Options of `CanaryMetric.prometheus()`. */
export interface PrometheusMetricOptions {
  /** Name of the metric in every evaluation: lowercase letters, digits and '-', unique in the analysis. */
  readonly name: string;
  /**
   * A PromQL query returning one number (an instant vector of one series, or a scalar),
   * evaluated at each evaluation's time. Placeholders, replaced for the candidate:
   * `{{ namespace }}`, `{{ app }}`, `{{ version }}`, `{{ workload }}` (its Deployment,
   * `<app>-<version>`) and `{{ interval }}` (the analysis interval as a PromQL duration, e.g.
   * `60s`, for `rate(...[{{ interval }}])`).
   * @example 'max(queue_depth{namespace="{{ namespace }}",workload="{{ workload }}"})'
   */
  readonly query: string;
  /**
   * Lowest value passing.
   * @default - no minimum (then `max` is required)
   */
  readonly min?: number;
  /**
   * Highest value passing.
   * @default - no maximum (then `min` is required)
   */
  readonly max?: number;
}

/**
 * A metric judging the candidate at every evaluation of a plan's analysis. The built-in
 * metrics read Istio's standard metrics of the candidate's workload (`istio_requests_total`,
 * `istio_request_duration_milliseconds_bucket`, `destination_workload="<app>-<version>"`,
 * reported by its sidecar or, in ambient mode, its waypoint) over the evaluation window.
 *
 * @see https://istio.io/latest/docs/reference/config/metrics/
 * @example
 * CanaryMetric.successRate({ min: 99, maxBelowStable: 1 });
 * CanaryMetric.latency({ percentile: 99, max: Duration.millis(500) });
 * CanaryMetric.prometheus({ name: 'queue-depth', query: 'max(queue_depth{workload="{{ workload }}"})', max: 100 });
 */
export class CanaryMetric {
  /** Share of the candidate's responses that are not 5xx, in percent; named `success-rate`. */
  public static successRate(options: SuccessRateMetricOptions): CanaryMetric {
    const spec: SuccessRateSpec = { name: 'success-rate', type: 'success-rate', min: options.min, maxBelowStable: options.maxBelowStable };
    return new CanaryMetric(spec, 'successRate');
  }

  /** A percentile of the candidate's request duration; named `latency-p<percentile>` (`latency-p99`, `latency-p99-9`). */
  public static latency(options: LatencyMetricOptions): CanaryMetric {
    const ms = (d: Duration | undefined, prop: string) => {
      if (d !== undefined && !(d instanceof Duration)) {
        throw CanaryMetric.fail('latency')(prop, d, 'must be a Duration, e.g. Duration.millis(500)');
      }
      return d?.toMilliseconds({ integral: false });
    };
    const spec: LatencySpec = {
      name: `latency-p${String(options.percentile).replace('.', '-')}`,
      type: 'latency',
      percentile: options.percentile,
      max: ms(options.max, 'max')!,
      maxAboveStable: ms(options.maxAboveStable, 'maxAboveStable'),
    };
    return new CanaryMetric(spec, 'latency');
  }

  /** A PromQL query of your own, judged against `min` and/or `max`. */
  public static prometheus(options: PrometheusMetricOptions): CanaryMetric {
    const spec: QuerySpec = { name: options.name, type: 'prometheus', query: options.query, min: options.min, max: options.max };
    return new CanaryMetric(spec, 'prometheus');
  }

  /**
   * The metric as the analysis's JSON holds it (internal).
   * @internal
   */
  public static _specOf(metric: CanaryMetric, fail: Fail): MetricSpec {
    if (!(metric instanceof CanaryMetric)) {
      throw fail('', metric, 'must be made by CanaryMetric.successRate(), .latency() or .prometheus()');
    }
    return metric.spec;
  }

  private static fail(factory: string): Fail {
    return (prop, value, valid) => new Error(`CanaryMetric.${factory}: '${prop}' ${valid}, got ${showValue(value)}`);
  }

  /** Name of the metric in evaluations. */
  public readonly name: string;
  private readonly spec: MetricSpec;

  private constructor(spec: MetricSpec, factory: string) {
    // Props left out are not written (the JSON carries what was given).
    const given = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as MetricSpec;
    checkMetric(given, CanaryMetric.fail(factory));
    this.spec = given;
    this.name = given.name;
  }
}
