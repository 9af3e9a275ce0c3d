import { Construct } from 'constructs';
import { Labels, resolveHost } from '../../_conventions';
import { checkInteger, invalidProp } from '../../_validation';
import { DestinationRule, VirtualService, VirtualServiceSpecHttpRetries } from '../../imports/networking.istio.io';
import type { MeshReleaseProps } from '../../mesh-release';
import { ReleaseStage } from '../../plan/release-stage';
import { WorkloadOptions } from '../../workload/workload-options';
import { ReleaseContext, RouterImpl, RoutingConstructs } from '../_router';
import { trafficPolicyOf } from './_traffic-policy-json';
import { RoutingContext, destinationRuleSpec, virtualServiceSpec } from './_specs';
import { LoadBalancerAlgorithm, TrafficPolicyOptions } from './traffic-policy';

/** `TrafficRouter.istio()`: DestinationRule subsets and a VirtualService. */
export class IstioRouter implements RouterImpl {
  public readonly description = 'TrafficRouter.istio()';
  public readonly annotatesService = false;

  public checkProps(scope: Construct, props: MeshReleaseProps): void {
    checkTrafficPolicy(scope, 'trafficPolicy', props.trafficPolicy);
    for (const v of props.versions) {
      checkTrafficPolicy(scope, `versions[${v.version}].trafficPolicy`, v.trafficPolicy);
    }
  }

  public checkStage(): void {
    // Istio expresses every stage: weights, header routes and mirrors.
  }

  public serviceSelector(ctx: ReleaseContext): Labels {
    return { app: ctx.app };
  }

  public serviceLabels(): Labels {
    return {};
  }

  public workloadOverrides(): WorkloadOptions {
    return {};
  }

  public emit(scope: Construct, ctx: ReleaseContext, stage: ReleaseStage): RoutingConstructs {
    const routing = istioContext(ctx);
    const destinationRule = new DestinationRule(scope, 'DestinationRule', { metadata: ctx.metadata, spec: destinationRuleSpec(stage, routing) });
    const virtualService = new VirtualService(scope, 'VirtualService', {
      metadata: { ...ctx.metadata, annotations: ctx.stageAnnotations }, spec: virtualServiceSpec(stage, routing),
    });
    return { objects: [destinationRule, virtualService], destinationRule, virtualService };
  }
}

/** What the Istio specs need, from the release. */
function istioContext(ctx: ReleaseContext): RoutingContext {
  const props = ctx.props;
  const retries: VirtualServiceSpecHttpRetries = ctx.retries.attempts === 0 ? { attempts: 0 } : ctx.retries;
  return {
    app: ctx.app,
    namespace: ctx.namespace,
    clusterDomain: ctx.clusterDomain,
    port: ctx.port,
    hosts: props.hosts?.map((host) => resolveHost(host, ctx.namespace, ctx.clusterDomain)),
    gateways: props.gateways,
    retries,
    timeout: ctx.timeout,
    trafficPolicy: trafficPolicyOf(props.trafficPolicy, true),
    subsetTrafficPolicies: Object.fromEntries(props.versions.map((v) => [v.version, trafficPolicyOf(v.trafficPolicy, false)])),
  };
}

function checkTrafficPolicy(scope: Construct, prop: string, options: TrafficPolicyOptions | undefined): void {
  if (options?.warmup && options.loadBalancer === LoadBalancerAlgorithm.RANDOM) {
    throw invalidProp(scope, `${prop}.warmup`, options.warmup, 'needs loadBalancer ROUND_ROBIN or LEAST_REQUEST (Envoy has no warmup for RANDOM)');
  }
  const od = options?.outlierDetection;
  if (od?.maxEjectionPercent !== undefined) {
    checkInteger(scope, `${prop}.outlierDetection.maxEjectionPercent`, od.maxEjectionPercent, 0, 100);
  }
  if (od?.consecutive5xxErrors !== undefined) {
    checkInteger(scope, `${prop}.outlierDetection.consecutive5xxErrors`, od.consecutive5xxErrors, 1);
  }
}
