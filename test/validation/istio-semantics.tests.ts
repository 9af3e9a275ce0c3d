import * as f from './_fixtures';
import { ManifestSchemas } from '../../src/validation/schema-validation';

const messages = (manifests: any[]) => ManifestSchemas.validate(manifests).map(v => `${v.object} ${v.path}: ${v.message}`);
const vsWith = (mutate: (spec: any) => void) => {
  const vs = f.virtualService();
  mutate(vs.spec);
  return messages([vs]);
};

describe('VirtualService header-match regexes (RE2, at most 1024 characters)', () => {
  const RE2_HINT = '; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)';
  test.each([
    ['(?=x)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
    ['a{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
    ['[z-a]', 'error parsing regexp: invalid character class range: `z-a`'],
  ])('%s is refused', (regex, error) => {
    expect(vsWith(s => { s.http[0].match[0].headers['x-canary'].regex = regex; })).toEqual([
      `VirtualService/helloworld /spec/http/0/match/0/headers/x-canary/regex: ${error}${RE2_HINT}`,
    ]);
  });

  test('too long and empty regexes are refused; uri and queryParams regexes are checked too', () => {
    expect(vsWith(s => {
      s.http[0].match[0].headers['x-canary'].regex = 'a'.repeat(1025);
      s.http[0].match[0].uri = { regex: '' };
      s.http[0].match[0].queryParams = { v: { regex: '(?<=a)b' } };
    })).toEqual([
      'VirtualService/helloworld /spec/http/0/match/0/headers/x-canary/regex: regex is too large, max length allowed is 1024',
      'VirtualService/helloworld /spec/http/0/match/0/queryParams/v/regex: error parsing regexp: invalid named capture: `(?<=a)b`'
      + RE2_HINT,
      'VirtualService/helloworld /spec/http/0/match/0/uri/regex: regex string match should not be empty',
    ]);
  });

  test('valid RE2 regexes pass, including a{1000} and 1024 characters', () => {
    expect(vsWith(s => {
      s.http[0].match[0].headers['x-canary'].regex = 'a{1000}';
      s.http[0].match[0].uri = { regex: 'b'.repeat(1024) };
      s.http[0].match[0].queryParams = { v: { regex: '(?i)^v[0-9]+\\pL*$' } };
    })).toEqual([]);
  });
});

describe('VirtualService retries', () => {
  test('every Envoy retryOn condition Istio lists, and HTTP status codes, pass', () => {
    const all = '5xx,gateway-error,reset,reset-before-request,connect-failure,envoy-ratelimited,retriable-4xx,refused-stream,'
      + 'retriable-status-codes,retriable-headers,http3-post-connect-failure,cancelled,deadline-exceeded,internal,resource-exhausted,'
      + 'unavailable,503,429';
    expect(vsWith(s => { s.http[1].retries.retryOn = all; })).toEqual([]);
  });

  test('unknown conditions, unknown status codes and spaces are refused', () => {
    expect(vsWith(s => { s.http[1].retries.retryOn = '5xx, connect-failure,retriable-5xx,599'; })).toEqual([
      'VirtualService/helloworld /spec/http/1/retries/retryOn: " connect-failure" is not a valid retryOn policy',
      'VirtualService/helloworld /spec/http/1/retries/retryOn: "retriable-5xx" is not a valid retryOn policy',
      'VirtualService/helloworld /spec/http/1/retries/retryOn: "599" is not a valid retryOn policy',
    ]);
  });

  test('attempts', () => {
    expect(vsWith(s => { s.http[1].retries.attempts = -1; })).toEqual([
      'VirtualService/helloworld /spec/http/1/retries/attempts: attempts cannot be negative',
    ]);
    expect(vsWith(s => { delete s.http[1].retries.attempts; })).toEqual([
      'VirtualService/helloworld /spec/http/1/retries: http retry policy configured when attempts are set to 0 (disabled)',
    ]);
    expect(vsWith(s => { s.http[1].retries = { attempts: 0 }; })).toEqual([]);
  });
});

describe('durations', () => {
  test('ms precision (the CRD rule already reports values under 1ms, not repeated here)', () => {
    expect(vsWith(s => {
      s.http[1].timeout = '1.0005s';
      s.http[1].retries.perTryTimeout = '0s';
    })).toEqual([
      'VirtualService/helloworld /spec/http/1/retries/perTryTimeout: must be a valid duration greater than 1ms',
      'VirtualService/helloworld /spec/http/1/timeout: only durations to ms precision are supported',
    ]);
  });

  test('Go duration syntax is accepted', () => {
    expect(vsWith(s => { s.http[1].timeout = '1m30s'; s.http[1].retries.perTryTimeout = '1.5s'; })).toEqual([]);
  });
});

describe('VirtualService hosts and gateways', () => {
  test('hosts must be non-empty, well formed, and not * when bound to the mesh', () => {
    expect(vsWith(s => { s.hosts = []; })).toEqual([
      'VirtualService/helloworld /spec/hosts: virtual service must have at least one host '
      + '(a VirtualService without hosts is only valid as a delegate, which is not supported here)',
    ]);
    expect(vsWith(s => { s.hosts = ['*', 'bad_host', 'a.b.123', '10.0.0.1']; })).toEqual([
      'VirtualService/helloworld /spec/hosts/0: wildcard host * is not allowed for virtual services bound to the mesh gateway',
      'VirtualService/helloworld /spec/hosts/1: domain name "bad_host" invalid (label "bad_host" invalid)',
      'VirtualService/helloworld /spec/hosts/2: domain name "b.123" invalid (top level domain "123" cannot be all-numeric)',
    ]);
    expect(vsWith(s => { s.hosts = ['*']; s.gateways = ['mesh']; })).toEqual([
      'VirtualService/helloworld /spec/hosts/0: wildcard host * is not allowed for virtual services bound to the mesh gateway',
    ]);
    expect(vsWith(s => { s.hosts = ['*']; s.gateways = ['istio-ingress/public']; })).toEqual([]);
    expect(vsWith(s => { s.hosts = ['*.example.com', 'shop.example.com']; })).toEqual([
      'VirtualService/helloworld /spec/hosts/1: duplicate hosts in virtual service: *.example.com & shop.example.com',
    ]);
  });

  test('gateways are <namespace>/<name> with both parts, or a bare name such as mesh', () => {
    expect(vsWith(s => { s.gateways = ['mesh', 'istio-ingress/public', 'public']; })).toEqual([]);
    expect(vsWith(s => {
      s.gateways = ['/public', 'istio-ingress/', 'Bad_NS/public', 'istio-ingress/public/x'];
      s.http[0].match[0].gateways = ['mesh', 'ns/'];
    })).toEqual([
      'VirtualService/helloworld /spec/gateways/0: config namespace and gateway name cannot be empty',
      'VirtualService/helloworld /spec/gateways/0: invalid value for namespace: ""',
      'VirtualService/helloworld /spec/gateways/1: config namespace and gateway name cannot be empty',
      'VirtualService/helloworld /spec/gateways/1: invalid value for gateway name: ""',
      'VirtualService/helloworld /spec/gateways/2: invalid value for namespace: "Bad_NS"',
      'VirtualService/helloworld /spec/gateways/3: invalid value for gateway name: "public/x"',
      'VirtualService/helloworld /spec/http/0/match/0/gateways/1: config namespace and gateway name cannot be empty',
      'VirtualService/helloworld /spec/http/0/match/0/gateways/1: invalid value for gateway name: ""',
    ]);
  });

  test('the legacy <name>.<namespace> gateway form is a note, not a violation', () => {
    const vs = f.virtualService();
    vs.spec.gateways = ['public.istio-ingress'];
    expect(ManifestSchemas.report([vs])).toEqual({
      violations: [],
      uncheckedRules: [],
      notes: [{
        object: 'VirtualService/helloworld',
        path: '/spec/gateways/0',
        message: 'using legacy gatewayName format "public.istio-ingress"; prefer the <namespace>/<name> format: "istio-ingress/public"',
      }],
    });
  });
});

describe('routes, weights and destinations', () => {
  test('negative weights, all-zero weights, bad destinations and mirror percentages', () => {
    expect(vsWith(s => {
      s.http[1].route[0].weight = -10;
      s.http[1].route[1].destination = { host: '*', subset: 'V2_bad', port: { number: 70000 } };
      s.http[1].mirror = { host: 'helloworld', subset: 'v2' };
      s.http[1].mirrorPercentage = { value: 150 };
    })).toEqual([
      'VirtualService/helloworld /spec/http/1/mirrorPercentage/value: mirror_percentage must have a max value of 100 (it has 150.000000)',
      'VirtualService/helloworld /spec/http/1/route/0/weight: weight -10 < 0',
      'VirtualService/helloworld /spec/http/1/route/1/destination/host: invalid destination host *',
      'VirtualService/helloworld /spec/http/1/route/1/destination/subset: subset name is invalid: V2_bad',
      'VirtualService/helloworld /spec/http/1/route/1/destination/port/number: port number 70000 must be in the range 1..65535',
      'VirtualService/helloworld /spec/http/1/route: total destination weight = 0', // -10 + 10
    ]);
    expect(vsWith(s => { s.http[1].route[0].weight = 0; s.http[1].route[1].weight = 0; })).toEqual([
      'VirtualService/helloworld /spec/http/1/route: total destination weight = 0',
    ]);
    expect(vsWith(s => { s.http[1].route[0].weight = 1; s.http[1].route[1].weight = 3; })).toEqual([]);
  });

  test('an HTTP route needs a route or a redirect, and a VirtualService needs http, tcp or tls', () => {
    expect(vsWith(s => { delete s.http[0].route; })).toEqual(['VirtualService/helloworld /spec/http/0: HTTP route or redirect is required']);
    expect(vsWith(s => { delete s.http; })).toEqual(['VirtualService/helloworld /spec: http, tcp or tls must be provided in virtual service']);
  });
});

describe('DestinationRule subsets and host', () => {
  test('subset names must be unique DNS-1123 labels', () => {
    const dr = f.destinationRule();
    dr.spec.subsets.push({ name: 'v1', labels: { version: 'v3' } }, { name: 'v_4', labels: { version: 'v4' } }, { name: '' });
    dr.spec.host = 'helloworld..default';
    expect(messages([dr])).toEqual([
      // Istio reports the part after the first label
      'DestinationRule/helloworld /spec/host: domain name ".default" invalid (label "" invalid)',
      'DestinationRule/helloworld /spec/subsets/2/name: duplicate subset names: v1',
      'DestinationRule/helloworld /spec/subsets/3/name: subset name is invalid: v_4',
      'DestinationRule/helloworld /spec/subsets/4/name: subset name cannot be empty',
    ]);
  });
});

describe('older Istio API versions', () => {
  test.each([
    ['networking.istio.io/v1alpha3', f.virtualService, 'VirtualService/helloworld', 'networking.istio.io/v1'],
    ['networking.istio.io/v1beta1', f.destinationRule, 'DestinationRule/helloworld', 'networking.istio.io/v1'],
    ['security.istio.io/v1beta1', f.authorizationPolicy, 'AuthorizationPolicy/allow-frontend', 'security.istio.io/v1'],
  ])('%s is validated with the v1 schema, CEL rules and semantics, and gets a note', (apiVersion, make, object, v1) => {
    const valid = { ...make(), apiVersion };
    const kind = object.split('/')[0];
    expect(ManifestSchemas.report([valid])).toEqual({
      violations: [],
      uncheckedRules: [],
      notes: [{
        object,
        path: '/apiVersion',
        message: `${apiVersion} is an older API version: validated with the ${v1} ${kind} schema, which Istio serves with the same schema; prefer ${v1}`,
      }],
    });
    expect(() => ManifestSchemas.assertValid([valid])).not.toThrow();
  });

  test('violations of older versions are found like in v1', () => {
    const vs = { ...f.virtualService(), apiVersion: 'networking.istio.io/v1beta1' };
    vs.spec.http[1].timeout = '0s';
    vs.spec.http[1].retries.retryOn = 'sometimes';
    vs.spec.http[1].bogus = 1;
    expect(messages([vs])).toEqual([
      'VirtualService/helloworld /spec/http/1/bogus: unknown field "bogus"',
      'VirtualService/helloworld /spec/http/1/timeout: must be a valid duration greater than 1ms',
      'VirtualService/helloworld /spec/http/1/retries/retryOn: "sometimes" is not a valid retryOn policy',
    ]);
  });
});
