/**
 * Plain manifests of a `helloworld` release in namespace `default` (short hosts), one violating case per
 * `SafetyRule`, and matchers for violations: what the SafetyCheck tests share (test/safety/safety-check.test.ts,
 * test/safety/rules/, test/routing/istio/rules/).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { SafetyCheckOptions } from '../../src/safety/safety-check';
import { SafetyRule, SafetyViolation, Severity } from '../../src/safety/safety-rule';

// ---------------------------------------------------------------------------------------
// Helpers: plain manifests of a `helloworld` release in namespace `default` (short hosts),
// and matchers for violations.
// ---------------------------------------------------------------------------------------

export const APP = 'helloworld';
export const HOST = 'helloworld.default.svc.cluster.local';
/** The app's Service in a cluster whose DNS domain is `corp.internal`. */
export const OTHER_DOMAIN_HOST = 'helloworld.default.svc.corp.internal';
export type Labels = { [key: string]: string };

export function service(selector: Labels = { app: APP }, ports: any[] = [{ name: 'http', port: 3000 }]): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: APP, namespace: 'default' }, spec: { selector, ports } };
}

export interface PodOptions {
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

export function deployment(version: string, options: PodOptions = {}): any {
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
export function autoscaler(version: string, minReplicas: number | undefined, maxReplicas = 20): any {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: `${APP}-${version}`, namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `${APP}-${version}` }, minReplicas, maxReplicas },
  };
}

export type SubsetSpec = string | { name: string; labels: Labels; trafficPolicy?: any };

export function destinationRule(subsets: SubsetSpec[], host: string = APP, extra: { namespace?: string; spec?: any } = {}): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: APP, namespace: extra.namespace ?? 'default' },
    spec: { host, subsets: subsets.map((s) => (typeof s === 'string' ? { name: s, labels: { version: s } } : s)), ...extra.spec },
  };
}

export function virtualService(...http: any[]): any {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: APP, namespace: 'default' }, spec: { hosts: [APP], http } };
}

/** A VirtualService with the given name and spec (hosts default to the app). */
export function virtualServiceOf(name: string, spec: any): any {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: 'default' }, spec: { hosts: [APP], ...spec } };
}

/** A STRICT (or other mode) PeerAuthentication in `default` selecting the app's pods. */
export function peerAuthentication(mode = 'STRICT', matchLabels: Labels = { app: APP }): any {
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: APP, namespace: 'default' }, spec: { selector: { matchLabels }, mtls: { mode } } };
}

/** A catch-all route; `[subset, weight]` pairs, weight left out when undefined. */
export function weighted(pairs: Array<[string, number | undefined]>, extra: any = {}): any {
  return {
    route: pairs.map(([subset, weight]) => ({ destination: { host: APP, subset }, ...(weight === undefined ? {} : { weight }) })),
    ...extra,
  };
}

/** A route for requests with `x-version: <subset>`, to that subset. */
export function headerRoute(subset: string): any {
  return { match: [{ headers: { 'x-version': { exact: subset } } }], route: [{ destination: { host: APP, subset } }] };
}

/** A whole stage: Service, Deployments, DestinationRule, VirtualService. */
export function stage(deployed: string[], subsets: SubsetSpec[], ...http: any[]): any[] {
  return [service(), ...deployed.map((v) => deployment(v)), destinationRule(subsets), virtualService(...http)];
}

/** `manifests` with the object of `kind` (and `name`, if given) changed by `change`. */
export function patched(manifests: any[], kind: string, change: (m: any) => void, name?: string): any[] {
  return manifests.map((m) => {
    if (m.kind !== kind || (name !== undefined && m.metadata.name !== name)) {
      return m;
    }
    const copy = JSON.parse(JSON.stringify(m));
    change(copy);
    return copy;
  });
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A string containing every part, in order. */
export function including(...parts: string[]): any {
  return expect.stringMatching(new RegExp(parts.map(escapeRegExp).join('[\\s\\S]*')));
}

/** A violation of `rule` on `object` whose message and fix contain the parts, in order (severity error unless given). */
export function violation(rule: SafetyRule, object: string, message: string[], fix: string[], severity: Severity = Severity.ERROR): any {
  return { rule, severity, object, message: including(...message), fix: including(...fix) };
}

/** The same, severity warning. */
export function warning(rule: SafetyRule, object: string, message: string[], fix: string[]): any {
  return violation(rule, object, message, fix, Severity.WARNING);
}

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'safety');

/** Every document of a fixture, as plain objects. */
export function fixture(name: string): any[] {
  return YAML.parseAllDocuments(fs.readFileSync(path.join(FIXTURES, name), 'utf8')).map((d) => d.toJS());
}

export const rulesOf = (violations: SafetyViolation[]) => violations.map((v) => v.rule);

// ---------------------------------------------------------------------------------------
// One violating case per rule, each reporting that rule only. Typed as a Record over the
// enum, so a new SafetyRule does not compile until it has a case here.
// ---------------------------------------------------------------------------------------

export interface Case {
  readonly previous?: any[];
  readonly current: any[];
  readonly options?: SafetyCheckOptions;
}

/** The per-version Service of `helloworld-<version>` (Gateway API: one routable Service per version). */
export function versionService(version: string, namespace = 'default'): any {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: `${APP}-${version}`, namespace }, spec: { selector: { app: APP, version }, ports: [{ name: 'http', port: 3000 }] } };
}

/** A GAMMA HTTPRoute on the Service `helloworld`, sending to per-version Services: `[version, weight, namespace?]`. */
export function httpRoute(backends: Array<[string, number, string?]>): any {
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
export function serviceStage(deployed: string[], services: string[], backends: Array<[string, number, string?]>): any[] {
  return [service(), ...deployed.map((v) => deployment(v)), ...services.map((v) => versionService(v)), httpRoute(backends)];
}

export const VIOLATING: Record<SafetyRule, Case> = {
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
  // v1 runs in namespace canary: the route of namespace default, exposed through a Gateway too, sends there without a
  // ReferenceGrant (Istio enforces grants for routes on Gateways only).
  [SafetyRule.REFERENCE_GRANT]: {
    current: [service(), deployment('v1', { namespace: 'canary' }), versionService('v1', 'canary'), patched([httpRoute([['v1', 100, 'canary']])], 'HTTPRoute', (m) => {
      m.spec.parentRefs.push({ name: 'public', namespace: 'infra' });
    })[0]],
  },
  // the backendRef names the container's port (the Service's targetPort), not the Service's port 3000.
  [SafetyRule.SERVICE_PORT]: {
    current: patched(serviceStage(['v1'], ['v1'], [['v1', 100]]), 'HTTPRoute', (m) => {
      m.spec.rules[0].backendRefs[0].port = 8080;
    }),
  },
  // `group: core` for a Service (the core group is written ""): Istio refuses the backendRef, its share fails.
  [SafetyRule.BACKEND_KIND]: {
    current: patched(serviceStage(['v1'], ['v1'], [['v1', 100]]), 'HTTPRoute', (m) => {
      m.spec.rules[0].backendRefs[0].group = 'core';
    }),
  },
  // a header rule that sends its requests nowhere.
  [SafetyRule.RULE_HAS_BACKENDS]: {
    current: patched(serviceStage(['v1'], ['v1'], [['v1', 100]]), 'HTTPRoute', (m) => {
      m.spec.rules.unshift({ matches: [{ headers: [{ name: 'x-version', value: 'v2' }] }] });
    }),
  },
  // the Service parent without group "": the route attaches to nothing.
  [SafetyRule.PARENT_REF]: {
    current: patched(serviceStage(['v1'], ['v1'], [['v1', 100]]), 'HTTPRoute', (m) => {
      delete m.spec.parentRefs[0].group;
    }),
  },
  // a second HTTPRoute with a weighted catch-all on the Service.
  [SafetyRule.ONE_CATCH_ALL_PER_PARENT]: {
    current: [...serviceStage(['v1'], ['v1'], [['v1', 100]]), { ...httpRoute([['v1', 100]]), metadata: { name: `${APP}-extra`, namespace: 'default' } }],
  },
  // a VirtualService and an HTTPRoute for the Service helloworld.
  [SafetyRule.ONE_ROUTER_PER_SERVICE]: {
    current: [...stage(['v1'], ['v1'], weighted([['v1', 100]])), versionService('v1'), httpRoute([['v1', 100]])],
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
  // v1 at 100% on replicas: 10, then on an autoscaler (minReplicas 10) and no replicas: the apply resets it to 1 pod.
  [SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED]: {
    previous: [service(), deployment('v1', { replicas: 10 }), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))],
    current: [service(), deployment('v1'), autoscaler('v1', 10), destinationRule(['v1']), virtualService(weighted([['v1', 100]]))],
  },
  [SafetyRule.SUBSET_UNIQUE]: { current: stage(['v1'], ['v1', 'v1'], weighted([['v1', 100]])) },
  // hosts in cluster domain corp.internal, read with the default cluster.local: v2 has no Deployment but gets 10%.
  [SafetyRule.CLUSTER_DOMAIN]: {
    current: [service(), deployment('v1'), destinationRule(['v1', 'v2'], OTHER_DOMAIN_HOST), virtualServiceOf(APP, {
      hosts: [OTHER_DOMAIN_HOST],
      http: [{ route: [['v1', 90], ['v2', 10]].map(([subset, weight]) => ({ destination: { host: OTHER_DOMAIN_HOST, subset }, weight })) }],
    })],
  },
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
export function violating(rule: SafetyRule): Case {
  return VIOLATING[rule];
}

export const WARNINGS = new Set([SafetyRule.STALE_SUBSET, SafetyRule.STALE_SERVICE, SafetyRule.ROLLBACK_CAPACITY, SafetyRule.GATEWAYS_WITHOUT_MESH]);
