import { checkPlan } from './_plan-check';
import { planRollout, PlanVersions, soleVersion } from './_plan-rollout';
import { RolloutOptions } from '../analysis/analysis-options';
import { ReleaseStage, ReleaseStageOptions } from '../plan/release-stage';

/** Options of `ReleasePlan.canary()`. */
export interface CanaryPlanOptions extends RolloutOptions {
  /** The version serving all traffic today. */
  readonly stable: string;
  /** The version being released. */
  readonly candidate: string;
  /**
   * Percentages of traffic the candidate receives, one stage each, before `shift-100`:
   * ascending integers between 1 and 99.
   */
  readonly weights: number[];
}

/** Options of `ReleasePlan.blueGreen()`. */
export interface BlueGreenPlanOptions extends RolloutOptions {
  /** The version serving all traffic today (blue). */
  readonly stable: string;
  /** The version being released (green); it receives all traffic in one step. */
  readonly candidate: string;
}

/** Options of `ReleasePlan.custom()`: the analysis and pauses, and whom the analysis judges. */
export interface CustomPlanOptions extends RolloutOptions {
  /**
   * The version the analysis compares the candidate with.
   * @default - the version with all the traffic in the first stage (required with `analysis` when no version has it)
   */
  readonly stable?: string;
  /**
   * The version the analysis judges.
   * @default - the version with all the traffic in the last stage (required with `analysis` when no version has it)
   */
  readonly candidate?: string;
}

/**
 * An ordered list of release stages, each safe to apply after the one before it.
 *
 * Every transition is checked when the plan is made (make-before-break), so a plan that
 * exists is a plan whose stages can be applied in order without dropping a request.
 *
 * @example
 * const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
 * plan.stageNames; // stable, make-routable, deploy, shift-10, shift-50, shift-100, unroute, drop-routable, retire
 * plan.stage('shift-10');
 *
 * @example
 * // judged from metrics at every stage where the candidate gets traffic, with a pause before shift-100
 * ReleasePlan.canary({
 *   stable: 'v1', candidate: 'v2', weights: [10, 50],
 *   analysis: { interval: Duration.minutes(1), count: 3, metrics: [CanaryMetric.successRate({ min: 99 })] },
 *   pauseBefore: ['shift-100'],
 * });
 */
export class ReleasePlan {
  /**
   * A canary release from `stable` to `candidate`, shifting weight in steps:
   * `stable`, `make-routable`, `deploy`, `shift-<w>` per weight, `shift-100`, `unroute`,
   * `drop-routable`, `retire`.
   */
  public static canary(options: CanaryPlanOptions): ReleasePlan {
    const { weights } = options;
    const ascending = weights.every((w, i) => Number.isInteger(w) && w >= 1 && w <= 99 && (i === 0 || w > weights[i - 1]));
    if (!ascending) {
      throw new Error(`ReleasePlan.canary: 'weights' must be ascending integers between 1 and 99, got [${weights.join(', ')}]`);
    }
    return ReleasePlan.twoVersion('ReleasePlan.canary', options, weights);
  }

  /** A blue/green release: the candidate goes from 0 to 100% in one shift. */
  public static blueGreen(options: BlueGreenPlanOptions): ReleasePlan {
    return ReleasePlan.twoVersion('ReleasePlan.blueGreen', options, []);
  }

  /**
   * Any sequence of stages; each one's previous stage is the one listed before it.
   * @param stages the stages, in the order they are applied
   * @param options the analysis and pauses of the plan
   */
  public static custom(stages: ReleaseStageOptions[], options: CustomPlanOptions = {}): ReleasePlan {
    return new ReleasePlan(stages, 'ReleasePlan.custom', options, (built) => ({
      stable: options.stable ?? soleVersion(built[0]),
      candidate: options.candidate ?? soleVersion(built[built.length - 1]),
    }));
  }

  private static twoVersion(where: string, options: CanaryPlanOptions | BlueGreenPlanOptions, weights: number[]): ReleasePlan {
    const { stable, candidate } = options;
    if (stable === candidate) {
      throw new Error(`ReleasePlan: 'candidate' must differ from 'stable', got '${candidate}' for both`);
    }
    const both = [stable, candidate];
    return new ReleasePlan([
      { name: 'stable', deployed: [stable], weights: [{ version: stable, weight: 100 }] },
      { name: 'make-routable', deployed: [stable], routable: both, weights: [{ version: stable, weight: 100 }] },
      { name: 'deploy', deployed: both, weights: [{ version: stable, weight: 100 }] },
      ...[...weights, 100].map((w) => ({
        name: `shift-${w}`,
        deployed: both,
        weights: [{ version: stable, weight: 100 - w }, { version: candidate, weight: w }],
      })),
      { name: 'unroute', deployed: both, weights: [{ version: candidate, weight: 100 }] },
      { name: 'drop-routable', deployed: both, routable: [candidate], weights: [{ version: candidate, weight: 100 }] },
      { name: 'retire', deployed: [candidate], weights: [{ version: candidate, weight: 100 }] },
    ], where, options, () => ({ stable, candidate }));
  }

  /** The stages, in the order they are applied. */
  public readonly stages: ReleaseStage[];
  /**
   * Names of the stages a driver analyzes, in order; empty without `analysis`: the stages where
   * the candidate receives traffic (a weight above 0, a header route or a mirror) while the stable
   * is still deployed, so a failed analysis rolls back to running pods. A stage that deleted the
   * stable (a canary's `retire`) is not analyzed: nothing follows it, and the analysis of the
   * stage before was the last gate before the stable was deleted.
   */
  public readonly analyzedStages: string[];
  /**
   * Names of the analyzed stages where the stable version receives traffic too: there, metrics
   * with `maxBelowStable` / `maxAboveStable` are also judged against the stable.
   */
  public readonly baselineStages: string[];
  /** Names of the stages a driver waits before, until the release is promoted. */
  public readonly pauseBefore: string[];
  /** The version the analysis judges (undefined for a custom plan without analysis that does not tell). */
  public readonly candidate?: string;
  /** The version the analysis compares the candidate with (same). */
  public readonly stable?: string;

  private constructor(
    stages: ReleaseStageOptions[], where: string, rolloutOptions: RolloutOptions, versions: (built: ReleaseStage[]) => PlanVersions,
  ) {
    if (stages.length === 0) {
      throw new Error('ReleasePlan: a plan needs at least one stage');
    }
    const built: ReleaseStage[] = [];
    for (const options of stages) {
      const previous = built[built.length - 1];
      if (built.some((s) => s.name === options.name)) {
        throw new Error(`ReleasePlan: stage names must be unique, got '${options.name}' twice`);
      }
      const stage = ReleaseStage.custom({ ...options, previous });
      previous?._setNext(stage);
      built.push(stage);
    }
    checkPlan(built);
    this.stages = built;
    const plan = versions(built);
    const rollout = planRollout(where, built, rolloutOptions, plan);
    if (rollout) {
      built.forEach((stage) => stage._setPlanRollout(rollout));
    }
    this.stable = plan.stable;
    this.candidate = plan.candidate;
    this.analyzedStages = [...rollout?.analysis?.stages ?? []];
    this.baselineStages = [...rollout?.analysis?.baselineStages ?? []];
    this.pauseBefore = [...rollout?.pauseBefore ?? []];
  }

  /** Whether a driver analyzes the stage with this name (see `analyzedStages`). */
  public analyzes(stageName: string): boolean {
    return this.analyzedStages.includes(this.stage(stageName).name);
  }

  /** Whether a driver waits before the stage with this name until the release is promoted. */
  public pausesBefore(stageName: string): boolean {
    return this.pauseBefore.includes(this.stage(stageName).name);
  }

  /** Names of the stages, in order. */
  public get stageNames(): string[] {
    return this.stages.map((s) => s.name);
  }

  /** The stage with this name; throws listing the valid names when there is none. */
  public stage(name: string): ReleaseStage {
    const stage = this.stages.find((s) => s.name === name);
    if (!stage) {
      throw new Error(`ReleasePlan: unknown stage '${name}'; valid stages are: ${this.stageNames.join(', ')}`);
    }
    return stage;
  }
}
