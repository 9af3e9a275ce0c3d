/**
 * Traffic floors (src/release/_traffic-floors.ts), a pure function of a stage, its neighbours and each version's
 * scaling: an autoscaled version's `minReplicas` is raised to its share of the traffic (the largest of its weights in
 * the stage, the next one and the previous one) times the floor that carried all traffic.
 */
import { ReleasePlan, Scaling } from '../../src';
import { scalingOptions, trafficFloors } from '../../src/release/_traffic-floors';

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
