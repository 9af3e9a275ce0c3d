/**
 * One evaluation's verdicts (analysis/_evaluate.ts) and a stage's evaluation loop with a fake clock
 * (analysis/_stage-analysis.ts): count, interval, failureLimit, noData; the answers come from a fake querier keyed by
 * the workload a query names.
 */
import { Duration } from 'cdk8s';
import { evaluate, formatEvaluation, Querier } from '../../src/analysis/_evaluate';
import { QueryAnswer, PrometheusError } from '../../src/analysis/_prometheus';
import { AnalysisSpec, MetricSpec, NoData, RolloutSpec } from '../../src/analysis/_spec';
import { analyzeStage, Clock, SYSTEM_CLOCK } from '../../src/analysis/_stage-analysis';

const SUCCESS: MetricSpec = { name: 'success-rate', type: 'success-rate', min: 99, maxBelowStable: 1 };
const LATENCY: MetricSpec = { name: 'latency-p99', type: 'latency', percentile: 99, max: 500 };
const QUEUE: MetricSpec = { name: 'queue', type: 'prometheus', query: 'max(q{w="{{ workload }}"})', min: 1, max: 10 };

function analysisOf(metrics: MetricSpec[], more: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return {
    stable: 'v1',
    candidate: 'v2',
    stages: ['shift-10', 'shift-100'],
    baselineStages: ['shift-10'],
    reporter: 'destination',
    interval: 60,
    count: 3,
    failureLimit: 0,
    noData: 'fail',
    metrics,
    ...more,
  };
}

type Answer = QueryAnswer | Error;
const value = (v: number): QueryAnswer => ({ kind: 'value', value: v });
const EMPTY: QueryAnswer = { kind: 'empty' };

/** Answers by the workload named in the query (`shop-v1`, `shop-v2`), one answer per call in turn (the last one repeats). */
function querier(answers: { [workload: string]: Answer[] }): Querier & { queries: string[] } {
  const calls = new Map<string, number>();
  const queries: string[] = [];
  return {
    queries,
    query: async (query: string) => {
      queries.push(query);
      const workload = /shop-v\d/.exec(query)![0];
      const list = answers[workload];
      const n = calls.get(workload) ?? 0;
      calls.set(workload, n + 1);
      const answer = list[Math.min(n, list.length - 1)];
      if (answer instanceof Error) {
        throw answer;
      }
      return answer;
    },
  };
}

const TIME = new Date('2025-01-01T00:00:00Z');
const target = (analysis: AnalysisSpec) => ({ namespace: 'prod', app: 'shop', analysis });
const one = async (metric: MetricSpec, answers: { [workload: string]: Answer[] }, stage = 'shift-10', noData: NoData = 'fail') =>
  (await evaluate(querier(answers), target(analysisOf([metric], { noData })), stage, TIME, 1)).metrics[0];

describe('one metric, one evaluation', () => {
  test('passes within the threshold and the margin below the stable', async () => {
    expect(await one(SUCCESS, { 'shop-v2': [value(99.2)], 'shop-v1': [value(99.9)] })).toEqual({
      metric: 'success-rate',
      value: 99.2,
      stableValue: 99.9,
      threshold: '>= 99% and >= stable - 1% (98.9%)',
      verdict: 'pass',
      message: "99.2% meets >= 99%, and the stable v1's 99.9% within the margin",
    });
  });

  test('fails more than the margin below (or above) the stable, even within min (or max)', async () => {
    const lenient: MetricSpec = { ...SUCCESS, min: 95 };
    expect(await one(lenient, { 'shop-v2': [value(98.5)], 'shop-v1': [value(99.9)] })).toEqual({
      metric: 'success-rate',
      value: 98.5,
      stableValue: 99.9,
      threshold: '>= 95% and >= stable - 1% (98.9%)',
      verdict: 'fail',
      message: "98.5% is more than 1% below the stable v1's 99.9% (at least 98.9% passes)",
    });
    const latency: MetricSpec = { ...LATENCY, maxAboveStable: 20 };
    expect(await one(latency, { 'shop-v2': [value(130)], 'shop-v1': [value(100)] })).toMatchObject({
      verdict: 'fail', threshold: '<= 500ms and <= stable + 20ms (120ms)', message: "130ms is more than 20ms above the stable v1's 100ms (at most 120ms passes)",
    });
    expect(await one(latency, { 'shop-v2': [value(110)], 'shop-v1': [value(100)] })).toMatchObject({ verdict: 'pass' });
  });

  test('the stable is not compared where it gets no traffic (shift-100): min alone judges, and the stable is not queried', async () => {
    const q = querier({ 'shop-v2': [value(99.2)], 'shop-v1': [new Error('must not be queried')] });
    const [m] = (await evaluate(q, target(analysisOf([SUCCESS])), 'shift-100', TIME, 1)).metrics;
    expect(m).toEqual({ metric: 'success-rate', value: 99.2, threshold: '>= 99%', verdict: 'pass', message: '99.2% meets >= 99%' });
    expect(q.queries).toHaveLength(1);
  });

  test('fails below min', async () => {
    expect(await one(SUCCESS, { 'shop-v2': [value(97.25)], 'shop-v1': [value(97.3)] }))
      .toMatchObject({ value: 97.25, verdict: 'fail', message: '97.25% is below the minimum 99%' });
  });

  test('latency above max fails; ±Inf fails, not a number', async () => {
    expect(await one(LATENCY, { 'shop-v2': [value(612.5)] })).toMatchObject({ verdict: 'fail', message: '612.5ms is above the maximum 500ms', threshold: '<= 500ms' });
    expect(await one(QUEUE, { 'shop-v2': [value(-Infinity)] })).toMatchObject({
      verdict: 'fail', value: -Infinity, message: '-Infinity is not a finite number: no threshold can judge it (a division by 0 in the query?)',
    });
  });

  test('a custom metric with min and max', async () => {
    expect(await one(QUEUE, { 'shop-v2': [value(0)] })).toMatchObject({ verdict: 'fail', message: '0 is below the minimum 1', threshold: '>= 1 and <= 10' });
    expect(await one(QUEUE, { 'shop-v2': [value(11)] })).toMatchObject({ verdict: 'fail', message: '11 is above the maximum 10' });
    expect(await one(QUEUE, { 'shop-v2': [value(10)] })).toMatchObject({ verdict: 'pass' });
  });

  test.each([
    ['fail', 'no-data', 'the candidate v2 has no samples in the window (no series matched: no request in it, its metrics not scraped, or an interval under two scrape intervals): counted as a failure (noData FAIL)'],
    ['inconclusive', 'inconclusive',
      'the candidate v2 has no samples in the window (no series matched: no request in it, its metrics not scraped, or an interval under two scrape intervals): inconclusive (noData INCONCLUSIVE: the stage fails if it still has no data at its last evaluation)'],
    ['pass', 'pass', 'the candidate v2 has no samples in the window (no series matched: no request in it, its metrics not scraped, or an interval under two scrape intervals): passed (noData PASS)'],
  ] as const)('no samples under noData %s: %s', async (noData, verdict, message) => {
    expect(await one(LATENCY, { 'shop-v2': [EMPTY] }, 'shift-10', noData)).toEqual({ metric: 'latency-p99', threshold: '<= 500ms', verdict, message });
  });

  test('NaN (0/0: no request in the window) is no data; so is a stable without samples where it is compared', async () => {
    expect(await one(LATENCY, { 'shop-v2': [value(NaN)] })).toMatchObject({ verdict: 'no-data', message: 'the candidate v2 has NaN (0/0: no request in the window): counted as a failure (noData FAIL)' });
    expect(await one(SUCCESS, { 'shop-v2': [value(100)], 'shop-v1': [EMPTY] })).toMatchObject({
      verdict: 'no-data',
      value: 100,
      message: 'the stable v1 has no samples in the window (no series matched: no request in it, its metrics not scraped, or an interval under two scrape intervals), so the comparison cannot be judged: counted as a failure (noData FAIL)',
    });
  });

  test.each(['pass', 'inconclusive', 'fail'] as const)('a candidate below its own min fails whatever the stable has (no data, noData %s)', async (noData) => {
    const answers = { 'shop-v2': [value(50)], 'shop-v1': [EMPTY] };
    expect(await one(SUCCESS, answers, 'shift-10', noData)).toMatchObject({ verdict: 'fail', value: 50, threshold: '>= 99% and >= stable - 1%', message: '50% is below the minimum 99%' });
  });

  test('a query error fails the metric, naming it', async () => {
    expect(await one(QUEUE, { 'shop-v2': [new PrometheusError('Prometheus at http://p:9090 is unreachable: ECONNREFUSED')] })).toEqual({
      metric: 'queue', threshold: '>= 1 and <= 10', verdict: 'fail', message: 'query failed: Prometheus at http://p:9090 is unreachable: ECONNREFUSED',
    });
  });

  test('a bug is not a failed metric: it is thrown', async () => {
    await expect(one(QUEUE, { 'shop-v2': [new TypeError('bug')] })).rejects.toThrow('bug');
  });

  test('a stage without analysis is refused', async () => {
    await expect(evaluate(querier({}), target(analysisOf([QUEUE])), 'deploy', TIME, 1))
      .rejects.toThrow("stage 'deploy' has no analysis: the candidate gets no traffic there (analyzed: shift-10, shift-100)");
  });
});

describe('an evaluation', () => {
  test('fails when a metric fails or has no data under FAIL; is inconclusive when one waits; prints one line per metric', async () => {
    const analysis = analysisOf([LATENCY, QUEUE]);
    const evaluation = await evaluate(querier({ 'shop-v2': [value(100), value(5)] }), target(analysis), 'shift-10', TIME, 2);
    expect(evaluation).toMatchObject({ stage: 'shift-10', index: 2, count: 3, time: '2025-01-01T00:00:00.000Z', verdict: 'pass' });
    expect(formatEvaluation(evaluation)).toEqual([
      'stage shift-10: evaluation 2/3 at 2025-01-01T00:00:00.000Z: pass',
      '  latency-p99: pass (<= 500ms): 100ms meets <= 500ms',
      '  queue: pass (>= 1 and <= 10): 5 meets >= 1 and <= 10',
    ]);
    const waiting = await evaluate(querier({ 'shop-v2': [EMPTY, value(5)] }), target({ ...analysis, noData: 'inconclusive' }), 'shift-10', TIME, 1);
    expect(waiting.verdict).toBe('inconclusive');
    const failing = await evaluate(querier({ 'shop-v2': [EMPTY, value(5)] }), target(analysis), 'shift-10', TIME, 1);
    expect(failing.verdict).toBe('fail');
  });
});

describe('a stage\'s loop', () => {
  /** A clock that only moves when slept on. */
  function fakeClock(): Clock & { slept: number[] } {
    let now = TIME.getTime();
    const slept: number[] = [];
    return { slept, now: () => new Date(now), sleep: async (ms) => { slept.push(ms); now += ms; } };
  }
  const rollout = (more: Partial<AnalysisSpec>): RolloutSpec => ({ version: 1, pauseBefore: [], analysis: analysisOf([LATENCY], more) });
  const run = async (more: Partial<AnalysisSpec>, answers: Answer[], stage = 'shift-10') => {
    const clock = fakeClock();
    const printed: string[] = [];
    const result = await analyzeStage({
      namespace: 'prod',
      app: 'shop',
      stage,
      rollout: rollout(more),
      prometheus: querier({ 'shop-v2': answers }),
      clock,
      onEvaluation: (e) => printed.push(`${e.index}:${e.verdict}`),
    });
    return { result, slept: clock.slept, printed };
  };

  test('count evaluations, interval apart, the first one an interval after the start, each printed as it happens', async () => {
    const { result, slept, printed } = await run({ count: 3 }, [value(100)]);
    expect(slept).toEqual([60_000, 60_000, 60_000]);
    expect(printed).toEqual(['1:pass', '2:pass', '3:pass']);
    expect(result).toMatchObject({ verdict: 'pass', failures: 0, message: '3 evaluations, 0 failed (failureLimit 0)' });
    expect(result.evaluations.map((e) => e.time)).toEqual(['2025-01-01T00:01:00.000Z', '2025-01-01T00:02:00.000Z', '2025-01-01T00:03:00.000Z']);
  });

  test('failureLimit failures are tolerated; one more stops the stage at once', async () => {
    expect((await run({ count: 4, failureLimit: 1 }, [value(900), value(100)])).result)
      .toMatchObject({ verdict: 'pass', failures: 1, message: '4 evaluations, 1 failed (failureLimit 1)' });
    const { result, printed } = await run({ count: 4, failureLimit: 1 }, [value(900), value(100), value(900), value(100)]);
    expect(printed).toEqual(['1:fail', '2:pass', '3:fail']);
    expect(result).toMatchObject({ verdict: 'fail', failures: 2, message: '2 failed evaluations, more than failureLimit 1 (evaluation 3/4: latency-p99)' });
  });

  test('noData INCONCLUSIVE waits for data, and fails the stage when its last evaluation has none', async () => {
    expect((await run({ noData: 'inconclusive' }, [EMPTY, EMPTY, value(100)])).result).toMatchObject({ verdict: 'pass', failures: 0 });
    expect((await run({ noData: 'inconclusive' }, [value(100), EMPTY])).result).toMatchObject({
      verdict: 'fail', failures: 0, message: 'still no data at the last evaluation (3/3) for latency-p99 (noData INCONCLUSIVE)',
    });
  });

  test('noData FAIL counts no data as a failure; PASS as a pass', async () => {
    expect((await run({ noData: 'fail' }, [EMPTY])).result).toMatchObject({ verdict: 'fail', failures: 1 });
    expect((await run({ noData: 'pass' }, [EMPTY])).result).toMatchObject({ verdict: 'pass', failures: 0 });
  });

  test('a stage where the candidate gets no traffic, or a plan without analysis, is skipped without waiting', async () => {
    const { result, slept } = await run({}, [value(100)], 'deploy');
    expect(slept).toEqual([]);
    expect(result).toEqual({ stage: 'deploy', verdict: 'skipped', evaluations: [], failures: 0, message: "not analyzed: the candidate v2 gets no traffic in stage 'deploy'" });
    expect(await analyzeStage({ namespace: 'prod', app: 'shop', stage: 'x', rollout: { version: 1, pauseBefore: [] }, prometheus: querier({}) }))
      .toMatchObject({ verdict: 'skipped', message: 'not analyzed: the plan has no analysis' });
  });
});

describe('the system clock', () => {
  afterEach(() => jest.useRealTimers());

  test('sleeps an interval longer than one setTimeout can wait (2^31 - 1 ms, about 24.8 days) in full', async () => {
    jest.useFakeTimers();
    let done = false;
    const slept = SYSTEM_CLOCK.sleep(Duration.days(30).toMilliseconds()).then(() => { done = true; });
    await jest.advanceTimersByTimeAsync(Duration.days(29).toMilliseconds());
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(Duration.days(1).toMilliseconds());
    await slept;
    expect(done).toBe(true);
  });
});
