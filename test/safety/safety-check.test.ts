import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { MeshRelease, ReleasePlan, SafetyCheck, SafetyCheckOptions, SafetyRule, SafetyViolation, Severity } from '../../src';

// ---------------------------------------------------------------------------------------
// Helpers: plain manifests of a `helloworld` release in namespace `default` (short hosts),
// and matchers for violations.
// ---------------------------------------------------------------------------------------

const APP = 'helloworld';
const HOST = 'helloworld.default.svc.cluster.local';
type Labels = { [key: string]: string };

function service(selector: Labels = { app: APP }, ports: any[] = [{ name: 'http', port: 3000 }]): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: APP, namespace: 'default' }, spec: { selector, ports } };
}

interface PodOptions {
  readonly grace?: number;
  readonly preStop?: any;
  readonly proxyConfig?: string;
  /** Pod annotations besides the proxy config. */
  readonly annotations?: Labels;
  readonly namespace?: string;
  readonly labels?: Labels;
  readonly replicas?: number;
  readonly strategy?: any;
  /** Deployment name (default `helloworld-<version>`). */
  readonly name?: string;
}

function deployment(version: string, options: PodOptions = {}): any {
  const labels = options.labels ?? { app: APP, version };
  const annotations = {
    ...options.annotations,
    ...(options.proxyConfig === undefined ? {} : { 'proxy.istio.io/config': options.proxyConfig }),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: options.name ?? `${APP}-${version}`, namespace: options.namespace ?? 'default' },
    spec: {
      replicas: options.replicas,
      strategy: options.strategy,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: Object.keys(annotations).length ? annotations : undefined,
        },
        spec: {
          terminationGracePeriodSeconds: options.grace,
          containers: [{
            name: APP,
            image: `learnistio/helloworld:${version}`,
            lifecycle: options.preStop === undefined ? undefined : { preStop: options.preStop },
          }],
        },
      },
    },
  };
}

/** A HorizontalPodAutoscaler of `helloworld-<version>`. */
function autoscaler(version: string, minReplicas: number | undefined, maxReplicas = 20): any {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: `${APP}-${version}`, namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${APP}-${version}` }, minReplicas, maxReplicas },
  };
}

type SubsetSpec = string | { name: string; labels: Labels; trafficPolicy?: any };

function destinationRule(subsets: SubsetSpec[], host: string = APP, extra: { namespace?: string; spec?: any } = {}): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: APP, namespace: extra.namespace ?? 'default' },
    spec: { host, subsets: subsets.map((s) => (typeof s === 'string' ? { name: s, labels: { version: s } } : s)), ...extra.spec },
  };
}

function virtualService(...http: any[]): any {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: APP, namespace: 'default' }, spec: { hosts: [APP], http } };
}

/** A VirtualService with the given name and spec (hosts default to the app). */
function virtualServiceOf(name: string, spec: any): any {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: 'default' }, spec: { hosts: [APP], ...spec } };
}

/** A STRICT (or other mode) PeerAuthentication in `default` selecting the app's pods. */
function peerAuthentication(mode = 'STRICT', matchLabels: Labels = { app: APP }): any {
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: APP, namespace: 'default' }, spec: { selector: { matchLabels }, mtls: { mode } } };
}

/** A catch-all route; `[subset, weight]` pairs, weight left out when undefined. */
function weighted(pairs: Array<[string, number | undefined]>, extra: any = {}): any {
  return {
    route: pairs.map(([subset, weight]) => ({ destination: { host: APP, subset }, ...(weight === undefined ? {} : { weight }) })),
    ...extra,
  };
}

/** A route for requests with `x-version: <subset>`, to that subset. */
function headerRoute(subset: string): any {
  return { match: [{ headers: { 'x-version': { exact: subset } } }], route: [{ destination: { host: APP, subset } }] };
}

/** A whole stage: Service, Deployments, DestinationRule, VirtualService. */
function stage(deployed: string[], subsets: SubsetSpec[], ...http: any[]): any[] {
  return [service(), ...deployed.map((v) => deployment(v)), destinationRule(subsets), virtualService(...http)];
}

/** `manifests` with the object of `kind` (and `name`, if given) changed by `change`. */
function patched(manifests: any[], kind: string, change: (m: any) => void, name?: string): any[] {
  return manifests.map((m) => {
    if (m.kind !== kind || (name !== undefined && m.metadata.name !== name)) {
      return m;
    }
    const copy = JSON.parse(JSON.stringify(m));
    change(copy);
    return copy;
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A string containing every part, in order. */
function including(...parts: string[]): any {
  return expect.stringMatching(new RegExp(parts.map(escapeRegExp).join('[\\s\\S]*')));
}

/** A violation of `rule` on `object` whose message and fix contain the parts, in order (severity error unless given). */
function violation(rule: SafetyRule, object: string, message: string[], fix: string[], severity: Severity = Severity.ERROR): any {
  return { rule, severity, object, message: including(...message), fix: including(...fix) };
}

/** The same, severity warning. */
function warning(rule: SafetyRule, object: string, message: string[], fix: string[]): any {
  return violation(rule, object, message, fix, Severity.WARNING);
}

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'safety');

/** Every document of a fixture, as plain objects. */
function fixture(name: string): any[] {
  return YAML.parseAllDocuments(fs.readFileSync(path.join(FIXTURES, name), 'utf8')).map((d) => d.toJS());
}

const rulesOf = (violations: SafetyViolation[]) => violations.map((v) => v.rule);

// ---------------------------------------------------------------------------------------
// One violating case per rule, each reporting that rule only. Typed as a Record over the
// enum, so a new SafetyRule does not compile until it has a case here.
// ---------------------------------------------------------------------------------------

interface Case {
  readonly previous?: any[];
  readonly current: any[];
  readonly options?: SafetyCheckOptions;
}

/** The per-version Service of `helloworld-<version>` (Gateway API: one routable Service per version). */
function versionService(version: string, namespace = 'default'): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: `${APP}-${version}`, namespace }, spec: { selector: { app: APP, version }, ports: [{ name: 'http', port: 3000 }] } };
}

/** A GAMMA HTTPRoute on the Service `helloworld`, sending to per-version Services: `[version, weight, namespace?]`. */
function httpRoute(backends: Array<[string, number, string?]>): any {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: APP, namespace: 'default' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: APP, port: 3000 }],
      rules: [{ backendRefs: backends.map(([version, weight, namespace]) => ({ name: `${APP}-${version}`, namespace, port: 3000, weight })) }],
    },
  };
}

/** A whole Gateway API stage: the Service, Deployments, per-version Services, the HTTPRoute. */
function serviceStage(deployed: string[], services: string[], backends: Array<[string, number, string?]>): any[] {
  return [service(), ...deployed.map((v) => deployment(v)), ...services.map((v) => versionService(v)), httpRoute(backends)];
}

const VIOLATING: Record<SafetyRule, Case> = {
  // v2 listed (weight 0) but the DestinationRule has no subset v2.
  [SafetyRule.SUBSET_DEFINED]: { current: stage(['v1', 'v2'], ['v1'], weighted([['v1', 100], ['v2', 0]])) },
  // v2 deployed in both stages; subset v2 added in the same stage that routes to it.
  [SafetyRule.SUBSET_BEFORE_ROUTE]: {
    previous: stage(['v1', 'v2'], ['v1'], weighted([['v1', 100]])),
    current: stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 10]])),
  },
  // subset v2 defined but no Deployment runs v2, and it gets 10%.
  [SafetyRule.DESTINATION_READY]: { current: stage(['v1'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 10]])) },
  // subset v1 removed while the previous VirtualService still lists it (weight 0).
  [SafetyRule.SUBSET_REMOVED_WHILE_ROUTED]: {
    previous: stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 0], ['v2', 100]])),
    current: stage(['v1', 'v2'], ['v2'], weighted([['v2', 100]])),
  },
  // helloworld-v1 deleted while subset v1 is still listed in the route (weight 0) in both stages.
  [SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET]: {
    previous: stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 0], ['v2', 100]])),
    current: stage(['v2'], ['v1', 'v2'], weighted([['v1', 0], ['v2', 100]])),
  },
  // subset v3 selects no pods, in both stages, and nothing routes to it.
  [SafetyRule.STALE_SUBSET]: {
    previous: stage(['v1'], ['v1', 'v3'], weighted([['v1', 100]])),
    current: stage(['v1'], ['v1', 'v3'], weighted([['v1', 100]])),
  },
  // Service helloworld-v2 listed (weight 0) but not created.
  [SafetyRule.SERVICE_DEFINED]: { current: serviceStage(['v1', 'v2'], ['v1'], [['v1', 100], ['v2', 0]]) },
  // v2 deployed in both stages; its Service created in the same stage that routes to it.
  [SafetyRule.SERVICE_BEFORE_ROUTE]: {
    previous: serviceStage(['v1', 'v2'], ['v1'], [['v1', 100]]),
    current: serviceStage(['v1', 'v2'], ['v1', 'v2'], [['v1', 90], ['v2', 10]]),
  },
  // Service helloworld-v1 removed while the previous HTTPRoute still lists it (weight 0).
  [SafetyRule.SERVICE_REMOVED_WHILE_ROUTED]: {
    previous: serviceStage(['v1', 'v2'], ['v1', 'v2'], [['v1', 0], ['v2', 100]]),
    current: serviceStage(['v1', 'v2'], ['v2'], [['v2', 100]]),
  },
  // helloworld-v1 deleted while Service helloworld-v1 is still listed in the route (weight 0) in both stages.
  [SafetyRule.DEPLOYMENT_REMOVED_WHILE_SERVICE]: {
    previous: serviceStage(['v1', 'v2'], ['v1', 'v2'], [['v1', 0], ['v2', 100]]),
    current: serviceStage(['v2'], ['v1', 'v2'], [['v1', 0], ['v2', 100]]),
  },
  // Service helloworld-v3 selects no pods, in both stages, and nothing routes to it.
  [SafetyRule.STALE_SERVICE]: {
    previous: serviceStage(['v1'], ['v1', 'v3'], [['v1', 100]]),
    current: serviceStage(['v1'], ['v1', 'v3'], [['v1', 100]]),
  },
  // v1 runs in namespace canary: the route of namespace default sends there without a ReferenceGrant.
  [SafetyRule.REFERENCE_GRANT]: {
    current: [service(), deployment('v1', { namespace: 'canary' }), versionService('v1', 'canary'), httpRoute([['v1', 100, 'canary']])],
  },
  [SafetyRule.WEIGHTS]: { current: stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 20]])) },
  [SafetyRule.CATCH_ALL_ROUTE]: { current: stage(['v1', 'v2'], ['v1', 'v2'], headerRoute('v2'), headerRoute('v1')) },
  [SafetyRule.SERVICE_SELECTS_VERSION]: {
    current: [service({ app: APP, version: 'v1' }), deployment('v1'), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))],
  },
  // the only routed version runs `replicas: 0`.
  [SafetyRule.CAPACITY]: {
    current: [service(), deployment('v1', { replicas: 0 }), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))],
  },
  // v1 had 50% on a floor of 10 pods for all traffic; at 0% it keeps 2: rolling back sends 50% to 2 pods.
  [SafetyRule.ROLLBACK_CAPACITY]: {
    previous: [service(), deployment('v1', { replicas: 10 }), deployment('v2', { replicas: 10 }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 50], ['v2', 50]]))],
    current: [service(), deployment('v1', { replicas: 2 }), deployment('v2', { replicas: 10 }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 0], ['v2', 100]]))],
  },
  [SafetyRule.SUBSET_UNIQUE]: { current: stage(['v1'], ['v1', 'v1'], weighted([['v1', 100]])) },
  // the DestinationRule of helloworld.default lives in namespace `other`.
  [SafetyRule.DESTINATION_RULE_VISIBLE]: {
    current: [service(), deployment('v1'), destinationRule(['v1'], HOST, { namespace: 'other' }), virtualService(weighted([['v1', 100]]))],
  },
  // a second VirtualService for the same host.
  [SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST]: {
    current: [...stage(['v1'], ['v1'], weighted([['v1', 100]])), virtualServiceOf('helloworld-extra', { http: [weighted([['v1', 100]])] })],
  },
  // STRICT mTLS on the pods, plain text from the DestinationRule.
  [SafetyRule.MTLS_MODE]: {
    current: [service(), deployment('v1'), destinationRule(['v1'], APP, { spec: { trafficPolicy: { tls: { mode: 'DISABLE' } } } }),
      virtualService(weighted([['v1', 100]])), peerAuthentication()],
  },
  // http routes for a Service whose only port is `tcp`.
  [SafetyRule.PROTOCOL]: {
    current: [service({ app: APP }, [{ name: 'tcp', port: 3000 }]), deployment('v1'), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))],
  },
  // bound to an ingress gateway only: in-mesh callers of helloworld bypass it.
  [SafetyRule.GATEWAYS_WITHOUT_MESH]: {
    current: [service(), deployment('v1'), destinationRule(['v1']),
      virtualServiceOf(APP, { gateways: ['istio-system/public-gateway'], http: [weighted([['v1', 100]])] })],
  },
  [SafetyRule.TERMINATION_BUDGET]: {
    current: [
      service(),
      deployment('v1', { grace: 30, preStop: { exec: { command: ['sleep', '20'] } }, proxyConfig: '{"terminationDrainDuration":"20s"}' }),
      destinationRule(['v1']),
      virtualService(weighted([['v1', 100]])),
    ],
  },
  [SafetyRule.RETRY_BUDGET]: {
    current: stage(['v1'], ['v1'], weighted([['v1', 100]], { timeout: '5s', retries: { attempts: 2, perTryTimeout: '2s' } })),
  },
  // helloworld-v1 twice.
  [SafetyRule.DUPLICATE_OBJECT]: { current: [...stage(['v1'], ['v1'], weighted([['v1', 100]])), deployment('v1')] },
};

/** The violating case of a rule. */
function violating(rule: SafetyRule): Case {
  return VIOLATING[rule];
}

const WARNINGS = new Set([SafetyRule.STALE_SUBSET, SafetyRule.STALE_SERVICE, SafetyRule.ROLLBACK_CAPACITY, SafetyRule.GATEWAYS_WITHOUT_MESH]);

describe('every SafetyRule', () => {
  test.each(Object.values(SafetyRule))('%s has a violating case that reports that rule and no other', (rule) => {
    // GIVEN the violating case of the rule
    const { previous, current, options } = violating(rule);

    // WHEN checking it
    const violations = SafetyCheck.check(current, previous, options);

    // THEN only that rule is broken, with the rule's severity
    expect(violations.length).toBeGreaterThan(0);
    expect(new Set(rulesOf(violations))).toEqual(new Set([rule]));
    expect(new Set(violations.map((v) => v.severity))).toEqual(new Set([WARNINGS.has(rule) ? Severity.WARNING : Severity.ERROR]));
  });
});

// ---------------------------------------------------------------------------------------
// Rule by rule: the exact violation, and a safe counterpart.
// ---------------------------------------------------------------------------------------

describe(SafetyRule.SUBSET_DEFINED, () => {
  test('a route to a subset the DestinationRule does not define is reported, even at weight 0', () => {
    // GIVEN the case where v2 is listed (weight 0) but not a subset
    const { current } = violating(SafetyRule.SUBSET_DEFINED);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the route names the missing subset and the fix adds it
    expect(violations).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld http[0]',
      ["routes to subset 'v2' of helloworld.default.svc.cluster.local", 'no DestinationRule of this stage defines', '503'],
      ["add subset 'v2' to the DestinationRule of helloworld.default.svc.cluster.local", 'earlier stage'])]);
  });

  test('a mirror to an undefined subset is reported too', () => {
    // GIVEN v2 deployed, mirrored to, but not a subset
    const current = stage(['v1', 'v2'], ['v1'], weighted([['v1', 100]], { mirror: { host: APP, subset: 'v2' } }));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the mirror counts as a route to v2 (one violation: the missing subset is the cause)
    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld http[0]', ["subset 'v2'"], ["add subset 'v2'"]),
    ]);
  });

  test('every routed subset defined is fine', () => {
    // GIVEN v1 and v2 both subsets, both routed
    const current = stage(['v1', 'v2'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 90], ['v2', 10]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});

describe(SafetyRule.SUBSET_BEFORE_ROUTE, () => {
  test('routing to a subset added in the same stage is reported', () => {
    // GIVEN subset v2 added in the stage that routes 10% to it
    const { previous, current } = violating(SafetyRule.SUBSET_BEFORE_ROUTE);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the route to v2 is reported, and the fix adds the subset a stage earlier
    expect(violations).toEqual([violation(SafetyRule.SUBSET_BEFORE_ROUTE, 'VirtualService/helloworld http[0]',
      ["routes to subset 'v2' of helloworld.default.svc.cluster.local", 'which the previous stage did not define', 'the proxies may receive this route before the subset'],
      ["add subset 'v2' to the DestinationRule in a stage of its own", 'before the one that routes to it'])]);
  });

  test('the same stage on its own (no previous) is fine', () => {
    // GIVEN the current stage of the violating case, checked alone
    const { current } = violating(SafetyRule.SUBSET_BEFORE_ROUTE);

    // WHEN / THEN the rule needs a previous stage
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a subset added but not routed is fine', () => {
    // GIVEN subset v2 added while the route still sends everything to v1
    const previous = stage(['v1'], ['v1'], weighted([['v1', 100]]));
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('routing to a subset that existed in the previous stage is fine', () => {
    // GIVEN subset v2 defined (and v2 deployed) since the previous stage
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 100]]));
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 10]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });
});

describe(SafetyRule.DESTINATION_READY, () => {
  test('weight to a subset whose version is not deployed is reported', () => {
    // GIVEN subset v2 with 10% but no helloworld-v2 Deployment
    const { current } = violating(SafetyRule.DESTINATION_READY);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN v2 is named, and the fix deploys it first
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]',
      ["sends traffic to subset 'v2' of helloworld.default.svc.cluster.local", 'no Deployment of this stage has pods it selects'],
      ['deploy the version in a stage before the one that routes traffic to it'])]);
  });

  test('weight to a version deployed in the same stage is reported', () => {
    // GIVEN subset v2 defined before, but helloworld-v2 created in the stage that gives it 10%
    const previous = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 10]]));

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the new Deployment is named
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]',
      ["sends traffic to subset 'v2'", 'whose Deployment Deployment/helloworld-v2 did not exist in the previous stage'],
      ['deploy the version in a stage of its own, and route to it in the next one'])]);
  });

  test('a header route (one destination, no weight) to an undeployed version is reported', () => {
    // GIVEN testers routed to v2 by header, v2 not deployed
    const current = stage(['v1'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 100]]));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the header route (http[0]) is named
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]', ["subset 'v2'"], ['deploy the version'])]);
  });

  test('a mirror to an undeployed version is reported', () => {
    // GIVEN v2 mirrored to (a mirror always receives traffic) but not deployed
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]], { mirror: { host: APP, subset: 'v2' } }));

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]', ["subset 'v2'"], ['deploy the version'])]);
  });

  test('weight 0 to a subset whose version is not deployed yet is fine', () => {
    // GIVEN subset v2 listed at weight 0, v2 not deployed
    const previous = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100], ['v2', 0]]));

    // WHEN / THEN no violation, alone or as a transition
    expect(SafetyCheck.check(current)).toEqual([]);
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('hosts outside the cluster are not checked', () => {
    // GIVEN a route to an external host (a ServiceEntry), nothing deployed for it
    const current = [virtualService({ route: [{ destination: { host: 'api.example.com' } }] })];

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});

describe(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, () => {
  test('removing a subset the previous VirtualService still routes to (weight 0) is reported', () => {
    // GIVEN v1 at weight 0 in the previous stage, subset v1 removed now
    const { previous, current } = violating(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the DestinationRule is blamed for v1, and the fix unroutes it first
    expect(violations).toEqual([violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld',
      ["subset 'v1' is removed while the previous stage's route still sends to it"],
      ["remove 'v1' from the route in one stage, then remove it in the next"])]);
  });

  test('removing a subset the previous stage mirrored to is reported', () => {
    // GIVEN v2 mirrored to in the previous stage, subset v2 removed now
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 100]], { mirror: { host: APP, subset: 'v2' } }));
    const current = stage(['v1', 'v2'], ['v1'], weighted([['v1', 100]]));

    // WHEN / THEN
    expect(SafetyCheck.check(current, previous)).toEqual([violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld', ["subset 'v2'"], ["remove 'v2'"])]);
  });

  test('removing a subset unrouted in the previous stage is fine', () => {
    // GIVEN v1 left the route one stage before its subset goes
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v2', 100]]));
    const current = stage(['v1', 'v2'], ['v2'], weighted([['v2', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });
});

describe(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, () => {
  test('deleting a Deployment while its subset is still in the route (weight 0) is reported', () => {
    // GIVEN helloworld-v1 deleted while subset v1 stays listed at weight 0
    const { previous, current } = violating(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the Deployment is blamed once, naming the previous stage's subset
    expect(violations).toEqual([violation(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, 'Deployment/helloworld-v1',
      ["is deleted while subset 'v1' of DestinationRule/helloworld in the previous stage, which a route names, still selects its pods"],
      ["unroute and remove subset 'v1' of DestinationRule/helloworld in stages before deleting the Deployment"])]);
  });

  test('deleting a Deployment together with its subset, while the previous stage still routed to it, is reported', () => {
    // GIVEN v1 listed at weight 0 in the previous stage; helloworld-v1, subset v1 and the route to v1 all go at once
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 0], ['v2', 100]]));
    const current = stage(['v2'], ['v2'], weighted([['v2', 100]]));

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the subset removal and the Deployment deletion are both reported
    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld', ["subset 'v1' is removed"], ["remove 'v1' from the route"]),
      violation(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, 'Deployment/helloworld-v1', ["subset 'v1' of DestinationRule/helloworld in the previous stage"], ["unroute and remove subset 'v1'"]),
    ]);
  });

  test('deleting the Deployment of an unrouted version whose subset stays is no error: the subset is stale (warning)', () => {
    // GIVEN v1 unrouted in the previous stage; helloworld-v1 deleted, subset v1 kept
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v2', 100]]));
    const current = stage(['v2'], ['v1', 'v2'], weighted([['v2', 100]]));

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN no request can reach v1: only the leftover subset is reported, as a warning
    expect(violations).toEqual([
      warning(SafetyRule.STALE_SUBSET, 'DestinationRule/helloworld', [`subset 'v1' of ${HOST} selects no pods`], [`remove subset 'v1' of ${HOST}`]),
    ]);
  });

  test('deleting a Deployment after its subset was removed is fine', () => {
    // GIVEN subset v1 removed in the previous stage, helloworld-v1 deleted now
    const previous = stage(['v1', 'v2'], ['v2'], weighted([['v2', 100]]));
    const current = stage(['v2'], ['v2'], weighted([['v2', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('deleting a Deployment of another app is fine', () => {
    // GIVEN a ratings-v1 Deployment (pods app=ratings, version=v1) deleted while helloworld keeps subset v1
    const ratings = deployment('v1', { labels: { app: 'ratings', version: 'v1' } });
    const previous = [...stage(['v1'], ['v1'], weighted([['v1', 100]])), { ...ratings, metadata: { name: 'ratings-v1', namespace: 'default' } }];
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]]));

    // WHEN / THEN the helloworld Service does not select ratings pods: no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });
});

describe(SafetyRule.WEIGHTS, () => {
  test('weights adding up to 110 are reported with every weight', () => {
    // GIVEN v1=90, v2=20
    const { current } = violating(SafetyRule.WEIGHTS);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the sum and each weight are named
    expect(violations).toEqual([violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]',
      ['weights add up to 110, not 100', `subset 'v1' of ${HOST}=90`, `subset 'v2' of ${HOST}=20`],
      ['make the weights of the route add up to exactly 100'])]);
  });

  test.each([
    [50.5, 49.5],
    [-10, 110],
  ])('weights %d and %d (summing to 100) are reported as out of range', (w1, w2) => {
    // GIVEN weights that add up to 100 but are not integers in 0..100
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', w1], ['v2', w2]]));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN each bad weight is named, and only the weights rule is broken
    expect(violations.filter((v) => v.rule === SafetyRule.WEIGHTS)).toEqual([
      violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]', [`weight ${w1} of subset 'v1'`, 'not an integer between 0 and 100'], ['use integer percentages']),
      violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]', [`weight ${w2} of subset 'v2'`, 'not an integer between 0 and 100'], ['use integer percentages']),
    ]);
  });

  test('several destinations without weights add up to 0', () => {
    // GIVEN two destinations, no weights
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', undefined], ['v2', undefined]]));

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]', ['weights add up to 0, not 100'], ['add up to exactly 100'])]);
  });

  test('90/10, and a single destination without a weight, are fine', () => {
    // GIVEN a header route with one unweighted destination and a 90/10 catch-all
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v2', undefined]], { match: [{ headers: { 'x-version': { exact: 'v2' } } }] }),
      weighted([['v1', 90], ['v2', 10]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});

describe(SafetyRule.CATCH_ALL_ROUTE, () => {
  test('match routes with no catch-all are reported at the last route', () => {
    // GIVEN two header routes and nothing after them
    const { current } = violating(SafetyRule.CATCH_ALL_ROUTE);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the last route (http[1]) is blamed
    expect(violations).toEqual([violation(SafetyRule.CATCH_ALL_ROUTE, 'VirtualService/helloworld http[1]',
      ['the last route has a match', '404'],
      ['end http with a route that has no match'])]);
  });

  test('match routes followed by a catch-all are fine', () => {
    // GIVEN a header route, then a route without match
    const current = stage(['v1', 'v2'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('an empty match list counts as a catch-all', () => {
    // GIVEN a header route, then a route with `match: []`
    const current = stage(['v1', 'v2'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 100]], { match: [] }));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});

describe(SafetyRule.SERVICE_SELECTS_VERSION, () => {
  test('a Service selecting the version label is reported', () => {
    // GIVEN Service helloworld selecting app=helloworld, version=v1
    const { current } = violating(SafetyRule.SERVICE_SELECTS_VERSION);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the label and its value are named
    expect(violations).toEqual([violation(SafetyRule.SERVICE_SELECTS_VERSION, 'Service/helloworld',
      ["selector has 'version: v1'", 'a label that tells versions apart'],
      ['select on the app label only', 'let DestinationRule subsets pick versions'])]);
  });

  test('a Service selecting a label the subsets use to tell versions apart is reported', () => {
    // GIVEN subsets told apart by `track`, and a Service selecting track=stable
    const current = [
      service({ app: APP, track: 'stable' }),
      deployment('v1', { labels: { app: APP, track: 'stable' } }),
      destinationRule([{ name: 'stable', labels: { track: 'stable' } }, { name: 'canary', labels: { track: 'canary' } }]),
      virtualService(weighted([['stable', 100]])),
    ];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SERVICE_SELECTS_VERSION, 'Service/helloworld', ["selector has 'track: stable'"], ['select on the app label only'])]);
  });

  test('a Service selecting the app label only is fine', () => {
    // GIVEN the usual version-free Service
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a Service selecting the app label is fine when every subset also carries it', () => {
    // GIVEN subsets {app: helloworld, version: v1|v2} (app is the same in all, it tells no versions apart)
    const current = [
      service({ app: APP }),
      deployment('v1'), deployment('v2'),
      destinationRule([{ name: 'v1', labels: { app: APP, version: 'v1' } }, { name: 'v2', labels: { app: APP, version: 'v2' } }]),
      virtualService(weighted([['v1', 90], ['v2', 10]])),
    ];

    // WHEN / THEN no violation expected (actual: [service-selects-version] Service/helloworld: selector has 'app: helloworld'...)
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});

describe(SafetyRule.SUBSET_UNIQUE, () => {
  test('a subset name defined twice is reported', () => {
    // GIVEN subset v1 twice
    const { current } = violating(SafetyRule.SUBSET_UNIQUE);

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SUBSET_UNIQUE, 'DestinationRule/helloworld',
      ["subset 'v1' is defined twice"], ['give every subset a unique name'])]);
  });

  test('two subsets with the same labels are reported', () => {
    // GIVEN subsets v1 and v2 both selecting version=v1 (copy-paste)
    const current = stage(['v1'], [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v1' } }], weighted([['v1', 100]]));

    // WHEN / THEN both names and the labels are named
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SUBSET_UNIQUE, 'DestinationRule/helloworld',
      ["subsets 'v1' and 'v2' have the same labels", '"version","v1"', 'both select the same pods'],
      ['give each subset the version label of its own Deployment'])]);
  });

  test('distinct names and labels are fine', () => {
    // GIVEN subsets v1 and v2 with their own labels
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});

describe(SafetyRule.STALE_SUBSET, () => {
  test('a subset that selects no pods, kept from the previous stage and routed by nothing, is a warning', () => {
    // GIVEN subset v3 in both stages, no helloworld-v3, no route to v3
    const { previous, current } = violating(SafetyRule.STALE_SUBSET);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN v3 is named, as a warning: no request is lost
    expect(violations).toEqual([warning(SafetyRule.STALE_SUBSET, 'DestinationRule/helloworld',
      [`subset 'v3' of ${HOST} selects no pods and was already there in the previous stage`, 'nothing runs or routes to it'],
      [`remove subset 'v3' of ${HOST}, or deploy its version`, 'keep routable objects in sync with the versions you run'])]);
    expect(SafetyCheck.errors(violations)).toEqual([]);
  });

  test('a subset added before its version is deployed (the make-routable stage) is fine', () => {
    // GIVEN subset v2 new in this stage, helloworld-v2 not deployed yet
    const previous = stage(['v1'], ['v1'], weighted([['v1', 100]]));
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));

    // WHEN / THEN it is about to be deployed: no warning; and without a previous stage nothing is known
    expect(SafetyCheck.check(current, previous)).toEqual([]);
    expect(SafetyCheck.check(violating(SafetyRule.STALE_SUBSET).current)).toEqual([]);
  });

  test('stale-subset-v3.yaml (the hzeng10 zero-downtime repository shape): version-v3 is stale when applied after itself', () => {
    // GIVEN the same stage applied twice (no namespace: read as `default`)
    const manifests = fixture('stale-subset-v3.yaml');

    // WHEN / THEN alone nothing is reported; as a transition subset version-v3 is a warning
    expect(SafetyCheck.check(manifests)).toEqual([]);
    expect(SafetyCheck.check(manifests, manifests)).toEqual([
      warning(SafetyRule.STALE_SUBSET, 'DestinationRule/zero-downtime-rollingupdate-dr',
        ["subset 'version-v3' of zero-downtime-rollingupdate.default.svc.cluster.local selects no pods"], ["remove subset 'version-v3'"]),
    ]);
    // AND applied with `kubectl -n shop`, the hosts resolve in shop
    expect(SafetyCheck.check(manifests, manifests, { namespace: 'shop' })[0].message).toContain('zero-downtime-rollingupdate.shop.svc.cluster.local');
  });
});

describe(SafetyRule.CAPACITY, () => {
  test('a routed version with replicas: 0 is reported', () => {
    // GIVEN all traffic to v1, which runs 0 replicas
    const { current } = violating(SafetyRule.CAPACITY);

    // WHEN / THEN the floor and where it comes from are named
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]',
      [`sends traffic to subset 'v1' of ${HOST}`, 'no pod of it is guaranteed (Deployment/helloworld-v1 replicas: 0)'],
      ['give the version at least one replica (replicas, or HorizontalPodAutoscaler minReplicas) while it receives traffic'])]);
  });

  test('a version scaled to 0 in the stage that routes 100% to it is reported', () => {
    // GIVEN v2 ran 3 pods at weight 0, and is scaled to 0 in the stage that gives it 100%
    // (v1 keeps its 3 pods, so rolling back is covered)
    const previous = [service(), deployment('v1', { replicas: 3 }), deployment('v2', { replicas: 3 }), destinationRule(['v1', 'v2']), virtualService(weighted([['v1', 100], ['v2', 0]]))];
    const current = [service(), deployment('v1', { replicas: 3 }), deployment('v2', { replicas: 0 }), destinationRule(['v1', 'v2']), virtualService(weighted([['v1', 0], ['v2', 100]]))];

    // WHEN / THEN
    expect(SafetyCheck.check(current, previous)).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]', ["subset 'v2'", 'replicas: 0'], ['at least one replica'])]);
  });

  test('an HorizontalPodAutoscaler with minReplicas 0 on a routed version is reported (its floor wins over replicas)', () => {
    // GIVEN helloworld-v1 with replicas 3, autoscaled from 0
    const current = [...stage(['v1'], ['v1'], weighted([['v1', 100]])), autoscaler('v1', 0)];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]',
      ['no pod of it is guaranteed (Deployment/helloworld-v1 HorizontalPodAutoscaler/helloworld-v1 minReplicas: 0)'], ['HorizontalPodAutoscaler minReplicas'])]);
  });

  test.each([
    ['strategy Recreate', { type: 'Recreate' }, 2, 'strategy Recreate stops every pod before starting the new ones'],
    ['maxUnavailable 100%', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '100%', maxSurge: 0 } }, 2, 'rollingUpdate.maxUnavailable 100% lets a rollout stop every pod at once'],
    ['maxUnavailable 2 of 2 pods', { rollingUpdate: { maxUnavailable: 2 } }, 2, 'rollingUpdate.maxUnavailable 2 is at least the 2 pod(s) guaranteed'],
    ['maxUnavailable 1 of 1 pod', { rollingUpdate: { maxUnavailable: 1 } }, 1, 'rollingUpdate.maxUnavailable 1 is at least the 1 pod(s) guaranteed'],
  ])('a routed version rolled with %s is reported', (_name, strategy, replicas, message) => {
    // GIVEN v1 routed, with that rollout strategy
    const current = [service(), deployment('v1', { replicas, strategy }), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];

    // WHEN / THEN the Deployment is blamed
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.CAPACITY, 'Deployment/helloworld-v1',
      ['receives traffic through VirtualService/helloworld http[0]', message, `the next rollout leaves subset 'v1' of ${HOST} with no ready pod`],
      ['use strategy RollingUpdate with maxUnavailable 0 (or below the replica count) and maxSurge above 0'])]);
  });

  test.each([
    ['the default strategy', undefined, 1],
    ['maxUnavailable 0', { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }, 1],
    ['maxUnavailable 99% of 1 pod (rounds down to 0)', { rollingUpdate: { maxUnavailable: '99%' } }, 1],
    ['maxUnavailable 1 of 2 pods', { rollingUpdate: { maxUnavailable: 1 } }, 2],
  ])('a routed version rolled with %s is fine', (_name, strategy, replicas) => {
    const current = [service(), deployment('v1', { replicas, strategy }), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('an unrouted (weight 0) version may run 0 replicas or roll with Recreate', () => {
    // GIVEN v2 listed at weight 0, replicas 0, Recreate
    const current = [service(), deployment('v1'), deployment('v2', { replicas: 0, strategy: { type: 'Recreate' } }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 100], ['v2', 0]]))];

    // WHEN / THEN no request reaches it
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a fixed replica count far below its share of traffic is a warning', () => {
    // GIVEN v1 on 10 pods and v2 on 1 pod, 50/50: v2 needs about 5
    const current = [service(), deployment('v1', { replicas: 10 }), deployment('v2', { replicas: 1 }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 50], ['v2', 50]]))];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([warning(SafetyRule.CAPACITY, 'VirtualService/helloworld http[0]',
      [`subset 'v2' of ${HOST} receives 50% of the requests on 1 guaranteed pod(s), while 10 pod(s) carry 100% elsewhere in the route: it needs about 5`],
      ['raise the floor of Deployment/helloworld-v2 to at least 5 while it receives 50%'])]);
  });

  test('half of the pods its share needs is still fine (no warning)', () => {
    // GIVEN v1 on 10 pods and v2 on 3 pods, 50/50 (needs 5, has more than half of it)
    const current = [service(), deployment('v1', { replicas: 10 }), deployment('v2', { replicas: 3 }), destinationRule(['v1', 'v2']),
      virtualService(weighted([['v1', 50], ['v2', 50]]))];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('routed-replicas-zero.yaml, hpa-min-replicas-zero.yaml, rollout-takes-all-pods.yaml', () => {
    const REVIEWS = 'reviews.bookinfo.svc.cluster.local';
    expect(SafetyCheck.check(fixture('routed-replicas-zero.yaml'))).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/reviews http[0]',
      [`subset 'v2' of ${REVIEWS}`, 'Deployment/reviews-v2 replicas: 0'], ['at least one replica'])]);
    expect(SafetyCheck.check(fixture('hpa-min-replicas-zero.yaml'))).toEqual([violation(SafetyRule.CAPACITY, 'VirtualService/reviews http[0]',
      [`subset 'v2' of ${REVIEWS}`, 'HorizontalPodAutoscaler/reviews-v2 minReplicas: 0'], ['at least one replica'])]);
    expect(SafetyCheck.check(fixture('rollout-takes-all-pods.yaml'))).toEqual([
      violation(SafetyRule.CAPACITY, 'Deployment/reviews-v1', ['strategy Recreate'], ['maxUnavailable 0']),
      violation(SafetyRule.CAPACITY, 'Deployment/reviews-v2', ['maxUnavailable 100%'], ['maxUnavailable 0']),
    ]);
  });
});

describe(SafetyRule.ROLLBACK_CAPACITY, () => {
  test('a version that had traffic keeps the floor for it, or rolling back lands on too few pods (warning)', () => {
    // GIVEN v1 at 50% of a floor of 10 pods, then at 0% on 2 pods
    const { previous, current } = violating(SafetyRule.ROLLBACK_CAPACITY);

    // WHEN / THEN
    expect(SafetyCheck.check(current, previous)).toEqual([warning(SafetyRule.ROLLBACK_CAPACITY, 'Deployment/helloworld-v1',
      [`subset 'v1' of ${HOST} had 50% of the requests in the previous stage on a floor of 10 pod(s) for all traffic, but keeps only 2`, 'rolling back sends 50% to pods that do not run yet'],
      [`keep the floor of subset 'v1' of ${HOST} at 5 or more until the stage after next`])]);
  });

  test('keeping the floor (5 of 10 for 50%) is fine', () => {
    const { previous, current } = violating(SafetyRule.ROLLBACK_CAPACITY);
    const kept = patched(current, 'Deployment', (d) => { d.spec.replicas = 5; }, 'helloworld-v1');
    expect(SafetyCheck.check(kept, previous)).toEqual([]);
  });

  test('rollback-shift-*.yaml: shift-50 then shift-100 with v1 lowered to minReplicas 2; the roll back itself raises no error', () => {
    // GIVEN v2 autoscaled from 10, v1 from 5 at shift-50 and from 2 at shift-100
    const shift50 = fixture('rollback-shift-50.yaml');
    const shift100 = fixture('rollback-shift-100.yaml');

    // WHEN checking forward (shift-50 -> shift-100) and the roll back (shift-100 -> shift-50)
    // THEN forward warns that v1 gave up the floor it needs if the stage is rolled back
    expect(SafetyCheck.check(shift100, shift50)).toEqual([warning(SafetyRule.ROLLBACK_CAPACITY, 'Deployment/reviews-v1',
      ['had 50% of the requests in the previous stage on a floor of 10 pod(s)', 'keeps only 2'], ['at 5 or more'])]);
    // AND the backward transition is a stage like any other: no violation
    expect(SafetyCheck.check(shift50, shift100)).toEqual([]);
  });
});

describe(SafetyRule.DESTINATION_RULE_VISIBLE, () => {
  test('a DestinationRule in another namespace than its Service is reported', () => {
    const { current } = violating(SafetyRule.DESTINATION_RULE_VISIBLE);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/helloworld',
      ["is in namespace 'other'", `Istio looks for the DestinationRule of ${HOST} only in the caller's namespace, the service's namespace ('default') and the root namespace`, '503'],
      ["move the DestinationRule to namespace 'default'"])]);
  });

  test('exportTo ["."] on a routed DestinationRule is reported', () => {
    const current = [service(), deployment('v1'), destinationRule(['v1'], APP, { spec: { exportTo: ['.'] } }), virtualService(weighted([['v1', 100]]))];
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/helloworld',
      ['exportTo ["."] hides its subsets from callers in other namespaces, while VirtualService/helloworld routes their requests to them'],
      ["drop exportTo (or use ['*'])"])]);
  });

  test.each([
    ['in the root namespace istio-system', destinationRule(['v1'], HOST, { namespace: 'istio-system' }), virtualService(weighted([['v1', 100]]))],
    ['exported to *', destinationRule(['v1'], APP, { spec: { exportTo: ['*'] } }), virtualService(weighted([['v1', 100]]))],
    ['exported to "." with a VirtualService exported to "." too', destinationRule(['v1'], APP, { spec: { exportTo: ['.'] } }),
      virtualServiceOf(APP, { exportTo: ['.'], http: [weighted([['v1', 100]])] })],
  ])('a DestinationRule %s is fine', (_name, dr, vs) => {
    expect(SafetyCheck.check([service(), deployment('v1'), dr, vs])).toEqual([]);
  });

  test('destination-rule-other-namespace.yaml and destination-rule-export-to.yaml', () => {
    expect(SafetyCheck.check(fixture('destination-rule-other-namespace.yaml'))).toEqual([
      violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/reviews', ["is in namespace 'frontend'"], ["move the DestinationRule to namespace 'bookinfo'"]),
    ]);
    expect(SafetyCheck.check(fixture('destination-rule-export-to.yaml'))).toEqual([
      violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/reviews', ['exportTo ["."]'], ['drop exportTo']),
    ]);
  });
});

describe(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST, () => {
  test('two VirtualServices for one host are reported', () => {
    const { current } = violating(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST, 'VirtualService/helloworld-extra',
      [`routes host ${HOST} on gateway 'mesh' like VirtualService/helloworld`, 'Istio merges the two unpredictably'],
      ['keep one VirtualService per host and gateway'])]);
  });

  test('one VirtualService for the mesh and one for an ingress gateway are fine', () => {
    const current = [...stage(['v1'], ['v1'], weighted([['v1', 100]])),
      virtualServiceOf('helloworld-public', { hosts: ['helloworld.example.com'], gateways: ['istio-system/public-gateway'], http: [weighted([['v1', 100]])] })];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('two-virtual-services.yaml: the short name and the FQDN are one host', () => {
    expect(SafetyCheck.check(fixture('two-virtual-services.yaml'))).toEqual([violation(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST, 'VirtualService/reviews-canary',
      ["routes host reviews.bookinfo.svc.cluster.local on gateway 'mesh' like VirtualService/reviews"], ['one VirtualService per host'])]);
  });
});

describe(SafetyRule.MTLS_MODE, () => {
  const MESSAGE = [`sets tls mode DISABLE (plain text) towards pods of ${HOST}, which PeerAuthentication/helloworld requires to use mutual TLS (STRICT)`, 'every request is refused'];
  const FIX = ['use tls mode ISTIO_MUTUAL (or drop the tls setting)'];
  const withPolicy = (drSpec: any, subsets: SubsetSpec[] = ['v1'], ...policies: any[]) =>
    [service(), deployment('v1'), destinationRule(subsets, APP, { spec: drSpec }), virtualService(weighted([['v1', 100]])), ...policies];

  test('STRICT PeerAuthentication and tls mode DISABLE on the DestinationRule are reported', () => {
    const { current } = violating(SafetyRule.MTLS_MODE);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.MTLS_MODE, 'DestinationRule/helloworld trafficPolicy', MESSAGE, FIX)]);
  });

  test('DISABLE on one subset, or on a port of it, is reported with the subset', () => {
    const current = withPolicy({}, [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { portLevelSettings: [{ port: { number: 3000 }, tls: { mode: 'DISABLE' } }] } }],
      peerAuthentication());
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.MTLS_MODE, "DestinationRule/helloworld subset 'v1'", MESSAGE, FIX)]);
  });

  test('a mesh-wide STRICT policy (root namespace, no selector) counts', () => {
    const meshWide = { ...peerAuthentication('STRICT', {}), metadata: { name: 'default', namespace: 'istio-system' } };
    meshWide.spec = { mtls: { mode: 'STRICT' } };
    expect(rulesOf(SafetyCheck.check(withPolicy({ trafficPolicy: { tls: { mode: 'DISABLE' } } }, ['v1'], meshWide)))).toEqual([SafetyRule.MTLS_MODE]);
  });

  test.each([
    ['ISTIO_MUTUAL under STRICT', { trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }, [peerAuthentication()]],
    ['DISABLE under PERMISSIVE', { trafficPolicy: { tls: { mode: 'DISABLE' } } }, [peerAuthentication('PERMISSIVE')]],
    ['DISABLE with a STRICT policy for another app', { trafficPolicy: { tls: { mode: 'DISABLE' } } }, [peerAuthentication('STRICT', { app: 'ratings' })]],
    ['DISABLE under a namespace PERMISSIVE policy that overrides a mesh-wide STRICT one', { trafficPolicy: { tls: { mode: 'DISABLE' } } }, [
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'istio-system' }, spec: { mtls: { mode: 'STRICT' } } },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'default' }, spec: { mtls: { mode: 'PERMISSIVE' } } },
    ]],
  ])('%s is fine', (_name, drSpec, policies) => {
    expect(SafetyCheck.check(withPolicy(drSpec, ['v1'], ...policies))).toEqual([]);
  });

  test('mtls-disable.yaml: the host-wide DISABLE and the one on port 9080 of subset v2', () => {
    expect(SafetyCheck.check(fixture('mtls-disable.yaml'))).toEqual([
      violation(SafetyRule.MTLS_MODE, 'DestinationRule/reviews trafficPolicy', ['tls mode DISABLE', 'PeerAuthentication/reviews'], FIX),
      violation(SafetyRule.MTLS_MODE, "DestinationRule/reviews subset 'v2'", ['tls mode DISABLE'], FIX),
    ]);
  });
});

describe(SafetyRule.PROTOCOL, () => {
  const withPorts = (...ports: any[]) => [service({ app: APP }, ports), deployment('v1'), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))];

  test.each([
    [{ name: 'tcp', port: 3000 }, 'tcp'],
    [{ name: 'mongo', port: 27017 }, 'mongo'],
    [{ name: 'https', port: 443 }, 'https'],
    [{ name: 'tls-api', port: 443 }, 'tls'],
    [{ name: 'http', port: 3000, appProtocol: 'tcp' }, 'tcp'],
  ])('http routes for a Service whose only port is %j are reported', (port, protocol) => {
    expect(SafetyCheck.check(withPorts(port))).toEqual([violation(SafetyRule.PROTOCOL, 'VirtualService/helloworld',
      [`has http routes for ${HOST}, whose Service ports are ${protocol}`, 'Istio applies http routes to HTTP ports only, so its weights do nothing'],
      ["name the Service port 'http' (or set appProtocol http/http2/grpc), or route the port with tcp routes"])]);
  });

  test.each([
    [{ name: 'http-web', port: 3000 }],
    [{ name: 'grpc', port: 3000 }],
    [{ name: 'tcp', port: 3000, appProtocol: 'http' }],
    [{ name: 'web', port: 3000, appProtocol: 'kubernetes.io/h2c' }],
    [{ port: 3000 }],
  ])('http routes for a port %j are fine', (port) => {
    expect(SafetyCheck.check(withPorts(port))).toEqual([]);
  });

  test('a tcp port next to an http port is fine (the http routes apply to the http port)', () => {
    expect(SafetyCheck.check(withPorts({ name: 'http', port: 3000 }, { name: 'tcp-metrics', port: 9090 }))).toEqual([]);
  });

  test('protocol-tcp-port.yaml: appProtocol tcp wins over the port name', () => {
    expect(SafetyCheck.check(fixture('protocol-tcp-port.yaml'))).toEqual([violation(SafetyRule.PROTOCOL, 'VirtualService/reviews',
      ['whose Service ports are tcp'], ['appProtocol'])]);
  });

  test('tcp-route-undefined-subset.yaml: tcp routes are read like http routes (and fit a mongo port)', () => {
    expect(SafetyCheck.check(fixture('tcp-route-undefined-subset.yaml'))).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/mongodb tcp[0]',
      ["routes to subset 'v2' of mongodb.bookinfo.svc.cluster.local", 'which no DestinationRule of this stage defines'],
      ["add subset 'v2' to the DestinationRule of mongodb.bookinfo.svc.cluster.local"])]);
  });

  test('tls routes are read like http routes', () => {
    const current = [service({ app: APP }, [{ name: 'tls', port: 443 }]), deployment('v1'), destinationRule(['v1']),
      virtualServiceOf(APP, { tls: [{ match: [{ port: 443, sniHosts: ['helloworld.example.com'] }], route: [{ destination: { host: APP, subset: 'v9' } }] }] })];
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld tls[0]', ["routes to subset 'v9'"], ["add subset 'v9'"])]);
  });
});

describe(SafetyRule.GATEWAYS_WITHOUT_MESH, () => {
  test('a VirtualService of an in-cluster host bound to gateways only is a warning', () => {
    const { current } = violating(SafetyRule.GATEWAYS_WITHOUT_MESH);
    expect(SafetyCheck.check(current)).toEqual([warning(SafetyRule.GATEWAYS_WITHOUT_MESH, 'VirtualService/helloworld',
      [`is bound to istio-system/public-gateway only, so in-mesh callers of ${HOST} bypass its weights and reach every version the Service selects`],
      ["add 'mesh' to gateways (or route in-mesh callers with a VirtualService of their own)"])]);
  });

  test.each([
    ['gateways listing mesh', { gateways: ['istio-system/public-gateway', 'mesh'] }],
    ['an external host only', { hosts: ['helloworld.example.com'], gateways: ['istio-system/public-gateway'] }],
    ['no gateways (mesh only)', {}],
  ])('%s is fine', (_name, spec) => {
    const current = [service(), deployment('v1'), destinationRule(['v1']), virtualServiceOf(APP, { ...spec, http: [weighted([['v1', 100]])] })];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('gateways-without-mesh.yaml', () => {
    expect(SafetyCheck.check(fixture('gateways-without-mesh.yaml'))).toEqual([warning(SafetyRule.GATEWAYS_WITHOUT_MESH, 'VirtualService/reviews',
      ['in-mesh callers of reviews.bookinfo.svc.cluster.local bypass its weights'], ["add 'mesh' to gateways"])]);
  });
});

describe(SafetyRule.DUPLICATE_OBJECT, () => {
  test('two objects of one kind, namespace and name are reported once', () => {
    const { current } = violating(SafetyRule.DUPLICATE_OBJECT);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DUPLICATE_OBJECT, 'Deployment/helloworld-v1',
      ["is defined 2 times in namespace 'default'", 'only one survives the apply'],
      ['give every object a unique name', 'foo + bar-v1 and foo-bar + v1 both make foo-bar-v1'])]);
  });

  test('duplicate-objects.yaml: app foo + version bar-v1 and app foo-bar + version v1 (other namespaces and kinds do not count)', () => {
    expect(SafetyCheck.check(fixture('duplicate-objects.yaml'))).toEqual([violation(SafetyRule.DUPLICATE_OBJECT, 'Deployment/foo-bar-v1',
      ["is defined 2 times in namespace 'shop'"], ['give every object a unique name'])]);
  });

  test('objects without a namespace count in the namespace of the check', () => {
    // GIVEN one Deployment without namespace, the same one in `shop`
    const bare = deployment('v1');
    delete bare.metadata.namespace;
    const inShop = deployment('v1', { namespace: 'shop' });

    // WHEN / THEN they collide when applied with `-n shop` only
    expect(SafetyCheck.check([bare, inShop])).toEqual([]);
    expect(rulesOf(SafetyCheck.check([bare, inShop], undefined, { namespace: 'shop' }))).toEqual([SafetyRule.DUPLICATE_OBJECT]);
  });

  test('two MeshReleases of one app synthesized into one stage collide on every object', () => {
    // GIVEN the same release synthesized in two charts, applied together
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });
    const synthOne = () => {
      const chart = Testing.chart();
      new MeshRelease(chart, 'helloworld', { app: APP, port: 3000, versions: [{ version: 'v1', image: 'a:1' }, { version: 'v2', image: 'a:2' }], stage: plan.stage('stable') });
      return Testing.synth(chart);
    };
    const one = synthOne();

    // WHEN / THEN every object is reported as a duplicate, errors only
    const violations = SafetyCheck.check([...one, ...synthOne()]);
    expect(new Set(rulesOf(violations))).toEqual(new Set([SafetyRule.DUPLICATE_OBJECT]));
    expect(violations.map((v) => v.object).sort()).toEqual(one.map((m) => `${m.kind}/${m.metadata.name}`).sort());
  });
});

// ---------------------------------------------------------------------------------------
// Reading: cluster domain, kind: List, namespaces.
// ---------------------------------------------------------------------------------------

describe('reading manifests', () => {
  test('cluster-domain.yaml: hosts in another cluster domain are checked with options.clusterDomain', () => {
    // GIVEN hosts written as reviews.bookinfo.svc.corp.internal, 10% to v2 which does not run
    const manifests = fixture('cluster-domain.yaml');

    // WHEN checking with the default domain, then with corp.internal
    // THEN with cluster.local the hosts look external: nothing can be checked (and nothing is misreported)
    expect(SafetyCheck.check(manifests)).toEqual([]);
    // AND with the cluster's domain the missing version is found
    expect(SafetyCheck.check(manifests, undefined, { clusterDomain: 'corp.internal' })).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/reviews http[0]',
      ["sends traffic to subset 'v2' of reviews.bookinfo.svc.corp.internal", 'no Deployment of this stage has pods it selects'], ['deploy the version'])]);
  });

  test('short hosts are qualified with the cluster domain given', () => {
    // GIVEN the SUBSET_DEFINED case (short hosts)
    const { current } = violating(SafetyRule.SUBSET_DEFINED);

    // WHEN / THEN the host in the message is in corp.internal
    expect(SafetyCheck.check(current, undefined, { clusterDomain: 'corp.internal' })).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld http[0]',
      ["routes to subset 'v2' of helloworld.default.svc.corp.internal"], ["add subset 'v2' to the DestinationRule of helloworld.default.svc.corp.internal"])]);
  });

  test('list-wrapped.yaml: the items of a kind: List are checked, nested Lists too', () => {
    // GIVEN the missing-subset stage as one v1 List
    const [list] = fixture('list-wrapped.yaml');
    expect(list.kind).toBe('List');
    const expected = [violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/reviews http[0]', ["routes to subset 'v2' of reviews.bookinfo.svc.cluster.local"], ["add subset 'v2'"])];

    // WHEN / THEN as a List, as a List inside a List, and as the previous stage too
    expect(SafetyCheck.check([list])).toEqual(expected);
    expect(SafetyCheck.check([{ apiVersion: 'v1', kind: 'List', items: [list] }])).toEqual(expected);
    expect(SafetyCheck.check([list], fixture('missing-subset.yaml'))).toEqual(expected);
  });

  test('a List and its items given side by side are duplicates', () => {
    const [list] = fixture('list-wrapped.yaml');
    expect(new Set(rulesOf(SafetyCheck.check([list, ...fixture('missing-subset.yaml')])))).toEqual(new Set([SafetyRule.DUPLICATE_OBJECT, SafetyRule.SUBSET_DEFINED]));
  });
});

// ---------------------------------------------------------------------------------------
// Timing rules.
// ---------------------------------------------------------------------------------------

describe(SafetyRule.TERMINATION_BUDGET, () => {
  // Drains are at least the preStop sleep in these tests, so a classic sidecar never exits early:
  // each test checks the sum only. The early exit has tests of its own below.
  const PRE_STOPS: Array<[string, any]> = [
    ["exec ['sleep', '20']", { exec: { command: ['sleep', '20'] } }],
    ["exec ['/bin/sh', '-c', 'sleep 20']", { exec: { command: ['/bin/sh', '-c', 'sleep 20'] } }],
    ["exec ['/bin/sleep', '20']", { exec: { command: ['/bin/sleep', '20'] } }],
    ['native sleep.seconds 20', { sleep: { seconds: 20 } }],
  ];
  const PROXY_CONFIGS: Array<[string, string]> = [
    ['JSON', '{"terminationDrainDuration": "20s"}'],
    ['JSON, compact, among other fields', '{"holdApplicationUntilProxyStarts":true,"terminationDrainDuration":"20s"}'],
    ['YAML', 'terminationDrainDuration: 20s\n'],
    ['YAML, quoted, among other fields', 'holdApplicationUntilProxyStarts: true\nterminationDrainDuration: "20s"\n'],
  ];
  const CASES = PRE_STOPS.flatMap(([preStopName, preStop]) =>
    PROXY_CONFIGS.map(([configName, proxyConfig]) => [preStopName, configName, preStop, proxyConfig]));

  test.each(CASES)('preStop %s + %s drain 20s needs a grace period of 40s', (_p, _c, preStop, proxyConfig) => {
    // GIVEN a 20s preStop sleep and a 20s sidecar drain
    const pod = (grace: number) => [deployment('v1', { grace, preStop, proxyConfig })];

    // WHEN checking with a grace period of 39s, then 40s
    const short = SafetyCheck.check(pod(39));
    const enough = SafetyCheck.check(pod(40));

    // THEN 39s is reported with all three numbers and the minimum, 40s is fine
    expect(short).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
      ['terminationGracePeriodSeconds 39 is shorter than preStop sleep 20s + sidecar drain 20s (terminationDrainDuration)', 'killed while still serving'],
      ['raise terminationGracePeriodSeconds to at least 40', 'or shorten the preStop sleep'])]);
    expect(enough).toEqual([]);
  });

  test('the grace period defaults to 30s', () => {
    // GIVEN no terminationGracePeriodSeconds, a 10s sleep and a 25s drain
    const pod = [deployment('v1', { preStop: { exec: { command: ['sleep', '10'] } }, proxyConfig: 'terminationDrainDuration: 25s' })];

    // WHEN / THEN Kubernetes' default of 30s is too short
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
      ['terminationGracePeriodSeconds 30 is shorter than preStop sleep 10s + sidecar drain 25s'], ['at least 35'])]);
  });

  test('the drain duration is read as a duration (1m)', () => {
    // GIVEN a 1m drain and a 10s sleep, grace 60
    const pod = [deployment('v1', { grace: 60, preStop: { sleep: { seconds: 10 } }, proxyConfig: '{"terminationDrainDuration":"1m"}' })];

    // WHEN / THEN 60 < 10 + 60
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 10s + sidecar drain 60s'], ['at least 70'])]);
  });

  test('without a proxy config the drain counts as 0', () => {
    // GIVEN a 20s sleep, no drain annotation
    const pod = (grace: number) => [deployment('v1', { grace, preStop: { exec: { command: ['sleep', '20'] } } })];

    // WHEN / THEN 19 is too short, 20 is enough
    expect(SafetyCheck.check(pod(19))).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 20s + sidecar drain 0s'], ['at least 20'])]);
    expect(SafetyCheck.check(pod(20))).toEqual([]);
  });

  test.each([
    ['sets no drain', '{"holdApplicationUntilProxyStarts":true}'],
    ['sets EXIT_ON_ZERO_ACTIVE_CONNECTIONS without MINIMUM_DRAIN_DURATION', '{"terminationDrainDuration":"60s","proxyMetadata":{"EXIT_ON_ZERO_ACTIVE_CONNECTIONS":"true"}}'],
    ['is unreadable', '{"terminationDrainDuration": '],
  ])('a proxy config that %s leaves the drain to the mesh-wide config: only the preStop sleep counts', (_name, proxyConfig) => {
    // GIVEN a 20s sleep, a proxy config that does not decide the drain, grace 20
    const pod = [deployment('v1', { grace: 20, preStop: { exec: { command: ['sleep', '20'] } }, proxyConfig })];

    // WHEN / THEN the unknown mesh-wide drain is not guessed (as for a pod without the annotation)
    expect(SafetyCheck.check(pod)).toEqual([]);
  });

  test('the longest preStop sleep of the containers counts', () => {
    // GIVEN two containers sleeping 5s and 25s, grace 30, drain 25s
    const d = deployment('v1', { grace: 30, proxyConfig: 'terminationDrainDuration: 25s' });
    d.spec.template.spec.containers = [
      { name: 'a', image: 'a', lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } },
      { name: 'b', image: 'b', lifecycle: { preStop: { sleep: { seconds: 25 } } } },
    ];

    // WHEN / THEN 30 < 25 + 25
    expect(SafetyCheck.check([d])).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 25s + sidecar drain 25s'], ['at least 50'])]);
  });

  test('a preStop hook that does not sleep counts as 0s: the sidecar drain alone must fit', () => {
    // GIVEN a preStop that runs a command without sleeping, grace 1, drain 15s
    const pod = [deployment('v1', { grace: 1, preStop: { exec: { command: ['nginx', '-s', 'quit'] } }, proxyConfig: 'terminationDrainDuration: 15s' })];

    // WHEN / THEN 1 < 0 + 15
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 0s + sidecar drain 15s'], ['at least 15'])]);
  });

  test('a preStop hook that does not sleep, with no drain, fits any grace period', () => {
    const pod = [deployment('v1', { grace: 1, preStop: { exec: { command: ['nginx', '-s', 'quit'] } } })];
    expect(SafetyCheck.check(pod)).toEqual([]);
  });

  test("a single-quoted YAML drain duration ('15s') is read", () => {
    // GIVEN proxy config `terminationDrainDuration: '15s'`, a 10s sleep, grace 20
    const pod = [deployment('v1', { grace: 20, preStop: { exec: { command: ['sleep', '10'] } }, proxyConfig: "terminationDrainDuration: '15s'\n" })];

    // WHEN / THEN 20 < 10 + 15
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 10s + sidecar drain 15s'], ['at least 25'])]);
  });

  describe('EXIT_ON_ZERO_ACTIVE_CONNECTIONS: pilot-agent waits MINIMUM_DRAIN_DURATION, not terminationDrainDuration', () => {
    const exitOnZero = (minimum: string, termination = '5s') =>
      JSON.stringify({ terminationDrainDuration: termination, proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: minimum } });

    test('the budget counts MINIMUM_DRAIN_DURATION', () => {
      // GIVEN a 10s sleep, MINIMUM_DRAIN_DURATION 30s (terminationDrainDuration 5s is ignored), grace 35
      const pod = [deployment('v1', { grace: 35, preStop: { sleep: { seconds: 10 } }, proxyConfig: exitOnZero('30s') })];

      // WHEN / THEN 35 < 10 + 30, and the message names the setting that applies
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['terminationGracePeriodSeconds 35 is shorter than preStop sleep 10s + sidecar drain 30s (MINIMUM_DRAIN_DURATION, then until no connection is active)'],
        ['at least 40'])]);
    });

    test('a long terminationDrainDuration does not count when MINIMUM_DRAIN_DURATION applies', () => {
      // GIVEN a 10s sleep, MINIMUM_DRAIN_DURATION 10s, terminationDrainDuration 120s, grace 25
      const pod = [deployment('v1', { grace: 25, preStop: { sleep: { seconds: 10 } }, proxyConfig: exitOnZero('10s', '120s') })];

      // WHEN / THEN 25 >= 10 + 10
      expect(SafetyCheck.check(pod)).toEqual([]);
    });

    test('YAML proxy config with proxyMetadata is read', () => {
      // GIVEN the same as YAML, with an unquoted boolean
      const proxyConfig = 'terminationDrainDuration: 5s\nproxyMetadata:\n  EXIT_ON_ZERO_ACTIVE_CONNECTIONS: true\n  MINIMUM_DRAIN_DURATION: 30s\n';
      const pod = [deployment('v1', { grace: 35, preStop: { sleep: { seconds: 10 } }, proxyConfig })];

      // WHEN / THEN
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['sidecar drain 30s (MINIMUM_DRAIN_DURATION'], ['at least 40'])]);
    });

    test("VersionedApp's proxy config (both settings, equal) is read as MINIMUM_DRAIN_DURATION", () => {
      // GIVEN the annotation VersionedApp writes for sidecarDrainDuration 15s, a 10s sleep
      const proxyConfig = JSON.stringify({
        holdApplicationUntilProxyStarts: true,
        terminationDrainDuration: '15s',
        proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '15s' },
      });
      const pod = (grace: number) => [deployment('v1', { grace, preStop: { sleep: { seconds: 10 } }, proxyConfig })];

      // WHEN / THEN 24 is too short, 25 fits
      expect(SafetyCheck.check(pod(24))).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['sidecar drain 15s (MINIMUM_DRAIN_DURATION'], ['at least 25'])]);
      expect(SafetyCheck.check(pod(25))).toEqual([]);
    });
  });

  describe('native sidecar (sidecar.istio.io/nativeSidecar: "true"): it drains after the app container stopped', () => {
    const NATIVE = { 'sidecar.istio.io/nativeSidecar': 'true' };

    test('only the preStop sleep counts', () => {
      // GIVEN a 20s sleep and a 30s drain on a native sidecar
      const pod = (grace: number) => [deployment('v1', { grace, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 30s', annotations: NATIVE })];

      // WHEN / THEN 19 is too short (the message says why the drain is left out), 20 fits
      expect(SafetyCheck.check(pod(19))).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['terminationGracePeriodSeconds 19 is shorter than preStop sleep 20s (native sidecar: it drains when the app has stopped)'], ['at least 20'])]);
      expect(SafetyCheck.check(pod(20))).toEqual([]);
    });

    test('a drain shorter than the preStop sleep is fine: the sidecar outlives the app', () => {
      const pod = [deployment('v1', { grace: 30, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 5s', annotations: NATIVE })];
      expect(SafetyCheck.check(pod)).toEqual([]);
    });
  });

  describe('a classic sidecar exiting before the preStop sleep ends', () => {
    test('a drain shorter than the preStop sleep is reported, whatever the grace period', () => {
      // GIVEN a 20s sleep, a 5s drain, grace 60 (plenty)
      const pod = [deployment('v1', { grace: 60, preStop: { exec: { command: ['sleep', '20'] } }, proxyConfig: '{"terminationDrainDuration":"5s"}' })];

      // WHEN / THEN the early exit is named, with the setting to raise
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['a classic sidecar exits after its sidecar drain 5s (terminationDrainDuration)', "while the app's preStop sleep (20s) still waits", 'requests arriving in between are refused'],
        ['set terminationDrainDuration in proxy.istio.io/config to at least the preStop sleep (20s)'])]);
    });

    test('with EXIT_ON_ZERO_ACTIVE_CONNECTIONS the fix names MINIMUM_DRAIN_DURATION', () => {
      // GIVEN a 20s sleep, MINIMUM_DRAIN_DURATION 5s (terminationDrainDuration 60s is ignored), grace 90
      const proxyConfig = JSON.stringify({ terminationDrainDuration: '60s', proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '5s' } });
      const pod = [deployment('v1', { grace: 90, preStop: { sleep: { seconds: 20 } }, proxyConfig })];

      // WHEN / THEN
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['exits after its sidecar drain 5s (MINIMUM_DRAIN_DURATION, then until no connection is active)'],
        ['set MINIMUM_DRAIN_DURATION in proxy.istio.io/config to at least the preStop sleep (20s)'])]);
    });

    test('a short grace period and an early exit are both reported', () => {
      // GIVEN a 20s sleep, a 5s drain, grace 10
      const pod = [deployment('v1', { grace: 10, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 5s' })];

      // WHEN / THEN
      expect(SafetyCheck.check(pod)).toEqual([
        violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['terminationGracePeriodSeconds 10 is shorter than preStop sleep 20s + sidecar drain 5s'], ['at least 25']),
        violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['a classic sidecar exits after its sidecar drain 5s'], ['at least the preStop sleep (20s)']),
      ]);
    });

    test('a drain equal to the preStop sleep is fine', () => {
      const pod = [deployment('v1', { grace: 40, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 20s' })];
      expect(SafetyCheck.check(pod)).toEqual([]);
    });
  });

  test('termination-budget.yaml: every preStop and proxy config form is read', () => {
    // GIVEN hand-written bookinfo Deployments (see the table at the top of the fixture)
    const manifests = fixture('termination-budget.yaml');

    // WHEN checking them
    const violations = SafetyCheck.check(manifests);

    // THEN the three short grace periods are reported, the two long enough ones are not
    expect(violations).toEqual([
      violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/productpage-v1', ['terminationGracePeriodSeconds 30', 'preStop sleep 10s + sidecar drain 25s'], ['at least 35']),
      violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/details-v1', ['terminationGracePeriodSeconds 30', 'preStop sleep 10s + sidecar drain 25s'], ['at least 35']),
      violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/reviews-v1', ['terminationGracePeriodSeconds 34', 'preStop sleep 10s + sidecar drain 25s'], ['at least 35']),
    ]);
  });
});

describe(SafetyRule.RETRY_BUDGET, () => {
  test('the first try + 2 retries of 2s under a 5s timeout are reported', () => {
    // GIVEN timeout 5s, retries {attempts: 2, perTryTimeout: 2s}: 3 tries of 2s
    const { current } = violating(SafetyRule.RETRY_BUDGET);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the tries, the product and the timeout are named
    expect(violations).toEqual([violation(SafetyRule.RETRY_BUDGET, 'VirtualService/helloworld http[0]',
      ['the first try + 2 retries x perTryTimeout 2s = 6s exceed the route timeout 5s', 'the last retries can never run'],
      ['lower retries.attempts or retries.perTryTimeout, or raise timeout'])]);
  });

  test('attempts counts retries after the first try: 3 x 2s no longer fits a 6s timeout', () => {
    // GIVEN the budget the old model accepted (attempts x perTryTimeout = timeout)
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], { timeout: '6s', retries: { attempts: 3, perTryTimeout: '2s' } }));

    // WHEN / THEN 4 tries of 2s = 8s
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.RETRY_BUDGET, 'VirtualService/helloworld http[0]',
      ['the first try + 3 retries x perTryTimeout 2s = 8s exceed the route timeout 6s'], ['raise timeout'])]);
  });

  test.each([
    // timeout, attempts, perTryTimeout, violation message or undefined when safe
    ['8s', 3, '2s', undefined],
    ['1m', 3, '15s', undefined],
    ['1m', 3, '16s', 'the first try + 3 retries x perTryTimeout 16s = 64s exceed the route timeout 60s'],
    ['1s', 3, '500ms', 'the first try + 3 retries x perTryTimeout 0.5s = 2s exceed the route timeout 1s'],
    ['2s', 3, '500ms', undefined],
    ['1m30s', 4, '20s', 'the first try + 4 retries x perTryTimeout 20s = 100s exceed the route timeout 90s'],
    ['2m30s', 4, '30s', undefined],
    ['1s', 1, '600ms', 'the first try + 1 retries x perTryTimeout 0.6s = 1.2s exceed the route timeout 1s'],
  ])('timeout %s with attempts %d x %s', (timeout, attempts, perTryTimeout, message) => {
    // GIVEN a route with that timeout and those retries
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], { timeout, retries: { attempts, perTryTimeout } }));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN a violation naming the numbers, or none
    expect(violations).toEqual(message === undefined ? [] : [violation(SafetyRule.RETRY_BUDGET, 'VirtualService/helloworld http[0]', [message], ['raise timeout'])]);
  });

  test.each([
    ['no timeout', { retries: { attempts: 3, perTryTimeout: '2s' } }],
    ['no perTryTimeout', { timeout: '1s', retries: { attempts: 3 } }],
    ['retries off', { timeout: '1s', retries: { attempts: 0, perTryTimeout: '2s' } }],
    ['an unreadable duration', { timeout: '5 seconds', retries: { attempts: 3, perTryTimeout: '2s' } }],
  ])('a route with %s is not checked', (_name, extra) => {
    // GIVEN a route missing one of the three numbers
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], extra));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('the first try + 2 retries of 100ms fit a 300ms timeout exactly', () => {
    // GIVEN timeout 300ms, retries 2 x 100ms (3 tries; 0.1 + 0.1 + 0.1 is not 0.3 in floating point)
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], { timeout: '300ms', retries: { attempts: 2, perTryTimeout: '100ms' } }));

    // WHEN / THEN expected no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a tcp route with retries-like fields is not checked (retries are http only)', () => {
    // GIVEN a tcp route carrying timeout and retries (Istio ignores them there)
    const current = [service({ app: APP }, [{ name: 'tcp', port: 3000 }]), deployment('v1'), destinationRule(['v1']),
      virtualServiceOf(APP, { tcp: [{ route: [{ destination: { host: APP, subset: 'v1' } }], timeout: '1s', retries: { attempts: 3, perTryTimeout: '1s' } }] })];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('retry-budget.yaml: each route is checked with its own durations', () => {
    // GIVEN a hand-written VirtualService with 5s, 1s (500ms tries) and 1m (15s tries) routes
    const manifests = fixture('retry-budget.yaml');

    // WHEN checking it (the fixture has no DestinationRule: only the retry budget is under test)
    const violations = SafetyCheck.check(manifests).filter((v) => v.rule === SafetyRule.RETRY_BUDGET);

    // THEN http[0] and http[1] are reported, http[2] is not
    expect(violations).toEqual([
      violation(SafetyRule.RETRY_BUDGET, 'VirtualService/reviews http[0]', ['the first try + 3 retries x perTryTimeout 2s = 8s exceed the route timeout 5s'], ['raise timeout']),
      violation(SafetyRule.RETRY_BUDGET, 'VirtualService/reviews http[1]', ['the first try + 3 retries x perTryTimeout 0.5s = 2s exceed the route timeout 1s'], ['raise timeout']),
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Hand-written bookinfo YAML.
// ---------------------------------------------------------------------------------------

describe('hand-written YAML (bookinfo reviews)', () => {
  const REVIEWS = 'reviews.bookinfo.svc.cluster.local';

  test('a correct canary stage pair (deploy, then 90/10) has no violation', () => {
    // GIVEN the deploy stage (v1 100, v2 0) and the shift-10 stage (90/10), both versions deployed in both
    const previous = fixture('canary-deploy.yaml');
    const current = fixture('canary-shift-10.yaml');

    // WHEN checking each stage and the transition
    // THEN there are no violations at all
    expect(SafetyCheck.check(previous)).toEqual([]);
    expect(SafetyCheck.check(current)).toEqual([]);
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('missing-subset.yaml: a subset routed but missing from the DestinationRule', () => {
    // GIVEN 10% routed to subset v2, which the DestinationRule does not define
    const manifests = fixture('missing-subset.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN v2 is reported as undefined (the cause; no second violation for its pods)
    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/reviews http[0]',
        [`routes to subset 'v2' of ${REVIEWS}`, 'which no DestinationRule of this stage defines'],
        [`add subset 'v2' to the DestinationRule of ${REVIEWS}`]),
    ]);
  });

  test('missing-subset.yaml after the correct deploy stage: the same, with the subset also missing from the previous stage', () => {
    // GIVEN the previous stage defined v2; this one drops it and routes 10% to it
    const violations = SafetyCheck.check(fixture('missing-subset.yaml'), fixture('canary-deploy.yaml'));

    // THEN removing v2 while it was listed (weight 0) is reported too
    expect(rulesOf(violations)).toEqual([SafetyRule.SUBSET_DEFINED, SafetyRule.SUBSET_REMOVED_WHILE_ROUTED]);
    expect(violations[1]).toEqual(violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/reviews', ["subset 'v2' is removed"], ["remove 'v2' from the route"]));
  });

  test('stale-subset.yaml: a subset with weight whose Deployment is gone', () => {
    // GIVEN subset v1 still at 10%, Deployment reviews-v1 gone
    const manifests = fixture('stale-subset.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN v1 is reported as having no pods
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/reviews http[0]',
      [`sends traffic to subset 'v1' of ${REVIEWS}`, 'no Deployment of this stage has pods it selects'],
      ['deploy the version'])]);
  });

  test('deployment-deleted-*.yaml: an unrouted Deployment deleted while its subset stays is no error, the subset is stale', () => {
    // GIVEN the unroute stage, then the same with reviews-v1 deleted but subset v1 kept
    const previous = fixture('deployment-deleted-before.yaml');
    const current = fixture('deployment-deleted-after.yaml');

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN no route names v1, so no request is lost: subset v1 is reported as stale (warning) only
    expect(violations).toEqual([
      warning(SafetyRule.STALE_SUBSET, 'DestinationRule/reviews', [`subset 'v1' of ${REVIEWS} selects no pods and was already there in the previous stage`],
        [`remove subset 'v1' of ${REVIEWS}, or deploy its version`]),
    ]);
    // AND each stage on its own is fine (v1 is unrouted)
    expect(SafetyCheck.check(previous)).toEqual([]);
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('deployment-deleted-*.yaml with v1 still listed at weight 0: the Deployment is deleted while routed', () => {
    // GIVEN both stages with v1 kept in the route at weight 0
    const listV1 = (manifests: any[]) => patched(manifests, 'VirtualService', (vs) => {
      vs.spec.http[0].route.unshift({ destination: { host: 'reviews', subset: 'v1' }, weight: 0 });
    });

    // WHEN checking the transition
    const violations = SafetyCheck.check(listV1(fixture('deployment-deleted-after.yaml')), listV1(fixture('deployment-deleted-before.yaml')));

    // THEN reviews-v1 is reported once
    expect(violations).toEqual([
      violation(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, 'Deployment/reviews-v1',
        ["is deleted while subset 'v1' of DestinationRule/reviews in the previous stage, which a route names, still selects its pods"],
        ["unroute and remove subset 'v1' of DestinationRule/reviews in stages before deleting the Deployment"]),
    ]);
  });

  test('header-route-without-catch-all.yaml: a header route with no fallback', () => {
    // GIVEN one route, matching end-user: jason, and nothing after it
    const manifests = fixture('header-route-without-catch-all.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN the route is blamed
    expect(violations).toEqual([violation(SafetyRule.CATCH_ALL_ROUTE, 'VirtualService/reviews http[0]',
      ['the last route has a match', 'requests matching none of the routes get 404'],
      ['end http with a route that has no match'])]);
  });

  test('fqdn-host.yaml: the FQDN reviews.bookinfo.svc.cluster.local matches the short reviews', () => {
    // GIVEN a DestinationRule on the FQDN, a VirtualService routing to the short name
    const manifests = fixture('fqdn-host.yaml');

    // WHEN checking it alone, and after a stage whose DestinationRule used the short name
    // THEN the subsets are found: no violation
    expect(SafetyCheck.check(manifests)).toEqual([]);
    expect(SafetyCheck.check(manifests, fixture('canary-deploy.yaml'))).toEqual([]);
    expect(SafetyCheck.check(fixture('canary-deploy.yaml'), manifests)).toEqual([]);
  });

  test('other-namespace-host.yaml: reviews.other does not match the bookinfo DestinationRule of reviews', () => {
    // GIVEN the route names reviews.other, the DestinationRule (in bookinfo) names reviews
    const manifests = fixture('other-namespace-host.yaml');

    // WHEN checking the stage
    const violations = SafetyCheck.check(manifests);

    // THEN subset v1 of reviews.other is undefined, and only that is reported (it is the cause)
    expect(violations[0]).toEqual(violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/reviews http[0]',
      ["routes to subset 'v1' of reviews.other", 'which no DestinationRule of this stage defines'],
      ["add subset 'v1' to the DestinationRule of reviews.other"]));
    expect(rulesOf(violations)).toEqual([SafetyRule.SUBSET_DEFINED]);
  });

  test('a Deployment of the same labels in another namespace does not make a destination ready', () => {
    // GIVEN the shift-10 stage with reviews-v2 living in namespace staging instead of bookinfo
    const manifests = fixture('canary-shift-10.yaml').map((m) =>
      (m.kind === 'Deployment' && m.metadata.name === 'reviews-v2' ? { ...m, metadata: { ...m.metadata, namespace: 'staging' } } : m));

    // WHEN / THEN expected: DESTINATION_READY for subset v2
    expect(rulesOf(SafetyCheck.check(manifests))).toEqual([SafetyRule.DESTINATION_READY]);
  });

  test('a DestinationRule on reviews.bookinfo (namespace-qualified, not FQDN) does not define subsets for reviews', () => {
    // GIVEN the shift-10 stage with the DestinationRule's host written `reviews.bookinfo`
    const manifests = fixture('canary-shift-10.yaml').map((m) =>
      (m.kind === 'DestinationRule' ? { ...m, spec: { ...m.spec, host: 'reviews.bookinfo' } } : m));

    // WHEN / THEN expected: SUBSET_DEFINED for v1 and v2
    expect(rulesOf(SafetyCheck.check(manifests))).toContain(SafetyRule.SUBSET_DEFINED);
  });
});

// ---------------------------------------------------------------------------------------
// End to end: the stages MeshRelease synthesizes for a canary plan.
// ---------------------------------------------------------------------------------------

describe('MeshRelease stages of ReleasePlan.canary', () => {
  const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50] });
  const synthesized = new Map(plan.stageNames.map((name) => {
    const chart = Testing.chart();
    new MeshRelease(chart, 'helloworld', {
      app: 'helloworld',
      port: 3000,
      versions: [{ version: 'v1', image: 'a:1' }, { version: 'v2', image: 'a:2' }],
      stage: plan.stage(name),
    });
    return [name, Testing.synth(chart)] as const;
  }));
  const synth = (name: string) => synthesized.get(name)!;

  test('synthesizes every stage of the plan', () => {
    expect([...synthesized.keys()]).toEqual(['stable', 'make-routable', 'deploy', 'shift-10', 'shift-50', 'shift-100', 'unroute', 'drop-routable', 'retire']);
  });

  test.each(plan.stageNames.map((name, i) => [name, plan.stageNames[i - 1] ?? 'nothing']))('%s (after %s) is safe, alone and as a transition', (name, previous) => {
    // GIVEN the synthesized stage and the one before it
    const current = synth(name);

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
    if (previous !== 'nothing') {
      expect(SafetyCheck.check(current, synth(previous))).toEqual([]);
    }
  });

  test('skipping deploy: shift-10 right after make-routable gives v2 traffic before its pods are ready', () => {
    // GIVEN make-routable (v2 not deployed) applied, then shift-10
    const violations = SafetyCheck.check(synth('shift-10'), synth('make-routable'));

    // THEN
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]',
      ["sends traffic to subset 'v2' of helloworld.default.svc.cluster.local", 'Deployment/helloworld-v2 did not exist in the previous stage'],
      ['deploy the version in a stage of its own'])]);
  });

  test('skipping unroute: drop-routable right after shift-100 removes v1 while it is still listed at weight 0', () => {
    const violations = SafetyCheck.check(synth('drop-routable'), synth('shift-100'));

    expect(violations).toEqual([violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld',
      ["subset 'v1' is removed while the previous stage's route still sends to it"],
      ["remove 'v1' from the route in one stage, then remove it in the next"])]);
  });

  test('skipping drop-routable: retire right after unroute is safe, since nothing routes to v1 any more', () => {
    // GIVEN unroute applied (v1 out of every route), then retire (subset v1 and helloworld-v1 go together)
    // WHEN / THEN no request can reach v1: nothing to report
    expect(SafetyCheck.check(synth('retire'), synth('unroute'))).toEqual([]);
  });

  test('skipping make-routable and deploy: shift-10 right after stable routes to a subset and pods that did not exist', () => {
    const violations = SafetyCheck.check(synth('shift-10'), synth('stable'));

    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_BEFORE_ROUTE, 'VirtualService/helloworld http[0]',
        ["routes to subset 'v2' of helloworld.default.svc.cluster.local", 'which the previous stage did not define'],
        ["add subset 'v2' to the DestinationRule in a stage of its own"]),
      violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]', ["subset 'v2'", 'Deployment/helloworld-v2 did not exist in the previous stage'], ['deploy the version']),
    ]);
  });

  test('skipping make-routable: deploy right after stable is still safe, since nothing routes to v2 yet', () => {
    // GIVEN stable, then deploy (subset v2 and helloworld-v2 appear together, v2 not in the route)
    // WHEN / THEN no rule is broken
    expect(SafetyCheck.check(synth('deploy'), synth('stable'))).toEqual([]);
  });

  test('going backwards: make-routable right after deploy (removing the unrouted v2) is no error', () => {
    // GIVEN deploy applied (helloworld-v2 runs, nothing routes to it), then make-routable again
    const violations = SafetyCheck.check(synth('make-routable'), synth('deploy'));

    // THEN no request can be lost; subset v2, left without pods, is a warning
    expect(SafetyCheck.errors(violations)).toEqual([]);
    expect(violations).toEqual([warning(SafetyRule.STALE_SUBSET, 'DestinationRule/helloworld', ["subset 'v2' of helloworld.default.svc.cluster.local selects no pods"], ["remove subset 'v2'"])]);
  });

  test('going backwards one step at a time (shift-100 -> shift-50 -> shift-10 -> deploy) is safe', () => {
    for (const [current, previous] of [['shift-50', 'shift-100'], ['shift-10', 'shift-50'], ['deploy', 'shift-10']]) {
      expect(SafetyCheck.check(synth(current), synth(previous))).toEqual([]);
    }
  });

  test('going backwards: stable right after shift-10 is caught', () => {
    // GIVEN shift-10 applied, then stable (subset v2 and helloworld-v2 removed while v2 had 10%)
    const violations = SafetyCheck.check(synth('stable'), synth('shift-10'));

    // THEN both removals are reported
    expect(rulesOf(violations)).toEqual([SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET]);
    expect(violations.map((v) => v.object)).toEqual(['DestinationRule/helloworld', 'Deployment/helloworld-v2']);
  });
});

// ---------------------------------------------------------------------------------------
// assertSafe and format.
// ---------------------------------------------------------------------------------------

describe('violations do not depend on the order of the manifests', () => {
  // A subset whose labels select several versions' Deployments: the messages list them by name, whatever the order
  // (found by the shuffle property of test/property.test.ts: "Deployment/web-v2, Deployment/web-v1" in one order).
  const webDeployment = (version: string, replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${version}`, namespace: 'shop' },
    spec: { replicas, selector: { matchLabels: { app: 'web', version } }, template: { metadata: { labels: { app: 'web', version } }, spec: { containers: [{ name: 'web', image: `web:${version}` }] } } },
  });
  const webService = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } };
  const routing = (subsets: any[], version: string) => [
    { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets } },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web', subset: version }, weight: 100 }] }] },
    },
  ];
  // Subset v1 selects every pod of web: in the current stage, web-v1's and web-v2's.
  const previous = [webService, webDeployment('v1', 3), ...routing([{ name: 'v1', labels: { app: 'web' } }], 'v1')];
  const current = [webService, webDeployment('v1', 1), webDeployment('v2', 1),
    ...routing([{ name: 'v1', labels: { app: 'web' } }, { name: 'v2', labels: { version: 'v2' } }], 'v2')];

  test('rollback-capacity names the Deployments behind a subset in the same order either way', () => {
    const forward = SafetyCheck.check(current, previous);
    const backward = SafetyCheck.check([...current].reverse(), [...previous].reverse());
    expect(forward.filter((v) => v.rule === SafetyRule.ROLLBACK_CAPACITY).map((v) => v.object)).toEqual(['Deployment/web-v1, Deployment/web-v2']);
    const text = (vs: SafetyViolation[]) => vs.map((v) => JSON.stringify(v)).sort();
    expect(text(backward)).toEqual(text(forward));
  });

  /** The violations of `current` after `before`, as sorted JSON, in the given order and reversed: both must be equal. */
  const bothOrders = (objects: any[], before?: any[]) => [
    SafetyCheck.check(objects, before), SafetyCheck.check([...objects].reverse(), before && [...before].reverse()),
  ].map((vs) => vs.map((v) => JSON.stringify(v)).sort());
  const webVirtualService = (name: string, namespace: string) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace },
    spec: { hosts: ['web.shop.svc.cluster.local'], http: [{ route: [{ destination: { host: 'web.shop.svc.cluster.local', subset: 'v1' } }] }] },
  });
  const subsetV1 = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }] } };
  /** A VirtualService sending 50% to subset v1 and 50% to subset v2 of web. */
  const split = { ...webVirtualService('web', 'shop'), spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web', subset: 'v1' }, weight: 50 }, { destination: { host: 'web', subset: 'v2' }, weight: 50 }] }] } };

  test('one-virtual-service-per-host names the first VirtualService by namespace and name, in either order', () => {
    const [forward, backward] = bothOrders([webService, webDeployment('v1', 2), subsetV1, webVirtualService('web', 'shop'), webVirtualService('web-canary', 'shop')]);
    expect(backward).toEqual(forward);
    expect(forward.filter((v) => v.includes('one-virtual-service-per-host')).map((v) => JSON.parse(v).object)).toEqual(['VirtualService/web-canary']);
  });

  test('one-virtual-service-per-host compares namespaces too: VirtualServices of one name in two namespaces on one host', () => {
    const [forward, backward] = bothOrders([webService, webDeployment('v1', 2), subsetV1, webVirtualService('web', 'shop'), webVirtualService('web', 'edge')]);
    expect(backward).toEqual(forward);
    const found = forward.map((v) => JSON.parse(v)).filter((v) => v.rule === SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST);
    expect(found.map((v) => v.message)).toEqual([expect.stringContaining('like VirtualService/web (namespace edge)')]);
  });

  test('a subset two DestinationRules define differently: the first by name counts, in either order', () => {
    // web-extra's v2 selects pods of no Deployment; web's (first by name, as istiod breaks ties) selects web-v2's.
    const rules = [
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } },
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web-extra', namespace: 'shop' }, spec: { host: 'web', subsets: [{ name: 'v2', labels: { version: 'v3' } }] } },
    ];
    const objects = [webService, webDeployment('v1', 2), webDeployment('v2', 2), ...rules, split];
    const [forward, backward] = bothOrders(objects, objects);
    expect(backward).toEqual(forward);
    expect(forward.filter((v) => v.includes('"error"'))).toEqual([]);
  });

  test('two autoscalers on one Deployment: the floor is its replicas (the HPA controller scales with neither), in either order', () => {
    const hpa = (name: string, minReplicas: number) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, namespace: 'shop' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-v2' }, minReplicas, maxReplicas: 10 },
    });
    const rules = { ...subsetV1, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } };
    const objects = [webService, webDeployment('v1', 10), webDeployment('v2', 1), rules, split, hpa('a', 1), hpa('b', 5)];
    const [forward, backward] = bothOrders(objects, objects);
    expect(backward).toEqual(forward);
    const capacity = forward.map((v) => JSON.parse(v)).filter((v) => v.rule === SafetyRule.CAPACITY);
    expect(capacity.map((v) => v.message)).toEqual([expect.stringContaining('on 1 guaranteed pod(s)')]);
  });
});

describe('SafetyCheck.assertSafe and format', () => {
  const TWO: SafetyViolation[] = [
    { rule: SafetyRule.WEIGHTS, severity: Severity.ERROR, object: 'VirtualService/helloworld http[0]', message: 'weights add up to 110, not 100', fix: 'make them add up to 100' },
    { rule: SafetyRule.CATCH_ALL_ROUTE, severity: Severity.ERROR, object: 'VirtualService/helloworld http[1]', message: 'the last route has a match', fix: 'add a catch-all' },
  ];

  test('format writes one line per violation', () => {
    expect(SafetyCheck.format(TWO)).toBe([
      '[weights] VirtualService/helloworld http[0]: weights add up to 110, not 100. Fix: make them add up to 100',
      '[catch-all-route] VirtualService/helloworld http[1]: the last route has a match. Fix: add a catch-all',
    ].join('\n'));
    expect(SafetyCheck.format([])).toBe('');
  });

  test('assertSafe throws with the context and every violation line', () => {
    // GIVEN a stage breaking two rules (weights 90/20, subset v3 undefined at weight 0)
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 20], ['v3', 0]]));
    const violations = SafetyCheck.check(current);
    expect(rulesOf(violations)).toEqual([SafetyRule.WEIGHTS, SafetyRule.SUBSET_DEFINED]);

    // WHEN asserting it is safe
    let error: Error | undefined;
    try {
      SafetyCheck.assertSafe(current, undefined, 'helloworld stage shift-10');
    } catch (e) {
      error = e as Error;
    }

    // THEN the message starts with the context and the count, then lists every violation
    expect(error).toBeDefined();
    expect(error!.message).toBe(`helloworld stage shift-10 is unsafe to apply (2 violations):\n${SafetyCheck.format(violations)}`);
    for (const v of violations) {
      expect(error!.message).toContain(`[${v.rule}] ${v.object}: ${v.message}. Fix: ${v.fix}`);
    }
  });

  test('assertSafe checks the transition and defaults the context to "stage"', () => {
    // GIVEN the violating transition of SUBSET_BEFORE_ROUTE
    const { previous, current } = violating(SafetyRule.SUBSET_BEFORE_ROUTE);

    // WHEN / THEN one violation, singular, with the default context
    expect(() => SafetyCheck.assertSafe(current, previous)).toThrow(
      'stage is unsafe to apply (1 violation):\n[subset-before-route] VirtualService/helloworld http[0]: routes to subset \'v2\'');
    // AND the same stage alone is safe
    expect(() => SafetyCheck.assertSafe(current)).not.toThrow();
  });

  test('assertSafe does not throw for a safe transition', () => {
    expect(() => SafetyCheck.assertSafe(fixture('canary-shift-10.yaml'), fixture('canary-deploy.yaml'), 'reviews')).not.toThrow();
  });
});

describe('inputs the check ignores', () => {
  test('other kinds, non-Istio APIs, and non-objects are skipped', () => {
    // GIVEN a ConfigMap, a VirtualService of another API group, and junk entries
    const manifests = [
      null, 'text', 42,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
      { apiVersion: 'example.com/v1', kind: 'VirtualService', metadata: { name: 'x' }, spec: { http: [{ match: [{}], route: [{ destination: { host: 'x', subset: 'nope' }, weight: 7 }] }] } },
    ];

    // WHEN / THEN nothing to report
    expect(SafetyCheck.check(manifests)).toEqual([]);
  });

  test('networking.istio.io/v1beta1 and v1alpha3 objects are checked like v1', () => {
    // GIVEN the WEIGHTS violation with older Istio API versions
    const current = violating(SafetyRule.WEIGHTS).current.map((m) =>
      (m.kind === 'VirtualService' ? { ...m, apiVersion: 'networking.istio.io/v1alpha3' } : m.kind === 'DestinationRule' ? { ...m, apiVersion: 'networking.istio.io/v1beta1' } : m));

    // WHEN / THEN
    expect(rulesOf(SafetyCheck.check(current))).toEqual([SafetyRule.WEIGHTS]);
  });
});
