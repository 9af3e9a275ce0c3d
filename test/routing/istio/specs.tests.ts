/**
 * The Istio specs of a stage (src/routing/istio/_specs.ts), pure functions of the stage and a routing context: the
 * DestinationRule (one subset per routable version) and the VirtualService (header routes, then the weighted
 * catch-all with the mirror).
 */
import { HeaderMatchType, ReleaseStage } from '../../../src/plan/release-stage';
import { destinationRuleSpec, RoutingContext, serviceHost, virtualServiceSpec } from '../../../src/routing/istio/_specs';

const CTX: RoutingContext = { app: 'reviews', namespace: 'bookinfo', clusterDomain: 'cluster.local', port: 9080 };
const HOST = 'reviews.bookinfo.svc.cluster.local';
const split = ReleaseStage.custom({
  name: 'split',
  deployed: ['v1', 'v2', 'v3'],
  routable: ['v1', 'v2', 'v3'],
  weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }],
  headerRoutes: [
    { header: 'x-user', value: 'tester', version: 'v3' },
    { header: 'x-beta', value: 'yes', version: 'v2', matchType: HeaderMatchType.PREFIX },
    { header: 'x-id', value: '^[0-9]+$', version: 'v2', matchType: HeaderMatchType.REGEX },
  ],
  mirror: { version: 'v3', percent: 5 },
});
const destination = (subset: string) => ({ host: HOST, subset, port: { number: 9080 } });

describe('Istio specs', () => {
  test("serviceHost: the app's Service FQDN in the namespace and cluster domain", () => {
    expect(serviceHost(CTX)).toBe(HOST);
    expect(serviceHost({ ...CTX, clusterDomain: 'corp.internal' })).toBe('reviews.bookinfo.svc.corp.internal');
  });

  describe('destinationRuleSpec', () => {
    test('one subset per routable version, selected by its version label, on the FQDN', () => {
      const stage = ReleaseStage.custom({ name: 'make-routable', deployed: ['v1'], routable: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] });
      expect(destinationRuleSpec(stage, CTX)).toEqual({
        host: HOST,
        trafficPolicy: undefined,
        subsets: [
          { name: 'v1', labels: { version: 'v1' }, trafficPolicy: undefined },
          { name: 'v2', labels: { version: 'v2' }, trafficPolicy: undefined },
        ],
      });
    });

    test("the traffic policy, and each subset's own", () => {
      const spec = destinationRuleSpec(ReleaseStage.stable('v1'), {
        ...CTX,
        trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 } } },
        subsetTrafficPolicies: { v1: { loadBalancer: { simple: 'ROUND_ROBIN' } } as any, v2: undefined },
      });
      expect(spec.trafficPolicy).toEqual({ connectionPool: { tcp: { maxConnections: 10 } } });
      expect(spec.subsets).toEqual([{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }]);
    });
  });

  describe('virtualServiceSpec', () => {
    test('the stable stage: one catch-all route with all traffic, on the FQDN', () => {
      expect(virtualServiceSpec(ReleaseStage.stable('v1'), CTX)).toEqual({
        hosts: [HOST],
        gateways: undefined,
        http: [{ name: 'weighted', route: [{ destination: destination('v1'), weight: 100 }], timeout: undefined, retries: undefined }],
      });
    });

    test('header routes first, in order, each to its version; the weighted catch-all last, without match', () => {
      const http = virtualServiceSpec(split, CTX).http!;
      expect(http.map((r) => r.name)).toEqual(['header-x-user-v3', 'header-x-beta-v2', 'header-x-id-v2', 'weighted']);
      expect(http.slice(0, 3).map((r) => r.match)).toEqual([
        [{ headers: { 'x-user': { exact: 'tester' } } }],
        [{ headers: { 'x-beta': { prefix: 'yes' } } }],
        [{ headers: { 'x-id': { regex: '^[0-9]+$' } } }],
      ]);
      expect(http.slice(0, 3).map((r) => r.route)).toEqual([[{ destination: destination('v3') }], [{ destination: destination('v2') }], [{ destination: destination('v2') }]]);
      expect(http[3].match).toBeUndefined();
      expect(http[3].route).toEqual([{ destination: destination('v1'), weight: 80 }, { destination: destination('v2'), weight: 20 }]);
    });

    test('the mirror goes on the catch-all only (100% when no percent is given)', () => {
      const http = virtualServiceSpec(split, CTX).http!;
      expect(http[3]).toMatchObject({ mirror: destination('v3'), mirrorPercentage: { value: 5 } });
      expect(http.slice(0, 3).every((r) => r.mirror === undefined)).toBe(true);
      const full = ReleaseStage.custom({ name: 'mirror', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2' } });
      expect(virtualServiceSpec(full, CTX).http![0].mirrorPercentage).toEqual({ value: 100 });
    });

    test('timeout and retries on every route; hosts and gateways as given', () => {
      const retries = { attempts: 2, perTryTimeout: '2s', retryOn: 'gateway-error' };
      const spec = virtualServiceSpec(split, { ...CTX, timeout: '10s', retries, hosts: ['reviews.example.com'], gateways: ['mesh', 'infra/public'] });
      expect(spec.hosts).toEqual(['reviews.example.com']);
      expect(spec.gateways).toEqual(['mesh', 'infra/public']);
      expect(spec.http!.map((r) => [r.timeout, r.retries])).toEqual(Array(4).fill(['10s', retries]));
      // destinations still name the Service's FQDN
      expect(spec.http![3].route![0].destination!.host).toBe(HOST);
    });
  });
});
