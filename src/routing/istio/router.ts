import { RoutingContext, destinationRuleSpec, virtualServiceSpec } from './_specs';
import { APP_LABEL, DNS_1123_LABEL, DNS_NAME, Labels, resolveHost, WILDCARD_DNS_NAME } from '../../_conventions';
import { checkEnum, checkInteger, INT32_MAX, invalidProp, istioDuration, PathScope } from '../../_validation';
import { DestinationRule, VirtualService, VirtualServiceSpecHttpRetries } from '../../imports/networking.istio.io';
import { ReleaseStage } from '../../plan/release-stage';
import { WorkloadOptions } from '../../workload/workload-options';
import { checkAllowedCallers, istioPolicies } from '../_istio-policies';
import { checkMirrorShare } from '../_mirror-share';
import { ReleaseContext, RouterImpl, RouterInput, RoutingObject } from '../_router';
import { trafficPolicyOf } from './_traffic-policy-json';
import { IstioRouterOptions } from './istio-options';
import { LoadBalancerAlgorithm, TlsMode, TrafficPolicyOptions } from './traffic-policy';

/** `TrafficRouter.istio()`: DestinationRule subsets and a VirtualService. */
export class IstioRouter implements RouterImpl {
  public readonly description = 'TrafficRouter.istio()';
  public readonly annotatesService = false;
  public readonly writesRetries = true;
  public readonly telemetryReporter = 'destination';

  constructor(private readonly options: IstioRouterOptions) {}

  public checkProps(scope: PathScope, props: RouterInput): void {
    const o = this.options;
    checkHosts(scope, o.hosts, o.gateways);
    checkTrafficPolicy(scope, 'router.trafficPolicy', o.trafficPolicy);
    const versions = props.versions.map((v) => v.version);
    for (const [version, policy] of Object.entries(o.subsetTrafficPolicies ?? {})) {
      if (!versions.includes(version)) {
        throw invalidProp(scope, 'router.subsetTrafficPolicies', version, `must only name versions listed in 'versions' (${versions.join(', ')})`);
      }
      checkTrafficPolicy(scope, `router.subsetTrafficPolicies.${version}`, policy);
    }
    checkAllowedCallers(scope, props.allowedCallers);
  }

  public checkStage(scope: PathScope, stage: ReleaseStage): void {
    // Istio expresses every stage (weights, header routes and mirrors), with mirrors in millionths of requests.
    checkMirrorShare(scope, stage, this.description);
  }

  public serviceSelector(ctx: ReleaseContext): Labels {
    return { [APP_LABEL]: ctx.app };
  }

  public serviceLabels(): Labels {
    return {};
  }

  public workloadOverrides(): WorkloadOptions {
    return {};
  }

  public policyObjects(ctx: ReleaseContext): RoutingObject[] {
    return istioPolicies(ctx);
  }

  public routingObjects(ctx: ReleaseContext, stage: ReleaseStage): RoutingObject[] {
    const routing = istioContext(ctx, this.options);
    return [
      { id: 'DestinationRule', role: 'routable', json: DestinationRule.manifest({ metadata: ctx.metadata, spec: destinationRuleSpec(stage, routing) }) },
      {
        id: 'VirtualService',
        role: 'route',
        json: VirtualService.manifest({ metadata: { ...ctx.metadata, annotations: ctx.stageAnnotations }, spec: virtualServiceSpec(stage, routing) }),
      },
    ];
  }
}

/** Scope of errors that cannot happen: the context's durations were checked when it was made. */
const ISTIO: PathScope = { node: { path: 'TrafficRouter.istio()' } };

/** What the Istio specs need, from the release. */
function istioContext(ctx: ReleaseContext, o: IstioRouterOptions): RoutingContext {
  const { attempts, perTryTimeout, retryOn } = ctx.retries;
  // Validated when the context was made (istioDuration refuses what Istio cannot read).
  const retries: VirtualServiceSpecHttpRetries = attempts === 0
    ? { attempts: 0 }
    : { attempts, perTryTimeout: perTryTimeout && istioDuration(ISTIO, 'retries.perTryTimeout', perTryTimeout), retryOn };
  return {
    app: ctx.app,
    namespace: ctx.namespace,
    clusterDomain: ctx.clusterDomain,
    port: ctx.port,
    hosts: o.hosts?.map((host) => resolveHost(host, ctx.namespace, ctx.clusterDomain)),
    gateways: o.gateways,
    retries,
    timeout: istioDuration(ISTIO, 'timeout', ctx.timeout),
    trafficPolicy: trafficPolicyOf(o.trafficPolicy, true),
    subsetTrafficPolicies: Object.fromEntries(Object.entries(o.subsetTrafficPolicies ?? {})
      .map(([version, policy]) => [version, trafficPolicyOf(policy, false)])),
  };
}

/**
 * Hosts and gateways as Istio's validation accepts them (pilot/pkg/config/validation: a
 * VirtualService needs a host; `*` alone is refused for the mesh gateway; gateway references are
 * `mesh`, `<name>` or `<namespace>/<name>`).
 */
function checkHosts(scope: PathScope, hosts: string[] | undefined, gateways: string[] | undefined): void {
  const boundToMesh = gateways === undefined || gateways.length === 0 || gateways.includes('mesh');
  if (hosts !== undefined && hosts.length === 0) {
    throw invalidProp(scope, 'router.hosts', hosts, 'must list at least one host, or be left out (the service FQDN)');
  }
  for (const host of hosts ?? []) {
    if (host === '*' && boundToMesh) {
      throw invalidProp(scope, 'router.hosts', host, "must not be '*' while the VirtualService is bound to the mesh (Istio refuses it): name the hosts, or bind it to gateways without 'mesh'");
    }
    if (host !== '*' && !WILDCARD_DNS_NAME.test(host)) {
      throw invalidProp(scope, 'router.hosts', host, "must be DNS names (lowercase, optionally starting with '*.'), e.g. 'hello.example.com' or 'helloworld'");
    }
  }
  if (gateways !== undefined && gateways.length === 0) {
    throw invalidProp(scope, 'router.gateways', gateways, "must list at least one gateway, or be left out (in-mesh traffic only, as ['mesh'])");
  }
  for (const gateway of gateways ?? []) {
    const parts = gateway.split('/');
    const valid = gateway === 'mesh' || (parts.length === 1 && DNS_NAME.test(parts[0]))
      || (parts.length === 2 && DNS_1123_LABEL.test(parts[0]) && DNS_NAME.test(parts[1]));
    if (!valid) {
      throw invalidProp(scope, 'router.gateways', gateway, "must be 'mesh', '<gateway>' or '<namespace>/<gateway>'");
    }
  }
}

/** Largest value of a protobuf UInt32Value field (the `maximum` of Istio's CRDs for them). */
const UINT32_MAX = 2 ** 32 - 1;

function checkTrafficPolicy(scope: PathScope, prop: string, options: TrafficPolicyOptions | undefined): void {
  if (options?.warmup && options.loadBalancer === LoadBalancerAlgorithm.RANDOM) {
    throw invalidProp(scope, `${prop}.warmup`, options.warmup, 'needs loadBalancer ROUND_ROBIN or LEAST_REQUEST (Envoy has no warmup for RANDOM)');
  }
  const od = options?.outlierDetection;
  if (od?.maxEjectionPercent !== undefined) {
    checkInteger(scope, `${prop}.outlierDetection.maxEjectionPercent`, od.maxEjectionPercent, 0, 100);
  }
  if (od?.consecutive5xxErrors !== undefined) {
    // a protobuf UInt32Value (the CRD's maximum)
    checkInteger(scope, `${prop}.outlierDetection.consecutive5xxErrors`, od.consecutive5xxErrors, 1, UINT32_MAX);
  }
  for (const field of ['interval', 'baseEjectionTime'] as const) {
    if (od?.[field] !== undefined) {
      istioDuration(scope, `${prop}.outlierDetection.${field}`, od[field]);
    }
  }
  const cp = options?.connectionPool;
  for (const field of ['maxConnections', 'http1MaxPendingRequests', 'http2MaxRequests'] as const) {
    if (cp?.[field] !== undefined) {
      checkInteger(scope, `${prop}.connectionPool.${field}`, cp[field], 1, INT32_MAX);
    }
  }
  if (cp?.maxRequestsPerConnection !== undefined) {
    checkInteger(scope, `${prop}.connectionPool.maxRequestsPerConnection`, cp.maxRequestsPerConnection, 0, INT32_MAX);
  }
  if (cp?.idleTimeout !== undefined) {
    istioDuration(scope, `${prop}.connectionPool.idleTimeout`, cp.idleTimeout);
  }
  if (options?.warmup !== undefined) {
    istioDuration(scope, `${prop}.warmup`, options.warmup);
  }
  if (options?.tlsMode !== undefined) {
    checkEnum(scope, `${prop}.tlsMode`, options.tlsMode, TlsMode);
  }
  if (options?.loadBalancer !== undefined) {
    checkEnum(scope, `${prop}.loadBalancer`, options.loadBalancer, LoadBalancerAlgorithm);
  }
}
