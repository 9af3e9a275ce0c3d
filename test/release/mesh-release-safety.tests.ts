/**
 * MeshRelease refuses what it checks: the objects it emits, at construction (a clear error
 * naming the construct path) and again at synth time (node validation), user patches included.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, Duration, JsonPatch, Testing, YamlOutputType } from 'cdk8s';
import * as YAML from 'yaml';
import {
  MeshRelease, MeshReleaseProps, ReleasePlan, SafetyCheck, SafetyRule, Scaling, Severity, TlsMode, TrafficRouter,
} from '../../src';

const PLAN = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
const VERSIONS = [{ version: 'v1', image: 'example/helloworld:v1' }, { version: 'v2', image: 'example/helloworld:v2' }];

function props(stage: string, extra: Partial<MeshReleaseProps> = {}): MeshReleaseProps {
  return { app: 'helloworld', port: 3000, versions: VERSIONS, stage: PLAN.stage(stage), ...extra };
}

/** A chart of an App whose synthYaml runs validations; App output in a temp dir. */
function appChart(): { app: App; chart: Chart } {
  const app = Testing.app();
  return { app, chart: new Chart(app, 'test') };
}

/** The error thrown by `build`, or fails. */
function errorOf(build: () => void): Error {
  try {
    build();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('the construction-time check', () => {
  test('an unsafe emitted object throws an error naming the construct path, stage, rule, object, value and fix', () => {
    // GIVEN podAnnotations writing a proxy config whose drain (120s) does not fit the 60s grace period
    const { chart } = appChart();
    const versions = VERSIONS.map((v) => ({
      ...v,
      proxyLifecycle: false,
      terminationGracePeriod: Duration.seconds(60),
      podAnnotations: { 'proxy.istio.io/config': '{"terminationDrainDuration":"120s"}' },
    }));

    // WHEN building the release
    const error = errorOf(() => new MeshRelease(chart, 'helloworld', props('shift-10', { versions })));

    // THEN the message names where, what and how to fix it
    expect(error.message).toContain("[test/helloworld] stage 'shift-10' (after 'deploy') is unsafe to apply");
    expect(error.message).toContain('[termination-budget] Deployment/helloworld-v1: terminationGracePeriodSeconds 60 is shorter than preStop sleep 10s + sidecar drain 120s (terminationDrainDuration)');
    expect(error.message).toContain('Fix: raise terminationGracePeriodSeconds to at least 130');
    expect(error.message).toContain('Deployment/helloworld-v2');
  });

  const UNSAFE_VERSIONS = VERSIONS.map((v) => ({ ...v, proxyLifecycle: false, podAnnotations: { 'proxy.istio.io/config': 'terminationDrainDuration: 120s' } }));

  test('a thrown release leaves nothing in the tree', () => {
    // GIVEN a chart with another object, and a release that throws
    const { chart } = appChart();
    new ApiObject(chart, 'config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config' } });
    errorOf(() => new MeshRelease(chart, 'helloworld', props('stable', { versions: UNSAFE_VERSIONS })));

    // WHEN / THEN only the ConfigMap is left, and the app synthesizes
    expect(chart.node.tryFindChild('helloworld')).toBeUndefined();
    expect(Testing.synth(chart).map((m) => m.kind)).toEqual(['ConfigMap']);
  });

  test('after a thrown release, the corrected release can use the same app in the same chart', () => {
    const { chart } = appChart();
    errorOf(() => new MeshRelease(chart, 'helloworld', props('stable', { versions: UNSAFE_VERSIONS })));
    expect(() => new MeshRelease(chart, 'helloworld', props('stable'))).not.toThrow();
  });

  test('two MeshReleases of one app in one chart are refused', () => {
    const { chart } = appChart();
    new MeshRelease(chart, 'first', props('stable'));
    expect(() => new MeshRelease(chart, 'second', props('stable')))
      .toThrow(/test\/second.*app.*must be released once per namespace: test\/first already releases 'helloworld' in namespace 'default'/s);
  });

  // Names that run together across releases (app foo + version bar-v1, app foo-bar + version v1: both
  // emit Deployment, HPA and PDB foo-bar-v1), or one app released in two charts of one App: the
  // synth-time validation indexes every object of the app.
  const single = (version: string) => ReleasePlan.custom([{ name: 'stable', deployed: [version], routable: [version], weights: [{ version, weight: 100 }] }]).stage('stable');

  test('app foo + version bar-v1 and app foo-bar + version v1 in one chart do not synthesize', () => {
    const { app, chart } = appChart();
    new MeshRelease(chart, 'foo', { app: 'foo', port: 80, versions: [{ version: 'bar-v1', image: 'example/foo:1' }], stage: single('bar-v1') });
    new MeshRelease(chart, 'foo-bar', { app: 'foo-bar', port: 80, versions: [{ version: 'v1', image: 'example/foo-bar:1' }], stage: single('v1') });
    expect(() => app.synthYaml()).toThrow(/\[duplicate-object\] Deployment\/foo-bar-v1 in namespace 'default' is also defined by test\/foo-bar\/v1\/Deployment/);
  });

  test('one app released in two charts of one App (same namespace) does not synthesize', () => {
    const { app, chart } = appChart();
    new MeshRelease(chart, 'helloworld', props('stable'));
    new MeshRelease(new Chart(app, 'other'), 'helloworld', props('stable'));
    expect(() => app.synthYaml()).toThrow(/duplicate-object|released once/);
  });

  test('strictMtls with trafficPolicy.tlsMode DISABLE is refused', () => {
    const { chart } = appChart();
    const error = errorOf(() => new MeshRelease(chart, 'helloworld', props('stable', { strictMtls: true, router: TrafficRouter.istio({ trafficPolicy: { tlsMode: TlsMode.DISABLE } }) })));
    expect(error.message).toContain('[mtls-mode] DestinationRule/helloworld trafficPolicy: sets tls mode DISABLE');
    expect(error.message).toContain('PeerAuthentication/helloworld requires to use mutual TLS (STRICT)');
  });

  test("strictMtls with one version's trafficPolicy.tlsMode DISABLE is refused, naming the subset", () => {
    const { chart } = appChart();
    const router = TrafficRouter.istio({ subsetTrafficPolicies: { v2: { tlsMode: TlsMode.DISABLE } } });
    const error = errorOf(() => new MeshRelease(chart, 'helloworld', props('make-routable', { strictMtls: true, router })));
    expect(error.message).toContain("[mtls-mode] DestinationRule/helloworld subset 'v2': sets tls mode DISABLE");
  });

  test('tlsMode DISABLE without strictMtls is allowed', () => {
    const { chart } = appChart();
    expect(() => new MeshRelease(chart, 'helloworld', props('stable', { router: TrafficRouter.istio({ trafficPolicy: { tlsMode: TlsMode.DISABLE } }) }))).not.toThrow();
  });

  test.each([
    [{ portName: 'tcp' }, 'tcp'],
    [{ portName: 'mongo' }, 'mongo'],
    [{ portName: 'https' }, 'https'],
    [{ portName: 'tls' }, 'tls'],
    [{ appProtocol: 'tcp' }, 'tcp'],
  ])('%j is refused: http routes do nothing on that port', (extra, protocol) => {
    const { chart } = appChart();
    const error = errorOf(() => new MeshRelease(chart, 'helloworld', props('stable', extra)));
    expect(error.message).toMatch(new RegExp(`(\\[protocol\\] VirtualService/helloworld: has http routes .* whose Service ports are ${protocol})|(portName|appProtocol)`));
  });

  test.each([[{ portName: 'http-web' }], [{ portName: 'grpc' }], [{ appProtocol: 'http' }]])('%j is accepted', (extra) => {
    const { chart } = appChart();
    expect(() => new MeshRelease(chart, 'helloworld', props('stable', extra))).not.toThrow();
  });

  test('gateways without mesh is a warning in release.warnings, not an error', () => {
    // GIVEN a release bound to a public gateway only
    const { app, chart } = appChart();
    const release = new MeshRelease(chart, 'helloworld', props('shift-10', { router: TrafficRouter.istio({ gateways: ['istio-system/public-gateway'], hosts: ['helloworld', 'helloworld.example.com'] }) }));

    // WHEN / THEN the warning is kept, and the app synthesizes
    expect(release.warnings).toEqual([expect.objectContaining({
      rule: SafetyRule.GATEWAYS_WITHOUT_MESH,
      severity: Severity.WARNING,
      object: 'VirtualService/helloworld',
      fix: "add 'mesh' to gateways (or route in-mesh callers with a VirtualService of their own)",
    })]);
    expect(release.violations()).toEqual(release.warnings);
    expect(() => app.synthYaml()).not.toThrow();
  });

  test('a safe release has no warnings and no violations', () => {
    const { chart } = appChart();
    const release = new MeshRelease(chart, 'helloworld', props('shift-50'));
    expect(release.warnings).toEqual([]);
    expect(release.violations()).toEqual([]);
  });
});

describe('the synth-time validation', () => {
  test("a user's JSON patch routing to subset v9 makes app.synthYaml() and Testing.synth() throw; violations() and ApiObject.toJson() do not validate", () => {
    // GIVEN a safe release, then a user patch on its VirtualService
    const { app, chart } = appChart();
    const release = new MeshRelease(chart, 'helloworld', props('shift-10'));
    ApiObject.of(release.virtualService).addJsonPatch(JsonPatch.replace('/spec/http/0/route/1/destination/subset', 'v9'));

    // WHEN / THEN violations() sees the patch
    expect(release.violations().map((v) => v.rule)).toEqual([SafetyRule.SUBSET_DEFINED]);
    // AND synthesizing the app runs the validation, which names the path, stage, rule and fix
    expect(() => app.synthYaml()).toThrow(/\[test\/helloworld\] stage 'shift-10' as synthesized: \[subset-defined\] VirtualService\/helloworld http\[0\]: routes to subset 'v9'.*Fix: add subset 'v9'/s);
    // AND so does Testing.synth: in cdk8s 2.70 Chart.toJson() validates the whole app first
    expect(() => Testing.synth(chart)).toThrow(/Validation failed.*\[subset-defined\]/s);
    // AND the objects themselves (ApiObject.toJson, no validation) carry the patch, which SafetyCheck flags
    const manifests = chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map((o) => o.toJson());
    expect(SafetyCheck.errors(SafetyCheck.check(manifests)).map((v) => v.rule)).toEqual([SafetyRule.SUBSET_DEFINED]);
  });

  test('a patch setting replicas 0 on a routed version is refused at synth time', () => {
    const { app, chart } = appChart();
    const release = new MeshRelease(chart, 'helloworld', props('shift-50', { versions: VERSIONS.map((v) => ({ ...v, scaling: Scaling.fixed(2) })) }));
    ApiObject.of(release.versionedApps[1].deployment).addJsonPatch(JsonPatch.replace('/spec/replicas', 0));
    expect(() => app.synthYaml()).toThrow(/\[capacity\].*subset 'v2'.*replicas: 0/s);
  });

  test('an unpatched release synthesizes, and its YAML passes SafetyCheck', () => {
    const { app, chart } = appChart();
    new MeshRelease(chart, 'helloworld', props('shift-50'));
    const manifests = YAML.parseAllDocuments(app.synthYaml()).map((d) => d.toJS());
    expect(SafetyCheck.check(manifests)).toEqual([]);
  });
});

describe('floors follow traffic both ways (scaleWithTraffic)', () => {
  /** minReplicas of each version's HPA at a stage. */
  function floors(stage: string): { [version: string]: number } {
    const { chart } = appChart();
    const versions = [{ ...VERSIONS[0], scaling: Scaling.autoscale({ minReplicas: 2, maxReplicas: 20 }) },
      { ...VERSIONS[1], scaling: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) }];
    new MeshRelease(chart, 'helloworld', props(stage, { versions }));
    return Object.fromEntries(Testing.synth(chart).filter((m) => m.kind === 'HorizontalPodAutoscaler')
      .map((h) => [h.metadata.name.replace('helloworld-', ''), h.spec.minReplicas]));
  }

  test('with v2 at minReplicas 10, v1 keeps the floor of the traffic it had a stage before, so rolling back lands on enough pods', () => {
    // shift-10 (v1 90%) -> shift-50 -> shift-100: v1 keeps ceil(10 x 90%) = 9 at shift-50 and ceil(10 x 50%) = 5 at shift-100
    expect(floors('shift-10')).toEqual({ v1: 10, v2: 10 }); // deploy (v1 100%) is the previous stage
    expect(floors('shift-50')).toEqual({ v1: 9, v2: 10 });
    expect(floors('shift-100')).toEqual({ v1: 5, v2: 10 });
    expect(floors('unroute')).toEqual({ v1: 2, v2: 10 });
  });

  test('applying shift-50 after shift-100 (the roll back) is safe, and shift-100 after shift-50 has no rollback warning', () => {
    const synth = (stage: string) => {
      const { chart } = appChart();
      const versions = [VERSIONS[0], { ...VERSIONS[1], scaling: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) }];
      new MeshRelease(chart, 'helloworld', props(stage, { versions }));
      return Testing.synth(chart);
    };
    expect(SafetyCheck.check(synth('shift-100'), synth('shift-50'))).toEqual([]);
    expect(SafetyCheck.check(synth('shift-50'), synth('shift-100'))).toEqual([]);
  });
});

describe('the synth-time check, from a hostile review', () => {
  test('a patch renaming the new version\'s Deployment is refused: the previous stage is made from the props, not from the patched objects', () => {
    const { app, chart } = appChart();
    const release = new MeshRelease(chart, 'helloworld', props('shift-10'));
    ApiObject.of(release.versionedApps[1].deployment).addJsonPatch(JsonPatch.replace('/metadata/name', 'helloworld-v2-renamed'));
    expect(() => app.synthYaml()).toThrow(/as synthesized: \[destination-ready\]/);
  });

  test('after a synth that failed validation, violations() returns, and so does ApiObject.toJson()', () => {
    const { app, chart } = appChart();
    const release = new MeshRelease(chart, 'helloworld', props('shift-10'));
    ApiObject.of(release.virtualService).addJsonPatch(JsonPatch.replace('/spec/http/0/route/1/destination/subset', 'v9'));
    // Another construct of the chart fails its validation: cdk8s stops before rendering anything.
    new ApiObject(chart, 'config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config' } }).node.addValidation({ validate: () => ['not ready'] });
    expect(() => app.synthYaml()).toThrow(/not ready/);
    expect(release.violations().map((v) => v.rule)).toContain(SafetyRule.SUBSET_DEFINED);
    expect(() => chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map((o) => o.toJson())).not.toThrow();
  });

  test.each([YamlOutputType.FILE_PER_CHART, YamlOutputType.FILE_PER_RESOURCE, YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE])(
    'an unsafe release in the second of two charts makes app.synth() (%s) write nothing', (yamlOutputType) => {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'unsafe-'));
      const app = new App({ outdir, yamlOutputType });
      new MeshRelease(new Chart(app, 'a', { namespace: 'shop' }), 'first', { ...props('shift-10'), app: 'first' });
      const release = new MeshRelease(new Chart(app, 'b', { namespace: 'shop' }), 'helloworld', props('shift-10'));
      ApiObject.of(release.virtualService).addJsonPatch(JsonPatch.replace('/spec/http/0/route/1/destination/subset', 'v9'));
      expect(() => app.synth()).toThrow(/\[b\/helloworld\].*\[subset-defined\]/s);
      expect(fs.readdirSync(outdir)).toEqual([]);
      fs.rmSync(outdir, { recursive: true, force: true });
    });
});

describe('a version switched from Scaling.fixed(n) to an autoscaler while it gets traffic (hostile review)', () => {
  // stable -> make-routable -> deploy -> shift-90; v1 runs Scaling.fixed(10) up to deploy, an autoscaler at shift-90.
  const CUSTOM = ReleasePlan.custom([
    { name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'deploy', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
    { name: 'shift-90', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 90 }, { version: 'v2', weight: 10 }] },
  ]);
  const FIXED = Scaling.fixed(10);
  const AUTOSCALED = Scaling.autoscale({ minReplicas: 2, maxReplicas: 20 });

  /** The objects of one stage, as the app writes them with v1's scaling of that stage. */
  function synth(stage: string, v1: Scaling): any[] {
    const chart = Testing.chart();
    new MeshRelease(chart, 'helloworld', {
      app: 'helloworld',
      port: 3000,
      stage: CUSTOM.stage(stage),
      versions: [{ ...VERSIONS[0], scaling: v1 }, VERSIONS[1]],
    });
    return Testing.synth(chart);
  }

  test('the YAML of shift-90 after the YAML of deploy is refused: v1 drops spec.replicas 10 while it serves 100%, then 90%', () => {
    // GIVEN deploy with v1 at replicas: 10, shift-90 with v1 on an HPA and no replicas (each stage synthesizes alone:
    // a MeshRelease makes its previous stage from its own props, where v1 is autoscaled too)
    const deploy = synth('deploy', FIXED);
    const shift90 = synth('shift-90', AUTOSCALED);
    const v1 = (objects: any[]) => objects.find((m) => m.kind === 'Deployment' && m.metadata.name === 'helloworld-v1');
    expect(v1(deploy).spec.replicas).toBe(10);
    expect(v1(shift90).spec.replicas).toBeUndefined();
    expect(shift90.find((m) => m.kind === 'HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe('helloworld-v1');

    // WHEN checking the transition forward, and the roll back
    const forward = SafetyCheck.check(shift90, deploy);
    const back = SafetyCheck.check(deploy, shift90);

    // THEN forward is refused with the Deployment, the count, why and the fix (and rollback-capacity warns that v1 keeps
    // only 2 pods guaranteed); the roll back sets the field again: fine
    expect(SafetyCheck.errors(forward)).toEqual([{
      rule: SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED,
      severity: Severity.ERROR,
      object: 'Deployment/helloworld-v1',
      message: "sets spec.replicas: 10 in the previous stage and leaves it out in this one, while subset 'v1' of helloworld.default.svc.cluster.local "
        + 'receives traffic in both stages: applying this stage removes the field (kubectl apply: it is in the last-applied configuration; '
        + 'server-side apply: its field manager owned it), and the API server sets the default, 1 pod, until an autoscaler scales it back',
      fix: 'keep spec.replicas: 10 (Scaling.fixed(10)) on Deployment/helloworld-v1 until a stage where its version gets no traffic, or hand the '
        + 'field over first (kubectl apply edit-last-applied to take replicas out of the last-applied configuration, or a server-side apply '
        + 'field-manager transfer), see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling '
        + 'and https://kubernetes.io/docs/reference/using-api/server-side-apply/#transferring-ownership',
    }]);
    expect(SafetyCheck.errors(back)).toEqual([]);
  });

  test('switching while v1 gets no traffic (in neither stage) is fine', () => {
    const before = ReleasePlan.custom([
      { name: 'all-v2', deployed: ['v1', 'v2'], weights: [{ version: 'v2', weight: 100 }] },
      { name: 'unrouted', deployed: ['v1', 'v2'], weights: [{ version: 'v2', weight: 100 }] },
    ]);
    const stage = (name: string, v1: Scaling) => {
      const chart = Testing.chart();
      new MeshRelease(chart, 'helloworld', { app: 'helloworld', port: 3000, stage: before.stage(name), versions: [{ ...VERSIONS[0], scaling: v1 }, VERSIONS[1]] });
      return Testing.synth(chart);
    };
    expect(SafetyCheck.check(stage('unrouted', AUTOSCALED), stage('all-v2', FIXED)).map((v) => v.rule)).not.toContain(SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED);
  });
});
