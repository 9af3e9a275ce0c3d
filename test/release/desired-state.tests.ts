/**
 * The desired state (src/release/_desired-state.ts): ONE pure function of a release's props and a stage, which
 * MeshRelease emits and every check reads. Tested here directly, without constructs: the props checked once, and at
 * a stage the Service, the versions (traffic floors applied), each router's objects with their roles, and the
 * manifests as the safety check reads them.
 */
import { Duration } from 'cdk8s';
import { MeshReleaseProps, ReleasePlan, ReleaseStage, Scaling, TrafficRouter } from '../../src';
import { ResolvedRelease } from '../../src/release/_desired-state';

const VERSIONS = [{ version: 'v1', image: 'example/web:1' }, { version: 'v2', image: 'example/web:2' }];
const canary = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });

/** A release `web` at path chart/web, in a chart of namespace `shop` unless told. */
function release(props: Partial<MeshReleaseProps> = {}, chart: { namespace?: string } = { namespace: 'shop' }): ResolvedRelease {
  return new ResolvedRelease('chart/web', { app: 'web', port: 8080, versions: VERSIONS, stage: canary.stages[0], ...props }, chart.namespace);
}
const kinds = (manifests: any[]) => manifests.map((m) => `${m.kind}/${m.metadata.name}`);

describe('ResolvedRelease: the props, checked once', () => {
  test("the namespace is the props', else the chart's, else 'default'; the host is the Service's FQDN in it", () => {
    expect(release()).toMatchObject({ namespace: 'shop', host: 'web.shop.svc.cluster.local', clusterDomain: 'cluster.local' });
    expect(release({ namespace: 'shop' }, {}).namespace).toBe('shop');
    expect(release({}, {}).namespace).toBe('default');
    expect(release({ clusterDomain: 'corp.internal' }).host).toBe('web.shop.svc.corp.internal');
  });

  test('invalid props are refused with the release path and the prop', () => {
    expect(() => release({ namespace: 'other' })).toThrow(/chart\/web.*namespace.*must match the chart's namespace 'shop'/s);
    expect(() => release({ versions: [...VERSIONS, VERSIONS[0]] })).toThrow(/versions.*must list each version once/s);
    expect(() => release({ app: 'Web' })).toThrow(/chart\/web.*app/s);
    expect(() => release({ timeout: Duration.seconds(2) })).toThrow(/timeout.*must cover every try/s);
  });

  test('checkVersionsKnown names the first version the stage deploys that is not listed', () => {
    const r = release({ versions: [VERSIONS[0]] });
    expect(() => r.checkVersionsKnown(canary.stage('stable'), 'versions', () => 'list it')).not.toThrow();
    expect(() => r.checkVersionsKnown(canary.stage('deploy'), 'versions', (v) => `list '${v}'`)).toThrow(/list 'v2'/);
  });

  test("the router's context carries the stage's name and the plan's stage names", () => {
    const ctx = release().context(canary.stage('shift-10'));
    expect(ctx.stageAnnotations).toEqual({ 'mesh-release.io/stage': 'shift-10', 'mesh-release.io/plan-stages': canary.stageNames.join(',') });
    expect(ctx).toMatchObject({ app: 'web', namespace: 'shop', port: 8080, portName: 'http', host: 'web.shop.svc.cluster.local' });
    expect(ctx.timeout.toSeconds()).toBe(10);
    expect(ctx.retries).toMatchObject({ attempts: 3, retryOn: 'gateway-error,connect-failure,refused-stream' });
  });
});

describe('ResolvedRelease.desiredState', () => {
  test('a stage of the Istio router: the version-free Service, the deployed versions, the DestinationRule and the VirtualService', () => {
    const state = release().desiredState(canary.stage('shift-10'));

    expect(state.stage.name).toBe('shift-10');
    expect(state.service.selector).toEqual({ app: 'web' });
    expect(state.service.labels).toEqual({ 'app': 'web', 'app.kubernetes.io/name': 'web' });
    expect(state.service.annotations).toBeUndefined(); // the VirtualService carries the stage
    expect(state.versions.map((v) => [v.version, v.props.image, v.resolved.name])).toEqual([['v1', 'example/web:1', 'web-v1'], ['v2', 'example/web:2', 'web-v2']]);
    expect(state.objects.map((o) => [o.id, o.role])).toEqual([['DestinationRule', 'routable'], ['VirtualService', 'route']]);
    expect(state.objects[0].json.spec.subsets.map((s: any) => s.name)).toEqual(['v1', 'v2']);
    expect(state.objects[1].json.metadata.annotations).toMatchObject({ 'mesh-release.io/stage': 'shift-10' });
  });

  test('manifests: every object as the check reads it, in emission order, each in the namespace', () => {
    const state = release().desiredState(canary.stage('shift-10'));
    expect(kinds(state.manifests)).toEqual([
      'Service/web',
      'Deployment/web-v1', 'HorizontalPodAutoscaler/web-v1',
      'Deployment/web-v2', 'HorizontalPodAutoscaler/web-v2',
      'DestinationRule/web', 'VirtualService/web',
    ]);
    expect(new Set(state.manifests.map((m) => m.metadata.namespace))).toEqual(new Set(['shop']));
    expect(state.manifests[0]).toMatchObject({ spec: state.service.json.spec });
  });

  test('only the versions the stage deploys', () => {
    expect(release().desiredState(canary.stage('stable')).versions.map((v) => v.version)).toEqual(['v1']);
    expect(release().desiredState(canary.stage('retire')).versions.map((v) => v.version)).toEqual(['v2']);
  });

  test('the same stage gives equal objects, whatever was asked before', () => {
    const r = release({ strictMtls: true });
    const first = r.desiredState(canary.stage('shift-50'));
    r.desiredState(canary.stage('stable'));
    r.desiredState(canary.stage('shift-10'));
    const again = r.desiredState(canary.stage('shift-50'));
    expect(again.manifests).toEqual(first.manifests);
    expect(again.objects).toEqual(first.objects);
    expect(again.versions.map((v) => v.props)).toEqual(first.versions.map((v) => v.props));
    // AND a second release of the same props says the same
    expect(release({ strictMtls: true }).desiredState(canary.stage('shift-50')).manifests).toEqual(first.manifests);
  });

  test("traffic floors: the candidate's autoscaler is raised ahead of its traffic, unless scaleWithTraffic is false", () => {
    const versions = [{ ...VERSIONS[0], scaling: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) }, VERSIONS[1]];
    const hpaMin = (state: any) => state.manifests.find((m: any) => m.kind === 'HorizontalPodAutoscaler' && m.metadata.name === 'web-v2').spec.minReplicas;

    const raised = release({ versions }).desiredState(canary.stage('shift-10'));
    expect(raised.versions[1].props.scaling).toMatchObject({ minReplicas: 5, autoscaled: true });
    expect(raised.versions[1].resolved.scaling.minReplicas).toBe(5);
    expect(hpaMin(raised)).toBe(5);

    const own = release({ versions, scaleWithTraffic: false }).desiredState(canary.stage('shift-10'));
    expect(own.versions[1].props.scaling).toBeUndefined();
    expect(hpaMin(own)).toBe(Scaling.DEFAULT_MIN_REPLICAS);
  });

  test("the release's defaults and each version's options are merged into the version's props", () => {
    const state = release({
      defaults: { scaling: Scaling.fixed(3), labels: { team: 'shop' } },
      versions: [VERSIONS[0], { ...VERSIONS[1], scaling: Scaling.fixed(1) }],
      scaleWithTraffic: false,
    }).desiredState(canary.stage('deploy'));
    expect(state.versions.map((v) => [v.version, v.props.scaling?.minReplicas, v.props.labels])).toEqual([['v1', 3, { team: 'shop' }], ['v2', 1, { team: 'shop' }]]);
    expect(state.manifests.filter((m) => m.kind === 'Deployment').map((d) => d.spec.replicas)).toEqual([3, 1]);
  });

  test('the Gateway API router: a Service per routable version (routable), then the HTTPRoute (route)', () => {
    const state = release({ router: TrafficRouter.gatewayApi() }).desiredState(canary.stage('shift-10'));
    expect(state.objects.map((o) => [o.id, o.role, o.version])).toEqual([
      ['Service-v1', 'routable', 'v1'], ['Service-v2', 'routable', 'v2'], ['HTTPRoute', 'route', undefined],
    ]);
    expect(state.objects[1].json.spec.selector).toEqual({ app: 'web', version: 'v2' });
    expect(state.objects[2].json.spec.rules.at(-1).backendRefs).toEqual([
      { group: '', kind: 'Service', name: 'web-v1', port: 8080, weight: 90 }, { group: '', kind: 'Service', name: 'web-v2', port: 8080, weight: 10 },
    ]);
    expect(state.service.selector).toEqual({ app: 'web' });
  });

  test('the Gateway API router in ambient mode: the Services use the waypoint, the versions have no sidecar lifecycle', () => {
    const state = release({ router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }) }).desiredState(canary.stage('shift-10'));
    expect(state.service.labels).toMatchObject({ 'istio.io/use-waypoint': 'waypoint' });
    expect(state.objects[0].json.metadata.labels).toMatchObject({ 'istio.io/use-waypoint': 'waypoint' });
    expect(state.versions.map((v) => [v.props.proxyLifecycle, v.resolved.sidecarDrainDuration])).toEqual([[false, undefined], [false, undefined]]);
  });

  test('the selector switch: no routing object; the Service selects the live version and carries the stage', () => {
    const plan = ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' });
    const r = release({ router: TrafficRouter.serviceSelector(), stage: plan.stages[0] });
    const before = r.desiredState(plan.stage('stable'));
    const after = r.desiredState(plan.stage('shift-100'));
    expect(after.objects).toEqual([]);
    expect(before.service.selector).toEqual({ app: 'web', version: 'v1' });
    expect(after.service.selector).toEqual({ app: 'web', version: 'v2' });
    expect(after.service.annotations).toEqual({ 'mesh-release.io/stage': 'shift-100', 'mesh-release.io/plan-stages': plan.stageNames.join(',') });
    expect(kinds(after.manifests)).toEqual(['Service/web', 'Deployment/web-v1', 'HorizontalPodAutoscaler/web-v1', 'Deployment/web-v2', 'HorizontalPodAutoscaler/web-v2']);
  });

  test('a stage the router cannot express is refused by the router, naming the stage', () => {
    expect(() => release({ router: TrafficRouter.serviceSelector() }).desiredState(canary.stage('shift-10')))
      .toThrow(/\[chart\/web\] 'stage' must send 0% or 100% to each version.*got "shift-10: v1=90, v2=10"/s);
  });

  test("mesh policies come last, with the role 'policy'", () => {
    const state = release({ strictMtls: true, allowedCallers: { namespaces: ['front'] } }).desiredState(ReleaseStage.stable('v1'));
    expect(state.objects.map((o) => [o.id, o.role])).toEqual([
      ['DestinationRule', 'routable'], ['VirtualService', 'route'], ['PeerAuthentication', 'policy'], ['AuthorizationPolicy', 'policy'],
    ]);
    expect(kinds(state.manifests).slice(-2)).toEqual(['PeerAuthentication/web', 'AuthorizationPolicy/web']);
  });
});
