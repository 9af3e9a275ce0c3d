import { checkGateways, checkHostnameCount, checkStageLimits, checkVersionServiceNames } from './_limits';
import {
  GatewayRoutingContext, RETRY_ON_CODES, experimentalRetry, gatewayDuration, httpRouteSpec, serviceParent, versionServiceName,
  versionServiceSelector,
} from './_specs';
import { GatewayApiRouterOptions } from './gateway-api-options';
import { APP_LABEL, DNS_1123_LABEL, DNS_1123_SUBDOMAIN, IPV4_ADDRESS, Labels, WILDCARD_DNS_NAME } from '../../_conventions';
import { invalidProp, PathScope } from '../../_validation';
import type { Reporter } from '../../analysis/_spec';
import { HttpRoute, HttpRouteSpecParentRefs } from '../../imports/gateway.networking.k8s.io';
import { ReleaseStage } from '../../plan/release-stage';
import { WorkloadOptions } from '../../workload/workload-options';
import { checkAllowedCallers, istioPolicies, MAX_POLICY_TARGETS } from '../_istio-policies';
import { checkMirrorShare } from '../_mirror-share';
import { plainService } from '../_plain-service';
import { ReleaseContext, RouterImpl, RouterInput, RoutingObject } from '../_router';

/** Label that binds a Service to an Istio ambient waypoint. */
export const USE_WAYPOINT_LABEL = 'istio.io/use-waypoint';

const DESCRIPTION = 'TrafficRouter.gatewayApi()';

/** `TrafficRouter.gatewayApi()`: one Service per routable version and an HTTPRoute. */
export class GatewayApiRouter implements RouterImpl {
  public readonly description = DESCRIPTION;
  public readonly annotatesService = false;
  /** Only with `experimentalRetries`: without it the routes have no `retry`, and the implementation's default applies. */
  public readonly writesRetries: boolean;

  constructor(private readonly options: GatewayApiRouterOptions) {
    this.writesRetries = options.experimentalRetries === true;
  }

  /** In ambient mode (`ambientWaypoint`) the waypoint reports the L7 metrics; otherwise a sidecar mesh's server proxy. */
  public get telemetryReporter(): Reporter {
    return this.options.ambientWaypoint ? 'waypoint' : 'destination';
  }

  public checkProps(scope: PathScope, props: RouterInput, namespace: string): void {
    const o = this.options;
    if (o.gateways !== undefined && o.gateways.length === 0) {
      throw invalidProp(scope, 'router.gateways', o.gateways, 'must name at least one Gateway (leave it out to attach the HTTPRoute to the Service)');
    }
    for (const gateway of o.gateways ?? []) {
      if (!DNS_1123_SUBDOMAIN.test(gateway.name)) {
        throw invalidProp(scope, 'router.gateways[].name', gateway.name, 'must be a Gateway name (a DNS-1123 subdomain)');
      }
      if (gateway.namespace !== undefined && !DNS_1123_LABEL.test(gateway.namespace)) {
        throw invalidProp(scope, 'router.gateways[].namespace', gateway.namespace, 'must be a namespace name (a DNS-1123 label)');
      }
      if (gateway.sectionName !== undefined && !DNS_1123_SUBDOMAIN.test(gateway.sectionName)) {
        throw invalidProp(scope, 'router.gateways[].sectionName', gateway.sectionName, 'must be a listener name (a DNS-1123 subdomain)');
      }
    }
    checkGateways(scope, o.gateways ?? [], namespace);
    if (o.hostnames !== undefined && o.gateways === undefined) {
      throw invalidProp(scope, 'router.hostnames', o.hostnames,
        'applies only with gateways (a route attached to the Service answers for the Service\'s own name): add gateways, or drop hostnames');
    }
    checkHostnameCount(scope, o.hostnames ?? []);
    for (const hostname of o.hostnames ?? []) {
      if (hostname.length > 253 || !WILDCARD_DNS_NAME.test(hostname) || IPV4_ADDRESS.test(hostname)) {
        throw invalidProp(scope, 'router.hostnames', hostname, "must be lowercase DNS names, optionally starting with '*.' (no IP address, no port), e.g. 'shop.example.com'");
      }
    }
    if (o.ambientWaypoint !== undefined) {
      if (!DNS_1123_LABEL.test(o.ambientWaypoint)) {
        throw invalidProp(scope, 'router.ambientWaypoint', o.ambientWaypoint, 'must be the name of a waypoint Gateway (a DNS-1123 label)');
      }
      for (const [where, options] of [['defaults', props.defaults], ...props.versions.map((v) => [`versions[${v.version}]`, v])] as Array<[string, WorkloadOptions | undefined]>) {
        for (const field of ['proxyLifecycle', 'sidecarDrainDuration'] as const) {
          if (options?.[field] !== undefined) {
            throw invalidProp(scope, `${where}.${field}`, options[field],
              'must be left out with router.ambientWaypoint (ambient mode has no sidecar: the sidecar lifecycle annotations are dropped)');
          }
        }
      }
    }
    if (props.retries?.attempts === 0) {
      throw invalidProp(scope, 'retries.attempts', 0,
        `must be at least 1 with ${DESCRIPTION}: an HTTPRoute cannot turn retries off (its experimental retry.attempts is at least 1, and a route without retry gets the implementation's default: Istio retries twice); drop retries to keep that default, or use TrafficRouter.istio() (VirtualService retries.attempts 0)`);
    }
    if (props.retries) {
      if (!o.experimentalRetries) {
        throw invalidProp(scope, 'retries', props.retries,
          "needs TrafficRouter.gatewayApi({ experimentalRetries: true }) (HTTPRoute retry is in the experimental channel of Gateway API 1.6, whose CRDs the cluster must run): set it, or drop retries (the routes then get the implementation's default retries)");
      }
      for (const condition of (props.retries.retryOn ?? '').split(',').filter((c) => c !== '')) {
        if (!(condition in RETRY_ON_CODES)) {
          throw invalidProp(scope, 'retries.retryOn', props.retries.retryOn,
            `must list conditions an HTTPRoute retry can express (${Object.keys(RETRY_ON_CODES).join(', ')}); '${condition}' has no Gateway API equivalent`);
        }
      }
    }
    if (props.timeout && gatewayDuration(props.timeout.toMilliseconds({ integral: false })) === undefined) {
      throw invalidProp(scope, 'timeout', props.timeout, 'must be below 99999h with TrafficRouter.gatewayApi() (a Gateway API duration)');
    }
    checkVersionServiceNames(scope, props.app, props.stage);
    checkAllowedCallers(scope, props.allowedCallers);
    if (o.ambientWaypoint !== undefined && props.allowedCallers && props.versions.length + 1 > MAX_POLICY_TARGETS) {
      throw invalidProp(scope, 'versions', props.versions.length,
        `must list at most ${MAX_POLICY_TARGETS - 1} versions with allowedCallers and router.ambientWaypoint: the waypoint's AuthorizationPolicy targets the app's Service and each version's Service (targetRefs maxItems ${MAX_POLICY_TARGETS}); list fewer versions, or drop allowedCallers`);
    }
  }

  public checkStage(scope: PathScope, stage: ReleaseStage): void {
    // The Gateway API expresses every stage (weights, header matches and mirrors), within the HTTPRoute's limits and
    // with mirrors in millionths of requests (what Envoy-based implementations apply).
    checkStageLimits(scope, stage);
    checkMirrorShare(scope, stage, DESCRIPTION);
  }

  public serviceSelector(ctx: ReleaseContext): Labels {
    return { [APP_LABEL]: ctx.app };
  }

  public serviceLabels(): Labels {
    return this.options.ambientWaypoint ? { [USE_WAYPOINT_LABEL]: this.options.ambientWaypoint } : {};
  }

  public workloadOverrides(): WorkloadOptions {
    return this.options.ambientWaypoint ? { proxyLifecycle: false } : {};
  }

  /**
   * With `ambientWaypoint`, the allow-list of `allowedCallers` is enforced at the waypoint for the version-free
   * Service and every version's Service (a caller may name one), and the ztunnel's policy admits the waypoint.
   */
  public policyObjects(ctx: ReleaseContext): RoutingObject[] {
    const waypoint = this.options.ambientWaypoint;
    return istioPolicies(ctx, waypoint === undefined ? undefined : {
      name: waypoint,
      services: [ctx.app, ...ctx.props.versions.map((v) => versionServiceName(ctx.app, v.version))],
    });
  }

  public routingObjects(ctx: ReleaseContext, stage: ReleaseStage): RoutingObject[] {
    const versionServices: RoutingObject[] = stage.routable.map((version) => ({
      id: `Service-${version}`,
      role: 'routable',
      version,
      json: plainService({
        name: versionServiceName(ctx.app, version),
        labels: { ...ctx.metadata.labels, 'app.kubernetes.io/version': version, ...this.serviceLabels() },
        portName: ctx.portName,
        port: ctx.port,
        appProtocol: ctx.appProtocol,
        selector: versionServiceSelector(ctx.app, version),
      }),
    }));
    const metadata = { ...ctx.metadata, annotations: ctx.stageAnnotations };
    const json = HttpRoute.manifest({ metadata, spec: httpRouteSpec(stage, this.routingContext(ctx)) });
    // The experimental `retry` field is not in the generated (standard channel) types: added to the plain rules.
    const retry = this.options.experimentalRetries ? experimentalRetry(ctx.retries.attempts, ctx.retries.retryOn) : undefined;
    if (retry) {
      json.spec.rules = json.spec.rules.map((rule: any) => ({ ...rule, retry }));
    }
    return [...versionServices, { id: 'HTTPRoute', role: 'route', json }];
  }

  private routingContext(ctx: ReleaseContext): GatewayRoutingContext {
    const parentRefs: HttpRouteSpecParentRefs[] = this.options.gateways?.map((g) => ({
      group: 'gateway.networking.k8s.io', kind: 'Gateway', name: g.name, namespace: g.namespace, sectionName: g.sectionName,
    })) ?? [serviceParent(ctx.app)];
    const retried = this.options.experimentalRetries && ctx.retries.attempts > 0 && ctx.retries.perTryTimeout;
    return {
      app: ctx.app,
      port: ctx.port,
      parentRefs,
      hostnames: this.options.hostnames,
      requestTimeout: gatewayDuration(ctx.timeout.toMilliseconds())!,
      backendRequestTimeout: retried ? gatewayDuration(ctx.retries.perTryTimeout!.toMilliseconds()) : undefined,
    };
  }
}
