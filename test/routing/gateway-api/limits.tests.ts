/**
 * The HTTPRoute CRD limits (gateway.networking.k8s.io v1.6.1): what the Gateway API router would
 * emit beyond them is refused when the release is built, naming the construct, the prop, the value
 * (or its length) and the limit; the largest input within them synthesizes and passes the schema and
 * CEL check.
 */
import { ApiObject, Chart, Testing } from 'cdk8s';
import {
  GatewayReference, HeaderMatchType, HeaderRoute, ManifestSchemas, MeshRelease, MeshReleaseProps, ReleaseStage, TrafficRouter,
} from '../../../src';
import { httpRouteSpec } from '../../../src/routing/gateway-api/_specs';
import { ofKind, only } from '../../_helpers';

const VERSIONS = Array.from({ length: 17 }, (_, i) => ({ version: `v${i + 1}`, image: 'docker.io/istio/examples-bookinfo-reviews-v1:1.20.2' }));
const STABLE = ReleaseStage.stable('v1');

/** The `reviews` release in namespace bookinfo with the Gateway API router. */
function build(stage: ReleaseStage, props: Partial<MeshReleaseProps> = {}): { chart: Chart; release: () => MeshRelease } {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'bookinfo' });
  return {
    chart,
    release: () => new MeshRelease(chart, 'reviews', { app: 'reviews', port: 9080, versions: VERSIONS, stage, router: TrafficRouter.gatewayApi(), ...props }),
  };
}

function gateways(count: number): GatewayReference[] {
  return Array.from({ length: count }, (_, i) => ({ name: `gw-${i}`, namespace: 'infra' }));
}

function hostnames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `host-${i}.example.com`);
}

/** `count` exact header routes to v2, on headers `x-h<i>`. */
function headerRoutes(count: number, first: Partial<HeaderRoute> = {}): HeaderRoute[] {
  return Array.from({ length: count }, (_, i) => ({ header: `x-h${i}`, value: 'on', version: 'v2', ...(i === 0 ? first : {}) }));
}

function stageWith(headers: HeaderRoute[], weighted = 1): ReleaseStage {
  const versions = VERSIONS.slice(0, Math.max(2, weighted)).map((v) => v.version);
  const weights = versions.slice(0, weighted).map((version, i) => ({ version, weight: i === 0 ? 100 - 6 * (weighted - 1) : 6 }));
  return ReleaseStage.custom({ name: 'limits', deployed: versions, weights, headerRoutes: headers });
}

/** What the CRD says of the HTTPRoute the router would write for `stage` and `parentRefs`, retry added for the experimental channel. */
function crdViolations(stage: ReleaseStage, parentRefs: GatewayReference[] = [], names?: string[], experimental = false): string[] {
  const spec = httpRouteSpec(stage, {
    app: 'reviews',
    port: 9080,
    parentRefs: parentRefs.length ? parentRefs.map((g) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', ...g })) : [{ group: '', kind: 'Service', name: 'reviews' }],
    hostnames: names,
    requestTimeout: '10s',
  });
  const rules = spec.rules!.map((r) => JSON.parse(JSON.stringify(r)));
  const route = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'reviews', namespace: 'bookinfo' },
    spec: JSON.parse(JSON.stringify({ ...spec, rules: experimental ? rules.map((r) => ({ ...r, retry: { attempts: 1 } })) : rules })),
  };
  return ManifestSchemas.validate([route]).map((v) => `${v.path}: ${v.message}`);
}

describe('TrafficRouter.gatewayApi(): the HTTPRoute CRD limits are refused when the release is built', () => {
  const long = (n: number) => 'a'.repeat(n);
  const cases: Array<[string, ReleaseStage, Partial<MeshReleaseProps>, string, () => string[], string]> = [
    ['16 header routes (17 rules; spec.rules maxItems 16)', stageWith(headerRoutes(16)), {},
      "[test/reviews] 'stage.headerRoutes' must hold at most 15 routes with TrafficRouter.gatewayApi() in stage 'limits': each is an HTTPRoute rule, the weighted catch-all is one more, and an HTTPRoute holds at most 16 rules (spec.rules maxItems 16), got 16",
      () => crdViolations(stageWith(headerRoutes(16))),
      '/spec/rules: must NOT have more than 16 items'],
    ['a header name of 257 characters (maxLength 256)', stageWith(headerRoutes(1, { header: `x${long(256)}` })), {},
      `[test/reviews] 'stage.headerRoutes[0].header' must be an HTTP header name of at most 256 characters with TrafficRouter.gatewayApi() (HTTPRoute spec.rules[].matches[].headers[].name maxLength 256) (it is 257), got "x${long(39)}…"`,
      () => crdViolations(stageWith(headerRoutes(1, { header: `x${long(256)}` }))),
      '/spec/rules/0/matches/0/headers/0/name: must NOT have more than 256 characters'],
    ['an exact header value of 4097 characters (maxLength 4096)', stageWith(headerRoutes(1, { value: long(4097) })), {},
      `[test/reviews] 'stage.headerRoutes[0].value' must be at most 4096 characters with TrafficRouter.gatewayApi() (HTTPRoute spec.rules[].matches[].headers[].value maxLength 4096) (it is 4097), got "${long(40)}…"`,
      () => crdViolations(stageWith(headerRoutes(1, { value: long(4097) }))),
      '/spec/rules/0/matches/0/headers/0/value: must NOT have more than 4096 characters'],
    ['a prefix of 4094 characters (4097 as the regular expression written)', stageWith(headerRoutes(1, { value: long(4094), matchType: HeaderMatchType.PREFIX })), {},
      `[test/reviews] 'stage.headerRoutes[0].value' must be at most 4096 characters once written as the regular expression '^<value, escaped>.*' of a PREFIX route with TrafficRouter.gatewayApi() (HTTPRoute spec.rules[].matches[].headers[].value maxLength 4096) (it is 4097), got "${long(40)}…"`,
      () => crdViolations(stageWith(headerRoutes(1, { value: long(4094), matchType: HeaderMatchType.PREFIX }))),
      '/spec/rules/0/matches/0/headers/0/value: must NOT have more than 4096 characters'],
    ['a header value with a doubled space (experimental channel pattern)', stageWith(headerRoutes(1, { value: 'a  b' })), {},
      "[test/reviews] 'stage.headerRoutes[0].value' must be printable ASCII without leading, trailing or doubled spaces with TrafficRouter.gatewayApi() (HTTPRoute spec.rules[].matches[].headers[].value pattern ^[!-~]+([\\t ]?[!-~]+)*$, experimental channel), got \"a  b\"",
      () => crdViolations(stageWith(headerRoutes(1, { value: 'a  b' })), [], undefined, true),
      '/spec/rules/0/matches/0/headers/0/value: must match pattern "^[!-~]+([\\t ]?[!-~]+)*$" (Gateway API experimental channel schema)'],
    ['17 weighted versions (17 backendRefs in one rule; maxItems 16)', stageWith([], 17), {},
      "[test/reviews] 'stage.weights' must route to at most 16 versions with TrafficRouter.gatewayApi() in stage 'limits': the catch-all rule has one backendRef per version (HTTPRoute spec.rules[].backendRefs maxItems 16), got 17",
      () => crdViolations(stageWith([], 17)),
      '/spec/rules/0/backendRefs: must NOT have more than 16 items'],
    ['33 gateways (spec.parentRefs maxItems 32)', STABLE, { router: TrafficRouter.gatewayApi({ gateways: gateways(33) }) },
      "[test/reviews] 'router.gateways' must name at most 32 Gateways (HTTPRoute spec.parentRefs maxItems 32), got 33",
      () => crdViolations(STABLE, gateways(33)),
      '/spec/parentRefs: must NOT have more than 32 items'],
    ['the same Gateway twice (the parentRefs CEL rule)', STABLE, { router: TrafficRouter.gatewayApi({ gateways: [{ name: 'public', namespace: 'infra' }, { name: 'public', namespace: 'infra' }] }) },
      "[test/reviews] 'router.gateways' must name each Gateway once, or each time with a different sectionName (HTTPRoute spec.parentRefs: \"sectionName must be specified/unique when parentRefs includes 2 or more references to the same parent\"); Gateway infra/public is named 2 times, got {\"name\":\"public\",\"namespace\":\"infra\"}",
      () => crdViolations(STABLE, [{ name: 'public', namespace: 'infra' }, { name: 'public', namespace: 'infra' }]),
      '/spec/parentRefs: sectionName must be unique when parentRefs includes 2 or more references to the same parent'],
    ['the same listener twice', STABLE, { router: TrafficRouter.gatewayApi({ gateways: [{ name: 'public', sectionName: 'https' }, { name: 'public', sectionName: 'https' }] }) },
      'Gateway bookinfo/public is named 2 times, got {"name":"public","sectionName":"https"}',
      () => crdViolations(STABLE, [{ name: 'public', sectionName: 'https' }, { name: 'public', sectionName: 'https' }]),
      '/spec/parentRefs: sectionName must be unique when parentRefs includes 2 or more references to the same parent'],
    ['a Gateway whole and one of its listeners', STABLE, { router: TrafficRouter.gatewayApi({ gateways: [{ name: 'public' }, { name: 'public', sectionName: 'https' }] }) },
      'Gateway bookinfo/public is named 2 times, got {"name":"public","sectionName":"https"}',
      () => crdViolations(STABLE, [{ name: 'public' }, { name: 'public', sectionName: 'https' }]),
      '/spec/parentRefs: sectionName must be specified when parentRefs includes 2 or more references to the same parent'],
    ['17 hostnames (spec.hostnames maxItems 16)', STABLE, { router: TrafficRouter.gatewayApi({ gateways: gateways(1), hostnames: hostnames(17) }) },
      "[test/reviews] 'router.hostnames' must list at most 16 hostnames (HTTPRoute spec.hostnames maxItems 16): use a wildcard such as '*.example.com', got 17",
      () => crdViolations(STABLE, gateways(1), hostnames(17)),
      '/spec/hostnames: must NOT have more than 16 items'],
  ];

  test.each(cases)('fails on %s, before any child is created, and the CRD refuses what would be written', (_, stage, props, message, crd, refusal) => {
    // GIVEN
    const { chart, release } = build(stage, props);
    // WHEN / THEN
    expect(release).toThrow(message);
    expect(chart.node.findAll().filter((c) => c instanceof ApiObject)).toEqual([]);
    // THEN the limit is the CRD's: the route that would have been written is invalid
    expect(crd()).toEqual([refusal]);
  });

  test('fails on the same Gateway named with and without the release namespace', () => {
    const { release } = build(STABLE, { router: TrafficRouter.gatewayApi({ gateways: [{ name: 'public' }, { name: 'public', namespace: 'bookinfo' }] }) });
    expect(release).toThrow("[test/reviews] 'router.gateways' must name each Gateway once, or each time with a different sectionName");
  });

  test('fails fast on a long header value with a non-ASCII character at its end (the CRD pattern, written not to backtrack)', () => {
    const value = `${'a'.repeat(4000)}é`;
    const started = Date.now();
    expect(build(stageWith(headerRoutes(1, { value }))).release)
      .toThrow(`[test/reviews] 'stage.headerRoutes[0].value' must be printable ASCII without leading, trailing or doubled spaces with TrafficRouter.gatewayApi() (HTTPRoute spec.rules[].matches[].headers[].value pattern ^[!-~]+([\\t ]?[!-~]+)*$, experimental channel), got "${'a'.repeat(40)}…"`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('fails on an IP address as a hostname (the CRD pattern lets it through; Gateway API forbids it)', () => {
    const { release } = build(STABLE, { router: TrafficRouter.gatewayApi({ gateways: gateways(1), hostnames: ['10.0.0.1'] }) });
    expect(release).toThrow("[test/reviews] 'router.hostnames' must be lowercase DNS names, optionally starting with '*.' (no IP address, no port), e.g. 'shop.example.com', got \"10.0.0.1\"");
  });

  test('fails on a Service-only version whose Service name is over 63 characters', () => {
    const version = `v${'1'.repeat(62)}`;
    const stage = ReleaseStage.custom({ name: 'make-routable', deployed: ['v1'], routable: ['v1', version], weights: [{ version: 'v1', weight: 100 }] });
    const { release } = build(stage, { versions: [VERSIONS[0], { version, image: VERSIONS[0].image }] });
    expect(release).toThrow(`[test/reviews] 'app + version' must form a Service name '<app>-<version>' of at most 63 characters for version '${version}' of stage 'make-routable' (it is 71): shorten the app or version, got "reviews-${version}"`);
  });

  const mirrorOf = (percent: number) => ReleaseStage.custom({
    name: 'mirror', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2', percent },
  });

  test.each([
    [1e-7, 'would mirror nothing'],
    // was written as the fraction 2/10^8: a share a third larger than asked
    [0.0000015, 'would mirror nothing'],
    // was written as 12345679/10^8, rounded up
    [12.3456789, 'would mirror 12.3456%'],
  ])('fails on a mirror share of %d%%, finer than the millionths Envoy mirrors (Istio drops the rest)', (percent, effect) => {
    expect(build(mirrorOf(percent)).release).toThrow(`[test/reviews] 'stage.mirror.percent' must be a multiple of 0.0001 (one request in a million) with TrafficRouter.gatewayApi() in stage 'mirror': Envoy mirrors whole millionths of requests and drops the rest, so this share ${effect}; round it to at most 4 decimals, got ${percent}`);
  });

  test('a mirror share of one request in a million is an exact fraction the CRD accepts', () => {
    const { chart, release } = build(mirrorOf(0.0001));
    release();
    const manifests = Testing.synth(chart);
    expect(only(manifests, 'HTTPRoute').spec.rules[0].filters[0].requestMirror.fraction).toEqual({ numerator: 1, denominator: 1_000_000 });
    expect(ManifestSchemas.validate(manifests)).toEqual([]);
  });

  test('the limits hold for the previous stage too (it is rendered with the same router)', () => {
    const previous = stageWith(headerRoutes(16));
    const stage = ReleaseStage.custom({ name: 'next', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], previous });
    expect(build(stage).release).toThrow("'stage.headerRoutes' must hold at most 15 routes");
  });
});

describe('TrafficRouter.gatewayApi(): the largest input within the HTTPRoute CRD limits synthesizes and is schema-valid', () => {
  /** Synthesizes, and returns the manifests after checking them against the schemas and CEL rules. */
  function synthValid(stage: ReleaseStage, props: Partial<MeshReleaseProps>): any[] {
    const { chart, release } = build(stage, props);
    release();
    const manifests = Testing.synth(chart);
    expect(ManifestSchemas.validate(manifests)).toEqual([]);
    expect(ManifestSchemas.uncheckedRules(manifests).filter((r) => r.object.startsWith('HTTPRoute/'))).toEqual([]);
    return manifests;
  }

  test('15 header routes + the catch-all (16 rules) with 16 weighted versions, a 256-character header name and 4096-character values', () => {
    // GIVEN: a 4096-character exact value, a prefix that is 4096 characters as written, a 256-character header name
    const headers = headerRoutes(15).map((r, i) => [
      { ...r, value: 'a'.repeat(4096) },
      { ...r, value: 'b'.repeat(4093), matchType: HeaderMatchType.PREFIX },
      { ...r, header: `x${'h'.repeat(255)}` },
    ][i] ?? r);
    // WHEN
    for (const router of [TrafficRouter.gatewayApi(), TrafficRouter.gatewayApi({ experimentalRetries: true })]) {
      const manifests = synthValid(stageWith(headers, 16), { router });
      // THEN
      const rules = only(manifests, 'HTTPRoute').spec.rules;
      expect(rules.length).toBe(16);
      expect(rules[15].backendRefs.length).toBe(16);
      const header = (r: any) => r.matches[0].headers[0];
      expect(rules.slice(0, 3).map((r: any) => [header(r).name.length, header(r).value.length])).toEqual([[4, 4096], [4, 4096], [256, 2]]);
    }
  });

  test('32 Gateways (one twice, on two listeners) and 16 hostnames', () => {
    const attached = [...gateways(30), { name: 'public', sectionName: 'http' }, { name: 'public', sectionName: 'https' }];
    const manifests = synthValid(STABLE, { router: TrafficRouter.gatewayApi({ gateways: attached, hostnames: hostnames(16) }) });
    const route = only(manifests, 'HTTPRoute');
    expect(route.spec.parentRefs.length).toBe(32);
    expect(route.spec.hostnames.length).toBe(16);
    expect(ofKind(manifests, 'Service').length).toBe(2);
  });
});
