import { Scaling } from '../../src';

describe('Scaling', () => {
  test('autoscale() defaults: 2 to 4 replicas, 70% CPU, 80% memory', () => {
    // WHEN
    const scaling = Scaling.autoscale();
    // THEN
    expect(scaling).toMatchObject({ minReplicas: 2, maxReplicas: 4, autoscaled: true, cpuUtilizationPercent: 70, memoryUtilizationPercent: 80 });
    expect(Scaling.DEFAULT_MIN_REPLICAS).toBe(2);
    expect(Scaling.DEFAULT_MAX_REPLICAS).toBe(4);
  });

  test('fixed(n): min = max = n, not autoscaled, no utilization targets', () => {
    const scaling = Scaling.fixed(3);
    expect(scaling).toMatchObject({ minReplicas: 3, maxReplicas: 3, autoscaled: false });
    expect(scaling.cpuUtilizationPercent).toBeUndefined();
    expect(scaling.memoryUtilizationPercent).toBeUndefined();
  });

  describe('withMinReplicas', () => {
    test('autoscaled, floor under the ceiling: only the floor moves, targets kept', () => {
      // GIVEN
      const scaling = Scaling.autoscale({ minReplicas: 2, maxReplicas: 10, cpuUtilizationPercent: 50, memoryUtilizationPercent: 60 });
      // WHEN
      const raised = scaling.withMinReplicas(5);
      // THEN
      expect(raised).toMatchObject({ minReplicas: 5, maxReplicas: 10, autoscaled: true, cpuUtilizationPercent: 50, memoryUtilizationPercent: 60 });
      expect(scaling.minReplicas).toBe(2); // immutable
    });

    test('autoscaled, floor above the ceiling: the ceiling rises with it', () => {
      expect(Scaling.autoscale().withMinReplicas(6)).toMatchObject({ minReplicas: 6, maxReplicas: 6, autoscaled: true });
    });

    test('fixed: the count rises to the floor', () => {
      expect(Scaling.fixed(2).withMinReplicas(5)).toMatchObject({ minReplicas: 5, maxReplicas: 5, autoscaled: false });
    });

    test('fixed: a lower floor keeps the count', () => {
      expect(Scaling.fixed(4).withMinReplicas(1)).toMatchObject({ minReplicas: 4, maxReplicas: 4, autoscaled: false });
    });
  });
});
