import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import {
  ApplyOrder, ManifestSchemas, MeshRelease, MeshReleaseProps, ReleasePlan, ReleaseStage, SafetyCheck, SafetyRule, Severity, TrafficRouter,
} from '../../../src';
import { ofKind, only } from '../../_helpers';

const VERSIONS = [
  { version: 'blue', image: 'example/shop:1.0.0' },
  { version: 'green', image: 'example/shop:2.0.0' },
];

function synth(stage: ReleaseStage, props: Partial<MeshReleaseProps> = {}): { manifests: any[]; release: MeshRelease } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
  const release = new MeshRelease(chart, 'shop', { app: 'shop', port: 8080, versions: VERSIONS, stage, router: TrafficRouter.serviceSelector(), ...props });
  return { manifests: Testing.synth(chart), release };
}

describe('TrafficRouter.serviceSelector(), blue/green blue -> green', () => {
  const plan = ReleasePlan.blueGreen({ stable: 'blue', candidate: 'green' });
  const expected: { [stage: string]: [string[], string] } = {
    // stage: [Deployments, version the Service selects]
    'stable': [['shop-blue'], 'blue'],
    'make-routable': [['shop-blue'], 'blue'],
    'deploy': [['shop-blue', 'shop-green'], 'blue'],
    'shift-100': [['shop-blue', 'shop-green'], 'green'],
    'unroute': [['shop-blue', 'shop-green'], 'green'],
    'drop-routable': [['shop-blue', 'shop-green'], 'green'],
    'retire': [['shop-green'], 'green'],
  };

  test.each(plan.stageNames)('stage %s: Deployments and the version the Service selects', (name) => {
    // WHEN
    const { manifests, release } = synth(plan.stage(name));
    // THEN
    const [deployments, live] = expected[name];
    expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.name)).toEqual(deployments);
    const service = only(manifests, 'Service');
    expect(service.metadata).toEqual({
      name: 'shop',
      namespace: 'shop',
      labels: { 'app': 'shop', 'app.kubernetes.io/name': 'shop' },
      annotations: { 'mesh-release.io/stage': name, 'mesh-release.io/plan-stages': 'stable,make-routable,deploy,shift-100,unroute,drop-routable,retire' },
    });
    expect(service.spec.selector).toEqual({ app: 'shop', version: live });
    expect(manifests.map((m) => m.kind).filter((k) => !['Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(k))).toEqual([]);
    expect(release.warnings).toEqual([]);
  });

  test('every stage is schema-valid and safe after the one before it', () => {
    let previous: any[] | undefined;
    for (const stage of plan.stages) {
      const { manifests } = synth(stage);
      expect({ stage: stage.name, violations: ManifestSchemas.validate(manifests) }).toEqual({ stage: stage.name, violations: [] });
      expect({ stage: stage.name, violations: SafetyCheck.check(manifests, previous) }).toEqual({ stage: stage.name, violations: [] });
      previous = manifests;
    }
  });

  test.each(['deploy', 'shift-100', 'retire'])('stage %s snapshot', (name) => {
    expect(synth(plan.stage(name)).manifests).toMatchSnapshot();
  });

  test('no routing object: the Istio and Gateway API getters name the router', () => {
    const { release } = synth(plan.stage('deploy'));
    expect(() => release.virtualService).toThrow('[test/shop] has no virtualService: it is made by TrafficRouter.istio(), and this release uses TrafficRouter.serviceSelector()');
    expect(() => release.httpRoute).toThrow('[test/shop] has no httpRoute: it is made by TrafficRouter.gatewayApi(), and this release uses TrafficRouter.serviceSelector()');
  });

  test('apply order: the switching Service is applied last, after the Deployments are ready', () => {
    const { manifests } = synth(plan.stage('shift-100'), { applyOrder: ApplyOrder.ARGO_CD });
    expect(only(manifests, 'Service').metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('1');
    expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.annotations['argocd.argoproj.io/sync-wave'])).toEqual(['0', '0']);
  });
});

describe('TrafficRouter.serviceSelector() refuses what a Service cannot express', () => {
  const canary = ReleasePlan.canary({ stable: 'blue', candidate: 'green', weights: [10, 50] });
  const cases: Array<[string, ReleaseStage, string]> = [
    ['a weighted stage', canary.stage('shift-10'),
      "[test/shop] 'stage' must send 0% or 100% to each version with TrafficRouter.serviceSelector() (a Service selects one version at a time): use TrafficRouter.istio() or TrafficRouter.gatewayApi() for weighted stages, got \"shift-10: blue=90, green=10\""],
    ['a header route', ReleaseStage.custom({
      name: 'pin', deployed: ['blue', 'green'], weights: [{ version: 'blue', weight: 100 }], headerRoutes: [{ header: 'x-version', value: 'green', version: 'green' }],
    }), "[test/shop] 'stage' must have no header routes with TrafficRouter.serviceSelector() (a Service cannot match headers): use TrafficRouter.istio() or TrafficRouter.gatewayApi(), got \"pin: headerRoutes x-version=green -> green\""],
    ['a mirror', ReleaseStage.custom({ name: 'mirror', deployed: ['blue', 'green'], weights: [{ version: 'blue', weight: 100 }], mirror: { version: 'green' } }),
      "[test/shop] 'stage' must not mirror with TrafficRouter.serviceSelector() (a Service cannot copy requests): use TrafficRouter.istio() or TrafficRouter.gatewayApi(), got \"mirror: mirror to green\""],
  ];

  test.each(cases)('fails on %s, before any child is created', (_, stage, message) => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    expect(() => new MeshRelease(chart, 'shop', { app: 'shop', port: 8080, versions: VERSIONS, stage, router: TrafficRouter.serviceSelector() })).toThrow(message);
    expect(chart.node.findAll().filter((c) => c instanceof ApiObject)).toEqual([]);
  });

  test('fails on the stage after a weighted one: the previous stage cannot be rendered either', () => {
    expect(() => synth(canary.stage('shift-100'))).toThrow("'stage' must send 0% or 100% to each version with TrafficRouter.serviceSelector() (a Service selects one version at a time): use TrafficRouter.istio() or TrafficRouter.gatewayApi() for weighted stages, got \"shift-50: blue=50, green=50\"");
  });

  test('the stages of a canary plan without weights are fine', () => {
    expect(only(synth(canary.stage('deploy')).manifests, 'Service').spec.selector).toEqual({ app: 'shop', version: 'blue' });
  });

  test('fails on a switch to a version deployed in the same stage (destination-ready)', () => {
    const stage = ReleaseStage.custom({
      name: 'switch-now', deployed: ['blue', 'green'], weights: [{ version: 'green', weight: 100 }], previous: ReleaseStage.stable('blue'),
    });
    expect(() => synth(stage)).toThrow(/\[destination-ready\] Service\/shop selector: sends traffic to Service shop\/shop, whose Deployment Deployment\/shop-green did not exist in the previous stage/);
  });

  const props: Array<[string, Partial<MeshReleaseProps>, string]> = [
    ['retries', { retries: { attempts: 2 } }, "[test/shop] 'retries' needs a router with routes (TrafficRouter.istio() or TrafficRouter.gatewayApi()): TrafficRouter.serviceSelector() has none, drop it, got {\"attempts\":2}"],
    ['timeout', { timeout: Duration.seconds(5) }, "[test/shop] 'timeout' needs a router with routes (TrafficRouter.istio() or TrafficRouter.gatewayApi()): TrafficRouter.serviceSelector() has none, drop it, got 5s"],
    ['strictMtls', { strictMtls: true }, "[test/shop] 'strictMtls' needs a mesh: use TrafficRouter.istio() or TrafficRouter.gatewayApi(), or drop it, got true"],
    ['allowedCallers', { allowedCallers: { namespaces: ['front'] } }, "[test/shop] 'allowedCallers' needs Istio (an AuthorizationPolicy): use TrafficRouter.istio() or TrafficRouter.gatewayApi() in an Istio mesh, or drop it, got {\"namespaces\":[\"front\"]}"],
  ];

  test.each(props)('fails on %s', (_, extra, message) => {
    expect(() => synth(ReleaseStage.stable('blue'), extra)).toThrow(message);
  });
});

describe('selector switches in the safety check (hand-built objects)', () => {
  const service = (selector: object, name = 'shop') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { selector, ports: [{ name: 'http', port: 8080 }] } });
  const deployment = (version: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `shop-${version}`, namespace: 'shop' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'shop', version } },
      template: { metadata: { labels: { app: 'shop', version } }, spec: { containers: [{ name: 'shop', image: `shop:${version}` }] } },
    },
  });
  const selecting = (version: string) => service({ app: 'shop', version });

  test('destination-ready: fails on a switch to a version whose Deployment is new; passes a stage later', () => {
    const before = [selecting('blue'), deployment('blue')];
    const deployed = [selecting('blue'), deployment('blue'), deployment('green')];
    const switched = [selecting('green'), deployment('blue'), deployment('green')];
    expect(SafetyCheck.check(switched, before).map((v) => [v.rule, v.severity, v.object])).toEqual([
      [SafetyRule.DESTINATION_READY, Severity.ERROR, 'Service/shop selector'],
    ]);
    expect(SafetyCheck.check(switched, deployed)).toEqual([]);
  });

  test('destination-ready: fails on a selector that reaches no Deployment', () => {
    expect(SafetyCheck.check([selecting('green'), deployment('blue')]).map((v) => v.message))
      .toEqual(['sends traffic to Service shop/shop, but no Deployment of this stage has pods it selects']);
  });

  test('deployment-removed-while-service: fails on deleting the old Deployment in the switch stage; passes a stage later', () => {
    const deployed = [selecting('blue'), deployment('blue'), deployment('green')];
    const switchedAndDeleted = [selecting('green'), deployment('green')];
    expect(SafetyCheck.check(switchedAndDeleted, deployed).map((v) => [v.rule, v.object, v.message])).toEqual([[
      SafetyRule.DEPLOYMENT_REMOVED_WHILE_SERVICE, 'Deployment/shop-blue',
      'is deleted while Service shop/shop in the previous stage, which a route names, still selects its pods',
    ]]);
    const switched = [selecting('green'), deployment('blue'), deployment('green')];
    expect(SafetyCheck.check(switchedAndDeleted, switched)).toEqual([]);
  });

  test('a switch from an app-only selector is not a new backend (no service-before-route)', () => {
    const appOnly = [service({ app: 'shop' }), deployment('blue')];
    expect(SafetyCheck.check([selecting('blue'), deployment('blue')], appOnly)).toEqual([]);
  });

  test('service-selects-version does not apply without a mesh, and still applies to a Service Istio routes', () => {
    expect(SafetyCheck.check([selecting('blue'), deployment('blue')])).toEqual([]);
    const dr = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'shop', namespace: 'shop' },
      spec: { host: 'shop.shop.svc.cluster.local', subsets: [{ name: 'blue', labels: { version: 'blue' } }] },
    };
    expect(SafetyCheck.check([selecting('blue'), deployment('blue'), dr]).map((v) => v.rule)).toEqual([SafetyRule.SERVICE_SELECTS_VERSION]);
  });

  test('a per-version Service `<app>-<version>` waiting for its route is not a switch', () => {
    expect(SafetyCheck.check([service({ app: 'shop' }), service({ app: 'shop', version: 'green' }, 'shop-green'), deployment('blue')])).toEqual([]);
  });
});
