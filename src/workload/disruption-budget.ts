import { PercentOrAbsolute } from 'cdk8s-plus-28';

/**
 * The PodDisruptionBudget (policy/v1) of one version: how many of its pods voluntary
 * disruptions (node drains, cluster upgrades) may take down at once. Values are non-negative
 * integers or integer percentages up to 100% (checked by `VersionedApp`).
 *
 * @see https://kubernetes.io/docs/tasks/run-application/configure-pdb/
 */
export class DisruptionBudget {
  /** At most this many (or this percentage of) pods may be unavailable. */
  public static maxUnavailable(value: PercentOrAbsolute): DisruptionBudget {
    return new DisruptionBudget(value);
  }

  /** At least this many (or this percentage of) pods must stay available. */
  public static minAvailable(value: PercentOrAbsolute): DisruptionBudget {
    return new DisruptionBudget(undefined, value);
  }

  /** @internal */
  public readonly _maxUnavailable?: PercentOrAbsolute;
  /** @internal */
  public readonly _minAvailable?: PercentOrAbsolute;

  private constructor(maxUnavailable?: PercentOrAbsolute, minAvailable?: PercentOrAbsolute) {
    this._maxUnavailable = maxUnavailable;
    this._minAvailable = minAvailable;
  }
}
