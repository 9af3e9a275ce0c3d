/** Pieces of the safety engine with a fast path, checked against the slow one. */
import * as fc from 'fast-check';
import { selects } from '../../src/_conventions';
import { parseDurationMs } from '../../src/safety/_durations';
import { BackendFacts, StageFacts, WorkloadFacts } from '../../src/safety/_facts';
import { StageManifests } from '../../src/safety/_manifests';
import { StageView } from '../../src/safety/_stage';
import { readWorkloads } from '../../src/safety/_workloads';
import { parseGoDuration } from '../../src/validation/_go-duration';

describe('parseDurationMs', () => {
  test('the `<integer><unit>` fast path agrees with Go\'s parser', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 999_999 }), fc.constantFrom('ms', 's', 'm', 'h'), fc.boolean(), (n, unit, zeros) => {
      const text = `${zeros ? '00' : ''}${n}${unit}`;
      expect(parseDurationMs(text)).toBe(Number(parseGoDuration(text)) / 1_000_000);
    }));
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('9999999999h')).toBeUndefined(); // past int64 nanoseconds
    expect(parseDurationMs('10')).toBeUndefined();
  });
});

describe('StageView.behind', () => {
  const labels = fc.dictionary(fc.constantFrom('app', 'version', 'tier'), fc.constantFrom('a', 'b', 'c'), { maxKeys: 3 });
  const workload = fc.record({ name: fc.constantFrom('w1', 'w2', 'w3', 'w4'), namespace: fc.constantFrom('x', 'y'), podLabels: labels });
  const facts = (workloads: Array<{ name: string; namespace: string; podLabels: any }>): StageFacts => ({
    workloads: workloads.map((w, i): WorkloadFacts => ({
      object: `Deployment/${w.name}-${i}`,
      name: w.name,
      namespace: w.namespace,
      podLabels: w.podLabels,
      floor: 1,
      floorSource: '',
      autoscaled: false,
      graceSeconds: 30,
      preStopSleepSeconds: 0,
    })),
    backends: [],
    routes: [],
    duplicates: [],
    routedServices: new Set(),
    serviceRoutes: [],
  });
  const backend = (namespace: string, selector: any): BackendFacts => ({
    id: 'service:x/s', kind: 'service', label: 'Service', name: 's', object: 'Service/s', namespace, selector, podsKnown: true,
  });

  test('a scan (few workloads) and the label index (many) find the workloads whose pods a backend selects', () => {
    fc.assert(fc.property(fc.array(workload, { maxLength: 40 }), fc.constantFrom('x', 'y'), labels, (workloads, namespace, selector) => {
      const view = new StageView(facts(workloads));
      const expected = view.facts.workloads.filter((w) => w.namespace === namespace && selects(selector, w.podLabels))
        .map((w) => `${w.namespace}/${w.object}`).sort();
      expect(view.behind(backend(namespace, selector)).map((w) => `${w.namespace}/${w.object}`)).toEqual(expected);
    }));
  });
});

describe('StageManifests.duplicates', () => {
  const object = fc.record({
    apiVersion: fc.constantFrom('v1', 'apps/v1', 'apps/v2', 'networking.istio.io/v1'),
    kind: fc.constantFrom('Service', 'Deployment'),
    metadata: fc.record({ name: fc.constantFrom('a', 'b'), namespace: fc.option(fc.constantFrom('default', 'shop'), { nil: undefined }) }),
  });

  test('pairwise (few objects) and by identity (many) count the same duplicates', () => {
    fc.assert(fc.property(fc.array(object, { maxLength: 60 }), (objects) => {
      const options = { namespace: 'default', clusterDomain: 'cluster.local' };
      const counts = new Map<string, { first: any; count: number }>();
      for (const m of objects) {
        const key = [m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '', m.kind, m.metadata.namespace ?? 'default', m.metadata.name].join('/');
        counts.set(key, { first: counts.get(key)?.first ?? m, count: (counts.get(key)?.count ?? 0) + 1 });
      }
      const expected = [...counts.values()].filter((x) => x.count > 1)
        .map(({ first, count }) => ({ object: `${first.kind}/${first.metadata.name}`, namespace: first.metadata.namespace ?? 'default', count }));
      expect(new StageManifests(objects, options).duplicates()).toEqual(expected);
    }));
  });
});

describe('readWorkloads', () => {
  const target = fc.record({
    namespace: fc.option(fc.constantFrom('default', 'shop'), { nil: undefined }),
    kind: fc.constantFrom('Deployment', 'StatefulSet'),
    name: fc.constantFrom('a', 'b', 'c'),
  });
  const hpa = fc.record({ target, minReplicas: fc.integer({ min: 0, max: 5 }) });

  test('a few autoscalers (compared) and many (keyed) give each workload the same floor', () => {
    fc.assert(fc.property(fc.array(hpa, { maxLength: 20 }), fc.array(target, { minLength: 1, maxLength: 6 }), (hpas, targets) => {
      const options = { namespace: 'default', clusterDomain: 'cluster.local' };
      const workloads = targets.map(({ namespace, kind, name }) => ({ apiVersion: 'apps/v1', kind, metadata: { name, namespace }, spec: { replicas: 3 } }));
      const autoscalers = hpas.map(({ target: t, minReplicas }, i) => ({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: `h${i}`, namespace: t.namespace },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: t.kind, name: t.name }, minReplicas },
      }));
      const expected = workloads.map((w) => {
        const mine = autoscalers.filter((h) => (h.metadata.namespace ?? 'default') === (w.metadata.namespace ?? 'default')
          && h.spec.scaleTargetRef.kind === w.kind && h.spec.scaleTargetRef.name === w.metadata.name);
        return mine.length === 1 ? mine[0].spec.minReplicas : 3;
      });
      expect(readWorkloads(new StageManifests([...workloads, ...autoscalers], options)).map((w) => w.floor)).toEqual(expected);
    }));
  });
});
