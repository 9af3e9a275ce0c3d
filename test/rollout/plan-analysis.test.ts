/**
 * The hooks `rollout` and `promote` make from a plan (rollout/plan-analysis.ts): the plan's pauses, its analysis at
 * the stages it names (each evaluation reported as it happens, the last results kept), Prometheus required and
 * checked before anything is applied, a stop request ending an analysis interval at once. The answers come from a
 * fake querier; the real Prometheus: test/integration/rollout-analysis.integration.ts.
 */
import { Querier } from '../../src/analysis/_evaluate';
import { QueryAnswer } from '../../src/analysis/_prometheus';
import { AnalysisSpec, RolloutSpec } from '../../src/analysis/_spec';
import { Clock, SYSTEM_CLOCK } from '../../src/analysis/_stage-analysis';
import { CliError } from '../../src/cli/errors';
import { ReleaseRef } from '../../src/cli/release-view';
import { MetricResult, StageAnalysisContext } from '../../src/rollout/analysis';
import { analyzedAmong, connectPrometheus, lazyPrometheus, planHooks, ReleaseRollout } from '../../src/rollout/plan-analysis';
import { Stopped } from '../../src/rollout/waits';
import { closedPort } from '../cli/_cli';

const STAGES = ['stable', 'make-routable', 'deploy', 'shift-50', 'shift-100', 'unroute', 'drop-routable', 'retire'];

function release(name: string): ReleaseRef {
  return { name, namespace: 'shop', kind: 'VirtualService', plan: STAGES };
}

function analysis(more: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return {
    stable: 'v1',
    candidate: 'v2',
    stages: ['shift-50', 'shift-100', 'unroute', 'drop-routable'],
    baselineStages: ['shift-50'],
    reporter: 'destination',
    interval: 60,
    count: 2,
    failureLimit: 0,
    noData: 'fail',
    metrics: [{ name: 'success-rate', type: 'success-rate', min: 99 }],
    ...more,
  };
}

const spec = (more: Partial<AnalysisSpec> = {}, pauseBefore: string[] = []): RolloutSpec => ({ version: 1, pauseBefore, analysis: analysis(more) });

/** Success rates by workload, in turn (the last repeats). */
function querier(rates: { [workload: string]: number[] }): Querier {
  const calls = new Map<string, number>();
  return {
    query: async (query: string): Promise<QueryAnswer> => {
      const workload = /destination_workload="([^"]+)"/.exec(query)![1];
      const n = calls.get(workload) ?? 0;
      calls.set(workload, n + 1);
      const answers = rates[workload] ?? [];
      return answers.length === 0 ? { kind: 'empty' } : { kind: 'value', value: answers[Math.min(n, answers.length - 1)] };
    },
  };
}

/** A clock that does not wait. */
function fakeClock(): Clock & { slept: number[] } {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const slept: number[] = [];
  return { slept, now: () => new Date(now), sleep: async (ms) => { slept.push(ms); now += ms; } };
}

function context(stage: string, signal = new AbortController().signal): StageAnalysisContext & { reported: MetricResult[] } {
  const reported: MetricResult[] = [];
  return { stage: { name: stage } as any, releases: [], report: (r) => reported.push(r), signal, reported };
}

describe('the plan\'s hooks', () => {
  test('pauses where the plan says, for any release of the plan', () => {
    const hooks = planHooks([{ release: release('web'), spec: { version: 1, pauseBefore: ['shift-100'] } }], undefined);
    expect(STAGES.filter((s) => hooks.pausesBefore({ name: s } as any))).toEqual(['shift-100']);
    expect(planHooks([], undefined).pausesBefore({ name: 'shift-100' } as any)).toBe(false);
  });

  test('a stage the plan does not analyze passes at once, saying why', async () => {
    const rollouts: ReleaseRollout[] = [{ release: release('web'), spec: spec() }];
    const ctx = context('retire');
    expect(await planHooks(rollouts, querier({}), fakeClock()).analyzeStage(ctx))
      .toEqual({ passed: true, results: [], reason: 'not analyzed: the plan does not analyze this stage' });
    expect(await planHooks([], undefined).analyzeStage(ctx)).toEqual({ passed: true, results: [], reason: 'not analyzed: the plan has no analysis' });
  });

  test('an analyzed stage: every metric of every evaluation reported as it is judged; the last ones are the results', async () => {
    const clock = fakeClock();
    const ctx = context('shift-100');
    const verdict = await planHooks([{ release: release('web'), spec: spec() }], querier({ 'web-v2': [99.5, 100] }), clock).analyzeStage(ctx);
    expect(clock.slept).toEqual([60_000, 60_000]);
    expect(ctx.reported.map((r) => [r.stage, r.evaluation, r.count, r.metric, r.value, r.passed, r.message])).toEqual([
      ['shift-100', 1, 2, 'success-rate', 99.5, true, '99.5% meets >= 99%'],
      ['shift-100', 2, 2, 'success-rate', 100, true, '100% meets >= 99%'],
    ]);
    expect(verdict).toMatchObject({ passed: true, reason: '2 evaluations, 0 failed (failureLimit 0)', results: [ctx.reported[1]] });
    expect(verdict.results[0]).toMatchObject({ release: 'web', namespace: 'shop', threshold: '>= 99%', verdict: 'pass' });
  });

  test('a failing candidate fails the stage at its first failure past failureLimit, with the failing value', async () => {
    const ctx = context('shift-50');
    const verdict = await planHooks([{ release: release('web'), spec: spec() }], querier({ 'web-v2': [50] }), fakeClock()).analyzeStage(ctx);
    expect(verdict).toMatchObject({
      passed: false,
      reason: '1 failed evaluation, more than failureLimit 0 (evaluation 1/2: success-rate)',
      results: [{ metric: 'success-rate', value: 50, passed: false, verdict: 'fail', message: '50% is below the minimum 99%' }],
    });
  });

  test('two releases of one plan are analyzed side by side; the stage fails when one fails, naming it', async () => {
    const rollouts = [{ release: release('web'), spec: spec() }, { release: release('api'), spec: spec() }];
    const ctx = context('shift-100');
    const verdict = await planHooks(rollouts, querier({ 'web-v2': [100], 'api-v2': [100, 12] }), fakeClock()).analyzeStage(ctx);
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toBe('shop/api: 1 failed evaluation, more than failureLimit 0 (evaluation 2/2: success-rate)');
    expect(verdict.results.map((r) => [r.release, r.of, r.value])).toEqual([['web', 'shop/web', 100], ['api', 'shop/api', 12]]);
  });

  test('two releases, one failing past failureLimit: the other stops at once, the stage fails after the failing evaluation, not after count', async () => {
    const rollouts = [{ release: release('web'), spec: spec({ count: 5 }) }, { release: release('api'), spec: spec({ count: 5 }) }];
    // A clock a thousand times faster than real: each release's intervals come in time order.
    const fake = fakeClock();
    const clock: Clock & { slept: number[] } = {
      ...fake,
      sleep: async (ms) => {
        fake.slept.push(ms);
        await new Promise((r) => setTimeout(r, ms / 1000));
      },
    };
    const ctx = context('shift-100');
    const verdict = await planHooks(rollouts, querier({ 'web-v2': [100], 'api-v2': [12] }), clock).analyzeStage(ctx);
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toBe('shop/api: 1 failed evaluation, more than failureLimit 0 (evaluation 1/5: success-rate)');
    // One evaluation each, not web's five (its next interval, started before api's answer came, ends without one).
    expect(clock.slept.length).toBeLessThanOrEqual(3);
    expect(ctx.reported.map((r) => [r.release, r.evaluation, r.value]).sort()).toEqual([['api', 1, 12], ['web', 1, 100]]);
    expect(verdict.results.map((r) => [r.release, r.value])).toEqual([['web', 100], ['api', 12]]);
  });

  test('two releases on the real clock: the one failing ends the other\'s interval at once', async () => {
    const rollouts = [
      { release: release('web'), spec: spec({ interval: 3600, count: 3 }) },
      { release: release('api'), spec: spec({ interval: 0.05, count: 3 }) },
    ];
    const started = Date.now();
    const verdict = await planHooks(rollouts, querier({ 'web-v2': [100], 'api-v2': [12] }), SYSTEM_CLOCK).analyzeStage(context('shift-100'));
    expect(verdict).toMatchObject({ passed: false, reason: 'shop/api: 1 failed evaluation, more than failureLimit 0 (evaluation 1/3: success-rate)' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a stop request ends the wait for the next evaluation at once (Ctrl-C during an interval)', async () => {
    const controller = new AbortController();
    const hooks = planHooks([{ release: release('web'), spec: spec({ interval: 3600 }) }], querier({ 'web-v2': [100] }), SYSTEM_CLOCK);
    const started = Date.now();
    setTimeout(() => controller.abort('SIGINT received'), 50);
    await expect(hooks.analyzeStage(context('shift-50', controller.signal))).rejects.toEqual(new Stopped('SIGINT received'));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('Prometheus before anything is applied', () => {
  const rollouts: ReleaseRollout[] = [{ release: release('web'), spec: spec() }];

  test('the stages to apply that are analyzed: up to --to', () => {
    expect(analyzedAmong(rollouts, STAGES)).toEqual(['shift-50', 'shift-100', 'unroute', 'drop-routable']);
    expect(analyzedAmong(rollouts, STAGES.slice(0, 3))).toEqual([]);
    expect(analyzedAmong([{ release: release('web'), spec: { version: 1, pauseBefore: ['deploy'] } }], STAGES)).toEqual([]);
  });

  test('fails (exit 2) without --prometheus when a stage to apply is analyzed; not needed otherwise', async () => {
    await expect(connectPrometheus(undefined, ['shift-50', 'shift-100'])).rejects.toEqual(new CliError(
      'the plan analyzes stages shift-50, shift-100: pass --prometheus <url> (the Prometheus that scrapes the mesh\'s metrics, '
      + 'e.g. http://prometheus.istio-system:9090); nothing applied', 2));
    await expect(connectPrometheus(undefined, [])).resolves.toBeUndefined();
  });

  test('fails (exit 2) on a URL that is not one, and on a Prometheus that does not answer, naming it', async () => {
    await expect(connectPrometheus('prometheus:9090', [])).rejects.toThrow(
      '--prometheus prometheus:9090: the Prometheus URL must be an http(s) URL such as http://prometheus.istio-system:9090, got "prometheus:9090"; nothing applied');
    const port = await closedPort();
    const error = await connectPrometheus(`http://127.0.0.1:${port}`, ['shift-50']).catch((e) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`--prometheus http://127.0.0.1:${port}: Prometheus at http://127.0.0.1:${port} is unreachable: `
      + `ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port}); nothing applied`);
  });
});

describe('--prometheus connected once the stages to apply are known (lazyPrometheus)', () => {
  test('a URL that is not one is refused at once, before the cluster is read', () => {
    expect(() => lazyPrometheus('prometheus:9090')).toThrow(new CliError(
      '--prometheus prometheus:9090: the Prometheus URL must be an http(s) URL such as http://prometheus.istio-system:9090, got "prometheus:9090"; nothing applied', 2));
  });

  test('missing or unreachable: refused only when connect is called with analyzed stages (nothing to apply: never called)', async () => {
    const port = await closedPort();
    const missing = lazyPrometheus(undefined);
    await expect(missing.connect([])).resolves.toBeUndefined();
    await expect(missing.connect(['shift-50'])).rejects.toThrow('the plan analyzes stage shift-50: pass --prometheus <url>');
    const unreachable = lazyPrometheus(`http://127.0.0.1:${port}`);
    await expect(unreachable.connect(['shift-50'])).rejects.toThrow(`--prometheus http://127.0.0.1:${port}: Prometheus at http://127.0.0.1:${port} is unreachable`);
  });
});
