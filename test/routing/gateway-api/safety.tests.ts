import * as path from 'path';
import { SafetyCheck, SafetyRule, SafetyViolation, Severity } from '../../../src';
import { checkCommand } from '../../../src/cli/check';
import { readManifests } from '../../../src/cli/manifests';
import { readStage } from '../../../src/routing/_registry';
import { readOptions } from '../../../src/safety/_engine';

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
/** The parents of a route on the Service that is also exposed through a Gateway. */
const exposed = [{ group: '', kind: 'Service', name: 'reviews' }, { name: 'public', namespace: 'infra' }];
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
      route([{ backendRefs: [ref('v1', 90), ref('v2', 10, 'canary')] }], exposed)];
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

  test('reference-grant does not apply to a route on Services only (Istio enforces grants for Gateway parents only)', () => {
    const objects = [service('reviews', { app: 'reviews' }), versionService('v1'), deployment('v1'), versionService('v2', 'canary'), deployment('v2', 'canary'),
      route([{ backendRefs: [ref('v1', 90), ref('v2', 10, 'canary')] }])];
    expect(SafetyCheck.check(objects)).toEqual([]);
  });

  test('reference-grant applies to mirrors too', () => {
    const objects = [...base.slice(0, 2), deployment('v1'), versionService('v2', 'canary'), deployment('v2', 'canary'), route([{
      backendRefs: [ref('v1')],
      filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', namespace: 'canary', port: 9080 }, percent: 10 } }],
    }], exposed)];
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

// Issue 19: hand-written Gateway API YAML that drops requests, and a split of rules between routes that does not.
describe('hand-written Gateway API YAML: what the Gateway API routes differently than it reads', () => {
  test('service-port: a backendRef naming the Service\'s targetPort (not its port) fails; the CLI exits 1', () => {
    expect(SafetyCheck.check(load('backend-target-port.yaml'), load('deploy.yaml'))).toEqual([{
      rule: SafetyRule.SERVICE_PORT,
      severity: Severity.ERROR,
      object: 'HTTPRoute/reviews rules[0]',
      message: 'routes to port 8080 of Service bookinfo/reviews-v2, whose ports are 9080: Istio sends that share to a destination for port 8080, which does not exist (503)',
      fix: 'set port to one of the ports of Service bookinfo/reviews-v2 (spec.ports[].port: 9080), not a targetPort',
    }]);
    expect(cliCheck('deploy.yaml', 'backend-target-port.yaml')).toEqual({ code: 1, out: expect.stringContaining('HTTPRoute/reviews rules[0]  [service-port]  routes to port 8080') });
  });

  test('service-port applies to mirrors, and to a backendRef without a port', () => {
    const mirror = { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2', port: 8080 }, percent: 10 } };
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1')], filters: [mirror] }])]).map((v) => [v.rule, v.message])).toEqual([[
      SafetyRule.SERVICE_PORT,
      'mirrors to port 8080 of Service bookinfo/reviews-v2, whose ports are 9080: Istio sends that share to a destination for port 8080, which does not exist (503)',
    ]]);
    expect(SafetyCheck.check([...base, route([{ backendRefs: [{ name: 'reviews-v1' }] }])]).map((v) => [v.rule, v.message, v.fix])).toEqual([[
      SafetyRule.SERVICE_PORT,
      'routes to Service bookinfo/reviews-v1 without a port: the backendRef is invalid and its share of requests fails (500)',
      'set port to one of the ports of Service bookinfo/reviews-v1 (spec.ports[].port: 9080)',
    ]]);
    // A backendRef of weight 0 gets no request.
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1', 100), { ...ref('v2', 0), port: 8080 }] }])])).toEqual([]);
    // A Service of several ports: any of them.
    const twoPorts = { ...versionService('v1'), spec: { ...versionService('v1').spec, ports: [{ name: 'http', port: 9080 }, { name: 'admin', port: 9090 }] } };
    expect(SafetyCheck.check([base[0], twoPorts, ...base.slice(2), route([{ backendRefs: [{ name: 'reviews-v1', port: 9090 }] }])])).toEqual([]);
  });

  test('rule-has-backends: a header rule without backendRefs fails (its requests get an error); a redirect answers', () => {
    expect(SafetyCheck.check(load('header-rule-without-backends.yaml'), load('deploy.yaml'))).toEqual([{
      rule: SafetyRule.RULE_HAS_BACKENDS,
      severity: Severity.ERROR,
      object: 'HTTPRoute/reviews rules[0]',
      message: 'has no backendRefs and no RequestRedirect filter: the requests it matches (x-version=v2) get an error instead of a response (Istio answers 500, the Gateway API spec 404)',
      fix: 'give the rule backendRefs (or a RequestRedirect filter), or remove the rule',
    }]);
    expect(cliCheck('deploy.yaml', 'header-rule-without-backends.yaml')).toEqual({ code: 1, out: expect.stringContaining('[rule-has-backends]') });
    const header = { matches: [{ headers: [{ name: 'x-version', value: 'v2' }] }] };
    const redirect = { ...header, filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'reviews-v2' } }] };
    expect(SafetyCheck.check([...base, route([redirect, { backendRefs: [ref('v1')] }])])).toEqual([]);
    expect(SafetyCheck.check([...base, route([{ ...header, backendRefs: [] }, { backendRefs: [ref('v1')] }])]).map((v) => v.rule)).toEqual([SafetyRule.RULE_HAS_BACKENDS]);
    // A catch-all without backendRefs: every request.
    expect(SafetyCheck.check([...base, route([{}])]).map((v) => v.message)).toEqual([expect.stringContaining(': every request it takes get an error')]);
  });

  test('parent-ref: a Service parent without group "" attaches to nothing, and its weights are not counted', () => {
    expect(SafetyCheck.check(load('parent-without-group.yaml'), load('deploy.yaml'))).toEqual([{
      rule: SafetyRule.PARENT_REF,
      severity: Severity.ERROR,
      object: 'HTTPRoute/reviews parentRefs[0]',
      message: 'names Service bookinfo/reviews without group "": the group defaults to gateway.networking.k8s.io, which has no kind Service, so the parentRef attaches to nothing; '
        + 'no parentRef of the route attaches, so it routes nothing (its weights do not apply: requests to its parents reach their own endpoints)',
      fix: 'set group: "" in the parentRef (Service is in the core group; left out, the group is gateway.networking.k8s.io)',
    }]);
    expect(cliCheck('deploy.yaml', 'parent-without-group.yaml')).toEqual({ code: 1, out: expect.stringContaining('HTTPRoute/reviews parentRefs[0]  [parent-ref]') });
    // The route routes nothing: it sends no traffic to v2, whose Deployment is new (no destination-ready), and it is no route at all.
    const detached = route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }], [{ kind: 'Service', name: 'reviews' }]);
    const previous = [service('reviews', { app: 'reviews' }), versionService('v1'), versionService('v2'), deployment('v1')];
    expect(found([...base, detached], previous)).toEqual([[SafetyRule.PARENT_REF, Severity.ERROR, 'HTTPRoute/reviews parentRefs[0]']]);
    expect(readStage([...base, detached], readOptions('bookinfo')).routes).toEqual([]);
    // Another group than the core one ('core' is not it), and no parentRefs at all: attached to nothing either.
    const core = route([{ backendRefs: [ref('v1')] }], [{ group: 'core', kind: 'Service', name: 'reviews' }]);
    expect(SafetyCheck.check([...base, core]).map((v) => v.message)).toEqual([expect.stringMatching(
      /^names Service bookinfo\/reviews in group 'core', which has no kind Service, so the parentRef attaches to nothing; no parentRef of the route attaches/)]);
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1')] }], [])]).map((v) => [v.rule, v.object, v.message, v.fix])).toEqual([[
      SafetyRule.PARENT_REF, 'HTTPRoute/reviews', 'has no parentRefs: it attaches to nothing, so it routes nothing (its weights do not apply)',
      'add a parentRef: the Service the route applies to (group: "", kind: Service) or a Gateway',
    ]]);
  });

  test('parent-ref: a Service parent naming a port the Service lacks; with another parent that attaches, the route still routes', () => {
    expect(SafetyCheck.check(load('parent-port-missing.yaml'), load('deploy.yaml')).map((v) => [v.object, v.message, v.fix])).toEqual([[
      'HTTPRoute/reviews parentRefs[0]',
      'names port 8080 of Service bookinfo/reviews, whose ports are 9080: the route applies to requests to that port only, and there are none; '
        + 'no parentRef of the route attaches, so it routes nothing (its weights do not apply: requests to its parents reach their own endpoints)',
      'set port to one of the ports of Service bookinfo/reviews (spec.ports[].port: 9080), or leave it out to route every port of the Service',
    ]]);
    expect(cliCheck('deploy.yaml', 'parent-port-missing.yaml').code).toBe(1);
    const parents = [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }, { group: '', kind: 'Service', name: 'reviews', port: 8080 }];
    const partly = route([{ backendRefs: [ref('v1', 90), ref('v2', 10)] }], parents);
    expect(SafetyCheck.check([...base, partly]).map((v) => [v.object, v.message])).toEqual([[
      'HTTPRoute/reviews parentRefs[1]', expect.stringMatching(/: the route applies to requests to that port only, and there are none; the route does not apply there$/),
    ]]);
    expect(readStage([...base, partly], readOptions('bookinfo')).routes).toHaveLength(1);
    // The port of the Service, or none: attaches.
    expect(SafetyCheck.check([...base, route([{ backendRefs: [ref('v1')] }], [parents[0]])])).toEqual([]);
  });

  test('one-catch-all-per-parent: two HTTPRoutes taking every request on one Service fail, naming both', () => {
    expect(SafetyCheck.check(load('two-catch-alls.yaml'), load('deploy.yaml'))).toEqual([{
      rule: SafetyRule.ONE_CATCH_ALL_PER_PARENT,
      severity: Severity.ERROR,
      object: 'HTTPRoute/reviews-canary rules[0]',
      message: 'takes every request on Service bookinfo/reviews, like HTTPRoute/reviews rules[0]: only the older route\'s rule receives them '
        + '(between routes created together, the first by namespace/name: HTTPRoute/reviews), so the other\'s split is dead',
      fix: 'keep one rule without match per parent: merge the weighted backendRefs of both into one route, or give one of the rules matches',
    }]);
    expect(cliCheck('deploy.yaml', 'two-catch-alls.yaml')).toEqual({ code: 1, out: expect.stringContaining('HTTPRoute/reviews-canary rules[0]  [one-catch-all-per-parent]') });
    // Either order of the manifests: the same route is reported.
    expect(SafetyCheck.check([...load('two-catch-alls.yaml')].reverse()).map((v) => v.object)).toEqual(['HTTPRoute/reviews-canary rules[0]']);
  });

  test('one-catch-all-per-parent: routes on different ports, namespaces (GAMMA consumer routes) or hostnames of a Gateway are not merged', () => {
    const named = (name: string, namespace: string, parentRefs: any[], hostnames?: string[]) => ({
      ...route([{ backendRefs: [{ ...ref('v1'), namespace: NS }] }], parentRefs),
      metadata: { name, namespace },
      spec: { ...route([{ backendRefs: [{ ...ref('v1'), namespace: NS }] }], parentRefs).spec, hostnames },
    });
    const parent = (port?: number) => [{ group: '', kind: 'Service', name: 'reviews', namespace: NS, port }];
    const conflicts = (...routes: any[]) => found([...base, ...routes]).filter(([rule]) => rule === SafetyRule.ONE_CATCH_ALL_PER_PARENT);
    expect(conflicts(named('a', NS, parent(9080)), named('b', NS, parent()))).toHaveLength(1);
    expect(conflicts(named('a', NS, parent(9080)), named('b', NS, parent(9081)))).toEqual([]);
    expect(conflicts(named('a', NS, parent()), named('b', 'frontend', parent()))).toEqual([]);
    const gateway = (sectionName?: string) => [{ name: 'public', namespace: 'infra', sectionName }];
    expect(conflicts(named('a', NS, gateway(), ['a.example.com']), named('b', NS, gateway(), ['b.example.com']))).toEqual([]);
    expect(conflicts(named('a', NS, gateway('https'), ['a.example.com']), named('b', NS, gateway(), ['a.example.com', 'b.example.com']))).toHaveLength(1);
  });

  test('catch-all-route: a header rule in one HTTPRoute and the catch-all in another, on one Service, is safe (the routes are merged)', () => {
    expect(SafetyCheck.check(load('header-and-catch-all-split.yaml'), load('deploy.yaml'))).toEqual([]);
    expect(cliCheck('deploy.yaml', 'header-and-catch-all-split.yaml')).toEqual({ code: 0, out: expect.stringMatching(/^OK: no violations/) });
    // Without the catch-all route, the header route alone still fails; a catch-all on another parent does not count.
    const [catchAll, header] = load('header-and-catch-all-split.yaml').filter((m) => m.kind === 'HTTPRoute');
    expect(found([...base, header]).map(([rule, , object]) => [rule, object])).toEqual([[SafetyRule.CATCH_ALL_ROUTE, 'HTTPRoute/reviews-testers rules[0]']]);
    const elsewhere = { ...catchAll, spec: { ...catchAll.spec, parentRefs: [{ group: '', kind: 'Service', name: 'ratings' }] } };
    expect(found([...base, service('ratings', { app: 'ratings' }), header, elsewhere]).map(([rule]) => rule)).toEqual([SafetyRule.CATCH_ALL_ROUTE]);
  });

  test('one-router-per-service: a VirtualService and an HTTPRoute for one Service fail', () => {
    expect(SafetyCheck.check(load('virtual-service-and-httproute.yaml'), load('deploy.yaml'))).toEqual([{
      rule: SafetyRule.ONE_ROUTER_PER_SERVICE,
      severity: Severity.ERROR,
      object: 'VirtualService/reviews',
      message: 'routes the in-mesh requests to Service bookinfo/reviews, like HTTPRoute/reviews: Istio does not merge a VirtualService and an HTTPRoute of one Service '
        + 'and keeps one of them, which one is undefined, so the other\'s weights and routes do nothing',
      fix: 'route each Service with one API: remove the VirtualService or the HTTPRoute of the Service (one router per release)',
    }]);
    expect(cliCheck('deploy.yaml', 'virtual-service-and-httproute.yaml')).toEqual({ code: 1, out: expect.stringContaining('VirtualService/reviews  [one-router-per-service]') });
    // A VirtualService bound to an ingress gateway only is not a mesh route of the Service.
    const [vs] = load('virtual-service-and-httproute.yaml').filter((m) => m.kind === 'VirtualService');
    const ingress = { ...vs, spec: { ...vs.spec, gateways: ['istio-system/public'] } };
    expect(found([...load('shift-10.yaml'), ingress]).filter(([rule]) => rule === SafetyRule.ONE_ROUTER_PER_SERVICE)).toEqual([]);
  });

  test('reference-grant: a grant created in the stage whose route needs it fails; a stage before is safe', () => {
    expect(SafetyCheck.check(load('cross-namespace-shift.yaml'), load('cross-namespace-deploy.yaml'))).toEqual([{
      rule: SafetyRule.REFERENCE_GRANT,
      severity: Severity.ERROR,
      object: 'HTTPRoute/reviews rules[0]',
      message: 'routes to Service canary/reviews-v2 in another namespace, allowed by a ReferenceGrant this stage creates: the proxies may receive the route before the grant, '
        + 'and its share of requests fails (500) meanwhile',
      fix: "create the ReferenceGrant in namespace 'canary' from HTTPRoute in 'bookinfo' to Service 'reviews-v2' in a stage before the one that routes to it",
    }]);
    expect(cliCheck('cross-namespace-deploy.yaml', 'cross-namespace-shift.yaml')).toEqual({ code: 1, out: expect.stringContaining('[reference-grant]  routes to Service canary/reviews-v2') });
    expect(cliCheck('cross-namespace-deploy.yaml', 'cross-namespace-deploy-granted.yaml').code).toBe(0);
    expect(cliCheck('cross-namespace-deploy-granted.yaml', 'cross-namespace-shift.yaml').code).toBe(0);
    expect(SafetyCheck.check(load('cross-namespace-shift.yaml'))).toEqual([]);
  });

  test('reference-grant: a grant deleted in the stage whose route stops needing it fails; a stage after is safe', () => {
    expect(SafetyCheck.check(load('cross-namespace-unroute.yaml'), load('cross-namespace-shift.yaml'))).toEqual([{
      rule: SafetyRule.REFERENCE_GRANT,
      severity: Severity.ERROR,
      object: 'ReferenceGrant/reviews-from-bookinfo',
      message: "no longer allows HTTPRoutes of 'bookinfo' to reach Service canary/reviews-v2 in the stage where HTTPRoute/reviews stops sending to it: "
        + 'the proxies may lose the grant before they receive the new route, and that share of requests fails (500) meanwhile',
      fix: "keep the ReferenceGrant in namespace 'canary' from HTTPRoute in 'bookinfo' to Service 'reviews-v2' until the stage after the one where no HTTPRoute of 'bookinfo' sends to it",
    }]);
    expect(cliCheck('cross-namespace-shift.yaml', 'cross-namespace-unroute.yaml')).toEqual({ code: 1, out: expect.stringContaining('ReferenceGrant/reviews-from-bookinfo  [reference-grant]') });
    expect(cliCheck('cross-namespace-shift.yaml', 'cross-namespace-deploy-granted.yaml').code).toBe(0);
    expect(cliCheck('cross-namespace-deploy-granted.yaml', 'cross-namespace-deploy.yaml').code).toBe(0);
  });
});
