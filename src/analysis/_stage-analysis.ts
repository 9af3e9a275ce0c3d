/**
 * The analysis of one stage, as a driver runs it after applying the stage: `count` evaluations `interval` apart
 * (the first one interval after the start, so its window holds only traffic of this stage), each printed as it
 * happens, stopping at the first failure past `failureLimit`. With noData INCONCLUSIVE, evaluations without data
 * neither pass nor fail, but the stage fails if its last evaluation is still inconclusive. The clock is injected:
 * tests do not wait. Loads no cdk8s.
 */
import { Evaluation, evaluate, Querier } from './_evaluate';
import { RolloutSpec } from './_spec';

/** Time as the loop sees it. */
export interface Clock {
  now(): Date;
  sleep(milliseconds: number): Promise<void>;
}

/** Longest delay of one `setTimeout` (a longer one fires at once, with a warning). */
const MAX_TIMEOUT = 2 ** 31 - 1;

/** The real clock; it sleeps longer than `setTimeout` can wait (about 24.8 days) in several timeouts. */
export const SYSTEM_CLOCK: Clock = {
  now: () => new Date(),
  sleep: async (milliseconds) => {
    for (let left = milliseconds; left > 0; left -= MAX_TIMEOUT) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, MAX_TIMEOUT)));
    }
  },
};

export interface StageAnalysisOptions {
  readonly namespace: string;
  readonly app: string;
  /** The release's rollout spec (`parseRolloutSpec` of its annotation). */
  readonly rollout: RolloutSpec;
  readonly stage: string;
  readonly prometheus: Querier;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Called with every evaluation as soon as it is made (to print it). */
  readonly onEvaluation?: (evaluation: Evaluation) => void;
}

/** The outcome of a stage's analysis: `skipped` where the candidate gets no traffic (or the plan has no analysis). */
export interface StageAnalysis {
  readonly stage: string;
  readonly verdict: 'pass' | 'fail' | 'skipped';
  readonly evaluations: Evaluation[];
  /** Failed evaluations (a metric failed, or had no data under noData FAIL). */
  readonly failures: number;
  /** Why, in a sentence. */
  readonly message: string;
}

/** Runs the analysis of `stage`; resolves once it passed or failed. */
export async function analyzeStage(options: StageAnalysisOptions): Promise<StageAnalysis> {
  const { stage } = options;
  const analysis = options.rollout.analysis;
  if (!analysis || !analysis.stages.includes(stage)) {
    const why = analysis ? `the candidate ${analysis.candidate} gets no traffic in stage '${stage}'` : 'the plan has no analysis';
    return { stage, verdict: 'skipped', evaluations: [], failures: 0, message: `not analyzed: ${why}` };
  }
  const clock = options.clock ?? SYSTEM_CLOCK;
  const evaluations: Evaluation[] = [];
  let failures = 0;
  for (let index = 1; index <= analysis.count; index++) {
    await clock.sleep(analysis.interval * 1000);
    const evaluation = await evaluate(options.prometheus, { namespace: options.namespace, app: options.app, analysis }, stage, clock.now(), index);
    evaluations.push(evaluation);
    options.onEvaluation?.(evaluation);
    if (evaluation.verdict === 'fail') {
      failures++;
      if (failures > analysis.failureLimit) {
        const failed = evaluation.metrics.filter((m) => m.verdict === 'fail' || m.verdict === 'no-data').map((m) => m.metric);
        return {
          stage,
          verdict: 'fail',
          evaluations,
          failures,
          message: `${failures} failed evaluation${failures === 1 ? '' : 's'}, more than failureLimit ${analysis.failureLimit} `
            + `(evaluation ${index}/${analysis.count}: ${failed.join(', ')})`,
        };
      }
    }
  }
  const last = evaluations[evaluations.length - 1];
  if (last.verdict === 'inconclusive') {
    const waiting = last.metrics.filter((m) => m.verdict === 'inconclusive').map((m) => m.metric);
    return {
      stage,
      verdict: 'fail',
      evaluations,
      failures,
      message: `still no data at the last evaluation (${analysis.count}/${analysis.count}) for ${waiting.join(', ')} (noData INCONCLUSIVE)`,
    };
  }
  return {
    stage,
    verdict: 'pass',
    evaluations,
    failures,
    message: `${analysis.count} evaluation${analysis.count === 1 ? '' : 's'}, ${failures} failed (failureLimit ${analysis.failureLimit})`,
  };
}
