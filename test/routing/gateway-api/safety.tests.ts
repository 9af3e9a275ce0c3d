import * as path from 'path';
import { SafetyCheck, SafetyRule, SafetyViolation, Severity } from '../../../src';
import { checkCommand } from '../../../src/cli/check';
import { readManifests } from '../../../src/cli/manifests';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'gateway-api');
const fixture = (name: string) => path.join(FIXTURES, name);
const load = (name: string) => readManifests(fixture(name)).objects;

/** `[rule, severity, object]` of each violation of `current` after `previous`. */
function found(current: any[], previous?: any[]): Array<[string, string, string]> {
  return SafetyCheck.check(current, previous).map((v: SafetyViolation) => [v.rule, v.severity, v.object]);
}

/** The output and exit code of `mesh-release check before after`. */
function cliCheck(before: string, after: string): { code: number; out: string } {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => {
    lines.push(line);
  });
  try {
    const code = checkCommand(fixture(before), fixture(after));
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('hand-written Gateway API YAML (GAMMA route, one Service per version)', () => {
  test.each([
    ['stable.yaml', 'deploy.yaml'],
    ['deploy.yaml', 'shift-10.yaml'],
    ['shift-10.yaml', 'shift-100.yaml'],
    ['shift-100.yaml', 'unroute.yaml'],
    ['unroute.yaml', 'remove-service.yaml'],
    ['remove-service.yaml', 'retire.yaml'],
    ['deploy.yaml', 'header-catch-all-first.yaml'],
  ])('%s -> %s is safe', (before, after) => {
    expect(found(load(after), load(before))).toEqual([]);
    expect(cliCheck(before, after)).toEqual({ code: 0, out: expect.stringMatching(/^OK: no violations/) });
  });

  test('fails service-before-route: a backendRef to a Service created in the same stage', () => {
    // WHEN
    const violations = SafetyCheck.check(load('shift-10.yaml'), load('deploy-without-service.yaml'));
    // THEN
    expect(violations).toEqual([{
      rule: SafetyRule.SERVICE_BEFORE_ROUTE,
      severity: Severity.ERROR,
      object: 'HTTPRoute/reviews rules[0]',
      message: 'routes to Service bookinfo/reviews-v2, which the previous stage did not define; the proxies may receive this route before the Service\'s endpoints',
      fix: 'add Service bookinfo/reviews-v2 in a stage of its own, before the one that routes to it',
    }]);
    const cli = cliCheck('deploy-without-service.yaml', 'shift-10.yaml');
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('HTTPRoute/reviews rules[0]  [service-before-route]  routes to Service bookinfo/reviews-v2');
  });

  test('fails service-removed-while-routed: the Service leaves while the previous route still names it', () => {
    expect(SafetyCheck.check(load('remove-service.yaml'), load('shift-100.yaml'))).toEqual([{
      rule: SafetyRule.SERVICE_REMOVED_WHILE_ROUTED,
      severity: Severity.ERROR,
      object: 'Service/reviews-v1',
      message: "Service bookinfo/reviews-v1 is removed while the previous stage's route still sends to it",
      fix: 'remove Service bookinfo/reviews-v1 from the route in one stage, then remove it in the next',
    }]);
    expect(cliCheck('shift-100.yaml', 'remove-service.yaml').out).toContain('[service-removed-while-routed]');
  });

  test('fails deployment-removed-while-service: the Deployment goes while its routed Service still selects it', () => {
    expect(found(load('delete-v1-deployment.yaml'), load('shift-100.yaml'))).toEqual([
      [SafetyRule.DEPLOYMENT_REMOVED_WHILE_SERVICE, Severity.ERROR, 'Deployment/reviews-v1'],
    ]);
    expect(SafetyCheck.check(load('delete-v1-deployment.yaml'), load('shift-100.yaml'))[0].message)
      .toBe('is deleted while Service bookinfo/reviews-v1 in the previous stage, which a route names, still selects its pods');
    expect(cliCheck('shift-100.yaml', 'delete-v1-deployment.yaml').code).toBe(1);
  });

  test('fails catch-all-route: a match rule without a catch-all rule', () => {
    expect(SafetyCheck.check(load('header-without-catch-all.yaml'), load('deploy.yaml'))).toEqual([{
      rule: SafetyRule.CATCH_ALL_ROUTE,
      severity: Severity.ERROR,
      object: 'HTTPRoute/reviews rules[0]',
      message: 'the last route has a match, so requests matching none of the routes get 404 (no route)',
      fix: 'end rules with a route that has no match and carries the weighted destinations',
    }]);
    expect(cliCheck('deploy.yaml', 'header-without-catch-all.yaml').out).toContain('[catch-all-route]');
  });
});

// Hand-built objects for the other rules.
const NS = 'bookinfo';
const service = (name: string, selector: object, namespace = NS) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector, ports: [{ name: 'http', port: 9080 }] } });
const deployment = (version: string, namespace = NS) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `reviews-${version}`, namespace },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'reviews', version } },
    template: { metadata: { labels: { app: 'reviews', version } }, spec: { containers: [{ name: 'reviews', image: `reviews:${version}` }] } },
  },
});
const route = (rules: any[], parentRefs: any[] = [{ group: '', kind: 'Service', name: 'reviews' }]) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'reviews', namespace: NS }, spec: { parentRefs, rules },
});
const ref = (version: string, weight?: number, namespace?: string) => ({ name: `reviews-${version}`, namespace, port: 9080, weight });
const versionService = (version: string, namespace = NS) => service(`reviews-${version}`, { app: 'reviews', version }, namespace);
const base = [service('reviews', { app: 'reviews' }), versionService('v1'), versionService('v2'), deployment('v1'), deployment('v2')];

describe('Gateway API rules on hand-built objects', () => {
  test('service-defined: fails on a backendRef to a Service that does not exist; passes once it does', () => {
    const current = [service('reviews', { app: 'reviews' }), versionService('v1'), deployment('v1'), deployment('v2'), route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }])];
    expect(SafetyCheck.check(current).map((v) => [v.rule, v.object, v.message])).toEqual([[
      SafetyRule.SERVICE_DEFINED, 'HTTPRoute/reviews rules[0]',
      'routes to Service bookinfo/reviews-v2, which does not exist in this stage, so the route has no endpoints for it (503)',
    ]]);
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }])])).toEqual([]);
  });

  test('destination-ready: fails on weight to a Service whose Deployment is new in this stage; passes a stage later', () => {
    const previous = [service('reviews', { app: 'reviews' }), versionService('v1'), versionService('v2'), deployment('v1'), route([{ backendRefs: [ref('v1', 100)] }])];
    const current = [...base, route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }])];
    expect(found(current, previous)).toEqual([[SafetyRule.DESTINATION_READY, Severity.ERROR, 'HTTPRoute/reviews rules[0]']]);
    expect(found(current, [...base, route([{ backendRefs: [ref('v1', 100)] }])])).toEqual([]);
  });

  test('service-selects-version: fails when the Service the route attaches to selects a version; passes on app only', () => {
    const current = [service('reviews', { app: 'reviews', version: 'v1' }), ...base.slice(1), route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }])];
    expect(SafetyCheck.check(current).map((v) => [v.rule, v.severity, v.object, v.fix])).toEqual([[
      SafetyRule.SERVICE_SELECTS_VERSION, Severity.ERROR, 'Service/reviews',
      'select on the app label only and let the HTTPRoute backendRefs (one Service per version) pick versions',
    ]]);
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }])])).toEqual([]);
  });

  test('service-selects-version does not apply to a route on a Gateway', () => {
    const gateway = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'infra' }];
    const current = [service('reviews', { app: 'reviews', version: 'v1' }), ...base.slice(1), route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }], gateway)];
    expect(found(current).filter(([rule]) => rule === SafetyRule.SERVICE_SELECTS_VERSION)).toEqual([]);
  });

  test('reference-grant: fails on a backendRef to another namespace without a ReferenceGrant there; passes with one', () => {
    const objects = [service('reviews', { app: 'reviews' }), versionService('v1'), deployment('v1'), versionService('v2', 'canary'), deployment('v2', 'canary'),
      route([{ backendRefs: [ref('v1', 90), ref('v2', 10, 'canary')] }])];
    expect(SafetyCheck.check(objects).map((v) => [v.rule, v.severity, v.object, v.message])).toEqual([[
      SafetyRule.REFERENCE_GRANT, Severity.ERROR, 'HTTPRoute/reviews rules[0]',
      "routes to Service canary/reviews-v2 in another namespace, which no ReferenceGrant in 'canary' allows for HTTPRoutes of 'bookinfo': the backendRef is not resolved and its share of requests fails (500)",
    ]]);
    const grant = (to: object) => ({
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: 'from-bookinfo', namespace: 'canary' },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'bookinfo' }], to: [to] },
    });
    expect(SafetyCheck.check([...objects, grant({ group: '', kind: 'Service' })])).toEqual([]);
    expect(SafetyCheck.check([...objects, grant({ group: '', kind: 'Service', name: 'reviews-v2' })])).toEqual([]);
    expect(found([...objects, grant({ group: '', kind: 'Service', name: 'other' })]).map(([rule]) => rule)).toEqual([SafetyRule.REFERENCE_GRANT]);
  });

  test('reference-grant applies to mirrors too', () => {
    const objects = [...base.slice(0, 2), deployment('v1'), versionService('v2', 'canary'), deployment('v2', 'canary'), route([{
      backendRefs: [ref('v1')],
      filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', namespace: 'canary', port: 9080 }, percent: 10 } }],
    }])];
    expect(SafetyCheck.check(objects).map((v) => v.message)).toEqual([expect.stringMatching(/^mirrors to Service canary\/reviews-v2 in another namespace/)]);
  });

  test('weights are relative: 1 and 1 split evenly; all 0 fails (Gateway API answers 500)', () => {
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1', 1), ref('v2', 1)] }])])).toEqual([]);
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1'), ref('v2'), ref('v2', 1)] }])]).map((v) => v.rule)).toEqual([]);
    expect(found([...base, route([{ backendRefs: [ref('v1', 0), ref('v2', 0)] }])])).toEqual([[SafetyRule.WEIGHTS, Severity.ERROR, 'HTTPRoute/reviews rules[0]']]);
  });

  test('a rule matching only the path prefix / is a catch-all (what the API server fills in)', () => {
    const header = { matches: [{ headers: [{ name: 'x-version', value: 'v2' }] }], backendRefs: [ref('v2')] };
    const defaulted = { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [ref('v1')] };
    expect(SafetyCheck.check([...base, route([header, defaulted])])).toEqual([]);
    const apiOnly = { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [ref('v1')] };
    expect(found([...base, route([header, apiOnly])]).map(([rule]) => rule)).toEqual([SafetyRule.CATCH_ALL_ROUTE]);
  });

  test('stale-service (warning): a per-version Service kept with no pods and no route; none once it is removed too', () => {
    const previous = [...base, route([{ backendRefs: [ref('v2')] }])];
    const keptService = [service('reviews', { app: 'reviews' }), versionService('v1'), versionService('v2'), deployment('v2'), route([{ backendRefs: [ref('v2')] }])];
    expect(found(keptService, previous)).toEqual([[SafetyRule.STALE_SERVICE, Severity.WARNING, 'Service/reviews-v1']]);
    const removed = [service('reviews', { app: 'reviews' }), versionService('v2'), deployment('v2'), route([{ backendRefs: [ref('v2')] }])];
    expect(found(removed, previous)).toEqual([]);
  });

  test('retry-budget: an experimental retry whose tries exceed the request timeout fails', () => {
    const rule = (backendRequest: string) => ({ backendRefs: [ref('v1')], timeouts: { request: '10s', backendRequest }, retry: { attempts: 3, codes: [503] } });
    expect(found([...base, route([rule('4s')])])).toEqual([[SafetyRule.RETRY_BUDGET, Severity.ERROR, 'HTTPRoute/reviews rules[0]']]);
    expect(found([...base, route([rule('2500ms')])])).toEqual([]);
  });

  describe('protocol: an HTTPRoute attached to a Service routes one of its HTTP ports', () => {
    const withPorts = (ports: any[], parentRefs?: any[]) => [{ ...service('reviews', { app: 'reviews' }), spec: { selector: { app: 'reviews' }, ports } },
      versionService('v1'), versionService('v2'), deployment('v1'), deployment('v2'), route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }], parentRefs)];

    test.each([
      [{ name: 'tcp-db', port: 9080 }, 'tcp'],
      [{ name: 'mongo', port: 9080 }, 'mongo'],
      [{ name: 'http', port: 9080, appProtocol: 'tcp' }, 'tcp'],
      [{ name: 'db', port: 3306 }, 'tcp'],
    ])('fails on a Service whose only port is %j: the route does nothing', (port, protocol) => {
      expect(SafetyCheck.check(withPorts([port]))).toEqual([{
        rule: SafetyRule.PROTOCOL,
        severity: Severity.ERROR,
        object: 'HTTPRoute/reviews',
        message: `is attached to Service bookinfo/reviews, whose port is ${protocol}: Istio applies a route attached to a Service to its HTTP ports only, so its weights do nothing and the Service reaches every version`,
        fix: "name the Service port 'http' (or set appProtocol http, http2 or grpc), or route the port with a TCPRoute",
      }]);
    });

    test.each([
      [{ name: 'http-web', port: 9080 }],
      [{ name: 'grpc', port: 9080 }],
      [{ name: 'tcp', port: 9080, appProtocol: 'kubernetes.io/h2c' }],
      // no protocol Istio knows: sniffed, and HTTP routes apply
      [{ name: 'web', port: 9080 }],
      [{ port: 9080 }],
    ])('passes on a Service port %j', (port) => {
      expect(SafetyCheck.check(withPorts([port]))).toEqual([]);
    });

    test('a parentRef port picks the port the route is attached to (the Gateway API docs\' GAMMA example sets it)', () => {
      const ports = [{ name: 'http', port: 80 }, { name: 'tcp-metrics', port: 9090 }];
      expect(SafetyCheck.check(withPorts(ports))).toEqual([]);
      expect(SafetyCheck.check(withPorts(ports, [{ group: '', kind: 'Service', name: 'reviews', port: 80 }]))).toEqual([]);
      expect(SafetyCheck.check(withPorts(ports, [{ group: '', kind: 'Service', name: 'reviews', port: 9090 }])).map((v) => v.message))
        .toEqual([expect.stringMatching(/^is attached to Service bookinfo\/reviews port 9090, whose port is tcp: /)]);
    });

    test('a route attached to a Gateway is not checked (the Gateway\'s HTTP listener applies it)', () => {
      expect(SafetyCheck.check(withPorts([{ name: 'tcp-db', port: 9080 }], [{ name: 'public', namespace: 'infra' }]))).toEqual([]);
    });
  });

  test('a backendRef of another kind is not checked against Services', () => {
    const imported = { group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'reviews-remote', port: 9080 };
    expect(SafetyCheck.check([...base, route([{ backendRefs: [imported] }])])).toEqual([]);
  });
});
