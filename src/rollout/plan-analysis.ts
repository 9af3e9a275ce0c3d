/**
 * The hooks of `rollout` and `promote` made from the plan itself: its pauses and its analysis, read from the
 * stages' YAML (the `mesh-release.io/rollout` annotation, `cli/rollout-view.ts`), so stage directories built in CI
 * are enough. At a stage its analysis names (the candidate gets traffic while the stable is still deployed: see
 * `release/_plan-rollout.ts` for why `retire` is not one), the engine's stage loop (`analysis/_stage-analysis.ts`)
 * runs against `--prometheus`: `count` evaluations `interval` apart, each metric reported as soon as it is judged.
 * Several releases of one plan are analyzed side by side, each with its own analysis; the stage passes when all
 * pass, and fails as soon as one fails: the others stop before their next evaluation (their intervals end at once),
 * so the roll back starts after the failing evaluation, not after the others' `count` evaluations. A stop request (SIGINT, SIGTERM, a lost Lease) ends the wait for the next evaluation at once.
 */
import { MetricResult, RolloutHooks, StageAnalysis, StageAnalysisContext } from './analysis';
import { sleep, Stopped, throwIfStopped } from './waits';
import { Evaluation, Querier } from '../analysis/_evaluate';
import { maskedUrl, PrometheusClient, PrometheusClientOptions, PrometheusError } from '../analysis/_prometheus';
import { RolloutSpec } from '../analysis/_spec';
import { analyzeStage, Clock, SYSTEM_CLOCK } from '../analysis/_stage-analysis';
import { CliError, EXIT_USAGE } from '../cli/errors';
import { ReleaseRef } from '../cli/release-view';
import { rolloutOfPlan } from '../cli/rollout-view';
import { PlanResult } from '../cli/stages';

/** The rollout spec of each release of a plan that has one. */
export interface ReleaseRollout {
  readonly release: ReleaseRef;
  readonly spec: RolloutSpec;
}

/** The rollout specs of the plan's releases (a `CliError` when a stage's annotation is not one MeshRelease writes). */
export function rolloutsOf(plan: PlanResult): ReleaseRollout[] {
  const stages = plan.stages.map((s) => s.manifests);
  return plan.releases.flatMap((release) => {
    const spec = rolloutOfPlan(stages, release, plan.read.namespace);
    return spec ? [{ release, spec }] : [];
  });
}

/** The stages of `stageNames` that some release analyzes, in order. */
export function analyzedAmong(rollouts: readonly ReleaseRollout[], stageNames: readonly string[]): string[] {
  return stageNames.filter((name) => rollouts.some((r) => r.spec.analysis?.stages.includes(name)));
}

/**
 * The Prometheus client of `--prometheus`, checked before anything is applied: a `CliError` (exit 2) when the
 * stages to apply are analyzed and no URL was given, when the URL is not one, or when Prometheus does not answer.
 * Undefined when no stage to apply is analyzed (then `--prometheus` is not needed; given, it is still checked).
 */
export async function connectPrometheus(url: string | undefined, analyzed: readonly string[], clock: Clock = SYSTEM_CLOCK,
  access: PrometheusClientOptions = {}): Promise<PrometheusClient | undefined> {
  if (url === undefined) {
    if (analyzed.length > 0) {
      throw new CliError(`the plan analyzes stage${analyzed.length === 1 ? '' : 's'} ${analyzed.join(', ')}: pass --prometheus <url> `
        + '(the Prometheus that scrapes the mesh\'s metrics, e.g. http://prometheus.istio-system:9090); nothing applied', EXIT_USAGE);
    }
    return undefined;
  }
  try {
    const client = new PrometheusClient(url, access);
    await client.checkReachable(clock.now());
    return client;
  } catch (e) {
    if (e instanceof PrometheusError) {
      throw new CliError(`--prometheus ${maskedUrl(url)}: ${e.message}; nothing applied`, EXIT_USAGE);
    }
    throw e;
  }
}

/**
 * `--prometheus`, connected only once the stages a run applies are known (`RolloutHooks.beforeApplying`): a release
 * already at its target needs no Prometheus, missing or unreachable. A URL that is not one is refused at once (exit
 * 2, before the cluster is contacted). `querier` asks the client `connect` made.
 */
export function lazyPrometheus(url: string | undefined, clock: Clock = SYSTEM_CLOCK, access: PrometheusClientOptions = {}): {
  readonly querier: Querier;
  connect(analyzed: readonly string[]): Promise<void>;
} {
  if (url !== undefined) {
    try {
      new PrometheusClient(url);
    } catch (e) {
      if (e instanceof PrometheusError) {
        throw new CliError(`--prometheus ${maskedUrl(url)}: ${e.message}; nothing applied`, EXIT_USAGE);
      }
      throw e;
    }
  }
  let client: PrometheusClient | undefined;
  return {
    querier: {
      query: (query, time) => {
        if (!client) {
          throw new Error('Prometheus is queried before beforeApplying connected it');
        }
        return client.query(query, time);
      },
    },
    connect: async (analyzed) => {
      client = await connectPrometheus(url, analyzed, clock, access);
    },
  };
}

/** A clock whose sleeps end with `Stopped` as soon as the driver is asked to stop. */
export function stoppableClock(clock: Clock, signal: AbortSignal): Clock {
  return {
    now: () => clock.now(),
    sleep: async (milliseconds) => {
      throwIfStopped(signal);
      if (clock !== SYSTEM_CLOCK) {
        await clock.sleep(milliseconds);
        return throwIfStopped(signal);
      }
      for (let left = milliseconds; left > 0; left -= 2 ** 31 - 1) {
        await sleep(Math.min(left, 2 ** 31 - 1), signal);
      }
    },
  };
}

/** One metric of one evaluation, as the driver prints and records it (`several`: the stage analyzes several releases). */
export function metricResults(release: ReleaseRef, evaluation: Evaluation, several = false): MetricResult[] {
  return evaluation.metrics.map((m) => ({
    metric: m.metric,
    value: m.value,
    stableValue: m.stableValue,
    threshold: m.threshold,
    passed: m.verdict === 'pass',
    verdict: m.verdict,
    message: m.message,
    at: evaluation.time,
    stage: evaluation.stage,
    evaluation: evaluation.index,
    count: evaluation.count,
    release: release.name,
    namespace: release.namespace,
    ...(several ? { of: `${release.namespace}/${release.name}` } : {}),
  }));
}

/** The hooks of a plan: its `pauseBefore`, and its analysis against `prometheus` (required where a stage is analyzed). */
export function planHooks(rollouts: readonly ReleaseRollout[], prometheus: Querier | undefined, clock: Clock = SYSTEM_CLOCK): RolloutHooks {
  return {
    pausesBefore: (stage) => rollouts.some((r) => r.spec.pauseBefore.includes(stage.name)),
    analyzeStage: async (context: StageAnalysisContext): Promise<StageAnalysis> => {
      const stage = context.stage.name;
      const analyzed = rollouts.filter((r) => r.spec.analysis?.stages.includes(stage));
      if (analyzed.length === 0) {
        const why = rollouts.some((r) => r.spec.analysis) ? 'the plan does not analyze this stage' : 'the plan has no analysis';
        return { passed: true, results: [], reason: `not analyzed: ${why}` };
      }
      if (!prometheus) {
        // connectPrometheus refuses this before anything is applied.
        throw new Error(`stage ${stage} is analyzed but no Prometheus was given`);
      }
      const waiting = context.waiting;
      // Aborted on a stop request, or when one release's analysis failed the stage: the others' verdicts no longer matter.
      const stageOver = new AbortController();
      const stop = () => stageOver.abort(context.signal.reason);
      context.signal.addEventListener('abort', stop, { once: true });
      if (context.signal.aborted) {
        stop();
      }
      const stoppable = stoppableClock(clock, stageOver.signal);
      let failedFirst: ReleaseRef | undefined;
      const ticking: Clock = waiting ? { now: () => stoppable.now(), sleep: (ms) => waiting.during(stoppable.sleep(ms)) } : stoppable;
      const querier: Querier = waiting ? { query: (query, time) => waiting.during(prometheus.query(query, time)) } : prometheus;
      const outcomes = await Promise.all(analyzed.map(async ({ release, spec }) => {
        const last: MetricResult[][] = [];
        const outcome = await analyzeStage({
          namespace: release.namespace,
          app: release.name,
          rollout: spec,
          stage,
          prometheus: querier,
          clock: ticking,
          onEvaluation: (evaluation) => {
            const results = metricResults(release, evaluation, analyzed.length > 1);
            last.push(results);
            results.forEach(context.report);
          },
        }).catch((e) => {
          if (e instanceof Stopped && failedFirst !== undefined && !context.signal.aborted) {
            return undefined; // another release failed the stage
          }
          throw e;
        });
        if (outcome?.verdict === 'fail' && failedFirst === undefined) {
          failedFirst = release;
          stageOver.abort(`the analysis of ${release.namespace}/${release.name} failed stage ${stage}`);
        }
        return { release, outcome, results: last[last.length - 1] ?? [] };
      })).finally(() => context.signal.removeEventListener('abort', stop));
      const judged = outcomes.flatMap((o) => (o.outcome ? [{ ...o, outcome: o.outcome }] : []));
      const failed = judged.filter((o) => o.outcome.verdict === 'fail');
      const named = (o: { release: ReleaseRef }) => (rollouts.length > 1 ? `${o.release.namespace}/${o.release.name}: ` : '');
      return {
        passed: failed.length === 0,
        results: outcomes.flatMap((o) => o.results),
        reason: (failed.length > 0 ? failed : judged).map((o) => `${named(o)}${o.outcome.message}`).join('; '),
      };
    },
  };
}
