import { Construct } from 'constructs';
import { MeshRelease, ReleasePlan, ReleaseStage, ReleaseTesting } from '../../src';
import { catchAllWeights, deploymentNames, only, subsetNames, TWO_VERSIONS } from '../_helpers';

const THREE_VERSIONS = [...TWO_VERSIONS, { version: 'v3', image: 'learnistio/helloworld:3.0.0' }];
const builder = (versions = TWO_VERSIONS) => ({
  buildStage: (scope: Construct, stage: ReleaseStage) => new MeshRelease(scope, 'helloworld', { app: 'helloworld', port: 3000, versions, stage }),
});

/** What each stage must contain, derived from the stage itself: the synthesized objects must say the same. */
function expectStageObjects(stage: ReleaseStage, manifests: any[]): void {
  expect(deploymentNames(manifests)).toEqual(stage.deployed.map((v) => `helloworld-${v}`));
  expect(subsetNames(manifests)).toEqual(stage.routable);
  expect(catchAllWeights(manifests)).toEqual(Object.fromEntries(stage.weights.map((w) => [w.version, w.weight])));
  const http = only(manifests, 'VirtualService').spec.http;
  expect(http[http.length - 1].match).toBeUndefined();
  expect(http.slice(0, -1).map((r: any) => r.route[0].destination.subset)).toEqual(stage.headerRoutes.map((r) => r.version));
  expect(only(manifests, 'Service').spec.selector).toEqual({ app: 'helloworld' });
}

describe.each([
  ['canary with 1 shift step', ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [50] }), 8],
  ['canary with 3 shift steps', ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [5, 25, 50] }), 10],
  ['canary with 9 shift steps', ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [1, 2, 5, 10, 20, 30, 50, 75, 90] }), 16],
  ['blue/green', ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2' }), 7],
])('%s', (_name, plan, stageCount) => {
  // WHEN every stage is synthesized, schema-validated and checked against the one before
  const stages = ReleaseTesting.assertPlan(builder(), plan);

  test('has every stage, each matching its stage model', () => {
    expect(stages).toHaveLength(stageCount);
    stages.forEach((s, i) => expectStageObjects(plan.stages[i], s.manifests));
  });

  test('ends where the next release starts: only the candidate, with all traffic', () => {
    const last = stages[stages.length - 1].manifests;
    expect(deploymentNames(last)).toEqual(['helloworld-v2']);
    expect(catchAllWeights(last)).toEqual({ v2: 100 });
  });

  test.each(plan.stageNames)('stage %s matches its snapshot', (name) => {
    expect(stages.find((s) => s.stage === name)!.manifests).toMatchSnapshot();
  });
});

describe('three live versions, v3 pinned by header', () => {
  const split = [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }];
  const plan = ReleasePlan.custom([
    { name: 'split', deployed: ['v1', 'v2'], weights: split },
    { name: 'make-routable-v3', deployed: ['v1', 'v2'], routable: ['v1', 'v2', 'v3'], weights: split },
    { name: 'deploy-v3', deployed: ['v1', 'v2', 'v3'], weights: split },
    { name: 'pin-v3', deployed: ['v1', 'v2', 'v3'], weights: split, headerRoutes: [{ header: 'x-version', value: 'v3', version: 'v3' }] },
    { name: 'mirror-v3', deployed: ['v1', 'v2', 'v3'], weights: split, mirror: { version: 'v3', percent: 20 } },
  ]);
  const stages = ReleaseTesting.assertPlan(builder(THREE_VERSIONS), plan);

  test('each stage matches its stage model', () => {
    stages.forEach((s, i) => expectStageObjects(plan.stages[i], s.manifests));
  });

  test('pin-v3 routes x-version: v3 to v3 before the 50/50 catch-all', () => {
    const http = only(stages[3].manifests, 'VirtualService').spec.http;
    expect(http[0].match).toEqual([{ headers: { 'x-version': { exact: 'v3' } } }]);
    expect(http[0].route).toEqual([{ destination: { host: 'helloworld.default.svc.cluster.local', subset: 'v3', port: { number: 3000 } } }]);
    expect(http[1].route.map((r: any) => [r.destination.subset, r.weight])).toEqual([['v1', 50], ['v2', 50]]);
  });

  test('mirror-v3 mirrors 20% of the catch-all traffic to v3', () => {
    const route = only(stages[4].manifests, 'VirtualService').spec.http[0];
    expect(route.mirror.subset).toBe('v3');
    expect(route.mirrorPercentage).toEqual({ value: 20 });
  });

  test.each(plan.stageNames)('stage %s matches its snapshot', (name) => {
    expect(stages.find((s) => s.stage === name)!.manifests).toMatchSnapshot();
  });
});
