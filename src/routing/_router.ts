/**
 * The extension point of routing: a router turns a stage into the objects that route traffic
 * between versions. `MeshRelease` composes the workloads (one `VersionedApp` per deployed
 * version, the version-free Service) with one router. Adding a router means one new folder
 * under `routing/`, a factory on `TrafficRouter`, and its reader and rules in `safety/_routers.ts`.
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Labels } from '../_conventions';
import type { MeshReleaseProps } from '../mesh-release';
import { ReleaseStage } from '../plan/release-stage';
import { WorkloadOptions } from '../workload/workload-options';

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
  /** Timeout of every route, all tries included, as a protobuf duration (`10s`, `1500ms`). */
  readonly timeout: string;
  /** Retries of every route: attempts after the first try (0: off). */
  readonly retries: { readonly attempts: number; readonly perTryTimeout?: string; readonly retryOn?: string };
  /** The props as given, for the router's own options. */
  readonly props: MeshReleaseProps;
}

/** The routing objects a router emitted, by role. */
export interface RoutingConstructs {
  /** Every routing object, in order. */
  readonly objects: ApiObject[];
  /** Istio only. */
  readonly destinationRule?: ApiObject;
  /** Istio only. */
  readonly virtualService?: ApiObject;
  /** Gateway API only. */
  readonly httpRoute?: ApiObject;
  /** Per-version Services, by version (Gateway API). */
  readonly versionServices?: { [version: string]: kplus.Service };
}

/** What a router does. */
export interface RouterImpl {
  /** How users write it, for messages: `TrafficRouter.istio()`. */
  readonly description: string;
  /** Whether the version-free Service carries the stage annotations (when the router has no object of its own). */
  readonly annotatesService: boolean;
  /** Throws (`invalidProp`) on props this router cannot honour, before anything is created. */
  checkProps(scope: Construct, props: MeshReleaseProps): void;
  /** Throws when this router cannot express the stage, naming a router that can. */
  checkStage(scope: Construct, stage: ReleaseStage): void;
  /** Selector of the version-free Service at this stage. */
  serviceSelector(ctx: ReleaseContext, stage: ReleaseStage): Labels;
  /** Labels added to the release's Services (e.g. an ambient waypoint). */
  serviceLabels(ctx: ReleaseContext): Labels;
  /** Options every version gets on top of the user's (e.g. no sidecar lifecycle in ambient mode). */
  workloadOverrides(ctx: ReleaseContext): WorkloadOptions;
  /** Creates the routing objects of the stage under `scope`. */
  emit(scope: Construct, ctx: ReleaseContext, stage: ReleaseStage): RoutingConstructs;
}
