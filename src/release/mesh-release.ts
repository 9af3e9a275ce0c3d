import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { CHECKED_BY_ENV, PLAN_ANNOTATION, ROLLOUT_ANNOTATION, STAGE_ANNOTATION, VERSION_LABEL } from '../_conventions';
import { invalidProp } from '../_validation';
import { annotateApplyOrder } from './_apply-order';
import { DesiredState, ResolvedRelease } from './_desired-state';
import { ReleaseRegistry } from './_release-registry';
import { ApplyOrder } from './apply-order';
import { MeshReleaseProps } from './mesh-release-props';
import { ReleaseStage } from '../plan/release-stage';
import { checkManifests } from '../routing/_registry';
import { ObjectRole, RoutingObject } from '../routing/_router';
import { TrafficRouter } from '../routing/router';
import { errorsOf, readOptions, throwIfUnsafe } from '../safety/_engine';
import { ReadOptions } from '../safety/_facts';
import { SafetyViolation, Severity } from '../safety/safety-rule';
import { apiObjectsUnder, ObjectRegistry } from '../workload/_object-registry';
import { dropEmptyExternalIps } from '../workload/_stored-form';
import { VersionedApp } from '../workload/versioned-app';

export * from './mesh-release-props';

/**
 * A release of one service across versions, at one stage: the version-free Service, one
 * `VersionedApp` per deployed version, and the routing objects of the stage made by its router
 * (by default Istio's DestinationRule, one subset per version, and VirtualService: header
 * routes, then the weighted catch-all route with retries, timeout and mirroring).
 *
 * What a stage is made of is one pure function of the props and the stage (its desired state):
 * the release emits it, and checks it when built, on its own and, when the stage names its
 * previous one, as the transition from it (the previous stage's desired state, made the same
 * way: no second construct tree). A stage that could drop a request throws; warnings are kept in
 * `warnings`. When the app is synthesized (`app.synth()` / `app.synthYaml()` / `Testing.synth()`
 * run construct validations before writing anything), a validation renders the objects once and
 * checks them as they will be written, so user JSON patches and annotation overrides count too.
 */
export class MeshRelease extends Construct {
  /** Annotation naming the stage synthesized (on the VirtualService, HTTPRoute or, with a selector switch, the Service). */
  public static readonly STAGE_ANNOTATION = STAGE_ANNOTATION;
  /** Annotation listing the stages of the plan, in order, comma separated. */
  public static readonly PLAN_ANNOTATION = PLAN_ANNOTATION;
  /**
   * Annotation holding, as JSON, the plan's analysis and pauses (`ReleasePlan` options `analysis` and
   * `pauseBefore`), on the same object; only when the plan has one of them.
   */
  public static readonly ROLLOUT_ANNOTATION = ROLLOUT_ANNOTATION;

  /** Name of the service. */
  public readonly app: string;
  /** Namespace of the release. */
  public readonly namespace: string;
  /** FQDN of the Service, the host of the DestinationRule. */
  public readonly host: string;
  /** The stage synthesized. */
  public readonly stage: ReleaseStage;
  /** How traffic is routed between versions. */
  public readonly router: TrafficRouter;
  /** The version-free Service. */
  public readonly service: kplus.Service;
  /** The deployed versions, in the order of the stage's `deployed`. */
  public readonly versionedApps: VersionedApp[];
  /** The PeerAuthentication, when `strictMtls` is on. */
  public readonly peerAuthentication?: ApiObject;
  /**
   * The AuthorizationPolicy, when `allowedCallers` is given: attached to the app's pods (with an ambient
   * waypoint, enforced by ztunnel, it admits the waypoint's service account besides the callers).
   */
  public readonly authorizationPolicy?: ApiObject;
  /**
   * The AuthorizationPolicy the ambient waypoint enforces, when `allowedCallers` is given with
   * `TrafficRouter.gatewayApi({ ambientWaypoint })`: the callers, checked for the release's Services.
   */
  public readonly waypointAuthorizationPolicy?: ApiObject;

  private readonly release: ResolvedRelease;
  private readonly routing: Map<string, { readonly spec: RoutingObject; readonly object: ApiObject }>;
  private readonly previous?: DesiredState;
  private readonly state: DesiredState;
  private _warnings?: SafetyViolation[];
  /** The JSON text of the objects last found safe at synth time (equal text: equal objects, not checked again). */
  private safeText?: string;

  constructor(scope: Construct, id: string, props: MeshReleaseProps) {
    super(scope, id);
    const chart = Chart.of(this);
    const registry = ReleaseRegistry.of(this);
    this.stage = props.stage;
    let state: DesiredState;
    try {
      // 1. Every prop of the release and of its versions is checked, and the stage made, before any child is created.
      this.release = new ResolvedRelease(this.node.path, props, chart.namespace);
      this.app = props.app;
      this.namespace = this.release.namespace;
      this.host = this.release.host;
      this.router = this.release.router;
      this.release.checkVersionsKnown(this.stage, 'stage',
        (version) => `must only name versions listed in 'versions' (${props.versions.map((v) => v.version).join(', ')}): add '${version}' to versions with its image`);
      const previous = this.stage.previous;
      if (previous) {
        // The transition from the previous stage is checked on that stage's desired state, made from these props.
        this.release.checkVersionsKnown(previous, 'versions',
          (version) => `must also list the versions of the previous stage '${previous.name}', which names '${version}' `
            + `(the transition from it is checked on the objects it had): add '${version}' to versions with its image`);
      }
      state = this.release.desiredState(this.stage);
      const other = registry.releaseOf(this.namespace, this.app);
      if (other) {
        throw invalidProp(this, 'app', this.app,
          `must be released once per namespace: ${other.node.path} already releases '${this.app}' in namespace '${this.namespace}' (both would emit the same objects)`);
      }
      this.previous = previous && this.previousState(previous);

      // 2. The desired state is checked: on its own and after the previous stage (under the CLI, which checks every
      // transition of the YAML it writes, when `warnings` is read).
      this.state = state;
      if (process.env[CHECKED_BY_ENV] !== 'cli') {
        const violations = checkManifests(state.manifests, this.previous?.manifests, this.readOptions());
        throwIfUnsafe(violations, this.context());
        this._warnings = violations;
      }
    } catch (e) {
      // Leave nothing of a refused release in the tree.
      scope.node.tryRemoveChild(id);
      throw e;
    }
    registry.add(this);
    ObjectRegistry.claim(this, this.namespace);

    // 3. The objects, emitted from it.
    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: this.app, labels: state.service.labels, annotations: state.service.annotations },
      ports: [{ name: props.portName ?? 'http', port: props.port, targetPort: props.port }],
    });
    for (const [key, value] of Object.entries(state.service.selector)) {
      this.service.selectLabel(key, value);
    }
    dropEmptyExternalIps(this.service);
    if (props.appProtocol) {
      ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', props.appProtocol));
    }
    this.versionedApps = state.versions.map((v) => new VersionedApp(this, v.version, v.props));
    this.routing = new Map(state.objects.map((spec) => [spec.id, { spec, object: new ApiObject(this, spec.id, spec.json) }]));
    this.peerAuthentication = this.routing.get('PeerAuthentication')?.object;
    this.authorizationPolicy = this.routing.get('AuthorizationPolicy')?.object;
    this.waypointAuthorizationPolicy = this.routing.get('WaypointAuthorizationPolicy')?.object;
    const objects = apiObjectsUnder(this);
    const roleOf = new Map<ApiObject, ObjectRole>([...this.routing.values()].map((r) => [r.object, r.spec.role]));
    roleOf.set(ApiObject.of(this.service), 'service');
    const roles = objects.map((object) => ({ object, role: roleOf.get(object) ?? 'workload' }));
    annotateApplyOrder(roles, this.app, props.applyOrder ?? ApplyOrder.NONE, VERSION_LABEL in state.service.selector);
    if (!chart.namespace) {
      objects.forEach((o) => o.addJsonPatch(JsonPatch.add('/metadata/namespace', this.namespace)));
    }

    // 4. At synth time, the objects as they will be written (user patches included) are checked again.
    this.node.addValidation({ validate: () => this.validate() });
  }

  /**
   * The synth-time check: renders the objects once and checks them, unless they render exactly as the last objects
   * found safe (cdk8s validates the whole app again for every chart it renders: `App.synth()` and `synthYaml()` of an
   * app of several charts call this once per chart, on objects that did not change).
   */
  private validate(): string[] {
    if (process.env[CHECKED_BY_ENV] === 'cli') {
      return []; // the CLI checks the YAML it writes (see CHECKED_BY_ENV)
    }
    const emitted = apiObjectsUnder(this).map((o) => o.toJson());
    const text = JSON.stringify(emitted);
    if (text === this.safeText) {
      return [];
    }
    const errors = errorsOf(this.check(emitted));
    if (errors.length === 0) {
      this.safeText = text;
    }
    return this.describeErrors(errors);
  }

  /**
   * Warnings of the safety check of the stage (hygiene; errors throw instead), as built.
   * `violations()` checks the objects as they would be synthesized now.
   */
  public get warnings(): SafetyViolation[] {
    this._warnings ??= checkManifests(this.state.manifests, this.previous?.manifests, this.readOptions())
      .filter((v) => v.severity !== Severity.ERROR);
    return this._warnings;
  }

  /** The DestinationRule (Istio router only). */
  public get destinationRule(): ApiObject {
    return this.routingObject('DestinationRule', 'destinationRule', 'TrafficRouter.istio()');
  }

  /** The VirtualService (Istio router only). */
  public get virtualService(): ApiObject {
    return this.routingObject('VirtualService', 'virtualService', 'TrafficRouter.istio()');
  }

  /** The HTTPRoute (Gateway API router only). */
  public get httpRoute(): ApiObject {
    return this.routingObject('HTTPRoute', 'httpRoute', 'TrafficRouter.gatewayApi()');
  }

  /**
   * The Service of one routable version, `<app>-<version>` (Gateway API router only; a
   * version has one in the stages where the plan makes it routable).
   */
  public versionService(version: string): ApiObject {
    const services = [...this.routing.values()].filter((r) => r.spec.role === 'routable' && r.spec.json.kind === 'Service');
    const service = services.find((r) => r.spec.version === version);
    if (!service) {
      this.routingObject('HTTPRoute', 'httpRoute', 'TrafficRouter.gatewayApi()');
      throw invalidProp(this, 'versionService', version,
        `must name a version routable in stage '${this.stage.name}' (${services.map((r) => r.spec.version).join(', ')})`);
    }
    return service.object;
  }

  /**
   * Every violation of the release's objects as they would be synthesized now (user patches
   * included), at this stage and as a transition from the previous one: errors and warnings.
   */
  public violations(): SafetyViolation[] {
    return this.check(apiObjectsUnder(this).map((o) => o.toJson()));
  }

  private check(emitted: any[]): SafetyViolation[] {
    return checkManifests(emitted, this.previous?.manifests, this.readOptions());
  }

  /** Errors found at synth time, as cdk8s prints validation errors (after the path). */
  private describeErrors(errors: SafetyViolation[]): string[] {
    // The previous stage is what the library makes of it from the props: a patch of this synth is not in it, so a
    // patch that renames or relabels an object must be applied to every stage alike (and is then checked per stage).
    const after = this.stage.previous
      ? ` (after stage '${this.stage.previous.name}' as made from the props, without the patches of this synth)` : '';
    return errors.map((v) => `stage '${this.stage.name}' as synthesized: [${v.rule}] ${v.object}: ${v.message}. Fix: ${v.fix}${after}`);
  }

  private context(): string {
    return `[${this.node.path}] stage '${this.stage.name}'${this.stage.previous ? ` (after '${this.stage.previous.name}')` : ''}`;
  }

  private readOptions(): ReadOptions {
    return readOptions(this.namespace, this.release.clusterDomain);
  }

  /** The previous stage's desired state; its errors are told as this release's, naming the stage. */
  private previousState(previous: ReleaseStage): DesiredState {
    try {
      return this.release.desiredState(previous);
    } catch (e) {
      throw this.inPreviousStage(e, previous);
    }
  }

  /** An error of the previous stage's desired state (e.g. a stage this router cannot express), naming the stage it is about. */
  private inPreviousStage(e: unknown, previous: ReleaseStage): unknown {
    if (!(e instanceof Error) || e.constructor !== Error) {
      return e;
    }
    return new Error(`${e.message} (in the previous stage '${previous.name}', rendered to check the transition to stage '${this.stage.name}')`);
  }

  private routingObject(id: string, getter: string, router: string): ApiObject {
    const object = this.routing.get(id)?.object;
    if (!object) {
      throw new Error(`[${this.node.path}] has no ${getter}: it is made by ${router}, and this release uses ${this.router.description}`);
    }
    return object;
  }
}
