/**
 * The three ways of producing the same YAML that the benchmark compares.
 *
 * A: the library — N `MeshRelease`s at `shift-50`, synthesized with `app.synthYaml()`.
 * B: the same manifests written by hand with cdk8s-plus-28 + `ApiObject`, synthesized with `app.synthYaml()`.
 * C: the floor — the final plain objects of A serialized with the function `synthYaml()` ends with
 *    (cdk8s' `Yaml.stringify`, i.e. its bundled `yaml` package with the same options).
 */
import { ApiObject, App, Chart, Duration, JsonPatch, Size, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MeshRelease, ReleasePlan } from '../src';

/** Namespace of the chart (set on the chart, as the README's quick start does). */
export const NAMESPACE = 'shop';
export const PORT = 8080;
export const STAGE = 'shift-50';
export const VERSIONS = [
  { version: 'v1', image: 'example/svc:1.0.0' },
  { version: 'v2', image: 'example/svc:2.0.0' },
];

function newChart(): { app: App; chart: Chart } {
  // outdir is never written: only synthYaml() is called.
  const app = new App({ outdir: '/tmp/cdk8s-mesh-release-bench-unused' });
  const chart = new Chart(app, 'bench', { namespace: NAMESPACE });
  return { app, chart };
}

/** A: N releases built with the library. */
export function buildA(n: number): App {
  const { app, chart } = newChart();
  // One plan per app, as a user's app would do (the plan checks its 9 transitions once).
  const stage = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] }).stage(STAGE);
  for (let i = 0; i < n; i++) {
    new MeshRelease(chart, `svc-${i}`, { app: `svc-${i}`, port: PORT, versions: VERSIONS, stage });
  }
  return app;
}

const PROXY_CONFIG = JSON.stringify({
  holdApplicationUntilProxyStarts: true,
  terminationDrainDuration: '15s',
  proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '15s' },
});
const PLAN_STAGES = 'stable,make-routable,deploy,shift-10,shift-50,shift-100,unroute,drop-routable,retire';

/**
 * B: what a user would write instead of one MeshRelease, object for object, with
 * cdk8s-plus-28 (Deployment, HorizontalPodAutoscaler, Service), the k8s L1 construct
 * (PodDisruptionBudget) and `ApiObject` (Istio DestinationRule and VirtualService).
 */
export function handWrittenRelease(scope: Construct, name: string): void {
  const group = new Construct(scope, name);
  const appLabels = { 'app': name, 'app.kubernetes.io/name': name };
  const host = `${name}.${NAMESPACE}.svc.cluster.local`;

  const service = new kplus.Service(group, 'Service', {
    metadata: { name, labels: appLabels },
    ports: [{ name: 'http', port: PORT, targetPort: PORT }],
  });
  service.selectLabel('app', name);

  for (const { version, image } of VERSIONS) {
    const workload = `${name}-${version}`;
    const selector = { app: name, version };
    const labels = { ...selector, 'app.kubernetes.io/name': name, 'app.kubernetes.io/version': version };
    const timing = {
      timeoutSeconds: Duration.seconds(5),
      initialDelaySeconds: Duration.seconds(5),
      periodSeconds: Duration.seconds(5),
      failureThreshold: 3,
    };
    const wget = (path: string) => ['wget', '--quiet', '--tries=1', '--timeout=4', '--spider', `http://localhost:${PORT}${path}`];

    const deployment = new kplus.Deployment(group, `Deployment-${version}`, {
      metadata: { name: workload, labels },
      select: false,
      podMetadata: { labels, annotations: { 'proxy.istio.io/config': PROXY_CONFIG } },
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      progressDeadline: Duration.seconds(120),
      minReady: Duration.seconds(0),
      terminationGracePeriod: Duration.seconds(60),
      securityContext: { ensureNonRoot: true },
      containers: [{
        name,
        image,
        ports: [{ number: PORT, name: 'http' }],
        readiness: kplus.Probe.fromCommand(wget('/readyz'), timing),
        liveness: kplus.Probe.fromCommand(wget('/healthz'), timing),
        lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', '10']) },
        resources: {
          cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(1000) },
          memory: { request: Size.mebibytes(128), limit: Size.gibibytes(1) },
        },
        securityContext: {
          ensureNonRoot: true,
          privileged: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: [kplus.Capability.ALL] },
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
      }],
    });
    deployment.select(kplus.LabelSelector.of({ labels: selector }));
    // Same choice as the library: no cdk8s-plus address label on the pod template.
    ApiObject.of(deployment).addJsonPatch(JsonPatch.remove(`/spec/template/metadata/labels/${kplus.Pod.ADDRESS_LABEL.replace('/', '~1')}`));

    new kplus.HorizontalPodAutoscaler(group, `Autoscaler-${version}`, {
      metadata: { name: workload, labels },
      target: deployment,
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(70)),
        kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(80)),
      ],
    });

    new kplus.k8s.KubePodDisruptionBudget(group, `DisruptionBudget-${version}`, {
      metadata: { name: workload, labels },
      spec: { selector: { matchLabels: selector }, maxUnavailable: kplus.k8s.IntOrString.fromNumber(1) },
    });
  }

  new ApiObject(group, 'DestinationRule', {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name, labels: appLabels },
    spec: {
      host,
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
      subsets: VERSIONS.map(({ version }) => ({ name: version, labels: { version } })),
    },
  });

  new ApiObject(group, 'VirtualService', {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: {
      name,
      labels: appLabels,
      annotations: { 'mesh-release.io/stage': STAGE, 'mesh-release.io/plan-stages': PLAN_STAGES },
    },
    spec: {
      hosts: [host],
      http: [{
        name: 'weighted',
        route: VERSIONS.map(({ version }) => ({ destination: { host, subset: version, port: { number: PORT } }, weight: 50 })),
        timeout: '10s',
        retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,refused-stream' },
      }],
    },
  });
}

/** B: N hand-written releases. */
export function buildB(n: number): App {
  const { app, chart } = newChart();
  for (let i = 0; i < n; i++) {
    handWrittenRelease(chart, `svc-${i}`);
  }
  return app;
}

/**
 * A, one chart per release: `k` charts of one MeshRelease each (a common layout: a chart per service). cdk8s
 * validates the whole app once per chart it renders (`App._synthChart`), so every release's synth-time check runs
 * `k + 1` times per synth.
 */
export function buildChartsA(k: number): App {
  const app = new App({ outdir: '/tmp/cdk8s-mesh-release-bench-unused' });
  const stage = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] }).stage(STAGE);
  for (let i = 0; i < k; i++) {
    const chart = new Chart(app, `chart-${i}`, { namespace: NAMESPACE });
    new MeshRelease(chart, `svc-${i}`, { app: `svc-${i}`, port: PORT, versions: VERSIONS, stage });
  }
  return app;
}

/** B, one chart per release: the hand-written objects of `buildChartsA`. */
export function buildChartsB(k: number): App {
  const app = new App({ outdir: '/tmp/cdk8s-mesh-release-bench-unused' });
  for (let i = 0; i < k; i++) {
    handWrittenRelease(new Chart(app, `chart-${i}`, { namespace: NAMESPACE }), `svc-${i}`);
  }
  return app;
}

/** The plain objects `synthYaml()` serializes, in the same order (it calls `chart.toJson()` per chart). */
export function docsOf(app: App): any[] {
  return app.charts.flatMap((chart) => chart.toJson());
}

export const synthA = (n: number): string => buildA(n).synthYaml();
export const synthB = (n: number): string => buildB(n).synthYaml();
/** C: exactly the last step of `App.synthYaml()` (cdk8s 2.70: `Yaml.stringify(...docs)`). */
export const serializeC = (docs: any[]): string => Yaml.stringify(...docs);

export type Scenario = 'A' | 'B' | 'C';
