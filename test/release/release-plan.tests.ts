import { Testing } from 'cdk8s';
import { MeshRelease, ReleasePlan, ReleaseStage } from '../../src';

const weightsOf = (stage: ReleaseStage) => Object.fromEntries(stage.weights.map((w) => [w.version, w.weight]));

describe('ReleasePlan.canary', () => {
  const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });

  test('names the stages in order', () => {
    expect(plan.stageNames).toEqual(['stable', 'make-routable', 'deploy', 'shift-10', 'shift-50', 'shift-100', 'unroute', 'drop-routable', 'retire']);
  });

  test.each([
    // name, deployed, subsets, weights
    ['stable', ['v1'], ['v1'], { v1: 100 }],
    ['make-routable', ['v1'], ['v1', 'v2'], { v1: 100 }],
    ['deploy', ['v1', 'v2'], ['v1', 'v2'], { v1: 100 }],
    ['shift-10', ['v1', 'v2'], ['v1', 'v2'], { v1: 90, v2: 10 }],
    ['shift-50', ['v1', 'v2'], ['v1', 'v2'], { v1: 50, v2: 50 }],
    ['shift-100', ['v1', 'v2'], ['v1', 'v2'], { v1: 0, v2: 100 }],
    ['unroute', ['v1', 'v2'], ['v1', 'v2'], { v2: 100 }],
    ['drop-routable', ['v1', 'v2'], ['v2'], { v2: 100 }],
    ['retire', ['v2'], ['v2'], { v2: 100 }],
  ])('stage %s deploys %j, has subsets %j and weights %j', (name, deployed, subsets, weights) => {
    const stage = plan.stage(name as string);
    expect(stage.deployed).toEqual(deployed);
    expect(stage.routable).toEqual(subsets);
    expect(weightsOf(stage)).toEqual(weights);
    expect(stage.headerRoutes).toEqual([]);
    expect(stage.mirror).toBeUndefined();
  });

  test('chains every stage to the one before and after it', () => {
    plan.stages.forEach((stage, i) => {
      expect(stage.previous).toBe(plan.stages[i - 1]);
      expect(stage.next).toBe(plan.stages[i + 1]);
    });
  });

  test.each([
    [[1], 1 + 7],
    [[5, 25, 50], 3 + 7],
    [[1, 2, 5, 10, 20, 30, 50, 75, 99], 9 + 7],
  ])('with weights %j has %d stages, one shift per weight plus shift-100', (weights, count) => {
    const p = ReleasePlan.canary({ stable: 'blue', candidate: 'green', weights });
    expect(p.stages).toHaveLength(count);
    expect(p.stageNames.filter((n) => n.startsWith('shift-'))).toEqual([...weights, 100].map((w) => `shift-${w}`));
  });

  test.each([
    [[50, 10]],
    [[0, 50]],
    [[10, 100]],
    [[10, 10]],
    [[12.5]],
  ])('fails on weights %j', (weights) => {
    expect(() => ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights }))
      .toThrow(`ReleasePlan.canary: 'weights' must be ascending integers between 1 and 99, got [${weights.join(', ')}]`);
  });

  test('fails when candidate equals stable', () => {
    expect(() => ReleasePlan.canary({ stable: 'v1', candidate: 'v1', weights: [10] }))
      .toThrow("ReleasePlan: 'candidate' must differ from 'stable', got 'v1' for both");
  });

  test('stage() fails on an unknown name, listing the valid ones', () => {
    expect(() => plan.stage('shift-20')).toThrow(
      "ReleasePlan: unknown stage 'shift-20'; valid stages are: stable, make-routable, deploy, shift-10, shift-50, shift-100, unroute, drop-routable, retire");
  });
});

describe('ReleasePlan.blueGreen', () => {
  test('shifts 0 -> 100 in one step', () => {
    const plan = ReleasePlan.blueGreen({ stable: 'blue', candidate: 'green' });
    expect(plan.stageNames).toEqual(['stable', 'make-routable', 'deploy', 'shift-100', 'unroute', 'drop-routable', 'retire']);
    expect(weightsOf(plan.stage('deploy'))).toEqual({ blue: 100 });
    expect(weightsOf(plan.stage('shift-100'))).toEqual({ blue: 0, green: 100 });
  });
});

describe('ReleasePlan of long version names', () => {
  // Found by test/integration/random-releases.integration.ts: the plan's sample app ('app') made '<app>-<version>' too
  // long for versions of 60 and 61 characters, which an app of one or two letters deploys.
  test.each([60, 61])('takes a version of %p characters, which a one-letter app deploys', (n) => {
    const candidate = `c${'x'.repeat(n - 1)}`;
    const plan = ReleasePlan.blueGreen({ stable: 'v1', candidate });
    const versions = [{ version: 'v1', image: 'example/a:1' }, { version: candidate, image: 'example/a:2' }];
    const chart = Testing.chart();
    new MeshRelease(chart, 'a', { app: 'a', port: 8080, versions, stage: plan.stage('deploy') });
    expect(Testing.synth(chart).filter((m) => m.kind === 'Deployment').map((d) => d.metadata.name)).toEqual(['a-v1', `a-${candidate}`]);
  });

  test.each([62, 63])('refuses a version of %p characters, which no app can deploy (<app>-<version> over 63 characters)', (n) => {
    const candidate = `c${'x'.repeat(n - 1)}`;
    expect(() => ReleasePlan.blueGreen({ stable: 'v1', candidate })).toThrow(new Error("ReleasePlan: 'version' must be at most 61 characters: "
      + `a version's objects are named '<app>-<version>', at most 63 characters, even with an app of one letter (it is ${n}), got "${candidate}"`));
  });
});

describe('ReleasePlan errors name what the user wrote', () => {
  // Issue 19 item 9: a plan is checked on a sample release (app 'app', or 'a' beside a long version, in namespace
  // 'default'), whose names the user never wrote: its errors name the stages and versions, and <app> and <namespace>.
  test('the sample release\'s objects and host are <app> and <namespace>', () => {
    expect(() => ReleasePlan.custom([
      { name: 'one', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'two', deployed: ['v1', 'v2'], weights: [{ version: 'v2', weight: 100 }] },
    ])).toThrow(new Error("ReleasePlan stage 'two' (after 'one') is unsafe to apply (2 violations):\n"
      + "[subset-before-route] VirtualService/<app> http[0]: routes to subset 'v2' of <app>.<namespace>.svc.cluster.local, which the previous stage "
      + 'did not define; the proxies may receive this route before the subset. Fix: add subset \'v2\' to the DestinationRule in a stage of its own, '
      + 'before the one that routes to it\n'
      + "[destination-ready] VirtualService/<app> http[0]: sends traffic to subset 'v2' of <app>.<namespace>.svc.cluster.local, whose Deployment "
      + 'Deployment/<app>-v2 did not exist in the previous stage, so it gets traffic before its pods are ready. Fix: deploy the version in a stage '
      + 'of its own, and route to it in the next one'));
  });

  test.each([60, 61])('a canary to a version of %p characters is a plan (the app a release names decides if it fits)', (n) => {
    const candidate = `c${'x'.repeat(n - 1)}`;
    expect(ReleasePlan.canary({ stable: 'v1', candidate, weights: [10, 50] }).stageNames).toContain('shift-10');
  });

  test('beside a long version (the one-letter sample app), a version named like the sample app stays as written', () => {
    const long = 'x'.repeat(61);
    expect(() => ReleasePlan.custom([
      { name: 'one', deployed: [long], weights: [{ version: long, weight: 100 }] },
      { name: 'two', deployed: [long, 'a'], weights: [{ version: 'a', weight: 100 }] },
    ])).toThrow('whose Deployment Deployment/<app>-a did not exist in the previous stage');
  });
});

describe('ReleasePlan.custom', () => {
  const split = [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }];

  test('keeps three versions live with one pinned by header', () => {
    const plan = ReleasePlan.custom([
      { name: 'split', deployed: ['v1', 'v2'], weights: split },
      { name: 'make-routable-v3', deployed: ['v1', 'v2'], routable: ['v1', 'v2', 'v3'], weights: split },
      { name: 'deploy-v3', deployed: ['v1', 'v2', 'v3'], weights: split },
      { name: 'pin-v3', deployed: ['v1', 'v2', 'v3'], weights: split, headerRoutes: [{ header: 'x-version', value: 'v3', version: 'v3' }] },
    ]);
    expect(plan.stage('pin-v3').headerRoutes).toEqual([{ header: 'x-version', value: 'v3', version: 'v3' }]);
    expect(plan.stage('pin-v3').previous?.name).toBe('deploy-v3');
  });

  test('fails on a header route to a version deployed in the same stage', () => {
    expect(() => ReleasePlan.custom([
      { name: 'split', deployed: ['v1', 'v2'], routable: ['v1', 'v2', 'v3'], weights: split },
      { name: 'pin-v3', deployed: ['v1', 'v2', 'v3'], weights: split, headerRoutes: [{ header: 'x-version', value: 'v3', version: 'v3' }] },
    ])).toThrow(/ReleasePlan stage 'pin-v3' \(after 'split'\) is unsafe to apply[\s\S]*\[destination-ready\] VirtualService\/<app> http\[0\]: sends traffic to subset 'v3'.*did not exist in the previous stage/);
  });

  test('fails on a subset routed in the stage that adds it', () => {
    expect(() => ReleasePlan.custom([
      { name: 'a', deployed: ['v1', 'v2'], routable: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'b', deployed: ['v1', 'v2'], weights: split },
    ])).toThrow(/\[subset-before-route\] VirtualService\/<app> http\[0\]: routes to subset 'v2'/);
  });

  test('fails on a subset removed in the stage that unroutes it', () => {
    expect(() => ReleasePlan.custom([
      { name: 'a', deployed: ['v1', 'v2'], weights: split },
      { name: 'b', deployed: ['v1', 'v2'], routable: ['v2'], weights: [{ version: 'v2', weight: 100 }] },
    ])).toThrow(/\[subset-removed-while-routed\] DestinationRule\/<app>: subset 'v1' is removed while the previous stage's route still sends to it/);
  });

  test('fails on a Deployment deleted in the stage that removes its subset while routes still name it', () => {
    expect(() => ReleasePlan.custom([
      { name: 'a', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 0 }, { version: 'v2', weight: 100 }] },
      { name: 'b', deployed: ['v2'], weights: [{ version: 'v2', weight: 100 }] },
    ])).toThrow(/\[deployment-removed-while-subset\] Deployment\/<app>-v1: is deleted while subset 'v1'/);
  });

  test('deleting an unrouted version together with its subset drops no request', () => {
    expect(() => ReleasePlan.custom([
      { name: 'a', deployed: ['v1', 'v2'], weights: [{ version: 'v2', weight: 100 }] },
      { name: 'b', deployed: ['v2'], weights: [{ version: 'v2', weight: 100 }] },
    ])).not.toThrow();
  });

  test('fails on duplicate stage names', () => {
    expect(() => ReleasePlan.custom([
      { name: 'a', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'a', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
    ])).toThrow("ReleasePlan: stage names must be unique, got 'a' twice");
  });

  test('fails on an empty plan', () => {
    expect(() => ReleasePlan.custom([])).toThrow('ReleasePlan: a plan needs at least one stage');
  });
});
