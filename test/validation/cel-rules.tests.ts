import * as f from './_fixtures';
import { evaluateCelRules } from '../../src/validation/_cel-rules';
import { emptyFindings } from '../../src/validation/_types';
import { ManifestSchemas } from '../../src/validation/schema-validation';

const messages = (manifests: any[]) => ManifestSchemas.validate(manifests).map(v => `${v.object} ${v.path}: ${v.message}`);

describe('one CEL rule of every custom kind is really evaluated', () => {
  test('valid objects of every kind pass, with no unchecked rule and no note', () => {
    const all = f.ALL_CUSTOM.map(make => make());
    expect(ManifestSchemas.report(all)).toEqual({ violations: [], uncheckedRules: [], notes: [] });
  });

  test('DestinationRule: outlierDetection.interval 0s', () => {
    const dr = f.destinationRule();
    dr.spec.trafficPolicy.outlierDetection.interval = '0s';
    dr.spec.subsets[1].trafficPolicy = { connectionPool: { tcp: { connectTimeout: '500us' } } };
    expect(messages([dr])).toEqual([
      'DestinationRule/helloworld /spec/subsets/1/trafficPolicy/connectionPool/tcp/connectTimeout: must be a valid duration greater than 1ms',
      'DestinationRule/helloworld /spec/trafficPolicy/outlierDetection/interval: must be a valid duration greater than 1ms',
    ]);
  });

  test('DestinationRule: a duration CEL cannot parse fails the rule with the evaluation error', () => {
    const dr = f.destinationRule();
    dr.spec.trafficPolicy.outlierDetection.baseEjectionTime = '30 seconds';
    expect(messages([dr])).toEqual([
      'DestinationRule/helloworld /spec/trafficPolicy/outlierDetection/baseEjectionTime: must be a valid duration greater than 1ms '
      + '(rule evaluation error: time: unknown unit " seconds" in duration "30 seconds")',
    ]);
  });

  test('DestinationRule: workloadSelector label rules (map keys and map values)', () => {
    const dr = f.destinationRule();
    dr.spec.workloadSelector = { matchLabels: { 'app': 'web*', '': 'x' } };
    expect(messages([dr])).toEqual([
      'DestinationRule/helloworld /spec/workloadSelector/matchLabels: key must not be empty',
      'DestinationRule/helloworld /spec/workloadSelector/matchLabels/app: wildcard not allowed in label value match',
    ]);
  });

  test('AuthorizationPolicy: serviceAccounts with namespaces', () => {
    const ap = f.authorizationPolicy();
    ap.spec.rules[0].from[0].source = { serviceAccounts: ['default/frontend'], namespaces: ['default'] };
    expect(messages([ap])).toEqual([
      'AuthorizationPolicy/allow-frontend /spec/rules/0/from/0/source: Cannot set serviceAccounts with namespaces or principals',
    ]);
  });

  test('AuthorizationPolicy: selector together with targetRefs', () => {
    const ap = f.authorizationPolicy();
    ap.spec.targetRefs = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'other' }];
    expect(messages([ap])).toEqual([
      'AuthorizationPolicy/allow-frontend /spec: only one of targetRefs or selector can be set',
      'AuthorizationPolicy/allow-frontend /spec/targetRefs/0/namespace: cross namespace referencing is not currently supported',
    ]);
  });

  test('VirtualService: timeout and perTryTimeout of 0s', () => {
    const vs = f.virtualService();
    vs.spec.http[1].timeout = '0s';
    vs.spec.http[1].retries.perTryTimeout = '0.5ms';
    expect(messages([vs])).toEqual([
      'VirtualService/helloworld /spec/http/1/retries/perTryTimeout: must be a valid duration greater than 1ms',
      'VirtualService/helloworld /spec/http/1/timeout: must be a valid duration greater than 1ms',
    ]);
  });

  test('PeerAuthentication: portLevelMtls without a selector, and port 0', () => {
    const pa = f.peerAuthentication();
    delete pa.spec.selector;
    pa.spec.portLevelMtls = { 0: { mode: 'DISABLE' } };
    expect(messages([pa])).toEqual([
      'PeerAuthentication/helloworld /spec: portLevelMtls requires selector',
      'PeerAuthentication/helloworld /spec/portLevelMtls: port must be between 1-65535',
    ]);
  });

  test('Istio Gateway: credentialName and credentialNames together', () => {
    const gw = f.istioGateway();
    gw.spec.servers[0].tls.credentialNames = ['a', 'b'];
    expect(messages([gw])).toEqual([
      'Gateway/public /spec/servers/0/tls: only one of credentialName or credentialNames can be set',
    ]);
  });

  test('HTTPRoute: a Service backendRef without port (uses the defaulted group and kind)', () => {
    const route = f.httpRoute();
    delete route.spec.rules[0].backendRefs[1].port;
    expect(messages([route])).toEqual(['HTTPRoute/helloworld /spec/rules/0/backendRefs/1: Must have port for Service reference']);
    route.spec.rules[0].backendRefs[1].kind = 'ServiceImport';
    route.spec.rules[0].backendRefs[1].group = 'multicluster.x-k8s.io';
    expect(messages([route])).toEqual([]);
  });

  test('HTTPRoute: a RequestMirror filter with both percent and fraction', () => {
    const route = f.httpRoute();
    route.spec.rules[0].filters = [{
      type: 'RequestMirror',
      requestMirror: { backendRef: { name: 'helloworld-v2', port: 80 }, percent: 10, fraction: { numerator: 1 } },
    }];
    expect(messages([route])).toEqual([
      'HTTPRoute/helloworld /spec/rules/0/filters/0/requestMirror: Only one of percent or fraction may be specified in HTTPRequestMirrorFilter',
    ]);
    // the defaulted denominator (100) is what the fraction rule compares with
    route.spec.rules[0].filters[0].requestMirror = { backendRef: { name: 'helloworld-v2', port: 80 }, fraction: { numerator: 101 } };
    expect(messages([route])).toEqual([
      'HTTPRoute/helloworld /spec/rules/0/filters/0/requestMirror/fraction: numerator must be less than or equal to denominator',
    ]);
  });

  test('HTTPRoute: parentRefs read through the escaped field name __namespace__', () => {
    const route = f.httpRoute();
    route.spec.parentRefs.push({ name: 'public', namespace: 'istio-ingress' });
    expect(messages([route])).toEqual([
      'HTTPRoute/helloworld /spec/parentRefs: sectionName must be unique when parentRefs includes 2 or more references to the same parent',
    ]);
    route.spec.parentRefs[1].namespace = 'other';
    expect(messages([route])).toEqual([]);
  });

  test('HTTPRoute: path match rules', () => {
    const route = f.httpRoute();
    route.spec.rules[0].matches = [{ path: { type: 'PathPrefix', value: 'shop//x' } }];
    expect(messages([route])).toEqual([
      "HTTPRoute/helloworld /spec/rules/0/matches/0/path: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
      "HTTPRoute/helloworld /spec/rules/0/matches/0/path: must not contain '//' when type one of ['Exact', 'PathPrefix']",
    ]);
  });

  test('Gateway API Gateway: listener rules and list-map key uniqueness', () => {
    const gw = f.gatewayApiGateway();
    gw.spec.listeners[0].tls = { mode: 'Terminate', certificateRefs: [{ name: 'x' }] };
    gw.spec.listeners.push({ name: 'http', port: 8080, protocol: 'HTTP' });
    expect(messages([gw])).toEqual([
      "Gateway/public /spec/listeners: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
      'Gateway/public /spec/listeners: Listener name must be unique within the Gateway',
      'Gateway/public /spec/listeners/2: Duplicate value: {"name":"http"}',
    ]);
  });
});

describe('Gateway API experimental channel', () => {
  test('an HTTPRoute using retry is validated with the experimental schema, and a note says so', () => {
    const route = f.httpRoute();
    route.spec.rules[0].retry = { attempts: 2, backoff: '100ms', codes: [503] };
    expect(ManifestSchemas.report([route])).toEqual({
      violations: [],
      uncheckedRules: [],
      notes: [{
        object: 'HTTPRoute/helloworld',
        path: '',
        message: 'validated with the Gateway API experimental channel schema, because it uses experimental field(s) /spec/rules/0/retry: '
          + 'the cluster needs the experimental-channel CRDs',
      }],
    });
  });

  test('violations found with the experimental schema say so', () => {
    const route = f.httpRoute();
    route.spec.rules[0].retry = { attempts: 'two' };
    route.spec.rules[0].sessionPersistence = { type: 'Header', cookieConfig: { lifetimeType: 'Session' } };
    route.spec.rules[0].bogus = true;
    expect(messages([route])).toEqual([
      'HTTPRoute/helloworld /spec/rules/0/bogus: unknown field "bogus" (Gateway API experimental channel schema)',
      'HTTPRoute/helloworld /spec/rules/0/retry/attempts: must be integer (Gateway API experimental channel schema)',
    ]);
    // a type error blocks CEL evaluation (as on the API server); fixed, the sessionPersistence rule is evaluated
    route.spec.rules[0].retry.attempts = 2;
    expect(messages([route])).toEqual([
      'HTTPRoute/helloworld /spec/rules/0/bogus: unknown field "bogus" (Gateway API experimental channel schema)',
      'HTTPRoute/helloworld /spec/rules/0/sessionPersistence: cookieConfig can only be set with type Cookie (Gateway API experimental channel schema)',
    ]);
  });

  test('an unknown field that the experimental schema does not know either keeps the standard schema', () => {
    const route = f.httpRoute();
    route.spec.rules[0].retri = {};
    expect(ManifestSchemas.report([route])).toEqual({
      violations: [{ object: 'HTTPRoute/helloworld', path: '/spec/rules/0/retri', message: 'unknown field "retri"' }],
      uncheckedRules: [],
      notes: [],
    });
  });
});

describe('rules that are not checked', () => {
  test('schema type errors skip every CEL rule of the object, as the API server does', () => {
    const dr = f.destinationRule();
    dr.spec.trafficPolicy.outlierDetection.interval = '0s';
    dr.spec.subsets[0].labels = 'v1';
    expect(ManifestSchemas.report([dr])).toEqual({
      violations: [{ object: 'DestinationRule/helloworld', path: '/spec/subsets/0/labels', message: 'must be object' }],
      uncheckedRules: [{
        object: 'DestinationRule/helloworld',
        path: '',
        rule: '(every x-kubernetes-validations rule of the object)',
        reason: 'not evaluated because the object has type, required, enum or size errors (the API server skips CEL rules then too)',
      }],
      notes: [],
    });
  });

  const run = (schema: any, value: any) => {
    const out = emptyFindings();
    evaluateCelRules(schema, value, '', out);
    return out;
  };
  const withRules = (...rules: any[]) => ({
    'type': 'object',
    'properties': { 'name': { type: 'string' }, 'namespace': { type: 'string' }, 'max-size': { type: 'integer' }, 'items': { type: 'array', items: { type: 'string' } } },
    'x-kubernetes-validations': rules,
  });

  test('transition rules, unknown functions and identifiers, parse errors and non-bool results are not checked (never passed)', () => {
    const out = run(withRules(
      { rule: 'self.name == oldSelf.name', message: 'immutable' },
      { rule: 'self.name == oldSelf.name', optionalOldSelf: true },
      { rule: 'isIP(self.name)' },
      { rule: 'format.dns1123Label().validate(self.name).hasValue()' },
      { rule: 'self.name == other' },
      { rule: 'self.name ==' },
      { rule: 'self.name' },
    ), { name: 'x' });
    expect(out.violations).toEqual([]);
    expect(out.unchecked.map(u => `${u.rule} -> ${u.reason}`)).toEqual([
      'self.name == oldSelf.name -> transition rule (uses oldSelf): only evaluated on update, not checked here',
      'self.name == oldSelf.name -> transition rule with optionalOldSelf: needs CEL optional values, which this validator does not support',
      'isIP(self.name) -> function(s) not implemented by this validator: isIP',
      'format.dns1123Label().validate(self.name).hasValue() -> unknown identifier(s): format',
      'self.name == other -> unknown identifier(s): other',
      expect.stringMatching(/^self\.name == -> cannot be parsed: /),
      'self.name -> does not evaluate to a bool',
    ]);
  });

  test('messageExpression, message, default message, fieldPath and reason', () => {
    const out = run(withRules(
      { rule: 'self.name.size() < 3', messageExpression: "'name ' + self.name + ' is too long'", message: 'not used' },
      { rule: 'self.name.size() < 3', messageExpression: 'self.name.size()', message: 'falls back to message' },
      { rule: 'self.name.size() < 3' },
      { rule: "self.__namespace__ != 'kube-system'", fieldPath: '.namespace', reason: 'FieldValueForbidden', message: 'system namespace' },
      { rule: 'self.max__dash__size <= 10', fieldPath: ".items['x']", message: 'escaped dash' },
      { rule: 'self.items.exists_one(i, i == "a")', message: 'exactly one a' },
      { rule: 'self.items[5] == "a"', message: 'index' },
    ), { 'name': 'abcd', 'namespace': 'kube-system', 'max-size': 11, 'items': ['a', 'a'] });
    expect(out.unchecked).toEqual([]);
    expect(out.violations).toEqual([
      { path: '', message: 'name abcd is too long' },
      { path: '', message: 'falls back to message' },
      { path: '', message: 'failed rule: self.name.size() < 3' },
      { path: '/namespace', message: 'Forbidden: system namespace' },
      { path: '/items/x', message: 'escaped dash' },
      { path: '', message: 'exactly one a' },
      { path: '', message: expect.stringMatching(/^index \(rule evaluation error: .*index.*5/) },
    ]);
  });
});
