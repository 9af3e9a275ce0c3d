/**
 * The Gateway API reader (src/routing/gateway-api/_reader.ts), the only parser of HTTPRoutes, on small hand-written
 * YAML: rules become route rules whose targets are Services (relative weights as percentages), the Services routes
 * name or that select a version become backends (second pass, knowing the other stage), and what a GAMMA route
 * attaches to is routed.
 */
import * as YAML from 'yaml';
import { GATEWAY_API_PLUGIN } from '../../../src/routing/gateway-api/_plugin';
import { GATEWAY_API_READER, GatewayApiStage, isGatewayApi, isServiceRef, serviceParents, serviceRefs } from '../../../src/routing/gateway-api/_reader';
import { readOptions, readStageWith } from '../../../src/safety/_engine';
import { FactsBuilder } from '../../../src/safety/_facts';
import { StageManifests } from '../../../src/safety/_manifests';

const objects = (yaml: string) => YAML.parseAllDocuments(yaml).map((d) => d.toJS());
/** The reader's first pass over `yaml` (objects without a namespace are in `bookinfo`). */
function read(yaml: string): { facts: FactsBuilder; model: GatewayApiStage } {
  const facts: FactsBuilder = { backends: [], routes: [], routedServices: new Set(), serviceRoutes: [] };
  return { facts, model: GATEWAY_API_READER.read(new StageManifests(objects(yaml), readOptions('bookinfo')), facts) };
}

const SERVICES = `
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: reviews-v1 }
spec: { selector: { app: reviews, version: v1 }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: reviews-v2 }
spec: { selector: { app: reviews, version: v2 }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: legacy }
spec: { selector: { app: legacy }, ports: [{ name: http, port: 80 }] }
`;
const ROUTE = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]
  rules:
    - name: weighted
      backendRefs:
        - { name: reviews-v1, port: 9080, weight: 1 }
        - { name: reviews-v2, port: 9080, weight: 2 }
      filters:
        - type: RequestMirror
          requestMirror: { backendRef: { name: legacy, port: 80 }, fraction: { numerator: 1, denominator: 8 } }
      timeouts: { request: 10s, backendRequest: 2s }
      retry: { attempts: 2 }
    - name: testers
      matches: [{ headers: [{ name: x-user, value: tester }] }, { headers: [{ type: RegularExpression, name: x-beta, value: "^1.*" }], path: { value: /beta } }]
      backendRefs: [{ name: reviews-v2, port: 9080 }]
`;

describe('Gateway API reader', () => {
  test('the rules: those with a condition ranked before the catch-all, whatever their order; relative weights as percentages', () => {
    const { facts } = read(SERVICES + '---' + ROUTE);
    expect(facts.routes).toHaveLength(1);
    const [route] = facts.routes;
    expect(route).toMatchObject({ object: 'HTTPRoute/reviews', namespace: 'bookinfo', list: 'rules', needsCatchAll: true });
    const [testers, weighted] = route.rules;
    expect(testers).toMatchObject({ where: 'HTTPRoute/reviews rules[1] (testers)', hasMatch: true, matchText: 'x-user=tester | x-beta~^1.* & path' });
    expect(testers.targets.map((t) => [t.backendId, t.weight])).toEqual([['service:bookinfo/reviews-v2', 100]]);
    expect(weighted).toMatchObject({ where: 'HTTPRoute/reviews rules[0] (weighted)', hasMatch: false, timeoutMs: 10_000, retries: { attempts: 2, perTryTimeoutMs: 2000 } });
    expect(weighted.targets.map((t) => [t.kind, t.name, t.label, t.mirror])).toEqual([
      ['service', 'reviews-v1', 'Service bookinfo/reviews-v1', false],
      ['service', 'reviews-v2', 'Service bookinfo/reviews-v2', false],
      ['service', 'legacy', 'Service bookinfo/legacy', true],
    ]);
    const [v1, v2, mirror] = weighted.targets.map((t) => t.weight);
    expect(v1 + v2).toBe(100);
    expect(v1).toBeCloseTo(100 / 3, 5);
    expect(mirror).toBe(12.5);
  });

  test('the Services it sends, mirrors to and attaches to are routed; the model keeps the route and the Services it names', () => {
    const { facts, model } = read(SERVICES + '---' + ROUTE);
    expect([...facts.routedServices].sort()).toEqual(['bookinfo/legacy', 'bookinfo/reviews', 'bookinfo/reviews-v1', 'bookinfo/reviews-v2']);
    expect(model.routes.map((r) => [r.object, r.parents, r.refs.length])).toEqual([['HTTPRoute/reviews', ['bookinfo/reviews'], 4]]);
    expect([...model.named].sort()).toEqual(['bookinfo/legacy', 'bookinfo/reviews-v1', 'bookinfo/reviews-v2']);
    expect(facts.backends).toEqual([]); // backends come in the second pass
  });

  test('backends: the Services a route names, and those selecting a version; not the GAMMA parent', () => {
    const facts = readStageWith([GATEWAY_API_PLUGIN], objects(SERVICES + '---' + ROUTE), readOptions('bookinfo'));
    expect(facts.backends.map((b) => [b.id, b.podsKnown])).toEqual([
      ['service:bookinfo/reviews-v1', true], ['service:bookinfo/reviews-v2', true], ['service:bookinfo/legacy', true],
    ]);
    expect(facts.backends[0]).toMatchObject({ kind: 'service', object: 'Service/reviews-v1', namespace: 'bookinfo', selector: { app: 'reviews', version: 'v1' } });
  });

  test('a Service the other stage routes to stays a backend (its removal is checked)', () => {
    const before = objects(SERVICES + '---' + ROUTE);
    const after = objects(SERVICES);
    const alone = readStageWith([GATEWAY_API_PLUGIN], after, readOptions('bookinfo'));
    const withBefore = readStageWith([GATEWAY_API_PLUGIN], after, readOptions('bookinfo'), before);
    expect(alone.backends.map((b) => b.name)).toEqual(['reviews-v1', 'reviews-v2']); // they select a version
    expect(withBefore.backends.map((b) => b.name)).toEqual(['reviews-v1', 'reviews-v2', 'legacy']);
  });

  test('weights: 1 when left out, invalid ones count 0 and are kept as written; a root path prefix takes every request', () => {
    const { facts } = read(`
apiVersion: v1
kind: Service
metadata: { name: front, namespace: front }
spec: { selector: { app: front }, ports: [{ name: http, port: 80 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews, namespace: front }
spec:
  parentRefs: [{ group: "", kind: Service, name: front }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: a, port: 80 }, { name: b, port: 80 }]
    - backendRefs: [{ name: a, port: 80, weight: -1 }, { name: b, namespace: other, port: 80, weight: 2000000 }]
    - backendRefs: [{ group: multicluster.x-k8s.io, kind: ServiceImport, name: c, port: 80 }]
`);
    const [even, invalid, imported] = facts.routes[0].rules;
    expect(even).toMatchObject({ hasMatch: false, matchText: 'path' });
    expect(even.targets.map((t) => [t.backendId, t.weight])).toEqual([['service:front/a', 50], ['service:front/b', 50]]);
    expect(invalid.targets.map((t) => [t.backendId, t.weight, t.invalidWeight])).toEqual([['service:front/a', 0, -1], ['service:other/b', 0, 2_000_000]]);
    expect(imported.targets.map((t) => [t.kind, t.backendId, t.label, t.weight])).toEqual([
      ['host', 'host:multicluster.x-k8s.io/ServiceImport/front/c', 'ServiceImport front/c', 100],
    ]);
  });

  test('helpers: what a Gateway API object, a Service ref, a route\'s Service parents and Service refs are', () => {
    const [route] = objects(ROUTE);
    expect(isGatewayApi(route, 'HTTPRoute')).toBe(true);
    expect(isGatewayApi({ ...route, apiVersion: 'example.com/v1' }, 'HTTPRoute')).toBe(false);
    expect(isServiceRef({ name: 'a' })).toBe(true);
    expect(isServiceRef({ group: '', kind: 'Service', name: 'a' })).toBe(true);
    expect(isServiceRef({ group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'a' })).toBe(false);
    expect(serviceParents(route, 'bookinfo')).toEqual(['bookinfo/reviews']);
    expect(serviceParents({ spec: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public' }] } }, 'bookinfo')).toEqual([]);
    expect(serviceRefs(route, 'bookinfo')).toEqual([
      { namespace: 'bookinfo', name: 'reviews-v1', rule: 0, mirror: false, port: 9080, weight: 1 },
      { namespace: 'bookinfo', name: 'reviews-v2', rule: 0, mirror: false, port: 9080, weight: 2 },
      { namespace: 'bookinfo', name: 'legacy', rule: 0, mirror: true, port: 80, weight: undefined },
      { namespace: 'bookinfo', name: 'reviews-v2', rule: 1, mirror: false, port: 9080, weight: undefined },
    ]);
  });

  test('other API groups of the kind are not read; ReferenceGrants are kept for their rule', () => {
    const { facts, model } = read(`
apiVersion: example.com/v1
kind: HTTPRoute
metadata: { name: reviews }
spec: { rules: [{ backendRefs: [{ name: a, port: 80 }] }] }
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: from-front, namespace: bookinfo }
spec: { from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front }], to: [{ group: "", kind: Service }] }
`);
    expect(facts.routes).toEqual([]);
    expect(model.routes).toEqual([]);
    expect(model.grants.map((g) => g.metadata.name)).toEqual(['from-front']);
  });
});
