/**
 * A Gateway an HTTPRoute attaches to (ingress through the Kubernetes Gateway API).
 * @see https://gateway-api.sigs.k8s.io/reference/spec/#parentreference
 */
export interface GatewayReference {
  /** Name of the Gateway. */
  readonly name: string;
  /**
   * Namespace of the Gateway. A Gateway in another namespace must allow routes from the
   * release's namespace (`listeners[].allowedRoutes.namespaces`).
   * @default - the release's namespace
   */
  readonly namespace?: string;
  /**
   * Listener of the Gateway to attach to (`sectionName`).
   * @default - every listener that accepts the route
   */
  readonly sectionName?: string;
}

/**
 * Options of `TrafficRouter.gatewayApi()`.
 *
 * The cluster needs the Gateway API CRDs (standard channel; the output is validated against
 * v1.6.1, where rule names, timeouts and mirror percentages are standard; the experimental
 * channel for `experimentalRetries`) and an implementation: a GAMMA mesh (Istio sidecar or
 * ambient, Linkerd, Cilium...) for the default in-mesh route, or a Gateway controller for
 * `gateways`.
 */
export interface GatewayApiRouterOptions {
  /**
   * Gateways the HTTPRoute attaches to (ingress). Without gateways the HTTPRoute attaches to
   * the version-free Service (GAMMA, in-mesh traffic). With gateways, in-cluster callers of the
   * version-free Service are not routed by the HTTPRoute: they reach every deployed version.
   * At most 32 (the HTTPRoute's `parentRefs` limit), each Gateway named once, or each time with
   * a different `sectionName`.
   * @default - the version-free Service (GAMMA)
   */
  readonly gateways?: GatewayReference[];
  /**
   * Hostnames the HTTPRoute matches on its Gateways (`spec.hostnames`), e.g.
   * `reviews.example.com`. Only with `gateways` (a route attached to a Service matches the
   * Service's own name). At most 16 (the HTTPRoute's `hostnames` limit), no IP addresses.
   * @default - every hostname of the Gateways' listeners
   */
  readonly hostnames?: string[];
  /**
   * Istio ambient mode: the name of the waypoint (in the release's namespace) that enforces
   * the HTTPRoute. The release's Services get the label `istio.io/use-waypoint: <name>`, and the
   * versions drop the sidecar lifecycle annotations (`proxyLifecycle: false`: there is
   * no sidecar in ambient mode). The namespace must be enrolled
   * (`istio.io/dataplane-mode: ambient`) and the waypoint deployed
   * (`istioctl waypoint apply -n <namespace> --name <name>`). Callers outside the mesh, and an
   * ingress gateway not told to use the waypoint (`istio.io/ingress-use-waypoint`), bypass it
   * and reach every version the version-free Service selects. With `allowedCallers`, the callers
   * are checked at the waypoint, and the pods admit the waypoint's service account, which must be
   * the one Istio names after the waypoint (no `gateway.istio.io/service-account` annotation).
   * @default - no waypoint binding (sidecar mesh, or another GAMMA implementation)
   * @see https://istio.io/latest/docs/ambient/usage/waypoint/
   */
  readonly ambientWaypoint?: string;
  /**
   * Emit the release's `retries` as the HTTPRoute rule `retry` field. That field is in the
   * experimental channel of Gateway API 1.6 only: the cluster needs the experimental CRDs,
   * or the API server drops the field (and with it the retries) silently. Without this option
   * the routes have no `retry` field, so the implementation's default retries apply (Istio:
   * 2 retries on connection errors and 503, with no per-try timeout), `retries` is refused
   * and the route timeout is not held to the release's default retries. `retries.retryOn`
   * maps to status `codes` (`gateway-error`: 502, 503, 504; `5xx`: 500-599; `retriable-4xx`:
   * 409); `connect-failure`, `refused-stream` and `reset` are connection errors, which
   * GEP-1731 asks implementations to retry whenever `attempts` is set. An HTTPRoute cannot
   * turn retries off (`retry.attempts` is at least 1): `retries.attempts: 0` is refused.
   * @default false
   * @see https://gateway-api.sigs.k8s.io/geps/gep-1731/
   * @see https://github.com/istio/istio/blob/master/pilot/pkg/networking/core/route/retry/retry.go (Istio's default)
   */
  readonly experimentalRetries?: boolean;
}
