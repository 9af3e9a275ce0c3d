/**
 * Property-based tests (fast-check): random valid plans synthesize safe, schema-valid stages;
 * random invalid props fail cleanly; SafetyCheck rules hold on random raw manifests.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import {
  blueGreenRecipe, meshReleaseProps, canaryRecipe, customRecipe, invalidLabel, makePlan,
  PlanRecipe, rawStage, recipeVersions, ReleaseOptions, releaseOptions, Shutdown, world,
} from './_arbitraries';
import { runs } from './_runs';
import {
  AllowedCallers, MeshRelease, MeshReleaseProps, ReleasePlan, ReleaseStage, SafetyCheck, SafetyRule, Scaling, TrafficRouter, VersionedApp,
  WorkloadOptions,
} from '../src';
import { ResolvedRelease } from '../src/release/_desired-state';
import { readStage } from '../src/routing/_registry';
import { readOptions } from '../src/safety/_engine';
import { ManifestSchemas } from '../src/validation/schema-validation';

/** One App output directory for every chart (Testing.chart() makes a temp dir per call). */
const OUTDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-property.'));
afterAll(() => fs.rmSync(OUTDIR, { recursive: true, force: true }));

function newChart(namespace?: string): Chart {
  return new Chart(Testing.app({ outdir: OUTDIR }), 'test', { namespace });
}

/** Generous per-test timeout: the budget is numRuns (scaled by FC_RUNS_SCALE, see _runs.ts), not wall time. */
const TIMEOUT = 120_000;

// ---------------------------------------------------------------------------------------------
// 1. Random valid plans: every stage synthesizes, is schema-valid and safe after the one before
// ---------------------------------------------------------------------------------------------

const DEFAULT_SHUTDOWN: Shutdown = { preStopSleep: 10, terminationGracePeriod: 60, drain: 15 };

function synthStage(versions: string[], o: ReleaseOptions, stage: ReleaseStage): any[] {
  const chart = newChart(o.namespaceOn === 'release' ? undefined : o.namespace);
  new MeshRelease(chart, 'svc', meshReleaseProps(versions, o, stage));
  return Testing.synth(chart);
}

function ofKind(manifests: any[], kind: string): any[] {
  return manifests.filter((m) => m.kind === kind);
}

/** Seconds of `terminationDrainDuration` in the pod's proxy config annotation (0 without one). */
function drainOf(deployment: any): number | string {
  const config = deployment.spec.template.metadata.annotations?.['proxy.istio.io/config'];
  if (!config) return 0;
  const match = /^(\d+)s$/.exec(JSON.parse(config).terminationDrainDuration);
  return match ? Number(match[1]) : `unreadable ${config}`;
}

/** Seconds of the `sleep N` preStop exec hook. */
function preStopOf(deployment: any): number | string {
  const command = deployment.spec.template.spec.containers[0].lifecycle?.preStop?.exec?.command;
  return command?.length === 2 && command[0] === 'sleep' ? Number(command[1]) : `unreadable ${JSON.stringify(command)}`;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Everything a synthesized stage must satisfy, on its own and after `previous`, as a list of problems
 * (plain comparisons, one `expect` at the end: thousands of stages are checked).
 */
function stageProblems(manifests: any[], previous: any[] | undefined, stage: ReleaseStage, versions: string[], o: ReleaseOptions): unknown[] {
  const problems: unknown[] = [];
  const problem = (what: string, actual: unknown, expected?: unknown) => problems.push({ stage: stage.name, what, actual, expected });

  // ManifestSchemas validates each distinct object once (src/validation/_findings-cache.ts): consecutive stages repeat most.
  const schemaViolations = ManifestSchemas.validate(manifests);
  if (schemaViolations.length) problem('schema violations', schemaViolations);
  // Errors only: warnings (hygiene, load-dependent capacity) never refuse a stage.
  const violations = SafetyCheck.errors(SafetyCheck.check(manifests, previous));
  if (violations.length) problem(`SafetyCheck after '${stage.previous?.name ?? '(none)'}'`, SafetyCheck.format(violations));

  const services = ofKind(manifests, 'Service');
  if (services.length !== 1 || !same(services[0].spec.selector, { app: o.app })) {
    problem('one Service selecting on app only', services.map((x) => x.spec.selector), [{ app: o.app }]);
  }

  const virtualServices = ofKind(manifests, 'VirtualService');
  const http: any[] = virtualServices[0]?.spec.http ?? [];
  const catchAll = http[http.length - 1];
  if (virtualServices.length !== 1 || http.length !== stage.headerRoutes.length + 1) {
    problem('one VirtualService with the header routes and a catch-all route', virtualServices.map((v) => v.spec));
  } else if (catchAll.match !== undefined || !http.slice(0, -1).every((r) => Array.isArray(r.match) && r.match.length > 0)) {
    problem('header routes have a match, the last route has none', http);
  } else {
    const weights = catchAll.route.map((r: any) => [r.destination.subset, r.weight]);
    const total = catchAll.route.reduce((sum: number, r: any) => sum + r.weight, 0);
    if (total !== 100 || !same(weights, stage.weights.map((w) => [w.version, w.weight]))) {
      problem('catch-all weights are the stage\'s and add up to 100', weights, stage.weights);
    }
  }

  const destinationRules = ofKind(manifests, 'DestinationRule');
  const subsets = destinationRules[0]?.spec.subsets?.map((x: any) => x.name);
  if (destinationRules.length !== 1 || !same(subsets, stage.routable)) {
    problem('one DestinationRule with the stage\'s subsets', subsets, stage.routable);
  }

  const deployments = ofKind(manifests, 'Deployment');
  const names = deployments.map((d) => d.metadata.name);
  if (!same(names, stage.deployed.map((v) => `${o.app}-${v}`))) {
    problem('Deployments of the deployed versions', names, stage.deployed);
  }
  for (const deployment of deployments) {
    const version = deployment.spec.template.metadata.labels.version;
    const expected = o.shutdown.perVersion[versions.indexOf(version)] ?? o.shutdown.defaults ?? DEFAULT_SHUTDOWN;
    const grace = deployment.spec.template.spec.terminationGracePeriodSeconds;
    const preStop = preStopOf(deployment);
    const drain = drainOf(deployment);
    if (!same([grace, preStop, drain], [expected.terminationGracePeriod, expected.preStopSleep, expected.drain ?? 0])) {
      problem(`${deployment.metadata.name}: [grace, preStop, drain] as configured`, [grace, preStop, drain], expected);
    }
    if (!(typeof preStop === 'number' && typeof drain === 'number' && grace > preStop + drain)) {
      problem(`${deployment.metadata.name}: terminationGracePeriodSeconds > preStop sleep + drain`, [grace, preStop, drain]);
    }
  }
  return problems;
}

function planProperty(recipes: fc.Arbitrary<PlanRecipe>) {
  return fc.property(
    recipes.chain((recipe) => releaseOptions(recipeVersions(recipe).length).map((o) => ({ recipe, o }))),
    ({ recipe, o }) => {
      const plan = makePlan(recipe);
      const versions = recipeVersions(recipe);
      let previous: any[] | undefined;
      for (const stage of plan.stages) {
        const manifests = synthStage(versions, o, stage);
        expect(stageProblems(manifests, previous, stage, versions, o)).toEqual([]);
        previous = manifests;
      }
    },
  );
}

describe('property 1: random valid plans synthesize every stage safely', () => {
  test('ReleasePlan.canary with random versions and ascending weights', () => {
    fc.assert(planProperty(canaryRecipe), { numRuns: runs(50) });
  }, TIMEOUT);

  test('ReleasePlan.blueGreen with random versions', () => {
    fc.assert(planProperty(blueGreenRecipe), { numRuns: runs(25) });
  }, TIMEOUT);

  test('custom make-before-break plans with 2-4 versions, header routes and mirroring', () => {
    fc.assert(planProperty(customRecipe), { numRuns: runs(80) });
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------------------------
// 2. Random invalid props: a clear Error, and nothing left in the chart
// ---------------------------------------------------------------------------------------------

const PATH = 'test/svc';

/** Runs `build` on a fresh chart; returns the error it threw and what the chart synthesizes afterwards. */
function failure(build: (chart: Chart) => void): { message: string; leftover: any[] } {
  const chart = newChart();
  let error: unknown;
  try {
    build(chart);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error)) {
    throw new Error(`expected an Error, got ${error === undefined ? 'no error' : String(error)}`);
  }
  let leftover: any[];
  try {
    leftover = Testing.synth(chart);
  } catch {
    leftover = [];
  }
  return { message: error.message, leftover };
}

/** `[path] 'prop' ..., got ...`: the construct path, the prop in quotes and the value received. */
function expectClearMessage(message: string, constructPath: string, prop: string): void {
  expect(message).toMatch(new RegExp(`^${escapeRegExp(`[${constructPath}] '${prop}' `)}.*, got .+`, 's'));
}

/**
 * The message of the Error `build` throws, for properties that check thousands: `expect(fn).toThrow(re)` reads the
 * error's stack, which jest source-maps frame by frame (~0.5 s over this file). Not an Error, or nothing thrown: a
 * text no expected message matches.
 */
function thrownMessage(build: () => unknown): string {
  try {
    build();
  } catch (e) {
    return e instanceof Error ? e.message : `(threw a non-Error: ${String(e)})`;
  }
  return '(nothing thrown)';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ONE = ReleaseStage.stable('v1');
const ONE_VERSION = [{ version: 'v1', image: 'registry.example.com/app:1' }];

const badPort: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ max: 0, min: -100_000 }),
  fc.integer({ min: 65536, max: 10_000_000 }),
  fc.double({ min: 1, max: 65535, noNaN: true }).filter((n) => !Number.isInteger(n)),
  fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 80.1),
);

/** One way a MeshRelease's own props (checked before any child is made) can be wrong, with the prop it names. */
const badReleaseProps: fc.Arbitrary<{ props: Partial<MeshReleaseProps>; prop: string; why: string }> = fc.oneof(
  badPort.map((port) => ({ props: { port }, prop: 'port', why: `port ${port}` })),
  invalidLabel.map((app) => ({ props: { app }, prop: 'app', why: `app ${JSON.stringify(app)}` })),
  invalidLabel.map((version) => ({
    props: { versions: [...ONE_VERSION, { version, image: 'x:1' }] }, prop: 'versions[].version', why: `version ${JSON.stringify(version)}`,
  })),
  fc.record({
    attempts: fc.integer({ min: 1, max: 10 }),
    perTryMillis: fc.integer({ min: 1, max: 30_000 }),
    timeout: fc.integer({ min: 1, max: 60 }),
  })
    .filter((r) => r.attempts * r.perTryMillis > r.timeout * 1000)
    .map((r) => ({
      props: { timeout: Duration.seconds(r.timeout), retries: { attempts: r.attempts, perTryTimeout: Duration.millis(r.perTryMillis) } },
      prop: 'timeout',
      why: `${r.attempts} x ${r.perTryMillis}ms > ${r.timeout}s`,
    })),
);

/** One way workload options can be wrong, with the prop the error names. */
const badWorkload: fc.Arbitrary<{ options: WorkloadOptions; prop: string }> = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 1, max: 19 })).filter(([min, max]) => min > max)
    .map(([minReplicas, maxReplicas]) => ({ options: { scaling: Scaling.autoscale({ minReplicas, maxReplicas }) }, prop: 'scaling' })),
  fc.tuple(fc.integer({ min: 2, max: 8000 }), fc.integer({ min: 1, max: 7999 })).filter(([request, limit]) => limit < request)
    .map(([request, limit]) => ({
      options: { resources: { cpu: { request: kplus.Cpu.millis(request), limit: kplus.Cpu.millis(limit) } } }, prop: 'resources.cpu.limit',
    })),
  fc.tuple(fc.integer({ min: 2, max: 8192 }), fc.integer({ min: 1, max: 8191 })).filter(([request, limit]) => limit < request)
    .map(([request, limit]) => ({
      options: { resources: { memory: { request: Size.mebibytes(request), limit: Size.mebibytes(limit) } } },
      prop: 'resources.memory.limit',
    })),
  // memory that is not a whole number of mebibytes (it is emitted in Mi)
  fc.integer({ min: 1, max: 1024 * 1024 }).filter((kib) => kib % 1024 !== 0).chain((kib) => fc.constantFrom(
    { options: { resources: { memory: { request: Size.kibibytes(kib), limit: Size.gibibytes(2048) } } }, prop: 'resources.memory.request' },
    { options: { resources: { memory: { request: Size.mebibytes(1), limit: Size.kibibytes(kib + 1024) } } }, prop: 'resources.memory.limit' },
  )),
  // preStopSleep >= terminationGracePeriod - drain
  fc.record({
    grace: fc.integer({ min: 1, max: 120 }),
    drain: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    over: fc.nat({ max: 30 }),
  })
    .map(({ grace, drain, over }) => {
      const preStop = Math.max(0, grace - (drain ?? 0)) + over;
      return {
        options: {
          terminationGracePeriod: Duration.seconds(grace),
          preStopSleep: Duration.seconds(preStop),
          proxyLifecycle: drain !== undefined,
          sidecarDrainDuration: drain === undefined ? undefined : Duration.seconds(drain),
        },
        // A drain shorter than the sleep is refused first (the sidecar would exit before the sleep ends).
        prop: drain !== undefined && drain < preStop ? 'sidecarDrainDuration' : 'terminationGracePeriod',
      };
    }),
);

function meshRelease(chart: Chart, props: Partial<MeshReleaseProps>): MeshRelease {
  return new MeshRelease(chart, 'svc', { app: 'app', port: 8080, versions: ONE_VERSION, stage: ONE, ...props });
}

describe('property 2: invalid props throw a clear Error and leave nothing behind', () => {
  test('MeshRelease: bad port, app, version or retry budget', () => {
    fc.assert(fc.property(badReleaseProps, ({ props, prop }) => {
      const { message, leftover } = failure((chart) => meshRelease(chart, props));
      expectClearMessage(message, PATH, prop);
      if (typeof props.port === 'number' && Number.isFinite(props.port)) {
        expect(message).toMatch(new RegExp(`, got ${escapeRegExp(String(props.port))}$`));
      }
      expect(leftover).toEqual([]);
    }), { numRuns: runs(800) });
  });

  test('VersionedApp: bad port, app, version, scaling, resources or termination budget', () => {
    const bad = fc.oneof(
      badPort.map((port) => ({ props: { port }, prop: 'port' })),
      invalidLabel.map((app) => ({ props: { app }, prop: 'app' })),
      invalidLabel.map((version) => ({ props: { version }, prop: 'version' })),
      fc.tuple(fc.integer({ min: 1, max: 63 }), fc.integer({ min: 1, max: 63 })).filter(([a, v]) => a + 1 + v > 63)
        .map(([a, v]) => ({ props: { app: 'a'.repeat(a), version: 'v'.repeat(v) }, prop: 'app + version' })),
      badWorkload.map(({ options, prop }) => ({ props: options, prop })),
    );
    fc.assert(fc.property(bad, ({ props, prop }) => {
      const { message, leftover } = failure((chart) => new VersionedApp(chart, 'v1', { app: 'app', version: 'v1', image: 'x:1', port: 8080, ...props }));
      expectClearMessage(message, 'test/v1', prop);
      expect(leftover).toEqual([]);
    }), { numRuns: runs(800) });
  });

  test('ReleaseStage / ReleasePlan: weights that are out of range, not integers or not adding up to 100', () => {
    const badWeights = fc.uniqueArray(fc.constantFrom('v1', 'v2', 'v3'), { minLength: 1, maxLength: 3 }).chain((versions) =>
      fc.array(fc.oneof(fc.integer({ min: -200, max: 200 }), fc.double({ noNaN: false })), { minLength: versions.length, maxLength: versions.length })
        .map((weights) => versions.map((version, i) => ({ version, weight: weights[i] }))))
      .filter((ws) => ws.some((w) => !Number.isInteger(w.weight) || w.weight < 0 || w.weight > 100) || ws.reduce((s, w) => s + w.weight, 0) !== 100);
    fc.assert(fc.property(badWeights, fc.stringMatching(/^[a-z0-9]{1,10}$/), (weights, name) => {
      const deployed = weights.map((w) => w.version);
      expect(thrownMessage(() => ReleaseStage.custom({ name, deployed, weights }))).toMatch(new RegExp(`^ReleaseStage '${name}': 'weights(\\[[a-z0-9]+\\])?' `));
      expect(thrownMessage(() => ReleasePlan.custom([{ name, deployed, weights }]))).toMatch(new RegExp(`^ReleaseStage '${name}': 'weights`));
    }), { numRuns: runs(1000) });
  });

  test('ReleasePlan.canary: weights that are not ascending integers in 1..99', () => {
    const bad = fc.array(fc.oneof(fc.integer({ min: -10, max: 110 }), fc.double({ noNaN: false })), { minLength: 1, maxLength: 6 })
      .filter((ws) => !ws.every((w, i) => Number.isInteger(w) && w >= 1 && w <= 99 && (i === 0 || w > ws[i - 1])));
    fc.assert(fc.property(bad, (weights) => {
      expect(thrownMessage(() => ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights }))).toMatch(/^ReleasePlan\.canary: 'weights' must be ascending/);
    }), { numRuns: runs(500) });
  });

  // Errors raised by a VersionedApp (workload options) or after the Istio objects (allowedCallers) come out of MeshRelease
  // with a clear message...
  const badVersionedAppProps: fc.Arbitrary<{ props: Partial<MeshReleaseProps>; path: string; prop: string }> = fc.oneof(
    badWorkload.map(({ options, prop }) => ({ props: { defaults: options }, path: `${PATH}/v1`, prop })),
    badWorkload.map(({ options, prop }) => ({ props: { versions: [{ ...ONE_VERSION[0], ...options }] }, path: `${PATH}/v1`, prop })),
    // app and version are valid labels on their own, but '<app>-<version>' is too long for a Deployment name
    fc.integer({ min: 61, max: 63 }).map((n) => ({ props: { app: 'a'.repeat(n) }, path: `${PATH}/v1`, prop: 'app + version' })),
  );
  const badAllowedCallers: fc.Arbitrary<{ props: Partial<MeshReleaseProps>; path: string; prop: string }> = fc.oneof(
    fc.constantFrom<AllowedCallers>({}, { serviceAccounts: [] }, { namespaces: [] }, { serviceAccounts: [], namespaces: [] })
      .map((allowedCallers) => ({ props: { allowedCallers }, path: PATH, prop: 'allowedCallers' })),
    fc.constantFrom('no-slash', 'Shop/frontend', 'shop/', '/frontend', 'a/b/c', 'shop/front_end')
      .map((account) => ({ props: { allowedCallers: { serviceAccounts: [account] } }, path: PATH, prop: 'allowedCallers.serviceAccounts' })),
  );

  test('MeshRelease: bad workload options or allowedCallers give a clear message', () => {
    fc.assert(fc.property(fc.oneof(badVersionedAppProps, badAllowedCallers), ({ props, path: constructPath, prop }) => {
      expectClearMessage(failure((chart) => meshRelease(chart, props)).message, constructPath, prop);
    }), { numRuns: runs(500) });
  });

  test('MeshRelease: bad workload options leave nothing in the chart', () => {
    fc.assert(fc.property(badVersionedAppProps, ({ props }) => {
      expect(failure((chart) => meshRelease(chart, props)).leftover).toEqual([]);
    }), { numRuns: runs(100) });
  });

  test('MeshRelease: bad allowedCallers leave nothing in the chart', () => {
    fc.assert(fc.property(badAllowedCallers, ({ props }) => {
      expect(failure((chart) => meshRelease(chart, props)).leftover).toEqual([]);
    }), { numRuns: runs(20) });
  });

  // (Found by this property: formatValue used Duration.toSeconds(), which throws for fractional seconds; fixed in c7af543.)
  test('durations Kubernetes counts in whole seconds, and Istio in whole milliseconds, give a clear message otherwise', () => {
    const fractional = fc.integer({ min: 1, max: 300_000 }).filter((ms) => ms % 1000 !== 0);
    const cases = fc.record({
      prop: fc.constantFrom('timeout', 'preStopSleep', 'terminationGracePeriod', 'sidecarDrainDuration', 'progressDeadline', 'minReady'),
      millis: fractional,
    });
    fc.assert(fc.property(cases, ({ prop, millis }) => {
      // Istio's route timeout takes milliseconds (1500ms), not finer: half a millisecond more is refused.
      const duration = Duration.millis(prop === 'timeout' ? millis + 0.5 : millis);
      const { message } = prop === 'timeout'
        ? failure((chart) => meshRelease(chart, { timeout: duration }))
        : failure((chart) => new VersionedApp(chart, 'v1', { app: 'app', version: 'v1', image: 'x:1', port: 8080, [prop]: duration }));
      expectClearMessage(message, prop === 'timeout' ? PATH : 'test/v1', prop);
    }), { numRuns: runs(300) });
  });

  test('a retry budget that fits the timeout exactly is accepted', () => {
    // attempts are retries after the first try: attempts + 1 tries must fit.
    const exact = fc.record({ attempts: fc.integer({ min: 1, max: 10 }), timeout: fc.integer({ min: 1, max: 60 }) })
      .filter(({ attempts, timeout }) => (timeout * 1000) % (attempts + 1) === 0);
    fc.assert(fc.property(exact, ({ attempts, timeout }) => {
      const perTryTimeout = Duration.millis((timeout * 1000) / (attempts + 1));
      meshRelease(newChart(), { retries: { attempts, perTryTimeout }, timeout: Duration.seconds(timeout) });
    }), { numRuns: runs(100), examples: [[{ attempts: 5, timeout: 6 }]] });
  });

  test('perTryTimeout is written as given', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3000 }), (millis) => {
      const chart = newChart();
      meshRelease(chart, { retries: { attempts: 1, perTryTimeout: Duration.millis(millis) }, timeout: Duration.seconds(6) });
      const vs = Testing.synth(chart).find((m) => m.kind === 'VirtualService');
      expect(vs.spec.http[0].retries.perTryTimeout).toBe(millis % 1000 === 0 ? `${millis / 1000}s` : `${millis}ms`);
    }), { numRuns: runs(50), examples: [[1400]] });
  });

  test('a non-finite port is shown as received', () => {
    fc.assert(fc.property(fc.constantFrom(NaN, Infinity, -Infinity), (port) => {
      expect(failure((chart) => meshRelease(chart, { port })).message).toMatch(new RegExp(`, got ${escapeRegExp(String(port))}$`));
    }), { numRuns: runs(10) });
  });
});

// ---------------------------------------------------------------------------------------------
// 3. SafetyCheck on raw manifests
// ---------------------------------------------------------------------------------------------

/** Violations as a sorted list of strings: a set comparison that ignores their order, not their text. */
function violationSet(manifests: any[], previous: any[] | undefined): string[] {
  return SafetyCheck.check(manifests, previous).map((v) => JSON.stringify(v)).sort();
}

const stagePair = world.chain((w) => fc.tuple(fc.constant(w), rawStage(w, false), fc.option(rawStage(w, false), { nil: undefined })));

describe('property 3: SafetyCheck on raw manifests', () => {
  test('shuffling the manifests (of the stage and of the previous one) does not change the violations', () => {
    fc.assert(fc.property(stagePair, fc.nat(), fc.nat(), ([, current, previous], seedA, seedB) => {
      const expected = violationSet(current.manifests, previous?.manifests);
      const shuffledCurrent = shuffle(current.manifests, seedA);
      const shuffledPrevious = previous && shuffle(previous.manifests, seedB);
      expect(violationSet(shuffledCurrent, shuffledPrevious)).toEqual(expected);
    }), { numRuns: runs(1000) });
  });

  test('the violations do not depend on the order of the manifests (message text included)', () => {
    const deployment = (version: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `app-${version}` },
      spec: { template: { metadata: { labels: { app: 'app', version } }, spec: { containers: [{ name: 'app' }] } } },
    });
    const manifests = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app' }, spec: { selector: { app: 'app' } } },
      deployment('v1'),
      deployment('v2'),
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'app' }, spec: { host: 'app', subsets: [{ name: 'v1', labels: {} }] } },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'app' },
        spec: { hosts: ['app'], http: [{ route: [{ destination: { host: 'app', subset: 'v1' } }] }] },
      },
    ];
    fc.assert(fc.property(fc.nat(), (seed) => {
      expect(violationSet(shuffle(manifests, seed), [])).toEqual(violationSet(manifests, []));
    }), { numRuns: runs(50) });
  });

  test('removing a subset the VirtualService routes to always yields subset-defined', () => {
    const arb = world.chain((w) => fc.tuple(rawStage(w, true), fc.option(rawStage(w, true), { nil: undefined }), fc.nat(), fc.nat()));
    fc.assert(fc.property(arb, ([current, previous, appPick, destinationPick]) => {
      const app = current.apps[appPick % current.apps.length];
      const routed = [...new Set([...app.headerVersions, ...app.weighted.map((w) => w.version), ...(app.mirror ? [app.mirror] : [])])];
      const subset = routed[destinationPick % routed.length];
      const manifests = structuredClone(current.manifests);
      const dr = manifests.find((m) => m.kind === 'DestinationRule' && m.metadata.name === app.app);
      dr.spec.subsets = dr.spec.subsets.filter((s: any) => s.name !== subset);
      const violations = SafetyCheck.check(manifests, previous?.manifests);
      expect(violations.filter((v) => v.rule === SafetyRule.SUBSET_DEFINED && v.object.startsWith(`VirtualService/${app.app} `)
        && v.message.includes(`subset '${subset}' of ${app.host}`))).not.toEqual([]);
    }), { numRuns: runs(1000) });
  });

  test('dropping the catch-all route of a VirtualService with header routes always yields catch-all-route', () => {
    const arb = world.chain((w) => fc.tuple(rawStage(w, false), fc.option(rawStage(w, false), { nil: undefined }), fc.nat()))
      .filter(([current]) => current.apps.some((a) => a.headerVersions.length > 0));
    fc.assert(fc.property(arb, ([current, previous, appPick]) => {
      const withHeaders = current.apps.filter((a) => a.headerVersions.length > 0);
      const app = withHeaders[appPick % withHeaders.length];
      const manifests = structuredClone(current.manifests);
      const vs = manifests.find((m) => m.kind === 'VirtualService' && m.metadata.name === app.app);
      vs.spec.http.pop();
      expect(SafetyCheck.check(current.manifests, previous?.manifests).filter((v) => v.rule === SafetyRule.CATCH_ALL_ROUTE)).toEqual([]);
      const violations = SafetyCheck.check(manifests, previous?.manifests);
      expect(violations.filter((v) => v.rule === SafetyRule.CATCH_ALL_ROUTE && v.object === `VirtualService/${app.app} http[${vs.spec.http.length - 1}]`))
        .toHaveLength(1);
    }), { numRuns: runs(1000) });
  });
});

/** A deterministic Fisher-Yates shuffle (fast-check shrinks the seed). */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = (seed % 2147483646) + 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 48271) % 2147483647; // Park-Miller: the product stays below 2^53
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4. The desired state of a stage is what the release emits, as the safety check reads it
// ---------------------------------------------------------------------------------------------

describe('property 4: the desired state of a stage (what the transition check and ReleasePlan check) is what the release emits', () => {
  const APPLY_ORDER = /^(argocd\.argoproj\.io|kapp\.k14s\.io)\//;
  const key = (m: any) => `${m.kind}/${m.metadata?.name}`;
  /** The emitted objects the desired state spells out in full (workloads are read through the safety check's reader), without apply-order annotations. */
  const plain = (ms: any[]) => Object.fromEntries(ms.filter((m) => !['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(m.kind)).map((m) => {
    const annotations = Object.fromEntries(Object.entries(m.metadata.annotations ?? {}).filter(([k]) => !APPLY_ORDER.test(k)));
    const metadata = { ...m.metadata, annotations: Object.keys(annotations).length > 0 ? annotations : undefined };
    return [key(m), JSON.parse(JSON.stringify({ ...m, metadata }))];
  }));

  /** The router drawn, and what the props must leave out for it (a selector switch has no routes or mesh policies). */
  const routers: Array<[string, (props: MeshReleaseProps) => MeshReleaseProps]> = [
    ['istio', (props) => props],
    ['gatewayApi', (props) => ({ ...props, router: TrafficRouter.gatewayApi() })],
    ['gatewayApi ambient', (props) => ({
      ...props,
      router: TrafficRouter.gatewayApi({ ambientWaypoint: 'waypoint' }),
      defaults: { ...props.defaults, proxyLifecycle: undefined, sidecarDrainDuration: undefined },
      versions: props.versions.map((v) => ({ ...v, proxyLifecycle: undefined, sidecarDrainDuration: undefined })),
    })],
    ['serviceSelector', (props) => ({
      ...props, router: TrafficRouter.serviceSelector(), retries: undefined, timeout: undefined, strictMtls: undefined, allowedCallers: undefined,
    })],
  ];

  test.each(routers)('%s: every stage of random plans and props: equal routing objects and Service, equal workload facts', (_, withRouter) => {
    let built = 0;
    fc.assert(fc.property(
      fc.oneof(canaryRecipe, blueGreenRecipe, customRecipe)
        .chain((recipe) => releaseOptions(recipeVersions(recipe).length).map((o) => ({ recipe, o }))),
      ({ recipe, o }) => {
        const plan = makePlan(recipe);
        const versions = recipeVersions(recipe);
        for (const stage of plan.stages) {
          const chart = newChart(o.namespaceOn === 'release' ? undefined : o.namespace);
          const props = withRouter(meshReleaseProps(versions, o, stage));
          let release: MeshRelease;
          try {
            release = new MeshRelease(chart, 'svc', props);
          } catch {
            continue; // refused options: the desired state refuses them the same way (the release is built from it)
          }
          built++;
          const emitted = release.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map((x) => x.toJson());
          const desired = new ResolvedRelease(release.node.path, props, chart.namespace).desiredState(stage).manifests;
          expect(plain(desired)).toEqual(plain(emitted));
          const options = readOptions(release.namespace);
          expect(readStage(desired, options)).toEqual(readStage(emitted, options));
        }
      },
    ), { numRuns: runs(15) });
    // The property is not vacuous: most stages are built.
    expect(built).toBeGreaterThan(runs(15));
  }, TIMEOUT);
});
