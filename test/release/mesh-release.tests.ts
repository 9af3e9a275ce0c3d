import { Chart, Duration, Testing } from 'cdk8s';
import {
  ApplyOrder, HeaderMatchType, LoadBalancerAlgorithm, MeshRelease, ReleasePlan, ReleaseStage, Scaling, TlsMode, TrafficRouter,
} from '../../src';
import { catchAllWeights, deploymentNames, ofKind, only, subsetNames, synthRelease, TWO_VERSIONS } from '../_helpers';

const HOST = 'helloworld.default.svc.cluster.local';

describe('MeshRelease, canary v1 -> v2 with weights [10, 50]', () => {
  const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
  const expected: { [stage: string]: [string[], string[], { [s: string]: number }] } = {
    // stage: [deployments, subsets, weights]
    'stable': [['helloworld-v1'], ['v1'], { v1: 100 }],
    'make-routable': [['helloworld-v1'], ['v1', 'v2'], { v1: 100 }],
    'deploy': [['helloworld-v1', 'helloworld-v2'], ['v1', 'v2'], { v1: 100 }],
    'shift-10': [['helloworld-v1', 'helloworld-v2'], ['v1', 'v2'], { v1: 90, v2: 10 }],
    'shift-50': [['helloworld-v1', 'helloworld-v2'], ['v1', 'v2'], { v1: 50, v2: 50 }],
    'shift-100': [['helloworld-v1', 'helloworld-v2'], ['v1', 'v2'], { v1: 0, v2: 100 }],
    'unroute': [['helloworld-v1', 'helloworld-v2'], ['v1', 'v2'], { v2: 100 }],
    'drop-routable': [['helloworld-v1', 'helloworld-v2'], ['v2'], { v2: 100 }],
    'retire': [['helloworld-v2'], ['v2'], { v2: 100 }],
  };

  test.each(plan.stageNames)('stage %s has the expected Deployments, subsets and weights', (name) => {
    // WHEN
    const manifests = synthRelease(plan.stage(name));
    // THEN
    const [deployments, subsets, weights] = expected[name];
    expect(deploymentNames(manifests)).toEqual(deployments);
    expect(ofKind(manifests, 'HorizontalPodAutoscaler').map((h) => h.metadata.name)).toEqual(deployments);
    expect(ofKind(manifests, 'PodDisruptionBudget').map((p) => p.metadata.name)).toEqual(deployments);
    expect(subsetNames(manifests)).toEqual(subsets);
    expect(catchAllWeights(manifests)).toEqual(weights);
    expect(only(manifests, 'VirtualService').metadata.annotations).toEqual({
      'mesh-release.io/stage': name,
      'mesh-release.io/plan-stages': 'stable,make-routable,deploy,shift-10,shift-50,shift-100,unroute,drop-routable,retire',
    });
    expect(manifests).toMatchSnapshot();
  });

  test('every stage has one version-free Service selecting on app only', () => {
    for (const stage of plan.stages) {
      const service = only(synthRelease(stage), 'Service');
      expect(service.metadata.name).toBe('helloworld');
      expect(service.spec.selector).toEqual({ app: 'helloworld' });
      expect(service.spec.ports).toEqual([{ name: 'http', port: 3000, targetPort: 3000 }]);
    }
  });
});

describe('MeshRelease objects', () => {
  const manifests = synthRelease(ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] }).stage('shift-10'));

  test('DestinationRule: service FQDN host, one subset per version labelled by version, ISTIO_MUTUAL', () => {
    const dr = only(manifests, 'DestinationRule');
    expect(dr.apiVersion).toBe('networking.istio.io/v1');
    expect(dr.metadata.name).toBe('helloworld');
    expect(dr.spec).toEqual({
      host: HOST,
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
      subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
    });
  });

  test('VirtualService: one catch-all weighted route with default retries and timeout', () => {
    const vs = only(manifests, 'VirtualService');
    expect(vs.apiVersion).toBe('networking.istio.io/v1');
    expect(vs.spec.hosts).toEqual([HOST]);
    expect(vs.spec.gateways).toBeUndefined();
    expect(vs.spec.http).toEqual([{
      name: 'weighted',
      route: [
        { destination: { host: HOST, subset: 'v1', port: { number: 3000 } }, weight: 90 },
        { destination: { host: HOST, subset: 'v2', port: { number: 3000 } }, weight: 10 },
      ],
      retries: { attempts: 3, perTryTimeout: '2s', retryOn: 'gateway-error,connect-failure,refused-stream' },
      timeout: '10s',
    }]);
  });

  test('each deployed version is a VersionedApp with the app and version labels', () => {
    for (const d of ofKind(manifests, 'Deployment')) {
      const version = d.metadata.name.replace('helloworld-', '');
      expect(d.spec.selector.matchLabels).toEqual({ app: 'helloworld', version });
      expect(d.spec.template.spec.containers[0].image).toBe(`learnistio/helloworld:${version === 'v1' ? '1.0.0' : '2.0.0'}`);
      expect(d.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 3000, name: 'http' }]);
    }
  });

  test('uses only current, non-deprecated API versions', () => {
    const versions = Object.fromEntries(manifests.map((m) => [m.kind, m.apiVersion]));
    expect(versions).toEqual({
      Service: 'v1',
      Deployment: 'apps/v1',
      HorizontalPodAutoscaler: 'autoscaling/v2',
      PodDisruptionBudget: 'policy/v1',
      DestinationRule: 'networking.istio.io/v1',
      VirtualService: 'networking.istio.io/v1',
    });
  });
});

describe('MeshRelease routing options', () => {
  const split = [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }];
  const THREE = [...TWO_VERSIONS, { version: 'v3', image: 'learnistio/helloworld:3.0.0' }];

  test('header routes come first, each with retries, then the catch-all with no match', () => {
    // GIVEN
    const stage = ReleaseStage.custom({
      name: 'pin',
      deployed: ['v1', 'v2', 'v3'],
      weights: split,
      headerRoutes: [
        { header: 'x-version', value: 'v3', version: 'v3' },
        { header: 'user-agent', value: '.*Android.*', matchType: HeaderMatchType.REGEX, version: 'v2' },
        { header: 'x-team', value: 'qa-', matchType: HeaderMatchType.PREFIX, version: 'v3' },
      ],
    });
    // WHEN
    const http = only(synthRelease(stage, { versions: THREE }), 'VirtualService').spec.http;
    // THEN
    expect(http.map((r: any) => r.match)).toEqual([
      [{ headers: { 'x-version': { exact: 'v3' } } }],
      [{ headers: { 'user-agent': { regex: '.*Android.*' } } }],
      [{ headers: { 'x-team': { prefix: 'qa-' } } }],
      undefined,
    ]);
    expect(http.map((r: any) => r.route.map((d: any) => d.destination.subset))).toEqual([['v3'], ['v2'], ['v3'], ['v1', 'v2']]);
    expect(http.every((r: any) => r.retries.attempts === 3 && r.timeout === '10s')).toBe(true);
  });

  test('mirroring uses mirror + mirrorPercentage, never mirrorPercent', () => {
    const stage = ReleaseStage.custom({
      name: 'shadow', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2', percent: 25 },
    });
    const route = only(synthRelease(stage), 'VirtualService').spec.http[0];
    expect(route.mirror).toEqual({ host: HOST, subset: 'v2', port: { number: 3000 } });
    expect(route.mirrorPercentage).toEqual({ value: 25 });
    expect(route).not.toHaveProperty('mirrorPercent');
  });

  const mirrorOf = (percent: number) => ReleaseStage.custom({
    name: 'shadow', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2', percent },
  });

  test('a mirror share of one request in a million (0.0001%) is written as it is', () => {
    expect(only(synthRelease(mirrorOf(0.0001)), 'VirtualService').spec.http[0].mirrorPercentage).toEqual({ value: 0.0001 });
    expect(only(synthRelease(mirrorOf(33.3333)), 'VirtualService').spec.http[0].mirrorPercentage).toEqual({ value: 33.3333 });
  });

  test.each([
    [1e-7, 'would mirror nothing'],
    [0.00005, 'would mirror nothing'],
    [12.34567, 'would mirror 12.3456%'],
  ])('fails on a mirror share of %d%%, finer than the millionths Envoy mirrors', (percent, effect) => {
    // Istio writes uint32(percent x 10000) per million to Envoy (pilot/pkg/networking/core/route/route.go)
    expect(() => synthRelease(mirrorOf(percent))).toThrow(`[test/helloworld] 'stage.mirror.percent' must be a multiple of 0.0001 (one request in a million) with TrafficRouter.istio() in stage 'shadow': Envoy mirrors whole millionths of requests and drops the rest, so this share ${effect}; round it to at most 4 decimals, got ${percent}`);
  });

  test('retries and timeout are configurable; attempts 0 turns retries off', () => {
    const stage = ReleaseStage.stable('v1');
    // 2 retries after the first try: 3 tries x 3s fit 9s.
    let route = only(synthRelease(stage, { retries: { attempts: 2, perTryTimeout: Duration.seconds(3), retryOn: '5xx' }, timeout: Duration.seconds(9) }), 'VirtualService').spec.http[0];
    expect(route.retries).toEqual({ attempts: 2, perTryTimeout: '3s', retryOn: '5xx' });
    expect(route.timeout).toBe('9s');
    route = only(synthRelease(stage, { retries: { attempts: 0 } }), 'VirtualService').spec.http[0];
    expect(route.retries).toEqual({ attempts: 0 });
  });

  test('timeouts in milliseconds are kept as Istio accepts them (1500ms)', () => {
    const route = only(synthRelease(ReleaseStage.stable('v1'), { retries: { attempts: 1, perTryTimeout: Duration.millis(700) }, timeout: Duration.millis(1500) }), 'VirtualService').spec.http[0];
    expect(route.timeout).toBe('1500ms');
    expect(route.retries).toEqual({ attempts: 1, perTryTimeout: '700ms', retryOn: 'gateway-error,connect-failure,refused-stream' });
  });

  test('fails on retry fields that would be dropped with attempts 0', () => {
    expect(() => synthRelease(ReleaseStage.stable('v1'), { retries: { attempts: 0, perTryTimeout: Duration.seconds(1) } }))
      .toThrow("[test/helloworld] 'retries.perTryTimeout' applies only when retries.attempts is above 0: drop it, or raise attempts, got 1s");
    expect(() => synthRelease(ReleaseStage.stable('v1'), { retries: { attempts: 0, retryOn: 'bogus!!' } }))
      .toThrow("[test/helloworld] 'retries.retryOn' applies only when retries.attempts is above 0: drop it, or raise attempts, got \"bogus!!\"");
  });

  test('hosts and gateways bind an ingress Gateway; short hosts are qualified with the namespace', () => {
    const vs = only(synthRelease(ReleaseStage.stable('v1'), { router: TrafficRouter.istio({ hosts: ['hello.example.com', 'helloworld'], gateways: ['istio-system/public', 'mesh'] }) }), 'VirtualService');
    expect(vs.spec.hosts).toEqual(['hello.example.com', HOST]);
    expect(vs.spec.gateways).toEqual(['istio-system/public', 'mesh']);
  });

  test('a namespace starting with a digit is a valid Kubernetes namespace (DNS-1123 label)', () => {
    const vs = only(synthRelease(ReleaseStage.stable('v1'), { namespace: '1shop' }), 'VirtualService');
    expect(vs.metadata.namespace).toBe('1shop');
    expect(vs.spec.hosts).toEqual(['helloworld.1shop.svc.cluster.local']);
  });

  test('a cluster domain other than cluster.local names the hosts', () => {
    const manifests = synthRelease(ReleaseStage.stable('v1'), { clusterDomain: 'corp.internal' });
    expect(only(manifests, 'VirtualService').spec.hosts).toEqual(['helloworld.default.svc.corp.internal']);
    expect(only(manifests, 'DestinationRule').spec.host).toBe('helloworld.default.svc.corp.internal');
  });

  test('the chart namespace decides the host; without one, objects are put in "default"', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'shop' });
    new MeshRelease(chart, 'r', { app: 'helloworld', port: 3000, versions: TWO_VERSIONS, stage: ReleaseStage.stable('v1') });
    const manifests = Testing.synth(chart);
    expect(only(manifests, 'DestinationRule').spec.host).toBe('helloworld.shop.svc.cluster.local');
    expect(manifests.every((m) => m.metadata.namespace === 'shop')).toBe(true);

    const bare = new Chart(Testing.app(), 'bare');
    new MeshRelease(bare, 'r', { app: 'helloworld', port: 3000, versions: TWO_VERSIONS, stage: ReleaseStage.stable('v1') });
    const bareManifests = Testing.synth(bare);
    expect(only(bareManifests, 'DestinationRule').spec.host).toBe('helloworld.default.svc.cluster.local');
    expect(bareManifests.every((m) => m.metadata.namespace === 'default')).toBe(true);
  });

  test('traffic policy: release-wide and per subset (outlier detection, connection pool, warmup)', () => {
    const manifests = synthRelease(ReleaseStage.custom({ name: 's', deployed: ['v1', 'v2'], weights: split }), {
      router: TrafficRouter.istio({
        trafficPolicy: {
          outlierDetection: { consecutive5xxErrors: 3 },
          connectionPool: { maxConnections: 100, http2MaxRequests: 1000, idleTimeout: Duration.seconds(30) },
        },
        subsetTrafficPolicies: { v2: { warmup: Duration.seconds(60), loadBalancer: LoadBalancerAlgorithm.ROUND_ROBIN } },
      }),
      versions: TWO_VERSIONS,
    });
    const dr = only(manifests, 'DestinationRule');
    expect(dr.spec.trafficPolicy).toEqual({
      tls: { mode: 'ISTIO_MUTUAL' },
      outlierDetection: { consecutive5xxErrors: 3, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
      connectionPool: { tcp: { maxConnections: 100 }, http: { http2MaxRequests: 1000, idleTimeout: '30s' } },
    });
    expect(dr.spec.subsets[0].trafficPolicy).toBeUndefined();
    expect(dr.spec.subsets[1].trafficPolicy).toEqual({ loadBalancer: { simple: 'ROUND_ROBIN', warmup: { duration: '60s' } } });
  });

  test('tls mode can be turned off for pods without sidecars', () => {
    const dr = only(synthRelease(ReleaseStage.stable('v1'), { router: TrafficRouter.istio({ trafficPolicy: { tlsMode: TlsMode.DISABLE } }) }), 'DestinationRule');
    expect(dr.spec.trafficPolicy).toEqual({ tls: { mode: 'DISABLE' } });
  });

  test('shared defaults apply to every version; a version overrides them', () => {
    const manifests = synthRelease(ReleaseStage.custom({ name: 's', deployed: ['v1', 'v2'], weights: split }), {
      defaults: { preStopSleep: Duration.seconds(5), scaling: Scaling.fixed(3) },
      versions: [TWO_VERSIONS[0], { ...TWO_VERSIONS[1], scaling: Scaling.fixed(4) }],
    });
    const [v1, v2] = ofKind(manifests, 'Deployment');
    expect(v1.spec.replicas).toBe(3);
    expect(v2.spec.replicas).toBe(4);
    expect(v1.spec.template.spec.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
    expect(v2.spec.template.spec.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
    expect(ofKind(manifests, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  test('appProtocol and portName reach the Service and containers', () => {
    const manifests = synthRelease(ReleaseStage.stable('v1'), { portName: 'grpc', appProtocol: 'grpc' });
    expect(only(manifests, 'Service').spec.ports).toEqual([{ name: 'grpc', port: 3000, targetPort: 3000, appProtocol: 'grpc' }]);
    expect(only(manifests, 'Deployment').spec.template.spec.containers[0].ports[0].name).toBe('grpc');
  });
});

describe('MeshRelease scaling with traffic', () => {
  const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
  const minReplicas = (stage: string) => Object.fromEntries(
    ofKind(synthRelease(plan.stage(stage), { defaults: { scaling: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) } }), 'HorizontalPodAutoscaler')
      .map((h) => [h.metadata.name, h.spec.minReplicas]));

  test('the candidate floor is sized for its share in this stage or the next, whichever is larger', () => {
    // deploy: next is shift-10 -> ceil(10 x 10%) = 1, below its own 10
    expect(minReplicas('deploy')).toEqual({ 'helloworld-v1': 10, 'helloworld-v2': 10 });
    const small = (stage: string) => Object.fromEntries(
      ofKind(synthRelease(plan.stage(stage), {
        versions: [
          { ...TWO_VERSIONS[0], scaling: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) },
          { ...TWO_VERSIONS[1], scaling: Scaling.autoscale({ minReplicas: 1, maxReplicas: 2 }) },
        ],
      }), 'HorizontalPodAutoscaler').map((h) => [h.metadata.name, [h.spec.minReplicas, h.spec.maxReplicas]]));
    expect(small('deploy')).toEqual({ 'helloworld-v1': [10, 20], 'helloworld-v2': [1, 2] }); // ceil(10 x 10%) = 1
    expect(small('shift-10')).toEqual({ 'helloworld-v1': [10, 20], 'helloworld-v2': [5, 5] }); // next is shift-50
    expect(small('shift-50')).toEqual({ 'helloworld-v1': [10, 20], 'helloworld-v2': [10, 10] }); // next is shift-100
    expect(small('retire')).toEqual({ 'helloworld-v2': [10, 10] });
  });

  test('scaleWithTraffic: false keeps every version at its own floor', () => {
    const manifests = synthRelease(plan.stage('shift-50'), {
      scaleWithTraffic: false,
      versions: [
        { ...TWO_VERSIONS[0], scaling: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) },
        { ...TWO_VERSIONS[1], scaling: Scaling.autoscale({ minReplicas: 1, maxReplicas: 2 }) },
      ],
    });
    expect(ofKind(manifests, 'HorizontalPodAutoscaler').map((h) => h.spec.minReplicas)).toEqual([10, 1]);
  });

  test('fixed replicas are never changed', () => {
    const manifests = synthRelease(plan.stage('shift-50'), {
      versions: [{ ...TWO_VERSIONS[0], scaling: Scaling.fixed(10) }, { ...TWO_VERSIONS[1], scaling: Scaling.fixed(1) }],
    });
    expect(ofKind(manifests, 'Deployment').map((d) => d.spec.replicas)).toEqual([10, 1]);
  });
});

describe('MeshRelease security', () => {
  test('strictMtls emits a STRICT PeerAuthentication for the app pods', () => {
    const pa = only(synthRelease(ReleaseStage.stable('v1'), { strictMtls: true }), 'PeerAuthentication');
    expect(pa.apiVersion).toBe('security.istio.io/v1');
    expect(pa.spec).toEqual({ selector: { matchLabels: { app: 'helloworld' } }, mtls: { mode: 'STRICT' } });
  });

  test('allowedCallers takes the most the AuthorizationPolicy CRD does: 16 service accounts, of a 63-character namespace and a 253-character name', () => {
    const name = Array.from({ length: 4 }, (_, i) => (i < 3 ? 'a'.repeat(63) : 'b'.repeat(61))).join('.');
    const serviceAccounts = Array.from({ length: 16 }, (_, i) => `${'n'.repeat(61)}${String(i).padStart(2, '0')}/${name}`);
    expect(serviceAccounts[0].length).toBe(317);
    const ap = only(synthRelease(ReleaseStage.stable('v1'), { allowedCallers: { serviceAccounts } }), 'AuthorizationPolicy');
    expect(ap.spec.rules[0].from[0].source.serviceAccounts).toEqual(serviceAccounts);
  });

  test('allowedCallers emits an ALLOW AuthorizationPolicy', () => {
    const ap = only(synthRelease(ReleaseStage.stable('v1'), { allowedCallers: { serviceAccounts: ['shop/frontend'], namespaces: ['istio-system'] } }), 'AuthorizationPolicy');
    expect(ap.apiVersion).toBe('security.istio.io/v1');
    expect(ap.spec).toEqual({
      selector: { matchLabels: { app: 'helloworld' } },
      action: 'ALLOW',
      // One source per kind of caller: ORed, and accepted by the CRD's CEL rule.
      rules: [{ from: [{ source: { serviceAccounts: ['shop/frontend'] } }, { source: { namespaces: ['istio-system'] } }] }],
    });
  });

  test('no security objects by default', () => {
    const manifests = synthRelease(ReleaseStage.stable('v1'));
    expect(ofKind(manifests, 'PeerAuthentication')).toEqual([]);
    expect(ofKind(manifests, 'AuthorizationPolicy')).toEqual([]);
  });
});

describe('MeshRelease refuses unsafe or invalid input', () => {
  const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });

  test('fails on a custom stage that routes to a version deployed in the same stage', () => {
    const stage = ReleaseStage.custom({
      name: 'too-fast',
      previous: plan.stage('make-routable'),
      deployed: ['v1', 'v2'],
      weights: [{ version: 'v1', weight: 90 }, { version: 'v2', weight: 10 }],
    });
    expect(() => synthRelease(stage)).toThrow(
      "[test/helloworld] stage 'too-fast' (after 'make-routable') is unsafe to apply (1 violation):\n"
      + "[destination-ready] VirtualService/helloworld http[0]: sends traffic to subset 'v2' of helloworld.default.svc.cluster.local, "
      + 'whose Deployment Deployment/helloworld-v2 did not exist in the previous stage, so it gets traffic before its pods are ready. '
      + 'Fix: deploy the version in a stage of its own, and route to it in the next one');
  });

  test('fails on a stage routing to a subset it does not define', () => {
    const stage = ReleaseStage.custom({ name: 'bad', deployed: ['v1', 'v2'], routable: ['v1'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] });
    expect(() => synthRelease(stage)).toThrow(/\[subset-defined\] VirtualService\/helloworld http\[0\]: routes to subset 'v2'.*no DestinationRule of this stage defines/);
  });

  test('fails on a version the stage names but versions does not list', () => {
    expect(() => synthRelease(ReleaseStage.stable('v9'))).toThrow(
      "[test/helloworld] 'stage' must only name versions listed in 'versions' (v1, v2): add 'v9' to versions with its image, got \"stable names version 'v9'\"");
  });

  test('fails when retries cannot fit in the timeout', () => {
    expect(() => synthRelease(ReleaseStage.stable('v1'), { retries: { attempts: 5, perTryTimeout: Duration.seconds(3) }, timeout: Duration.seconds(10) }))
      .toThrow("[test/helloworld] 'timeout' must cover every try: the first try + retries.attempts (5) retries, each up to retries.perTryTimeout (3s) = 18s; raise timeout or lower attempts or perTryTimeout, got 10s");
  });

  test.each([
    [{ app: 'Hello' }, "[test/helloworld] 'app' must be a DNS-1035 label"],
    [{ port: 70000 }, "[test/helloworld] 'port' must be an integer port number between 1 and 65535, got 70000"],
    [{ versions: [...TWO_VERSIONS, TWO_VERSIONS[0]] }, "[test/helloworld] 'versions' must list each version once, got \"v1\""],
    [{ allowedCallers: {} }, "[test/helloworld] 'allowedCallers' must name at least one service account or namespace"],
    [{ allowedCallers: { serviceAccounts: ['frontend'] } }, "[test/helloworld] 'allowedCallers.serviceAccounts' must be '<namespace>/<service-account>': a namespace"],
    // Found by test/integration/random-releases.integration.ts: the AuthorizationPolicy CRD takes 16 accounts of 320 characters at most.
    [{ allowedCallers: { serviceAccounts: Array.from({ length: 17 }, (_, i) => `shop/sa-${i}`) } },
      "[test/helloworld] 'allowedCallers.serviceAccounts' must list at most 16 service accounts (AuthorizationPolicy source.serviceAccounts maxItems 16): allow their namespace instead, got 17"],
    [{ allowedCallers: { serviceAccounts: [`shop/${'s'.repeat(254)}`] } }, "[test/helloworld] 'allowedCallers.serviceAccounts' must be '<namespace>/<service-account>': a namespace"],
    [{ allowedCallers: { serviceAccounts: [`${'n'.repeat(64)}/frontend`] } }, "[test/helloworld] 'allowedCallers.serviceAccounts' must be '<namespace>/<service-account>': a namespace"],
    [{ retries: { retryOn: '5xx; reset' } }, "[test/helloworld] 'retries.retryOn' must be comma-separated Envoy retry conditions"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { warmup: Duration.seconds(30), loadBalancer: LoadBalancerAlgorithm.RANDOM } }) }, "[test/helloworld] 'router.trafficPolicy.warmup' needs loadBalancer ROUND_ROBIN or LEAST_REQUEST"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { outlierDetection: { maxEjectionPercent: 150 } } }) }, "[test/helloworld] 'router.trafficPolicy.outlierDetection.maxEjectionPercent' must be an integer between 0 and 100, got 150"],
    [{ namespace: 'Shop' }, "[test/helloworld] 'namespace' must be a DNS-1123 label"],
    [{ router: TrafficRouter.istio({ subsetTrafficPolicies: { v9: { tlsMode: TlsMode.DISABLE } } }) }, "[test/helloworld] 'router.subsetTrafficPolicies' must only name versions listed in 'versions'"],
    [{ router: TrafficRouter.istio({ hosts: [] }) }, "[test/helloworld] 'router.hosts' must list at least one host, or be left out (the service FQDN), got []"],
    [{ router: TrafficRouter.istio({ hosts: ['*'] }) }, "[test/helloworld] 'router.hosts' must not be '*' while the VirtualService is bound to the mesh (Istio refuses it)"],
    [{ router: TrafficRouter.istio({ hosts: ['Hello World'] }) }, "[test/helloworld] 'router.hosts' must be DNS names (lowercase, optionally starting with '*.')"],
    [{ router: TrafficRouter.istio({ gateways: ['istio-system/'] }) }, "[test/helloworld] 'router.gateways' must be 'mesh', '<gateway>' or '<namespace>/<gateway>', got \"istio-system/\""],
    [{ router: TrafficRouter.istio({ gateways: [] }) }, "[test/helloworld] 'router.gateways' must list at least one gateway"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { connectionPool: { maxConnections: -1 } } }) }, "[test/helloworld] 'router.trafficPolicy.connectionPool.maxConnections' must be an integer between 1 and 2147483647, got -1"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { connectionPool: { maxConnections: 1.5 } } }) }, "[test/helloworld] 'router.trafficPolicy.connectionPool.maxConnections' must be an integer between 1 and 2147483647, got 1.5"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { connectionPool: { maxRequestsPerConnection: -5 } } }) }, "[test/helloworld] 'router.trafficPolicy.connectionPool.maxRequestsPerConnection' must be an integer between 0 and 2147483647, got -5"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { outlierDetection: { interval: Duration.millis(0) } } }) }, "[test/helloworld] 'router.trafficPolicy.outlierDetection.interval' must be"],
    [{ versions: [{ version: 'v1', image: 'Learnistio/Hello World:1.0.0' }] }, "[test/helloworld] 'versions[v1].image' must be"],
    [{ appProtocol: 'not a protocol!' }, "[test/helloworld] 'appProtocol' must be"],
    [{ port: 15006 }, "[test/helloworld] 'port' must"],
    [{ timeout: Duration.days(4_000_000) }, "[test/helloworld] 'timeout' must"],
    // Found by test/integration/random-releases.integration.ts: past what the CRDs' CEL rules read as a duration, or a UInt32Value.
    [{ timeout: Duration.days(106_752) }, "[test/helloworld] 'timeout' must be a whole number of milliseconds between 1ms and 9223372036854ms"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { warmup: Duration.millis(9_223_372_036_855) } }) }, "[test/helloworld] 'router.trafficPolicy.warmup' must be a whole number of milliseconds between 1ms and 9223372036854ms"],
    [{ router: TrafficRouter.istio({ trafficPolicy: { outlierDetection: { consecutive5xxErrors: 2 ** 32 } } }) },
      "[test/helloworld] 'router.trafficPolicy.outlierDetection.consecutive5xxErrors' must be an integer between 1 and 4294967295, got 4294967296"],
    [{ defaults: { preStopSleep: Duration.seconds(60) } }, "[test/helloworld/v1] 'sidecarDrainDuration' must be at least preStopSleep (60s)"],
    [{ defaults: { preStopSleep: Duration.seconds(30), sidecarDrainDuration: Duration.seconds(30) } }, "[test/helloworld/v1] 'terminationGracePeriod' must be longer than preStopSleep (30s) + sidecarDrainDuration (30s) = 60s"],
  ])('fails on %j', (props, message) => {
    expect(() => synthRelease(ReleaseStage.stable('v1'), props as any)).toThrow(message);
  });
});

describe('MeshRelease after a previous stage its router refuses', () => {
  // Found by test/integration/random-releases.integration.ts: the error named the detached render chart
  // ('[render/helloworld]') and not the stage it was about.
  const routes = Array.from({ length: 16 }, (_, i) => ({ header: `x-h${i}`, value: 'v2', version: 'v2' }));
  const both = { deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] };
  const plan = ReleasePlan.custom([
    { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'deploy', ...both },
    { name: 'pin', ...both, headerRoutes: routes },
    { name: 'unpin', ...both },
  ]);

  test('is refused with this release\'s path, the prop and both stages named, and leaves nothing in the chart', () => {
    const chart = Testing.chart();
    expect(() => new MeshRelease(chart, 'helloworld', {
      app: 'helloworld', port: 3000, versions: TWO_VERSIONS, stage: plan.stage('unpin'), router: TrafficRouter.gatewayApi(),
    })).toThrow(/^\[test\/helloworld\] 'stage\.headerRoutes' must hold at most 15 routes .*, got 16 \(in the previous stage 'pin', rendered to check the transition to stage 'unpin'\)$/);
    expect(Testing.synth(chart)).toEqual([]);
    // the name is free again
    synthRelease(plan.stage('deploy'), { router: TrafficRouter.gatewayApi() });
  });
});

describe('MeshRelease apply order', () => {
  const stage = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] }).stage('shift-10');
  const annotationsByKind = (order: ApplyOrder, key: string) => Object.fromEntries(
    synthRelease(stage, { applyOrder: order }).map((m) => [`${m.kind}/${m.metadata.name}`, m.metadata.annotations?.[key]]));

  test('Argo CD: DestinationRule in wave -1, workloads in 0, VirtualService in 1', () => {
    expect(annotationsByKind(ApplyOrder.ARGO_CD, 'argocd.argoproj.io/sync-wave')).toEqual({
      'Service/helloworld': '0',
      'Deployment/helloworld-v1': '0',
      'HorizontalPodAutoscaler/helloworld-v1': '0',
      'PodDisruptionBudget/helloworld-v1': '0',
      'Deployment/helloworld-v2': '0',
      'HorizontalPodAutoscaler/helloworld-v2': '0',
      'PodDisruptionBudget/helloworld-v2': '0',
      'DestinationRule/helloworld': '-1',
      'VirtualService/helloworld': '1',
    });
  });

  test('kapp: workloads after routable objects, routes after workloads', () => {
    const groups = annotationsByKind(ApplyOrder.KAPP, 'kapp.k14s.io/change-group');
    const rules = annotationsByKind(ApplyOrder.KAPP, 'kapp.k14s.io/change-rule');
    expect(groups['DestinationRule/helloworld']).toBe('mesh-release.io/helloworld-routable');
    expect(rules['DestinationRule/helloworld']).toBeUndefined();
    expect(groups['Deployment/helloworld-v2']).toBe('mesh-release.io/helloworld-workloads');
    expect(rules['Deployment/helloworld-v2']).toBe('upsert after upserting mesh-release.io/helloworld-routable');
    expect(groups['VirtualService/helloworld']).toBe('mesh-release.io/helloworld-routes');
    expect(rules['VirtualService/helloworld']).toBe('upsert after upserting mesh-release.io/helloworld-workloads');
  });

  test('no ordering annotations by default', () => {
    const manifests = synthRelease(stage);
    expect(manifests.some((m) => Object.keys(m.metadata.annotations ?? {}).some((k) => k.startsWith('argocd') || k.startsWith('kapp')))).toBe(false);
  });
});

describe('MeshRelease versions of the previous stage', () => {
  test('fails when a version of the previous stage is missing: the transition cannot be checked without it', () => {
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });
    expect(() => synthRelease(plan.stage('retire'), { versions: [TWO_VERSIONS[1]] })).toThrow(
      "[test/helloworld] 'versions' must also list the versions of the previous stage 'drop-routable', which names 'v1' "
      + "(the transition from it is checked on the objects it had): add 'v1' to versions with its image, got [\"v2\"]");
  });
});
