/**
 * The desired state of a release at a stage: ONE pure function of the resolved release and the
 * stage, which `MeshRelease` emits, its previous-stage check reads, and the plan check reads.
 * No construct is built to know what a stage is made of.
 *
 * - The version-free Service and the router's objects are plain JSON, emitted as they are.
 * - Each deployed version carries its `VersionedAppProps` (floors applied) and their resolution:
 *   `VersionedApp` emits the full objects from it, and the checks read `workloadManifests()` of it
 *   (the fields the safety check reads; a test holds them equal to what `VersionedApp` emits).
 */
import { Duration } from 'cdk8s';
import {
  appLabels, CLUSTER_DOMAIN_ANNOTATION, DEFAULT_CLUSTER_DOMAIN, DNS_1123_SUBDOMAIN, Labels, PLAN_ANNOTATION, ROLLOUT_ANNOTATION, STAGE_ANNOTATION,
  serviceFqdn,
} from '../_conventions';
import {
  checkAppProtocol, checkDns1035Label, checkDns1123Label, checkImage, checkInteger, checkPort, checkPortName, invalidProp, istioDuration, PathScope,
} from '../_validation';
import { scalingOptions, trafficFloors } from './_traffic-floors';
import { MeshReleaseProps, VersionSpec } from './mesh-release-props';
import { rolloutAnnotation, RolloutSpec } from '../analysis/_spec';
import { ReleaseStage } from '../plan/release-stage';
import { plainService } from '../routing/_plain-service';
import { ReleaseContext, RouterImpl, RoutingObject } from '../routing/_router';
import { TrafficRouter } from '../routing/router';
import { invalidRetryOn, RETRY_ON_POLICIES } from '../validation/_istio-semantics';
import { mergeWorkloadOptions } from '../workload/_merge';
import { ResolvedVersion } from '../workload/_resolved-version';
import { workloadManifests } from '../workload/_workload-manifests';
import { Scaling } from '../workload/scaling';
import { VersionedAppProps } from '../workload/versioned-app-props';

/** One deployed version at a stage. */
export interface DesiredVersion {
  readonly version: string;
  /** The props its `VersionedApp` is built with (the release's defaults, its own options, its traffic floor). */
  readonly props: VersionedAppProps;
  /** Those props, checked and resolved. */
  readonly resolved: ResolvedVersion;
}

/** The version-free Service of a stage. */
export interface DesiredService {
  readonly labels: Labels;
  readonly annotations?: Labels;
  readonly selector: Labels;
  readonly json: any;
}

/** Everything a release is at one stage. */
export interface DesiredState {
  readonly stage: ReleaseStage;
  readonly service: DesiredService;
  readonly versions: DesiredVersion[];
  /** The router's objects, then its mesh policies (Istio: PeerAuthentication, AuthorizationPolicy). */
  readonly objects: RoutingObject[];
  /** Every object as the safety check reads it, in emission order (Service, versions, routing, policies). */
  readonly manifests: any[];
}

/**
 * A release's props, checked once and resolved: what every stage of it shares. Makes the desired state of any stage
 * of the release's plan (`desiredState`), resolving each version once per scaling it gets.
 */
export class ResolvedRelease implements PathScope {
  public readonly node: { readonly path: string };
  public readonly props: MeshReleaseProps;
  public readonly router: TrafficRouter;
  public readonly namespace: string;
  public readonly clusterDomain: string;
  /** FQDN of the Service. */
  public readonly host: string;
  private readonly impl: RouterImpl;
  private readonly base: Omit<ReleaseContext, 'stageAnnotations'>;
  private readonly specs: Map<string, VersionSpec>;
  private readonly resolved = new Map<string, ResolvedVersion>();

  /**
   * @param path construct path of the release, for errors
   * @param chartNamespace the namespace of the chart the release is in, if any
   */
  constructor(path: string, props: MeshReleaseProps, chartNamespace: string | undefined) {
    this.node = { path };
    this.props = props;
    refuseRemovedProps(this, props);
    checkDns1035Label(this, 'app', props.app);
    checkPort(this, 'port', props.port);
    const portName = props.portName ?? 'http';
    checkPortName(this, 'portName', portName);
    this.router = props.router ?? TrafficRouter.istio();
    this.impl = TrafficRouter._implOf(this.router);
    if (props.namespace && chartNamespace && props.namespace !== chartNamespace) {
      throw invalidProp(this, 'namespace', props.namespace, `must match the chart's namespace '${chartNamespace}' (or be left out)`);
    }
    this.namespace = props.namespace ?? chartNamespace ?? 'default';
    checkDns1123Label(this, 'namespace', this.namespace);
    if (props.appProtocol !== undefined) {
      checkAppProtocol(this, 'appProtocol', props.appProtocol);
    }
    this.clusterDomain = props.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    if (!DNS_1123_SUBDOMAIN.test(this.clusterDomain)) {
      throw invalidProp(this, 'clusterDomain', this.clusterDomain, "must be a DNS domain such as 'cluster.local'");
    }
    this.host = serviceFqdn(props.app, this.namespace, this.clusterDomain);
    this.specs = this.versionSpecs(props);
    this.impl.checkProps(this, props, this.namespace);
    this.base = {
      app: props.app,
      namespace: this.namespace,
      clusterDomain: this.clusterDomain,
      port: props.port,
      portName,
      appProtocol: props.appProtocol,
      host: this.host,
      metadata: { name: props.app, labels: appLabels(props.app) },
      ...resilience(this, props, this.impl.writesRetries),
      props,
    };
  }

  /** The router's context at `stage`. */
  public context(stage: ReleaseStage): ReleaseContext {
    const stageAnnotations: Labels = { [STAGE_ANNOTATION]: stage.name, [PLAN_ANNOTATION]: stage.planStageNames.join(',') };
    if (this.clusterDomain !== DEFAULT_CLUSTER_DOMAIN) {
      stageAnnotations[CLUSTER_DOMAIN_ANNOTATION] = this.clusterDomain;
    }
    const rollout = stage._planRollout;
    if (rollout) {
      // The plan's analysis and pauses travel with the YAML (CI artifacts drive a release without the app's code).
      const spec: RolloutSpec = { ...rollout, analysis: rollout.analysis && { ...rollout.analysis, reporter: this.impl.telemetryReporter } };
      stageAnnotations[ROLLOUT_ANNOTATION] = rolloutAnnotation(spec);
    }
    return { ...this.base, stageAnnotations };
  }

  /** Throws unless every version `stage` names is listed in `versions`. */
  public checkVersionsKnown(stage: ReleaseStage, prop: string, fix: (version: string) => string): void {
    for (const version of stage.versions) {
      if (!this.specs.has(version)) {
        throw invalidProp(this, prop, prop === 'stage' ? `${stage.name} names version '${version}'` : [...this.specs.keys()], fix(version));
      }
    }
  }

  /** The desired state at `stage` (pure: the same stage gives equal objects). */
  public desiredState(stage: ReleaseStage): DesiredState {
    this.impl.checkStage(this, stage);
    const ctx = this.context(stage);
    const floors = this.props.scaleWithTraffic === false
      ? new Map<string, Scaling>()
      : trafficFloors(stage, scalingOptions(this.props.versions, this.props.defaults));
    const overrides = this.impl.workloadOverrides(ctx);
    const versions = stage.deployed.map((version) => {
      const { image, version: _v, ...own } = this.specs.get(version)!;
      const options = { ...mergeWorkloadOptions(this.props.defaults, own), ...overrides };
      const props: VersionedAppProps = {
        ...options, scaling: floors.get(version) ?? options.scaling, version, image, app: ctx.app, port: ctx.port, portName: ctx.portName,
      };
      return { version, props, resolved: this.resolve(version, props) };
    });
    const selector = this.impl.serviceSelector(ctx, stage);
    const labels = { ...ctx.metadata.labels, ...this.impl.serviceLabels(ctx) };
    const annotations = this.impl.annotatesService ? ctx.stageAnnotations : undefined;
    const service: DesiredService = {
      labels,
      annotations,
      selector,
      json: plainService({ name: ctx.app, labels, annotations, portName: ctx.portName, port: ctx.port, appProtocol: ctx.appProtocol, selector }),
    };
    const objects = [...this.impl.routingObjects(ctx, stage), ...this.impl.policyObjects(ctx)];
    const namespaced = (json: any) => ({ ...json, metadata: { ...json.metadata, namespace: this.namespace } });
    return {
      stage,
      service,
      versions,
      objects,
      manifests: [service.json, ...versions.flatMap((v) => workloadManifests(v.resolved)), ...objects.map((o) => o.json)].map(namespaced),
    };
  }

  /** A version's props resolved (and refused), once per distinct scaling. */
  private resolve(version: string, props: VersionedAppProps): ResolvedVersion {
    const key = `${version}|${JSON.stringify(props.scaling ?? null)}`;
    let resolved = this.resolved.get(key);
    if (!resolved) {
      resolved = new ResolvedVersion(`${this.node.path}/${version}`, props);
      this.resolved.set(key, resolved);
    }
    return resolved;
  }

  /** The version specs by version. */
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
    return specs;
  }
}

/**
 * Props that moved or were renamed before 1.0 (README, Changelog): TypeScript refuses them in an object literal, but
 * not in a spread or from JavaScript, where they would be dropped without a word.
 */
function refuseRemovedProps(scope: PathScope, props: MeshReleaseProps): void {
  const removed = props as unknown as { [key: string]: unknown };
  for (const prop of ['hosts', 'gateways', 'trafficPolicy']) {
    if (removed[prop] !== undefined) {
      throw invalidProp(scope, prop, removed[prop], `moved to the Istio router's options: router: TrafficRouter.istio({ ${prop} })`);
    }
  }
  for (const v of props.versions ?? []) {
    const policy = (v as unknown as { trafficPolicy?: unknown }).trafficPolicy;
    if (policy !== undefined) {
      throw invalidProp(scope, `versions[${v.version}].trafficPolicy`, policy,
        `moved to the Istio router's options: router: TrafficRouter.istio({ subsetTrafficPolicies: { '${v.version}': ... } })`);
    }
  }
}

/**
 * Timeout and retries of the routes, checked: every try must fit the timeout. A router that writes no retries (its
 * `checkProps` refused `retries`) gets none, and its timeout is not held to the default retries it does not write.
 */
function resilience(scope: PathScope, props: MeshReleaseProps, writesRetries: boolean): Pick<ReleaseContext, 'retries' | 'timeout'> {
  const timeout = props.timeout ?? Duration.seconds(10);
  istioDuration(scope, 'timeout', timeout);
  if (!writesRetries) {
    return { timeout, retries: { attempts: 0 } };
  }
  const timeoutMs = timeout.toMilliseconds({ integral: false });
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
  const perTryTimeout = props.retries?.perTryTimeout ?? Duration.seconds(2);
  const perTryText = istioDuration(scope, 'retries.perTryTimeout', perTryTimeout);
  const perTryMs = perTryTimeout.toMilliseconds({ integral: false });
  const tries = attempts + 1;
  if (tries * perTryMs > timeoutMs) {
    throw invalidProp(scope, 'timeout', Duration.millis(timeoutMs),
      `must cover every try: the first try + retries.attempts (${attempts}) retries, each up to retries.perTryTimeout (${perTryText}) = `
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
