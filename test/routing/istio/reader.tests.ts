/**
 * Istio's reader (src/routing/istio/_reader.ts), the only parser of DestinationRules and VirtualServices, on small
 * hand-written YAML: subsets become backends, `http`/`tcp`/`tls` routes become route rules, the hosts they name are
 * the Services Istio routes, and its model keeps what Istio's rules read.
 */
import * as YAML from 'yaml';
import { ISTIO_READER, IstioStage, isIstioNetworking, subsetId } from '../../../src/routing/istio/_reader';
import { readOptions } from '../../../src/safety/_engine';
import { FactsBuilder } from '../../../src/safety/_facts';
import { StageManifests } from '../../../src/safety/_manifests';

/** The reader's first pass over `yaml` (objects without a namespace are in `bookinfo`). */
function read(yaml: string, clusterDomain?: string): { facts: FactsBuilder; model: IstioStage } {
  const stage = new StageManifests(YAML.parseAllDocuments(yaml).map((d) => d.toJS()), readOptions('bookinfo', clusterDomain));
  const facts: FactsBuilder = { backends: [], routes: [], routedServices: new Set(), serviceRoutes: [] };
  return { facts, model: ISTIO_READER.read(stage, facts) };
}

const HOST = 'reviews.bookinfo.svc.cluster.local';
const CANARY = `
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080 }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - name: testers
      match: [{ headers: { x-user: { exact: tester } } }, { headers: { x-beta: { prefix: "1" } }, uri: { prefix: /beta } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - name: weighted
      route:
        - { destination: { host: reviews, subset: v1 }, weight: 90 }
        - { destination: { host: reviews, subset: v2 }, weight: 10 }
      mirror: { host: reviews, subset: v2 }
      mirrorPercentage: { value: 5 }
      timeout: 10s
      retries: { attempts: 2, perTryTimeout: 2s }
`;

describe('Istio reader', () => {
  test('each subset is a backend: its id, name, host (resolved), object, and the pods it selects (Service selector + subset labels)', () => {
    const { facts } = read(CANARY);
    expect(facts.backends).toEqual([
      { id: subsetId(HOST, 'v1'), kind: 'subset', label: `subset 'v1' of ${HOST}`, name: 'v1', host: HOST, object: 'DestinationRule/reviews', namespace: 'bookinfo', selector: { app: 'reviews', version: 'v1' }, podsKnown: true },
      { id: subsetId(HOST, 'v2'), kind: 'subset', label: `subset 'v2' of ${HOST}`, name: 'v2', host: HOST, object: 'DestinationRule/reviews', namespace: 'bookinfo', selector: { app: 'reviews', version: 'v2' }, podsKnown: true },
    ]);
    expect(subsetId(HOST, 'v1')).toBe(`subset:${HOST}#v1`);
  });

  test('each http route is a rule, in order: its matches for people, its targets with their shares, mirrors, retries and timeout', () => {
    const { facts } = read(CANARY);
    expect(facts.routes).toHaveLength(1);
    const [route] = facts.routes;
    expect(route).toMatchObject({ object: 'VirtualService/reviews', namespace: 'bookinfo', list: 'http', needsCatchAll: true });
    const [testers, weighted] = route.rules;
    expect(testers).toMatchObject({ where: 'VirtualService/reviews http[0]', hasMatch: true, matchText: 'x-user=tester | x-beta^=1 & uri' });
    expect(testers.targets.map((t) => [t.name, t.weight, t.mirror])).toEqual([['v2', 100, false]]); // a lone destination takes all
    expect(weighted).toMatchObject({ where: 'VirtualService/reviews http[1]', hasMatch: false, timeoutMs: 10_000, retries: { attempts: 2, perTryTimeoutMs: 2000 } });
    expect(weighted.matchText).toBeUndefined();
    expect(weighted.targets.map((t) => [t.backendId, t.weight, t.mirror])).toEqual([
      [subsetId(HOST, 'v1'), 90, false], [subsetId(HOST, 'v2'), 10, false], [subsetId(HOST, 'v2'), 5, true],
    ]);
  });

  test('the Service the hosts name is routed by Istio', () => {
    expect([...read(CANARY).facts.routedServices]).toEqual(['bookinfo/reviews']);
  });

  test('the model: the objects read once, hosts resolved, the DestinationRules by host, the hosts routed to', () => {
    const { model } = read(CANARY);
    expect(model.destinationRules.map((dr) => [dr.object, dr.namespace, dr.host, dr.subsets.length])).toEqual([['DestinationRule/reviews', 'bookinfo', HOST, 2]]);
    expect(model.virtualServices.map((vs) => [vs.object, vs.hosts, vs.destinations.length])).toEqual([['VirtualService/reviews', [HOST], 4]]);
    expect([...model.destinationRulesByHost.keys()]).toEqual([HOST]);
    expect([...model.routedHosts]).toEqual([HOST]);
    expect(model.peerAuthentications).toEqual([]);
  });

  test('a destination without a subset is a host backend; an FQDN of another namespace and a cluster domain are honoured', () => {
    const { facts } = read(`
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: ratings, namespace: front }
spec:
  hosts: [ratings.bookinfo.svc.corp.internal]
  tcp:
    - route: [{ destination: { host: ratings.bookinfo.svc.corp.internal } }]
`, 'corp.internal');
    const host = 'ratings.bookinfo.svc.corp.internal';
    expect(facts.backends).toEqual([
      { id: `host:${host}`, kind: 'host', label: host, name: host, host, object: host, namespace: 'bookinfo', selector: {}, podsKnown: false },
    ]);
    expect(facts.routes).toMatchObject([{ namespace: 'front', list: 'tcp', needsCatchAll: false }]);
    expect(facts.routes[0].rules[0]).toMatchObject({ where: 'VirtualService/ratings tcp[0]', retries: undefined, timeoutMs: undefined });
    expect([...facts.routedServices]).toEqual(['bookinfo/ratings']);
  });

  test('an invalid weight counts as 0 and is kept as written; several destinations without a weight get 0 each', () => {
    const { facts } = read(`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route:
        - { destination: { host: reviews, subset: v1 }, weight: 150 }
        - { destination: { host: reviews, subset: v2 }, weight: 12.5 }
    - route:
        - { destination: { host: reviews, subset: v1 } }
        - { destination: { host: reviews, subset: v2 } }
`);
    const [bad, unweighted] = facts.routes[0].rules;
    expect(bad.targets.map((t) => [t.weight, t.invalidWeight])).toEqual([[0, 150], [0, 12.5]]);
    expect(unweighted.targets.map((t) => [t.weight, t.invalidWeight])).toEqual([[0, undefined], [0, undefined]]);
  });

  test('other API groups of the same kinds are not Istio objects: nothing is read from them', () => {
    const { facts, model } = read(`
apiVersion: example.com/v1
kind: VirtualService
metadata: { name: reviews }
spec: { hosts: [reviews], http: [{ route: [{ destination: { host: reviews, subset: v1 } }] }] }
---
apiVersion: example.com/v1
kind: DestinationRule
metadata: { name: reviews }
spec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }] }
`);
    expect(facts).toEqual({ backends: [], routes: [], routedServices: new Set(), serviceRoutes: [] });
    expect(model.destinationRules).toEqual([]);
    expect(model.virtualServices).toEqual([]);
    expect(isIstioNetworking({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'VirtualService' }, 'VirtualService')).toBe(true);
    expect(isIstioNetworking({ apiVersion: 'example.com/v1', kind: 'VirtualService' }, 'VirtualService')).toBe(false);
  });

  test('PeerAuthentications of security.istio.io are kept for the mTLS rule', () => {
    const { model } = read(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
---
apiVersion: example.com/v1
kind: PeerAuthentication
metadata: { name: other }
`);
    expect(model.peerAuthentications.map((p) => p.metadata.name)).toEqual(['default']);
  });
});
