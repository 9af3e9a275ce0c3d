import { Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { cachedFindings } from '../../src/validation/_findings-cache';
import { emptyFindings, ObjectFindings } from '../../src/validation/_types';
import { ManifestSchemas } from '../../src/validation/schema-validation';

const labels = { 'app': 'helloworld', 'version': 'v1', 'app.kubernetes.io/part-of': 'shop', 'example.com/any key-ok': 'yes' };

function deployment(): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'helloworld-v1', namespace: 'default', labels, annotations: { 'sidecar.istio.io/inject': 'true' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'helloworld', version: 'v1' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [{
            name: 'helloworld',
            image: 'learnistio/helloworld:1.0.0',
            ports: [{ name: 'http', containerPort: 3000, protocol: 'TCP' }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
            env: [{ name: 'VERSION', value: 'v1' }],
          }],
        },
      },
    },
  };
}

const hpa = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'helloworld-v1' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'helloworld-v1' },
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
  },
};

const pdb = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'helloworld-v1' },
  spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'helloworld', version: 'v1' } } },
};

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'helloworld' },
  spec: { selector: { app: 'helloworld' }, ports: [{ name: 'http', port: 80, targetPort: 3000 }] },
};

function destinationRule(): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'helloworld', labels },
    spec: {
      host: 'helloworld.default.svc.cluster.local',
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
      subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
    },
  };
}

function virtualService(): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'helloworld' },
    spec: {
      hosts: ['helloworld'],
      http: [{
        match: [{ headers: { 'x-canary': { exact: 'true' } } }],
        route: [{ destination: { host: 'helloworld', subset: 'v2' } }],
      }, {
        route: [
          { destination: { host: 'helloworld', subset: 'v1' }, weight: 90 },
          { destination: { host: 'helloworld', subset: 'v2' }, weight: 10 },
        ],
        retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx,connect-failure' },
        timeout: '10s',
        mirror: { host: 'helloworld', subset: 'v2' },
        mirrorPercentage: { value: 5.5 },
      }],
    },
  };
}

const messages = (manifests: any[]) => ManifestSchemas.validate(manifests).map(v => `${v.object} ${v.path}: ${v.message}`);

describe('valid manifests', () => {
  test('Deployment, HPA, PDB, Service, DestinationRule and VirtualService pass', () => {
    expect(ManifestSchemas.validate([deployment(), hpa, pdb, service, destinationRule(), virtualService()])).toEqual([]);
  });

  test('ConfigMap, Secret, ServiceAccount and Namespace pass', () => {
    expect(messages([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'any.key': 'x', 'other_key': 'y' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, type: 'Opaque', data: { token: 'aGVsbG8=' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'helloworld' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } },
    ])).toEqual([]);
  });

  test('Gateway, PeerAuthentication and AuthorizationPolicy pass', () => {
    expect(messages([
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'public' },
        spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
      },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } },
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'allow-frontend' },
        spec: {
          selector: { matchLabels: { app: 'helloworld' } },
          action: 'ALLOW',
          rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/frontend'] } }], to: [{ operation: { methods: ['GET'] } }] }],
        },
      },
    ])).toEqual([]);
  });

  test('what cdk8s-plus synthesizes passes', () => {
    const chart = Testing.chart();
    const app = new kplus.Deployment(chart, 'web', { containers: [{ image: 'nginx', portNumber: 80 }] });
    app.exposeViaService();
    const manifests = Testing.synth(chart);
    expect(ManifestSchemas.validate(manifests)).toEqual([]);

    // ...and an unknown field injected deep into that output is still found.
    manifests.find(m => m.kind === 'Deployment').spec.template.spec.containers[0].securityContext.runAsNonRot = true;
    expect(messages(manifests)).toEqual([
      expect.stringMatching(/^Deployment\/\S+ \/spec\/template\/spec\/containers\/0\/securityContext\/runAsNonRot: unknown field "runAsNonRot"$/),
    ]);
  });

  test('label maps accept arbitrary keys on every kind', () => {
    const d = deployment();
    d.spec.template.metadata.labels = { 'whatever.example.com/x': 'y', 'porst': 'not a field here' };
    const dr = destinationRule();
    dr.spec.subsets[0].labels = { 'topology.kubernetes.io/zone': 'a', 'porst': 'b' };
    expect(ManifestSchemas.validate([d, dr])).toEqual([]);
  });
});

describe('unknown fields', () => {
  test.each([
    ['metadata', deployment, (m: any) => { m.metadata.lables = { a: 'b' }; }, 'Deployment/helloworld-v1', '/metadata/lables'],
    ['container', deployment, (m: any) => { m.spec.template.spec.containers[0].porst = []; }, 'Deployment/helloworld-v1', '/spec/template/spec/containers/0/porst'],
    ['nested probe', deployment, (m: any) => { m.spec.template.spec.containers[0].readinessProbe.httpGet.pth = '/'; },
      'Deployment/helloworld-v1', '/spec/template/spec/containers/0/readinessProbe/httpGet/pth'],
    ['VirtualService metadata', virtualService, (m: any) => { m.metadata.lables = {}; }, 'VirtualService/helloworld', '/metadata/lables'],
    ['VirtualService http route', virtualService, (m: any) => { m.spec.http[1].route[0].wieght = 90; }, 'VirtualService/helloworld', '/spec/http/1/route/0/wieght'],
    ['VirtualService retries', virtualService, (m: any) => { m.spec.http[1].retries.retryOnn = '5xx'; }, 'VirtualService/helloworld', '/spec/http/1/retries/retryOnn'],
    ['DestinationRule subset', destinationRule, (m: any) => { m.spec.subsets[1].lables = { version: 'v2' }; }, 'DestinationRule/helloworld', '/spec/subsets/1/lables'],
  ])('in %s', (_where, make, mutate, object, path) => {
    const manifest = make();
    mutate(manifest);
    const field = path.split('/').pop();
    expect(ManifestSchemas.validate([manifest])).toEqual([{ object, path, message: `unknown field "${field}"` }]);
  });

  test('are reported after schema errors of the same object', () => {
    const d = deployment();
    d.spec.replicas = 'two';
    d.spec.template.spec.containers[0].porst = [];
    expect(messages([d])).toEqual([
      'Deployment/helloworld-v1 /spec/replicas: must be integer',
      'Deployment/helloworld-v1 /spec/template/spec/containers/0/porst: unknown field "porst"',
    ]);
  });

  test('the content of an unknown field or of a wrongly typed value is not reported again', () => {
    const d = deployment();
    d.spec.templat = { spec: { nonsense: 1 } };
    d.spec.template.spec.containers[0].resources.requests = [{ cpu: 1, bogus: 2 }];
    expect(messages([d])).toEqual([
      'Deployment/helloworld-v1 /spec/template/spec/containers/0/resources/requests: must be object',
      'Deployment/helloworld-v1 /spec/templat: unknown field "templat"',
    ]);
  });
});

describe('wrong values', () => {
  test('wrong types and enums in Kubernetes kinds', () => {
    const d = deployment();
    d.spec.template.spec.containers[0].ports[0].containerPort = '3000';
    d.spec.template.spec.containers[0].ports[0].protocol = 'HTTP';
    expect(messages([d, { ...service, spec: { ...service.spec, ports: [{ port: 80, targetPort: true }] } }])).toEqual([
      'Deployment/helloworld-v1 /spec/template/spec/containers/0/ports/0/containerPort: must be integer',
      'Deployment/helloworld-v1 /spec/template/spec/containers/0/ports/0/protocol: must be one of: SCTP, TCP, UDP',
      'Service/helloworld /spec/ports/0/targetPort: must be string or integer',
    ]);
  });

  test('wrong types and enums in Istio kinds', () => {
    const vs = virtualService();
    vs.spec.http[1].route[0].weight = '90';
    vs.spec.http[1].retries.attempts = 1.5;
    vs.spec.http[1].mirrorPercentage.value = 'all';
    const dr = destinationRule();
    dr.spec.trafficPolicy.tls.mode = 'MUTUAL_ISTIO';
    const dr2 = destinationRule();
    dr2.spec.subsets[0].trafficPolicy = { connectionPool: { http: { http2MaxRequests: 2 ** 31 } } };
    expect(messages([vs, dr, dr2])).toEqual([
      'VirtualService/helloworld /spec/http/1/mirrorPercentage/value: must be number',
      'VirtualService/helloworld /spec/http/1/retries/attempts: must be integer',
      'VirtualService/helloworld /spec/http/1/route/0/weight: must be integer',
      'DestinationRule/helloworld /spec/trafficPolicy/tls/mode: must be one of: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL',
      'DestinationRule/helloworld /spec/subsets/0/trafficPolicy/connectionPool/http/http2MaxRequests: must be a 32-bit integer',
    ]);
  });

  test('mutually exclusive Istio fields', () => {
    const vs = virtualService();
    vs.spec.http[0].match = [{ uri: { exact: '/a', prefix: '/b' } }];
    expect(messages([vs])).toEqual(['VirtualService/helloworld /spec/http/0/match/0/uri: must set at most one of: exact, prefix, regex']);
  });

  test('metadata names and required fields', () => {
    const dr = destinationRule();
    dr.metadata.name = 'Hello_World';
    const vs = virtualService();
    delete vs.metadata.name;
    vs.metadata.generateName = 'helloworld-';
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { labels: { a: 'b' } } };
    const pa = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', spec: {} };
    expect(messages([dr, vs, sa, { ...hpa, metadata: { name: 'x', namespace: 'a.b' } }, pa])).toEqual([
      "DestinationRule/Hello_World /metadata/name: must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)",
      'ServiceAccount/#2 /metadata: missing required field "name"',
      "HorizontalPodAutoscaler/x /metadata/namespace: must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)",
      'PeerAuthentication/#4 : missing required field "metadata"',
    ]);
  });
});

describe('patterns are matched as the API server matches them (RE2)', () => {
  // The experimental HTTPRoute header value pattern `^[!-~]+([\t ]?[!-~]+)*$` backtracks exponentially in a
  // JavaScript RegExp on a long value ending in a character it refuses; Go's regexp (RE2) is linear.
  const route = (value: string) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      parentRefs: [{ group: '', kind: 'Service', name: 'web' }],
      rules: [{ matches: [{ headers: [{ name: 'x-user', value }] }], backendRefs: [{ name: 'web', port: 80 }], retry: { attempts: 1 } }],
    },
  });

  test('a long header value with a bad last character is refused at once', () => {
    const violations = ManifestSchemas.validate([route(`${'a'.repeat(4000)}é`)]);
    expect(violations.map((v) => v.path)).toEqual(['/spec/rules/0/matches/0/headers/0/value']);
    expect(violations[0].message).toMatch(/must match pattern/);
  });

  test('and a valid one passes', () => {
    expect(ManifestSchemas.validate([route('a b\tc')])).toEqual([]);
  });
});

describe('unknown kinds and assertValid', () => {
  test('a kind the validator does not know is a violation', () => {
    expect(ManifestSchemas.validate([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, { kind: 'Service' }])).toEqual([
      { object: 'Widget/w', path: '', message: 'kind "Widget" of apiVersion "example.com/v1" is not known to the schema validator' },
      { object: 'Service/#1', path: '', message: 'must be an object with string "apiVersion" and "kind"' },
    ]);
  });

  test('assertValid passes valid manifests and throws one error listing every violation', () => {
    expect(() => ManifestSchemas.assertValid([deployment(), virtualService()])).not.toThrow();
    const d = deployment();
    d.spec.template.spec.containers[0].porst = [];
    const dr = destinationRule();
    dr.spec.subsets[0].lables = {};
    let error: Error | undefined;
    try {
      ManifestSchemas.assertValid([d, dr, { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' } }]);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message.split('\n')).toEqual([
      '3 schema violation(s):',
      'Deployment/helloworld-v1 /spec/template/spec/containers/0/porst: unknown field "porst"',
      'DestinationRule/helloworld /spec/subsets/0/lables: unknown field "lables"',
      'Widget/w : kind "Widget" of apiVersion "v1" is not known to the schema validator',
    ]);
  });
});

test('without kubernetes-models installed, the error says how to install it', () => {
  jest.isolateModules(() => {
    jest.doMock('kubernetes-models/v1/Service', () => {
      throw Object.assign(new Error("Cannot find module 'kubernetes-models/v1/Service'"), { code: 'MODULE_NOT_FOUND' });
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const isolated: typeof import('../../src/validation/schema-validation') = require('../../src/validation/schema-validation');
    expect(() => isolated.ManifestSchemas.validate([service])).toThrow(/npm install --save-dev kubernetes-models@\^4\.5/);
    // Istio kinds do not need it.
    expect(isolated.ManifestSchemas.validate([destinationRule()])).toEqual([]);
  });
  // The mock outlives isolateModules: later requires (tests after this one, in this suite) get the real module.
  jest.dontMock('kubernetes-models/v1/Service');
});

/** A validator that counts its calls and reports the object's `bad` field as a violation. */
function counting(): { calls: () => number; validate: (object: any) => ObjectFindings } {
  let calls = 0;
  return {
    calls: () => calls,
    validate: (object: any) => {
      calls++;
      const out = emptyFindings();
      if (object?.bad !== undefined) out.violations.push({ path: '/bad', message: `bad is ${String(object.bad)}` });
      return out;
    },
  };
}

describe('the findings cache of schema validation', () => {
  test('an object with the same exact JSON text is validated once', () => {
    const { calls, validate } = counting();
    const first = cachedFindings({ kind: 'A', spec: { n: 1, list: [1, 'x', null, true] }, bad: 'yes' }, validate);
    const second = cachedFindings({ kind: 'A', spec: { n: 1, list: [1, 'x', null, true] }, bad: 'yes' }, validate);
    expect(calls()).toBe(1);
    expect(second).toBe(first);
    expect(second.violations).toEqual([{ path: '/bad', message: 'bad is yes' }]);
    cachedFindings({ kind: 'A', spec: { n: 2, list: [1, 'x', null, true] }, bad: 'yes' }, validate);
    expect(calls()).toBe(2);
  });

  test.each([
    ['an undefined property', () => ({ kind: 'B', bad: undefined, other: 1 })],
    ['an undefined array element', () => ({ kind: 'B', list: [undefined] })],
    ['NaN', () => ({ kind: 'B', n: NaN })],
    ['Infinity', () => ({ kind: 'B', n: Infinity })],
    ['-0', () => ({ kind: 'B', n: -0 })],
    ['a Date', () => ({ kind: 'B', at: new Date(0) })],
    ['a class instance', () => ({ kind: 'B', value: new (class Quantity { toJSON() { return '1'; } })() })],
    ['a function', () => ({ kind: 'B', f: () => 1 })],
    ['toJSON on a plain object', () => ({ kind: 'B', bad: 'x', toJSON: () => ({ kind: 'B' }) })],
    ['a cycle', () => { const o: any = { kind: 'B' }; o.self = o; return o; }],
  ])('an object with %s (JSON does not spell it exactly) is validated every time', (_what, make) => {
    const { calls, validate } = counting();
    cachedFindings(make(), validate);
    cachedFindings(make(), validate);
    expect(calls()).toBe(2);
  });

  test('an object with toJSON does not lend its findings to the object its JSON spells (nor borrow them)', () => {
    const { calls, validate } = counting();
    expect(cachedFindings({ kind: 'E', bad: 'x', toJSON: () => ({ kind: 'E' }) }, validate).violations).toHaveLength(1);
    expect(cachedFindings({ kind: 'E' }, validate).violations).toEqual([]);
    expect(cachedFindings({ kind: 'E', bad: 'x', toJSON: () => ({ kind: 'E' }) }, validate).violations).toHaveLength(1);
    expect(calls()).toBe(3);
  });

  test('a cached object is validated as its JSON text parsed back, not as the object given', () => {
    const seen: unknown[] = [];
    const validate = (object: unknown) => {
      seen.push(object);
      return emptyFindings();
    };
    const given = { kind: 'F', spec: { n: 1 } };
    cachedFindings(given, validate);
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe(given);
    expect(seen[0]).toEqual(given);
  });

  test('each validate function has its own findings', () => {
    const a = counting();
    const b = counting();
    cachedFindings({ kind: 'G' }, a.validate);
    cachedFindings({ kind: 'G' }, b.validate);
    cachedFindings({ kind: 'G' }, b.validate);
    expect([a.calls(), b.calls()]).toEqual([1, 1]);
  });

  test('an object without a prototype is plain JSON, and cached', () => {
    const { calls, validate } = counting();
    const make = () => Object.assign(Object.create(null), { kind: 'C', n: 1 });
    cachedFindings(make(), validate);
    cachedFindings(make(), validate);
    expect(calls()).toBe(1);
  });

  test('it is bounded: the oldest entry is validated again after 4096 newer ones', () => {
    const { calls, validate } = counting();
    cachedFindings({ kind: 'D', n: -1 }, validate);
    for (let n = 0; n < 4096; n++) cachedFindings({ kind: 'D', n }, validate);
    expect(calls()).toBe(4097);
    cachedFindings({ kind: 'D', n: 4095 }, validate);
    expect(calls()).toBe(4097);
    cachedFindings({ kind: 'D', n: -1 }, validate);
    expect(calls()).toBe(4098);
  });

  test('ManifestSchemas still names each object by its place: two unnamed copies are #0 and #1', () => {
    const unnamed = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: {}, spec: { host: 'web', bogus: 1 } };
    const objects = ManifestSchemas.validate([unnamed, structuredClone(unnamed)]).map((v) => v.object);
    expect(objects.length).toBeGreaterThan(0);
    expect(new Set(objects)).toEqual(new Set(['DestinationRule/#0', 'DestinationRule/#1']));
  });
});
