/**
 * Traffic floors (src/release/_traffic-floors.ts), a pure function of a stage, its neighbours and each version's
 * scaling: an autoscaled version's `minReplicas` is raised to its share of the traffic (the largest of its weights in
 * the stage, the next one and the previous one) times the floor that carried all traffic.
 */
import * as fc from 'fast-check';
import { ReleasePlan, ReleaseStage, ReleaseStageOptions, SafetyCheck, SafetyRule, Scaling, TrafficRouter } from '../../src';
import { ResolvedRelease } from '../../src/release/_desired-state';
import { scalingOptions, trafficFloors } from '../../src/release/_traffic-floors';
import { blueGreenRecipe, canaryRecipe, customRecipe, makePlan, PlanRecipe, recipeVersions, validScaling } from '../_arbitraries';
import { runs } from '../_runs';

const canary = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
/** `{ version: [minReplicas, maxReplicas, autoscaled] }` of the floors at a stage of the canary. */
function floorsAt(stage: string, scalings: { [version: string]: Scaling | undefined }): { [version: string]: [number, number, boolean] } {
  const floors = trafficFloors(canary.stage(stage), (version) => scalings[version]);
  return Object.fromEntries([...floors].map(([version, s]) => [version, [s.minReplicas, s.maxReplicas, s.autoscaled]]));
}

describe('trafficFloors', () => {
  test('versions of equal floors keep their scaling at every stage', () => {
    for (const stage of canary.stageNames) {
      expect(floorsAt(stage, {})).toEqual({});
      expect(floorsAt(stage, { v1: Scaling.autoscale({ minReplicas: 3 }), v2: Scaling.autoscale({ minReplicas: 3 }) })).toEqual({});
    }
  });

  test('the candidate is raised to its share of the stable floor, one stage ahead of its traffic (the ceiling follows)', () => {
    // GIVEN v1 carries all traffic on 10 pods, v2 has the default floor (2)
    const scalings = { v1: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) };

    // THEN at deploy (0%, next 10%) 10% of 10 pods is 1: no raise; at shift-10 (next 50%) 5 pods; from shift-50 (next 100%) 10
    expect(floorsAt('deploy', scalings)).toEqual({});
    expect(floorsAt('shift-10', scalings)).toEqual({ v2: [5, 5, true] });
    expect(floorsAt('shift-50', scalings)).toEqual({ v2: [10, 10, true] });
    expect(floorsAt('shift-100', scalings)).toEqual({ v2: [10, 10, true] });
    // AND the stable version, already at the reference floor, is never raised
    expect(Object.keys(floorsAt('shift-50', scalings))).not.toContain('v1');
  });

  test('a version keeps its floor one stage after its traffic left (room to roll back), then drops it', () => {
    // GIVEN the candidate needs 10 pods for all traffic, the stable version has the default floor
    const scalings = { v2: Scaling.autoscale({ minReplicas: 10 }) };

    // THEN v1 is raised while it carries traffic, keeps half at shift-100 (it had 50% the stage before), none at unroute
    expect(floorsAt('stable', scalings)).toEqual({}); // v2 is not deployed yet: v1's own floor carried everything
    expect(floorsAt('shift-10', scalings)).toEqual({ v1: [10, 10, true] });
    expect(floorsAt('shift-100', scalings)).toEqual({ v1: [5, 5, true] });
    expect(floorsAt('unroute', scalings)).toEqual({});
  });

  test('a fixed number of replicas is never raised', () => {
    const scalings = { v1: Scaling.fixed(1), v2: Scaling.autoscale({ minReplicas: 10 }) };
    for (const stage of canary.stageNames) {
      expect(Object.keys(floorsAt(stage, scalings))).not.toContain('v1');
    }
  });

  test('a raised autoscaler keeps its utilization targets', () => {
    const floors = trafficFloors(canary.stage('shift-50'), (v) => (v === 'v1' ? Scaling.autoscale({ minReplicas: 10 }) : Scaling.autoscale({ cpuUtilizationPercent: 50 })));
    expect(floors.get('v2')).toMatchObject({ minReplicas: 10, autoscaled: true, cpuUtilizationPercent: 50, memoryUtilizationPercent: 80 });
  });
});

/**
 * A custom plan where the version with the largest floor (`big`, 10 pods) leaves while `a` and `b` split the traffic,
 * then `a` takes it all with `b` kept at 0: `b` had 50% on a stage whose largest floor was 5.
 */
const BIG_LEAVES: ReleaseStageOptions[] = [
  { name: 'stable', deployed: ['big', 'a', 'b'], weights: [{ version: 'big', weight: 100 }] },
  { name: 'split', deployed: ['big', 'a', 'b'], weights: [{ version: 'big', weight: 0 }, { version: 'a', weight: 50 }, { version: 'b', weight: 50 }] },
  { name: 'unroute-big', deployed: ['big', 'a', 'b'], weights: [{ version: 'a', weight: 50 }, { version: 'b', weight: 50 }] },
  { name: 'drop-big', deployed: ['big', 'a', 'b'], routable: ['a', 'b'], weights: [{ version: 'a', weight: 50 }, { version: 'b', weight: 50 }] },
  { name: 'retire-big', deployed: ['a', 'b'], weights: [{ version: 'a', weight: 50 }, { version: 'b', weight: 50 }] },
  { name: 'all-a', deployed: ['a', 'b'], weights: [{ version: 'a', weight: 100 }, { version: 'b', weight: 0 }] },
];

describe('trafficFloors: the floors before a step carry the shares after it', () => {
  test('after the largest version retires, the floors still cover a roll back to the stage it left', () => {
    // GIVEN big autoscaled from 10, a and b from the default (2)
    const plan = ReleasePlan.custom(BIG_LEAVES);
    const scalings: { [version: string]: Scaling } = { big: Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) };
    const at = (stage: string) => Object.fromEntries([...trafficFloors(plan.stage(stage), (v) => scalings[v])].map(([v, s]) => [v, s.minReplicas]));

    // THEN at retire-big, a and b keep 5 each (50% of the 10 that carried everything); at all-a, b keeps 5 (a roll
    // back gives it 50% again of a stage whose largest floor is 5), and a, about to carry all of that stage, 5 too
    expect(at('retire-big')).toEqual({ a: 5, b: 5 });
    expect(at('all-a')).toEqual({ a: 5, b: 5 });
  });

  test('the rollback-capacity rule finds nothing on BIG_LEAVES, forward or back, with Istio and the Gateway API (a selector switch cannot split traffic)', () => {
    const plan = ReleasePlan.custom(BIG_LEAVES);
    const versions = ['big', 'a', 'b'].map((version) => ({ version, image: `example/web:${version}`, scaling: version === 'big' ? Scaling.autoscale({ minReplicas: 10, maxReplicas: 20 }) : undefined }));
    for (const router of [TrafficRouter.istio(), TrafficRouter.gatewayApi()]) {
      const release = new ResolvedRelease('chart/web', { app: 'web', port: 8080, versions, stage: plan.stages[0], router }, 'shop');
      expect(rollbackFindings(plan.stages.map((s) => release.desiredState(s).manifests), plan.stages)).toEqual([]);
    }
  });

  test('property: in canary, blue/green and custom plans, with autoscaled and fixed versions and every router, the floor of each version before a step (forward or back) covers the share it gets after it', () => {
    const minReplicas = fc.integer({ min: 1, max: 12 }).map((n) => Scaling.autoscale({ minReplicas: n, maxReplicas: 20 }));
    const scalings = fc.array(fc.oneof(validScaling, minReplicas), { minLength: 4, maxLength: 4 });
    const recipe: fc.Arbitrary<PlanRecipe> = fc.oneof(canaryRecipe, blueGreenRecipe, customRecipe);
    fc.assert(fc.property(recipe, scalings, fc.constantFrom(0, 1, 2), (r, scaling, routerIndex) => {
      const plan = makePlan(r);
      const router = [TrafficRouter.istio(), TrafficRouter.gatewayApi(), TrafficRouter.serviceSelector()][routerIndex];
      const versions = recipeVersions(r).map((version, i) => ({ version, image: `example/web:${version}`, scaling: scaling[i] }));
      const release = new ResolvedRelease('chart/web', { app: 'web', port: 8080, versions, stage: plan.stages[0], router }, 'shop');
      let states;
      try {
        states = plan.stages.map((s) => release.desiredState(s));
      } catch {
        return; // a stage this router cannot express (weights with a selector switch, header routes past its limits...)
      }
      const fixed = new Set(versions.filter((v) => v.scaling?.autoscaled === false).map((v) => `Deployment/web-${v.version}`));
      // The oracle: rollback-capacity on every transition, both ways (fixed replicas are never raised: the user's floor)
      expect(rollbackFindings(states.map((s) => s.manifests), plan.stages).filter((f) => !fixed.has(f.object))).toEqual([]);
      // And directly: a version whose share rises in a step has, before it, its share of the largest floor after it.
      const problems: unknown[] = [];
      states.forEach((state, i) => {
        for (const [before, after] of i === 0 ? [] : [[states[i - 1], state], [state, states[i - 1]]]) {
          const floorsAfter = new Map(after.versions.map((v) => [v.version, v.resolved.scaling.minReplicas]));
          const reference = Math.max(...floorsAfter.values());
          for (const v of before.versions.filter((x) => x.resolved.scaling.autoscaled)) {
            const share = after.stage.weightOf(v.version);
            const needed = Math.ceil(reference * share / 100);
            const floor = v.resolved.scaling.minReplicas;
            if (share > before.stage.weightOf(v.version) && floor < needed) {
              problems.push({ from: before.stage.name, to: after.stage.name, version: v.version, floor, share, reference });
            }
          }
        }
      });
      expect(problems).toEqual([]);
    }), { numRuns: runs(300) });
  });
});

/** rollback-capacity findings of every transition of a plan's manifests, forward and back, each with its step. */
function rollbackFindings(states: any[][], stages: ReleaseStage[]): Array<{ step: string; object: string; message: string }> {
  const found = [];
  for (let i = 1; i < states.length; i++) {
    for (const [current, previous, step] of [[states[i], states[i - 1], `${stages[i - 1].name} -> ${stages[i].name}`], [states[i - 1], states[i], `${stages[i].name} -> ${stages[i - 1].name}`]] as const) {
      for (const v of SafetyCheck.check(current as any[], previous as any[]).filter((x) => x.rule === SafetyRule.ROLLBACK_CAPACITY)) {
        found.push({ step: step as string, object: v.object, message: v.message });
      }
    }
  }
  return found;
}

describe('scalingOptions', () => {
  test("a version's own scaling, else the defaults' (also for a version not listed)", () => {
    const own = Scaling.fixed(3);
    const defaults = Scaling.autoscale({ minReplicas: 4 });
    const scalingOf = scalingOptions([{ version: 'v1', scaling: own }, { version: 'v2' }], { scaling: defaults });
    expect(scalingOf('v1')).toBe(own);
    expect(scalingOf('v2')).toBe(defaults);
    expect(scalingOf('v3')).toBe(defaults);
  });

  test('undefined without either', () => {
    expect(scalingOptions([{ version: 'v1' }], undefined)('v1')).toBeUndefined();
    expect(scalingOptions([{ version: 'v1' }], {})('v1')).toBeUndefined();
  });
});
