/**
 * The Gateway API specs of a stage (src/routing/gateway-api/_specs.ts), pure functions of the stage and a routing
 * context: per-version Service names and selectors, the HTTPRoute (header rules, then the weighted catch-all with
 * the mirror), header matches, mirror shares, the experimental retry and Gateway API durations.
 */
import { HeaderMatchType, ReleaseStage } from '../../../src';
import {
  experimentalRetry, GatewayRoutingContext, gatewayDuration, headerMatch, httpRouteSpec, mirrorShare, RETRY_ON_CODES, serviceParent,
  versionServiceName, versionServiceSelector,
} from '../../../src/routing/gateway-api/_specs';

const CTX: GatewayRoutingContext = { app: 'reviews', port: 9080, parentRefs: [serviceParent('reviews')], requestTimeout: '10s' };
/** A backendRef with the CRD's defaults written out (group '', kind Service), as the API server stores it. */
const ref = (version: string) => ({ group: '', kind: 'Service', name: `reviews-${version}`, port: 9080 });
/** The root path prefix: the CRD's default of a rule without matches and of a match without a path. */
const EVERY_PATH = { type: 'PathPrefix', value: '/' };

describe('Gateway API specs', () => {
  test("names: the GAMMA parent is the app's Service; a version's Service is <app>-<version>, selecting app and version", () => {
    expect(serviceParent('reviews')).toEqual({ group: '', kind: 'Service', name: 'reviews' });
    expect(versionServiceName('reviews', 'v2')).toBe('reviews-v2');
    expect(versionServiceSelector('reviews', 'v2')).toEqual({ app: 'reviews', version: 'v2' });
  });

  describe('httpRouteSpec', () => {
    test('the stable stage: one catch-all rule with all traffic, attached to its parents', () => {
      expect(httpRouteSpec(ReleaseStage.stable('v1'), CTX)).toEqual({
        parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }],
        hostnames: undefined,
        rules: [{
          name: 'weighted',
          matches: [{ path: EVERY_PATH }],
          backendRefs: [{ ...ref('v1'), weight: 100 }],
          filters: undefined,
          timeouts: { request: '10s', backendRequest: undefined },
        }],
      });
    });

    test('one rule per header route, in order, then the weighted catch-all (the root path prefix) with the mirror', () => {
      const stage = ReleaseStage.custom({
        name: 'split',
        deployed: ['v1', 'v2', 'v3'],
        weights: [{ version: 'v1', weight: 70 }, { version: 'v2', weight: 30 }],
        headerRoutes: [{ header: 'x-user', value: 'tester', version: 'v3' }, { header: 'x-beta', value: 'a.b', version: 'v2', matchType: HeaderMatchType.PREFIX }],
        mirror: { version: 'v3', percent: 12.5 },
      });
      const spec = httpRouteSpec(stage, { ...CTX, hostnames: ['reviews.example.com'], backendRequestTimeout: '2s' });
      expect(spec.hostnames).toEqual(['reviews.example.com']);
      expect(spec.rules!.map((r) => r.name)).toEqual(['header-0', 'header-1', 'weighted']);
      expect(spec.rules!.map((r) => r.matches)).toEqual([
        [{ path: EVERY_PATH, headers: [{ type: 'Exact', name: 'x-user', value: 'tester' }] }],
        [{ path: EVERY_PATH, headers: [{ type: 'RegularExpression', name: 'x-beta', value: '^a\\.b.*' }] }],
        [{ path: EVERY_PATH }],
      ]);
      expect(spec.rules!.map((r) => r.backendRefs)).toEqual([
        [{ ...ref('v3'), weight: 1 }], [{ ...ref('v2'), weight: 1 }], [{ ...ref('v1'), weight: 70 }, { ...ref('v2'), weight: 30 }],
      ]);
      expect(spec.rules![2].filters).toEqual([{ type: 'RequestMirror', requestMirror: { backendRef: ref('v3'), fraction: { numerator: 125, denominator: 1000 } } }]);
      expect(spec.rules!.every((r) => r.timeouts?.request === '10s' && r.timeouts?.backendRequest === '2s')).toBe(true);
    });
  });

  test('headerMatch: exact as is; a prefix as an anchored, escaped regular expression; a regex as written', () => {
    expect(headerMatch({ header: 'x-a', value: 'v', version: 'v2' })).toEqual({ type: 'Exact', name: 'x-a', value: 'v' });
    expect(headerMatch({ header: 'x-a', value: 'a+b(c)*[d]$', version: 'v2', matchType: HeaderMatchType.PREFIX }))
      .toEqual({ type: 'RegularExpression', name: 'x-a', value: '^a\\+b\\(c\\)\\*\\[d\\]\\$.*' });
    expect(headerMatch({ header: 'x-a', value: '^v[0-9]+$', version: 'v2', matchType: HeaderMatchType.REGEX }))
      .toEqual({ type: 'RegularExpression', name: 'x-a', value: '^v[0-9]+$' });
  });

  test('mirrorShare: a whole percent as `percent` (100 by default), a fractional one as an exact `fraction`', () => {
    expect(mirrorShare({ version: 'v2' })).toEqual({ percent: 100 });
    expect(mirrorShare({ version: 'v2', percent: 5 })).toEqual({ percent: 5 });
    expect(mirrorShare({ version: 'v2', percent: 0.5 })).toEqual({ fraction: { numerator: 5, denominator: 1000 } });
    expect(mirrorShare({ version: 'v2', percent: 33.333 })).toEqual({ fraction: { numerator: 33333, denominator: 100000 } });
  });

  test('experimentalRetry: none without attempts; the status codes of the conditions, sorted and once each; no codes key without codes', () => {
    expect(experimentalRetry(0, 'gateway-error')).toBeUndefined();
    expect(experimentalRetry(2, 'retriable-4xx,gateway-error,gateway-error')).toEqual({ attempts: 2, codes: [409, 502, 503, 504] });
    expect(experimentalRetry(3, 'connect-failure,refused-stream')).toEqual({ attempts: 3 });
    expect(experimentalRetry(3, undefined)).toEqual({ attempts: 3 });
    expect(experimentalRetry(1, '5xx')!.codes).toEqual(RETRY_ON_CODES['5xx']);
    expect(RETRY_ON_CODES['5xx']).toHaveLength(100);
  });

  test('gatewayDuration: whole milliseconds in up to four parts of at most five digits', () => {
    expect(gatewayDuration(0)).toBe('0s');
    expect(gatewayDuration(10_000)).toBe('10s');
    expect(gatewayDuration(90_000)).toBe('1m30s');
    expect(gatewayDuration(1500)).toBe('1s500ms');
    expect(gatewayDuration(3_600_000 + 1)).toBe('1h1ms');
    expect(gatewayDuration(99_999 * 3_600_000 + 3_599_999)).toBe('99999h59m59s999ms');
    expect(gatewayDuration(100_000 * 3_600_000)).toBeUndefined();
  });
});
