import { ApiObject, Chart, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { fqdn } from './safety/_release-snapshot';
import { stageSnapshot, RoutingContext, destinationRuleSpec, virtualServiceSpec } from './routing/istio/_specs';
import { trafficPolicyOf } from './routing/istio/_traffic-policy-json';
import { checkDns1035Label, checkInteger, checkPort, checkPortName, invalidProp, wholeSeconds } from './_validation';
import { annotateApplyOrder, ApplyOrder } from './apply-order';
import { DestinationRule, VirtualService } from './imports/networking.istio.io';
import { AuthorizationPolicy, AuthorizationPolicySpecAction, PeerAuthentication, PeerAuthenticationSpecMtlsMode } from './imports/security.istio.io';
import { ReleaseStage } from './plan/release-stage';
import { checkSnapshots, throwIfUnsafe } from './safety/safety-check';
import { Scaling } from './workload/scaling';
import { LoadBalancerAlgorithm, TrafficPolicyOptions } from './routing/istio/traffic-policy';
import { VersionedApp } from './workload/versioned-app';
import { WorkloadOptions } from './workload/workload-options';

/** One version of the service a release knows about: its image and overrides of the shared defaults. */
export interface VersionSpec extends WorkloadOptions {
  /** The version, a DNS-1035 label (the `version` label and subset name). */
  readonly version: string;
  /** Container image of this version. */
  readonly image: string;
  /**
   * Traffic policy of this version's subset, on top of the release's.
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
   * Attempts after the first failure; 0 turns retries off.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Timeout of each attempt.
   * @default Duration.seconds(2)
   */
  readonly perTryTimeout?: Duration;
  /**
   * Conditions that trigger a retry (Envoy `x-envoy-retry-on` values, comma separated).
   * @default 'gateway-error,connect-failure,refused-stream'
   */
  readonly retryOn?: string;
}

/** Callers allowed to reach the release's pods (an Istio AuthorizationPolicy allow-list). */
export interface AllowedCallers {
  /**
   * Service accounts allowed to call, as `<namespace>/<service-account>`.
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
   * `helloworld.<namespace>.svc.cluster.local`.
   * @default - the service FQDN `<app>.<namespace>.svc.cluster.local`
   */
  readonly hosts?: string[];
  /**
   * Gateways the VirtualService applies to, e.g. `istio-system/public-gateway`. Include
   * `mesh` to keep routing in-mesh traffic too.
   * @default - mesh traffic only
   */
  readonly gateways?: string[];
  /**
   * Retries of every route.
   * @default - 3 attempts, 2s per try, on gateway-error,connect-failure,refused-stream
   */
  readonly retries?: RetryOptions;
  /**
   * Timeout of every route, which must cover all retry attempts.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Traffic policy of the DestinationRule (all subsets).
   * @default - TLS mode ISTIO_MUTUAL
   */
  readonly trafficPolicy?: TrafficPolicyOptions;
  /**
   * Raise an autoscaled version's `minReplicas` to its share of traffic, so a weight shift
   * lands on enough pods. The share is the larger of the version's weight in this stage and
   * in the next stage of the plan (so pods are scaled up one stage before the traffic comes),
   * and the floor is `ceil(reference x share / 100)`, where the reference is the largest
   * `minReplicas` of the versions deployed in this stage or the previous one. A floor never
   * lowers a version's own `minReplicas`; versions with fixed replicas are never changed.
   * @default true
   */
  readonly scaleWithTraffic?: boolean;
  /**
   * Emit a PeerAuthentication requiring mutual TLS (STRICT) for the app's pods.
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

/**
 * A release of one service across versions, at one stage: the version-free Service, one
 * `VersionedApp` per deployed version, the DestinationRule (one subset per version) and the
 * VirtualService (header routes, then the weighted catch-all route with retries, timeout
 * and mirroring).
 *
 * The stage is checked before anything is emitted — on its own and, when the stage names
 * its previous one, as a transition — and an unsafe stage throws instead of synthesizing.
 */
export class MeshRelease extends Construct {
  /** Annotation of the VirtualService naming the stage synthesized. */
  public static readonly STAGE_ANNOTATION = 'mesh-release.io/stage';
  /** Annotation of the VirtualService listing the stages of its plan, in order, comma separated. */
  public static readonly PLAN_ANNOTATION = 'mesh-release.io/plan-stages';

  /** Name of the service. */
  public readonly app: string;
  /** Namespace of the release. */
  public readonly namespace: string;
  /** FQDN of the Service, the host of the DestinationRule. */
  public readonly host: string;
  /** The stage synthesized. */
  public readonly stage: ReleaseStage;
  /** The version-free Service. */
  public readonly service: kplus.Service;
  /** The deployed versions, in the order of the stage's `deployed`. */
  public readonly versionedApps: VersionedApp[];
  /** The DestinationRule. */
  public readonly destinationRule: DestinationRule;
  /** The VirtualService. */
  public readonly virtualService: VirtualService;
  /** The PeerAuthentication, when `strictMtls` is on. */
  public readonly peerAuthentication?: PeerAuthentication;
  /** The AuthorizationPolicy, when `allowedCallers` is given. */
  public readonly authorizationPolicy?: AuthorizationPolicy;

  constructor(scope: Construct, id: string, props: MeshReleaseProps) {
    super(scope, id);
    try {
      checkDns1035Label(this, 'app', props.app);
      checkPort(this, 'port', props.port);
      const portName = props.portName ?? 'http';
      checkPortName(this, 'portName', portName);
      this.app = props.app;
      this.stage = props.stage;
      const chartNamespace = Chart.of(this).namespace;
      if (props.namespace && chartNamespace && props.namespace !== chartNamespace) {
        throw invalidProp(this, 'namespace', props.namespace, `must match the chart's namespace '${chartNamespace}' (or be left out)`);
      }
      this.namespace = props.namespace ?? chartNamespace ?? 'default';
      checkDns1035Label(this, 'namespace', this.namespace);
      const specs = this.versionSpecs(props);

      const ctx: RoutingContext = {
        app: this.app,
        namespace: this.namespace,
        port: props.port,
        hosts: props.hosts?.map((host) => (host.includes('.') || host.includes('*') ? host : fqdn(host, this.namespace))),
        gateways: props.gateways,
        ...this.resilience(props),
        trafficPolicy: this.trafficPolicy('trafficPolicy', props.trafficPolicy, true),
        subsetTrafficPolicies: Object.fromEntries(props.versions.map((v) =>
          [v.version, this.trafficPolicy(`versions[${v.version}].trafficPolicy`, v.trafficPolicy, false)])),
      };
      this.host = `${this.app}.${this.namespace}.svc.cluster.local`;
      this.checkAllowedCallers(props.allowedCallers);
      throwIfUnsafe(checkSnapshots(stageSnapshot(this.stage, ctx), this.stage.previous && stageSnapshot(this.stage.previous, ctx)),
        `[${this.node.path}] stage '${this.stage.name}'${this.stage.previous ? ` (after '${this.stage.previous.name}')` : ''}`);

      // Every object of the release is named after the app (Deployments add the version).
      const metadata = { name: this.app, labels: { 'app': this.app, 'app.kubernetes.io/name': this.app } };
      this.service = new kplus.Service(this, 'Service', {
        metadata,
        ports: [{ name: portName, port: props.port, targetPort: props.port }],
      });
      this.service.selectLabel('app', this.app);
      if (props.appProtocol) {
        ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', props.appProtocol));
      }

      const floors = this.trafficFloors(props, specs);
      this.versionedApps = this.stage.deployed.map((version) => {
        const { trafficPolicy, image, ...overrides } = specs.get(version)!;
        const options: WorkloadOptions = { ...props.defaults, ...definedOnly(overrides) };
        return new VersionedApp(this, version, {
          ...options,
          scaling: floors.get(version) ?? options.scaling,
          version,
          image,
          app: this.app,
          port: props.port,
          portName,
        });
      });

      // Which stage is live, readable with kubectl and by the mesh-release CLI.
      const stageAnnotations = {
        [MeshRelease.STAGE_ANNOTATION]: this.stage.name,
        [MeshRelease.PLAN_ANNOTATION]: this.stage.planStageNames.join(','),
      };
      this.destinationRule = new DestinationRule(this, 'DestinationRule', {
        metadata, spec: destinationRuleSpec(this.stage, ctx),
      });
      this.virtualService = new VirtualService(this, 'VirtualService', {
        metadata: { ...metadata, annotations: stageAnnotations }, spec: virtualServiceSpec(this.stage, ctx),
      });
      const selector = { matchLabels: { app: this.app } };
      if (props.strictMtls) {
        this.peerAuthentication = new PeerAuthentication(this, 'PeerAuthentication', {
          metadata, spec: { selector, mtls: { mode: PeerAuthenticationSpecMtlsMode.STRICT } },
        });
      }
      if (props.allowedCallers) {
        const { serviceAccounts, namespaces } = props.allowedCallers;
        this.authorizationPolicy = new AuthorizationPolicy(this, 'AuthorizationPolicy', {
          metadata,
          spec: {
            selector,
            action: AuthorizationPolicySpecAction.ALLOW,
            rules: [{
              from: [{
                source: {
                  serviceAccounts: serviceAccounts?.length ? serviceAccounts : undefined,
                  namespaces: namespaces?.length ? namespaces : undefined,
                },
              }],
            }],
          },
        });
      }

      const objects = this.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
      annotateApplyOrder(objects, this.app, props.applyOrder ?? ApplyOrder.NONE);
      if (!chartNamespace) {
        objects.forEach((o) => o.addJsonPatch(JsonPatch.add('/metadata/namespace', this.namespace)));
      }
    } catch (error) {
      // Never leave a partial release in the tree (e.g. the Service of a release whose
      // second version was refused).
      for (const child of [...this.node.children]) {
        this.node.tryRemoveChild(child.node.id);
      }
      throw error;
    }
  }

  private checkAllowedCallers(callers: AllowedCallers | undefined): void {
    if (!callers) {
      return;
    }
    if (!callers.serviceAccounts?.length && !callers.namespaces?.length) {
      throw invalidProp(this, 'allowedCallers', callers, 'must name at least one service account or namespace (an empty allow-list denies every caller)');
    }
    for (const account of callers.serviceAccounts ?? []) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(account)) {
        throw invalidProp(this, 'allowedCallers.serviceAccounts', account, "must be '<namespace>/<service-account>'");
      }
    }
  }

  /** The version specs by version, checking that every version the stage names is known. */
  private versionSpecs(props: MeshReleaseProps): Map<string, VersionSpec> {
    const specs = new Map<string, VersionSpec>();
    for (const spec of props.versions) {
      checkDns1035Label(this, 'versions[].version', spec.version);
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
    return specs;
  }

  private resilience(props: MeshReleaseProps): Pick<RoutingContext, 'retries' | 'timeout'> {
    const timeout = props.timeout ?? Duration.seconds(10);
    const timeoutSeconds = wholeSeconds(this, 'timeout', timeout, 1);
    const attempts = props.retries?.attempts ?? 3;
    checkInteger(this, 'retries.attempts', attempts, 0);
    if (attempts === 0) {
      return { timeout: `${timeoutSeconds}s`, retries: { attempts: 0 } };
    }
    const perTry = props.retries?.perTryTimeout ?? Duration.seconds(2);
    const perTryMillis = perTry.toMilliseconds();
    if (!Number.isInteger(perTryMillis) || perTryMillis <= 0) {
      throw invalidProp(this, 'retries.perTryTimeout', perTry, 'must be a whole number of milliseconds above zero');
    }
    if (attempts * perTryMillis > timeoutSeconds * 1000) {
      throw invalidProp(this, 'timeout', timeout,
        `must cover every retry: retries.attempts (${attempts}) x retries.perTryTimeout (${istioDuration(perTryMillis)}) = `
        + `${istioDuration(attempts * perTryMillis)}; raise timeout or lower attempts or perTryTimeout`);
    }
    const retryOn = props.retries?.retryOn ?? 'gateway-error,connect-failure,refused-stream';
    if (!/^[a-z0-9-]+(,[a-z0-9-]+)*$/.test(retryOn)) {
      throw invalidProp(this, 'retries.retryOn', retryOn, "must be comma-separated Envoy retry conditions, e.g. 'gateway-error,connect-failure,refused-stream'");
    }
    return { timeout: `${timeoutSeconds}s`, retries: { attempts, perTryTimeout: istioDuration(perTryMillis), retryOn } };
  }

  private trafficPolicy(prop: string, options: TrafficPolicyOptions | undefined, defaultTls: boolean) {
    if (options?.warmup && options.loadBalancer === LoadBalancerAlgorithm.RANDOM) {
      throw invalidProp(this, `${prop}.warmup`, options.warmup, 'needs loadBalancer ROUND_ROBIN or LEAST_REQUEST (Envoy has no warmup for RANDOM)');
    }
    const od = options?.outlierDetection;
    if (od?.maxEjectionPercent !== undefined) {
      checkInteger(this, `${prop}.outlierDetection.maxEjectionPercent`, od.maxEjectionPercent, 0, 100);
    }
    if (od?.consecutive5xxErrors !== undefined) {
      checkInteger(this, `${prop}.outlierDetection.consecutive5xxErrors`, od.consecutive5xxErrors, 1);
    }
    return trafficPolicyOf(options, defaultTls);
  }

  /** Scaling raised to each autoscaled version's share of traffic (see `scaleWithTraffic`). */
  private trafficFloors(props: MeshReleaseProps, specs: Map<string, VersionSpec>): Map<string, Scaling> {
    const floors = new Map<string, Scaling>();
    if (props.scaleWithTraffic === false) {
      return floors;
    }
    const scalingOf = (version: string) => specs.get(version)?.scaling ?? props.defaults?.scaling;
    const minOf = (version: string) => scalingOf(version)?.minReplicas ?? 2;
    // The capacity that carried all traffic: the largest floor of the versions deployed now or just before.
    const reference = Math.max(...[...this.stage.deployed, ...(this.stage.previous?.deployed ?? [])].map(minOf));
    for (const version of this.stage.deployed) {
      const scaling = scalingOf(version);
      if (scaling && !scaling.autoscaled) {
        continue;
      }
      const share = Math.max(this.stage.weightOf(version), this.stage.next?.weightOf(version) ?? 0);
      const floor = Math.ceil(reference * share / 100);
      if (floor > minOf(version)) {
        floors.set(version, (scaling ?? Scaling.autoscale()).withMinReplicas(floor));
      }
    }
    return floors;
  }
}

/** A protobuf duration string: whole seconds as `3s`, anything finer in milliseconds (`1400ms`). */
function istioDuration(millis: number): string {
  return millis % 1000 === 0 ? `${millis / 1000}s` : `${millis}ms`;
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
