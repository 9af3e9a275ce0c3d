import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import { schemaViolations } from './_schemas';
import {
  ApplyOrder, HeaderMatchType, ManifestSchemas, MeshRelease, MeshReleaseProps,
  ReleasePlan, ReleaseStage, SafetyCheck, TrafficRouter,
} from '../../../src';
import { ofKind, only } from '../../_helpers';

const VERSIONS = ['v1', 'v2', 'v3'].map((version) => ({ version, image: `docker.io/istio/examples-bookinfo-reviews-${version}:1.20.2` }));
const INGRESS = TrafficRouter.gatewayApi({ gateways: [{ name: 'public', namespace: 'infra' }], hostnames: ['reviews.example.com'] });

/** Synthesizes a `reviews` release in namespace bookinfo with the Gateway API router (GAMMA unless told). */
function synth(stage: ReleaseStage, props: Partial<MeshReleaseProps> = {}): { manifests: any[]; release: MeshRelease } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'bookinfo' });
  const release = new MeshRelease(chart, 'reviews', { app: 'reviews', port: 9080, versions: VERSIONS, stage, router: TrafficRouter.gatewayApi(), ...props });
  return { manifests: Testing.synth(chart), release };
}

function attempt(stage: ReleaseStage, props: Partial<MeshReleaseProps>): () => void {
  return () => synth(stage, props);
}

/** `{ <backend Service>: weight }` of the catch-all (last) rule. */
function catchAll(manifests: any[]): { [service: string]: number } {
  const rules = only(manifests, 'HTTPRoute').spec.rules;
  return Object.fromEntries(rules[rules.length - 1].backendRefs.map((b: any) => [b.name, b.weight]));
}

function versionServices(manifests: any[]): string[] {
  return ofKind(manifests, 'Service').map((s) => s.metadata.name).filter((n) => n !== 'reviews');
}

/** Every stage of a plan: synthesized with `props`, schema-valid, and safe after the stage before it. */
function checkEveryStage(plan: ReleasePlan, props: Partial<MeshReleaseProps> = {}): void {
  let previous: any[] | undefined;
  for (const stage of plan.stages) {
    const { manifests, release } = synth(stage, props);
    expect({ stage: stage.name, violations: schemaViolations(manifests) }).toEqual({ stage: stage.name, violations: [] });
    expect({ stage: stage.name, violations: SafetyCheck.check(manifests, previous) }).toEqual({ stage: stage.name, violations: [] });
    expect(release.warnings).toEqual([]);
    // THEN the Services, Deployments and weights follow the plan
    expect(versionServices(manifests)).toEqual(stage.routable.map((v) => `reviews-${v}`));
    expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.name)).toEqual(stage.deployed.map((v) => `reviews-${v}`));
    expect(catchAll(manifests)).toEqual(Object.fromEntries(stage.weights.map((w) => [`reviews-${w.version}`, w.weight])));
    previous = manifests;
  }
}

/** A backendRef to a version's Service as emitted: the CRD's defaults (group '', kind Service) written out, as the API server stores it. */
const backend = (name: string, extra: object = {}) => ({ group: '', kind: 'Service', name, port: 9080, ...extra });
/** The root path prefix: the CRD's default of a rule without matches and of a match without a path. */
const EVERY_PATH = { type: 'PathPrefix', value: '/' };

describe('TrafficRouter.gatewayApi(), canary v1 -> v2 with weights [10, 50]', () => {
  const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
  const expected: { [stage: string]: [string[], string[], { [s: string]: number }] } = {
    // stage: [Deployments, per-version Services, catch-all weights]
    'stable': [['reviews-v1'], ['reviews-v1'], { 'reviews-v1': 100 }],
    'make-routable': [['reviews-v1'], ['reviews-v1', 'reviews-v2'], { 'reviews-v1': 100 }],
    'deploy': [['reviews-v1', 'reviews-v2'], ['reviews-v1', 'reviews-v2'], { 'reviews-v1': 100 }],
    'shift-10': [['reviews-v1', 'reviews-v2'], ['reviews-v1', 'reviews-v2'], { 'reviews-v1': 90, 'reviews-v2': 10 }],
    'shift-50': [['reviews-v1', 'reviews-v2'], ['reviews-v1', 'reviews-v2'], { 'reviews-v1': 50, 'reviews-v2': 50 }],
    'shift-100': [['reviews-v1', 'reviews-v2'], ['reviews-v1', 'reviews-v2'], { 'reviews-v1': 0, 'reviews-v2': 100 }],
    'unroute': [['reviews-v1', 'reviews-v2'], ['reviews-v1', 'reviews-v2'], { 'reviews-v2': 100 }],
    'drop-routable': [['reviews-v1', 'reviews-v2'], ['reviews-v2'], { 'reviews-v2': 100 }],
    'retire': [['reviews-v2'], ['reviews-v2'], { 'reviews-v2': 100 }],
  };

  test.each(plan.stageNames)('stage %s: Deployments, per-version Services and weights', (name) => {
    // WHEN
    const { manifests } = synth(plan.stage(name));
    // THEN
    const [deployments, services, weights] = expected[name];
    expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.name)).toEqual(deployments);
    expect(versionServices(manifests)).toEqual(services);
    expect(catchAll(manifests)).toEqual(weights);
    expect(only(manifests, 'HTTPRoute').metadata.annotations).toEqual({
      'mesh-release.io/stage': name,
      'mesh-release.io/plan-stages': 'stable,make-routable,deploy,shift-10,shift-50,shift-100,unroute,drop-routable,retire',
    });
    expect(ofKind(manifests, 'DestinationRule')).toEqual([]);
    expect(ofKind(manifests, 'VirtualService')).toEqual([]);
  });

  test.each(['make-routable', 'shift-10', 'retire'])('stage %s snapshot', (name) => {
    expect(synth(plan.stage(name)).manifests).toMatchSnapshot();
  });

  test('the version-free Service selects the app only and carries no stage annotation', () => {
    const service = ofKind(synth(plan.stage('shift-10')).manifests, 'Service').find((s) => s.metadata.name === 'reviews');
    expect(service.metadata).toEqual({ name: 'reviews', namespace: 'bookinfo', labels: { 'app': 'reviews', 'app.kubernetes.io/name': 'reviews' } });
    expect(service.spec.selector).toEqual({ app: 'reviews' });
  });

  test('a per-version Service selects app + version on the release port', () => {
    const service = ofKind(synth(plan.stage('shift-10')).manifests, 'Service').find((s) => s.metadata.name === 'reviews-v2');
    expect(service.metadata).toEqual({
      name: 'reviews-v2',
      namespace: 'bookinfo',
      labels: { 'app': 'reviews', 'app.kubernetes.io/name': 'reviews', 'app.kubernetes.io/version': 'v2' },
    });
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      selector: { app: 'reviews', version: 'v2' },
      ports: [{ name: 'http', port: 9080, targetPort: 9080 }],
    });
  });

  test('HTTPRoute: attached to the Service (GAMMA), one weighted catch-all rule with the request timeout, no retry', () => {
    const route = only(synth(plan.stage('shift-10')).manifests, 'HTTPRoute');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.metadata.name).toBe('reviews');
    expect(route.metadata.labels).toEqual({ 'app': 'reviews', 'app.kubernetes.io/name': 'reviews' });
    expect(route.spec).toEqual({
      parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }],
      rules: [{
        name: 'weighted',
        matches: [{ path: EVERY_PATH }],
        backendRefs: [backend('reviews-v1', { weight: 90 }), backend('reviews-v2', { weight: 10 })],
        timeouts: { request: '10s' },
      }],
    });
  });

  test('the release exposes its HTTPRoute and per-version Services; the Istio getters name the router', () => {
    const { release } = synth(plan.stage('make-routable'));
    expect(release.httpRoute.kind).toBe('HTTPRoute');
    expect(release.versionService('v2').name).toBe('reviews-v2');
    expect(() => release.versionService('v3')).toThrow("[test/reviews] 'versionService' must name a version routable in stage 'make-routable' (v1, v2), got \"v3\"");
    expect(() => release.virtualService).toThrow('[test/reviews] has no virtualService: it is made by TrafficRouter.istio(), and this release uses TrafficRouter.gatewayApi()');
    expect(() => release.destinationRule).toThrow('has no destinationRule');
  });

  test('the Istio router has no HTTPRoute', () => {
    const { release } = synth(plan.stage('stable'), { router: TrafficRouter.istio() });
    expect(() => release.httpRoute).toThrow('[test/reviews] has no httpRoute: it is made by TrafficRouter.gatewayApi(), and this release uses TrafficRouter.istio()');
    expect(() => release.versionService('v1')).toThrow('has no httpRoute');
  });
});

describe('TrafficRouter.gatewayApi(): every stage of every plan is schema-valid and safe', () => {
  const threeVersions = ReleasePlan.custom([
    { name: 'split', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
    { name: 'make-routable-v3', deployed: ['v1', 'v2'], routable: ['v1', 'v2', 'v3'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
    { name: 'deploy-v3', deployed: ['v1', 'v2', 'v3'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
    {
      name: 'pin-v3',
      deployed: ['v1', 'v2', 'v3'],
      weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }],
      headerRoutes: [{ header: 'x-version', value: 'v3', version: 'v3' }],
    },
    {
      name: 'three-live',
      deployed: ['v1', 'v2', 'v3'],
      weights: [{ version: 'v1', weight: 40 }, { version: 'v2', weight: 40 }, { version: 'v3', weight: 20 }],
      headerRoutes: [{ header: 'x-version', value: 'v3', version: 'v3' }],
    },
  ]);
  const mirror = ReleasePlan.custom([
    { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'deploy', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'mirror', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2', percent: 25 } },
    { name: 'shift-100', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 0 }, { version: 'v2', weight: 100 }] },
  ]);
  const plans: Array<[string, ReleasePlan]> = [
    ['canary, 1 step', ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [50] })],
    ['canary, 3 steps', ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 25, 50] })],
    ['canary, 9 steps', ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 20, 30, 40, 50, 60, 70, 80, 90] })],
    ['blue/green', ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' })],
    ['three live versions with a header route', threeVersions],
    ['mirror', mirror],
  ];

  test.each(plans)('%s, in the mesh (GAMMA)', (_, plan) => {
    checkEveryStage(plan);
  });

  test.each(plans)('%s, on an ingress Gateway', (_, plan) => {
    checkEveryStage(plan, { router: INGRESS });
  });

  test.each(plans)('%s, in Istio ambient mode', (_, plan) => {
    checkEveryStage(plan, { router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }) });
  });

  test('header route: a header rule ahead of the weighted catch-all, both with the timeout', () => {
    const route = only(synth(threeVersions.stage('three-live')).manifests, 'HTTPRoute');
    expect(route.spec.rules).toEqual([
      {
        name: 'header-0',
        matches: [{ path: EVERY_PATH, headers: [{ type: 'Exact', name: 'x-version', value: 'v3' }] }],
        backendRefs: [backend('reviews-v3', { weight: 1 })],
        timeouts: { request: '10s' },
      },
      {
        name: 'weighted',
        matches: [{ path: EVERY_PATH }],
        backendRefs: [backend('reviews-v1', { weight: 40 }), backend('reviews-v2', { weight: 40 }), backend('reviews-v3', { weight: 20 })],
        timeouts: { request: '10s' },
      },
    ]);
    expect(synth(threeVersions.stage('pin-v3')).manifests).toMatchSnapshot();
  });

  test('prefix and regex header routes become RegularExpression matches', () => {
    const stage = ReleaseStage.custom({
      name: 'ab',
      deployed: ['v1', 'v2', 'v3'],
      weights: [{ version: 'v1', weight: 100 }],
      headerRoutes: [
        { header: 'x-group', value: 'beta.1', matchType: HeaderMatchType.PREFIX, version: 'v2' },
        { header: 'x-user', value: '(alice|bob)', matchType: HeaderMatchType.REGEX, version: 'v3' },
      ],
    });
    const { manifests } = synth(stage);
    expect(only(manifests, 'HTTPRoute').spec.rules.map((r: any) => r.matches)).toEqual([
      [{ path: EVERY_PATH, headers: [{ type: 'RegularExpression', name: 'x-group', value: '^beta\\.1.*' }] }],
      [{ path: EVERY_PATH, headers: [{ type: 'RegularExpression', name: 'x-user', value: '(alice|bob)' }] }],
      [{ path: EVERY_PATH }],
    ]);
    expect(schemaViolations(manifests)).toEqual([]);
  });

  test('mirror: a RequestMirror filter on the catch-all rule, percent when whole, fraction otherwise', () => {
    const route = only(synth(mirror.stage('mirror')).manifests, 'HTTPRoute');
    expect(route.spec.rules).toEqual([{
      name: 'weighted',
      matches: [{ path: EVERY_PATH }],
      backendRefs: [backend('reviews-v1', { weight: 100 })],
      filters: [{ type: 'RequestMirror', requestMirror: { backendRef: backend('reviews-v2'), percent: 25 } }],
      timeouts: { request: '10s' },
    }]);
    const half = ReleaseStage.custom({ name: 'mirror-half', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2', percent: 0.5 } });
    const { manifests } = synth(half);
    expect(only(manifests, 'HTTPRoute').spec.rules[0].filters[0].requestMirror)
      .toEqual({ backendRef: backend('reviews-v2'), fraction: { numerator: 5, denominator: 1000 } });
    expect(schemaViolations(manifests)).toEqual([]);
  });
});

describe('TrafficRouter.gatewayApi() options', () => {
  const stage = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] }).stage('shift-10');

  test('gateways: the HTTPRoute attaches to the Gateways with the hostnames', () => {
    const router = TrafficRouter.gatewayApi({ gateways: [{ name: 'public', namespace: 'infra', sectionName: 'https' }, { name: 'internal' }], hostnames: ['reviews.example.com', '*.reviews.example.com'] });
    const route = only(synth(stage, { router }).manifests, 'HTTPRoute');
    expect(route.spec.parentRefs).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra', sectionName: 'https' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'internal' },
    ]);
    expect(route.spec.hostnames).toEqual(['reviews.example.com', '*.reviews.example.com']);
    expect(synth(stage, { router: INGRESS }).manifests).toMatchSnapshot();
  });

  test('ambientWaypoint: every Service is bound to the waypoint, pods carry no sidecar lifecycle annotations', () => {
    const { manifests } = synth(stage, { router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }) });
    for (const service of ofKind(manifests, 'Service')) {
      expect(service.metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    }
    for (const deployment of ofKind(manifests, 'Deployment')) {
      expect(deployment.spec.template.metadata.annotations).toBeUndefined();
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(60);
    }
  });

  test('ambientWaypoint + allowedCallers: the callers are checked at the waypoint, the ztunnel admits the waypoint', () => {
    // GIVEN a release in ambient mode, with an allow-list (Istio's ambient L4 policy docs: ztunnel sees the waypoint's identity)
    const router = TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' });
    const allowedCallers = { serviceAccounts: ['shop/frontend'], namespaces: ['ops'] };
    // WHEN
    const { manifests, release } = synth(stage, { router, allowedCallers });
    // THEN the waypoint enforces the allow-list for the app's Service and each version's Service (a caller may name one)
    const policies = ofKind(manifests, 'AuthorizationPolicy');
    expect(policies.map((p) => p.metadata.name)).toEqual(['reviews', 'reviews-waypoint']);
    const [ztunnel, waypoint] = policies;
    expect(waypoint.spec).toEqual({
      targetRefs: ['reviews', 'reviews-v1', 'reviews-v2', 'reviews-v3'].map((name) => ({ group: '', kind: 'Service', name })),
      action: 'ALLOW',
      rules: [{ from: [{ source: { serviceAccounts: ['shop/frontend'] } }, { source: { namespaces: ['ops'] } }] }],
    });
    // AND the pods' policy (enforced by the destination ztunnel) admits the waypoint's service account besides the callers
    expect(ztunnel.spec).toEqual({
      selector: { matchLabels: { app: 'reviews' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { serviceAccounts: ['shop/frontend'] } }, { source: { namespaces: ['ops'] } }, { source: { serviceAccounts: ['bookinfo/waypoint'] } }] }],
    });
    expect(release.authorizationPolicy?.name).toBe('reviews');
    expect(release.waypointAuthorizationPolicy?.name).toBe('reviews-waypoint');
    expect(schemaViolations(manifests)).toEqual([]);
    expect(SafetyCheck.check(manifests)).toEqual([]);
  });

  test('allowedCallers without a waypoint: one policy on the pods, the callers only', () => {
    const { manifests, release } = synth(stage, { allowedCallers: { namespaces: ['ops'] } });
    expect(ofKind(manifests, 'AuthorizationPolicy').map((p) => [p.metadata.name, p.spec.rules])).toEqual([['reviews', [{ from: [{ source: { namespaces: ['ops'] } }] }]]]);
    expect(release.waypointAuthorizationPolicy).toBeUndefined();
  });

  test('experimentalRetries: retry and the per-try backendRequest timeout on every rule (experimental schema)', () => {
    const router = TrafficRouter.gatewayApi({ experimentalRetries: true });
    const headerStage = ReleaseStage.custom({
      name: 'pin', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], headerRoutes: [{ header: 'x-version', value: 'v2', version: 'v2' }],
    });
    const { manifests } = synth(headerStage, { router, retries: { attempts: 2, perTryTimeout: Duration.millis(1500), retryOn: 'gateway-error,connect-failure,retriable-4xx' } });
    const rules = only(manifests, 'HTTPRoute').spec.rules;
    for (const rule of rules) {
      expect(rule.retry).toEqual({ attempts: 2, codes: [409, 502, 503, 504] });
      expect(rule.timeouts).toEqual({ request: '10s', backendRequest: '1s500ms' });
    }
    expect(schemaViolations(manifests, true)).toEqual([]);
    // Valid against the experimental channel only: the validator says which channel it used.
    expect(ManifestSchemas.report(manifests).notes.some((n) => /experimental/i.test(n.message))).toBe(true);
  });

  test('experimentalRetries without retries: the release defaults (3 attempts, 2s per try)', () => {
    const { manifests } = synth(stage, { router: TrafficRouter.gatewayApi({ experimentalRetries: true }) });
    const rule = only(manifests, 'HTTPRoute').spec.rules[0];
    expect(rule.retry).toEqual({ attempts: 3, codes: [502, 503, 504] });
    expect(rule.timeouts).toEqual({ request: '10s', backendRequest: '2s' });
  });

  test('experimentalRetries with connection errors only: no codes key (the YAML would say `codes: null`)', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test', { namespace: 'bookinfo' });
    new MeshRelease(chart, 'reviews', {
      app: 'reviews',
      port: 9080,
      versions: VERSIONS,
      stage,
      router: TrafficRouter.gatewayApi({ experimentalRetries: true }),
      retries: { attempts: 1, perTryTimeout: Duration.seconds(1), retryOn: 'connect-failure,reset' },
    });
    const yaml = app.synthYaml();
    expect(yaml).toContain('attempts: 1');
    expect(yaml).not.toContain('codes');
    expect(yaml).not.toMatch(/: null$/m);
  });

  test('without experimentalRetries: no retry written, and the timeout is not held to retries it does not write', () => {
    // 5s is below the release's default retries (4 tries x 2s), which this router leaves to the implementation
    const { manifests } = synth(stage, { timeout: Duration.seconds(5) });
    const rule = only(manifests, 'HTTPRoute').spec.rules[0];
    expect(rule.timeouts).toEqual({ request: '5s' });
    expect(rule.retry).toBeUndefined();
  });

  test('apply order: per-version Services first, the HTTPRoute last', () => {
    const { manifests } = synth(stage, { applyOrder: ApplyOrder.ARGO_CD });
    const wave = (m: any) => `${m.kind}/${m.metadata.name}=${m.metadata.annotations['argocd.argoproj.io/sync-wave']}`;
    expect(manifests.filter((m) => ['Service', 'HTTPRoute'].includes(m.kind)).map(wave))
      .toEqual(['Service/reviews=0', 'Service/reviews-v1=-1', 'Service/reviews-v2=-1', 'HTTPRoute/reviews=1']);
  });

  test('appProtocol is set on every Service port', () => {
    const { manifests } = synth(stage, { appProtocol: 'http' });
    expect(ofKind(manifests, 'Service').map((s) => s.spec.ports[0].appProtocol)).toEqual(['http', 'http', 'http']);
  });
});

describe('TrafficRouter.gatewayApi() refusals', () => {
  const stage = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] }).stage('shift-10');
  type Case = [string, Partial<MeshReleaseProps>, string];
  const cases: Case[] = [
    ['retries without the opt-in', { retries: { attempts: 2 } },
      "[test/reviews] 'retries' needs TrafficRouter.gatewayApi({ experimentalRetries: true }) (HTTPRoute retry is in the experimental channel of Gateway API 1.6, whose CRDs the cluster must run): set it, or drop retries (the routes then get the implementation's default retries), got {\"attempts\":2}"],
    ...[TrafficRouter.gatewayApi(), TrafficRouter.gatewayApi({ experimentalRetries: true })].map((router, i): Case => [
      `retries turned off (attempts 0)${i ? ' with experimentalRetries' : ''}: an HTTPRoute cannot say so`, { router, retries: { attempts: 0 } },
      "[test/reviews] 'retries.attempts' must be at least 1 with TrafficRouter.gatewayApi(): an HTTPRoute cannot turn retries off (its experimental retry.attempts is at least 1, and a route without retry gets the implementation's default: Istio retries twice); drop retries to keep that default, or use TrafficRouter.istio() (VirtualService retries.attempts 0), got 0",
    ]),
    ['a retry condition with no Gateway API equivalent', { router: TrafficRouter.gatewayApi({ experimentalRetries: true }), retries: { retryOn: 'gateway-error,retriable-headers' } },
      "[test/reviews] 'retries.retryOn' must list conditions an HTTPRoute retry can express (gateway-error, 5xx, retriable-4xx, connect-failure, refused-stream, reset); 'retriable-headers' has no Gateway API equivalent, got \"gateway-error,retriable-headers\""],
    ['hostnames without gateways', { router: TrafficRouter.gatewayApi({ hostnames: ['reviews.example.com'] }) },
      "[test/reviews] 'router.hostnames' applies only with gateways (a route attached to the Service answers for the Service's own name): add gateways, or drop hostnames, got [\"reviews.example.com\"]"],
    ['an empty gateways list', { router: TrafficRouter.gatewayApi({ gateways: [] }) },
      "[test/reviews] 'router.gateways' must name at least one Gateway (leave it out to attach the HTTPRoute to the Service), got []"],
    ['a bad Gateway name', { router: TrafficRouter.gatewayApi({ gateways: [{ name: 'Public' }] }) },
      "[test/reviews] 'router.gateways[].name' must be a Gateway name (a DNS-1123 subdomain), got \"Public\""],
    ['a hostname with a port', { router: TrafficRouter.gatewayApi({ gateways: [{ name: 'public' }], hostnames: ['reviews.example.com:443'] }) },
      "[test/reviews] 'router.hostnames' must be lowercase DNS names, optionally starting with '*.' (no IP address, no port), e.g. 'shop.example.com', got \"reviews.example.com:443\""],
    ['a bad waypoint name', { router: TrafficRouter.gatewayApi({ ambientWaypoint: 'Waypoint' }) },
      "[test/reviews] 'router.ambientWaypoint' must be the name of a waypoint Gateway (a DNS-1123 label), got \"Waypoint\""],
    ['sidecar options in ambient mode', { router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }), defaults: { sidecarDrainDuration: Duration.seconds(5) } },
      "[test/reviews] 'defaults.sidecarDrainDuration' must be left out with router.ambientWaypoint (ambient mode has no sidecar: the sidecar lifecycle annotations are dropped), got 5s"],
    ['allowedCallers in ambient mode with 16 versions (the waypoint policy would target 17 Services)',
      { router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }), allowedCallers: { namespaces: ['ops'] }, versions: Array.from({ length: 16 }, (_, i) => ({ ...VERSIONS[0], version: `v${i + 1}` })) },
      "[test/reviews] 'versions' must list at most 15 versions with allowedCallers and router.ambientWaypoint: the waypoint's AuthorizationPolicy targets the app's Service and each version's Service (targetRefs maxItems 16); list fewer versions, or drop allowedCallers, got 16"],
    ['proxyLifecycle on a version in ambient mode', { router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }), versions: [{ ...VERSIONS[0], proxyLifecycle: true }, VERSIONS[1]] },
      "[test/reviews] 'versions[v1].proxyLifecycle' must be left out with router.ambientWaypoint"],
  ];

  test.each(cases)('fails on %s, before any child is created', (_, props, message) => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'bookinfo' });
    expect(() => new MeshRelease(chart, 'reviews', { app: 'reviews', port: 9080, versions: VERSIONS, stage, router: TrafficRouter.gatewayApi(), ...props })).toThrow(message);
    expect(chart.node.findAll().filter((c) => c instanceof ApiObject)).toEqual([]);
  });

  test.each([
    [{ portName: 'tcp-db' }, 'tcp'],
    [{ portName: 'mongo' }, 'mongo'],
    [{ appProtocol: 'tcp' }, 'tcp'],
  ])('fails on %j: the HTTPRoute attached to the Service would do nothing (the protocol rule, as with TrafficRouter.istio())', (props, protocol) => {
    expect(attempt(stage, props)).toThrow(`[test/reviews] stage 'shift-10' (after 'deploy') is unsafe to apply (1 violation):
[protocol] HTTPRoute/reviews: is attached to Service bookinfo/reviews, whose port is ${protocol}: Istio applies a route attached to a Service to its HTTP ports only, so its weights do nothing and the Service reaches every version. Fix: name the Service port 'http' (or set appProtocol http, http2 or grpc), or route the port with a TCPRoute`);
  });

  test('a TCP port behind Gateways is routed: the Gateway\'s HTTP listener applies the weights', () => {
    expect(catchAll(synth(stage, { router: INGRESS, portName: 'tcp-db' }).manifests)).toEqual({ 'reviews-v1': 90, 'reviews-v2': 10 });
  });

  test('fails on a timeout a Gateway API duration cannot hold', () => {
    expect(attempt(stage, { timeout: Duration.hours(100000) }))
      .toThrow("[test/reviews] 'timeout' must be below 99999h with TrafficRouter.gatewayApi() (a Gateway API duration), got 360000000s");
  });
});
