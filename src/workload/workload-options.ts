import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DisruptionBudget } from './disruption-budget';
import { HealthProbeOptions } from './health-probes';
import { Scaling } from './scaling';

/**
 * Everything about how one version of a service runs that does not name it: shared by
 * `VersionedApp` and by the defaults and per-version overrides of `MeshRelease`.
 *
 * Every default is zero-downtime: a surge-only rolling update, probes, a preStop sleep
 * that outlives endpoint propagation, a grace period that outlasts it and the sidecar
 * drain, an autoscaler and a disruption budget.
 *
 * How a version's options combine with `MeshRelease`'s `defaults`, field by field:
 * - `probes`, `podSecurityContext`: each field the version gives wins, the others keep the default
 *   (defaults `probes: { readinessPath: '/ready' }` + version `probes: { timeout }` keeps `/ready`).
 * - `resources`: each of cpu, memory and ephemeral storage request and limit on its own.
 * - `securityContext`: field by field, `capabilities.add` and `capabilities.drop` each on its own;
 *   `seccompProfile` is taken whole (its type and localhostProfile go together).
 * - `env` by variable name, `labels` and `podAnnotations` by key: the version wins on the same name.
 * - `envFrom`: the defaults' sources, then the version's.
 * - Everything else (`scaling`, durations, `maxSurge`, `disruptionBudget`, `command`, `args`,
 *   `imagePullPolicy`, `serviceAccount`, `proxyLifecycle`): the version's value replaces the default.
 * A field given as `undefined` counts as not given. Values are then checked as a whole, so a
 * version can break a rule together with the defaults (e.g. a CPU limit below the default request).
 */
export interface WorkloadOptions {
  /**
   * Replica count: an autoscaler between bounds, or a fixed count.
   * @default Scaling.autoscale() - HPA with 2 to 4 replicas, 70% CPU and 80% memory utilization targets
   */
  readonly scaling?: Scaling;

  /**
   * CPU, memory and ephemeral storage requests and limits of the container. Each CPU and
   * memory value left out keeps its default; a limit below its request is an error. CPU in
   * whole millicores, memory in whole MiB and ephemeral storage in whole GiB (how they are
   * emitted); requests above zero when autoscaled (utilization targets are shares of them).
   * @default - cpu request 100m, limit 1000m; memory request 128Mi, limit 1Gi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Readiness and liveness probes.
   * @default - exec probes running wget against /readyz and /healthz, 5s timeout, 5s initial delay, 5s period
   */
  readonly probes?: HealthProbeOptions;

  /**
   * How long the container's preStop hook sleeps before it receives SIGTERM, so that
   * endpoints and Envoy configuration stop sending it traffic first.
   * @default Duration.seconds(10)
   */
  readonly preStopSleep?: Duration;

  /**
   * How long Kubernetes waits for the pod to stop before killing it. Must be longer
   * than `preStopSleep` plus `sidecarDrainDuration` (when the Istio sidecar lifecycle is on).
   * @default Duration.seconds(60)
   */
  readonly terminationGracePeriod?: Duration;

  /**
   * Order the mesh proxy's lifecycle around the app: the proxy starts before the app and
   * drains after it. With an Istio sidecar (the proxy this emits for) that is the pod
   * annotation `proxy.istio.io/config` with `holdApplicationUntilProxyStarts: true`, a
   * `terminationDrainDuration` and `EXIT_ON_ZERO_ACTIVE_CONNECTIONS`. Turn off without a
   * sidecar proxy (no mesh, or Istio ambient, where `TrafficRouter.gatewayApi({ ambientWaypoint })`
   * turns it off itself).
   * @default true
   */
  readonly proxyLifecycle?: boolean;

  /**
   * How long the Istio sidecar keeps draining connections after the pod starts terminating
   * (`terminationDrainDuration`). Counted in the termination budget.
   * @default Duration.seconds(15)
   */
  readonly sidecarDrainDuration?: Duration;

  /**
   * How many pods above the desired count a rolling update may add: a positive integer or an
   * integer percentage up to 100%. `maxUnavailable` is always 0: a rollout never removes a
   * ready pod before its replacement is ready.
   * @default PercentOrAbsolute.percent(25)
   */
  readonly maxSurge?: kplus.PercentOrAbsolute;

  /**
   * How long a rollout may make no progress before the Deployment reports it as failed.
   * @default Duration.seconds(120)
   */
  readonly progressDeadline?: Duration;

  /**
   * How long a new pod must be ready, without crashing, before it counts as available.
   * Shorter than `progressDeadline`.
   * @default Duration.seconds(0)
   */
  readonly minReady?: Duration;

  /**
   * The PodDisruptionBudget of this version.
   * @default DisruptionBudget.maxUnavailable(PercentOrAbsolute.absolute(1))
   */
  readonly disruptionBudget?: DisruptionBudget;

  /**
   * Environment variables of the container.
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };

  /**
   * Whole ConfigMaps or Secrets to expose as environment variables (`Env.fromConfigMap()`, `Env.fromSecret()`).
   * @default - none
   */
  readonly envFrom?: kplus.EnvFrom[];

  /**
   * Entrypoint of the container, replacing the image's.
   * @default - the image's ENTRYPOINT
   */
  readonly command?: string[];

  /**
   * Arguments to the entrypoint.
   * @default - the image's CMD
   */
  readonly args?: string[];

  /**
   * When the kubelet pulls the image.
   * @default ImagePullPolicy.ALWAYS
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;

  /**
   * The service account pods run as (also the identity Istio authorization policies see).
   * @default - the namespace's default service account
   */
  readonly serviceAccount?: kplus.IServiceAccount;

  /**
   * Container security context. Each field given replaces the matching field of the
   * restricted default; fields left out stay restricted. Combinations the API server or the
   * kubelet refuse (privileged or SYS_ADMIN without allowPrivilegeEscalation, user 0 with
   * ensureNonRoot, a localhostProfile without type LOCALHOST) are errors.
   * @default - Pod Security Standards "restricted": runAsNonRoot, no privilege escalation,
   * all capabilities dropped, seccomp RuntimeDefault, read-only root filesystem, not privileged
   */
  readonly securityContext?: kplus.ContainerSecurityContextProps;

  /**
   * Pod security context. Each field given replaces the matching default. `user: 0` needs
   * `ensureNonRoot: false`; user 1337 belongs to the Istio sidecar and is refused.
   * @default - runAsNonRoot, cdk8s-plus defaults otherwise
   */
  readonly podSecurityContext?: kplus.PodSecurityContextProps;

  /**
   * Extra labels on the Deployment and its pods. `app`, `version`, `app.kubernetes.io/name`
   * and `app.kubernetes.io/version` are always set from the app and version: giving one of
   * them a different value is an error. Keys and values must be valid Kubernetes labels.
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Extra annotations on the pods. With the Istio sidecar lifecycle on, `proxy.istio.io/config`
   * is ours: giving it a different value is an error (turn `proxyLifecycle` off to write your own).
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
}
