/**
 * The driver against an in-memory fake of the Kubernetes API: what a next release, a resumed rollout and a stopped
 * roll back do when `rollout` is run again.
 */
import { FakeKube, key, planOf, run } from './_fake-api';
import { ReleasePlan, Scaling } from '../../src';
import { EXIT_ROLLED_BACK } from '../../src/rollout/driver';

describe('the next release, whose plan reuses the stage names of the one before', () => {
  test('after v1->v2 completed, v2->v3 starts at its first stage and analyzes every stage', async () => {
    const kube = new FakeKube();
    const v2 = planOf('v1', 'v2');
    expect((await run(kube, v2)).exit).toBe(0);
    expect(kube.record().state).toBe('completed');
    kube.log.length = 0;

    const v3 = planOf('v2', 'v3');
    const second = await run(kube, v3);
    expect(second.error).toBeUndefined();
    expect(second.exit).toBe(0);
    expect(second.analyzed).toEqual(v3.stages.map((s) => s.name));
    // v3 is created before v2 loses its traffic, and v2 is deleted only at the end.
    const created = kube.log.indexOf('CREATE Deployment/web-v3');
    expect(created).toBeGreaterThanOrEqual(0);
    expect(kube.log.findIndex((l) => /v3=100/.test(l))).toBeGreaterThan(created);
    expect(kube.log.indexOf('DELETE Deployment/web-v2')).toBeGreaterThan(kube.log.findIndex((l) => /v3=100/.test(l)));
    expect(kube.record().state).toBe('completed');
    expect(kube.has('Deployment', 'web-v3')).toBe(true);
    expect(kube.has('Deployment', 'web-v2')).toBe(false);
  });

  test('after v1->v2 was rolled back, v2->... of another plan starts at its first stage too', async () => {
    const kube = new FakeKube();
    expect((await run(kube, planOf('v1', 'v2'), { fail: 'shift-50' })).exit).toBe(EXIT_ROLLED_BACK);
    expect(kube.record().state).toBe('rolled-back');
    const next = planOf('v1', 'v2b');
    const second = await run(kube, next);
    expect(second.exit).toBe(0);
    expect(second.analyzed).toEqual(next.stages.map((s) => s.name));
  });

  test('with no record, a live stage named like a later stage of the plan but of other versions is refused', async () => {
    const kube = new FakeKube();
    expect((await run(kube, planOf('v1', 'v2'))).exit).toBe(0);
    kube.store.delete(key('ConfigMap', 'shop', 'mesh-release.web'));
    kube.log.length = 0;

    const v3 = planOf('v2', 'v3');
    const refused = await run(kube, v3);
    expect(refused.error?.message).toMatch(/retire/);
    expect(refused.error?.message).toMatch(/--force/);
    expect(kube.log).toEqual([]);
    expect(kube.has('Deployment', 'web-v2')).toBe(true);

    // --force: this plan from its first stage.
    const forced = await run(kube, v3, { options: { force: true } });
    expect(forced.exit).toBe(0);
    expect(forced.analyzed).toEqual(v3.stages.map((s) => s.name));
    expect(kube.log.indexOf('CREATE Deployment/web-v3')).toBeLessThan(kube.log.findIndex((l) => /v3=100/.test(l)));
  });

  test('a rollout stopped mid-way and run again with the same plan resumes where it was', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const stopped = await run(kube, plan, { stopWhen: (l) => /^shift-50: live/.test(l) });
    expect(stopped.error?.message).toMatch(/run the command again to resume/);
    expect(kube.record().applying).toBe('shift-50');
    const again = await run(kube, plan);
    expect(again.exit).toBe(0);
    expect(again.analyzed).toEqual(plan.stages.slice(plan.stages.findIndex((s) => s.name === 'shift-50')).map((s) => s.name));
  });
});

describe('run again on a release already at its target', () => {
  test('nothing applied or analyzed, beforeApplying (Prometheus\'s check) not called: "already at stage", exit 0', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const first = await run(kube, plan);
    expect(first.exit).toBe(0);
    expect(first.before).toEqual([plan.stages.map((s) => s.name)]);
    kube.log.length = 0;
    const again = await run(kube, plan);
    expect({ exit: again.exit, error: again.error?.message }).toEqual({ exit: 0, error: undefined });
    expect(again.before).toEqual([]);
    expect(again.analyzed).toEqual([]);
    expect(kube.log).toEqual([]);
    expect(again.lines[again.lines.length - 1]).toBe('shop/web: already at stage retire (the last: completed)');
  });

  test('--to a stage reached: the same; a later --to: beforeApplying gets the stages still to apply', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    expect((await run(kube, plan, { options: { to: 'shift-50' } })).exit).toBe(0);
    const same = await run(kube, plan, { options: { to: 'shift-50' } });
    expect({ exit: same.exit, before: same.before, last: same.lines[same.lines.length - 1] })
      .toEqual({ exit: 0, before: [], last: 'shop/web: already at stage shift-50' });
    const further = await run(kube, plan, { options: { to: 'unroute' } });
    expect(further.before).toEqual([['shift-100', 'unroute']]);
  });
});

describe('a rollout stopped after the record says the next stage is being applied', () => {
  test('resumes at that stage, never re-applying the one before', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    // Stopped once shift-50's transition is recorded, before any of its actions: the cluster is still at shift-10.
    const stopped = await run(kube, plan, { stopWhen: (l) => /^shift-50: applying/.test(l) });
    expect(stopped.error?.message).toMatch(/run the command again to resume/);
    expect(kube.record()).toMatchObject({ stage: 'shift-10', applying: 'shift-50' });
    kube.log.length = 0;
    const again = await run(kube, plan);
    expect(again.exit).toBe(0);
    expect(again.analyzed).toEqual(plan.stages.slice(plan.stages.findIndex((s) => s.name === 'shift-50')).map((s) => s.name));
    expect(again.lines.some((l) => /^shift-10: applying/.test(l))).toBe(false);
    expect(kube.record().state).toBe('completed');
  });
});

describe('a roll back stopped mid-way', () => {
  const stopInRollBack = (l: string, lines: string[]) => lines.some((x) => x.includes('rolling back')) && /^shift-10: live/.test(l);

  test('tells to run abort, is recorded as rolled back, and `rollout` finishes the roll back instead of going forward', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const first = await run(kube, plan, { fail: 'shift-50', stopWhen: stopInRollBack });
    expect(first.error?.message).toMatch(/mesh-release abort/);
    expect(first.error?.message).not.toMatch(/run the command again to resume/);
    expect(kube.record().state).toBe('rolling-back');
    expect(JSON.parse(kube.record().rolledBack)).toContain(kube.record().digest);
    kube.log.length = 0;

    const second = await run(kube, plan);
    expect(second.exit).toBe(EXIT_ROLLED_BACK);
    expect(second.analyzed).toEqual([]);
    expect(kube.log.some((l) => /v2=50|v2=100/.test(l))).toBe(false);
    expect(kube.record().state).toBe('rolled-back');
    expect(kube.record().stage).toBe(plan.stages[0].name);

    // rolled back: refused again without --retry, a new attempt with it.
    expect((await run(kube, plan)).error?.message).toMatch(/--retry/);
    const retried = await run(kube, plan, { options: { retry: true } });
    expect(retried.exit).toBe(0);
    expect(kube.record().state).toBe('completed');
  });

  test('stopped inside a step back (its apply done, its deletes not), that step is performed again whole', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    const first = await run(kube, plan, {
      fail: 'shift-50',
      stopWhen: (l, lines) => lines.some((x) => x.includes('rolling back')) && /^make-routable: applied/.test(l),
    });
    expect(first.error?.message).toMatch(/mesh-release abort/);
    expect(kube.record()).toMatchObject({ state: 'rolling-back', applying: 'make-routable' });
    expect(kube.has('Deployment', 'web-v2')).toBe(true);
    const second = await run(kube, plan);
    expect(second.exit).toBe(EXIT_ROLLED_BACK);
    expect(kube.has('Deployment', 'web-v2')).toBe(false);
    expect(kube.record()).toMatchObject({ state: 'rolled-back', stage: 'stable' });
  });

  test('abort finishes it too', async () => {
    const kube = new FakeKube();
    const plan = planOf('v1', 'v2');
    await run(kube, plan, { fail: 'shift-50', stopWhen: stopInRollBack });
    const aborted = await run(kube, plan, { command: 'abort' });
    expect(aborted.exit).toBe(0);
    expect(kube.record().state).toBe('rolled-back');
    expect(kube.has('Deployment', 'web-v2')).toBe(false);
  });
});

describe('a version whose floor rises as it gets more traffic is scaled first (issue 20)', () => {
  test('the roll back of a fixed-replica stable scaled down mid-plan applies its Deployment (dry run first), then routes', async () => {
    const plan = stableScaledDownAtShift90();
    const kube = new FakeKube();
    expect((await run(kube, plan)).exit).toBe(0);
    kube.log.length = 0;
    kube.dryRuns.length = 0;
    const aborted = await run(kube, plan, { command: 'abort' });
    expect(aborted.exit).toBe(0);
    expect(kube.log.slice(0, 2)).toEqual(['SCALE Deployment/web-v1 10', 'VS v1=100']);
    // Scaled, its floor waited for, and only then the stage applied (the VirtualService giving v1 100%).
    const step = aborted.lines.slice(aborted.lines.indexOf('deploy: rolling back to this stage (3/4)'), aborted.lines.indexOf('deploy: live'));
    expect(step).toEqual([
      'deploy: rolling back to this stage (3/4)',
      "deploy: VirtualService/web (namespace shop) is at stage 'shift-90': applying stage 'deploy'",
      'deploy: scaling web v1 first, from a floor of 2 to 10 pods, before it gets more traffic (applied deployment/web-v1)',
      'deploy: deployment/web-v1 has its floor of 10 ready pods (0 s)',
      'deploy: applied 7 objects (0 created, 2 changed)',
    ]);
    // The dry run of the transition covers the scale-up's objects before anything is applied.
    expect(kube.dryRuns.slice(0, 1)).toEqual(['Deployment/web-v1']);
    expect(kube.dryRuns.filter((d) => d === 'Deployment/web-v1').length).toBeGreaterThanOrEqual(2);
  });
});

describe('a guard that refuses a transition', () => {
  test('refuses before the transition is recorded as under way: the record still says the live stage, nothing applied', async () => {
    const plan = planOf('v1', 'v2');
    const kube = new FakeKube();
    expect((await run(kube, plan, { options: { to: 'shift-10' } })).exit).toBe(0);
    const before = kube.record();
    // Someone moves the routing object to another stage between the driver's first read of it and the guard.
    const find = kube.find.bind(kube);
    let reads = 0;
    kube.find = async (a: string, kind: string, ns: string | undefined, name: string) => {
      const found = await find(a, kind, ns, name);
      if (kind === 'VirtualService' && ++reads > 1) {
        return { ...found, metadata: { ...found.metadata, annotations: { ...found.metadata.annotations, 'mesh-release.io/stage': 'by-hand' } } };
      }
      return found;
    };
    kube.log.length = 0;
    const refused = await run(kube, plan);
    expect(refused.error?.message).toMatch(/^refusing to apply stage 'shift-50': VirtualService\/web \(namespace shop\) is at stage 'by-hand', expected 'shift-10' or 'shift-50'/);
    expect(kube.log).toEqual([]);
    expect(kube.record()).toEqual(before);
  });
});

describe('a version whose share and fixed replicas fall in the same step is scaled down after the routing is live (issue 20)', () => {
  test('forward: v1 (10 pods at 100%, then 2 at 10%) keeps its pods until the new routing is live (dry run of its Deployment first)', async () => {
    const plan = stableScaledDownAtShift90();
    const kube = new FakeKube();
    const forward = await run(kube, plan);
    expect(forward.exit).toBe(0);
    // The route first, then v1 scaled down.
    expect(kube.log.slice(kube.log.indexOf('VS v1=10,v2=90'))).toEqual(['VS v1=10,v2=90', 'SCALE Deployment/web-v1 2']);
    const step = forward.lines.slice(forward.lines.indexOf('shift-90: applying (4/4)'), forward.lines.indexOf('shift-90: live'));
    // The apply leaves web-v1 out (the VirtualService and the stage annotations change), the scale-down follows the
    // routing waits (the action list: test/cli/runbook-steps.test.ts).
    expect(step.filter((l) => /applied|scaling/.test(l))).toEqual([
      'shift-90: applied 6 objects (0 created, 1 changed)',
      'shift-90: scaling web v1 down last, from a floor of 10 to 2 pods, now that routing gives it less traffic (applied deployment/web-v1)',
    ]);
    expect(kube.dryRuns).toContain('Deployment/web-v1');
  });
});

/** A custom plan whose fixed-replica stable v1 has 10 pods until `deploy`, then 2 at `shift-90` (10% of the traffic). */
function stableScaledDownAtShift90() {
  const all = [{ version: 'v1', weight: 100 }];
  return planOf('v1', 'v2', {
    plan: ReleasePlan.custom([
      { name: 'stable', deployed: ['v1'], weights: all },
      { name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: all },
      { name: 'deploy', deployed: ['v1', 'v2'], weights: all },
      { name: 'shift-90', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 10 }, { version: 'v2', weight: 90 }] },
    ]),
    versionsOf: (stage) => [
      { version: 'v1', image: 'example/web:v1', scaling: Scaling.fixed(stage === 'shift-90' ? 2 : 10) },
      { version: 'v2', image: 'example/web:v2', scaling: Scaling.fixed(10) },
    ],
  });
}
