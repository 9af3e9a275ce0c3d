import { errorsOf, formatViolations, readOptions, throwIfUnsafe } from './_engine';
import { SafetyViolation } from './safety-rule';
import { checkManifests } from '../routing/_registry';

/** How `SafetyCheck` reads manifests. */
export interface SafetyCheckOptions {
  /**
   * Cluster DNS domain: hosts `<service>.<namespace>.svc.<domain>` are in-cluster Services.
   * A host written so in another domain is refused (rule `cluster-domain`), not guessed: Istio
   * knows a Service only by its name in the cluster's domain, so such a host (a typo'd domain
   * too) routes to no Service, and the rules that follow a Service by its host could not see it.
   * The CLI's `--cluster-domain` is the same option.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * Namespace of objects that carry no `metadata.namespace` (manifests applied with `kubectl -n`).
   * @default 'default'
   */
  readonly namespace?: string;
}

/**
 * Checks that a stage of a release can be applied without dropping a request: on its own,
 * and (given the previous stage) as a transition — make-before-break. A roll back is the
 * transition the other way: `check(previousStage, currentStage)`.
 *
 * Works on plain manifest objects (`kind: List` objects are unwrapped), so it checks
 * hand-written YAML as well as ours, whatever router it uses (Istio, Gateway API, a Service
 * selector switch). Violations of severity `ERROR` can drop requests; `WARNING`s are hygiene.
 */
export class SafetyCheck {
  /**
   * Every violation of the stage `manifests`, applied after `previous` when given: errors first.
   * @param manifests the objects of the stage (Kubernetes, Istio, Gateway API), as plain JSON
   * @param previous the objects of the stage applied before it
   * @param options how to read them
   */
  public static check(manifests: any[], previous?: any[], options: SafetyCheckOptions = {}): SafetyViolation[] {
    return checkManifests(manifests, previous, readOptions(options.namespace, options.clusterDomain));
  }

  /** The violations that can drop requests (severity `ERROR`). */
  public static errors(violations: SafetyViolation[]): SafetyViolation[] {
    return errorsOf(violations);
  }

  /**
   * Throws one error listing every violation of severity `ERROR`, prefixed with `context`
   * (e.g. the construct path). Warnings never throw.
   */
  public static assertSafe(manifests: any[], previous?: any[], context?: string, options: SafetyCheckOptions = {}): void {
    throwIfUnsafe(SafetyCheck.check(manifests, previous, options), context ?? 'stage');
  }

  /** One line per violation: `[rule] object: message. Fix: fix` (warnings marked `(warning)`). */
  public static format(violations: SafetyViolation[]): string {
    return formatViolations(violations);
  }
}
