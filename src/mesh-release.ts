import { ApiObject, App, Chart, Duration, JsonPatch, YamlOutputType } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { annotateApplyOrder } from './_apply-order';
import { DEFAULT_CLUSTER_DOMAIN, DNS_1123_LABEL, DNS_1123_SUBDOMAIN, PLAN_ANNOTATION, STAGE_ANNOTATION, serviceFqdn } from './_conventions';
import { apiObjectsUnder, isRenderOnly, renderChart, renderChartId } from './_render';
import { rememberRender, renderedStage, synthesizedByCli } from './_rendered-stages';
import { push } from './_util';
import { checkAppProtocol, checkDns1035Label, checkDns1123Label, checkImage, checkInteger, checkPort, checkPortName, invalidProp, istioDuration } from './_validation';
import { ApplyOrder } from './apply-order';
import { HttpRoute } from './imports/gateway.networking.k8s.io';
import { DestinationRule, VirtualService } from './imports/networking.istio.io';
import { AuthorizationPolicy, AuthorizationPolicySpecAction, PeerAuthentication, PeerAuthenticationSpecMtlsMode } from './imports/security.istio.io';
import { ReleaseStage } from './plan/release-stage';
import { ReleaseContext, RoutingConstructs } from './routing/_router';
import { TrafficPolicyOptions } from './routing/istio/traffic-policy';
import { TrafficRouter } from './routing/router';
import { checkManifests, readOptions, throwIfUnsafe } from './safety/_engine';
import { RenderCheck, renderQuietly } from './safety/_render-check';
import { SafetyRule, SafetyViolation } from './safety/safety-rule';
import { invalidRetryOn, RETRY_ON_POLICIES } from './validation/_istio-semantics';
import { mergeWorkloadOptions } from './workload/_merge';
import { resolveAhead } from './workload/_resolved-version';
import { Scaling } from './workload/scaling';
import { VersionedApp } from './workload/versioned-app';
import { WorkloadOptions } from './workload/workload-options';

/** One version of the service a release knows about: its image and overrides of the shared defaults. */
export interface VersionSpec extends WorkloadOptions {
  /** The version, a DNS-1035 label (the `version` label and subset name). */
  readonly version: string;
  /** Container image of this version. */
  readonly image: string;
  /**
   * Traffic policy of this version's subset, on top of the release's (`TrafficRouter.istio()` only).
   * @default - the release's traffic policy only
   */
  readonly trafficPolicy?: TrafficPolicyOptions;
}

/**
 * Retries of every route.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
export interface RetryOptions {
  /**
   * Retries after the first try (Envoy's `num_retries`: a request makes at most `attempts + 1`
   * tries); 0 turns retries off, and then `perTryTimeout` and `retryOn` must be left out.
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
   * Hosts of the VirtualService, e.g. an external name bound to an ingress Gateway. A short
   * name (no dot) is qualified with the namespace: `helloworld` becomes
   * `helloworld.<namespace>.svc.cluster.local`. `TrafficRouter.istio()` only (with the Gateway API,
   * use `TrafficRouter.gatewayApi({ hostnames })`).
   * @default - the service FQDN `<app>.<namespace>.svc.cluster.local`
   */
  readonly hosts?: string[];
  /**
   * Gateways the VirtualService applies to, e.g. `istio-system/public-gateway`. Include
   * `mesh` to keep routing in-mesh traffic too. `TrafficRouter.istio()` only (with the Gateway API,
   * use `TrafficRouter.gatewayApi({ gateways })`).
   * @default - mesh traffic only
   */
  readonly gateways?: string[];
  /**
   * Retries of every route. With `TrafficRouter.gatewayApi()` only with its `experimentalRetries`
   * (HTTPRoute `retry` is experimental-channel in Gateway API 1.6); refused with
   * `TrafficRouter.serviceSelector()`.
   * @default - 3 attempts, 2s per try, on gateway-error,connect-failure,refused-stream
   */
  readonly retries?: RetryOptions;
  /**
   * Timeout of every route, which must cover every try: `(retries.attempts + 1) x
   * retries.perTryTimeout`. Whole milliseconds, at least 1ms. Refused with
   * `TrafficRouter.serviceSelector()` (a Service has no timeout).
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Traffic policy of the DestinationRule (all subsets); `TrafficRouter.istio()` only.
   * @default - TLS mode ISTIO_MUTUAL
   */
  readonly trafficPolicy?: TrafficPolicyOptions;
  /**
   * Raise an autoscaled version's `minReplicas` to its share of traffic, so a weight shift
   * lands on enough pods. The share is the largest of the version's weights in this stage, the
   * next stage of the plan (so pods are scaled up one stage before the traffic comes) and the
   * previous one (so rolling back, by applying the previous stage again, lands on pods that
   * already run), and the floor is `ceil(reference x share / 100)`, where the reference is the largest
   * `minReplicas` of the versions deployed in this stage or the previous one. A floor never
   * lowers a version's own `minReplicas`; versions with fixed replicas are never changed.
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
   * With gateways, remember to allow the ingress gateway's service account.
   * @default - no AuthorizationPolicy
   */
  readonly allowedCallers?: AllowedCallers;
  /**
   * Annotate the objects so a GitOps tool applying the whole stage at once applies it in a
   * safe order (Argo CD sync waves or kapp change rules); see `ApplyOrder` for the trade-offs.
   * @default ApplyOrder.NONE
   */
  readonly applyOrder?: ApplyOrder;
}

/** AuthorizationPolicy `source.serviceAccounts` maxItems (security.istio.io CRD of Istio 1.30). */
const MAX_SERVICE_ACCOUNTS = 16;

/** The releases of each chart, by `<namespace>/<app>`, to refuse a second release of one app. */
const RELEASES_BY_CHART = new WeakMap<Chart, Map<string, string>>();

/**
 * A release of one service across versions, at one stage: the version-free Service, one
 * `VersionedApp` per deployed version, and the routing objects of the stage made by its router
 * (by default Istio's DestinationRule, one subset per version, and VirtualService: header
 * routes, then the weighted catch-all route with retries, timeout and mirroring).
 *
 * Safety is checked on the objects the release emits, not on a model of them: when the
 * release is built (its stage on its own and, when the stage names its previous one, the
 * transition from it — rendered the same way), and again when the app is synthesized
 * (`app.synth()` / `app.synthYaml()` run construct validations), so user JSON patches and
 * annotation overrides are checked too. A stage that could drop a request throws; warnings are
 * kept in `warnings`. The synth-time check runs on the very JSON cdk8s writes (once per synth) and
 * skips a set of objects equal to one already found safe. Under the `mesh-release` CLI (`plan`,
 * `runbook`), which synthesizes each stage right after building it, the objects are checked once,
 * at synth time.
 */
export class MeshRelease extends Construct {
  /** Annotation naming the stage synthesized (on the VirtualService, HTTPRoute or, with a selector switch, the Service). */
  public static readonly STAGE_ANNOTATION = STAGE_ANNOTATION;
  /** Annotation listing the stages of the plan, in order, comma separated. */
  public static readonly PLAN_ANNOTATION = PLAN_ANNOTATION;

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
  public readonly peerAuthentication?: PeerAuthentication;
  /** The AuthorizationPolicy, when `allowedCallers` is given. */
  public readonly authorizationPolicy?: AuthorizationPolicy;

  private readonly routing: RoutingConstructs;
  private _warnings?: SafetyViolation[];
  private readonly props: MeshReleaseProps;
  private readonly clusterDomain: string;
  private previousManifests?: any[];
  private floors: Map<string, Scaling>;
  private specs: Map<string, VersionSpec>;

  constructor(scope: Construct, id: string, props: MeshReleaseProps) {
    super(scope, id);
    const chart = Chart.of(this);
    this.props = props;

    // 1. Every prop of the release and of its versions is checked before any child is created.
    checkDns1035Label(this, 'app', props.app);
    checkPort(this, 'port', props.port);
    const portName = props.portName ?? 'http';
    checkPortName(this, 'portName', portName);
    this.app = props.app;
    this.stage = props.stage;
    this.router = props.router ?? TrafficRouter.istio();
    if (props.namespace && chart.namespace && props.namespace !== chart.namespace) {
      throw invalidProp(this, 'namespace', props.namespace, `must match the chart's namespace '${chart.namespace}' (or be left out)`);
    }
    this.namespace = props.namespace ?? chart.namespace ?? 'default';
    checkDns1123Label(this, 'namespace', this.namespace);
    if (props.appProtocol !== undefined) {
      checkAppProtocol(this, 'appProtocol', props.appProtocol);
    }
    this.clusterDomain = props.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    if (!DNS_1123_SUBDOMAIN.test(this.clusterDomain)) {
      throw invalidProp(this, 'clusterDomain', this.clusterDomain, "must be a DNS domain such as 'cluster.local'");
    }
    this.host = serviceFqdn(this.app, this.namespace, this.clusterDomain);
    const specs = this.versionSpecs(props);
    this.router._impl.checkProps(this, props);
    this.router._impl.checkStage(this, this.stage);
    this.checkAllowedCallers(props.allowedCallers);
    this.claimName(chart);
    const ctx: ReleaseContext = {
      app: this.app,
      namespace: this.namespace,
      clusterDomain: this.clusterDomain,
      port: props.port,
      portName,
      appProtocol: props.appProtocol,
      host: this.host,
      metadata: { name: this.app, labels: { 'app': this.app, 'app.kubernetes.io/name': this.app } },
      stageAnnotations: { [STAGE_ANNOTATION]: this.stage.name, [PLAN_ANNOTATION]: this.stage.planStageNames.join(',') },
      ...resilience(this, props),
      props,
    };

    // 2. The desired state of the stage: what each deployed version runs, how the Service selects.
    const floors = this.trafficFloors(props, specs, this.stage);
    this.floors = floors;
    this.specs = specs;
    const overrides = this.router._impl.workloadOverrides(ctx);
    // Rendering a previous stage, the versions whose objects it has in common with the stage that asked are taken from there.
    const shared = SHARED_VERSIONS.get(chart);
    const workloads = this.stage.deployed.filter((version) => !shared?.has(version)).map((version) => {
      const { trafficPolicy, image, version: _v, ...own } = specs.get(version)!;
      const options: WorkloadOptions = { ...mergeWorkloadOptions(props.defaults, own), ...overrides };
      const workload = { ...options, scaling: floors.get(version) ?? options.scaling, version, image, app: this.app, port: props.port, portName };
      // Every deployed version is resolved (and refused) before any child is created; its VersionedApp reuses it.
      resolveAhead(`${this.node.path}/${version}`, workload);
      return { version, props: workload };
    });

    // 3. The objects, emitted from it.
    this.service = new kplus.Service(this, 'Service', {
      metadata: {
        ...ctx.metadata,
        labels: { ...ctx.metadata.labels, ...this.router._impl.serviceLabels(ctx) },
        annotations: this.router._impl.annotatesService ? ctx.stageAnnotations : undefined,
      },
      ports: [{ name: portName, port: props.port, targetPort: props.port }],
    });
    for (const [key, value] of Object.entries(this.router._impl.serviceSelector(ctx, this.stage))) {
      this.service.selectLabel(key, value);
    }
    if (props.appProtocol) {
      ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', props.appProtocol));
    }
    this.versionedApps = workloads.map((w) => new VersionedApp(this, w.version, w.props));
    this.routing = this.router._impl.emit(this, ctx, this.stage);
    const selector = { matchLabels: { app: this.app } };
    if (props.strictMtls) {
      this.peerAuthentication = new PeerAuthentication(this, 'PeerAuthentication', {
        metadata: ctx.metadata, spec: { selector, mtls: { mode: PeerAuthenticationSpecMtlsMode.STRICT } },
      });
    }
    if (props.allowedCallers) {
      const { serviceAccounts, namespaces } = props.allowedCallers;
      this.authorizationPolicy = new AuthorizationPolicy(this, 'AuthorizationPolicy', {
        metadata: ctx.metadata,
        spec: {
          selector,
          action: AuthorizationPolicySpecAction.ALLOW,
          // One source per kind of caller: fields of one source are ANDed, and Istio refuses
          // serviceAccounts together with namespaces in one source (a CEL rule of its CRD).
          rules: [{
            from: [
              ...(serviceAccounts?.length ? [{ source: { serviceAccounts } }] : []),
              ...(namespaces?.length ? [{ source: { namespaces } }] : []),
            ],
          }],
        },
      });
    }
    const objects = this.apiObjects();
    annotateApplyOrder(objects, this.app, props.applyOrder ?? ApplyOrder.NONE);
    if (!chart.namespace) {
      objects.forEach((o) => o.addJsonPatch(JsonPatch.add('/metadata/namespace', this.namespace)));
    }

    // 4. The emitted objects are checked, now and again at synth time (user patches included).
    if (isRenderOnly(chart)) {
      this._warnings = [];
      return;
    }
    const describe = (errors: SafetyViolation[]) => this.describeErrors(errors);
    const path = this.node.path;
    let renderCheck: RenderCheck;
    if (synthesizedByCli()) {
      // The CLI synthesizes the stage right after building it: the objects are checked once, as written.
      renderCheck = new RenderCheck(path, (manifests) => this.check(manifests), describe, undefined,
        (manifests) => rememberRender(this.stage, this.namespace, props, manifests));
    } else {
      const emitted = this.manifests();
      let violations: SafetyViolation[];
      try {
        violations = this.check(emitted, true);
      } catch (e) {
        // The previous stage is refused (see inPreviousStage): leave nothing of this release in the tree, and free its name.
        scope.node.tryRemoveChild(id);
        RELEASES_BY_CHART.get(chart)?.delete(`${this.namespace}/${this.app}`);
        throw e;
      }
      rememberRender(this.stage, this.namespace, props, emitted);
      this._warnings = violations.filter((v) => v.severity !== 'error');
      if (this._warnings.length < violations.length) {
        // Leave nothing of an unsafe release in the tree, and free its name.
        scope.node.tryRemoveChild(id);
        RELEASES_BY_CHART.get(chart)?.delete(`${this.namespace}/${this.app}`);
        throwIfUnsafe(violations, this.context());
      }
      renderCheck = new RenderCheck(path, (manifests) => this.check(manifests), describe, emitted);
    }
    this.node.addValidation({
      validate: () => {
        if (!synthesizedByCli() && writesBeforeRenderingAll(this.node.root)) {
          // app.synth() would write files before every object is rendered: check now, before anything is written.
          return [...renderCheck.checkNow(this.manifests()), ...this.collisions()];
        }
        renderCheck.arm(this.apiObjects());
        return this.collisions();
      },
    });
  }

  /**
   * Warnings of the safety check of the objects as built (hygiene; errors throw instead). Under
   * the `mesh-release` CLI, which checks each stage as synthesized, they are computed when read.
   */
  public get warnings(): SafetyViolation[] {
    this._warnings ??= this.check().filter((v) => v.severity !== 'error');
    return this._warnings;
  }

  /** The DestinationRule (Istio router only). */
  public get destinationRule(): DestinationRule {
    return this.routingObject('destinationRule', 'TrafficRouter.istio()') as DestinationRule;
  }

  /** The VirtualService (Istio router only). */
  public get virtualService(): VirtualService {
    return this.routingObject('virtualService', 'TrafficRouter.istio()') as VirtualService;
  }

  /** The HTTPRoute (Gateway API router only). */
  public get httpRoute(): HttpRoute {
    return this.routingObject('httpRoute', 'TrafficRouter.gatewayApi()') as HttpRoute;
  }

  /**
   * The Service of one routable version, `<app>-<version>` (Gateway API router only; a
   * version has one in the stages where the plan gives it a subset).
   */
  public versionService(version: string): kplus.Service {
    const service = this.routing.versionServices?.[version];
    if (!service) {
      this.routingObject('httpRoute', 'TrafficRouter.gatewayApi()');
      throw invalidProp(this, 'versionService', version,
        `must name a version routable in stage '${this.stage.name}' (${Object.keys(this.routing.versionServices ?? {}).join(', ')})`);
    }
    return service;
  }

  /**
   * Every violation of the release's objects as they would be synthesized now (user patches
   * included), at this stage and as a transition from the previous one: errors and warnings.
   */
  public violations(): SafetyViolation[] {
    return this.check();
  }

  /** The objects of this release, as plain JSON, as they synthesize now. */
  private manifests(): any[] {
    return renderQuietly(() => this.apiObjects().map((o) => o.toJson()));
  }

  private apiObjects(): ApiObject[] {
    return apiObjectsUnder(this);
  }

  /**
   * The violations of `manifests` (by default the objects as they render now), at this stage and after the
   * previous one. `asBuilt`: the manifests are the objects as the release built them (no user code has run on
   * them yet), whose versions the previous stage's render may take over.
   */
  private check(manifests: any[] = this.manifests(), asBuilt: boolean = false): SafetyViolation[] {
    return checkManifests(manifests, this.previousStageManifests(asBuilt ? manifests : undefined), readOptions(this.namespace, this.clusterDomain));
  }

  /** Errors found at synth time, as cdk8s prints validation errors (after the path). */
  private describeErrors(errors: SafetyViolation[]): string[] {
    return errors.map((v) => `stage '${this.stage.name}' as synthesized: [${v.rule}] ${v.object}: ${v.message}. Fix: ${v.fix}`);
  }

  /**
   * Objects of this release that another object of the app (another release, another chart)
   * also defines: the second apply overwrites the first, or fails on a Deployment's immutable
   * selector (app `foo` + version `bar-v1` and app `foo-bar` + version `v1` both make `foo-bar-v1`).
   */
  private collisions(): string[] {
    const index = appObjectIndex(this.node.root);
    return this.apiObjects().flatMap((o) => {
      const others = (index.get(identityOf(o)) ?? []).filter((path) => path !== o.node.path);
      return others.length === 0 ? [] : [`[${SafetyRule.DUPLICATE_OBJECT}] ${o.kind}/${o.name} in namespace '${namespaceOf(o)}' is also defined by ${others.join(', ')}: `
        + 'only one survives the apply. Fix: give every object a unique name (one MeshRelease per app and namespace in the whole app; app and version names that do not run together)'];
    });
  }

  private context(): string {
    return `[${this.node.path}] stage '${this.stage.name}'${this.stage.previous ? ` (after '${this.stage.previous.name}')` : ''}`;
  }

  /**
   * The previous stage of the same release, rendered the same way (once), or undefined when the stage names none.
   * A version deployed in both stages with the same scaling has the same objects in both (a version's objects
   * follow its props and its floor, not the stage): those are taken from `manifests`, this stage's objects as
   * checked, and the rest is rendered by a `MeshRelease` of the previous stage.
   */
  private previousStageManifests(asBuilt: any[] | undefined): any[] | undefined {
    const previous = this.stage.previous;
    if (!previous) {
      return undefined;
    }
    if (!this.previousManifests) {
      // Objects as synthesized may carry user patches: the previous stage then is rendered in full, from the props.
      try {
        this.previousManifests = renderedStage(previous, this.namespace, this.props)
          ?? this._renderStage(previous, asBuilt ? this.objectsByVersion(asBuilt) : new Map()).manifests;
      } catch (e) {
        throw this.inPreviousStage(e, previous);
      }
    }
    return this.previousManifests;
  }

  /**
   * An error of the previous stage's render (e.g. a stage this router cannot express), told as this release's: its
   * construct path instead of the detached render chart's, and the stage it is about.
   */
  private inPreviousStage(e: unknown, previous: ReleaseStage): unknown {
    if (!(e instanceof Error) || e.constructor !== Error) {
      return e;
    }
    const renderPath = `[${renderChartId}/${this.node.id}`;
    const message = e.message.startsWith(renderPath) ? `[${this.node.path}${e.message.slice(renderPath.length)}` : e.message;
    return new Error(`${message} (in the previous stage '${previous.name}', rendered to check the transition to stage '${this.stage.name}')`);
  }

  /**
   * Renders `stage` with this release's props in a detached chart. The versions whose objects `known` holds at
   * the scaling they get at `stage` are taken from there (a version's objects follow its props and its floor,
   * not the stage); the others are built.
   * @internal
   */
  public _renderStage(stage: ReleaseStage, known: Map<string, VersionObjects>): { manifests: any[]; byVersion: Map<string, VersionObjects> } {
    const floors = this.trafficFloors(this.props, this.specs, stage);
    const shared = new Set(stage.deployed.filter((version) => known.get(version)?.scaling === scalingKey(floors.get(version))));
    const chart = renderChart(this.namespace);
    if (shared.size > 0) {
      SHARED_VERSIONS.set(chart, shared);
    }
    const own = new MeshRelease(chart, this.node.id, { ...this.props, stage })._render();
    const byVersion = new Map([...[...shared].map((v) => [v, known.get(v)!] as const), ...own.byVersion]);
    return { manifests: [...own.manifests, ...[...shared].flatMap((v) => known.get(v)!.objects)], byVersion };
  }

  /**
   * This release's objects as JSON, and each version's objects with the scaling they were built with.
   * @internal
   */
  public _render(): { manifests: any[]; byVersion: Map<string, VersionObjects> } {
    const manifests = this.manifests();
    return { manifests, byVersion: this.objectsByVersion(manifests) };
  }

  /** The objects of this release's versions, from `manifests` (this release's objects as JSON, in order). */
  private objectsByVersion(manifests: any[]): Map<string, VersionObjects> {
    const objects = this.apiObjects();
    if (objects.length !== manifests.length) {
      return new Map();
    }
    const jsonOf = new Map(objects.map((o, i) => [o, manifests[i]]));
    return new Map(this.versionedApps.map((app) => [app.version, {
      scaling: scalingKey(this.floors.get(app.version)),
      objects: apiObjectsUnder(app).map((o) => jsonOf.get(o)),
    }]));
  }

  private routingObject(role: 'destinationRule' | 'virtualService' | 'httpRoute', router: string): ApiObject {
    const object = this.routing[role];
    if (!object) {
      throw new Error(`[${this.node.path}] has no ${role}: it is made by ${router}, and this release uses ${this.router.description}`);
    }
    return object;
  }

  /** Refuses a second release of the same app and namespace in one chart (their objects would collide). */
  private claimName(chart: Chart): void {
    const releases = RELEASES_BY_CHART.get(chart) ?? new Map<string, string>();
    RELEASES_BY_CHART.set(chart, releases);
    const key = `${this.namespace}/${this.app}`;
    const other = releases.get(key);
    if (other !== undefined && !isRenderOnly(chart)) {
      throw invalidProp(this, 'app', this.app, `must be released once per namespace: ${other} already releases '${this.app}' in namespace '${this.namespace}' (both would emit the same objects)`);
    }
    releases.set(key, this.node.path);
  }

  private checkAllowedCallers(callers: AllowedCallers | undefined): void {
    if (!callers) {
      return;
    }
    if (!callers.serviceAccounts?.length && !callers.namespaces?.length) {
      throw invalidProp(this, 'allowedCallers', callers, 'must name at least one service account or namespace (an empty allow-list denies every caller)');
    }
    const accounts = callers.serviceAccounts ?? [];
    if (accounts.length > MAX_SERVICE_ACCOUNTS) {
      throw invalidProp(this, 'allowedCallers.serviceAccounts', accounts.length,
        `must list at most ${MAX_SERVICE_ACCOUNTS} service accounts (AuthorizationPolicy source.serviceAccounts maxItems ${MAX_SERVICE_ACCOUNTS}): allow their namespace instead`);
    }
    for (const account of accounts) {
      const [namespace, name, ...rest] = account.split('/');
      if (rest.length > 0 || name === undefined || !DNS_1123_LABEL.test(namespace) || !DNS_1123_SUBDOMAIN.test(name)) {
        throw invalidProp(this, 'allowedCallers.serviceAccounts', account,
          "must be '<namespace>/<service-account>': a namespace (a DNS-1123 label) and a service account name (a DNS-1123 subdomain)");
      }
    }
    for (const namespace of callers.namespaces ?? []) {
      if (!DNS_1123_LABEL.test(namespace)) {
        throw invalidProp(this, 'allowedCallers.namespaces', namespace, 'must be a namespace name (a DNS-1123 label)');
      }
    }
  }

  /** The version specs by version, checking that every version the stage names is known. */
  private versionSpecs(props: MeshReleaseProps): Map<string, VersionSpec> {
    const specs = new Map<string, VersionSpec>();
    for (const spec of props.versions) {
      checkDns1035Label(this, 'versions[].version', spec.version);
      checkImage(this, `versions[${spec.version}].image`, spec.image);
      if (specs.has(spec.version)) {
        throw invalidProp(this, 'versions', spec.version, 'must list each version once');
      }
      specs.set(spec.version, spec);
    }
    for (const version of this.stage.versions) {
      if (!specs.has(version)) {
        throw invalidProp(this, 'stage', `${this.stage.name} names version '${version}'`,
          `must only name versions listed in 'versions' (${[...specs.keys()].join(', ')}): add '${version}' to versions with its image`);
      }
    }
    // The transition from the previous stage is checked on that stage rendered with these props.
    for (const version of this.stage.previous?.versions ?? []) {
      if (!specs.has(version)) {
        throw invalidProp(this, 'versions', [...specs.keys()],
          `must also list the versions of the previous stage '${this.stage.previous!.name}', which names '${version}' `
          + `(the transition from it is checked on the objects it had): add '${version}' to versions with its image`);
      }
    }
    return specs;
  }

  /** Scaling raised to each autoscaled version's share of traffic (see `scaleWithTraffic`). */
  private trafficFloors(props: MeshReleaseProps, specs: Map<string, VersionSpec>, stage: ReleaseStage): Map<string, Scaling> {
    const floors = new Map<string, Scaling>();
    if (props.scaleWithTraffic === false) {
      return floors;
    }
    const scalingOf = (version: string) => specs.get(version)?.scaling ?? props.defaults?.scaling;
    const minOf = (version: string) => scalingOf(version)?.minReplicas ?? Scaling.DEFAULT_MIN_REPLICAS;
    // The capacity that carried all traffic: the largest floor of the versions deployed now or just before.
    const reference = Math.max(...[...stage.deployed, ...(stage.previous?.deployed ?? [])].map(minOf));
    for (const version of stage.deployed) {
      const scaling = scalingOf(version);
      if (scaling && !scaling.autoscaled) {
        continue;
      }
      const share = Math.max(stage.weightOf(version), stage.next?.weightOf(version) ?? 0, stage.previous?.weightOf(version) ?? 0);
      const floor = Math.ceil(reference * share / 100);
      if (floor > minOf(version)) {
        floors.set(version, (scaling ?? Scaling.autoscale()).withMinReplicas(floor));
      }
    }
    return floors;
  }
}

/** A version's objects as JSON, and the scaling (floor) they were built with. */
interface VersionObjects {
  readonly scaling: string;
  readonly objects: any[];
}

function scalingKey(scaling: Scaling | undefined): string {
  return scaling === undefined ? '' : JSON.stringify(scaling);
}

/** Versions a render-only release leaves out: the release that asked for the render has their objects (see `renderStage`). */
const SHARED_VERSIONS = new WeakMap<Chart, Set<string>>();

/**
 * Every API object of an app by identity (group, kind, namespace, name). Built once for all the
 * validations of one synth (they run in one synchronous pass) and dropped right after.
 */
const APP_INDEX = new WeakMap<IConstruct, Map<string, string[]>>();

function appObjectIndex(root: IConstruct): Map<string, string[]> {
  let index = APP_INDEX.get(root);
  if (!index) {
    index = new Map<string, string[]>();
    for (const o of apiObjectsUnder(root)) {
      const key = identityOf(o);
      push(index, key, o.node.path);
    }
    APP_INDEX.set(root, index);
    queueMicrotask(() => APP_INDEX.delete(root));
  }
  return index;
}

/**
 * Whether `app.synth()` of this app writes a file before it has rendered every object: one file per object in a
 * folder per chart (written as each object renders), or one file per chart or per object with several charts
 * (the first chart's files are written before the next chart renders).
 */
function writesBeforeRenderingAll(root: IConstruct): boolean {
  if (!(root instanceof App)) {
    return false;
  }
  switch (root.yamlOutputType) {
    case YamlOutputType.FILE_PER_APP:
      return false;
    case YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE:
      return true;
    default:
      return chartCount(root) > 1;
  }
}

const CHART_COUNT = new WeakMap<IConstruct, number>();

/** The charts of an app, counted once per synchronous pass (all the validations of one synth). */
function chartCount(root: IConstruct): number {
  let count = CHART_COUNT.get(root);
  if (count === undefined) {
    count = root.node.findAll().filter((c) => Chart.isChart(c)).length;
    CHART_COUNT.set(root, count);
    queueMicrotask(() => CHART_COUNT.delete(root));
  }
  return count;
}

function identityOf(o: ApiObject): string {
  return `${o.apiGroup}/${o.kind}/${namespaceOf(o)}/${o.name}`;
}

/** The namespace an object is applied to: its release's, else its own or its chart's, else `default`. */
function namespaceOf(o: ApiObject): string {
  for (let scope: IConstruct | undefined = o.node.scope; scope; scope = scope.node.scope) {
    if (scope instanceof MeshRelease) {
      return scope.namespace;
    }
  }
  return o.metadata.namespace ?? Chart.of(o).namespace ?? 'default';
}

/** Timeout and retries of the routes, checked: every try must fit the timeout. */
function resilience(scope: Construct, props: MeshReleaseProps): Pick<ReleaseContext, 'retries' | 'timeout'> {
  const timeoutValue = props.timeout ?? Duration.seconds(10);
  const timeout = istioDuration(scope, 'timeout', timeoutValue);
  const timeoutMs = timeoutValue.toMilliseconds({ integral: false });
  const attempts = props.retries?.attempts ?? 3;
  checkInteger(scope, 'retries.attempts', attempts, 0);
  if (attempts === 0) {
    for (const field of ['perTryTimeout', 'retryOn'] as const) {
      if (props.retries?.[field] !== undefined) {
        throw invalidProp(scope, `retries.${field}`, props.retries[field], 'applies only when retries.attempts is above 0: drop it, or raise attempts');
      }
    }
    return { timeout, retries: { attempts: 0 } };
  }
  const perTry = props.retries?.perTryTimeout ?? Duration.seconds(2);
  const perTryTimeout = istioDuration(scope, 'retries.perTryTimeout', perTry);
  const perTryMs = perTry.toMilliseconds({ integral: false });
  const tries = attempts + 1;
  if (tries * perTryMs > timeoutMs) {
    throw invalidProp(scope, 'timeout', Duration.millis(timeoutMs),
      `must cover every try: the first try + retries.attempts (${attempts}) retries, each up to retries.perTryTimeout (${perTryTimeout}) = `
      + `${(tries * perTryMs) / 1000}s; raise timeout or lower attempts or perTryTimeout`);
  }
  const retryOn = props.retries?.retryOn ?? 'gateway-error,connect-failure,refused-stream';
  const unknown = invalidRetryOn(retryOn);
  if (unknown.length > 0) {
    throw invalidProp(scope, 'retries.retryOn', retryOn,
      `must be comma-separated Envoy retry conditions Istio accepts (${[...RETRY_ON_POLICIES].join(', ')}, or HTTP status codes); not ${unknown.map((u) => `'${u}'`).join(', ')}`);
  }
  return { timeout, retries: { attempts, perTryTimeout, retryOn } };
}
