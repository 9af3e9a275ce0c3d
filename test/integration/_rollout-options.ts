/**
 * A plan's `analysis` and `pauseBefore` as JSON, for the integration cases (`INTEG_ROLLOUT` of `app/main.ts`): the
 * tests choose them per scenario (a second per interval, noData, metrics) without a case of their own.
 */
import { Duration } from 'cdk8s';
import { CanaryMetric, NoDataPolicy, RolloutOptions } from '../../src';

/** A metric: one of the three factories, with its options (a latency's durations in milliseconds). */
export type MetricJson =
  | { readonly successRate: { readonly min: number; readonly maxBelowStable?: number } }
  | { readonly latency: { readonly percentile: number; readonly maxMs: number; readonly maxAboveStableMs?: number } }
  | { readonly prometheus: { readonly name: string; readonly query: string; readonly min?: number; readonly max?: number } };

export interface RolloutJson {
  /** Seconds. */
  readonly interval?: number;
  readonly count?: number;
  readonly failureLimit?: number;
  readonly noData?: 'fail' | 'inconclusive' | 'pass';
  /** No metrics: no analysis. */
  readonly metrics?: MetricJson[];
  readonly pauseBefore?: string[];
}

const NO_DATA = { fail: NoDataPolicy.FAIL, inconclusive: NoDataPolicy.INCONCLUSIVE, pass: NoDataPolicy.PASS };

function metricOf(json: MetricJson): CanaryMetric {
  if ('successRate' in json) {
    return CanaryMetric.successRate(json.successRate);
  }
  if ('latency' in json) {
    const { percentile, maxMs, maxAboveStableMs } = json.latency;
    return CanaryMetric.latency({
      percentile,
      max: Duration.millis(maxMs),
      maxAboveStable: maxAboveStableMs === undefined ? undefined : Duration.millis(maxAboveStableMs),
    });
  }
  return CanaryMetric.prometheus(json.prometheus);
}

export function rolloutOptions(json: RolloutJson): RolloutOptions {
  return {
    pauseBefore: json.pauseBefore,
    analysis: json.metrics ? {
      interval: json.interval === undefined ? undefined : Duration.seconds(json.interval),
      count: json.count,
      failureLimit: json.failureLimit,
      noData: json.noData === undefined ? undefined : NO_DATA[json.noData],
      metrics: json.metrics.map(metricOf),
    } : undefined,
  };
}
