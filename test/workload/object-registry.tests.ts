/**
 * `src/workload/_object-registry.ts`: objects that two constructs of one app define are refused at synth time, for
 * VersionedApps used on their own as for releases (issue 19 item 8: they synthesized, and one object replaced the other).
 */
import { App, ApiObject, Chart, Testing } from 'cdk8s';
import { MeshRelease, ReleasePlan, VersionedApp } from '../../src';

const FIX = 'only one survives the apply. Fix: give every object a unique name (one MeshRelease per app and namespace in the whole app; '
  + 'one VersionedApp per app and version, with createService on one of them only; app and version names that do not run together)';

/** The objects of a VersionedApp (kind, path under it), without its Service. */
const OBJECTS = [['Deployment', 'Deployment/Resource'], ['HorizontalPodAutoscaler', 'Autoscaler/Resource'], ['PodDisruptionBudget', 'DisruptionBudget']];

/** The duplicate-object errors cdk8s reports for `app` (after the path of the registry that found them); [] when it synthesizes. */
function errorsOf(app: App): string[] {
  try {
    app.synthYaml();
    return [];
  } catch (e) {
    return (e as Error).message.split('\n').filter((line) => line.includes('[duplicate-object]'))
      .map((line) => line.trim().replace(/^\[test\/mesh-release\.io~objects\] /, ''));
  }
}

describe('ObjectRegistry', () => {
  test('fails on app foo + version bar-v1 and app foo-bar + version v1 used on their own: both make foo-bar-v1', () => {
    // GIVEN two VersionedApps whose names run together
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    new VersionedApp(chart, 'foo', { app: 'foo', version: 'bar-v1', image: 'example/foo:1', port: 80 });
    new VersionedApp(chart, 'foo-bar', { app: 'foo-bar', version: 'v1', image: 'example/foo-bar:1', port: 80 });

    // WHEN / THEN each one's Deployment, autoscaler and disruption budget is refused, naming the other
    expect(errorsOf(app)).toEqual([
      ...OBJECTS.map(([kind, id]) => `[test/foo] [duplicate-object] ${kind}/foo-bar-v1 in namespace 'default' is also defined by test/foo-bar/${id}: ${FIX}`),
      ...OBJECTS.map(([kind, id]) => `[test/foo-bar] [duplicate-object] ${kind}/foo-bar-v1 in namespace 'default' is also defined by test/foo/${id}: ${FIX}`),
    ]);
  });

  test('fails on two versions of one app that both createService (Service/helloworld twice)', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    for (const version of ['v1', 'v2']) {
      new VersionedApp(chart, version, { app: 'helloworld', version, image: `example/helloworld:${version}`, port: 80, createService: true });
    }
    expect(errorsOf(app)).toEqual([
      `[test/v1] [duplicate-object] Service/helloworld in namespace 'default' is also defined by test/v2/Service/Resource: ${FIX}`,
      `[test/v2] [duplicate-object] Service/helloworld in namespace 'default' is also defined by test/v1/Service/Resource: ${FIX}`,
    ]);
  });

  test('fails on a VersionedApp and an object of the user of the same kind, name and namespace', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    new VersionedApp(chart, 'v1', { app: 'helloworld', version: 'v1', image: 'example/helloworld:1', port: 80 });
    new ApiObject(chart, 'mine', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'helloworld-v1' } });
    expect(errorsOf(app)).toEqual([`[test/v1] [duplicate-object] Deployment/helloworld-v1 in namespace 'default' is also defined by test/mine: ${FIX}`]);
  });

  test('a release reports its objects once (not again for its versions), and a VersionedApp beside it its own', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    const stage = ReleasePlan.custom([{ name: 'stable', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] }]).stage('stable');
    new MeshRelease(chart, 'release', { app: 'helloworld', port: 80, versions: [{ version: 'v1', image: 'example/helloworld:1' }], stage });
    new VersionedApp(chart, 'v1', { app: 'helloworld', version: 'v1', image: 'example/helloworld:1', port: 80 });
    const errors = errorsOf(app);
    expect(errors).toEqual([
      ...OBJECTS.map(([kind, id]) => `[test/release] [duplicate-object] ${kind}/helloworld-v1 in namespace 'default' is also defined by test/v1/${id}: ${FIX}`),
      ...OBJECTS.map(([kind, id]) => `[test/v1] [duplicate-object] ${kind}/helloworld-v1 in namespace 'default' is also defined by test/release/v1/${id}: ${FIX}`),
    ]);
  });

  test.each([
    ['other namespaces', (chart: Chart, other: Chart) => [chart, other]],
    ['versions of one app without a second Service', (chart: Chart) => [chart, chart]],
  ])('synthesizes: %s', (_, charts) => {
    const app = Testing.app();
    const chart = new Chart(app, 'test', { namespace: 'a' });
    const other = new Chart(app, 'other', { namespace: 'b' });
    const [first, second] = charts(chart, other);
    new VersionedApp(first, 'v1', { app: 'helloworld', version: 'v1', image: 'example/helloworld:1', port: 80, createService: true });
    new VersionedApp(second, 'v2', { app: 'helloworld', version: second === first ? 'v2' : 'v1', image: 'example/helloworld:2', port: 80, createService: second !== first });
    expect(errorsOf(app)).toEqual([]);
    expect(() => app.synthYaml()).not.toThrow();
  });
});
