/**
 * fast-check arbitraries for the property tests (test/property.test.ts): valid release plans,
 * valid and invalid MeshRelease props, and hand-written-style raw manifests for SafetyCheck.
 */
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import {
  ApplyOrder, HeaderMatchType, HeaderRoute, MeshReleaseProps, ReleaseStage, ReleaseStageOptions, ReleasePlan, Scaling, TrafficMirror, VersionSpec,
  TrafficRouter, VersionWeight, WorkloadOptions,
} from '../src';

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

const DNS_1035_LABELS = new Map<number, fc.Arbitrary<string>>();

/**
 * A DNS-1035 label of at most 1 + `middle` + 1 characters. Made once per length: building a
 * `stringMatching` arbitrary parses its regex, and `releaseOptions` is drawn inside `chain` (per run).
 */
export function dns1035Label(middle = 8): fc.Arbitrary<string> {
  let arbitrary = DNS_1035_LABELS.get(middle);
  if (!arbitrary) {
    arbitrary = fc.stringMatching(new RegExp(`^[a-z](?:[-a-z0-9]{0,${middle}}[a-z0-9])?$`));
    DNS_1035_LABELS.set(middle, arbitrary);
  }
  return arbitrary;
}

/** Version names: the usual ones (`v1`, `blue`, `rc-2`...) and random DNS-1035 labels. */
export const versionName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('v1', 'v2', 'v3', 'v10', 'blue', 'green', 'rc-2', 'canary', 'stable', 'a'),
  fc.integer({ min: 1, max: 99 }).map((n) => `v${n}`),
  dns1035Label(8),
);

export const appName: fc.Arbitrary<string> = fc.oneof(fc.constantFrom('helloworld', 'ratings', 'svc', 'a'), dns1035Label(18));

/** 2–`max` distinct versions. */
export function distinctVersions(min = 2, max = 4): fc.Arbitrary<string[]> {
  return fc.uniqueArray(versionName, { minLength: min, maxLength: max });
}

/** Strings that are NOT DNS-1035 labels, each kind of mistake tagged. */
export const invalidLabel: fc.Arbitrary<string> = fc.oneof(
  // an uppercase letter somewhere
  fc.tuple(dns1035Label(6), fc.stringMatching(/^[A-Z]$/), fc.nat()).map(([s, c, i]) => insertAt(s, c, i)),
  // leading digit
  fc.tuple(fc.stringMatching(/^[0-9]$/), dns1035Label(6)).map(([d, s]) => d + s),
  // underscore, dot, space or other character
  fc.tuple(dns1035Label(6), fc.constantFrom('_', '.', ' ', '/', ':', 'é'), fc.nat()).map(([s, c, i]) => insertAt(s, c, i, true)),
  // leading or trailing '-'
  dns1035Label(6).map((s) => `-${s}`),
  dns1035Label(6).map((s) => `${s}-`),
  // too long
  fc.integer({ min: 64, max: 100 }).map((n) => 'a'.repeat(n)),
  fc.constant(''),
);

function insertAt(s: string, c: string, i: number, inside = false): string {
  // `inside`: not at the very start, so the mistake is the character itself, not a bad first letter
  const at = inside ? 1 + (i % s.length) : i % (s.length + 1);
  return s.slice(0, at) + c + s.slice(at);
}

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

/** Strictly ascending integers in 1..99, 0–9 of them. */
export const canaryWeights: fc.Arbitrary<number[]> = fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 9 })
  .map((ws) => [...ws].sort((a, b) => a - b));

/** How to make a plan; the plan itself is made inside the property, so a constructor error is a shrinkable counterexample. */
export type PlanRecipe =
  | { readonly kind: 'canary'; readonly stable: string; readonly candidate: string; readonly weights: number[] }
  | { readonly kind: 'blue-green'; readonly stable: string; readonly candidate: string }
  | { readonly kind: 'custom'; readonly input: CustomPlanInput };

export const canaryRecipe: fc.Arbitrary<PlanRecipe> = fc.tuple(distinctVersions(2, 2), canaryWeights)
  .map(([[stable, candidate], weights]) => ({ kind: 'canary' as const, stable, candidate, weights }));

export const blueGreenRecipe: fc.Arbitrary<PlanRecipe> = distinctVersions(2, 2)
  .map(([stable, candidate]) => ({ kind: 'blue-green' as const, stable, candidate }));

/** The versions a recipe's plan uses. */
export function recipeVersions(recipe: PlanRecipe): string[] {
  return recipe.kind === 'custom' ? recipe.input.versions : [recipe.stable, recipe.candidate];
}

export function makePlan(recipe: PlanRecipe): ReleasePlan {
  switch (recipe.kind) {
    case 'canary': return ReleasePlan.canary({ stable: recipe.stable, candidate: recipe.candidate, weights: recipe.weights });
    case 'blue-green': return ReleasePlan.blueGreen({ stable: recipe.stable, candidate: recipe.candidate });
    case 'custom': return ReleasePlan.custom(customPlanStages(recipe.input));
  }
}

const headerName = fc.oneof(fc.constantFrom('x-version', 'user-agent', 'x-canary', 'cookie', 'x_user.id'),
  fc.stringMatching(/^[a-z0-9][-a-z0-9_.]{0,15}$/));

const headerMatch: fc.Arbitrary<{ matchType?: HeaderMatchType; value: string }> = fc.oneof(
  fc.record({ matchType: fc.constantFrom(undefined, HeaderMatchType.EXACT, HeaderMatchType.PREFIX), value: fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/) }),
  fc.record({
    matchType: fc.constant(HeaderMatchType.REGEX),
    value: fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{1,10}$/), fc.constantFrom('.*Android.*', '^v[0-9]+$', 'beta|canary', '.*')),
  }),
);

/** What a route stage should look like; picks are reduced modulo the versions that may be used. */
export interface RouteIntent {
  readonly kind: 'route';
  /** Versions that receive weighted traffic (pick) with a relative share (share). */
  readonly split: Array<{ pick: number; share: number }>;
  /** Versions kept in the catch-all route with weight 0. */
  readonly zeroPicks: number[];
  readonly headers: Array<{ header: string; value: string; matchType?: HeaderMatchType; pick: number }>;
  readonly mirror: { pick: number; percent?: number } | null;
}
export interface ChangeIntent {
  readonly kind: 'make-routable' | 'deploy' | 'unroute' | 'drop-routable' | 'retire';
  readonly pick: number;
}
export type Intent = RouteIntent | ChangeIntent;

const routeIntent: fc.Arbitrary<RouteIntent> = fc.record({
  kind: fc.constant('route' as const),
  split: fc.array(fc.record({ pick: fc.nat(), share: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 4 }),
  zeroPicks: fc.array(fc.nat(), { maxLength: 2 }),
  headers: fc.array(fc.record({ header: headerName, pick: fc.nat() }).chain((h) => headerMatch.map((m) => ({ ...h, ...m }))), { maxLength: 3 }),
  mirror: fc.option(fc.record({
    pick: fc.nat(),
    // whole percents, or millionths of requests (0.0001 to 100: the finest share the routers take, what Envoy mirrors)
    percent: fc.option(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 1_000_000 }).map((millionths) => millionths / 10_000)),
      { nil: undefined }),
  }), { nil: null }),
});

const changeIntent: fc.Arbitrary<ChangeIntent> = fc.record({
  kind: fc.constantFrom('make-routable' as const, 'deploy' as const, 'unroute' as const, 'drop-routable' as const, 'retire' as const),
  pick: fc.nat(),
});

export interface CustomPlanInput {
  readonly versions: string[];
  /** For each version after the first, the batch (0..) it is introduced in. */
  readonly batches: number[];
  readonly intents: Intent[];
}

export const customPlanInput: fc.Arbitrary<CustomPlanInput> = distinctVersions(2, 4).chain((versions) => fc.record({
  versions: fc.constant(versions),
  batches: fc.array(fc.nat({ max: 2 }), { minLength: versions.length - 1, maxLength: versions.length - 1 }),
  intents: fc.array(fc.oneof({ weight: 3, arbitrary: routeIntent }, { weight: 2, arbitrary: changeIntent }), { maxLength: 8 }),
}));

interface PlanState {
  deployed: string[];
  routable: string[];
  weights: VersionWeight[];
  headerRoutes: HeaderRoute[];
  mirror?: TrafficMirror;
}

function routedVersions(s: PlanState): Set<string> {
  return new Set([...s.weights.map((w) => w.version), ...s.headerRoutes.map((r) => r.version), ...(s.mirror ? [s.mirror.version] : [])]);
}

function pickFrom<T>(items: T[], pick: number): T | undefined {
  return items.length === 0 ? undefined : items[pick % items.length];
}

/** Integer weights summing to exactly 100, proportional to `shares` (all-zero shares split evenly). */
export function toPercentages(shares: number[]): number[] {
  const total = shares.reduce((a, b) => a + b, 0);
  const raw = total === 0 ? shares.map(() => 1) : shares;
  const sum = raw.reduce((a, b) => a + b, 0);
  const out = raw.map((s) => Math.floor((100 * s) / sum));
  out[0] += 100 - out.reduce((a, b) => a + b, 0);
  return out;
}

/**
 * The stages of a custom plan that follows make-before-break by construction: `stable` with the
 * first version; each batch of other versions gets a subset, then a Deployment; then the intents
 * (each mapped to a valid change of the current state, or skipped); then the last stages move all
 * traffic to the heaviest version, unroute and drop the other routable versions, and retire the others.
 */
export function customPlanStages(input: CustomPlanInput): ReleaseStageOptions[] {
  const [first, ...others] = input.versions;
  let state: PlanState = { deployed: [first], routable: [first], weights: [{ version: first, weight: 100 }], headerRoutes: [] };
  const stages: ReleaseStageOptions[] = [];
  const push = (kind: string, next: PlanState) => {
    state = next;
    stages.push({
      name: stages.length === 0 ? 'stable' : `s${stages.length}-${kind}`,
      deployed: [...next.deployed],
      routable: [...next.routable],
      weights: next.weights.map((w) => ({ ...w })),
      headerRoutes: next.headerRoutes.length ? next.headerRoutes.map((r) => ({ ...r })) : undefined,
      mirror: next.mirror && { ...next.mirror },
    });
  };
  push('stable', state);

  const batchIds = [...new Set(input.batches)].sort();
  for (const batch of batchIds) {
    const members = others.filter((_, i) => input.batches[i] === batch);
    push('make-routable', { ...state, routable: [...state.routable, ...members] });
    push('deploy', { ...state, deployed: [...state.deployed, ...members] });
  }

  for (const intent of input.intents) {
    // Versions that may receive traffic in the next stage: a subset and a Deployment now (the next stage's previous).
    const ready = state.routable.filter((v) => state.deployed.includes(v));
    const routed = routedVersions(state);
    switch (intent.kind) {
      case 'route': {
        const weights: VersionWeight[] = [];
        const chosen = intent.split.map((s) => ({ version: pickFrom(ready, s.pick)!, share: s.share }))
          .filter((c, i, all) => all.findIndex((d) => d.version === c.version) === i);
        const percentages = toPercentages(chosen.map((c) => c.share));
        chosen.forEach((c, i) => weights.push({ version: c.version, weight: percentages[i] }));
        for (const pick of intent.zeroPicks) {
          // weight 0 only needs a subset in this stage and the previous one
          const v = pickFrom(state.routable, pick)!;
          if (!weights.some((w) => w.version === v)) {
            weights.push({ version: v, weight: 0 });
          }
        }
        const headerRoutes = intent.headers
          .filter((h, i, all) => all.findIndex((o) => o.header === h.header) === i)
          .map((h) => ({ header: h.header, value: h.value, matchType: h.matchType, version: pickFrom(ready, h.pick)! }));
        const unweighted = ready.filter((v) => !weights.some((w) => w.version === v && w.weight > 0));
        const mirrorVersion = intent.mirror ? pickFrom(unweighted, intent.mirror.pick) : undefined;
        const mirror = mirrorVersion !== undefined ? { version: mirrorVersion, percent: intent.mirror!.percent } : undefined;
        push('route', { ...state, weights, headerRoutes, mirror });
        break;
      }
      case 'make-routable': {
        const v = pickFrom(input.versions.filter((x) => !state.routable.includes(x)), intent.pick);
        if (v) push('make-routable', { ...state, routable: [...state.routable, v] });
        break;
      }
      case 'deploy': {
        const v = pickFrom(input.versions.filter((x) => !state.deployed.includes(x)), intent.pick);
        if (v) push('deploy', { ...state, deployed: [...state.deployed, v] });
        break;
      }
      case 'unroute': {
        // a version with weight 0, in a header route or mirrored leaves every route
        const candidates = [...routed].filter((v) => state.weights.every((w) => w.version !== v || w.weight === 0));
        const v = pickFrom(candidates, intent.pick);
        if (v) {
          push('unroute', {
            ...state,
            weights: state.weights.filter((w) => w.version !== v),
            headerRoutes: state.headerRoutes.filter((r) => r.version !== v),
            mirror: state.mirror?.version === v ? undefined : state.mirror,
          });
        }
        break;
      }
      case 'drop-routable': {
        const v = pickFrom(state.routable.filter((x) => !routed.has(x)), intent.pick);
        if (v) push('drop-routable', { ...state, routable: state.routable.filter((x) => x !== v) });
        break;
      }
      case 'retire': {
        const v = pickFrom(state.deployed.filter((x) => !state.routable.includes(x)), intent.pick);
        if (v) push('retire', { ...state, deployed: state.deployed.filter((x) => x !== v) });
        break;
      }
    }
  }

  const heaviest = state.weights.reduce((a, b) => (b.weight > a.weight ? b : a)).version;
  push('unroute', { ...state, weights: [{ version: heaviest, weight: 100 }], headerRoutes: [], mirror: undefined });
  push('drop-routable', { ...state, routable: [heaviest] });
  push('retire', { ...state, deployed: [heaviest] });
  return stages;
}

export const customRecipe: fc.Arbitrary<PlanRecipe> = customPlanInput.map((input) => ({ kind: 'custom' as const, input }));

// ---------------------------------------------------------------------------------------------
// MeshRelease props (valid)
// ---------------------------------------------------------------------------------------------

export interface Shutdown {
  readonly preStopSleep: number;
  readonly terminationGracePeriod: number;
  /** Undefined: Istio sidecar lifecycle off. */
  readonly drain?: number;
}

/** preStopSleep <= drain (a classic sidecar outlives the sleep), preStopSleep + drain < grace, all whole seconds. */
export const shutdown: fc.Arbitrary<Shutdown> = fc.record({
  preStopSleep: fc.integer({ min: 0, max: 30 }),
  extraDrain: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  slack: fc.integer({ min: 1, max: 60 }),
}).map(({ preStopSleep, extraDrain, slack }) => {
  const drain = extraDrain === undefined ? undefined : preStopSleep + extraDrain;
  return { preStopSleep, drain, terminationGracePeriod: preStopSleep + (drain ?? 0) + slack };
});

export function shutdownOptions(s: Shutdown): WorkloadOptions {
  return {
    preStopSleep: Duration.seconds(s.preStopSleep),
    terminationGracePeriod: Duration.seconds(s.terminationGracePeriod),
    proxyLifecycle: s.drain !== undefined,
    sidecarDrainDuration: s.drain !== undefined ? Duration.seconds(s.drain) : undefined,
  };
}

export const validScaling: fc.Arbitrary<Scaling | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: 1, max: 5 }).map((n) => Scaling.fixed(n)),
  fc.record({
    minReplicas: fc.integer({ min: 1, max: 6 }),
    extra: fc.integer({ min: 0, max: 6 }),
    cpu: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    memory: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  }).map(({ minReplicas, extra, cpu, memory }) => Scaling.autoscale({
    minReplicas, maxReplicas: minReplicas + extra, cpuUtilizationPercent: cpu, memoryUtilizationPercent: memory,
  })),
);

/** Requests and limits given in pairs, limit >= request. */
export const validResources: fc.Arbitrary<kplus.ContainerResources | undefined> = fc.option(fc.record({
  cpu: fc.option(fc.tuple(fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 0, max: 4000 }))
    .map(([request, extra]) => ({ request: kplus.Cpu.millis(request), limit: kplus.Cpu.millis(request + extra) })), { nil: undefined }),
  memory: fc.option(fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 0, max: 4096 }))
    .map(([request, extra]) => ({ request: Size.mebibytes(request), limit: Size.mebibytes(request + extra) })), { nil: undefined }),
}), { nil: undefined });

export interface Resilience {
  readonly timeout?: number;
  readonly attempts?: number;
  readonly perTryMillis?: number;
}

/**
 * Retries and timeout with (attempts + 1) x perTryTimeout < timeout (each part possibly left to its default). The exact
 * boundary (attempts x perTryTimeout = timeout) is left out here: MeshRelease rejects some of those combinations
 * (floating-point error), which has its own `test.failing` property.
 */
export const resilience: fc.Arbitrary<Resilience> = fc.oneof(
  fc.constant<Resilience>({}),
  fc.integer({ min: 1, max: 60 }).chain((timeout) => fc.integer({ min: 0, max: 5 }).chain((attempts): fc.Arbitrary<Resilience> => attempts === 0
    ? fc.constant({ timeout, attempts })
    : fc.integer({ min: 1, max: Math.floor((timeout * 1000 - 1) / (attempts + 1)) }).map((perTryMillis) => ({ timeout, attempts, perTryMillis })))),
  // perTryTimeout and attempts left to their defaults (the first try + 3 retries x 2s): timeout >= 8
  fc.integer({ min: 8, max: 60 }).map((timeout): Resilience => ({ timeout })),
);

export interface ReleaseOptions {
  readonly app: string;
  readonly port: number;
  readonly namespace?: string;
  /** Where the namespace is given: on the chart, on the release, or both. */
  readonly namespaceOn: 'chart' | 'release' | 'both';
  readonly resilience: Resilience;
  /** Shutdown in the defaults, or one per version. */
  readonly shutdown: { readonly defaults?: Shutdown; readonly perVersion: Array<Shutdown | undefined> };
  readonly scaling: { readonly defaults?: Scaling; readonly perVersion: Array<Scaling | undefined> };
  readonly resources: { readonly defaults?: kplus.ContainerResources; readonly perVersion: Array<kplus.ContainerResources | undefined> };
  readonly hosts?: string[];
  readonly gateways?: string[];
  readonly strictMtls?: boolean;
  readonly applyOrder?: ApplyOrder;
  readonly scaleWithTraffic?: boolean;
  readonly allowedCallers?: { serviceAccounts?: string[]; namespaces?: string[] };
}

export function releaseOptions(versionCount: number): fc.Arbitrary<ReleaseOptions> {
  const perVersion = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: versionCount, maxLength: versionCount });
  return fc.record({
    app: appName,
    port: fc.oneof(fc.constantFrom(80, 3000, 8080, 65535, 1), fc.integer({ min: 1, max: 65535 })),
    namespace: fc.option(fc.oneof(fc.constantFrom('default', 'shop'), dns1035Label(10)), { nil: undefined }),
    namespaceOn: fc.constantFrom('chart' as const, 'release' as const, 'both' as const),
    resilience,
    shutdown: fc.oneof(
      fc.record({ defaults: fc.option(shutdown, { nil: undefined }), perVersion: fc.constant<Array<Shutdown | undefined>>([]) }),
      fc.record({ perVersion: perVersion(fc.option(shutdown.filter((s) => s.drain !== undefined), { nil: undefined })) }),
    ),
    scaling: fc.record({ defaults: validScaling, perVersion: perVersion(validScaling) }),
    resources: fc.record({ defaults: validResources, perVersion: perVersion(validResources) }),
    hosts: fc.option(fc.constantFrom(['shop.example.com'], ['short'], ['a.b'], ['*.example.com', 'mesh-host']), { nil: undefined }),
    gateways: fc.option(fc.constantFrom(['mesh'], ['istio-system/public-gateway', 'mesh']), { nil: undefined }),
    strictMtls: fc.option(fc.boolean(), { nil: undefined }),
    applyOrder: fc.option(fc.constantFrom(ApplyOrder.NONE, ApplyOrder.ARGO_CD, ApplyOrder.KAPP), { nil: undefined }),
    scaleWithTraffic: fc.option(fc.boolean(), { nil: undefined }),
    allowedCallers: fc.option(fc.record({
      serviceAccounts: fc.option(fc.constantFrom(['istio-system/istio-ingressgateway-service-account'], ['shop/frontend']), { nil: undefined }),
      namespaces: fc.constantFrom(['shop'], ['shop', 'istio-system']),
    }), { nil: undefined }),
  }, { requiredKeys: ['app', 'port', 'namespaceOn', 'resilience', 'shutdown', 'scaling', 'resources'] });
}

export function resilienceProps(r: Resilience) {
  const retries = r.attempts === undefined && r.perTryMillis === undefined ? undefined : {
    attempts: r.attempts,
    perTryTimeout: r.perTryMillis !== undefined ? Duration.millis(r.perTryMillis) : undefined,
  };
  return { timeout: r.timeout !== undefined ? Duration.seconds(r.timeout) : undefined, retries };
}

export function versionSpecs(versions: string[], o: ReleaseOptions): VersionSpec[] {
  return versions.map((version, i) => {
    const s = o.shutdown.perVersion[i];
    return {
      version,
      image: `registry.example.com/${o.app}:${version}`,
      ...(s ? shutdownOptions(s) : {}),
      scaling: o.scaling.perVersion[i],
      resources: o.resources.perVersion[i],
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Raw manifests (hand-written YAML style) for SafetyCheck
// ---------------------------------------------------------------------------------------------

/** A world: a namespace and 1–2 apps with 1–3 versions each. */
export interface World {
  readonly namespace: string;
  readonly apps: Array<{ app: string; versions: string[] }>;
}

export const world: fc.Arbitrary<World> = fc.record({
  namespace: fc.constantFrom('default', 'shop'),
  apps: fc.uniqueArray(fc.record({ app: fc.constantFrom('alpha', 'beta', 'gamma'), versions: distinctVersions(1, 3) }),
    { minLength: 1, maxLength: 2, selector: (a) => a.app }),
});

/** One of the ways a manifest may name the host of `app` in `namespace`. */
/** The forms of a host that Istio resolves to the same service: the short name, relative to the namespace, or the FQDN. */
function hostForm(app: string, namespace: string, form: number): string {
  return [app, `${app}.${namespace}.svc.cluster.local`][form % 2];
}

export interface RawApp {
  readonly app: string;
  /** Canonical FQDN of the app's Service. */
  readonly host: string;
  readonly deployed: string[];
  readonly subsets: string[];
  /** Header-route versions (one route each), in order. */
  readonly headerVersions: string[];
  /** Catch-all destinations and weights (weight undefined: left out). */
  readonly weighted: Array<{ version: string; weight?: number }>;
  readonly mirror?: string;
  readonly manifests: any[];
}

function subArray<T>(items: T[], opts: { minLength?: number } = {}): fc.Arbitrary<T[]> {
  return fc.subarray(items, { minLength: Math.min(opts.minLength ?? 0, items.length) });
}

/**
 * The manifests of one app at one stage, written by hand: a Service, Deployments, a DestinationRule and a
 * VirtualService, consistent or not (random subsets, weights, routes, hosts, grace periods). With
 * `plausible`, weights are integers summing to 100 and the Service selects on `app` only.
 */
export function rawApp(namespace: string, app: string, versions: string[], plausible: boolean): fc.Arbitrary<RawApp> {
  const ns = (omit: boolean) => (omit && namespace === 'default' ? {} : { namespace });
  return fc.record({
    deployed: subArray(versions),
    subsets: subArray(versions, { minLength: plausible ? versions.length : 0 }),
    omitNamespace: fc.boolean(),
    hostForms: fc.array(fc.nat({ max: 3 }), { minLength: 3, maxLength: 3 }),
    headerVersions: fc.array(fc.constantFrom(...versions), { maxLength: 2 }),
    weighted: fc.shuffledSubarray(versions, { minLength: 1 }).chain((vs) => fc
      .array(fc.integer({ min: 0, max: 100 }), { minLength: vs.length, maxLength: vs.length })
      .map((shares) => {
        const ws = toPercentages(shares);
        return vs.map((version, i) => ({ version, weight: ws[i] as number | undefined }));
      })),
    weightNoise: plausible
      ? fc.constant(null)
      : fc.option(fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 150 }), fc.double({ noNaN: true })), { nil: null }),
    selectVersion: plausible ? fc.constant(false) : fc.boolean(),
    // a duplicate subset name, two subsets with the same labels, or a subset selecting every version
    extraSubset: plausible ? fc.constant(undefined) : fc.option(fc.record({
      name: fc.constantFrom(...versions, 'extra'),
      labels: fc.oneof(fc.constantFrom(...versions).map((version) => ({ version })), fc.constant({})),
    }), { nil: undefined }),
    mirror: fc.option(fc.constantFrom(...versions), { nil: undefined }),
    grace: fc.option(fc.integer({ min: 0, max: 90 }), { nil: undefined }),
    preStop: fc.option(fc.oneof(
      fc.integer({ min: 0, max: 30 }).map((n) => ({ exec: { command: ['sleep', `${n}`] } })),
      fc.integer({ min: 0, max: 30 }).map((n) => ({ exec: { command: ['/bin/sh', '-c', `sleep ${n}`] } })),
      fc.integer({ min: 0, max: 30 }).map((n) => ({ sleep: { seconds: n } })),
    ), { nil: undefined }),
    drain: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    retries: fc.option(fc.record({
      attempts: fc.integer({ min: 0, max: 5 }),
      perTry: fc.integer({ min: 1, max: 5 }),
      timeout: fc.integer({ min: 1, max: 20 }),
    }), { nil: undefined }),
  }).map((r) => {
    const host = hostForm(app, namespace, 3);
    const weighted = [...r.weighted];
    if (r.weightNoise !== null) {
      weighted[0] = { ...weighted[0], weight: r.weightNoise };
    }
    const resilienceOf = r.retries && {
      retries: { attempts: r.retries.attempts, perTryTimeout: `${r.retries.perTry}s` }, timeout: `${r.retries.timeout}s`,
    };
    const destination = (version: string, form: number) => ({ host: hostForm(app, namespace, form), subset: version });
    const manifests: any[] = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: app, ...ns(r.omitNamespace) },
        spec: { selector: r.selectVersion ? { app, version: versions[0] } : { app }, ports: [{ port: 80 }] },
      },
      ...r.deployed.map((version) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `${app}-${version}`, ...ns(r.omitNamespace) },
        spec: {
          selector: { matchLabels: { app, version } },
          template: {
            metadata: {
              labels: { app, version },
              annotations: r.drain !== undefined ? { 'proxy.istio.io/config': JSON.stringify({ terminationDrainDuration: `${r.drain}s` }) } : undefined,
            },
            spec: {
              terminationGracePeriodSeconds: r.grace,
              containers: [{ name: app, image: `${app}:${version}`, lifecycle: r.preStop && { preStop: r.preStop } }],
            },
          },
        },
      })),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: app, ...ns(r.omitNamespace) },
        spec: {
          host: hostForm(app, namespace, r.hostForms[0]),
          subsets: [...r.subsets.map((version) => ({ name: version, labels: { version } })), ...(r.extraSubset ? [r.extraSubset] : [])],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: app, ...ns(r.omitNamespace) },
        spec: {
          hosts: [hostForm(app, namespace, r.hostForms[1])],
          http: [
            ...r.headerVersions.map((version, i) => ({
              name: `pin-${i}`,
              match: [{ headers: { 'x-version': { exact: version } } }],
              route: [{ destination: destination(version, r.hostForms[2]) }],
              ...resilienceOf,
            })),
            {
              name: 'weighted',
              route: weighted.map((w) => ({ destination: destination(w.version, r.hostForms[2]), weight: w.weight })),
              ...(r.mirror ? { mirror: destination(r.mirror, r.hostForms[1]), mirrorPercentage: { value: 10 } } : {}),
              ...resilienceOf,
            },
          ],
        },
      },
    ];
    return {
      app,
      host,
      deployed: r.deployed,
      subsets: r.subsets,
      headerVersions: r.headerVersions,
      weighted,
      mirror: r.mirror,
      manifests: JSON.parse(JSON.stringify(manifests)),
    };
  });
}

/** The manifests of every app of a world at one stage (plus an unrelated ConfigMap sometimes). */
export function rawStage(w: World, plausible: boolean): fc.Arbitrary<{ apps: RawApp[]; manifests: any[] }> {
  return fc.tuple(fc.tuple(...w.apps.map((a) => rawApp(w.namespace, a.app, a.versions, plausible))), fc.boolean()).map(([apps, configMap]) => ({
    apps,
    manifests: [
      ...apps.flatMap((a) => a.manifests),
      ...(configMap ? [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: 'b' } }] : []),
    ],
  }));
}

/** MeshRelease props of random release options, at `stage`. */
export function meshReleaseProps(versions: string[], o: ReleaseOptions, stage: ReleaseStage): MeshReleaseProps {
  const defaults: WorkloadOptions = {
    ...(o.shutdown.defaults ? shutdownOptions(o.shutdown.defaults) : {}),
    scaling: o.scaling.defaults,
    resources: o.resources.defaults,
  };
  return {
    app: o.app,
    port: o.port,
    namespace: o.namespaceOn === 'chart' ? undefined : o.namespace,
    versions: versionSpecs(versions, o),
    defaults,
    stage,
    ...resilienceProps(o.resilience),
    router: o.hosts || o.gateways ? TrafficRouter.istio({ hosts: o.hosts, gateways: o.gateways }) : undefined,
    strictMtls: o.strictMtls,
    applyOrder: o.applyOrder,
    scaleWithTraffic: o.scaleWithTraffic,
    allowedCallers: o.allowedCallers,
  };
}
