import { ApiObject, Duration, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkDns1035Label, checkInteger, checkPort, checkPortName, invalidProp, wholeSeconds } from '../_validation';
import { DisruptionBudget } from './disruption-budget';
import { resolveProbes } from './health-probes';
import { Scaling } from './scaling';
import { WorkloadOptions } from './workload-options';

/** Annotation Istio reads per pod to override the mesh-wide proxy configuration. */
export const ISTIO_PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

/**
 * Props of `VersionedApp`: one version of one service.
 */
export interface VersionedAppProps extends WorkloadOptions {
  /**
   * Name of the service, the `app` label of its pods. A DNS-1035 label.
   */
  readonly app: string;

  /**
   * Version of the service, the `version` label of its pods (and the Istio subset name). A DNS-1035 label.
   */
  readonly version: string;

  /**
   * Container image, e.g. `learnistio/helloworld:1.0.0`.
   */
  readonly image: string;

  /**
   * Port the container listens on.
   */
  readonly port: number;

  /**
   * Name of the container (and Service) port. Istio selects the protocol from its prefix
   * (`http`, `http2`, `grpc`, `tcp`...).
   * @default 'http'
   */
  readonly portName?: string;

  /**
   * `appProtocol` of the Service port, which Istio prefers over the port name for
   * protocol selection (only used when `createService` is on).
   * @default - none (the port name selects the protocol)
   */
  readonly appProtocol?: string;

  /**
   * Create a Service named after the app, selecting on `app` only (never `version`), for
   * plain-Kubernetes rolling updates without a mesh. In a mesh release the Service
   * belongs to `MeshRelease` instead.
   * @default false
   */
  readonly createService?: boolean;
}

const DEFAULT_CPU_REQUEST = kplus.Cpu.millis(100);
const DEFAULT_CPU_LIMIT = kplus.Cpu.millis(1000);
const DEFAULT_MEMORY_REQUEST = Size.mebibytes(128);
const DEFAULT_MEMORY_LIMIT = Size.gibibytes(1);

/**
 * One version of a service, safe to roll out with zero downtime on plain Kubernetes,
 * and ready to be routed to by Istio.
 *
 * Synthesizes a Deployment named `<app>-<version>` (labels `app` and `version`, selector
 * on both), a HorizontalPodAutoscaler (or fixed replicas), a PodDisruptionBudget and,
 * when asked, a version-free Service.
 *
 * @example
 * new VersionedApp(chart, 'v1', {
 *   app: 'helloworld',
 *   version: 'v1',
 *   image: 'learnistio/helloworld:1.0.0',
 *   port: 3000,
 * });
 */
export class VersionedApp extends Construct {
  /** Name of the service (`app` label). */
  public readonly app: string;
  /** Version of the service (`version` label). */
  public readonly version: string;
  /** Name of the Deployment, autoscaler and disruption budget: `<app>-<version>`. */
  public readonly name: string;
  /** Port the container listens on. */
  public readonly port: number;
  /** Name of the container port. */
  public readonly portName: string;
  /** Labels that select this version's pods: `app` and `version`. */
  public readonly selectorLabels: { [key: string]: string };
  /** Replica count of this version. */
  public readonly scaling: Scaling;
  /** How long the preStop hook sleeps. */
  public readonly preStopSleep: Duration;
  /** Termination grace period of the pods. */
  public readonly terminationGracePeriod: Duration;
  /** Istio sidecar drain duration, when the sidecar lifecycle annotations are on. */
  public readonly sidecarDrainDuration?: Duration;
  /** The Deployment. */
  public readonly deployment: kplus.Deployment;
  /** The application container. */
  public readonly container: kplus.Container;
  /** The HorizontalPodAutoscaler, when `scaling` autoscales. */
  public readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  /** The PodDisruptionBudget. */
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;
  /** The version-free Service, when `createService` is on. */
  public readonly service?: kplus.Service;

  constructor(scope: Construct, id: string, props: VersionedAppProps) {
    super(scope, id);
    checkDns1035Label(this, 'app', props.app);
    checkDns1035Label(this, 'version', props.version);
    this.app = props.app;
    this.version = props.version;
    this.name = `${props.app}-${props.version}`;
    if (this.name.length > 63) {
      throw invalidProp(this, 'app + version', this.name,
        `must form a name '<app>-<version>' of at most 63 characters (it is ${this.name.length}): shorten the app or version`);
    }
    if (props.image.trim() === '') {
      throw invalidProp(this, 'image', props.image, "must be a container image reference, e.g. 'learnistio/helloworld:1.0.0'");
    }
    checkPort(this, 'port', props.port);
    this.port = props.port;
    this.portName = props.portName ?? 'http';
    checkPortName(this, 'portName', this.portName);

    this.scaling = props.scaling ?? Scaling.autoscale();
    this.checkScaling(this.scaling);
    this.preStopSleep = props.preStopSleep ?? Duration.seconds(10);
    this.terminationGracePeriod = props.terminationGracePeriod ?? Duration.seconds(60);
    const sidecarLifecycle = props.istioSidecarLifecycle ?? true;
    this.sidecarDrainDuration = sidecarLifecycle ? props.sidecarDrainDuration ?? Duration.seconds(15) : undefined;
    if (!sidecarLifecycle && props.sidecarDrainDuration) {
      throw invalidProp(this, 'sidecarDrainDuration', props.sidecarDrainDuration,
        'applies only with the Istio sidecar lifecycle: drop it or set istioSidecarLifecycle to true');
    }
    this.checkTerminationBudget();

    this.selectorLabels = { app: this.app, version: this.version };
    const labels = {
      ...props.labels,
      ...this.selectorLabels,
      'app.kubernetes.io/name': this.app,
      'app.kubernetes.io/version': this.version,
    };
    const probes = resolveProbes(this, this.port, props.probes);
    const maxSurge = props.maxSurge ?? kplus.PercentOrAbsolute.percent(25);
    if (maxSurge.isZero()) {
      throw invalidProp(this, 'maxSurge', maxSurge.value,
        'must be above zero: maxUnavailable is always 0, so a rollout needs surge pods to make progress');
    }
    const resources = this.resolveResources(props.resources);
    const progressDeadline = props.progressDeadline ?? Duration.seconds(120);
    wholeSeconds(this, 'progressDeadline', progressDeadline, 1);
    const minReady = props.minReady ?? Duration.seconds(0);
    wholeSeconds(this, 'minReady', minReady);
    if (props.appProtocol && !props.createService) {
      throw invalidProp(this, 'appProtocol', props.appProtocol, 'applies only to the Service: drop it or set createService to true');
    }
    // Everything is validated: from here on, children are created.

    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: this.name, labels },
      select: false,
      podMetadata: { labels, annotations: { ...this.sidecarAnnotations(), ...props.podAnnotations } },
      replicas: this.scaling.autoscaled ? undefined : this.scaling.minReplicas,
      strategy: kplus.DeploymentStrategy.rollingUpdate({ maxSurge, maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
      progressDeadline,
      minReady,
      terminationGracePeriod: this.terminationGracePeriod,
      serviceAccount: props.serviceAccount,
      securityContext: { ensureNonRoot: true, ...props.podSecurityContext },
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selectorLabels }));
    // The pod template carries only our labels: cdk8s-plus' address label would make every
    // rename of a construct id roll the pods.
    ApiObject.of(this.deployment).addJsonPatch(JsonPatch.remove(`/spec/template/metadata/labels/${kplus.Pod.ADDRESS_LABEL.replace('/', '~1')}`));

    this.container = this.deployment.addContainer({
      name: this.app,
      image: props.image,
      ports: [{ number: this.port, name: this.portName }],
      command: props.command,
      args: props.args,
      envVariables: props.env,
      envFrom: props.envFrom,
      imagePullPolicy: props.imagePullPolicy,
      readiness: probes.readiness,
      liveness: probes.liveness,
      lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', `${this.preStopSleep.toSeconds()}`]) },
      resources,
      securityContext: {
        ensureNonRoot: true,
        privileged: false,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        ...props.securityContext,
      },
    });

    if (this.scaling.autoscaled) {
      this.autoscaler = new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
        metadata: { name: this.name, labels },
        target: this.deployment,
        minReplicas: this.scaling.minReplicas,
        maxReplicas: this.scaling.maxReplicas,
        metrics: [
          kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(this.scaling.cpuUtilizationPercent!)),
          kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(this.scaling.memoryUtilizationPercent!)),
        ],
      });
    }

    const budget = props.disruptionBudget ?? DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.absolute(1));
    this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: this.name, labels },
      spec: {
        selector: { matchLabels: this.selectorLabels },
        maxUnavailable: budget._maxUnavailable && intOrString(budget._maxUnavailable),
        minAvailable: budget._minAvailable && intOrString(budget._minAvailable),
      },
    });

    if (props.createService) {
      this.service = new kplus.Service(this, 'Service', {
        metadata: { name: this.app, labels: { 'app': this.app, 'app.kubernetes.io/name': this.app } },
        ports: [{ name: this.portName, port: this.port, targetPort: this.port }],
      });
      this.service.selectLabel('app', this.app);
      if (props.appProtocol) {
        ApiObject.of(this.service).addJsonPatch(JsonPatch.add('/spec/ports/0/appProtocol', props.appProtocol));
      }
    }
  }

  private checkScaling(scaling: Scaling): void {
    checkInteger(this, 'scaling.minReplicas', scaling.minReplicas, 1);
    checkInteger(this, 'scaling.maxReplicas', scaling.maxReplicas, 1);
    if (scaling.minReplicas > scaling.maxReplicas) {
      throw invalidProp(this, 'scaling', `minReplicas ${scaling.minReplicas} > maxReplicas ${scaling.maxReplicas}`,
        'must have minReplicas <= maxReplicas');
    }
    if (scaling.autoscaled) {
      checkInteger(this, 'scaling.cpuUtilizationPercent', scaling.cpuUtilizationPercent!, 1);
      checkInteger(this, 'scaling.memoryUtilizationPercent', scaling.memoryUtilizationPercent!, 1);
    }
  }

  /** Grace period > preStop sleep + sidecar drain, or the kubelet kills a pod still serving. */
  private checkTerminationBudget(): void {
    const preStop = wholeSeconds(this, 'preStopSleep', this.preStopSleep);
    const grace = wholeSeconds(this, 'terminationGracePeriod', this.terminationGracePeriod);
    const drain = this.sidecarDrainDuration ? wholeSeconds(this, 'sidecarDrainDuration', this.sidecarDrainDuration) : 0;
    if (grace <= preStop + drain) {
      const budget = this.sidecarDrainDuration
        ? `preStopSleep (${preStop}s) + sidecarDrainDuration (${drain}s) = ${preStop + drain}s`
        : `preStopSleep (${preStop}s)`;
      throw invalidProp(this, 'terminationGracePeriod', this.terminationGracePeriod,
        `must be longer than ${budget}, or pods are killed while still draining requests: raise terminationGracePeriod or shorten preStopSleep`);
    }
  }

  private sidecarAnnotations(): { [key: string]: string } {
    if (!this.sidecarDrainDuration) {
      return {};
    }
    return {
      [ISTIO_PROXY_CONFIG_ANNOTATION]: JSON.stringify({
        holdApplicationUntilProxyStarts: true,
        terminationDrainDuration: `${this.sidecarDrainDuration.toSeconds()}s`,
        // With EXIT_ON_ZERO_ACTIVE_CONNECTIONS pilot-agent ignores terminationDrainDuration: it waits
        // MINIMUM_DRAIN_DURATION, then until no connection is active (pkg/envoy/agent.go). Both are
        // set, so the drain lasts at least sidecarDrainDuration whichever setting Istio honours.
        proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: `${this.sidecarDrainDuration.toSeconds()}s` },
      }),
    };
  }

  private resolveResources(resources: kplus.ContainerResources = {}): kplus.ContainerResources {
    const cpu = {
      request: resources.cpu?.request ?? DEFAULT_CPU_REQUEST,
      limit: resources.cpu?.limit ?? DEFAULT_CPU_LIMIT,
    };
    const memory = {
      request: resources.memory?.request ?? DEFAULT_MEMORY_REQUEST,
      limit: resources.memory?.limit ?? DEFAULT_MEMORY_LIMIT,
    };
    if (cpuMillis(cpu.limit) < cpuMillis(cpu.request)) {
      throw invalidProp(this, 'resources.cpu.limit', cpu.limit.amount, `must be at least the CPU request (${cpu.request.amount})`);
    }
    const mebibytes = (prop: string, size: Size) => {
      const value = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
      if (!Number.isInteger(value)) {
        throw invalidProp(this, prop, `${value}Mi`, 'must be a whole number of mebibytes (it is emitted in Mi)');
      }
      return value;
    };
    const [limitMi, requestMi] = [mebibytes('resources.memory.limit', memory.limit), mebibytes('resources.memory.request', memory.request)];
    if (limitMi < requestMi) {
      throw invalidProp(this, 'resources.memory.limit', `${limitMi}Mi`, `must be at least the memory request (${requestMi}Mi)`);
    }
    return { cpu, memory, ephemeralStorage: resources.ephemeralStorage };
  }
}

function cpuMillis(cpu: kplus.Cpu): number {
  return cpu.amount.endsWith('m') ? Number(cpu.amount.slice(0, -1)) : Number(cpu.amount) * 1000;
}

function intOrString(value: kplus.PercentOrAbsolute): kplus.k8s.IntOrString {
  return typeof value.value === 'number'
    ? kplus.k8s.IntOrString.fromNumber(value.value)
    : kplus.k8s.IntOrString.fromString(value.value);
}
