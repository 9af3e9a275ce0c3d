/**
 * What the shared safety rules know about one stage, read from its plain manifests (ours or
 * hand-written YAML) by one reader per concern: objects (`_manifests.ts`), workloads
 * (`_workloads.ts`) and one per router (`routing/<router>/_reader.ts`). Shared rules never read
 * manifests themselves, and never parse the display texts (`label`) of the facts: names are fields.
 */
import { Labels } from '../_conventions';

/** How the objects of a stage are read. */
export interface ReadOptions {
  /** Namespace of objects that carry none (applied with `kubectl -n`). */
  readonly namespace: string;
  /** Cluster DNS domain, for `<service>.<namespace>.svc.<domain>` hosts. */
  readonly clusterDomain: string;
}

/** `Kind/name` of a manifest, as violations name objects. */
export function objectName(manifest: any): string {
  return `${manifest?.kind}/${manifest?.metadata?.name}`;
}

/** A workload (Deployment, StatefulSet...) and what decides whether its pods can serve. */
export interface WorkloadFacts {
  /** `Kind/name`. */
  readonly object: string;
  readonly name: string;
  readonly namespace: string;
  readonly podLabels: Labels;
  /**
   * Pods guaranteed to run: the `minReplicas` of a HorizontalPodAutoscaler targeting it,
   * else `spec.replicas` (1 when unset, the API server's default).
   */
  readonly floor: number;
  /** Where the floor comes from, for messages, e.g. `replicas: 0` or `HorizontalPodAutoscaler/x minReplicas: 2`. */
  readonly floorSource: string;
  /** `spec.replicas` as written, when it is a number (left out: the API server's default, 1, or an autoscaler's count). */
  readonly replicas?: number;
  /** Whether a HorizontalPodAutoscaler of the stage targets it (then `replicas`, read back from a cluster, is the autoscaler's count). */
  readonly autoscaled: boolean;
  /** Why a rollout of this workload can take every pod down at once (Recreate, maxUnavailable 100%), if it can. */
  readonly rolloutTakesAllPods?: string;
  /** terminationGracePeriodSeconds (30 when unset). */
  readonly graceSeconds: number;
  /** Longest preStop sleep of its containers, in seconds (0 when none). */
  readonly preStopSleepSeconds: number;
  /** How long the Istio sidecar keeps serving after the pod is asked to stop, and how that was worked out. */
  readonly sidecarDrain?: SidecarDrain;
}

/** The time an Istio sidecar needs when its pod terminates (see `_workloads.ts` for the model and its sources). */
export interface SidecarDrain {
  /** Seconds the grace period must cover, app preStop included. */
  readonly requiredSeconds: number;
  /** How the figure is made up, e.g. `preStop 10s + drain 15s`. */
  readonly explanation: string;
  /** Why a classic sidecar would exit before the app's preStop sleep ends, if it would. */
  readonly exitsEarly?: string;
  /** The proxy setting that decides the drain (`terminationDrainDuration` or `MINIMUM_DRAIN_DURATION`). */
  readonly drainSetting: string;
}

/**
 * Something a route sends traffic to that stands for one set of pods: an Istio DestinationRule
 * subset, or a Kubernetes Service (a Gateway API backendRef, or the Service a selector switch moves).
 */
export interface BackendFacts {
  /** Identity across stages, e.g. `subset:<host>#<name>` or `service:<namespace>/<name>`. */
  readonly id: string;
  /** What kind of backend: decides the rule names (`subset-*` or `service-*`). */
  readonly kind: BackendKind;
  /** For messages, e.g. `subset 'v2' of reviews.shop.svc.cluster.local`. */
  readonly label: string;
  /** Its name: the subset's (`v2`), the Service's (`reviews-v2`), or the host's. */
  readonly name: string;
  /** The host it answers for: of a subset, the host of its DestinationRule; of a host, the host itself. */
  readonly host?: string;
  /** The object that defines it, `Kind/name`. */
  readonly object: string;
  /** Namespace of the pods it reaches. */
  readonly namespace: string;
  /** Labels a pod must carry to be reached (subset labels and Service selector together). */
  readonly selector: Labels;
  /** False when the pods cannot be known from the manifests (a host outside them): rules that need pods skip it. */
  readonly podsKnown: boolean;
}

/**
 * Kinds of backend: an Istio subset, a Service named by a route (Gateway API backendRef, selector
 * switch), or a whole host an Istio route names without a subset (never defined or removed by a
 * stage: only its pods are checked).
 */
export type BackendKind = 'subset' | 'service' | 'host';

/** One destination of a route rule. */
export interface TargetFacts {
  /** The backend's id (it may be missing from the stage: a violation). */
  readonly backendId: string;
  readonly kind: BackendKind;
  /** For messages, as `BackendFacts.label`. */
  readonly label: string;
  /** As `BackendFacts.name`. */
  readonly name: string;
  /** As `BackendFacts.host`. */
  readonly host?: string;
  /** Share of the rule's requests, 0–100 (a mirror's percentage for mirrors). */
  readonly weight: number;
  /** A weight as written, when it is not a valid integer 0–100 (for the `weights` rule). */
  readonly invalidWeight?: unknown;
  /** True for a mirror (copies of requests; the response is discarded). */
  readonly mirror: boolean;
}

/** One rule of a route (an `http`/`tcp`/`tls` route of a VirtualService, a rule of an HTTPRoute, a Service's selector). */
export interface RuleFacts {
  /** The route object, `Kind/name`. */
  readonly object: string;
  /** Where in it, e.g. `VirtualService/x http[1]`. */
  readonly where: string;
  /** Whether the rule only takes some requests (it has matches). */
  readonly hasMatch: boolean;
  /** Its matches for people, e.g. `x-version=v3 | x-beta^=1` (the CLI's views), when it has some. */
  readonly matchText?: string;
  readonly targets: TargetFacts[];
  /** Retries: attempts after the first try, and the timeout of each try in ms. */
  readonly retries?: { readonly attempts: number; readonly perTryTimeoutMs?: number };
  /** Timeout of the whole request in ms, all tries included. */
  readonly timeoutMs?: number;
}

/** A route object: its rules, in order (the first match wins). */
export interface RouteFacts {
  readonly object: string;
  readonly namespace: string;
  readonly rules: RuleFacts[];
  /** True when requests matching no rule are rejected (there must be a catch-all last). */
  readonly needsCatchAll: boolean;
  /**
   * True when only requests entering through gateways take it (a VirtualService bound to gateways only, an HTTPRoute
   * attached to Gateways only): the requests it leaves unmatched were never answered by a Service's own endpoints,
   * so it needs a catch-all only when its previous version had one (an ingress route exposing some paths is the
   * upstream docs' own example: istio/istio samples/bookinfo/networking/bookinfo-gateway.yaml and
   * samples/bookinfo/gateway-api/bookinfo-gateway.yaml).
   */
  readonly gatewayOnly?: boolean;
  /** Name of the first-level list, for messages (`http`, `rules`...). */
  readonly list: string;
}

/** Two or more objects of a stage with one identity (group, kind, namespace, name). */
export interface DuplicateObject {
  /** `Kind/name` of the first of them. */
  readonly object: string;
  readonly namespace: string;
  readonly count: number;
}

/**
 * A route object that takes the requests in-mesh callers send to a Service: a VirtualService bound to the mesh whose
 * hosts include the Service's, an HTTPRoute attached to the Service (GAMMA).
 */
export interface ServiceRouteFacts {
  /** `<namespace>/<name>` of the Service. */
  readonly service: string;
  /** The route object, `Kind/name`. */
  readonly object: string;
  readonly namespace: string;
  /** Its kind (`VirtualService`, `HTTPRoute`): routes of different kinds for one Service are not merged. */
  readonly kind: string;
}

/** Everything the shared rules know about one stage. */
export interface StageFacts {
  readonly workloads: WorkloadFacts[];
  readonly backends: BackendFacts[];
  readonly routes: RouteFacts[];
  /** Objects of the stage that share one identity. */
  readonly duplicates: DuplicateObject[];
  /**
   * `<namespace>/<name>` of every Service the routers' objects route in this stage: the destination, mirror or
   * parent of a route, the host of a DestinationRule (a selector switch is a Service no router routes).
   */
  readonly routedServices: ReadonlySet<string>;
  /** The route objects that take the in-mesh requests to a Service. */
  readonly serviceRoutes: readonly ServiceRouteFacts[];
}

/** Where readers add the facts of a stage. */
export interface FactsBuilder {
  readonly backends: BackendFacts[];
  readonly routes: RouteFacts[];
  /** See `StageFacts.routedServices`. */
  readonly routedServices: Set<string>;
  /** See `StageFacts.serviceRoutes`. */
  readonly serviceRoutes: ServiceRouteFacts[];
}

/** The id of a Service backend (one id whichever router reads the Service: a route's backendRef, a selector switch). */
export function serviceId(namespace: string, name: string): string {
  return `service:${namespace}/${name}`;
}

/** How messages name a Service backend. */
export function serviceLabel(namespace: string, name: string): string {
  return `Service ${namespace}/${name}`;
}

/** A Service as a backend: the pods its selector reaches (`namespace`: its own, or the stage's default). */
export function serviceBackend(service: any, namespace: string): BackendFacts {
  const name: string = service.metadata?.name;
  const selector: Labels = service.spec?.selector ?? {};
  return {
    id: serviceId(namespace, name),
    kind: 'service',
    label: serviceLabel(namespace, name),
    name,
    object: objectName(service),
    namespace,
    selector,
    // A Service without a selector has hand-made endpoints: its pods cannot be known.
    podsKnown: Object.keys(selector).length > 0,
  };
}
