/**
 * The seam between the driver and the analysis of a stage (issue 20): once a stage is live, the driver calls
 * `RolloutHooks.analyzeStage` and rolls back when it does not pass. The driver knows nothing of metrics or
 * Prometheus: it passes the stage, what the candidate receives in it, the `--prometheus` URL and a way to print each
 * evaluation as it happens, and keeps the results in the release's state record. The commands plug in the plan's
 * own hooks (`plan-analysis.ts`: its `pauseBefore`, and the engine of `src/analysis/` against Prometheus).
 */
import { WaitingTime } from './waiting-time';
import { ReleaseRef, ReleaseState } from '../cli/release-view';
import { StageResult } from '../cli/stages';

/** One evaluation of one metric, as printed and recorded. */
export interface MetricResult {
  /** The metric's name (`success-rate`, `latency-p99`, a custom query's name). */
  readonly metric: string;
  /** The value measured; undefined: no data. */
  readonly value?: number;
  /** What it was judged against, as text (`>= 99`, `<= 500 ms`). */
  readonly threshold: string;
  readonly passed: boolean;
  /** When it was measured (ISO 8601). */
  readonly at?: string;
  /** The stable's value over the same window, where the metric is compared with it. */
  readonly stableValue?: number;
  /** `pass`, `fail`, `no-data` (counted as a failure) or `inconclusive` (noData INCONCLUSIVE). */
  readonly verdict?: string;
  /** Why, in a sentence (`0% is below the minimum 99%`, `query failed: ...`). */
  readonly message?: string;
  /** The stage analyzed. */
  readonly stage?: string;
  /** 1-based number of the evaluation in its stage, and how many the stage has. */
  readonly evaluation?: number;
  readonly count?: number;
  /** The release whose candidate it judges (its name and namespace). */
  readonly release?: string;
  readonly namespace?: string;
  /** `<namespace>/<release>` where a stage analyzes several releases (printed then). */
  readonly of?: string;
}

/** What the driver tells the analysis about the stage it judges. */
export interface StageAnalysisContext {
  /** The stage now live. */
  readonly stage: StageResult;
  /** Each release of the plan and how it routes in this stage (weights, header routes). */
  readonly releases: ReadonlyArray<{ readonly release: ReleaseRef; readonly state: ReleaseState }>;
  /** `--prometheus`, if given. */
  readonly prometheus?: string;
  /** Prints and records one evaluation as soon as it is made. */
  readonly report: (result: MetricResult) => void;
  /** Aborted when the driver must stop (SIGINT, SIGTERM, a lost Lease): the analysis should end soon. */
  readonly signal: AbortSignal;
  /** Where the analysis counts the time it waits (its intervals, its queries): not the driver's own work. */
  readonly waiting?: WaitingTime;
}

/** The verdict on a stage. */
export interface StageAnalysis {
  readonly passed: boolean;
  /** The last result of each metric. */
  readonly results: readonly MetricResult[];
  /** Why it failed (or why there was nothing to analyze), for people. */
  readonly reason?: string;
}

/** What the driver delegates: the analysis of a live stage, and which stages wait for `promote`. */
export interface RolloutHooks {
  /** Judges a live stage; a rejected promise is an internal error (exit 3), a verdict `passed: false` rolls back. */
  analyzeStage(context: StageAnalysisContext): Promise<StageAnalysis>;
  /** Whether the plan pauses before `stage` (its `pauseBefore`), so that `mesh-release promote` goes on. */
  pausesBefore(stage: StageResult): boolean;
  /**
   * Called once the driver knows which stages this run applies (from the one to apply or resume, to the target),
   * before the first is applied, and not at all when none is (a release already at its target): checks what they
   * need (Prometheus where one is analyzed). A `CliError` refuses the run, nothing applied.
   */
  beforeApplying?(stages: readonly StageResult[]): Promise<void>;
}

