import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  DisruptionBudget, ISTIO_PROXY_CONFIG_ANNOTATION, ProbeKind, Scaling, VersionedApp, VersionedAppProps,
} from '../../src';
import { ofKind, only } from '../_helpers';

const BASE: VersionedAppProps = {
  app: 'helloworld',
  version: 'v1',
  image: 'learnistio/helloworld:1.0.0',
  port: 3000,
};

const SELECTOR = { app: 'helloworld', version: 'v1' };
const LABELS = {
  'app': 'helloworld',
  'version': 'v1',
  'app.kubernetes.io/name': 'helloworld',
  'app.kubernetes.io/version': 'v1',
};
const RESTRICTED_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  privileged: false,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
const ADDRESS_LABEL = 'cdk8s.io/metadata.addr';
const IMAGE_RULE = "must be a container image reference '[registry[:port]/]repository[:tag][@sha256:<64 hex>]' with a lowercase repository,"
  + " a tag of at most 128 letters, digits, '_', '.' and '-', and no spaces, e.g. 'learnistio/helloworld:1.0.0'";

/** A chart holding one helloworld VersionedApp (id `v1`) with `props` over the base props. */
function build(props: Partial<VersionedAppProps> = {}): { chart: Chart; app: VersionedApp } {
  const chart = Testing.chart();
  const app = new VersionedApp(chart, 'v1', { ...BASE, ...props });
  return { chart, app };
}

function synth(props: Partial<VersionedAppProps> = {}): any[] {
  return Testing.synth(build(props).chart);
}

function containerOf(manifests: any[]): any {
  const containers = only(manifests, 'Deployment').spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  return containers[0];
}

/** The message of the error `new VersionedApp(...)` throws with `props`, failing the test if it does not throw. */
function errorOf(props: Partial<VersionedAppProps>): string {
  try {
    build(props);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected new VersionedApp(${JSON.stringify(props)}) to throw`);
}

/** Every label map anywhere in the manifests (metadata, pod template, selectors). */
function allLabelKeys(value: unknown): string[] {
  if (Array.isArray(value)) {
    return value.flatMap(allLabelKeys);
  }
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) => [key, ...allLabelKeys(child)]);
  }
  return [];
}

describe('VersionedApp defaults', () => {
  // GIVEN only app, version, image and port
  // WHEN
  const { app } = build();
  const manifests = Testing.synth(app.node.scope as Chart);
  const deployment = only(manifests, 'Deployment');
  const container = containerOf(manifests);

  test('the chart path of the construct is test/v1 (used in every error message)', () => {
    expect(app.node.path).toBe('test/v1');
  });

  test('synthesizes exactly a Deployment, an HPA and a PDB, no Service', () => {
    expect(manifests.map((m) => m.kind)).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']);
    expect(ofKind(manifests, 'Service')).toEqual([]);
    expect(app.service).toBeUndefined();
  });

  test('public properties', () => {
    expect(app.app).toBe('helloworld');
    expect(app.version).toBe('v1');
    expect(app.name).toBe('helloworld-v1');
    expect(app.port).toBe(3000);
    expect(app.portName).toBe('http');
    expect(app.selectorLabels).toEqual(SELECTOR);
    expect(app.scaling.autoscaled).toBe(true);
    expect(app.preStopSleep.toSeconds()).toBe(10);
    expect(app.terminationGracePeriod.toSeconds()).toBe(60);
    expect(app.sidecarDrainDuration?.toSeconds()).toBe(15);
    expect(app.autoscaler).toBeDefined();
  });

  test('Deployment named <app>-<version>, apps/v1', () => {
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(deployment.metadata.name).toBe('helloworld-v1');
  });

  test('Deployment metadata and pod template carry exactly app, version and the app.kubernetes.io labels', () => {
    expect(deployment.metadata.labels).toEqual(LABELS);
    expect(deployment.spec.template.metadata.labels).toEqual(LABELS);
  });

  test('selector.matchLabels is exactly {app, version}', () => {
    expect(deployment.spec.selector).toEqual({ matchLabels: SELECTOR });
  });

  test('no cdk8s.io/metadata.addr label anywhere', () => {
    expect(allLabelKeys(manifests)).not.toContain(ADDRESS_LABEL);
    expect(JSON.stringify(manifests)).not.toContain(ADDRESS_LABEL);
  });

  test('surge-only RollingUpdate: maxUnavailable 0, maxSurge 25%', () => {
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
    });
  });

  test('progressDeadlineSeconds 120, minReadySeconds 0 (left out: the API server stores no zero)', () => {
    expect(deployment.spec.progressDeadlineSeconds).toBe(120);
    expect(deployment.spec).not.toHaveProperty('minReadySeconds');
    expect(deployment.spec.template.spec).not.toHaveProperty('hostNetwork');
  });

  test('no replicas key when autoscaled', () => {
    expect(deployment.spec).not.toHaveProperty('replicas');
  });

  test('readiness probe: exec wget against /readyz, wget timeout one second under the probe timeout', () => {
    expect(container.readinessProbe).toEqual({
      exec: { command: ['wget', '--quiet', '--tries=1', '--timeout=4', '--spider', 'http://localhost:3000/readyz'] },
      timeoutSeconds: 5,
      initialDelaySeconds: 5,
      periodSeconds: 5,
      failureThreshold: 3,
    });
  });

  test('liveness probe: exec wget against /healthz', () => {
    expect(container.livenessProbe).toEqual({
      exec: { command: ['wget', '--quiet', '--tries=1', '--timeout=4', '--spider', 'http://localhost:3000/healthz'] },
      timeoutSeconds: 5,
      initialDelaySeconds: 5,
      periodSeconds: 5,
      failureThreshold: 3,
    });
  });

  test('no startup probe', () => {
    expect(container).not.toHaveProperty('startupProbe');
  });

  test('preStop sleeps 10s, grace period 60s', () => {
    expect(container.lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '10'] } } });
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(60);
  });

  test('resources: requests cpu 100m memory 128Mi, limits cpu 1000m memory 1024Mi, as the API server stores them (1, 1Gi)', () => {
    expect(container.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
  });

  test('container: name, image, port {containerPort 3000, name http}, no env', () => {
    expect(container.name).toBe('helloworld');
    expect(container.image).toBe('learnistio/helloworld:1.0.0');
    expect(container.imagePullPolicy).toBe('Always');
    expect(container.ports).toEqual([{ containerPort: 3000, name: 'http' }]);
    expect(container).not.toHaveProperty('env');
    expect(container).not.toHaveProperty('envFrom');
    expect(container).not.toHaveProperty('command');
    expect(container).not.toHaveProperty('args');
  });

  test('restricted container securityContext', () => {
    expect(container.securityContext).toEqual(RESTRICTED_SECURITY_CONTEXT);
  });

  test('pod securityContext runs as non-root', () => {
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  test('proxy.istio.io/config annotation orders the sidecar lifecycle', () => {
    const annotations = deployment.spec.template.metadata.annotations;
    expect(Object.keys(annotations)).toEqual([ISTIO_PROXY_CONFIG_ANNOTATION]);
    expect(ISTIO_PROXY_CONFIG_ANNOTATION).toBe('proxy.istio.io/config');
    expect(JSON.parse(annotations['proxy.istio.io/config'])).toEqual({
      holdApplicationUntilProxyStarts: true,
      terminationDrainDuration: '15s',
      // MINIMUM_DRAIN_DURATION is what pilot-agent waits with EXIT_ON_ZERO_ACTIVE_CONNECTIONS.
      proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '15s' },
    });
  });

  test('HPA autoscaling/v2: 2 to 4 replicas, cpu 70%, memory 80%, targeting the Deployment', () => {
    const hpa = only(manifests, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.metadata).toEqual({ name: 'helloworld-v1', labels: LABELS });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(4);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'helloworld-v1' });
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
    ]);
  });

  test('PDB policy/v1: maxUnavailable 1 (a number), selector {app, version}', () => {
    const pdb = only(manifests, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.metadata).toEqual({ name: 'helloworld-v1', labels: LABELS });
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: SELECTOR } });
    expect(typeof pdb.spec.maxUnavailable).toBe('number');
  });

  test('snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });
});

describe('VersionedApp overrides', () => {
  describe('scaling', () => {
    test('Scaling.fixed(3): replicas 3 and no HPA', () => {
      // GIVEN / WHEN
      const { chart, app } = build({ scaling: Scaling.fixed(3) });
      const manifests = Testing.synth(chart);
      // THEN
      expect(only(manifests, 'Deployment').spec.replicas).toBe(3);
      expect(ofKind(manifests, 'HorizontalPodAutoscaler')).toEqual([]);
      expect(app.autoscaler).toBeUndefined();
      expect(app.scaling.autoscaled).toBe(false);
    });

    test('Scaling.fixed(1) is allowed', () => {
      expect(only(synth({ scaling: Scaling.fixed(1) }), 'Deployment').spec.replicas).toBe(1);
    });

    test('Scaling.autoscale({...}) sets the HPA bounds and targets', () => {
      // WHEN
      const manifests = synth({
        scaling: Scaling.autoscale({ minReplicas: 3, maxReplicas: 10, cpuUtilizationPercent: 50, memoryUtilizationPercent: 60 }),
      });
      // THEN
      const hpa = only(manifests, 'HorizontalPodAutoscaler');
      expect(hpa.spec.minReplicas).toBe(3);
      expect(hpa.spec.maxReplicas).toBe(10);
      expect(hpa.spec.metrics.map((m: any) => [m.resource.name, m.resource.target])).toEqual([
        ['cpu', { type: 'Utilization', averageUtilization: 50 }],
        ['memory', { type: 'Utilization', averageUtilization: 60 }],
      ]);
      expect(only(manifests, 'Deployment').spec).not.toHaveProperty('replicas');
    });

    test('Scaling.autoscale with only maxReplicas keeps the other defaults', () => {
      const hpa = only(synth({ scaling: Scaling.autoscale({ maxReplicas: 6 }) }), 'HorizontalPodAutoscaler');
      expect(hpa.spec.minReplicas).toBe(2);
      expect(hpa.spec.maxReplicas).toBe(6);
      expect(hpa.spec.metrics.map((m: any) => m.resource.target.averageUtilization)).toEqual([70, 80]);
    });

    test('minReplicas equal to maxReplicas is allowed', () => {
      const hpa = only(synth({ scaling: Scaling.autoscale({ minReplicas: 4, maxReplicas: 4 }) }), 'HorizontalPodAutoscaler');
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([4, 4]);
    });
  });

  describe('resources', () => {
    test('all four values replaced', () => {
      const container = containerOf(synth({
        resources: {
          cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(500) },
          memory: { request: Size.mebibytes(256), limit: Size.gibibytes(2) },
        },
      }));
      expect(container.resources).toEqual({
        requests: { cpu: '250m', memory: '256Mi' },
        limits: { cpu: '500m', memory: '2Gi' },
      });
    });

    test('only the cpu request: the other three keep their defaults', () => {
      const container = containerOf(synth({ resources: { cpu: { request: kplus.Cpu.millis(250) } } }));
      expect(container.resources).toEqual({
        requests: { cpu: '250m', memory: '128Mi' },
        limits: { cpu: '1', memory: '1Gi' },
      });
    });

    test('only the memory limit: the other three keep their defaults', () => {
      const container = containerOf(synth({ resources: { memory: { limit: Size.mebibytes(512) } } }));
      expect(container.resources).toEqual({
        requests: { cpu: '100m', memory: '128Mi' },
        limits: { cpu: '1', memory: '512Mi' },
      });
    });

    test('cpu in units compares with millis: limit 1 unit == default limit is fine with request 1000m', () => {
      const container = containerOf(synth({ resources: { cpu: { request: kplus.Cpu.millis(1000), limit: kplus.Cpu.units(1) } } }));
      expect(container.resources.requests.cpu).toBe('1');
      expect(container.resources.limits.cpu).toBe('1');
    });

    test('limit equal to request is allowed', () => {
      const container = containerOf(synth({
        resources: {
          cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.millis(500) },
          memory: { request: Size.mebibytes(256), limit: Size.mebibytes(256) },
        },
      }));
      expect(container.resources).toEqual({
        requests: { cpu: '500m', memory: '256Mi' },
        limits: { cpu: '500m', memory: '256Mi' },
      });
    });
  });

  describe('probes', () => {
    test('kind HTTP_GET: httpGet probes on the container port with the default paths', () => {
      const container = containerOf(synth({ probes: { kind: ProbeKind.HTTP_GET } }));
      const timing = { timeoutSeconds: 5, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 };
      expect(container.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 3000, scheme: 'HTTP' }, ...timing });
      expect(container.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 3000, scheme: 'HTTP' }, ...timing });
    });

    test('kind HTTP_GET with custom paths', () => {
      const container = containerOf(synth({ probes: { kind: ProbeKind.HTTP_GET, readinessPath: '/ready', livenessPath: '/live' } }));
      expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 3000, scheme: 'HTTP' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/live', port: 3000, scheme: 'HTTP' });
      expect(container.readinessProbe).not.toHaveProperty('exec');
    });

    test('exec probes with custom paths follow the port', () => {
      const container = containerOf(synth({ port: 8080, probes: { readinessPath: '/ready', livenessPath: '/live' } }));
      expect(container.readinessProbe.exec.command).toEqual(['wget', '--quiet', '--tries=1', '--timeout=4', '--spider', 'http://localhost:8080/ready']);
      expect(container.livenessProbe.exec.command).toEqual(['wget', '--quiet', '--tries=1', '--timeout=4', '--spider', 'http://localhost:8080/live']);
    });

    test('custom commands replace wget entirely', () => {
      const container = containerOf(synth({
        probes: { readinessCommand: ['cat', '/tmp/ready'], livenessCommand: ['/bin/health', '--live'] },
      }));
      expect(container.readinessProbe.exec).toEqual({ command: ['cat', '/tmp/ready'] });
      expect(container.livenessProbe.exec).toEqual({ command: ['/bin/health', '--live'] });
    });

    test('only a readiness command: liveness keeps the default wget', () => {
      const container = containerOf(synth({ probes: { readinessCommand: ['cat', '/tmp/ready'] } }));
      expect(container.readinessProbe.exec.command).toEqual(['cat', '/tmp/ready']);
      expect(container.livenessProbe.exec.command).toEqual(['wget', '--quiet', '--tries=1', '--timeout=4', '--spider', 'http://localhost:3000/healthz']);
    });

    test('custom timeout: timeoutSeconds and wget --timeout (timeout - 1) follow', () => {
      const container = containerOf(synth({ probes: { timeout: Duration.seconds(10) } }));
      expect(container.readinessProbe.timeoutSeconds).toBe(10);
      expect(container.livenessProbe.timeoutSeconds).toBe(10);
      expect(container.readinessProbe.exec.command).toContain('--timeout=9');
      expect(container.livenessProbe.exec.command).toContain('--timeout=9');
    });

    test('a 1s timeout keeps wget --timeout at 1 (never 0, which means no timeout)', () => {
      const container = containerOf(synth({ probes: { timeout: Duration.seconds(1) } }));
      expect(container.readinessProbe.timeoutSeconds).toBe(1);
      expect(container.readinessProbe.exec.command).toContain('--timeout=1');
    });

    test('timeout in minutes converts to seconds', () => {
      const container = containerOf(synth({ probes: { timeout: Duration.minutes(1) } }));
      expect(container.readinessProbe.timeoutSeconds).toBe(60);
      expect(container.readinessProbe.exec.command).toContain('--timeout=59');
    });

    test('initialDelay, period and failureThreshold', () => {
      const container = containerOf(synth({
        probes: { initialDelay: Duration.seconds(0), period: Duration.seconds(2), failureThreshold: 6 },
      }));
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        expect(probe).not.toHaveProperty('initialDelaySeconds'); // 0, which the API server does not store
        expect(probe.periodSeconds).toBe(2);
        expect(probe.failureThreshold).toBe(6);
        expect(probe.timeoutSeconds).toBe(5);
      }
    });
  });

  describe('termination', () => {
    test('preStopSleep, terminationGracePeriod and sidecarDrainDuration', () => {
      // WHEN
      const { chart, app } = build({
        preStopSleep: Duration.seconds(20),
        terminationGracePeriod: Duration.seconds(90),
        sidecarDrainDuration: Duration.seconds(30),
      });
      const manifests = Testing.synth(chart);
      // THEN
      const deployment = only(manifests, 'Deployment');
      expect(containerOf(manifests).lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '20'] } } });
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(90);
      expect(JSON.parse(deployment.spec.template.metadata.annotations[ISTIO_PROXY_CONFIG_ANNOTATION]).terminationDrainDuration).toBe('30s');
      expect(app.sidecarDrainDuration?.toSeconds()).toBe(30);
    });

    test('durations in minutes convert to seconds', () => {
      const manifests = synth({
        preStopSleep: Duration.minutes(1), sidecarDrainDuration: Duration.minutes(1), terminationGracePeriod: Duration.minutes(3),
      });
      expect(containerOf(manifests).lifecycle.preStop.exec.command).toEqual(['sleep', '60']);
      expect(only(manifests, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(180);
    });

    test('grace period just above preStop + drain is allowed', () => {
      // 10s + 15s = 25s < 26s
      const manifests = synth({ terminationGracePeriod: Duration.seconds(26) });
      expect(only(manifests, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(26);
    });

    test('proxyLifecycle false: no proxy.istio.io/config annotation, drain not counted', () => {
      // GIVEN a grace period that only fits without the 15s drain
      const { chart, app } = build({ proxyLifecycle: false, terminationGracePeriod: Duration.seconds(11) });
      const deployment = only(Testing.synth(chart), 'Deployment');
      expect(deployment.spec.template.metadata.annotations ?? {}).not.toHaveProperty(ISTIO_PROXY_CONFIG_ANNOTATION);
      expect(JSON.stringify(deployment)).not.toContain('proxy.istio.io');
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(11);
      expect(app.sidecarDrainDuration).toBeUndefined();
    });

    test('proxyLifecycle true explicitly is the default', () => {
      expect(synth({ proxyLifecycle: true })).toEqual(synth());
    });
  });

  describe('rollout', () => {
    test('maxSurge absolute', () => {
      const deployment = only(synth({ maxSurge: kplus.PercentOrAbsolute.absolute(2) }), 'Deployment');
      expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
    });

    test('maxSurge percent', () => {
      const deployment = only(synth({ maxSurge: kplus.PercentOrAbsolute.percent(100) }), 'Deployment');
      expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: '100%', maxUnavailable: 0 });
    });

    test('progressDeadline and minReady', () => {
      const deployment = only(synth({ progressDeadline: Duration.minutes(10), minReady: Duration.seconds(15) }), 'Deployment');
      expect(deployment.spec.progressDeadlineSeconds).toBe(600);
      expect(deployment.spec.minReadySeconds).toBe(15);
    });
  });

  describe('disruption budget', () => {
    test('DisruptionBudget.minAvailable(percent(50)) -> minAvailable "50%", no maxUnavailable', () => {
      const pdb = only(synth({ disruptionBudget: DisruptionBudget.minAvailable(kplus.PercentOrAbsolute.percent(50)) }), 'PodDisruptionBudget');
      expect(pdb.spec).toEqual({ minAvailable: '50%', selector: { matchLabels: SELECTOR } });
    });

    test('DisruptionBudget.minAvailable(absolute(1)) -> minAvailable 1 (a number)', () => {
      const pdb = only(synth({ disruptionBudget: DisruptionBudget.minAvailable(kplus.PercentOrAbsolute.absolute(1)) }), 'PodDisruptionBudget');
      expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: SELECTOR } });
    });

    test('DisruptionBudget.maxUnavailable(percent(25)) -> maxUnavailable "25%"', () => {
      const pdb = only(synth({ disruptionBudget: DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.percent(25)) }), 'PodDisruptionBudget');
      expect(pdb.spec).toEqual({ maxUnavailable: '25%', selector: { matchLabels: SELECTOR } });
    });
  });

  describe('container', () => {
    test('env (EnvValue.fromValue) and envFrom (Env.fromConfigMap)', () => {
      // GIVEN
      const chart = Testing.chart();
      const config = new kplus.ConfigMap(chart, 'Config', { metadata: { name: 'helloworld-config' }, data: { GREETING: 'hi' } });
      // WHEN
      new VersionedApp(chart, 'v1', {
        ...BASE,
        env: { LOG_LEVEL: kplus.EnvValue.fromValue('debug'), PORT: kplus.EnvValue.fromValue('3000') },
        envFrom: [kplus.Env.fromConfigMap(config)],
      });
      // THEN
      const container = containerOf(Testing.synth(chart));
      expect(container.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'PORT', value: '3000' }]);
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'helloworld-config' } }]);
    });

    test('command, args and imagePullPolicy', () => {
      const container = containerOf(synth({
        command: ['node'], args: ['server.js', '--port', '3000'], imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      }));
      expect(container.command).toEqual(['node']);
      expect(container.args).toEqual(['server.js', '--port', '3000']);
      expect(container.imagePullPolicy).toBe('IfNotPresent');
    });

    test('custom portName names the container port', () => {
      const container = containerOf(synth({ port: 8080, portName: 'http-web' }));
      expect(container.ports).toEqual([{ containerPort: 8080, name: 'http-web' }]);
    });

    test('securityContext override of one field keeps the others restricted', () => {
      const container = containerOf(synth({ securityContext: { readOnlyRootFilesystem: false } }));
      expect(container.securityContext).toEqual({ ...RESTRICTED_SECURITY_CONTEXT, readOnlyRootFilesystem: false });
    });

    test('securityContext user is added to the restricted defaults', () => {
      const container = containerOf(synth({ securityContext: { user: 1000, group: 3000 } }));
      expect(container.securityContext).toEqual({ ...RESTRICTED_SECURITY_CONTEXT, runAsUser: 1000, runAsGroup: 3000 });
    });

    test('podSecurityContext keeps runAsNonRoot', () => {
      const pod = only(synth({ podSecurityContext: { user: 1000, fsGroup: 2000 } }), 'Deployment').spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000 });
    });

    test('serviceAccount sets serviceAccountName', () => {
      const chart = Testing.chart();
      new VersionedApp(chart, 'v1', { ...BASE, serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, 'SA', 'helloworld-sa') });
      expect(only(Testing.synth(chart), 'Deployment').spec.template.spec.serviceAccountName).toBe('helloworld-sa');
    });

    // Found by test/integration/random-releases.integration.ts: the API server refuses a serviceAccountName that is not a DNS-1123 subdomain.
    test.each(['Bad_Name', '', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`])('serviceAccount %j is refused', (name) => {
      const chart = Testing.chart();
      expect(() => new VersionedApp(chart, 'v1', { ...BASE, serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, 'SA', name) })).toThrow(
        `[test/v1] 'serviceAccount' must name a service account: a DNS-1123 subdomain (the pods' serviceAccountName), got ${JSON.stringify(name)}`);
    });
  });

  describe('createService', () => {
    test('Service named after the app, selecting on app only, port named http, no appProtocol', () => {
      // WHEN
      const { chart, app } = build({ createService: true });
      const manifests = Testing.synth(chart);
      // THEN
      const service = only(manifests, 'Service');
      expect(service.apiVersion).toBe('v1');
      expect(service.metadata).toEqual({ name: 'helloworld', labels: { 'app': 'helloworld', 'app.kubernetes.io/name': 'helloworld' } });
      expect(service.spec.selector).toEqual({ app: 'helloworld' });
      expect(service.spec.ports).toEqual([{ name: 'http', port: 3000, targetPort: 3000 }]);
      expect(service.spec.type).toBe('ClusterIP');
      expect(app.service).toBeDefined();
      expect(JSON.stringify(service)).not.toContain(ADDRESS_LABEL);
    });

    test('appProtocol is set on the Service port', () => {
      const service = only(synth({ createService: true, appProtocol: 'http2', portName: 'http2-web', port: 8080 }), 'Service');
      expect(service.spec.ports).toEqual([{ name: 'http2-web', port: 8080, targetPort: 8080, appProtocol: 'http2' }]);
    });

    test('createService false is the default', () => {
      expect(ofKind(synth({ createService: false }), 'Service')).toEqual([]);
    });
  });

  describe('labels and podAnnotations', () => {
    test('extra labels on Deployment, pods, HPA and PDB, never in the selectors', () => {
      // WHEN
      const manifests = synth({ labels: { team: 'payments', tier: 'backend' } });
      // THEN
      const expected = { ...LABELS, team: 'payments', tier: 'backend' };
      const deployment = only(manifests, 'Deployment');
      expect(deployment.metadata.labels).toEqual(expected);
      expect(deployment.spec.template.metadata.labels).toEqual(expected);
      expect(only(manifests, 'HorizontalPodAutoscaler').metadata.labels).toEqual(expected);
      expect(only(manifests, 'PodDisruptionBudget').metadata.labels).toEqual(expected);
      expect(deployment.spec.selector.matchLabels).toEqual(SELECTOR);
      expect(only(manifests, 'PodDisruptionBudget').spec.selector.matchLabels).toEqual(SELECTOR);
    });

    // Behaviour change (issue 9): a conflicting label used to be silently overridden; now it is refused.
    test.each([
      ['app', 'other', 'helloworld'],
      ['version', 'v9', 'v1'],
      ['app.kubernetes.io/name', 'other', 'helloworld'],
      ['app.kubernetes.io/version', 'v9', 'v1'],
    ])('fails when labels set %s to a different value', (key, value, ours) => {
      expect(errorOf({ labels: { [key]: value } })).toBe(
        `[test/v1] 'labels[${key}]' must be left out or equal '${ours}': VersionedApp sets '${key}' from app and version, got "${value}"`);
    });

    test('labels equal to ours are accepted', () => {
      const deployment = only(synth({ labels: { ...LABELS, team: 'web' } }), 'Deployment');
      expect(deployment.metadata.labels).toEqual({ ...LABELS, team: 'web' });
      expect(deployment.spec.template.metadata.labels).toEqual({ ...LABELS, team: 'web' });
    });

    test('extra pod annotations sit next to the Istio annotation', () => {
      const annotations = only(synth({ podAnnotations: { 'prometheus.io/scrape': 'true' } }), 'Deployment').spec.template.metadata.annotations;
      expect(Object.keys(annotations).sort()).toEqual(['prometheus.io/scrape', ISTIO_PROXY_CONFIG_ANNOTATION]);
      expect(annotations['prometheus.io/scrape']).toBe('true');
    });

    test('pod annotations without the Istio lifecycle are exactly the extras', () => {
      const annotations = only(synth({ proxyLifecycle: false, podAnnotations: { a: 'b' } }), 'Deployment').spec.template.metadata.annotations;
      expect(annotations).toEqual({ a: 'b' });
    });

    test('extra annotations stay off the Deployment metadata', () => {
      const deployment = only(synth({ podAnnotations: { a: 'b' } }), 'Deployment');
      expect(deployment.metadata.annotations).toBeUndefined();
    });
  });

  test('snapshot: fixed replicas, no Istio lifecycle, Service with appProtocol', () => {
    expect(Testing.synth(build({
      scaling: Scaling.fixed(3),
      proxyLifecycle: false,
      createService: true,
      appProtocol: 'http',
    }).chart)).toMatchSnapshot();
  });

  test('snapshot: httpGet probes, custom resources, minAvailable budget, extras', () => {
    const chart = Testing.chart();
    const config = new kplus.ConfigMap(chart, 'Config', { metadata: { name: 'helloworld-config' }, data: { GREETING: 'hi' } });
    new VersionedApp(chart, 'v1', {
      ...BASE,
      version: 'v2',
      scaling: Scaling.autoscale({ minReplicas: 3, maxReplicas: 6 }),
      probes: { kind: ProbeKind.HTTP_GET, readinessPath: '/ready' },
      resources: { cpu: { request: kplus.Cpu.millis(200) }, memory: { limit: Size.mebibytes(512) } },
      disruptionBudget: DisruptionBudget.minAvailable(kplus.PercentOrAbsolute.percent(50)),
      maxSurge: kplus.PercentOrAbsolute.absolute(1),
      env: { LOG_LEVEL: kplus.EnvValue.fromValue('debug') },
      envFrom: [kplus.Env.fromConfigMap(config)],
      labels: { team: 'payments' },
      podAnnotations: { 'prometheus.io/scrape': 'true' },
    });
    expect(Testing.synth(chart)).toMatchSnapshot();
  });
});

describe('VersionedApp errors', () => {
  const DNS_1035 = "must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters";

  describe.each([
    ['V1', 'uppercase'],
    ['1abc', 'leading digit'],
    ['a_b', 'underscore'],
    ['a-', 'trailing dash'],
    ['', 'empty'],
    ['a'.repeat(64), 'too long'],
  ])('%j (%s)', (bad) => {
    test('as app', () => {
      expect(errorOf({ app: bad })).toBe(`[test/v1] 'app' ${DNS_1035}, got ${JSON.stringify(bad)}`);
    });
    test('as version', () => {
      expect(errorOf({ version: bad })).toBe(`[test/v1] 'version' ${DNS_1035}, got ${JSON.stringify(bad)}`);
    });
  });

  test('a 63-character app is fine alone but too long combined with the version', () => {
    // GIVEN an app name at the DNS-1035 limit
    const app = 'a'.repeat(60);
    // THEN
    expect(errorOf({ app, version: 'v12' })).toBe(
      `[test/v1] 'app + version' must form a name '<app>-<version>' of at most 63 characters (it is 64): shorten the app or version, got "${app}-v12"`);
    expect(build({ app, version: 'v1' }).app.name).toHaveLength(63);
  });

  test.each(['', '   '])('image %j', (image) => {
    expect(errorOf({ image })).toBe(
      `[test/v1] 'image' ${IMAGE_RULE}, got ${JSON.stringify(image)}`);
  });

  test.each([0, 65536, 1.5, -1])('port %p', (port) => {
    expect(errorOf({ port })).toBe(`[test/v1] 'port' must be an integer port number between 1 and 65535, got ${port}`);
  });

  test.each([1, 65535])('port %p is valid', (port) => {
    expect(containerOf(synth({ port })).ports).toEqual([{ containerPort: port, name: 'http' }]);
  });

  test.each(['HTTP', 'http_web', 'http--web', 'a-very-long-port-name', '8080', '-http', ''])('portName %j', (portName) => {
    expect(errorOf({ portName })).toBe(
      `[test/v1] 'portName' must be an IANA service name (at most 15 lowercase letters, digits and single '-', e.g. 'http' or 'http-web'; its prefix selects the Istio protocol), got ${JSON.stringify(portName)}`);
  });

  test('minReplicas > maxReplicas', () => {
    expect(errorOf({ scaling: Scaling.autoscale({ minReplicas: 5, maxReplicas: 3 }) })).toBe(
      "[test/v1] 'scaling' must have minReplicas <= maxReplicas, got \"minReplicas 5 > maxReplicas 3\"");
  });

  test('minReplicas above the default maxReplicas', () => {
    expect(errorOf({ scaling: Scaling.autoscale({ minReplicas: 5 }) })).toBe(
      "[test/v1] 'scaling' must have minReplicas <= maxReplicas, got \"minReplicas 5 > maxReplicas 4\"");
  });

  test('Scaling.fixed(0)', () => {
    expect(errorOf({ scaling: Scaling.fixed(0) })).toBe("[test/v1] 'scaling.minReplicas' must be an integer between 1 and 2147483647, got 0");
  });

  test('Scaling.fixed(1.5)', () => {
    expect(errorOf({ scaling: Scaling.fixed(1.5) })).toBe("[test/v1] 'scaling.minReplicas' must be an integer between 1 and 2147483647, got 1.5");
  });

  test('autoscale maxReplicas 0', () => {
    expect(errorOf({ scaling: Scaling.autoscale({ minReplicas: 1, maxReplicas: 0 }) })).toBe(
      "[test/v1] 'scaling.maxReplicas' must be an integer between 1 and 2147483647, got 0");
  });

  // Replicas and utilization targets are int32 fields of the API (found by test/integration/random-releases.integration.ts:
  // the API server refused 2147483648 as -2147483648).
  test.each([
    [Scaling.fixed(2 ** 31), 'minReplicas'],
    [Scaling.autoscale({ minReplicas: 1, maxReplicas: 2 ** 31 }), 'maxReplicas'],
    [Scaling.autoscale({ cpuUtilizationPercent: 2 ** 31 }), 'cpuUtilizationPercent'],
    [Scaling.autoscale({ memoryUtilizationPercent: 2 ** 31 }), 'memoryUtilizationPercent'],
  ])('scaling above an int32 (%s) is refused', (scaling, prop) => {
    expect(errorOf({ scaling })).toBe(`[test/v1] 'scaling.${prop}' must be an integer between 1 and 2147483647, got 2147483648`);
  });

  test('scaling at the int32 bound is accepted', () => {
    const bound = 2 ** 31 - 1;
    const manifests = synth({ scaling: Scaling.autoscale({ minReplicas: bound, maxReplicas: bound, cpuUtilizationPercent: bound }) });
    expect(only(manifests, 'HorizontalPodAutoscaler').spec.maxReplicas).toBe(2 ** 31 - 1);
  });

  test.each([
    ['cpuUtilizationPercent', 0],
    ['memoryUtilizationPercent', 0],
    ['cpuUtilizationPercent', 50.5],
  ])('autoscale %s %p', (prop, value) => {
    expect(errorOf({ scaling: Scaling.autoscale({ [prop]: value }) })).toBe(
      `[test/v1] 'scaling.${prop}' must be an integer between 1 and 2147483647, got ${value}`);
  });

  test('cpu limit below the request', () => {
    expect(errorOf({ resources: { cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.millis(250) } } })).toBe(
      "[test/v1] 'resources.cpu.limit' must be at least the CPU request (500m), got \"250m\"");
  });

  test('cpu limit below the default request', () => {
    expect(errorOf({ resources: { cpu: { limit: kplus.Cpu.millis(50) } } })).toBe(
      "[test/v1] 'resources.cpu.limit' must be at least the CPU request (100m), got \"50m\"");
  });

  test('cpu limit in units below a request in units', () => {
    expect(errorOf({ resources: { cpu: { request: kplus.Cpu.units(0.5), limit: kplus.Cpu.units(0.25) } } })).toBe(
      "[test/v1] 'resources.cpu.limit' must be at least the CPU request (0.5), got \"0.25\"");
  });

  test('memory limit below the request', () => {
    expect(errorOf({ resources: { memory: { request: Size.mebibytes(512), limit: Size.mebibytes(256) } } })).toBe(
      "[test/v1] 'resources.memory.limit' must be at least the memory request (512Mi), got \"256Mi\"");
  });

  test('memory request above the default limit', () => {
    expect(errorOf({ resources: { memory: { request: Size.gibibytes(2) } } })).toBe(
      "[test/v1] 'resources.memory.limit' must be at least the memory request (2048Mi), got \"1024Mi\"");
  });

  test('memory not in whole mebibytes names the construct and prop', () => {
    expect(errorOf({ resources: { memory: { limit: Size.kibibytes(100) } } })).toBe(
      "[test/v1] 'resources.memory.limit' must be a whole number of mebibytes (it is emitted in Mi), got \"0.09765625Mi\"");
  });

  test('preStopSleep equal to the grace period (no sidecar lifecycle)', () => {
    expect(errorOf({ proxyLifecycle: false, preStopSleep: Duration.seconds(30), terminationGracePeriod: Duration.seconds(30) })).toBe(
      "[test/v1] 'terminationGracePeriod' must be longer than preStopSleep (30s), or pods are killed while still draining requests: raise terminationGracePeriod or shorten preStopSleep, got 30s");
  });

  test('preStopSleep above the grace period (no sidecar lifecycle)', () => {
    expect(errorOf({ proxyLifecycle: false, preStopSleep: Duration.seconds(90) })).toBe(
      "[test/v1] 'terminationGracePeriod' must be longer than preStopSleep (90s), or pods are killed while still draining requests: raise terminationGracePeriod or shorten preStopSleep, got 60s");
  });

  test('preStopSleep + sidecar drain equal to the grace period', () => {
    expect(errorOf({ terminationGracePeriod: Duration.seconds(25) })).toBe(
      "[test/v1] 'terminationGracePeriod' must be longer than preStopSleep (10s) + sidecarDrainDuration (15s) = 25s, or pods are killed while still draining requests: raise terminationGracePeriod or shorten preStopSleep, got 25s");
  });

  test('preStopSleep + custom sidecar drain above the grace period', () => {
    expect(errorOf({ preStopSleep: Duration.seconds(30), sidecarDrainDuration: Duration.seconds(40) })).toBe(
      "[test/v1] 'terminationGracePeriod' must be longer than preStopSleep (30s) + sidecarDrainDuration (40s) = 70s, or pods are killed while still draining requests: raise terminationGracePeriod or shorten preStopSleep, got 60s");
  });

  test('a sidecar drain shorter than the preStop sleep (a classic sidecar would exit first)', () => {
    expect(errorOf({ preStopSleep: Duration.seconds(20), sidecarDrainDuration: Duration.seconds(5) })).toBe(
      "[test/v1] 'sidecarDrainDuration' must be at least preStopSleep (20s): a classic Istio sidecar stops after its drain, while the app's preStop sleep still lets late requests in, got 5s");
  });

  test('sidecarDrainDuration with proxyLifecycle false', () => {
    expect(errorOf({ proxyLifecycle: false, sidecarDrainDuration: Duration.seconds(15) })).toBe(
      "[test/v1] 'sidecarDrainDuration' applies only with the Istio sidecar lifecycle: drop it or set proxyLifecycle to true, got 15s");
  });

  test.each([
    ['percent', kplus.PercentOrAbsolute.percent(0), '"0%"'],
    ['absolute', kplus.PercentOrAbsolute.absolute(0), '0'],
  ])('maxSurge 0 (%s)', (_, maxSurge, shown) => {
    expect(errorOf({ maxSurge })).toBe(
      `[test/v1] 'maxSurge' must be above zero: maxUnavailable is always 0, so a rollout needs surge pods to make progress, got ${shown}`);
  });

  test.each(['readinessCommand', 'livenessCommand'] as const)('probe %s with kind HTTP_GET', (prop) => {
    expect(errorOf({ probes: { kind: ProbeKind.HTTP_GET, [prop]: ['cat', '/tmp/ok'] } })).toBe(
      `[test/v1] 'probes.${prop}' applies to exec probes only: drop it or set probes.kind to ProbeKind.EXEC, got ["cat","/tmp/ok"]`);
  });

  test.each(['readinessPath', 'livenessPath'] as const)('probe %s without a leading /', (prop) => {
    expect(errorOf({ probes: { [prop]: 'readyz' } })).toBe(
      `[test/v1] 'probes.${prop}' must be an absolute HTTP path starting with '/', without spaces, got "readyz"`);
  });

  test('probe path without a leading / is refused for HTTP_GET too', () => {
    expect(errorOf({ probes: { kind: ProbeKind.HTTP_GET, livenessPath: 'healthz' } })).toBe(
      "[test/v1] 'probes.livenessPath' must be an absolute HTTP path starting with '/', without spaces, got \"healthz\"");
  });

  test.each([
    ['readinessCommand', [], '[]'],
    ['livenessCommand', ['wget', ''], '["wget",""]'],
  ] as const)('probe %s %s', (prop, command, shown) => {
    expect(errorOf({ probes: { [prop]: command } })).toBe(
      `[test/v1] 'probes.${prop}' must be a non-empty command with no empty arguments, got ${shown}`);
  });

  test.each([0, 1.5, -1, 2 ** 31])('probe failureThreshold %p', (failureThreshold) => {
    expect(errorOf({ probes: { failureThreshold } })).toBe(
      `[test/v1] 'probes.failureThreshold' must be an integer between 1 and 2147483647, got ${failureThreshold}`);
  });

  test('probe timeout 0', () => {
    expect(errorOf({ probes: { timeout: Duration.seconds(0) } })).toBe(
      "[test/v1] 'probes.timeout' must be a whole number of seconds between 1 and 2147483647, got 0s");
  });

  test('probe period 0', () => {
    expect(errorOf({ probes: { period: Duration.seconds(0) } })).toBe(
      "[test/v1] 'probes.period' must be a whole number of seconds between 1 and 2147483647, got 0s");
  });

  test('progressDeadline 0', () => {
    expect(errorOf({ progressDeadline: Duration.seconds(0) })).toBe(
      "[test/v1] 'progressDeadline' must be a whole number of seconds between 1 and 2147483647, got 0s");
  });

  // Probe and rollout timings are int32 fields of the API (found by test/integration/random-releases.integration.ts).
  test.each([
    ['probes.timeout', { probes: { timeout: Duration.seconds(2 ** 31) } }, 1],
    ['probes.initialDelay', { probes: { initialDelay: Duration.seconds(2 ** 31) } }, 0],
    ['probes.period', { probes: { period: Duration.seconds(2 ** 31) } }, 1],
    ['progressDeadline', { progressDeadline: Duration.seconds(2 ** 31) }, 1],
    ['minReady', { minReady: Duration.seconds(2 ** 31), progressDeadline: Duration.seconds(2 ** 31 - 1) }, 0],
  ] as Array<[string, Partial<VersionedAppProps>, number]>)('%s above an int32 is refused', (prop, props, min) => {
    expect(errorOf(props)).toBe(`[test/v1] '${prop}' must be a whole number of seconds between ${min} and 2147483647, got 2147483648s`);
  });

  test('probe and rollout timings at the int32 bound are accepted', () => {
    const bound = Duration.seconds(2 ** 31 - 1);
    const deployment = only(synth({
      probes: { timeout: bound, initialDelay: bound, period: bound, failureThreshold: 2 ** 31 - 1 },
      progressDeadline: bound,
      minReady: Duration.seconds(2 ** 31 - 2),
    }), 'Deployment');
    expect(deployment.spec.progressDeadlineSeconds).toBe(2 ** 31 - 1);
    expect(deployment.spec.template.spec.containers[0].readinessProbe.periodSeconds).toBe(2 ** 31 - 1);
  });

  describe('fractional durations (Duration.millis(1500))', () => {
    const FRACTIONAL: Array<[string, Partial<VersionedAppProps>]> = [
      ['preStopSleep', { preStopSleep: Duration.millis(1500) }],
      ['terminationGracePeriod', { terminationGracePeriod: Duration.millis(61500) }],
      ['sidecarDrainDuration', { sidecarDrainDuration: Duration.millis(1500) }],
      ['progressDeadline', { progressDeadline: Duration.millis(1500) }],
      ['minReady', { minReady: Duration.millis(1500) }],
      ['probes.timeout', { probes: { timeout: Duration.millis(1500) } }],
      ['probes.initialDelay', { probes: { initialDelay: Duration.millis(1500) } }],
      ['probes.period', { probes: { period: Duration.millis(1500) } }],
    ];

    test.each(FRACTIONAL)('%s is refused', (_, props) => {
      expect(() => build(props)).toThrow();
    });

    test.each(FRACTIONAL)('%s error names the construct path, the prop and the value', (prop, props) => {
      const seconds = prop === 'terminationGracePeriod' ? '61.5s' : '1.5s';
      const min = /^probes\.(timeout|period)$|^progressDeadline$/.test(prop) ? 1 : 0;
      const int32 = /^probes\.|^progressDeadline$|^minReady$/.test(prop);
      expect(errorOf(props)).toBe(`[test/v1] '${prop}' must be a whole number of seconds ${int32 ? `between ${min} and 2147483647` : `>= ${min}`}, got ${seconds}`);
    });
  });

  test('appProtocol without createService', () => {
    expect(errorOf({ appProtocol: 'http' })).toBe(
      "[test/v1] 'appProtocol' applies only to the Service: drop it or set createService to true, got \"http\"");
  });

  test('Duration.seconds(-1) is refused by cdk8s itself', () => {
    expect(() => Duration.seconds(-1)).toThrow('Duration amounts cannot be negative. Received: -1');
  });

  test('a refused VersionedApp adds no objects to the chart', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN the last check fails
    expect(() => new VersionedApp(chart, 'v1', { ...BASE, appProtocol: 'http' })).toThrow(/appProtocol/);
    // THEN
    expect(Testing.synth(chart)).toEqual([]);
  });

  test('the construct path in messages follows the scope', () => {
    // GIVEN a nested scope
    const chart = Testing.chart();
    const parent = new Construct(chart, 'Parent');
    // THEN
    expect(() => new VersionedApp(parent, 'canary', { ...BASE, port: 0 })).toThrow(/^\[test\/Parent\/canary\] 'port' /);
  });
});

describe('VersionedApp validation of numbers, quantities and references', () => {
  const INT_OR_PERCENT = 'must be a non-negative integer up to 2147483647 (PercentOrAbsolute.absolute(n)) or an integer percentage between 0% and 100% (PercentOrAbsolute.percent(n))';
  const { absolute, percent } = kplus.PercentOrAbsolute;

  test.each([
    ['maxUnavailable', DisruptionBudget.maxUnavailable(absolute(-3)), '-3'],
    ['maxUnavailable', DisruptionBudget.maxUnavailable(absolute(1.5)), '1.5'],
    ['minAvailable', DisruptionBudget.minAvailable(absolute(-1)), '-1'],
    ['minAvailable', DisruptionBudget.minAvailable(percent(150)), '"150%"'],
    ['maxUnavailable', DisruptionBudget.maxUnavailable(percent(-10)), '"-10%"'],
    ['maxUnavailable', DisruptionBudget.maxUnavailable(percent(12.5)), '"12.5%"'],
    // an IntOrString holds an int32 (found by test/integration/random-releases.integration.ts)
    ['maxUnavailable', DisruptionBudget.maxUnavailable(absolute(2 ** 31)), '2147483648'],
  ])('fails on disruptionBudget.%s %s', (prop, disruptionBudget, shown) => {
    expect(errorOf({ disruptionBudget })).toBe(`[test/v1] 'disruptionBudget.${prop}' ${INT_OR_PERCENT}, got ${shown}`);
  });

  test('a PDB of minAvailable 100% or maxUnavailable 0 is valid', () => {
    expect(only(synth({ disruptionBudget: DisruptionBudget.minAvailable(percent(100)) }), 'PodDisruptionBudget').spec.minAvailable).toBe('100%');
    expect(only(synth({ disruptionBudget: DisruptionBudget.maxUnavailable(absolute(0)) }), 'PodDisruptionBudget').spec.maxUnavailable).toBe(0);
  });

  test.each([
    [absolute(-1), '-1'],
    [absolute(1.5), '1.5'],
    [percent(101), '"101%"'],
    [percent(0.5), '"0.5%"'],
    [absolute(2 ** 31), '2147483648'],
  ])('fails on maxSurge %s', (maxSurge, shown) => {
    expect(errorOf({ maxSurge })).toBe(`[test/v1] 'maxSurge' ${INT_OR_PERCENT}, got ${shown}`);
  });

  test.each([
    ['cpu.request', { cpu: { request: kplus.Cpu.millis(-5) } }, '"-5m"'],
    ['cpu.limit', { cpu: { limit: kplus.Cpu.units(-1) } }, '"-1"'],
    ['cpu.request', { cpu: { request: kplus.Cpu.millis(0.5) } }, '"0.5m"'],
    ['cpu.request', { cpu: { request: kplus.Cpu.units(0.0001) } }, '"0.0001"'],
    ['cpu.limit', { cpu: { limit: kplus.Cpu.units(NaN) } }, '"NaN"'],
    ['cpu.limit', { cpu: { limit: kplus.Cpu.units(1e21) } }, '"1e+21"'],
  ])('fails on resources.%s %s', (prop, resources, shown) => {
    expect(errorOf({ resources })).toBe(
      `[test/v1] 'resources.${prop}' must be a non-negative CPU amount in whole millicores, e.g. Cpu.millis(250) or Cpu.units(0.5), got ${shown}`);
  });

  test('Cpu.units(0.1) is 100 millicores (written 100m, as the API server stores it)', () => {
    expect(containerOf(synth({ resources: { cpu: { request: kplus.Cpu.units(0.1) } } })).resources.requests.cpu).toBe('100m');
  });

  test('negative memory is refused by cdk8s itself', () => {
    expect(() => Size.mebibytes(-1)).toThrow('Storage amounts cannot be negative. Received: -1');
  });

  test('fails on a memory request that is not whole mebibytes', () => {
    expect(errorOf({ resources: { memory: { request: Size.kibibytes(1536) } } })).toBe(
      "[test/v1] 'resources.memory.request' must be a whole number of mebibytes (it is emitted in Mi), got \"1.5Mi\"");
  });

  test('fails on ephemeral storage that is not whole gibibytes (cdk8s-plus used to fail at synth, without path)', () => {
    expect(errorOf({ resources: { ephemeralStorage: { request: Size.mebibytes(512) } } })).toBe(
      "[test/v1] 'resources.ephemeralStorage.request' must be a whole number of gibibytes (it is emitted in Gi), got \"0.5Gi\"");
  });

  test('fails on an ephemeral storage limit below its request', () => {
    expect(errorOf({ resources: { ephemeralStorage: { request: Size.gibibytes(2), limit: Size.gibibytes(1) } } })).toBe(
      "[test/v1] 'resources.ephemeralStorage.limit' must be at least the ephemeral storage request (2Gi), got \"1Gi\"");
  });

  test('fails on a zero CPU request when autoscaled (the utilization target is a share of it)', () => {
    expect(errorOf({ resources: { cpu: { request: kplus.Cpu.millis(0) } } })).toBe(
      "[test/v1] 'resources.cpu.request' must be above zero when scaling autoscales: the cpu utilization target is a percentage of the request, got \"0m\"");
  });

  test('fails on a zero memory request when autoscaled', () => {
    expect(errorOf({ resources: { memory: { request: Size.mebibytes(0) } } })).toBe(
      "[test/v1] 'resources.memory.request' must be above zero when scaling autoscales: the memory utilization target is a percentage of the request, got \"0Mi\"");
  });

  test('a zero CPU request is valid with fixed replicas', () => {
    expect(containerOf(synth({ scaling: Scaling.fixed(2), resources: { cpu: { request: kplus.Cpu.millis(0) } } })).resources.requests.cpu).toBe('0');
  });

  test.each([
    'Learnistio/Hello World:1.0.0',
    'learnistio/Helloworld:1.0.0',
    'Learnistio/helloworld:1.0.0',
    'learnistio/helloworld:1.0.0 ',
    'learnistio/helloworld:',
    'learnistio/helloworld:-1',
    `learnistio/helloworld:${'a'.repeat(129)}`,
    'learnistio/helloworld@sha256:abc',
    `learnistio/helloworld@sha256:${'A'.repeat(64)}`,
    'learnistio//helloworld',
    'learnistio/helloworld/',
    'https://registry.example.com/helloworld',
  ])('fails on image %j', (image) => {
    expect(errorOf({ image })).toBe(`[test/v1] 'image' ${IMAGE_RULE}, got ${JSON.stringify(image)}`);
  });

  test.each([
    'nginx',
    'learnistio/helloworld:1.0.0',
    'docker.io/library/nginx:1.27-alpine',
    'registry.example.com:5000/team/helloworld:v1_2.3',
    'localhost:5000/helloworld',
    'myregistry:5000/helloworld:1.0',
    'Registry.Example.com/helloworld',
    '[::1]:5000/helloworld:1',
    `ghcr.io/acme/hello-world__x.y@sha256:${'a'.repeat(64)}`,
    `learnistio/helloworld:1.0.0@sha256:${'0123456789abcdef'.repeat(4)}`,
    `learnistio/helloworld:${'a'.repeat(128)}`,
  ])('accepts image %j', (image) => {
    expect(containerOf(synth({ image })).image).toBe(image);
  });

  test.each(['not a protocol!', '', 'HTTP', 'a-very-long-protocol', 'http--2', 'kubernetes.io/', '/h2c', 'Example.com/x'])(
    'fails on appProtocol %j', (appProtocol) => {
      expect(errorOf({ createService: true, appProtocol })).toBe(
        "[test/v1] 'appProtocol' must be an IANA service name (at most 15 lowercase letters, digits and single '-', e.g. 'http2' or 'grpc')"
        + ` or a domain-prefixed name (e.g. 'kubernetes.io/h2c'), got ${JSON.stringify(appProtocol)}`);
    });

  test.each(['http', 'grpc-web', 'kubernetes.io/h2c', 'kubernetes.io/wss', 'example.com/My_Proto.v2'])('accepts appProtocol %j', (appProtocol) => {
    expect(only(synth({ createService: true, appProtocol }), 'Service').spec.ports[0].appProtocol).toBe(appProtocol);
  });

  test.each([15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090])('fails on the Istio sidecar port %p', (port) => {
    expect(errorOf({ port })).toBe(
      "[test/v1] 'port' must not be a port the Istio sidecar uses (15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090;"
      + ` see https://istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio), got ${port}`);
  });

  test('fails on an enum value from outside the enum (JavaScript, other jsii languages)', () => {
    expect(errorOf({ probes: { kind: 'tcp' as any } })).toBe("[test/v1] 'probes.kind' must be one of \"exec\", \"httpGet\", got \"tcp\"");
    expect(errorOf({ imagePullPolicy: 'Sometimes' as any })).toBe(
      "[test/v1] 'imagePullPolicy' must be one of \"Always\", \"IfNotPresent\", \"Never\", got \"Sometimes\"");
  });

  test('fails on a probe path with spaces', () => {
    expect(errorOf({ probes: { readinessPath: '/ready now' } })).toBe(
      "[test/v1] 'probes.readinessPath' must be an absolute HTTP path starting with '/', without spaces, got \"/ready now\"");
  });

  test.each(['', 'A=B'])('fails on env name %j', (name) => {
    expect(errorOf({ env: { [name]: kplus.EnvValue.fromValue('x') } })).toBe(
      `[test/v1] 'env' names must be non-empty printable ASCII without '=', got ${JSON.stringify(name)}`);
  });
});

describe('VersionedApp refuses what cdk8s-plus, the API server or the kubelet would refuse later', () => {
  test('fails on minReady above progressDeadline (cdk8s-plus threw without path or prop)', () => {
    expect(errorOf({ minReady: Duration.seconds(200) })).toBe(
      "[test/v1] 'minReady' must be shorter than progressDeadline (120s), or every rollout is reported as failed: raise progressDeadline or shorten minReady, got 200s");
  });

  test('fails on minReady equal to progressDeadline', () => {
    expect(errorOf({ minReady: Duration.seconds(30), progressDeadline: Duration.seconds(30) })).toBe(
      "[test/v1] 'minReady' must be shorter than progressDeadline (30s), or every rollout is reported as failed: raise progressDeadline or shorten minReady, got 30s");
  });

  test('fails on a localhostProfile without type LOCALHOST (cdk8s-plus threw without path or prop)', () => {
    expect(errorOf({ securityContext: { seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT, localhostProfile: 'x.json' } } })).toBe(
      "[test/v1] 'securityContext.seccompProfile.localhostProfile' must be given exactly when securityContext.seccompProfile.type is SeccompProfileType.LOCALHOST, got \"x.json\"");
  });

  test('fails on type LOCALHOST without a localhostProfile', () => {
    expect(errorOf({ securityContext: { seccompProfile: { type: kplus.SeccompProfileType.LOCALHOST } } })).toMatch(
      /^\[test\/v1\] 'securityContext.seccompProfile.localhostProfile' must be given exactly when .*, got undefined$/);
  });

  test('fails on privileged without allowPrivilegeEscalation', () => {
    expect(errorOf({ securityContext: { privileged: true } })).toBe(
      "[test/v1] 'securityContext.allowPrivilegeEscalation' must be true when securityContext.privileged is true (the API server refuses a privileged container without privilege escalation), got false");
  });

  test('fails on SYS_ADMIN without allowPrivilegeEscalation', () => {
    expect(errorOf({ securityContext: { capabilities: { add: [kplus.Capability.SYS_ADMIN] } } })).toBe(
      "[test/v1] 'securityContext.allowPrivilegeEscalation' must be true when securityContext.capabilities.add has SYS_ADMIN (the API server refuses the combination), got false");
  });

  test.each(['securityContext', 'podSecurityContext'] as const)('fails on %s.user 0 with ensureNonRoot', (prop) => {
    expect(errorOf({ [prop]: { user: 0 } })).toBe(
      `[test/v1] '${prop}.user' must not be 0 (root) while ${prop}.ensureNonRoot is true: the kubelet refuses to start the container, got 0`);
  });

  test('user 0 is accepted with ensureNonRoot false', () => {
    const container = containerOf(synth({ securityContext: { user: 0, ensureNonRoot: false } }));
    expect(container.securityContext).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
  });

  test('fails on the Istio sidecar user id 1337', () => {
    expect(errorOf({ securityContext: { user: 1337 } })).toBe(
      "[test/v1] 'securityContext.user' must not be 1337, the Istio sidecar's user id (https://istio.io/latest/docs/ops/deployment/requirements/), got 1337");
  });

  test('fails on a negative fsGroup', () => {
    expect(errorOf({ podSecurityContext: { fsGroup: -1 } })).toBe("[test/v1] 'podSecurityContext.fsGroup' must be an integer between 0 and 2147483647, got -1");
  });

  test('a securityContext field given as undefined keeps the restricted default', () => {
    const container = containerOf(synth({ securityContext: { privileged: undefined, user: 1000 } }));
    expect(container.securityContext).toEqual({ ...RESTRICTED_SECURITY_CONTEXT, runAsUser: 1000 });
  });
});

describe('VersionedApp labels and annotations are never silently overridden', () => {
  test('fails on a label key Kubernetes refuses', () => {
    expect(errorOf({ labels: { 'bad key!': 'x' } })).toBe(
      "[test/v1] 'labels' keys must be '[prefix/]name': an optional DNS-1123 subdomain prefix and a name of at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, got \"bad key!\"");
  });

  test.each(['a b', 'x'.repeat(64), '-x'])('fails on label value %j', (value) => {
    expect(errorOf({ labels: { team: value } })).toBe(
      `[test/v1] 'labels[team]' must be a label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, got ${JSON.stringify(value)}`);
  });

  test('fails on the cdk8s-plus address label', () => {
    expect(errorOf({ labels: { [ADDRESS_LABEL]: 'x' } })).toBe(`[test/v1] 'labels[${ADDRESS_LABEL}]' must be left out: it is reserved by cdk8s-plus, got "x"`);
  });

  test('fails on a pod annotation key Kubernetes refuses', () => {
    expect(errorOf({ podAnnotations: { 'a/b/c': 'x' } })).toMatch(/^\[test\/v1\] 'podAnnotations' keys must be '\[prefix\/\]name'.*, got "a\/b\/c"$/);
  });

  test('fails on a proxy.istio.io/config pod annotation that differs from the sidecar lifecycle one', () => {
    expect(errorOf({ podAnnotations: { [ISTIO_PROXY_CONFIG_ANNOTATION]: '{}' } })).toBe(
      `[test/v1] 'podAnnotations[${ISTIO_PROXY_CONFIG_ANNOTATION}]' must be left out or equal `
      + JSON.stringify('{"holdApplicationUntilProxyStarts":true,"terminationDrainDuration":"15s","proxyMetadata":{"EXIT_ON_ZERO_ACTIVE_CONNECTIONS":"true","MINIMUM_DRAIN_DURATION":"15s"}}')
      + ': it is set from sidecarDrainDuration; set proxyLifecycle to false to write your own, got "{}"');
  });

  // Found by test/integration/random-releases.integration.ts: the API server refuses a pod template whose annotations
  // (keys and values) total more than 256 KiB.
  test('fails on pod annotations of more than 256 KiB, the sidecar lifecycle annotation included', () => {
    const ours = JSON.stringify({
      holdApplicationUntilProxyStarts: true,
      terminationDrainDuration: '15s',
      proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '15s' },
    });
    const room = 256 * 1024 - ISTIO_PROXY_CONFIG_ANNOTATION.length - ours.length - 'big'.length;
    expect(only(synth({ podAnnotations: { big: 'x'.repeat(room) } }), 'Deployment').spec.template.metadata.annotations.big).toHaveLength(room);
    expect(errorOf({ podAnnotations: { big: 'x'.repeat(room + 1) } })).toBe(
      "[test/v1] 'podAnnotations' must total at most 262144 bytes of keys and values, the sidecar lifecycle annotation included"
      + ' (the API server\'s limit on an object\'s annotations); they are 262145 bytes, got ["big"]');
  });

  test('pod annotations are counted in UTF-8 bytes', () => {
    expect(errorOf({ proxyLifecycle: false, podAnnotations: { a: 'é'.repeat(128 * 1024) } })).toBe(
      "[test/v1] 'podAnnotations' must total at most 262144 bytes of keys and values (the API server's limit on an object's annotations);"
      + ' they are 262145 bytes, got ["a"]');
  });

  test('a proxy.istio.io/config pod annotation of your own is fine without the sidecar lifecycle', () => {
    const annotations = only(synth({ proxyLifecycle: false, podAnnotations: { [ISTIO_PROXY_CONFIG_ANNOTATION]: '{}' } }), 'Deployment')
      .spec.template.metadata.annotations;
    expect(annotations).toEqual({ [ISTIO_PROXY_CONFIG_ANNOTATION]: '{}' });
  });
});

describe('cdk8s-plus selector APIs on the exposed deployment select the version\'s pods', () => {
  test('deployment.exposeViaService() selects app and version, which the pods carry', () => {
    // GIVEN
    const { chart, app } = build();
    // WHEN
    app.deployment.exposeViaService({ name: 'helloworld-v1' });
    const manifests = Testing.synth(chart);
    // THEN
    const service = only(manifests, 'Service');
    const podLabels = only(manifests, 'Deployment').spec.template.metadata.labels;
    expect(service.spec.selector).toEqual(SELECTOR);
    for (const [key, value] of Object.entries(service.spec.selector)) {
      expect(podLabels[key]).toBe(value);
    }
    expect(service.spec.ports).toEqual([{ name: 'http', port: 3000, targetPort: 3000 }]);
    expect(JSON.stringify(manifests)).not.toContain(ADDRESS_LABEL);
  });

  test('a plain Service selecting the deployment selects app and version', () => {
    const { chart, app } = build();
    new kplus.Service(chart, 'Direct', { selector: app.deployment, ports: [{ port: 80, targetPort: 3000 }] });
    expect(only(Testing.synth(chart), 'Service').spec.selector).toEqual(SELECTOR);
  });

  test('deployment.connections.allowFrom() writes a NetworkPolicy whose podSelector matches the pods', () => {
    // GIVEN
    const { chart, app } = build();
    const client = new kplus.Deployment(chart, 'Client', { containers: [{ image: 'curlimages/curl', portNumber: 8080 }] });
    // WHEN
    app.deployment.connections.allowFrom(client, { ports: [kplus.NetworkPolicyPort.tcp(3000)] });
    const manifests = Testing.synth(chart);
    // THEN every NetworkPolicy that names our pods selects them by app and version
    const policies = ofKind(manifests, 'NetworkPolicy');
    expect(policies.length).toBeGreaterThan(0);
    const selectors = policies.flatMap((p) => [
      p.spec.podSelector,
      ...(p.spec.ingress ?? []).flatMap((i: any) => i.from.map((f: any) => f.podSelector)),
      ...(p.spec.egress ?? []).flatMap((e: any) => e.to.map((t: any) => t.podSelector)),
    ]);
    expect(selectors).toContainEqual({ matchLabels: SELECTOR });
  });

  test('deployment as a network policy peer selects app and version', () => {
    const { chart, app } = build();
    const policy = new kplus.NetworkPolicy(chart, 'Policy', { selector: kplus.Pods.all(chart, 'All') });
    policy.addIngressRule(app.deployment);
    const rule = only(Testing.synth(chart), 'NetworkPolicy').spec.ingress[0];
    expect(rule.from).toEqual([{ podSelector: { matchLabels: SELECTOR } }]);
  });

  test('pod anti-affinity against the deployment selects app and version', () => {
    const { chart, app } = build();
    app.deployment.scheduling.spread();
    const affinity = only(Testing.synth(chart), 'Deployment').spec.template.spec.affinity;
    expect(JSON.stringify(affinity)).toContain(JSON.stringify({ matchLabels: SELECTOR }));
  });

  test('toPodSelectorConfig() selects app and version, with no namespace when the chart has none', () => {
    const chart = Testing.chart();
    const app = new VersionedApp(chart, 'v1', { ...BASE });
    expect(app.deployment.toPodSelectorConfig().labelSelector._toKube()).toEqual({ matchLabels: SELECTOR, matchExpressions: undefined });
    expect(app.deployment.toPodSelectorConfig().namespaces).toBeUndefined();
  });
});
