import { Duration } from 'cdk8s';
import { CanaryMetric } from './canary-metric';

/** What an evaluation that finds no samples of the candidate counts as. */
export enum NoDataPolicy {
  /** A failed evaluation (the candidate gets traffic: no metric means something is wrong). */
  FAIL = 'fail',
  /**
   * Neither pass nor fail: the analysis waits for data, and the stage fails if its last
   * evaluation still has none (a candidate with little traffic needs time to show up).
   */
  INCONCLUSIVE = 'inconclusive',
  /** A passed evaluation (traffic too sparse to judge, and you accept it). */
  PASS = 'pass',
}

/**
 * How a plan judges its candidate from metrics, at every stage where the candidate receives
 * traffic (weight > 0, a header route or a mirror): `count` evaluations `interval` apart, each
 * querying Prometheus over the last `interval`; more than `failureLimit` failed evaluations in
 * a stage fail it (the `mesh-release rollout` command, to come, then rolls the release back).
 */
export interface AnalysisOptions {
  /**
   * Time between two evaluations, and the window each one queries: a whole number of seconds,
   * at least 1 second (and at least two of Prometheus's scrape intervals, so a `rate()` over it
   * has samples).
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * Evaluations per stage where the candidate gets traffic, an integer >= 1.
   * @default 3
   */
  readonly count?: number;
  /**
   * Failed evaluations tolerated per stage (one more fails the stage), an integer >= 0 and
   * below `count`.
   * @default 0
   */
  readonly failureLimit?: number;
  /**
   * What an evaluation without samples of the candidate counts as.
   * @default NoDataPolicy.FAIL
   */
  readonly noData?: NoDataPolicy;
  /** The metrics judged at every evaluation: at least one, with unique names. */
  readonly metrics: CanaryMetric[];
}

/** What every plan takes for a release driven stage by stage (`ReleasePlan.canary`, `.blueGreen`, `.custom`). */
export interface RolloutOptions {
  /**
   * Judge the candidate from metrics at every stage where it receives traffic.
   * @default - no analysis
   */
  readonly analysis?: AnalysisOptions;
  /**
   * Stages a driver waits before, until someone promotes the release (e.g. `['shift-100']`):
   * names of stages of the plan, not the first one.
   * @default - no pause
   */
  readonly pauseBefore?: string[];
}
