import { Labels, versionLabels } from '../../_conventions';
import { invalidProp, PathScope } from '../../_validation';
import { ReleaseStage } from '../../plan/release-stage';
import { WorkloadOptions } from '../../workload/workload-options';
import { ReleaseContext, RouterImpl, RouterInput, RoutingObject } from '../_router';

const DESCRIPTION = 'TrafficRouter.serviceSelector()';
const WEIGHTED_ROUTERS = 'TrafficRouter.istio() or TrafficRouter.gatewayApi()';

/**
 * `TrafficRouter.serviceSelector()`: blue/green without a mesh, by switching the version-free
 * Service's selector to the live version. No routing object of its own: the Service carries
 * the stage annotations.
 */
export class ServiceSelectorRouter implements RouterImpl {
  public readonly description = DESCRIPTION;
  public readonly annotatesService = true;
  /** A Service has no routes, so no retries (`retries` is refused). */
  public readonly writesRetries = false;
  /** Without a mesh there are no Istio metrics; with sidecars, they report as `destination`. */
  public readonly telemetryReporter = 'destination';

  public checkProps(scope: PathScope, props: RouterInput): void {
    if (props.retries !== undefined) {
      throw invalidProp(scope, 'retries', props.retries, `needs a router with routes (${WEIGHTED_ROUTERS}): ${DESCRIPTION} has none, drop it`);
    }
    if (props.timeout !== undefined) {
      throw invalidProp(scope, 'timeout', props.timeout, `needs a router with routes (${WEIGHTED_ROUTERS}): ${DESCRIPTION} has none, drop it`);
    }
    if (props.strictMtls) {
      throw invalidProp(scope, 'strictMtls', true, `needs a mesh: use ${WEIGHTED_ROUTERS}, or drop it`);
    }
    if (props.allowedCallers !== undefined) {
      throw invalidProp(scope, 'allowedCallers', props.allowedCallers, `needs Istio (an AuthorizationPolicy): use ${WEIGHTED_ROUTERS} in an Istio mesh, or drop it`);
    }
  }

  /**
   * A Service selects one version at a time: one version with 100%, the others 0%, and no
   * header route or mirror.
   */
  public checkStage(scope: PathScope, stage: ReleaseStage): void {
    const weights = stage.weights.map((w) => `${w.version}=${w.weight}`).join(', ');
    if (stage.weights.some((w) => w.weight !== 0 && w.weight !== 100)) {
      throw invalidProp(scope, 'stage', `${stage.name}: ${weights}`,
        `must send 0% or 100% to each version with ${DESCRIPTION} (a Service selects one version at a time): use ${WEIGHTED_ROUTERS} for weighted stages`);
    }
    if (stage.headerRoutes.length > 0) {
      throw invalidProp(scope, 'stage', `${stage.name}: headerRoutes ${stage.headerRoutes.map((r) => `${r.header}=${r.value} -> ${r.version}`).join(', ')}`,
        `must have no header routes with ${DESCRIPTION} (a Service cannot match headers): use ${WEIGHTED_ROUTERS}`);
    }
    if (stage.mirror) {
      throw invalidProp(scope, 'stage', `${stage.name}: mirror to ${stage.mirror.version}`,
        `must not mirror with ${DESCRIPTION} (a Service cannot copy requests): use ${WEIGHTED_ROUTERS}`);
    }
  }

  /** `app` and `version` of the version with 100% of the traffic. */
  public serviceSelector(ctx: ReleaseContext, stage: ReleaseStage): Labels {
    return versionLabels(ctx.app, liveVersion(stage));
  }

  public serviceLabels(): Labels {
    return {};
  }

  public workloadOverrides(): WorkloadOptions {
    return {};
  }

  public routingObjects(): RoutingObject[] {
    return [];
  }

  public policyObjects(): RoutingObject[] {
    return []; // checkProps refused strictMtls and allowedCallers: a Service has no mesh
  }
}

/** The version a stage sends all traffic to (`checkStage` made sure there is one). */
function liveVersion(stage: ReleaseStage): string {
  return stage.weights.find((w) => w.weight === 100)!.version;
}
