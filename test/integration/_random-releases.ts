/**
 * A generator of random releases for random-releases.integration.ts: every router (Istio, Gateway API in all its
 * shapes, the selector switch), every plan shape (canary, blue/green, custom with up to four versions) with an extra
 * stage of header routes of every match type and a mirror, and workload options at their edges. Each release has an
 * `edginess`: 0 draws only values a user would plausibly write; above 0, each field is sometimes drawn at or past a
 * limit (names of 63 and 64 characters, 16 and 17 header routes, header values of 4096 and 4097 characters, 32 and
 * 33 Gateways, int32 and uint32 bounds, durations past what CEL can read, duplicates...), so that some releases are
 * refused when they are built and the others must be accepted by the API server.
 *
 * Values are drawn as the library's own objects (Duration, Scaling, kplus quantities); `describeRelease` prints one
 * with long strings and lists cut, and so does fast-check (the value's `toStringMethod`).
 */
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import * as YAML from 'yaml';
import {
  AllowedCallers, ApplyOrder, DisruptionBudget, GatewayApiRouterOptions, GatewayReference, HeaderMatchType, HeaderRoute, HealthProbeOptions,
  IstioRouterOptions,
  LoadBalancerAlgorithm, MeshRelease, MeshReleaseProps, ProbeKind, ReleasePlan, ReleaseStage, ReleaseStageOptions, RetryOptions, Scaling, TlsMode,
  TrafficMirror, TrafficPolicyOptions, TrafficRouter, VersionSpec, WorkloadOptions,
} from '../../src';
import { CustomPlanInput, customPlanInput, customPlanStages, distinctVersions, dns1035Label, invalidLabel, validResources, validScaling } from '../_arbitraries';

// ---------------------------------------------------------------------------------------------
// What is drawn
// ---------------------------------------------------------------------------------------------

export type RouterKind = 'istio' | 'gatewayApi' | 'serviceSelector';

/** The namespaces a release may live in; the test creates them on the control plane first. */
export const NAMESPACES = ['default', 'shop', 'team-a', `n${'s'.repeat(61)}1`];

export interface HeaderDraw {
  readonly header: string;
  readonly value: string;
  readonly matchType?: HeaderMatchType;
  /** Picks the version (among the versions with a Deployment and a subset in the stage). */
  readonly pick: number;
}

/** A stage inserted after stage `at` of the plan: the same stage plus header routes and a mirror, then the stage again. */
export interface ExtraStage {
  readonly at: number;
  /** The routes replace the stage's own header routes (else they come after them). */
  readonly replace?: boolean;
  readonly headers: HeaderDraw[];
  readonly mirror?: { readonly pick: number; readonly percent?: number };
}

export type PlanDraw = (
  | { readonly kind: 'canary'; readonly stable: string; readonly candidate: string; readonly weights: number[] }
  | { readonly kind: 'blue-green'; readonly stable: string; readonly candidate: string }
  | { readonly kind: 'custom'; readonly input: CustomPlanInput }
  /** Many versions at once (around the HTTPRoute's 16 backendRefs): deployed together, then split evenly. */
  | { readonly kind: 'many'; readonly versions: string[] }
) & { readonly extra?: ExtraStage };

export interface RandomRelease {
  readonly router: RouterKind;
  /** Options of `TrafficRouter.gatewayApi()`. */
  readonly gatewayApi?: GatewayApiRouterOptions;
  /** Options of `TrafficRouter.istio()`. */
  readonly istio?: IstioRouterOptions;
  readonly edginess: number;
  /** Limits the release was taken to, exactly (a plausible release otherwise): see `LIMITS`. */
  readonly limits: string[];
  readonly namespace: string;
  /** Where the namespace is given: on the chart, on the release, or both. */
  readonly namespaceOn: 'chart' | 'release' | 'both';
  readonly plan: PlanDraw;
  /** The release's props but its router and stage. */
  readonly props: Omit<MeshReleaseProps, 'router' | 'stage'>;
  /** Which stages to build (indexes modulo the plan's length) when the plan has more than `MAX_STAGES`. */
  readonly stagePicks: number[];
}

/** Plans with more stages than this are built on a random subset of this many (plus the extra stage). */
export const MAX_STAGES = 4;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/** `plausible`, or (with `edginess` above 0, sometimes) `edges`. */
function edgy<T>(edginess: number, plausible: fc.Arbitrary<T>, edges: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return edginess === 0 ? plausible : fc.oneof({ weight: 40, arbitrary: plausible }, { weight: edginess, arbitrary: edges });
}

/** Left out (undefined) one time in `nilOneIn`. */
function maybe<T>(arbitrary: fc.Arbitrary<T>, nilOneIn = 2): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined, freq: nilOneIn });
}

/** A DNS-1035 label of exactly `n` characters (n >= 2), from a random seed label. */
function labelOfLength(n: number, seed: string): string {
  return `${seed.replace(/-/g, 'a')}${'x'.repeat(n)}`.slice(0, n - 1) + '9';
}

function longLabel(min: number, max: number): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min, max }), dns1035Label(6)).map(([n, seed]) => labelOfLength(n, seed));
}

/** A DNS-1123 subdomain of exactly `n` characters: labels of at most 63 joined by dots. */
function subdomainOfLength(n: number): string {
  const labels: string[] = [];
  let left = n;
  while (left > 63) {
    // leave at least one character for the next label
    const size = left - 64 >= 1 ? 63 : 62;
    labels.push(labelOfLength(size, 'g'));
    left -= size + 1;
  }
  labels.push(labelOfLength(left, 'g'));
  return labels.join('.');
}

const seconds = (n: number) => Duration.seconds(n);
const millis = (n: number) => Duration.millis(n);

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

function appName(edginess: number): fc.Arbitrary<string> {
  return edgy(edginess,
    fc.oneof(fc.constantFrom('web', 'reviews', 'helloworld', 'a'), dns1035Label(12)),
    fc.oneof(longLabel(40, 63), invalidLabel, fc.constant('a'.repeat(64))));
}

function versionNames(edginess: number): fc.Arbitrary<[string, string]> {
  return edgy(edginess,
    distinctVersions(2, 2).map(([a, b]) => [a, b] as [string, string]),
    fc.oneof(
      fc.tuple(longLabel(8, 62), fc.constantFrom('v1', 'blue')).filter(([a, b]) => a !== b),
      fc.tuple(fc.constantFrom('v1', 'stable'), invalidLabel),
      fc.constant(['v1', 'v1'] as [string, string]),
    ));
}

function namespace(edginess: number): fc.Arbitrary<string> {
  return edgy(edginess, fc.constantFrom(...NAMESPACES), fc.constantFrom('Shop', '-x', 'a'.repeat(64), 'a_b'));
}

// ---------------------------------------------------------------------------------------------
// Plans, header routes, mirrors
// ---------------------------------------------------------------------------------------------

function canaryWeights(edginess: number): fc.Arbitrary<number[]> {
  return edgy(edginess,
    fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 9 }).map((ws) => [...ws].sort((a, b) => a - b)),
    fc.oneof(
      fc.constant(Array.from({ length: 99 }, (_, i) => i + 1)),
      fc.constantFrom<number[]>([0], [100], [50, 10], [10, 10], [12.5]),
    ));
}

function headerName(edginess: number): fc.Arbitrary<string> {
  return edgy(edginess,
    fc.oneof(fc.constantFrom('x-version', 'user-agent', 'cookie', 'x-canary', 'x_user.id', 'x-b3-sampled'), fc.stringMatching(/^[a-z0-9][-a-z0-9_.]{0,15}$/)),
    fc.oneof(
      fc.integer({ min: 250, max: 260 }).map((n) => `x-${'h'.repeat(n - 2)}`),
      fc.constantFrom('X-Version', 'bad header', ':authority', '', 'x-é'),
    ));
}

function headerValue(edginess: number, matchType: HeaderMatchType | undefined): fc.Arbitrary<string> {
  if (matchType === HeaderMatchType.REGEX) {
    return edgy(edginess,
      fc.oneof(fc.constantFrom('.*Android.*', '^v[0-9]+$', 'beta|canary', '.*', '(?i)chrome', 'user-[0-9]{1,4}'), fc.stringMatching(/^[A-Za-z0-9]{1,10}$/)),
      fc.oneof(
        fc.constantFrom('(?=x)', '[', 'a{1001}', '\\p{Greek}+', ' leading', 'trailing ', 'a  b', '(a|b', '\\d+é'),
        fc.integer({ min: 1020, max: 1030 }).map((n) => 'a'.repeat(n)),
      ));
  }
  return edgy(edginess,
    fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), fc.constantFrom('v2', 'beta-testers', 'Mozilla/5.0 (Linux; Android 14)', 'session=abc; id=1')),
    fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }),
      fc.constantFrom(' lead', 'trail ', 'a  b', 'a\tb', 'é', '', 'tab\t', 'new\nline'),
      // at and past the HTTPRoute maxLength (4096); a PREFIX route is written as '^<escaped>.*'
      fc.integer({ min: 4090, max: 4100 }).map((n) => 'v'.repeat(n)),
      fc.integer({ min: 2040, max: 2050 }).map((n) => '.'.repeat(n)),
    ));
}

function headerDraw(edginess: number): fc.Arbitrary<HeaderDraw> {
  return fc.constantFrom(undefined, HeaderMatchType.EXACT, HeaderMatchType.PREFIX, HeaderMatchType.REGEX).chain((matchType) => fc.record({
    header: headerName(edginess),
    value: headerValue(edginess, matchType),
    pick: fc.nat(),
  }).map((h) => (matchType === undefined ? h : { ...h, matchType })));
}

function headerDraws(edginess: number): fc.Arbitrary<HeaderDraw[]> {
  const few = fc.array(headerDraw(edginess), { maxLength: 3 });
  // Many routes, around the HTTPRoute's 16 rules (15 header routes + the catch-all): distinct names (one suffix each),
  // sometimes one route twice (refused: two routes of one header to one version).
  const many = fc.tuple(fc.integer({ min: 14, max: 18 }), headerDraw(edginess), fc.boolean()).map(([n, h, twice]) => {
    const routes = Array.from({ length: n }, (_, i) => ({ ...h, header: `${h.header.slice(0, 200)}-${i}`.replace(/^-/, 'h-') }));
    return twice ? [...routes, routes[0]] : routes;
  });
  return edgy(edginess, few, many);
}

function mirrorPercent(edginess: number): fc.Arbitrary<number | undefined> {
  return edgy(edginess,
    fc.constantFrom(undefined, 10, 50, 100, 1),
    fc.constantFrom(0.5, 33.3333333, 1e-7, 0.000001, 0, 101, 100.5, 99.999999));
}

function extraStage(edginess: number): fc.Arbitrary<ExtraStage | undefined> {
  return maybe(fc.record({
    at: fc.nat(),
    headers: headerDraws(edginess),
    mirror: maybe(fc.record({ pick: fc.nat(), percent: mirrorPercent(edginess) }), 2),
  }), 2);
}

function planDraw(edginess: number, router: RouterKind): fc.Arbitrary<PlanDraw> {
  const canary = fc.tuple(versionNames(edginess), canaryWeights(edginess))
    .map(([[stable, candidate], weights]) => ({ kind: 'canary' as const, stable, candidate, weights }));
  const blueGreen = versionNames(edginess).map(([stable, candidate]) => ({ kind: 'blue-green' as const, stable, candidate }));
  const custom = customPlanInput.map((input) => ({ kind: 'custom' as const, input }));
  const many = fc.integer({ min: 15, max: 17 }).map((n) => ({ kind: 'many' as const, versions: Array.from({ length: n }, (_, i) => `v${i + 1}`) }));
  const base = router === 'serviceSelector'
    ? edgy<PlanDraw>(edginess, blueGreen, fc.oneof<fc.Arbitrary<PlanDraw>[]>(canary, custom))
    : edgy<PlanDraw>(edginess,
      fc.oneof({ weight: 3, arbitrary: canary }, { weight: 2, arbitrary: blueGreen }, { weight: 3, arbitrary: custom }), many);
  const extra = router === 'serviceSelector' ? edgy(edginess, fc.constant(undefined), extraStage(edginess)) : extraStage(edginess);
  return fc.tuple(base, extra).map(([b, e]) => (e === undefined ? b : { ...b, extra: e }));
}

/** The versions a plan uses. */
export function planVersions(plan: PlanDraw): string[] {
  switch (plan.kind) {
    case 'custom': return plan.input.versions;
    case 'many': return plan.versions;
    default: return [plan.stable, plan.candidate];
  }
}

/** Every version deployed next to the first, then the traffic split evenly (the first version takes the rest). */
function manyVersionsPlan(versions: string[]): ReleasePlan {
  const [first] = versions;
  const all = { deployed: versions, weights: [{ version: first, weight: 100 }] };
  const share = Math.floor(100 / versions.length);
  const split = versions.map((version, i) => ({ version, weight: i === 0 ? 100 - share * (versions.length - 1) : share }));
  return ReleasePlan.custom([
    { name: 'stable', deployed: [first], weights: [{ version: first, weight: 100 }] },
    { name: 'make-routable', deployed: [first], routable: versions, weights: [{ version: first, weight: 100 }] },
    { name: 'deploy', ...all },
    { name: 'split', deployed: versions, weights: split },
  ]);
}

function optionsOf(stage: ReleaseStage): ReleaseStageOptions {
  return {
    name: stage.name,
    deployed: [...stage.deployed],
    routable: [...stage.routable],
    weights: stage.weights.map((w) => ({ ...w })),
    headerRoutes: stage.headerRoutes.length ? stage.headerRoutes.map((r) => ({ ...r })) : undefined,
    mirror: stage.mirror && { ...stage.mirror },
  };
}

/** The plan (throws as the library does for a plan it refuses). */
export function buildPlan(draw: PlanDraw): ReleasePlan {
  const base = draw.kind === 'canary'
    ? ReleasePlan.canary({ stable: draw.stable, candidate: draw.candidate, weights: draw.weights })
    : draw.kind === 'blue-green'
      ? ReleasePlan.blueGreen({ stable: draw.stable, candidate: draw.candidate })
      : draw.kind === 'many' ? manyVersionsPlan(draw.versions) : ReleasePlan.custom(customPlanStages(draw.input));
  const extra = draw.extra;
  if (!extra) {
    return base;
  }
  const stages = base.stages.map(optionsOf);
  const at = extra.at % stages.length;
  const s = stages[at];
  const routable = s.deployed.filter((v) => (s.routable ?? s.deployed).includes(v));
  const headerRoutes: HeaderRoute[] = extra.headers.map((h) => ({
    header: h.header, value: h.value, version: routable[h.pick % routable.length], ...(h.matchType ? { matchType: h.matchType } : {}),
  }));
  const unweighted = routable.filter((v) => !s.weights.some((w) => w.version === v && w.weight > 0));
  const mirror: TrafficMirror | undefined = s.mirror ?? (extra.mirror && unweighted.length > 0
    ? { version: unweighted[extra.mirror.pick % unweighted.length], ...(extra.mirror.percent === undefined ? {} : { percent: extra.mirror.percent }) }
    : undefined);
  const routed: ReleaseStageOptions = {
    ...s, name: 'x-routes', headerRoutes: [...(extra.replace ? [] : s.headerRoutes ?? []), ...headerRoutes], mirror,
  };
  return ReleasePlan.custom([...stages.slice(0, at + 1), routed, { ...s, name: 'x-back' }, ...stages.slice(at + 1)]);
}

/** The indexes of the stages to build. */
export function stagesToBuild(plan: ReleasePlan, picks: number[]): number[] {
  const n = plan.stages.length;
  if (n <= MAX_STAGES) {
    return plan.stages.map((_, i) => i);
  }
  const extra = plan.stageNames.indexOf('x-routes');
  return [...new Set([...picks.slice(0, MAX_STAGES).map((p) => p % n), ...(extra >= 0 ? [extra] : [])])].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Routers
// ---------------------------------------------------------------------------------------------

function gatewayReference(edginess: number): fc.Arbitrary<GatewayReference> {
  return fc.record({
    name: edgy(edginess, fc.constantFrom('public', 'internal', 'edge-gw', 'gw.example'),
      fc.oneof(fc.constantFrom('Public', '', 'gw_1', subdomainOfLength(253), subdomainOfLength(254)))),
    namespace: maybe(edgy(edginess, fc.constantFrom('infra', 'istio-system', 'shop'), fc.constantFrom('n'.repeat(63), 'n'.repeat(64), 'Infra'))),
    sectionName: maybe(edgy(edginess, fc.constantFrom('http', 'https', 'web.example'), fc.constantFrom('HTTPS', 'a_b', subdomainOfLength(253)))),
  }, { requiredKeys: ['name'] });
}

function gateways(edginess: number): fc.Arbitrary<GatewayReference[] | undefined> {
  const plausible = fc.uniqueArray(gatewayReference(0), { minLength: 1, maxLength: 3, selector: (g) => `${g.namespace}/${g.name}` });
  const edges = fc.oneof(
    fc.array(gatewayReference(edginess), { minLength: 1, maxLength: 3 }),
    // at and past parentRefs maxItems 32
    fc.integer({ min: 31, max: 34 }).map((n) => Array.from({ length: n }, (_, i) => ({ name: `gw-${i}` }))),
    // one Gateway twice: with and without sectionName, with the same or different ones
    fc.constantFrom<GatewayReference[]>(
      [{ name: 'public' }, { name: 'public' }],
      [{ name: 'public', sectionName: 'http' }, { name: 'public', sectionName: 'https' }],
      [{ name: 'public', sectionName: 'http' }, { name: 'public' }],
      [{ name: 'public', sectionName: 'http' }, { name: 'public', sectionName: 'http' }],
      [{ name: 'public', namespace: 'infra' }, { name: 'public', namespace: 'shop' }],
      [{ name: 'public' }, { name: 'public', namespace: 'shop' }],
      [],
    ),
  );
  return maybe(edgy(edginess, plausible, edges), 5);
}

function hostnames(edginess: number): fc.Arbitrary<string[] | undefined> {
  const plausible = fc.constantFrom<string[]>(['shop.example.com'], ['*.example.com'], ['shop.example.com', 'www.shop.example.com'], ['reviews']);
  const edges = fc.oneof(
    fc.integer({ min: 15, max: 18 }).map((n) => Array.from({ length: n }, (_, i) => `h${i}.example.com`)),
    fc.constantFrom<string[]>(['a.example.com', 'a.example.com'], ['*'], ['1.2.3.4'], ['Shop.example.com'], ['a..b'], ['*.*.example.com'], ['shop.example.com:8080'], []),
    fc.constantFrom(252, 253, 254).map((n) => [subdomainOfLength(n)]),
    fc.constant<string[]>([`${'a'.repeat(64)}.example.com`]),
  );
  return maybe(edgy(edginess, plausible, edges));
}

function gatewayApiOptions(edginess: number): fc.Arbitrary<GatewayApiRouterOptions> {
  return fc.oneof(
    // GAMMA (in-mesh)
    fc.record({ experimentalRetries: fc.boolean() }, { requiredKeys: [] }),
    // ingress Gateways (hostnames without them are refused)
    gateways(edginess).chain((g) => fc.record({
      gateways: fc.constant(g),
      hostnames: g === undefined ? edgy(edginess, fc.constant(undefined), hostnames(edginess)) : hostnames(edginess),
      experimentalRetries: fc.boolean(),
    }, { requiredKeys: [] })),
    // Istio ambient
    fc.record({
      ambientWaypoint: edgy(edginess, fc.constantFrom('waypoint', 'reviews-waypoint'), fc.constantFrom(labelOfLength(63, 'w'), labelOfLength(64, 'w'), 'Waypoint', '')),
      experimentalRetries: fc.boolean(),
    }, { requiredKeys: ['ambientWaypoint'] }),
    // everything at once (hostnames without gateways are refused)
    edgy(edginess, fc.constant({}), fc.record({
      gateways: gateways(edginess), hostnames: hostnames(edginess), ambientWaypoint: fc.constant('waypoint'), experimentalRetries: fc.boolean(),
    }, { requiredKeys: [] })),
  );
}

type IstioHosts = { hosts?: string[]; gateways?: string[] };

function istioHosts(edginess: number): fc.Arbitrary<IstioHosts> {
  return edgy<IstioHosts>(edginess,
    fc.constantFrom<IstioHosts>({}, { hosts: ['helloworld'] }, { hosts: ['shop.example.com'], gateways: ['istio-system/public-gateway', 'mesh'] },
      { gateways: ['mesh'] }, { hosts: ['*.example.com', 'mesh-host'], gateways: ['public', 'mesh'] }, { hosts: ['shop.example.com'], gateways: ['public'] }),
    fc.oneof(
      fc.constantFrom<IstioHosts>({ hosts: [] }, { gateways: [] }, { hosts: ['*'] }, { hosts: ['*'], gateways: ['public'] }, { hosts: ['Shop.example.com'] },
        { hosts: ['a.example.com', 'a.example.com'] }, { gateways: ['a/b/c'] }, { gateways: ['Public'] }, { gateways: ['mesh', 'mesh'] },
        { hosts: [`${'a'.repeat(64)}.example.com`] }, { hosts: [subdomainOfLength(300)] }),
      fc.integer({ min: 20, max: 40 }).map((n) => ({ hosts: Array.from({ length: n }, (_, i) => `h${i}.example.com`) })),
    ));
}

function istioDurationEdge(): fc.Arbitrary<Duration> {
  return fc.constantFrom(millis(1), millis(0), millis(0.5), millis(1500), seconds(315_576_000_000), seconds(10_000_000_000),
    // around the largest Go duration (9223372036.854775807s), past which the CRDs' CEL rules cannot read one
    millis(9_223_372_036_854), millis(9_223_372_036_855), Duration.days(365 * 250), Duration.days(365 * 300));
}

/** Options of `TrafficRouter.istio()`: hosts and gateways, the DestinationRule's traffic policy and some subsets'. */
function istioOptions(edginess: number, versions: string[]): fc.Arbitrary<IstioRouterOptions> {
  return fc.record({
    hosts: istioHosts(edginess),
    trafficPolicy: maybe(trafficPolicy(edginess), 2),
    subsets: fc.tuple(...versions.map((v) => maybe(trafficPolicy(edginess)).map((policy) => [v, policy] as const))),
  }).map(({ hosts, trafficPolicy: policy, subsets }) => {
    const defined = subsets.filter(([, p]) => p !== undefined) as Array<[string, TrafficPolicyOptions]>;
    const bySubset: { [version: string]: TrafficPolicyOptions } = Object.fromEntries(defined);
    return { ...hosts, trafficPolicy: policy, subsetTrafficPolicies: Object.keys(bySubset).length > 0 ? bySubset : undefined };
  });
}

function trafficPolicy(edginess: number): fc.Arbitrary<TrafficPolicyOptions> {
  const plausibleDuration = fc.integer({ min: 1, max: 300 }).map(seconds);
  const duration = edgy(edginess, plausibleDuration, istioDurationEdge());
  const int32 = (min: number, max: number) => edgy(edginess, fc.integer({ min, max }), fc.constantFrom(0, INT32_MAX, INT32_MAX + 1, 1.5, -1));
  return fc.record({
    // DISABLE is refused with strictMtls (the safety check), and fine without
    tlsMode: edgy(edginess, fc.constant(TlsMode.ISTIO_MUTUAL), fc.constantFrom(TlsMode.DISABLE, 'SIMPLE' as TlsMode)),
    loadBalancer: edgy(edginess, fc.constantFrom(LoadBalancerAlgorithm.LEAST_REQUEST, LoadBalancerAlgorithm.ROUND_ROBIN), fc.constantFrom(LoadBalancerAlgorithm.RANDOM, 'MAGLEV' as LoadBalancerAlgorithm)),
    warmup: duration,
    outlierDetection: fc.record({
      consecutive5xxErrors: edgy(edginess, fc.integer({ min: 1, max: 20 }), fc.constantFrom(0, UINT32_MAX, UINT32_MAX + 1, INT32_MAX + 1)),
      interval: duration,
      baseEjectionTime: duration,
      maxEjectionPercent: edgy(edginess, fc.integer({ min: 0, max: 100 }), fc.constantFrom(101, -1, 50.5)),
    }, { requiredKeys: [] }),
    connectionPool: fc.record({
      maxConnections: int32(1, 10_000),
      http1MaxPendingRequests: int32(1, 10_000),
      http2MaxRequests: int32(1, 10_000),
      maxRequestsPerConnection: int32(0, 100),
      idleTimeout: duration,
    }, { requiredKeys: [] }),
  }, { requiredKeys: [] });
}

function allowedCallers(edginess: number): fc.Arbitrary<AllowedCallers> {
  return edgy(edginess,
    fc.constantFrom<AllowedCallers>({ namespaces: ['shop'] }, { serviceAccounts: ['istio-system/istio-ingressgateway-service-account'] },
      { serviceAccounts: ['shop/frontend', 'shop/checkout'], namespaces: ['shop', 'istio-system'] }),
    fc.oneof(
      fc.constantFrom<AllowedCallers>({}, { serviceAccounts: ['frontend'] }, { namespaces: ['Shop'] }, { serviceAccounts: ['shop/front.end'] }, { namespaces: [] }),
      // serviceAccounts: at and past maxItems 16 and maxLength 320 of the AuthorizationPolicy CRD
      fc.integer({ min: 15, max: 20 }).map((n) => ({ serviceAccounts: Array.from({ length: n }, (_, i) => `shop/sa-${i}`) })),
      fc.integer({ min: 318, max: 330 }).map((n) => ({ serviceAccounts: [`shop/${'s'.repeat(n - 5)}`] })),
      fc.integer({ min: 60, max: 70 }).map((n) => ({ namespaces: Array.from({ length: n }, (_, i) => `ns-${i}`) })),
    ));
}

function retries(edginess: number, router: RouterKind): fc.Arbitrary<{ retries?: RetryOptions; timeout?: Duration }> {
  const retryOn = edgy(edginess,
    fc.constantFrom(undefined, 'gateway-error,connect-failure,refused-stream', '5xx', 'gateway-error', 'connect-failure,reset'),
    fc.constantFrom('503', 'retriable-4xx', 'gateway-error,bogus', '', 'retriable-status-codes', '5xx,5xx'));
  type Resilience = { retries?: RetryOptions; timeout?: Duration };
  const plausible = fc.oneof<fc.Arbitrary<Resilience>[]>(
    fc.constant({}),
    fc.integer({ min: 1, max: 60 }).map((t) => ({ timeout: seconds(t + 8) })),
    fc.integer({ min: 1, max: 60 }).chain((timeout) => fc.integer({ min: 0, max: 4 }).chain((attempts): fc.Arbitrary<Resilience> => (attempts === 0
      ? fc.constant({ timeout: seconds(timeout), retries: { attempts: 0 } })
      : fc.tuple(fc.integer({ min: 1, max: Math.floor((timeout * 1000 - 1) / (attempts + 1)) }), retryOn).map(([perTry, on]) => ({
        timeout: seconds(timeout), retries: { attempts, perTryTimeout: millis(perTry), ...(on === undefined ? {} : { retryOn: on }) },
      }))))),
  );
  const edges = fc.oneof<fc.Arbitrary<Resilience>[]>(
    fc.constantFrom<Resilience>(
      { retries: { attempts: INT32_MAX }, timeout: seconds(10) },
      { retries: { attempts: 1, perTryTimeout: millis(5000) }, timeout: seconds(10) },
      { retries: { attempts: 1, perTryTimeout: millis(5001) }, timeout: seconds(10) },
      { retries: { attempts: 0, perTryTimeout: seconds(1) } },
      { retries: { attempts: -1 } },
      { retries: { attempts: 2.5 } },
      { retries: { attempts: 1, perTryTimeout: millis(0.5) }, timeout: seconds(10) },
    ),
    istioDurationEdge().map((timeout) => ({ timeout, retries: { attempts: 0 } })),
    // around the largest Gateway API duration (99999h59m59s999ms)
    fc.constantFrom(Duration.hours(99_999), Duration.hours(100_000), Duration.days(4166), millis(99_999 * 3_600_000 + 3_599_999))
      .map((timeout) => ({ timeout })),
    retryOn.map((on) => ({ retries: { attempts: 2, perTryTimeout: seconds(1), retryOn: on }, timeout: seconds(5) })),
  );
  const drawn = edgy(edginess, plausible, edges);
  return router === 'serviceSelector' ? edgy(edginess, fc.constant({}), drawn) : drawn;
}

// ---------------------------------------------------------------------------------------------
// Workload options
// ---------------------------------------------------------------------------------------------

function scaling(edginess: number): fc.Arbitrary<Scaling | undefined> {
  return edgy(edginess, validScaling, fc.constantFrom(
    Scaling.fixed(0), Scaling.fixed(INT32_MAX), Scaling.fixed(INT32_MAX + 1), Scaling.fixed(1.5),
    Scaling.autoscale({ minReplicas: 0 }), Scaling.autoscale({ minReplicas: 5, maxReplicas: 3 }), Scaling.autoscale({ cpuUtilizationPercent: 0 }),
    Scaling.autoscale({ cpuUtilizationPercent: INT32_MAX + 1 }), Scaling.autoscale({ memoryUtilizationPercent: 500 }),
    Scaling.autoscale({ minReplicas: INT32_MAX, maxReplicas: INT32_MAX }), Scaling.autoscale({ minReplicas: 1, maxReplicas: INT32_MAX + 1 }),
  ));
}

function resources(edginess: number): fc.Arbitrary<kplus.ContainerResources | undefined> {
  return edgy(edginess, validResources, fc.constantFrom<kplus.ContainerResources>(
    { cpu: { request: kplus.Cpu.millis(0), limit: kplus.Cpu.millis(100) } },
    { cpu: { request: kplus.Cpu.millis(0.5), limit: kplus.Cpu.millis(100) } },
    { cpu: { request: kplus.Cpu.millis(200), limit: kplus.Cpu.millis(100) } },
    { cpu: { request: kplus.Cpu.units(1e6), limit: kplus.Cpu.units(1e6) } },
    { cpu: { request: kplus.Cpu.millis(1e21), limit: kplus.Cpu.millis(1e21) } },
    { memory: { request: Size.kibibytes(1), limit: Size.mebibytes(1) } },
    { memory: { request: Size.mebibytes(1e9), limit: Size.mebibytes(1e9) } },
    { memory: { request: Size.gibibytes(1e12), limit: Size.gibibytes(1e12) } },
    { ephemeralStorage: { request: Size.gibibytes(1), limit: Size.gibibytes(2) } },
    { ephemeralStorage: { request: Size.mebibytes(512) } },
    { ephemeralStorage: { request: Size.gibibytes(3), limit: Size.gibibytes(2) } },
  ));
}

function probes(edginess: number): fc.Arbitrary<HealthProbeOptions> {
  const wholeSeconds = (min: number, max: number) => edgy(edginess, fc.integer({ min, max }).map(seconds),
    fc.constantFrom(seconds(0), seconds(INT32_MAX), seconds(INT32_MAX + 1), millis(1500)));
  return fc.record({
    kind: edgy(edginess, fc.constantFrom(ProbeKind.EXEC, ProbeKind.HTTP_GET), fc.constant('tcp' as ProbeKind)),
    readinessPath: edgy(edginess, fc.constantFrom('/ready', '/healthz/ready', '/'), fc.constantFrom('ready', '/a b', `/${'p'.repeat(3000)}`, '/ü', '/?q=1')),
    livenessPath: edgy(edginess, fc.constantFrom('/live', '/healthz'), fc.constantFrom('live', `/${'p'.repeat(3000)}`)),
    timeout: wholeSeconds(1, 10),
    initialDelay: edgy(edginess, fc.integer({ min: 0, max: 60 }).map(seconds), fc.constantFrom(seconds(INT32_MAX + 1), seconds(INT32_MAX))),
    period: wholeSeconds(1, 30),
    failureThreshold: edgy(edginess, fc.integer({ min: 1, max: 10 }), fc.constantFrom(0, INT32_MAX, INT32_MAX + 1, 2.5)),
  }, { requiredKeys: [] }).chain((p) => (p.kind === ProbeKind.HTTP_GET && edginess === 0 ? fc.constant(p)
    // a command replaces the exec probe's wget (refused with httpGet probes)
    : maybe(edgy(edginess, fc.constantFrom<string[]>(['cat', '/tmp/ready'], ['/bin/check', '--ready']), fc.constantFrom<string[]>([], [''], ['sh', '-c', 'x'.repeat(5000)])))
      .map((readinessCommand) => (readinessCommand === undefined ? p : { ...p, readinessCommand }))));
}

/** preStopSleep, terminationGracePeriod and the sidecar lifecycle, consistent unless edgy. */
function shutdown(edginess: number): fc.Arbitrary<WorkloadOptions> {
  const consistent = fc.oneof(
    // the sidecar lifecycle left to its default (on, 15 s drain): preStop <= 15, grace > preStop + 15
    fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 60 })).map(([preStop, slack]) => ({
      preStopSleep: seconds(preStop), terminationGracePeriod: seconds(preStop + 15 + slack),
    })),
    fc.tuple(fc.integer({ min: 0, max: 30 }), fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), fc.integer({ min: 1, max: 60 }))
      .map(([preStop, extraDrain, slack]) => {
        const drain = extraDrain === undefined ? undefined : preStop + extraDrain;
        return {
          preStopSleep: seconds(preStop),
          terminationGracePeriod: seconds(preStop + (drain ?? 0) + slack),
          proxyLifecycle: drain !== undefined,
          ...(drain === undefined ? {} : { sidecarDrainDuration: seconds(drain) }),
        };
      }),
    fc.constant({}),
  );
  return edgy(edginess, consistent, fc.constantFrom<WorkloadOptions>(
    { preStopSleep: seconds(30), terminationGracePeriod: seconds(30) },
    { preStopSleep: seconds(20) },
    { terminationGracePeriod: seconds(2 ** 40) },
    { terminationGracePeriod: seconds(INT32_MAX + 100), preStopSleep: seconds(INT32_MAX), proxyLifecycle: false },
    { preStopSleep: millis(1500) },
    { proxyLifecycle: false, sidecarDrainDuration: seconds(5) },
    { proxyLifecycle: false },
  ));
}

type StringMap = { [key: string]: string };

function stringMap(edginess: number, plausible: fc.Arbitrary<StringMap>, edges: StringMap[]): fc.Arbitrary<StringMap> {
  return edgy(edginess, plausible, fc.constantFrom(...edges));
}

/** Service accounts referred to by name (imported into a scope of their own, once per name). */
const ACCOUNTS = new Chart(new App(), 'imports');
function serviceAccount(name: string): kplus.IServiceAccount {
  const id = `sa-${name}`;
  return (ACCOUNTS.node.tryFindChild(id) as kplus.IServiceAccount | undefined) ?? kplus.ServiceAccount.fromServiceAccountName(ACCOUNTS, id, name);
}

const { percent, absolute } = kplus.PercentOrAbsolute;
const envValue = (v: string) => kplus.EnvValue.fromValue(v);
type Env = { [name: string]: kplus.EnvValue };

function workloadOptions(edginess: number): fc.Arbitrary<WorkloadOptions> {
  return fc.tuple(shutdown(edginess), fc.record({
    scaling: scaling(edginess),
    resources: resources(edginess),
    probes: probes(edginess),
    maxSurge: edgy(edginess,
      fc.constantFrom(percent(25), percent(100), absolute(1), absolute(3)),
      fc.constantFrom(percent(0), percent(101), percent(12.5), absolute(0), absolute(INT32_MAX), absolute(INT32_MAX + 1), absolute(-1))),
    progressDeadline: edgy(edginess, fc.integer({ min: 30, max: 900 }).map(seconds),
      fc.constantFrom(seconds(0), seconds(INT32_MAX), seconds(INT32_MAX + 1), millis(60_500))),
    minReady: edgy(edginess, fc.integer({ min: 0, max: 20 }).map(seconds), fc.constantFrom(seconds(120), seconds(INT32_MAX), millis(500))),
    disruptionBudget: edgy(edginess,
      fc.constantFrom(DisruptionBudget.maxUnavailable(absolute(1)), DisruptionBudget.minAvailable(percent(50))),
      fc.constantFrom(DisruptionBudget.maxUnavailable(absolute(INT32_MAX)), DisruptionBudget.maxUnavailable(absolute(INT32_MAX + 1)),
        DisruptionBudget.minAvailable(percent(150)), DisruptionBudget.minAvailable(absolute(0)), DisruptionBudget.maxUnavailable(percent(0)))),
    env: edgy(edginess,
      fc.constantFrom<Env>({ LOG_LEVEL: envValue('debug') }, { FEATURE_X: envValue('true'), PORT: envValue('8080') }),
      fc.constantFrom<Env>({ 'my var': envValue('1') }, { 'a.b': envValue('1') }, { '1X': envValue('') }, { 'x=y': envValue('1') }, { '': envValue('1') },
        { é: envValue('1') }, { ['E'.repeat(300)]: envValue('v'.repeat(10_000)) })),
    labels: stringMap(edginess, fc.constantFrom<{ [key: string]: string }>({ team: 'payments' }, { 'example.com/tier': 'backend' }), [
      { team: 'p'.repeat(63) }, { team: 'p'.repeat(64) }, { 'a b': 'x' }, { app: 'other' }, { 'app.kubernetes.io/version': 'x' },
      { [`${subdomainOfLength(253)}/team`]: 'x' }, { [`${subdomainOfLength(254)}/team`]: 'x' }, { team: '' }, { team: '-x' },
    ]),
    podAnnotations: stringMap(edginess, fc.constantFrom<{ [key: string]: string }>({ 'prometheus.io/scrape': 'true' }, { 'example.com/owner': 'team-a' }), [
      { big: 'a'.repeat(200_000) }, { big: 'a'.repeat(262_000) }, { big: 'a'.repeat(300_000) }, { 'bad key': 'x' }, { 'proxy.istio.io/config': '{}' },
      { 'sidecar.istio.io/inject': 'false' },
    ]),
    imagePullPolicy: edgy(edginess, fc.constantFrom(kplus.ImagePullPolicy.ALWAYS, kplus.ImagePullPolicy.IF_NOT_PRESENT), fc.constant('Sometimes' as kplus.ImagePullPolicy)),
    securityContext: edgy(edginess,
      fc.constantFrom<kplus.ContainerSecurityContextProps>({ user: 1000, group: 3000 }, { readOnlyRootFilesystem: false },
        { capabilities: { drop: [kplus.Capability.ALL], add: [kplus.Capability.NET_BIND_SERVICE] } }),
      fc.constantFrom<kplus.ContainerSecurityContextProps>({ user: 0 }, { user: 0, ensureNonRoot: false }, { user: 1337 }, { user: INT32_MAX },
        { user: INT32_MAX + 1 }, { capabilities: { add: [kplus.Capability.SYS_ADMIN] } },
        { seccompProfile: { type: kplus.SeccompProfileType.LOCALHOST, localhostProfile: 'profiles/audit.json' } },
        { seccompProfile: { type: kplus.SeccompProfileType.LOCALHOST } }, { seccompProfile: { type: kplus.SeccompProfileType.UNCONFINED } },
        // privileged containers: refused without allowPrivilegeEscalation; with it, left out (the harness's kube-apiserver runs with
        // its default --allow-privileged=false, a cluster policy most clusters turn on, which the library cannot know)
        { privileged: true }, { group: -1 })),
    podSecurityContext: edgy(edginess, fc.constantFrom<kplus.PodSecurityContextProps>({ user: 1000, group: 2000, fsGroup: 2000 }, { fsGroup: 1000 }),
      fc.constantFrom<kplus.PodSecurityContextProps>({ fsGroup: INT32_MAX + 1 }, { user: 0 }, { user: 0, ensureNonRoot: false }, { group: INT32_MAX },
        { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] }, { fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH })),
    serviceAccount: edgy(edginess, fc.constantFrom('checkout', 'frontend.v2').map(serviceAccount),
      fc.constantFrom('Bad_Name', subdomainOfLength(253), subdomainOfLength(254), '', 'a/b').map(serviceAccount)),
    command: edgy(edginess, fc.constantFrom<string[]>(['/app/server'], ['node', 'server.js']), fc.constantFrom<string[]>([], [''], ['x'.repeat(20_000)])),
    args: edgy(edginess, fc.constantFrom<string[]>(['--port', '8080'], ['--verbose']), fc.constantFrom<string[]>([''], Array.from({ length: 500 }, (_, i) => `--a${i}`))),
  }, { requiredKeys: [] })).map(([s, rest]) => ({ ...s, ...rest }));
}

// ---------------------------------------------------------------------------------------------
// A release
// ---------------------------------------------------------------------------------------------

function image(edginess: number, app: string, version: string): fc.Arbitrary<string> {
  return edgy(edginess,
    fc.constantFrom(`registry.example.com/${app}:${version}`, `${app}:${version}`, `example/${app}@sha256:${'a'.repeat(64)}`),
    fc.constantFrom('Bad Image', `x:${'t'.repeat(129)}`, `x:${'t'.repeat(128)}`, '', `localhost:5000/${app}`, `${'r'.repeat(256)}:1`));
}

export function randomRelease(): fc.Arbitrary<RandomRelease> {
  return fc.tuple(
    fc.constantFrom<RouterKind>('istio', 'istio', 'gatewayApi', 'gatewayApi', 'gatewayApi', 'serviceSelector'),
    fc.constantFrom(0, 0, 1, 1, 4, 12),
  ).chain(([router, edginess]) => planDraw(edginess, router).chain((plan) => {
    const versions = planVersions(plan);
    return fc.record({
      router: fc.constant(router),
      gatewayApi: router === 'gatewayApi' ? gatewayApiOptions(edginess) : fc.constant(undefined),
      istio: router === 'istio' ? istioOptions(edginess, versions) : fc.constant(undefined),
      edginess: fc.constant(edginess),
      limits: edginess > 0 ? fc.constant<string[]>([]) : fc.oneof({ weight: 2, arbitrary: fc.constant<string[]>([]) },
        fc.subarray(Object.keys(LIMITS).filter((l) => LIMITS[l].routers.includes(router)), { minLength: 1, maxLength: 3 })),
      namespace: namespace(edginess),
      namespaceOn: fc.constantFrom('chart' as const, 'release' as const, 'both' as const),
      plan: fc.constant(plan),
      stagePicks: fc.array(fc.nat(), { minLength: 1, maxLength: MAX_STAGES }),
      props: appName(edginess).chain((app) => fc.record({
        app: fc.constant(app),
        port: edgy(edginess, fc.constantFrom(80, 8080, 3000, 9080), fc.constantFrom(1, 65535, 0, 65536, 15001, 15090, 8080.5)),
        portName: maybe(edgy(edginess, fc.constantFrom('http', 'http-web', 'http2', 'grpc'), fc.constantFrom('tcp', 'http-abcdefghijk', 'http-abcdefghijkl', 'HTTP', 'a--b', 'tcp-db'))),
        appProtocol: maybe(edgy(edginess, fc.constantFrom('http', 'kubernetes.io/h2c', 'http2'),
          fc.constantFrom(`example.com/${'p'.repeat(63)}`, `example.com/${'p'.repeat(64)}`, 'Bad Proto', 'tcp', 'kubernetes.io/ws'))),
        clusterDomain: maybe(edgy(edginess, fc.constantFrom('cluster.local', 'corp.example'), fc.constantFrom('Bad_Domain', subdomainOfLength(253)))),
        versions: fc.tuple(...versions.map((v) => fc.record({
          version: fc.constant(v),
          image: image(edginess, app, v),
          own: maybe(workloadOptions(edginess), 2),
        }))).chain((specs) => edgy(edginess,
          fc.constant(specs.map(({ own, ...spec }) => ({ ...spec, ...own }) as VersionSpec)),
          fc.constantFrom('drop-one', 'add-one', 'twice').map((mistake) => {
            const list = specs.map(({ own, ...spec }) => ({ ...spec, ...own }) as VersionSpec);
            return mistake === 'drop-one' ? list.slice(1) : mistake === 'twice' ? [...list, list[0]] : [...list, { version: 'unused', image: 'x:1' }];
          }))),
        defaults: router === 'serviceSelector'
          // no mesh: the sidecar lifecycle off unless drawn
          ? workloadOptions(edginess).map((o) => (o.proxyLifecycle === undefined ? { ...o, proxyLifecycle: false } : o))
          : workloadOptions(edginess),
        resilience: retries(edginess, router),
        strictMtls: router === 'serviceSelector' ? edgy(edginess, fc.constant(undefined), fc.boolean()) : maybe(fc.boolean()),
        allowedCallers: router === 'serviceSelector' ? edgy(edginess, fc.constant(undefined), allowedCallers(0)) : maybe(allowedCallers(edginess), 2),
        applyOrder: maybe(fc.constantFrom(ApplyOrder.NONE, ApplyOrder.ARGO_CD, ApplyOrder.KAPP)),
        scaleWithTraffic: maybe(fc.boolean()),
      })).map(({ resilience, ...p }) => ({ ...p, ...resilience }) as RandomRelease['props']),
    });
  })).map((release) => withBriefString(atLimits(plausibleRelease(release))));
}

const SHUTDOWN_FIELDS = ['preStopSleep', 'terminationGracePeriod', 'proxyLifecycle', 'sidecarDrainDuration'] as const;

/**
 * A plausible release (edginess 0) is written the way its options ask: shutdown timings and probes either in the defaults
 * or per version (each set is consistent, a mix of two need not be); with the Gateway API, retries with `experimentalRetries`
 * and no sidecar lifecycle with an ambient waypoint.
 */
function plausibleRelease(release: RandomRelease): RandomRelease {
  if (release.edginess > 0) {
    return release;
  }
  const without = <T extends WorkloadOptions | undefined>(o: T, fields: readonly string[]): T => (o === undefined ? o
    : Object.fromEntries(Object.entries(o).filter(([key]) => !fields.includes(key))) as T);
  const defaults = release.props.defaults;
  const shutdownInDefaults = SHUTDOWN_FIELDS.some((f) => defaults?.[f] !== undefined);
  let versions = shutdownInDefaults ? release.props.versions.map((v) => without(v, SHUTDOWN_FIELDS)) : release.props.versions;
  // probes too (an exec command of one and the httpGet kind of the other would not go together)
  versions = defaults?.probes ? versions.map((v) => without(v, ['probes'])) : versions;
  if (release.router !== 'gatewayApi') {
    return { ...release, props: { ...release.props, versions } };
  }
  const ambient = release.gatewayApi?.ambientWaypoint !== undefined;
  const sidecar = ['proxyLifecycle', 'sidecarDrainDuration'];
  versions = ambient ? versions.map((v) => without(v, sidecar)) : versions;
  const retried = (release.props.retries?.attempts ?? 3) > 0 && release.props.retries !== undefined;
  return {
    ...release,
    gatewayApi: retried ? { ...release.gatewayApi, experimentalRetries: true } : release.gatewayApi,
    props: { ...release.props, defaults: ambient ? without(defaults, sidecar) : defaults, versions },
  };
}

// ---------------------------------------------------------------------------------------------
// A plausible release taken to some limits, exactly: the API server must accept what the library accepts there
// ---------------------------------------------------------------------------------------------

type Props = RandomRelease['props'];
const ALL: RouterKind[] = ['istio', 'gatewayApi', 'serviceSelector'];
const ROUTED: RouterKind[] = ['istio', 'gatewayApi'];
/** The largest Istio duration the CRDs' CEL rules read (a Go duration), and the largest Gateway API duration. */
const ISTIO_MAX = millis(9_223_372_036_854);
const GATEWAY_MAX = millis(99_999 * 3_600_000 + 3_599_999);

function withDefaults(props: Props, defaults: WorkloadOptions, strip: readonly string[]): Props {
  const without = (o: WorkloadOptions | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([key]) => !strip.includes(key)));
  return {
    ...props,
    defaults: { ...without(props.defaults), ...defaults },
    versions: props.versions.map((v) => ({ ...without(v), version: v.version, image: v.image }) as VersionSpec),
  };
}

/** The release with its extra stage's header routes replaced by `headers` (at the same place, with its mirror). */
function withHeaders(r: RandomRelease, headers: NonNullable<RandomRelease['plan']['extra']>['headers']): RandomRelease {
  return { ...r, plan: { ...r.plan, extra: { at: r.plan.extra?.at ?? 0, mirror: r.plan.extra?.mirror, replace: true, headers } } };
}

/** How each limit changes a release. */
const LIMITS: { [name: string]: { routers: RouterKind[]; apply: (r: RandomRelease) => RandomRelease } } = {
  // 15 header routes (+ the catch-all: the HTTPRoute's 16 rules), every match type
  'header-routes': {
    routers: ROUTED,
    apply: (r) => withHeaders(r, Array.from({ length: 15 }, (_, i) => ({
      header: `x-limit-${i}`, value: `v${i}`, pick: i, ...(i % 4 === 0 ? {} : { matchType: [HeaderMatchType.EXACT, HeaderMatchType.PREFIX, HeaderMatchType.REGEX][i % 4 - 1] }),
    }))),
  },
  // a header name of 256 characters, values of 4096 as written (a PREFIX as '^<value>.*'), a regular expression of 1024
  'header-sizes': {
    routers: ROUTED,
    apply: (r) => withHeaders(r, [
      { header: `x-${'h'.repeat(254)}`, value: 'v'.repeat(4096), matchType: HeaderMatchType.EXACT, pick: 0 },
      { header: 'x-prefix', value: 'p'.repeat(4093), matchType: HeaderMatchType.PREFIX, pick: 1 },
      { header: 'x-regex', value: 'r'.repeat(1024), matchType: HeaderMatchType.REGEX, pick: 2 },
    ]),
  },
  // '<app>-<version>' of 63 characters, in a namespace of 63
  'names': {
    routers: ALL,
    apply: (r) => {
      const longest = Math.max(...planVersions(r.plan).map((v) => v.length));
      const n = 63 - 1 - longest;
      return n < 1 ? r : { ...r, namespace: NAMESPACES[3], props: { ...r.props, app: n === 1 ? 'a' : labelOfLength(n, 'app') } };
    },
  },
  // 32 parentRefs (16 Gateways, two listeners each, some in another namespace), 16 hostnames (a wildcard, one of 253 characters)
  'gateways': {
    routers: ['gatewayApi'],
    apply: (r) => ({
      ...r,
      gatewayApi: {
        ...r.gatewayApi,
        gateways: Array.from({ length: 32 }, (_, i) => Math.floor(i / 2)).map((gw, i) => ({
          name: `gw-${gw}`,
          sectionName: i % 2 ? 'https' : 'http',
          ...(gw % 3 === 0 ? { namespace: 'infra' } : {}),
        })),
        hostnames: [...Array.from({ length: 14 }, (_, i) => `h${i}.example.com`), '*.example.com', subdomainOfLength(253)],
      },
    }),
  },
  // 16 service accounts of 317 characters (a namespace of 63, a name of 253)
  'callers': {
    routers: ROUTED,
    apply: (r) => ({
      ...r,
      props: {
        ...r.props,
        allowedCallers: {
          serviceAccounts: Array.from({ length: 16 }, (_, i) => `${labelOfLength(61, 'n')}${String(i).padStart(2, '0')}/${subdomainOfLength(253)}`),
          namespaces: ['shop'],
        },
      },
    }),
  },
  // every int32 of the workload at 2147483647, the grace period (an int64) at the largest safe integer
  'int32': {
    routers: ALL,
    apply: (r) => ({
      ...r,
      props: withDefaults(r.props, {
        scaling: Scaling.autoscale({
          minReplicas: INT32_MAX, maxReplicas: INT32_MAX, cpuUtilizationPercent: INT32_MAX, memoryUtilizationPercent: INT32_MAX,
        }),
        probes: { timeout: seconds(INT32_MAX), initialDelay: seconds(INT32_MAX), period: seconds(INT32_MAX), failureThreshold: INT32_MAX },
        progressDeadline: seconds(INT32_MAX),
        minReady: seconds(INT32_MAX - 1),
        maxSurge: absolute(INT32_MAX),
        disruptionBudget: DisruptionBudget.maxUnavailable(absolute(INT32_MAX)),
        preStopSleep: seconds(0),
        terminationGracePeriod: seconds(Number.MAX_SAFE_INTEGER),
      }, ['scaling', 'probes', 'progressDeadline', 'minReady', 'maxSurge', 'disruptionBudget', ...SHUTDOWN_FIELDS]),
    }),
  },
  // the longest route timeout (and retries that fit it), the longest traffic policy durations
  'durations': {
    routers: ROUTED,
    apply: (r) => {
      if (r.router === 'gatewayApi') {
        const perTryTimeout = millis(Math.floor(GATEWAY_MAX.toMilliseconds() / 2));
        const retried = r.gatewayApi?.experimentalRetries ? { retries: { attempts: 1, perTryTimeout } } : {};
        return { ...r, props: { ...r.props, retries: undefined, timeout: GATEWAY_MAX, ...retried } };
      }
      const policy: TrafficPolicyOptions = {
        loadBalancer: LoadBalancerAlgorithm.ROUND_ROBIN,
        warmup: ISTIO_MAX,
        outlierDetection: { interval: ISTIO_MAX, baseEjectionTime: ISTIO_MAX },
        connectionPool: { idleTimeout: ISTIO_MAX },
      };
      return {
        ...r,
        props: {
          ...r.props,
          timeout: ISTIO_MAX,
          retries: { attempts: 3, perTryTimeout: millis(Math.floor(ISTIO_MAX.toMilliseconds() / 4)) },
        },
        istio: { ...r.istio, trafficPolicy: policy },
      };
    },
  },
  // pod annotations of 262144 bytes, keys and values (the sidecar lifecycle off: its annotation would count too)
  'annotations': {
    routers: ALL,
    apply: (r) => ({
      ...r,
      props: withDefaults(r.props, { proxyLifecycle: false, podAnnotations: { big: 'a'.repeat(256 * 1024 - 3) } },
        ['proxyLifecycle', 'sidecarDrainDuration', 'podAnnotations']),
    }),
  },
  // 16 versions routed at once (the HTTPRoute's 16 backendRefs)
  'many-versions': {
    routers: ROUTED,
    apply: (r) => {
      const versions = Array.from({ length: 16 }, (_, i) => `v${i + 1}`);
      return {
        ...r,
        plan: { kind: 'many', versions, ...(r.plan.extra ? { extra: r.plan.extra } : {}) },
        props: { ...r.props, versions: versions.map((version) => ({ version, image: `example/app:${version}` })) },
      };
    },
  },
};

function atLimits(release: RandomRelease): RandomRelease {
  let r = release;
  for (const limit of release.limits) {
    r = LIMITS[limit].apply(r);
  }
  // 'durations' on an ambient release: no sidecar fields (as plausibleRelease made it)
  return r === release ? r : plausibleRelease(r);
}

// ---------------------------------------------------------------------------------------------
// Building a stage
// ---------------------------------------------------------------------------------------------

export function routerOf(release: RandomRelease): TrafficRouter {
  switch (release.router) {
    case 'istio': return TrafficRouter.istio(release.istio);
    case 'gatewayApi': return TrafficRouter.gatewayApi(release.gatewayApi);
    case 'serviceSelector': return TrafficRouter.serviceSelector();
  }
}

/**
 * The objects of `stage` of `release`, as `cdk8s synth` writes them: a fresh App and a chart, the release, then
 * `synthYaml()` (which runs the constructs' validations). Throws what the library throws for a release it refuses.
 */
export function synthesizeStage(release: RandomRelease, stage: ReleaseStage): any[] {
  const app = new App();
  const chart = new Chart(app, 'x', { namespace: release.namespaceOn === 'release' ? undefined : release.namespace });
  new MeshRelease(chart, 'release', {
    ...release.props,
    namespace: release.namespaceOn === 'chart' ? undefined : release.namespace,
    router: routerOf(release),
    stage,
  });
  return YAML.parseAllDocuments(app.synthYaml()).map((d) => d.toJSON()).filter((o) => o);
}

// ---------------------------------------------------------------------------------------------
// Refusals and printing
// ---------------------------------------------------------------------------------------------

/** The shapes of the library's errors (src/_validation.ts `invalidProp`, ReleaseStage, ReleasePlan, the safety check, synth validation). */
const CLEAR_ERRORS: Array<[string, RegExp]> = [
  ['prop', /^\[[^\]\n]+\] '[^'\n]+' [\s\S]+, got [\s\S]+$/],
  ['stage', /^ReleaseStage '[^'\n]*': '[^'\n]+' [\s\S]+, got [\s\S]+$/],
  ['plan', /^ReleasePlan(\.canary)?: '[^'\n]+' [\s\S]+, got [\s\S]+$/],
  ['plan', /^ReleasePlan: stage names must be unique, got '[^']+' twice$/],
  ['unsafe', /^(\[[^\]\n]+\] stage|ReleasePlan stage) '[^'\n]+'.* is unsafe to apply \(\d+ violations?\):\n/],
  ['synth', /^Validation failed with the following errors:\n {2}\[[^\]\n]+\] /],
];

/** Messages of JavaScript itself, which a clear error never is. */
const ENGINE_ERRORS = /Cannot read propert|is not a function|is not iterable|is not defined|Maximum call stack|Invalid array length|of undefined|of null/;

/** How a refusal reads: its kind (see `CLEAR_ERRORS`) and the prop it names, or why it is not a clear error. */
export function classifyRefusal(e: unknown): { clear: true; kind: string; prop: string } | { clear: false; why: string } {
  if (!(e instanceof Error)) {
    return { clear: false, why: `threw a non-Error: ${String(e)}` };
  }
  if (e.constructor !== Error) {
    return { clear: false, why: `threw a ${e.constructor.name}: ${e.message}\n${e.stack}` };
  }
  if (e.message.trim() === '') {
    return { clear: false, why: `threw an Error without a message\n${e.stack}` };
  }
  if (ENGINE_ERRORS.test(e.message)) {
    return { clear: false, why: `threw a JavaScript error: ${e.message}\n${e.stack}` };
  }
  const match = CLEAR_ERRORS.find(([, re]) => re.test(e.message));
  if (!match) {
    return { clear: false, why: `the message names neither a construct path and prop nor a stage or plan field: ${brief(e.message)}\n${e.stack}` };
  }
  const prop = /^(?:\[[^\]\n]+\] |ReleaseStage '[^'\n]*': |ReleasePlan(?:\.canary)?: )'([^'\n]+)'/.exec(e.message)?.[1]
    ?? /\[([-a-z]+)\]/.exec(e.message.split('\n').slice(1).join('\n'))?.[1] ?? match[0];
  return { clear: true, kind: match[0], prop: prop.replace(/\[[^\]]*\]/g, '[]') };
}

const MAX_STRING = 80;
const MAX_ITEMS = 6;

/** JSON with long strings and long lists cut (their length said), Durations as seconds, constructs by name. */
export function brief(value: unknown): string {
  return JSON.stringify(value, function replacer(this: any, key: string, v: unknown) {
    const raw = this?.[key];
    if (raw instanceof Duration) {
      return `Duration(${raw.toSeconds({ integral: false })}s)`;
    }
    if (raw instanceof kplus.ServiceAccount || (typeof raw?.node?.path === 'string' && typeof raw?.name === 'string')) {
      return `${raw.constructor.name}(${brief(raw.name)})`;
    }
    if (typeof v === 'string' && v.length > MAX_STRING) {
      return `${v.slice(0, 40)}…(${v.length} chars)`;
    }
    if (Array.isArray(v) && v.length > MAX_ITEMS) {
      return [...v.slice(0, MAX_ITEMS), `…(${v.length} items)`];
    }
    return v;
  });
}

/** The release as fast-check prints it (a counterexample): `brief`. */
function withBriefString(release: RandomRelease): RandomRelease {
  Object.defineProperty(release, fc.toStringMethod, { value: () => describeRelease(release), enumerable: false });
  return release;
}

export function describeRelease(release: RandomRelease): string {
  return brief({ ...release, routerCall: routerOf(release).description });
}
