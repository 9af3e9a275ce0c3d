/**
 * Options for a HorizontalPodAutoscaler (autoscaling/v2) on one version's Deployment.
 */
export interface AutoscalingOptions {
  /**
   * Fewest replicas the autoscaler keeps. Two keep the version available while a node drains.
   * @default 2
   */
  readonly minReplicas?: number;
  /**
   * Most replicas the autoscaler may run.
   * @default 4
   */
  readonly maxReplicas?: number;
  /**
   * Average CPU utilization (percent of the CPU request) the autoscaler aims for.
   * @default 70
   */
  readonly cpuUtilizationPercent?: number;
  /**
   * Average memory utilization (percent of the memory request) the autoscaler aims for.
   * @default 80
   */
  readonly memoryUtilizationPercent?: number;
}

/**
 * How many replicas one version runs: an autoscaler between bounds, or a fixed count.
 *
 * @example
 * Scaling.autoscale({ minReplicas: 3, maxReplicas: 10 });
 * Scaling.fixed(2);
 */
export class Scaling {
  /** Defaults of `Scaling.autoscale()`. */
  public static readonly DEFAULT_MIN_REPLICAS = 2;
  /** Defaults of `Scaling.autoscale()`. */
  public static readonly DEFAULT_MAX_REPLICAS = 4;

  /**
   * An autoscaling/v2 HorizontalPodAutoscaler on CPU and memory utilization; the
   * Deployment then carries no `replicas`, so applying a manifest never fights the autoscaler. Switching a version
   * from `Scaling.fixed(n)` to an autoscaler removes `spec.replicas`, which resets it to 1 pod until the autoscaler
   * scales it back: the safety check refuses it while the version gets traffic (rule `replicas-removed-while-routed`).
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling
   */
  public static autoscale(options: AutoscalingOptions = {}): Scaling {
    return new Scaling(
      options.minReplicas ?? Scaling.DEFAULT_MIN_REPLICAS,
      options.maxReplicas ?? Scaling.DEFAULT_MAX_REPLICAS,
      true,
      options.cpuUtilizationPercent ?? 70,
      options.memoryUtilizationPercent ?? 80,
    );
  }

  /** A fixed number of replicas and no autoscaler. */
  public static fixed(replicas: number): Scaling {
    return new Scaling(replicas, replicas, false, undefined, undefined);
  }

  /** Fewest replicas (the fixed count when not autoscaled). */
  public readonly minReplicas: number;
  /** Most replicas (the fixed count when not autoscaled). */
  public readonly maxReplicas: number;
  /** Whether a HorizontalPodAutoscaler manages the replica count. */
  public readonly autoscaled: boolean;
  /** CPU utilization target in percent, when autoscaled. */
  public readonly cpuUtilizationPercent?: number;
  /** Memory utilization target in percent, when autoscaled. */
  public readonly memoryUtilizationPercent?: number;

  private constructor(minReplicas: number, maxReplicas: number, autoscaled: boolean, cpu?: number, memory?: number) {
    this.minReplicas = minReplicas;
    this.maxReplicas = maxReplicas;
    this.autoscaled = autoscaled;
    this.cpuUtilizationPercent = cpu;
    this.memoryUtilizationPercent = memory;
  }

  /**
   * The same scaling with a higher floor: used to size a version for the share of
   * traffic it is about to receive. The ceiling rises with the floor when needed.
   */
  public withMinReplicas(minReplicas: number): Scaling {
    if (!this.autoscaled) {
      return Scaling.fixed(Math.max(this.minReplicas, minReplicas));
    }
    const floor = Math.max(this.minReplicas, minReplicas);
    return new Scaling(floor, Math.max(this.maxReplicas, floor), true,
      this.cpuUtilizationPercent, this.memoryUtilizationPercent);
  }
}
