import { checkPlan } from './_plan-check';
import { ReleaseStage, ReleaseStageOptions } from '../plan/release-stage';

/** Options of `ReleasePlan.canary()`. */
export interface CanaryPlanOptions {
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
export interface BlueGreenPlanOptions {
  /** The version serving all traffic today (blue). */
  readonly stable: string;
  /** The version being released (green); it receives all traffic in one step. */
  readonly candidate: string;
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
 */
export class ReleasePlan {
  /**
   * A canary release from `stable` to `candidate`, shifting weight in steps:
   * `stable`, `make-routable`, `deploy`, `shift-<w>` per weight, `shift-100`, `unroute`,
   * `drop-routable`, `retire`.
   */
  public static canary(options: CanaryPlanOptions): ReleasePlan {
    const { stable, candidate, weights } = options;
    const ascending = weights.every((w, i) => Number.isInteger(w) && w >= 1 && w <= 99 && (i === 0 || w > weights[i - 1]));
    if (!ascending) {
      throw new Error(`ReleasePlan.canary: 'weights' must be ascending integers between 1 and 99, got [${weights.join(', ')}]`);
    }
    return ReleasePlan.twoVersion(stable, candidate, weights);
  }

  /** A blue/green release: the candidate goes from 0 to 100% in one shift. */
  public static blueGreen(options: BlueGreenPlanOptions): ReleasePlan {
    return ReleasePlan.twoVersion(options.stable, options.candidate, []);
  }

  /** Any sequence of stages; each one's previous stage is the one listed before it. */
  public static custom(stages: ReleaseStageOptions[]): ReleasePlan {
    return new ReleasePlan(stages);
  }

  private static twoVersion(stable: string, candidate: string, weights: number[]): ReleasePlan {
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
    ]);
  }

  /** The stages, in the order they are applied. */
  public readonly stages: ReleaseStage[];

  private constructor(stages: ReleaseStageOptions[]) {
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
