import { TrafficPolicyOptions } from './traffic-policy';

/**
 * Options of `TrafficRouter.istio()`: what Istio's DestinationRule and VirtualService add to the
 * router-neutral release (hosts and gateways of the VirtualService, traffic policies of the
 * DestinationRule and its subsets).
 */
export interface IstioRouterOptions {
  /**
   * Hosts of the VirtualService, e.g. an external name bound to an ingress Gateway. A short
   * name (no dot) is qualified with the namespace: `helloworld` becomes
   * `helloworld.<namespace>.svc.<cluster domain>`.
   * @default - the service FQDN `<app>.<namespace>.svc.<cluster domain>`
   */
  readonly hosts?: string[];
  /**
   * Gateways the VirtualService applies to, e.g. `istio-system/public-gateway`. Include
   * `mesh` to keep routing in-mesh traffic too.
   * @default - mesh traffic only
   */
  readonly gateways?: string[];
  /**
   * Traffic policy of the DestinationRule (all subsets).
   * @default - TLS mode ISTIO_MUTUAL
   */
  readonly trafficPolicy?: TrafficPolicyOptions;
  /**
   * Traffic policy of some versions' subsets, by version, on top of `trafficPolicy`. Every key
   * must be a version listed in the release's `versions`.
   * @default - the DestinationRule's traffic policy only
   */
  readonly subsetTrafficPolicies?: { [version: string]: TrafficPolicyOptions };
}
