import { RouterImpl } from './_router';
import { GatewayApiRouterOptions } from './gateway-api/gateway-api-options';
import { GatewayApiRouter } from './gateway-api/router';
import { IstioRouterOptions } from './istio/istio-options';
import { IstioRouter } from './istio/router';
import { ServiceSelectorRouter } from './service-selector/router';

/**
 * How a `MeshRelease` routes traffic between versions. The release plan is the same for every
 * router; a router that cannot express a stage (e.g. a 10% weight with a Service selector)
 * refuses it and names one that can.
 *
 * | router | a routable version is | traffic split | needs in the cluster |
 * |---|---|---|---|
 * | `TrafficRouter.istio()` | a DestinationRule subset | VirtualService weights, header routes, mirror | Istio (sidecars) |
 * | `TrafficRouter.gatewayApi()` | a Service `<app>-<version>` | HTTPRoute backendRef weights, header matches, RequestMirror | Gateway API CRDs + a GAMMA mesh (or a Gateway controller) |
 * | `TrafficRouter.serviceSelector()` | the Deployment itself | the Service selector: 0% or 100% per version | nothing |
 */
export class TrafficRouter {
  /**
   * Istio's classic API: a DestinationRule with one subset per routable version and a
   * VirtualService (header routes, then the weighted catch-all with retries, timeout and mirror).
   * Needs Istio with sidecars (or a waypoint that supports subsets).
   *
   * @example
   * TrafficRouter.istio(); // in-mesh, the service FQDN
   * TrafficRouter.istio({ hosts: ['reviews.example.com'], gateways: ['istio-system/public', 'mesh'] });
   * TrafficRouter.istio({ trafficPolicy: { tlsMode: TlsMode.ISTIO_MUTUAL }, subsetTrafficPolicies: { v2: { loadBalancer: LoadBalancerAlgorithm.LEAST_REQUEST } } });
   */
  public static istio(options: IstioRouterOptions = {}): TrafficRouter {
    return new TrafficRouter(new IstioRouter(options));
  }

  /**
   * The Kubernetes Gateway API: one Service per routable version (`<app>-<version>`, selecting
   * `app` and `version`; created in `make-routable`, removed in `drop-routable`) and an HTTPRoute
   * named after the app: one rule per header route, then the catch-all rule with the weighted
   * backendRefs, the mirror (RequestMirror filter) and `timeouts.request`.
   *
   * By default the HTTPRoute attaches to the version-free Service (GAMMA: in-mesh traffic with
   * Istio ambient or sidecars, Linkerd, Cilium...); with `gateways` it attaches to ingress
   * Gateways instead. Retries are off unless `experimentalRetries` is set (experimental channel).
   *
   * @example
   * TrafficRouter.gatewayApi(); // in-mesh (GAMMA)
   * TrafficRouter.gatewayApi({ gateways: [{ name: 'public', namespace: 'infra' }], hostnames: ['reviews.example.com'] });
   * TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }); // Istio ambient
   * @see https://gateway-api.sigs.k8s.io/mesh/
   */
  public static gatewayApi(options: GatewayApiRouterOptions = {}): TrafficRouter {
    return new TrafficRouter(new GatewayApiRouter(options));
  }

  /**
   * Blue/green without a mesh: the version-free Service selects `app` and `version` of the
   * version with 100% of the traffic. `deploy` starts the candidate unselected, `shift-100`
   * switches the selector (only to a version whose Deployment was already there in the stage
   * before, so its pods are ready), and the old Deployment stays until `retire`: endpoints and
   * kube-proxy rules lag behind the switch, so the old pods keep answering meanwhile. Emits no
   * routing object (the Service carries the stage annotations). Stages with other weights,
   * header routes or mirrors are refused: they need `istio()` or `gatewayApi()`.
   *
   * Compared with a rolling update of one Deployment (`VersionedApp` with `createService`): a
   * rolling update needs half the pods (it replaces pods in place) but mixes both versions for
   * the whole rollout and rolls back only by rolling forward again; the selector switch runs
   * both versions side by side, moves all traffic at once after the new pods are ready, and
   * rolls back instantly by applying the previous stage while the old Deployment still runs.
   * Prefer a rolling update for compatible, low-risk changes; the switch when versions must not
   * serve side by side, or when a fast roll back matters more than the extra pods.
   */
  public static serviceSelector(): TrafficRouter {
    return new TrafficRouter(new ServiceSelectorRouter());
  }

  /**
   * What the router does, for the release (internal: stripped from the typings).
   * @internal
   */
  public static _implOf(router: TrafficRouter): RouterImpl {
    return router.impl;
  }

  /** Private, so the type is nominal: only the factories make a `TrafficRouter`. */
  private readonly impl: RouterImpl;

  private constructor(impl: RouterImpl) {
    this.impl = impl;
  }

  /** How the router is written, e.g. `TrafficRouter.istio()`. */
  public get description(): string {
    return this.impl.description;
  }
}
