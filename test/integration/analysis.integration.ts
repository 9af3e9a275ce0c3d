/**
 * The analysis engine against a REAL Prometheus (test/integration/_prometheus.ts): the built-in metrics' PromQL on
 * series labelled as Istio's proxies label them, custom queries with placeholders, the client on real answers
 * (several series, a refused query, +Inf, NaN, no series, an unreachable server) and a stage's loop on the real clock.
 *
 * Run it alone: npx jest --ci --testMatch '<rootDir>/test/integration/analysis.integration.ts'
 */
import { describeWithPrometheus, freePort, PrometheusServer, TrafficExporter } from './_prometheus';
import { AnalysisTarget, evaluate, evaluateMetric, formatEvaluation } from '../../src/analysis/_evaluate';
import { PrometheusClient } from '../../src/analysis/_prometheus';
import { AnalysisSpec, MetricSpec, RolloutSpec } from '../../src/analysis/_spec';
import { analyzeStage } from '../../src/analysis/_stage-analysis';

/** The evaluation window: 5 scrapes. */
const WINDOW = 5;
const SUCCESS: MetricSpec = { name: 'success-rate', type: 'success-rate', min: 99 };
const LATENCY: MetricSpec = { name: 'latency-p99', type: 'latency', percentile: 99, max: 500 };

function analysisOf(metrics: MetricSpec[], more: Partial<AnalysisSpec> = {}): AnalysisSpec {
  return {
    stable: 'v1',
    candidate: 'v2',
    stages: ['shift-10', 'shift-100'],
    baselineStages: ['shift-10'],
    reporter: 'destination',
    interval: WINDOW,
    count: 2,
    failureLimit: 0,
    noData: 'fail',
    metrics,
    ...more,
  };
}

const target = (app: string, metrics: MetricSpec[], more: Partial<AnalysisSpec> = {}): AnalysisTarget =>
  ({ namespace: 'prod', app, analysis: analysisOf(metrics, more) });

describeWithPrometheus('analysis against a real Prometheus', () => {
  const exporter = new TrafficExporter('prod');
  let prometheus: PrometheusServer;
  let client: PrometheusClient;
  const judge = (app: string, metric: MetricSpec, more: Partial<AnalysisSpec> = {}, baseline = false) =>
    evaluateMetric(client, metric, target(app, [metric], more), baseline, new Date());

  beforeAll(async () => {
    const healthy = { rps: 50, errorRate: 0, latencyMs: 20 };
    exporter.set('shop-v1', healthy);
    exporter.set('shop-v2', { rps: 20, errorRate: 0, latencyMs: 20 });
    exporter.set('bad-v1', healthy);
    exporter.set('bad-v2', { rps: 20, errorRate: 0.1, latencyMs: 800 });
    exporter.set('down-v2', { rps: 10, errorRate: 1, latencyMs: 5 });
    exporter.set('idle-v2', { rps: 0, errorRate: 0, latencyMs: 5, servedBefore: 1000 });
    exporter.set('ambient-v2', { rps: 10, errorRate: 0, latencyMs: 20, reporter: 'waypoint' });
    exporter.set('slow-v2', { rps: 10, errorRate: 0, latencyMs: 4_000_000 });
    exporter.gauge('queue_depth{namespace="prod",workload="shop-v2"}', 42);
    exporter.gauge('queue_depth{namespace="prod",workload="shop-v1"}', 7);
    const port = await exporter.start();
    prometheus = await PrometheusServer.start([`127.0.0.1:${port}`]);
    client = new PrometheusClient(prometheus.url);
    // Until a whole window of scrapes is in: the candidate's rate over the window answers, and a window later.
    const deadline = Date.now() + 30_000;
    while ((await client.query('sum(rate(istio_requests_total{destination_workload="shop-v2"}[5s]))', new Date())).kind === 'empty') {
      if (Date.now() > deadline) {
        throw new Error('Prometheus scraped nothing in 30 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await new Promise((resolve) => setTimeout(resolve, (WINDOW + 1) * 1000));
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter.stop();
  });

  test('a healthy candidate: success rate 100%, p99 in the 10-25 ms bucket', async () => {
    const success = await judge('shop', SUCCESS);
    expect(success).toMatchObject({ verdict: 'pass', value: 100 });
    const latency = await judge('shop', LATENCY);
    expect(latency.verdict).toBe('pass');
    // histogram_quantile interpolates within the bucket (10, 25]: 10 + 15 x 0.99.
    expect(latency.value).toBeCloseTo(24.85, 1);
  });

  test('a bad candidate: 90% success fails min, p99 in the 500-1000 ms bucket fails max', async () => {
    const success = await judge('bad', SUCCESS);
    expect(success.verdict).toBe('fail');
    expect(success.value).toBeCloseTo(90, 0);
    expect(success.message).toMatch(/^\d+(\.\d+)?% is below the minimum 99%$/);
    const latency = await judge('bad', LATENCY);
    expect(latency.verdict).toBe('fail');
    expect(latency.value).toBeCloseTo(995, 0);
  });

  test('judged against the stable over the same window: 90% is more than 1 point below the stable\'s 100%', async () => {
    const metric: MetricSpec = { ...SUCCESS, min: 80, maxBelowStable: 1 };
    const judged = await judge('bad', metric, {}, true);
    expect(judged).toMatchObject({ verdict: 'fail', stableValue: 100 });
    expect(judged.message).toMatch(/^\d+(\.\d+)?% is more than 1% below the stable v1's 100% \(at least 99% passes\)$/);
    expect((await judge('shop', { ...metric, min: 99 }, {}, true))).toMatchObject({ verdict: 'pass', value: 100, stableValue: 100 });
  });

  test('every request a 5xx is a success rate of 0, not "no data"', async () => {
    expect(await judge('down', SUCCESS)).toMatchObject({ verdict: 'fail', value: 0, message: '0% is below the minimum 99%' });
  });

  test('no request in the window (0/0 = NaN) and no series at all are no data, judged by noData', async () => {
    expect(await judge('idle', SUCCESS)).toMatchObject({ verdict: 'no-data', message: expect.stringContaining('NaN (0/0: no request in the window)') });
    expect(await judge('ghost', SUCCESS, { noData: 'inconclusive' })).toMatchObject({
      verdict: 'inconclusive', message: expect.stringContaining('the candidate v2 has no samples in the window (no series matched: no request in it, its metrics not scraped, or an interval under two scrape intervals)'),
    });
    expect(await judge('ghost', LATENCY, { noData: 'pass' })).toMatchObject({ verdict: 'pass' });
  });

  test('ambient mode: the waypoint\'s reports are read with reporter="waypoint", and only with it', async () => {
    expect(await judge('ambient', SUCCESS, { reporter: 'waypoint' })).toMatchObject({ verdict: 'pass', value: 100 });
    expect(await judge('ambient', SUCCESS)).toMatchObject({ verdict: 'no-data' });
  });

  test('a latency above the largest bucket is the largest finite bound (3600000 ms), not +Inf; +Inf (a division by 0) fails, said so', async () => {
    expect(await judge('slow', LATENCY)).toMatchObject({ verdict: 'fail', value: 3_600_000, message: '3600000ms is above the maximum 500ms' });
    const divided: MetricSpec = { name: 'ratio', type: 'prometheus', query: 'sum(queue_depth{workload="{{ workload }}"}) / 0', max: 1 };
    expect(await judge('shop', divided)).toMatchObject({
      verdict: 'fail', value: Infinity, message: 'Infinity is not a finite number: no threshold can judge it (a division by 0 in the query?)',
    });
  });

  test('a custom query with placeholders; several series, a refused query, a range vector are failures naming why', async () => {
    const custom = (query: string): MetricSpec => ({ name: 'queue-depth', type: 'prometheus', query, max: 100 });
    expect(await judge('shop', custom('max(queue_depth{namespace="{{ namespace }}",workload="{{ workload }}"})')))
      .toMatchObject({ verdict: 'pass', value: 42, message: '42 meets <= 100' });
    expect(await judge('shop', custom('queue_depth{namespace="{{ namespace }}"}'))).toMatchObject({
      verdict: 'fail',
      message: expect.stringMatching(/^query failed: the query returned 2 series \(.*workload="shop-v[12]".*\), not one number: aggregate them into one/),
    });
    expect(await judge('shop', custom('max(queue_depth{workload="{{ workload }}"}'))).toMatchObject({
      verdict: 'fail', message: expect.stringMatching(/^query failed: Prometheus refused the query \(HTTP 400, bad_data\): .*parse error/),
    });
    expect(await judge('shop', custom('queue_depth{workload="{{ workload }}"}[{{ interval }}]'))).toMatchObject({
      verdict: 'fail', message: expect.stringContaining('query failed: the query returned a matrix, not one number'),
    });
    expect(await judge('shop', custom('scalar(max(queue_depth{workload="{{ workload }}"})) * 2'))).toMatchObject({ verdict: 'pass', value: 84 });
  });

  test('an unreachable Prometheus fails every metric, naming the URL and the reason; checkReachable says it before a rollout starts', async () => {
    const closed = await freePort();
    const gone = new PrometheusClient(`http://127.0.0.1:${closed}`);
    const evaluation = await evaluate(gone, target('shop', [SUCCESS, LATENCY]), 'shift-100', new Date(), 1);
    expect(evaluation.verdict).toBe('fail');
    const refused = `query failed: Prometheus at http://127.0.0.1:${closed} is unreachable: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${closed})`;
    expect(evaluation.metrics.map((m) => m.message)).toEqual([refused, refused]);
    await expect(gone.checkReachable(new Date())).rejects.toThrow(`Prometheus at http://127.0.0.1:${closed} is unreachable: ECONNREFUSED`);
    await expect(client.checkReachable(new Date())).resolves.toBeUndefined();
  });

  test('a stage\'s loop on the real clock: the healthy candidate passes; the bad one rolls back at its first failure', async () => {
    const rollout = (metrics: MetricSpec[]): RolloutSpec =>
      ({ version: 1, pauseBefore: [], analysis: analysisOf(metrics, { interval: 2, count: 2 }) });
    const printed: string[] = [];
    const start = Date.now();
    const good = await analyzeStage({
      namespace: 'prod',
      app: 'shop',
      stage: 'shift-10',
      rollout: rollout([SUCCESS, LATENCY]),
      prometheus: client,
      onEvaluation: (e) => printed.push(...formatEvaluation(e)),
    });
    expect(Date.now() - start).toBeGreaterThanOrEqual(4000);
    expect(good).toMatchObject({ verdict: 'pass', failures: 0, message: '2 evaluations, 0 failed (failureLimit 0)' });
    expect(printed.filter((line) => line.startsWith('stage '))).toEqual([
      expect.stringMatching(/^stage shift-10: evaluation 1\/2 at .*: pass$/),
      expect.stringMatching(/^stage shift-10: evaluation 2\/2 at .*: pass$/),
    ]);
    const bad = await analyzeStage({ namespace: 'prod', app: 'bad', stage: 'shift-10', rollout: rollout([SUCCESS, LATENCY]), prometheus: client });
    expect(bad).toMatchObject({ verdict: 'fail', failures: 1, message: '1 failed evaluation, more than failureLimit 0 (evaluation 1/2: success-rate, latency-p99)' });
    expect(bad.evaluations).toHaveLength(1);
  }, 30_000);

  test('the error rate changes while the analysis runs: the window follows it', async () => {
    exporter.set('shop-v2', { rps: 20, errorRate: 0.5, latencyMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, (WINDOW + 2) * 1000));
    const judged = await judge('shop', SUCCESS);
    expect(judged.verdict).toBe('fail');
    expect(judged.value).toBeCloseTo(50, 0);
  }, 30_000);
});
