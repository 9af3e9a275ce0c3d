/**
 * The extension point of routing: a router turns a stage into the objects that route traffic
 * between versions. The release's desired state (`release/_desired-state.ts`) composes the
 * workloads (one version per deployed version, the version-free Service) with one router's
 * routing objects; the router's reader and rules check them (`routing/_registry.ts`).
 *
 * Only router-neutral data crosses this boundary: a timeout is a `Duration`, never a router's
 * string format, and the router gets the release's props through `RouterInput`, not the construct.
 */
import { Duration } from 'cdk8s';
import { Labels } from '../_conventions';
import { PathScope } from '../_validation';
import type { Reporter } from '../analysis/_spec';
import { ReleaseStage } from '../plan/release-stage';
import { WorkloadOptions } from '../workload/workload-options';

/** The props of a release a router reads (a structural subset of `MeshReleaseProps`). */
export interface RouterInput {
  readonly app: string;
  readonly stage: ReleaseStage;
  readonly versions: ReadonlyArray<WorkloadOptions & { readonly version: string }>;
  readonly defaults?: WorkloadOptions;
  readonly retries?: { readonly attempts?: number; readonly perTryTimeout?: Duration; readonly retryOn?: string };
  readonly timeout?: Duration;
  readonly strictMtls?: boolean;
  readonly allowedCallers?: { readonly serviceAccounts?: string[]; readonly namespaces?: string[] };
}

/** A release as routers see it: its props, resolved and validated. */
export interface ReleaseContext {
  readonly app: string;
  readonly namespace: string;
  readonly clusterDomain: string;
  readonly port: number;
  readonly portName: string;
  readonly appProtocol?: string;
  /** FQDN of the version-free Service. */
  readonly host: string;
  /** Metadata every object of the release carries (name = app, app labels). */
  readonly metadata: { readonly name: string; readonly labels: Labels };
  /** Annotations naming the stage and the plan, for the object the CLI reads the release from. */
  readonly stageAnnotations: Labels;
  /** Timeout of every route, all tries included (whole milliseconds). */
  readonly timeout: Duration;
  /** Retries of every route: attempts after the first try (0: off, or none written: a router that `writesRetries` not). */
  readonly retries: { readonly attempts: number; readonly perTryTimeout?: Duration; readonly retryOn?: string };
  /** The props as given, for the router's own options. */
  readonly props: RouterInput;
}

/** What an object does in a stage: decides apply and delete order (see `release/_apply-order.ts`). */
export type ObjectRole =
  /** The version-free Service (a route when a selector switch moves it). */
  | 'service'
  /** A version's Deployment, autoscaler and disruption budget. */
  | 'workload'
  /** What makes a version routable: a DestinationRule's subsets, a per-version Service. */
  | 'routable'
  /** What sends traffic to versions: a VirtualService, an HTTPRoute. */
  | 'route'
  /** Mesh policy of the app's pods (PeerAuthentication, AuthorizationPolicy). */
  | 'policy';

/** One routing object of a stage, as plain JSON: what is emitted and what the checks read. */
export interface RoutingObject {
  /** Construct id of the object under the release. */
  readonly id: string;
  readonly role: ObjectRole;
  /** The version it makes routable, for a per-version object. */
  readonly version?: string;
  /** The manifest (apiVersion, kind, metadata, spec). */
  readonly json: any;
}

/** What a router does. */
export interface RouterImpl {
  /** How users write it, for messages: `TrafficRouter.istio()`. */
  readonly description: string;
  /** Whether the version-free Service carries the stage annotations (when the router has no object of its own). */
  readonly annotatesService: boolean;
  /**
   * Whether its routes carry the release's retries. A router that writes none (the Gateway API without its
   * experimental retries) leaves them to the implementation: the release's retry budget does not bind its timeout.
   */
  readonly writesRetries: boolean;
  /**
   * Which Istio proxy reports the L7 metrics of a version's requests, read by the built-in metrics of an analysis:
   * the pod's sidecar (`destination`) or, in ambient mode, the waypoint (`waypoint`).
   */
  readonly telemetryReporter: Reporter;
  /** Throws (`invalidProp`) on props this router cannot honour, before anything is created. */
  checkProps(scope: PathScope, props: RouterInput, namespace: string): void;
  /** Throws when this router cannot express the stage, naming a router that can. */
  checkStage(scope: PathScope, stage: ReleaseStage): void;
  /** Selector of the version-free Service at this stage. */
  serviceSelector(ctx: ReleaseContext, stage: ReleaseStage): Labels;
  /** Labels added to the release's Services (e.g. an ambient waypoint). */
  serviceLabels(ctx: ReleaseContext): Labels;
  /** Options every version gets on top of the user's (e.g. no sidecar lifecycle in ambient mode). */
  workloadOverrides(ctx: ReleaseContext): WorkloadOptions;
  /** The routing objects of the stage, as plain JSON (a pure function of the context and the stage). */
  routingObjects(ctx: ReleaseContext, stage: ReleaseStage): RoutingObject[];
  /** The mesh's policies of the app's pods the props ask for (`strictMtls`, `allowedCallers`), as plain JSON. */
  policyObjects(ctx: ReleaseContext): RoutingObject[];
}
