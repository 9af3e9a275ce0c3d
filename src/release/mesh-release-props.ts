/**
 * The props of `MeshRelease`: what a release is made of. Routers read them through
 * `RouterInput` (a structural subset), so this file imports no router implementation.
 */
import { Duration } from 'cdk8s';
import { ApplyOrder } from './apply-order';
import { ReleaseStage } from '../plan/release-stage';
import type { TrafficRouter } from '../routing/router';
import { WorkloadOptions } from '../workload/workload-options';

/** One version of the service a release knows about: its image and overrides of the shared defaults. */
export interface VersionSpec extends WorkloadOptions {
  /** The version, a DNS-1035 label (the `version` label and subset name). */
  readonly version: string;
  /** Container image of this version. */
  readonly image: string;
}

/**
 * Retries of every route.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
export interface RetryOptions {
  /**
   * Retries after the first try (Envoy's `num_retries`: a request makes at most `attempts + 1`
   * tries); 0 turns retries off, and then `perTryTimeout` and `retryOn` must be left out.
   * `TrafficRouter.gatewayApi()` refuses 0: an HTTPRoute cannot turn retries off.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Timeout of each try: whole milliseconds, at least 1ms.
   * @default Duration.seconds(2)
   */
  readonly perTryTimeout?: Duration;
  /**
   * Conditions that trigger a retry (Envoy `x-envoy-retry-on` values, comma separated).
   * @default 'gateway-error,connect-failure,refused-stream'
   */
  readonly retryOn?: string;
}

/**
 * Callers allowed to reach the release's pods (an Istio AuthorizationPolicy allow-list). Each
 * kind of caller is allowed on its own (one `from` source each): a caller is allowed when it
 * runs as one of the service accounts OR in one of the namespaces.
 */
export interface AllowedCallers {
  /**
   * Service accounts allowed to call, as `<namespace>/<service-account>`. Emitted as the
   * AuthorizationPolicy `serviceAccounts` field, which needs Istio 1.25 or later (an older
   * control plane's CRD does not know it). A name with a dot is matched exactly only from the
   * Istio releases fixing GHSA-9gcg-w975-3rjh.
   * @default - none by service account
   */
  readonly serviceAccounts?: string[];
  /**
   * Namespaces whose workloads are allowed to call.
   * @default - none by namespace
   */
  readonly namespaces?: string[];
}

/** Props of `MeshRelease`. */
export interface MeshReleaseProps {
  /** Name of the service: the Service name, the `app` label, the host. A DNS-1035 label. */
  readonly app: string;
  /** Port the containers listen on and the Service exposes. */
  readonly port: number;
  /**
   * Name of the Service and container port; its prefix selects the Istio protocol.
   * @default 'http'
   */
  readonly portName?: string;
  /**
   * `appProtocol` of the Service port (Istio prefers it over the port name).
   * @default - none
   */
  readonly appProtocol?: string;
  /**
   * Namespace of the release: every object is put in it, and hosts are resolved in it.
   * @default - the chart's namespace, else 'default'
   */
  readonly namespace?: string;
  /**
   * Cluster DNS domain, for the FQDN of the Service (`<app>.<namespace>.svc.<domain>`).
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * How traffic is routed between versions.
   * @default TrafficRouter.istio()
   */
  readonly router?: TrafficRouter;
  /** Every version the release knows about; the stage decides which are deployed and routed. */
  readonly versions: VersionSpec[];
  /**
   * Options shared by every version (a version's own options win).
   * @default - VersionedApp's defaults
   */
  readonly defaults?: WorkloadOptions;
  /** The stage to synthesize (usually `plan.stage(name)`). */
  readonly stage: ReleaseStage;
  /**
   * Retries of every route. With `TrafficRouter.gatewayApi()` only with its `experimentalRetries`
   * (HTTPRoute `retry` is experimental-channel in Gateway API 1.6; without it the routes get the
   * implementation's default retries); refused with `TrafficRouter.serviceSelector()`.
   * @default - 3 attempts, 2s per try, on gateway-error,connect-failure,refused-stream (written by
   * `TrafficRouter.istio()`, and `TrafficRouter.gatewayApi({ experimentalRetries: true })`)
   */
  readonly retries?: RetryOptions;
  /**
   * Timeout of every route, which must cover every try: `(retries.attempts + 1) x
   * retries.perTryTimeout` (when the router writes the retries). Whole milliseconds, at least 1ms. Refused with
   * `TrafficRouter.serviceSelector()` (a Service has no timeout).
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Raise an autoscaled version's `minReplicas` to its share of traffic, so a weight shift
   * lands on enough pods. The floor covers the version's weight in this stage, in the next stage
   * of the plan (so pods are scaled up one stage before the traffic comes) and in the previous
   * one (so rolling back, by applying the previous stage again, lands on pods that already run):
   * `ceil(reference x weight / 100)`, with the reference of the stage the weight is in: the largest
   * `minReplicas` of the versions deployed in it or in the stage before, or any larger floor it
   * gives (the floors of a plan's stages are computed together). A floor never lowers a version's
   * own `minReplicas`; versions with fixed replicas are never changed.
   * @default true
   */
  readonly scaleWithTraffic?: boolean;
  /**
   * Emit a PeerAuthentication requiring mutual TLS (STRICT) for the app's pods (a mesh router
   * only: Istio with sidecars or ambient).
   * @default false
   */
  readonly strictMtls?: boolean;
  /**
   * Emit an AuthorizationPolicy allowing only these callers to reach the app's pods.
   * With gateways, remember to allow the ingress gateway's service account. With
   * `TrafficRouter.gatewayApi({ ambientWaypoint })` the callers are checked at the waypoint (a
   * second AuthorizationPolicy, `<app>-waypoint`, with `targetRefs` to the app's Service and each
   * version's Service), and the pods' policy, enforced by ztunnel, admits the waypoint's service
   * account `<namespace>/<waypoint>` (the name Istio gives it) besides the callers: ztunnel sees
   * the waypoint's identity on what the waypoint forwards, never the caller's.
   * @default - no AuthorizationPolicy
   * @see https://istio.io/latest/docs/ambient/usage/l4-policy/
   */
  readonly allowedCallers?: AllowedCallers;
  /**
   * Annotate the objects so a GitOps tool applying the whole stage at once applies it in a
   * safe order (Argo CD sync waves or kapp change rules); see `ApplyOrder` for the trade-offs.
   * @default ApplyOrder.NONE
   */
  readonly applyOrder?: ApplyOrder;
}
