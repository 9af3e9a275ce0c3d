/**
 * Reads workloads (Deployments, StatefulSets...) and the HorizontalPodAutoscalers that scale
 * them: how many pods are guaranteed, whether a rollout keeps pods, and how long a pod needs
 * to stop without dropping a request.
 */
import * as YAML from 'yaml';
import { ISTIO_PROXY_CONFIG_ANNOTATION } from '../_conventions';
import { push } from '../_util';
import { parseDurationMs } from './_durations';
import { ReadOptions, SidecarDrain, WorkloadFacts, objectName } from './_facts';
import { StageManifests } from './_manifests';

/** Annotation that turns Istio's native sidecar (a restartable init container) on or off for a pod. */
export const ISTIO_NATIVE_SIDECAR_ANNOTATION = 'sidecar.istio.io/nativeSidecar';

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'ReplicaSet'];
const WORKLOAD_KIND_SET = new Set(WORKLOAD_KINDS);

/** Every workload of the stage, with the floor its autoscaler guarantees, in the order of the manifests. */
export function readWorkloads(stage: StageManifests): WorkloadFacts[] {
  const workloads: WorkloadFacts[] = [];
  if (WORKLOAD_KINDS.every((kind) => stage.ofKind(kind).length === 0)) {
    return workloads;
  }
  const autoscalers = autoscalersOf(stage);
  for (const m of stage.objects) {
    if (WORKLOAD_KIND_SET.has(m.kind) && typeof m.apiVersion === 'string' && m.apiVersion.startsWith('apps/')) {
      workloads.push(workloadOf(m, stage.options, autoscalers));
    }
  }
  return workloads;
}

/** The HorizontalPodAutoscalers of a target (namespace, kind, name), in the order of the manifests. */
type Autoscalers = (namespace: unknown, kind: unknown, name: unknown) => any[];

function autoscalersOf(stage: StageManifests): Autoscalers {
  const hpas = stage.ofKind('HorizontalPodAutoscaler').map((h) => ({
    h, namespace: stage.namespaceOf(h), kind: h.spec?.scaleTargetRef?.kind, name: h.spec?.scaleTargetRef?.name,
  }));
  if (hpas.length <= 8) {
    // A few: compared with each workload, no key built.
    return (namespace, kind, name) => hpas
      .filter((x) => sameKeyPart(x.namespace, namespace) && sameKeyPart(x.kind, kind) && sameKeyPart(x.name, name)).map((x) => x.h);
  }
  const byTarget = new Map<string, any[]>();
  for (const x of hpas) {
    push(byTarget, targetKey(x.namespace, x.kind, x.name), x.h);
  }
  return (namespace, kind, name) => byTarget.get(targetKey(namespace, kind, name)) ?? [];
}

/** A target's key: its parts as JSON would write them (a missing field as null), text set apart from the rest. */
function targetKey(namespace: unknown, kind: unknown, name: unknown): string {
  return `${keyPart(namespace)}\u0000${keyPart(kind)}\u0000${keyPart(name)}`;
}

function keyPart(value: unknown): string {
  return typeof value === 'string' ? `s${value}` : JSON.stringify(value ?? null);
}

/** Whether two parts of a target are the same (as `keyPart` sees them). */
function sameKeyPart(a: unknown, b: unknown): boolean {
  return typeof a === 'string' || typeof b === 'string' ? a === b : keyPart(a) === keyPart(b);
}

/**
 * The floor of a workload's pods: its autoscaler's `minReplicas`, or `spec.replicas`. With two or more autoscalers
 * on one target, the HPA controller scales with none of them (condition ScalingActive false, reason
 * AmbiguousSelector: kubernetes/kubernetes#112011), so the floor is `spec.replicas`, and the source says why. A
 * target at `replicas: 0` is not scaled either: the HPA controller leaves it at 0 (ScalingActive false, reason
 * ScalingDisabled, "scaling is disabled since the replica count of the target is zero":
 * pkg/controller/podautoscaler/horizontal.go), so its floor is 0.
 */
function floorOf(spec: any, hpas: any[]): [number, string] {
  const replicas: [number, string] = [typeof spec.replicas === 'number' ? spec.replicas : 1, `replicas: ${spec.replicas ?? '1 (default)'}`];
  if (hpas.length > 0 && spec.replicas === 0) {
    return [0, `replicas: 0, which the HPA controller does not scale up (ScalingDisabled), whatever ${hpas.map((h) => objectName(h)).sort().join(', ')} says`];
  }
  if (hpas.length === 1) {
    const hpa = hpas[0];
    return [typeof hpa.spec?.minReplicas === 'number' ? hpa.spec.minReplicas : 1, `${objectName(hpa)} minReplicas: ${hpa.spec?.minReplicas ?? '1 (default)'}`];
  }
  if (hpas.length > 1) {
    const names = hpas.map((h) => objectName(h)).sort();
    return [replicas[0], `${replicas[1]}, as ${names.join(', ')} all target it and the HPA controller then scales with none (AmbiguousSelector)`];
  }
  return replicas;
}

function workloadOf(manifest: any, options: ReadOptions, autoscalers: Autoscalers): WorkloadFacts {
  const namespace: string = manifest.metadata?.namespace ?? options.namespace;
  const name: string = manifest.metadata?.name;
  const spec = manifest.spec ?? {};
  const template = spec.template ?? {};
  const pod = template.spec ?? {};
  const hpas = autoscalers(namespace, manifest.kind, name);
  const [floor, floorSource] = floorOf(spec, hpas);
  const preStops: number[] = (pod.containers ?? []).map((c: any) => preStopSleepOf(c?.lifecycle?.preStop));
  const preStopSleepSeconds = Math.max(0, ...preStops);
  return {
    object: objectName(manifest),
    name,
    namespace,
    podLabels: template.metadata?.labels ?? {},
    floor,
    floorSource,
    replicas: typeof spec.replicas === 'number' ? spec.replicas : undefined,
    autoscaled: hpas.length > 0,
    rolloutTakesAllPods: rolloutRisk(manifest.kind, spec, floor),
    graceSeconds: typeof pod.terminationGracePeriodSeconds === 'number' ? pod.terminationGracePeriodSeconds : 30,
    preStopSleepSeconds,
    sidecarDrain: sidecarDrainOf(template.metadata?.annotations ?? {}, preStopSleepSeconds),
  };
}

/** Why a rollout can take every pod down at once, if it can. */
function rolloutRisk(kind: string, spec: any, floor: number): string | undefined {
  if (kind !== 'Deployment') {
    return undefined;
  }
  const strategy = spec.strategy ?? {};
  if (strategy.type === 'Recreate') {
    return 'strategy Recreate stops every pod before starting the new ones';
  }
  const maxUnavailable = strategy.rollingUpdate?.maxUnavailable;
  if (typeof maxUnavailable === 'string' && /^[0-9]+%$/.test(maxUnavailable) && Number(maxUnavailable.slice(0, -1)) >= 100) {
    return `rollingUpdate.maxUnavailable ${maxUnavailable} lets a rollout stop every pod at once`;
  }
  if (typeof maxUnavailable === 'number' && maxUnavailable >= Math.max(floor, 1)) {
    return `rollingUpdate.maxUnavailable ${maxUnavailable} is at least the ${floor} pod(s) guaranteed, so a rollout can stop them all`;
  }
  return undefined;
}

/** Seconds slept by a preStop hook: `sleep N` exec (direct or via a shell) or the native sleep action; 0 otherwise. */
function preStopSleepOf(preStop: any): number {
  if (preStop?.sleep?.seconds !== undefined) {
    return Number(preStop.sleep.seconds) || 0;
  }
  const command: unknown = preStop?.exec?.command;
  if (!Array.isArray(command)) {
    return 0;
  }
  const match = /(?:^|\s|\/)sleep\s+([0-9.]+)/.exec(command.join(' '));
  return match ? Number(match[1]) : 0;
}

/**
 * The time a pod with an Istio sidecar needs to stop without dropping a request, from its
 * `proxy.istio.io/config` annotation (JSON or YAML). A pod without the annotation, or whose
 * annotation does not set the drain setting that applies, gets `undefined`: the annotation is
 * merged over the mesh-wide configuration, which is unknown here, so only the preStop sleep counts.
 *
 * The model (Istio 1.30; pilot-agent `pkg/envoy/agent.go` `terminate()`, options in
 * `pilot/cmd/pilot-agent/options/agent.go`; Kubernetes KEP-753 for native sidecars):
 * - Classic sidecar: istio-proxy has no preStop hook, so it gets SIGTERM at once, in parallel with
 *   the app's preStop sleep. pilot-agent drains Envoy's inbound listeners and then, by default,
 *   sleeps `terminationDrainDuration` (default 5s) and exits. With
 *   `proxyMetadata.EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"` it ignores `terminationDrainDuration`:
 *   it sleeps `MINIMUM_DRAIN_DURATION` (default 5s), then polls Envoy every second and exits when
 *   no connection is active (no upper bound but the grace period). Either way the proxy must not
 *   exit before the app's preStop sleep ends — the sleep is there because endpoints still send
 *   requests — so that drain must be at least the sleep.
 * - Native sidecar (a restartable init container: Istio's default since 1.27 where the kubelets
 *   are 1.33+, or `sidecar.istio.io/nativeSidecar: "true"`): its preStop hook drains Envoy at once
 *   and Kubernetes stops it after the app container exited, within the same grace period.
 * Which mode a pod gets depends on the cluster, so unless the annotation says, the budget is the
 * longer, sequential one: grace >= preStop sleep + drain.
 */
function sidecarDrainOf(annotations: { [key: string]: string }, preStopSeconds: number): SidecarDrain | undefined {
  const config = proxyConfigOf(annotations[ISTIO_PROXY_CONFIG_ANNOTATION]);
  if (!config) {
    return undefined;
  }
  const metadata = config.proxyMetadata && typeof config.proxyMetadata === 'object' ? config.proxyMetadata : {};
  const exitOnZero = String(metadata.EXIT_ON_ZERO_ACTIVE_CONNECTIONS) === 'true';
  const setting = exitOnZero ? 'MINIMUM_DRAIN_DURATION' : 'terminationDrainDuration';
  // The annotation is merged over the mesh-wide proxy config field by field: a setting it does not
  // give (or gives unreadably) comes from the mesh, which is unknown here, as for a pod without it.
  const drainMs = parseDurationMs(exitOnZero ? metadata.MINIMUM_DRAIN_DURATION : config.terminationDrainDuration);
  if (drainMs === undefined) {
    return undefined;
  }
  const drainSeconds = drainMs / 1000;
  const native = annotations[ISTIO_NATIVE_SIDECAR_ANNOTATION] === 'true';
  const drain = `sidecar drain ${drainSeconds}s (${setting}${exitOnZero ? ', then until no connection is active' : ''})`;
  return {
    requiredSeconds: native ? preStopSeconds : preStopSeconds + drainSeconds,
    explanation: native ? `preStop sleep ${preStopSeconds}s (native sidecar: it drains when the app has stopped)` : `preStop sleep ${preStopSeconds}s + ${drain}`,
    exitsEarly: !native && drainSeconds < preStopSeconds
      ? `a classic sidecar exits after its ${drain}, while the app's preStop sleep (${preStopSeconds}s) still waits for endpoints to stop sending: requests arriving in between are refused`
      : undefined,
    drainSetting: setting,
  };
}

/** The `proxy.istio.io/config` annotation (JSON or YAML) as an object, or undefined when absent or unreadable. */
function proxyConfigOf(annotation: unknown): { [key: string]: any } | undefined {
  if (typeof annotation !== 'string') {
    return undefined;
  }
  // Every pod of a release carries the same few annotations: parse each text once.
  if (!PROXY_CONFIGS.has(annotation)) {
    if (PROXY_CONFIGS.size >= 256) {
      PROXY_CONFIGS.clear();
    }
    PROXY_CONFIGS.set(annotation, parseProxyConfig(annotation));
  }
  return PROXY_CONFIGS.get(annotation);
}

const PROXY_CONFIGS = new Map<string, { [key: string]: any } | undefined>();

function parseProxyConfig(annotation: string): { [key: string]: any } | undefined {
  try {
    const config = YAML.parse(annotation);
    return config && typeof config === 'object' && !Array.isArray(config) ? config : undefined;
  } catch {
    return undefined;
  }
}
