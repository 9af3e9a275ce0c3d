/**
 * One version's props, checked and resolved before any construct is created.
 */
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DNS_1123_SUBDOMAIN, ISTIO_PROXY_CONFIG_ANNOTATION, versionLabels, versionObjectLabels } from '../_conventions';
import {
  checkAnnotations, checkAppProtocol, checkDns1035Label, checkEnum, checkImage, checkInteger, checkLabels,
  checkPercentOrAbsolute, checkPort, checkPortName, cpuMillis, INT32_MAX, invalidProp, PathScope, wholeSeconds, wholeSize,
} from '../_validation';
import { resolveProbes } from './_probes';
import { DisruptionBudget } from './disruption-budget';
import { Scaling } from './scaling';
import type { VersionedAppProps } from './versioned-app-props';

const DEFAULT_CPU_REQUEST = kplus.Cpu.millis(100);
const DEFAULT_CPU_LIMIT = kplus.Cpu.millis(1000);
const DEFAULT_MEMORY_REQUEST = Size.mebibytes(128);
const DEFAULT_MEMORY_LIMIT = Size.gibibytes(1);

/** Largest total size of an object's annotations, keys and values in UTF-8 bytes (apimachinery `TotalAnnotationSizeLimitB`). */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** The size of annotations as the API server counts it: the bytes of every key and value. */
function annotationsSize(annotations: { [key: string]: string }): number {
  return Object.entries(annotations).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
}

/** The user id the Istio sidecar runs as, which the app must not use. */
const ISTIO_PROXY_UID = 1337;

/**
 * One version's props, checked and resolved, before any construct is created: `VersionedApp`
 * builds its children from it, and `MeshRelease` resolves every version it deploys first, so a bad
 * version refuses the whole release before anything is created.
 */
export class ResolvedVersion implements PathScope {
  public readonly node: { readonly path: string };
  public readonly app: string;
  public readonly version: string;
  public readonly name: string;
  public readonly port: number;
  public readonly portName: string;
  public readonly scaling: Scaling;
  public readonly preStopSleep: Duration;
  public readonly terminationGracePeriod: Duration;
  public readonly sidecarDrainDuration?: Duration;
  public readonly selectorLabels: { [key: string]: string };
  public readonly labels: { [key: string]: string };
  public readonly podAnnotations: { [key: string]: string };
  public readonly probes: ReturnType<typeof resolveProbes>;
  public readonly maxSurge: kplus.PercentOrAbsolute;
  public readonly resources: kplus.ContainerResources;
  public readonly progressDeadline: Duration;
  public readonly minReady: Duration;
  public readonly budget: DisruptionBudget;
  public readonly securityContext: kplus.ContainerSecurityContextProps;
  public readonly podSecurityContext: kplus.PodSecurityContextProps;

  /** @param path the construct path of the VersionedApp, for errors */
  constructor(path: string, props: VersionedAppProps) {
    this.node = { path };
    const renamed = (props as unknown as { istioSidecarLifecycle?: unknown }).istioSidecarLifecycle;
    if (renamed !== undefined) {
      throw invalidProp(this, 'istioSidecarLifecycle', renamed, 'was renamed proxyLifecycle (README, Changelog)');
    }
    checkDns1035Label(this, 'app', props.app);
    checkDns1035Label(this, 'version', props.version);
    this.app = props.app;
    this.version = props.version;
    this.name = `${props.app}-${props.version}`;
    if (this.name.length > 63) {
      throw invalidProp(this, 'app + version', this.name,
        `must form a name '<app>-<version>' of at most 63 characters (it is ${this.name.length}): shorten the app or version`);
    }
    checkImage(this, 'image', props.image);
    checkPort(this, 'port', props.port);
    this.port = props.port;
    this.portName = props.portName ?? 'http';
    checkPortName(this, 'portName', this.portName);
    for (const name of Object.keys(props.env ?? {})) {
      if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(name)) {
        throw invalidProp(this, 'env', name, "names must be non-empty printable ASCII without '='");
      }
    }
    if (props.serviceAccount !== undefined && !DNS_1123_SUBDOMAIN.test(props.serviceAccount.name)) {
      throw invalidProp(this, 'serviceAccount', props.serviceAccount.name, 'must name a service account: a DNS-1123 subdomain (the pods\' serviceAccountName)');
    }
    if (props.imagePullPolicy !== undefined) {
      checkEnum(this, 'imagePullPolicy', props.imagePullPolicy, kplus.ImagePullPolicy);
    }

    this.scaling = props.scaling ?? Scaling.autoscale();
    this.checkScaling(this.scaling);
    this.preStopSleep = props.preStopSleep ?? Duration.seconds(10);
    this.terminationGracePeriod = props.terminationGracePeriod ?? Duration.seconds(60);
    const sidecarLifecycle = props.proxyLifecycle ?? true;
    this.sidecarDrainDuration = sidecarLifecycle ? props.sidecarDrainDuration ?? Duration.seconds(15) : undefined;
    if (!sidecarLifecycle && props.sidecarDrainDuration) {
      throw invalidProp(this, 'sidecarDrainDuration', props.sidecarDrainDuration,
        'applies only with the Istio sidecar lifecycle: drop it or set proxyLifecycle to true');
    }
    this.checkTerminationBudget();

    this.selectorLabels = versionLabels(this.app, this.version);
    this.labels = this.resolveLabels(props.labels);
    this.podAnnotations = this.resolvePodAnnotations(props.podAnnotations);
    this.probes = resolveProbes(this, this.port, props.probes);
    this.maxSurge = props.maxSurge ?? kplus.PercentOrAbsolute.percent(25);
    checkPercentOrAbsolute(this, 'maxSurge', this.maxSurge);
    if (this.maxSurge.isZero()) {
      throw invalidProp(this, 'maxSurge', this.maxSurge.value,
        'must be above zero: maxUnavailable is always 0, so a rollout needs surge pods to make progress');
    }
    this.resources = this.resolveResources(props.resources);
    this.progressDeadline = props.progressDeadline ?? Duration.seconds(120);
    const progressDeadlineSeconds = wholeSeconds(this, 'progressDeadline', this.progressDeadline, 1, INT32_MAX);
    this.minReady = props.minReady ?? Duration.seconds(0);
    const minReadySeconds = wholeSeconds(this, 'minReady', this.minReady, 0, INT32_MAX);
    if (minReadySeconds >= progressDeadlineSeconds) {
      throw invalidProp(this, 'minReady', this.minReady,
        `must be shorter than progressDeadline (${progressDeadlineSeconds}s), or every rollout is reported as failed: raise progressDeadline or shorten minReady`);
    }
    this.budget = props.disruptionBudget ?? DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.absolute(1));
    if (this.budget._maxUnavailable) {
      checkPercentOrAbsolute(this, 'disruptionBudget.maxUnavailable', this.budget._maxUnavailable);
    }
    if (this.budget._minAvailable) {
      checkPercentOrAbsolute(this, 'disruptionBudget.minAvailable', this.budget._minAvailable);
    }
    this.securityContext = this.resolveSecurityContext(props.securityContext);
    this.podSecurityContext = this.resolvePodSecurityContext(props.podSecurityContext);
    if (props.appProtocol !== undefined) {
      if (!props.createService) {
        throw invalidProp(this, 'appProtocol', props.appProtocol, 'applies only to the Service: drop it or set createService to true');
      }
      checkAppProtocol(this, 'appProtocol', props.appProtocol);
    }
  }

  private checkScaling(scaling: Scaling): void {
    checkInteger(this, 'scaling.minReplicas', scaling.minReplicas, 1, INT32_MAX);
    checkInteger(this, 'scaling.maxReplicas', scaling.maxReplicas, 1, INT32_MAX);
    if (scaling.minReplicas > scaling.maxReplicas) {
      throw invalidProp(this, 'scaling', `minReplicas ${scaling.minReplicas} > maxReplicas ${scaling.maxReplicas}`,
        'must have minReplicas <= maxReplicas');
    }
    if (scaling.autoscaled) {
      checkInteger(this, 'scaling.cpuUtilizationPercent', scaling.cpuUtilizationPercent!, 1, INT32_MAX);
      checkInteger(this, 'scaling.memoryUtilizationPercent', scaling.memoryUtilizationPercent!, 1, INT32_MAX);
    }
  }

  /** Grace period > preStop sleep + sidecar drain, or the kubelet kills a pod still serving. */
  private checkTerminationBudget(): void {
    const preStop = wholeSeconds(this, 'preStopSleep', this.preStopSleep);
    const grace = wholeSeconds(this, 'terminationGracePeriod', this.terminationGracePeriod);
    const drain = this.sidecarDrainDuration ? wholeSeconds(this, 'sidecarDrainDuration', this.sidecarDrainDuration) : 0;
    if (this.sidecarDrainDuration && drain < preStop) {
      // A classic sidecar gets SIGTERM with the app's preStop hook and exits after its drain
      // (pilot-agent pkg/envoy/agent.go): while the app still sleeps for endpoints to go.
      throw invalidProp(this, 'sidecarDrainDuration', this.sidecarDrainDuration,
        `must be at least preStopSleep (${preStop}s): a classic Istio sidecar stops after its drain, while the app's preStop sleep still lets late requests in`);
    }
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

  /** Our labels plus the user's, refusing a user label that would change one of ours. */
  private resolveLabels(extra: { [key: string]: string } = {}): { [key: string]: string } {
    checkLabels(this, 'labels', extra);
    const ours: { [key: string]: string } = versionObjectLabels(this.app, this.version);
    for (const [key, value] of Object.entries(extra)) {
      if (key in ours && value !== ours[key]) {
        throw invalidProp(this, `labels[${key}]`, value,
          `must be left out or equal '${ours[key]}': VersionedApp sets '${key}' from app and version`);
      }
      if (key === kplus.Pod.ADDRESS_LABEL) {
        throw invalidProp(this, `labels[${key}]`, value, 'must be left out: it is reserved by cdk8s-plus');
      }
    }
    return { ...extra, ...ours };
  }

  /**
   * The sidecar lifecycle annotation plus the user's, refusing a user annotation that would change ours, and a set the
   * API server refuses as too large.
   */
  private resolvePodAnnotations(extra: { [key: string]: string } = {}): { [key: string]: string } {
    checkAnnotations(this, 'podAnnotations', extra);
    const ours = this.sidecarAnnotations();
    for (const [key, value] of Object.entries(extra)) {
      if (key in ours && value !== ours[key]) {
        throw invalidProp(this, `podAnnotations[${key}]`, value,
          `must be left out or equal ${JSON.stringify(ours[key])}: it is set from sidecarDrainDuration; `
          + 'set proxyLifecycle to false to write your own');
      }
    }
    const annotations = { ...extra, ...ours };
    const size = annotationsSize(annotations);
    if (size > MAX_ANNOTATIONS_BYTES) {
      const keys = Object.keys(extra);
      throw invalidProp(this, 'podAnnotations', keys.length > 5 ? [...keys.slice(0, 5), `… (${keys.length} keys)`] : keys,
        `must total at most ${MAX_ANNOTATIONS_BYTES} bytes of keys and values${Object.keys(ours).length ? ', the sidecar lifecycle annotation included' : ''}`
        + ` (the API server's limit on an object's annotations); they are ${size} bytes`);
    }
    return annotations;
  }

  /**
   * The restricted container security context with the user's fields over it, refusing
   * combinations the API server or the kubelet would refuse later.
   */
  private resolveSecurityContext(fields: kplus.ContainerSecurityContextProps = {}): kplus.ContainerSecurityContextProps {
    const context: kplus.ContainerSecurityContextProps = {
      ensureNonRoot: true,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: [kplus.Capability.ALL] },
      seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      ...definedOnly(fields),
    };
    this.checkUser('securityContext', context);
    if (context.privileged && !context.allowPrivilegeEscalation) {
      throw invalidProp(this, 'securityContext.allowPrivilegeEscalation', context.allowPrivilegeEscalation,
        'must be true when securityContext.privileged is true (the API server refuses a privileged container without privilege escalation)');
    }
    if (!context.allowPrivilegeEscalation && context.capabilities?.add?.includes(kplus.Capability.SYS_ADMIN)) {
      throw invalidProp(this, 'securityContext.allowPrivilegeEscalation', context.allowPrivilegeEscalation,
        'must be true when securityContext.capabilities.add has SYS_ADMIN (the API server refuses the combination)');
    }
    const seccomp = context.seccompProfile;
    if (seccomp) {
      checkEnum(this, 'securityContext.seccompProfile.type', seccomp.type, kplus.SeccompProfileType);
      if ((seccomp.type === kplus.SeccompProfileType.LOCALHOST) !== (seccomp.localhostProfile !== undefined)) {
        throw invalidProp(this, 'securityContext.seccompProfile.localhostProfile', seccomp.localhostProfile,
          'must be given exactly when securityContext.seccompProfile.type is SeccompProfileType.LOCALHOST');
      }
    }
    return context;
  }

  private resolvePodSecurityContext(fields: kplus.PodSecurityContextProps = {}): kplus.PodSecurityContextProps {
    const context = { ensureNonRoot: true, ...definedOnly(fields) };
    this.checkUser('podSecurityContext', context);
    for (const prop of ['group', 'fsGroup'] as const) {
      if (context[prop] !== undefined) {
        checkInteger(this, `podSecurityContext.${prop}`, context[prop], 0, INT32_MAX);
      }
    }
    return context;
  }

  /** A user id Kubernetes and Istio accept together with `ensureNonRoot`. */
  private checkUser(prop: string, context: { user?: number; group?: number; ensureNonRoot?: boolean }): void {
    if (context.user !== undefined) {
      checkInteger(this, `${prop}.user`, context.user, 0, INT32_MAX);
      if (context.user === 0 && context.ensureNonRoot) {
        throw invalidProp(this, `${prop}.user`, context.user,
          `must not be 0 (root) while ${prop}.ensureNonRoot is true: the kubelet refuses to start the container`);
      }
      if (context.user === ISTIO_PROXY_UID) {
        throw invalidProp(this, `${prop}.user`, context.user,
          `must not be ${ISTIO_PROXY_UID}, the Istio sidecar's user id (https://istio.io/latest/docs/ops/deployment/requirements/)`);
      }
    }
    if (prop === 'securityContext' && context.group !== undefined) {
      checkInteger(this, `${prop}.group`, context.group, 0, INT32_MAX);
    }
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
    const [cpuRequest, cpuLimit] = [cpuMillis(this, 'resources.cpu.request', cpu.request), cpuMillis(this, 'resources.cpu.limit', cpu.limit)];
    if (cpuLimit < cpuRequest) {
      throw invalidProp(this, 'resources.cpu.limit', cpu.limit.amount, `must be at least the CPU request (${cpu.request.amount})`);
    }
    const [requestMi, limitMi] = [wholeSize(this, 'resources.memory.request', memory.request, 'Mi'), wholeSize(this, 'resources.memory.limit', memory.limit, 'Mi')];
    if (limitMi < requestMi) {
      throw invalidProp(this, 'resources.memory.limit', `${limitMi}Mi`, `must be at least the memory request (${requestMi}Mi)`);
    }
    if (this.scaling.autoscaled) {
      // The autoscaler's utilization targets are percentages of the requests.
      for (const [prop, value, shown] of [['cpu', cpuRequest, cpu.request.amount], ['memory', requestMi, `${requestMi}Mi`]] as const) {
        if (value === 0) {
          throw invalidProp(this, `resources.${prop}.request`, shown,
            `must be above zero when scaling autoscales: the ${prop} utilization target is a percentage of the request`);
        }
      }
    }
    const storage = resources.ephemeralStorage ?? {};
    const storageRequest = storage.request && wholeSize(this, 'resources.ephemeralStorage.request', storage.request, 'Gi');
    const storageLimit = storage.limit && wholeSize(this, 'resources.ephemeralStorage.limit', storage.limit, 'Gi');
    if (storageRequest !== undefined && storageLimit !== undefined && storageLimit < storageRequest) {
      throw invalidProp(this, 'resources.ephemeralStorage.limit', `${storageLimit}Gi`,
        `must be at least the ephemeral storage request (${storageRequest}Gi)`);
    }
    return { cpu, memory, ephemeralStorage: resources.ephemeralStorage };
  }
}


function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
