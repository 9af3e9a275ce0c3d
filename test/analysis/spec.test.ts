/**
 * A plan's analysis and pauses: the public options (CanaryMetric, AnalysisOptions, pauseBefore on every plan), what
 * ReleasePlan exposes to a driver, and the JSON the CLI reads back (analysis/_spec.ts), refused the same way.
 */
import { Duration } from 'cdk8s';
import { CanaryMetric, NoDataPolicy, ReleasePlan } from '../../src';
import { parseRolloutSpec } from '../../src/analysis/_spec';

const successRate = CanaryMetric.successRate({ min: 99 });

describe('CanaryMetric', () => {
  test('built-ins are named after what they measure', () => {
    expect(successRate.name).toBe('success-rate');
    expect(CanaryMetric.latency({ percentile: 99, max: Duration.millis(500) }).name).toBe('latency-p99');
    expect(CanaryMetric.latency({ percentile: 99.9, max: Duration.seconds(1) }).name).toBe('latency-p99-9');
    expect(CanaryMetric.prometheus({ name: 'queue-depth', query: 'vector(1)', max: 100 }).name).toBe('queue-depth');
  });

  test.each([
    [() => CanaryMetric.successRate({ min: 101 }), "CanaryMetric.successRate: 'min' must be a percentage between 0 and 100, got 101"],
    [() => CanaryMetric.successRate({ min: 99, maxBelowStable: -1 }),
      "CanaryMetric.successRate: 'maxBelowStable' must be percentage points between 0 and 100, got -1"],
    [() => CanaryMetric.latency({ percentile: 100, max: Duration.millis(500) }),
      "CanaryMetric.latency: 'percentile' must be above 0 and below 100 (e.g. 99 for the 99th percentile), got 100"],
    [() => CanaryMetric.latency({ percentile: 0, max: Duration.millis(500) }),
      "CanaryMetric.latency: 'percentile' must be above 0 and below 100 (e.g. 99 for the 99th percentile), got 0"],
    [() => CanaryMetric.latency({ percentile: 99, max: Duration.millis(0) }), "CanaryMetric.latency: 'max' must be a duration above 0, got 0ms"],
    [() => CanaryMetric.latency({ percentile: 99, max: 500 as unknown as Duration }),
      "CanaryMetric.latency: 'max' must be a Duration, e.g. Duration.millis(500), got 500"],
    [() => CanaryMetric.prometheus({ name: 'q', query: 'x' }),
      "CanaryMetric.prometheus: 'min' or max must be given: a custom metric needs at least one threshold to pass or fail, got undefined"],
    [() => CanaryMetric.prometheus({ name: 'q', query: 'x', min: 2, max: 1 }),
      "CanaryMetric.prometheus: 'min' must not be above max (1): no value could pass, got 2"],
    [() => CanaryMetric.prometheus({ name: 'q', query: 'x', max: NaN }), "CanaryMetric.prometheus: 'max' must be a finite number, got NaN"],
    [() => CanaryMetric.prometheus({ name: 'Queue Depth', query: 'x', max: 1 }),
      "CanaryMetric.prometheus: 'name' must be lowercase letters, digits and '-', at most 63 characters (it names the metric in every evaluation), got \"Queue Depth\""],
    [() => CanaryMetric.prometheus({ name: 'q', query: ' ', max: 1 }), "CanaryMetric.prometheus: 'query' must be a PromQL query returning one number, got \" \""],
    [() => CanaryMetric.prometheus({ name: 'q', query: 'max(x{w="{{ target }}"})', max: 1 }),
      "CanaryMetric.prometheus: 'query' must use only the placeholders {{ namespace }}, {{ app }}, {{ version }}, {{ workload }}, {{ interval }}; "
      + "not '{{ target }}', got \"max(x{w=\\\"{{ target }}\\\"})\""],
  ])('fails %#: %s', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('ReleasePlan analysis and pauses', () => {
  const analysis = {
    interval: Duration.minutes(1),
    count: 3,
    failureLimit: 0,
    noData: NoDataPolicy.FAIL,
    metrics: [
      CanaryMetric.successRate({ min: 99 }),
      CanaryMetric.latency({ percentile: 99, max: Duration.millis(500) }),
      CanaryMetric.prometheus({ name: 'queue-depth', query: 'max(queue_depth{namespace="{{ namespace }}",workload="{{ workload }}"})', max: 100 }),
    ],
  };

  test('the issue\'s canary: analyzes where the candidate gets traffic, compares with the stable where it gets some too, pauses before shift-100', () => {
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10, 50], analysis, pauseBefore: ['shift-100'] });
    expect(plan.analyzedStages).toEqual(['shift-10', 'shift-50', 'shift-100', 'unroute', 'drop-routable']);
    // retire deletes the stable: a roll back from there would deploy it again from nothing; drop-routable's analysis
    // was the last gate before it.
    expect(plan.analyzes('retire')).toBe(false);
    expect(plan.baselineStages).toEqual(['shift-10', 'shift-50']);
    expect(plan.pauseBefore).toEqual(['shift-100']);
    expect(plan.analyzes('deploy')).toBe(false);
    expect(plan.analyzes('shift-10')).toBe(true);
    expect(plan.pausesBefore('shift-100')).toBe(true);
    expect(plan.pausesBefore('shift-50')).toBe(false);
    expect(() => plan.analyzes('shift-99')).toThrow("ReleasePlan: unknown stage 'shift-99'");
    expect([plan.stable, plan.candidate]).toEqual(['v1', 'v2']);
  });

  test('a plan without them has none, and its stages carry nothing', () => {
    const plan = ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10] });
    expect([plan.analyzedStages, plan.baselineStages, plan.pauseBefore]).toEqual([[], [], []]);
    expect(plan.stages.map((s) => s._planRollout)).toEqual(plan.stages.map(() => undefined));
  });

  test('blueGreen: the candidate gets traffic from shift-100 on, never beside the stable; retire is not analyzed', () => {
    const plan = ReleasePlan.blueGreen({ stable: 'blue', candidate: 'green', analysis: { metrics: [successRate] }, pauseBefore: ['shift-100'] });
    expect(plan.analyzedStages).toEqual(['shift-100', 'unroute', 'drop-routable']);
    expect(plan.baselineStages).toEqual([]);
    expect(plan.pauseBefore).toEqual(['shift-100']);
  });

  test('custom: header routes and mirrors count as traffic; stable and candidate from the first and last stages; custom(stages) still works', () => {
    const stages = [
      { name: 'v1', deployed: ['v1'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'dark', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
      { name: 'mirror', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], mirror: { version: 'v2', percent: 10 } },
      { name: 'testers', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }], headerRoutes: [{ header: 'x-tester', value: '1', version: 'v2' }] },
      { name: 'switch', deployed: ['v1', 'v2'], weights: [{ version: 'v2', weight: 100 }] },
      { name: 'v2', deployed: ['v2'], weights: [{ version: 'v2', weight: 100 }] },
    ];
    expect(ReleasePlan.custom(stages).analyzedStages).toEqual([]);
    const plan = ReleasePlan.custom(stages, { analysis: { metrics: [successRate] }, pauseBefore: ['switch'] });
    expect([plan.stable, plan.candidate]).toEqual(['v1', 'v2']);
    expect(plan.analyzedStages).toEqual(['mirror', 'testers', 'switch']);
    expect(plan.baselineStages).toEqual(['mirror', 'testers']);
    expect(ReleasePlan.custom(stages, { pauseBefore: ['v2'] }).pauseBefore).toEqual(['v2']);
  });

  const canary = (options: object) => () => ReleasePlan.canary({ stable: 'v1', candidate: 'v2', weights: [10], ...options });
  test.each([
    [canary({ analysis: { ...analysis, interval: Duration.millis(500) } }),
      "ReleasePlan.canary: 'analysis.interval' must be a whole number of seconds, at least 1 second (it is also the window of every query), got 0.5s"],
    [canary({ analysis: { ...analysis, interval: Duration.millis(1500) } }),
      "ReleasePlan.canary: 'analysis.interval' must be a whole number of seconds, at least 1 second (it is also the window of every query), got 1.5s"],
    [canary({ analysis: { ...analysis, count: 0 } }),
      "ReleasePlan.canary: 'analysis.count' must be an integer >= 1 (evaluations per stage where the candidate gets traffic), got 0"],
    [canary({ analysis: { ...analysis, count: 2, failureLimit: 2 } }),
      "ReleasePlan.canary: 'analysis.failureLimit' must be an integer >= 0 and below count (2): failed evaluations tolerated per stage, one more rolls back, got 2"],
    [canary({ analysis: { ...analysis, failureLimit: -1 } }),
      "ReleasePlan.canary: 'analysis.failureLimit' must be an integer >= 0 and below count (3): failed evaluations tolerated per stage, one more rolls back, got -1"],
    [canary({ analysis: { metrics: [successRate], noData: 'skip' } }),
      "ReleasePlan.canary: 'analysis.noData' must be one of \"fail\", \"inconclusive\", \"pass\", got \"skip\""],
    [canary({ analysis: { metrics: [] } }),
      "ReleasePlan.canary: 'analysis.metrics' must list at least one metric (CanaryMetric.successRate(), .latency() or .prometheus()), got []"],
    [canary({ analysis: { metrics: [successRate, CanaryMetric.successRate({ min: 90 })] } }),
      "ReleasePlan.canary: 'analysis.metrics' must have unique names ('success-rate' is there twice; give a custom metric another name, or keep one of the two), "
      + 'got ["success-rate","success-rate"]'],
    [canary({ analysis: { metrics: [{ name: 'success-rate', type: 'success-rate', min: 99 }] } }),
      "ReleasePlan.canary: 'analysis.metrics[0]' must be made by CanaryMetric.successRate(), .latency() or .prometheus(), got {\"name\":\"success-rate\""],
    [canary({ analysis: { metrics: [successRate], interval: 60 } }), "ReleasePlan.canary: 'analysis.interval' must be a Duration, e.g. Duration.minutes(1), got 60"],
    [canary({ pauseBefore: ['shift-99'] }),
      "ReleasePlan.canary: 'pauseBefore' must name stages of the plan (stable, make-routable, deploy, shift-10, shift-100, unroute, drop-routable, retire), got \"shift-99\""],
    [canary({ pauseBefore: ['stable'] }),
      "ReleasePlan.canary: 'pauseBefore' must not name the first stage 'stable': a release starts there, there is nothing to wait before, got \"stable\""],
    [canary({ pauseBefore: ['shift-100', 'shift-100'] }),
      "ReleasePlan.canary: 'pauseBefore' must name each stage once ('shift-100' is there twice), got [\"shift-100\",\"shift-100\"]"],
    [() => ReleasePlan.blueGreen({ stable: 'v1', candidate: 'v2', pauseBefore: ['shift-10'] }),
      "ReleasePlan.blueGreen: 'pauseBefore' must name stages of the plan (stable, make-routable, deploy, shift-100, unroute, drop-routable, retire), got \"shift-10\""],
  ])('fails %#: %s', (make, message) => {
    expect(make).toThrow(message);
  });

  const abStages = [
    { name: 'a', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 50 }, { version: 'v2', weight: 50 }] },
    { name: 'b', deployed: ['v1', 'v2'], weights: [{ version: 'v1', weight: 100 }] },
  ];
  test.each([
    [() => ReleasePlan.custom(abStages, { analysis: { metrics: [successRate] } }),
      "ReleasePlan.custom: 'stable' must be given with analysis when the plan does not tell it: the stable is the version with all the traffic "
      + 'in the first stage, the candidate the one with all the traffic in the last stage, got undefined'],
    [() => ReleasePlan.custom(abStages, { analysis: { metrics: [successRate] }, stable: 'v1' }),
      "ReleasePlan.custom: 'candidate' must differ from stable ('v1'): the analysis judges the candidate, against the stable, got \"v1\""],
    [() => ReleasePlan.custom(abStages, { analysis: { metrics: [successRate] }, stable: 'v1', candidate: 'v3' }),
      "ReleasePlan.custom: 'candidate' must be a version of the plan (v1, v2), got \"v3\""],
    [() => ReleasePlan.custom([abStages[1]], { analysis: { metrics: [successRate] }, stable: 'v1', candidate: 'v2' }),
      "ReleasePlan.custom: 'analysis' needs a stage where the candidate 'v2' receives traffic while the stable 'v1' is still deployed (a roll back goes back to it); there is none in b, got [\"success-rate\"]"],
  ])('custom fails %#: %s', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('the JSON read back from YAML is refused as the options are', () => {
  const stages = ['stable', 'deploy', 'shift-10', 'shift-100'];
  const analysis = {
    stable: 'v1',
    candidate: 'v2',
    stages: ['shift-10', 'shift-100'],
    baselineStages: ['shift-10'],
    reporter: 'destination',
    interval: 60,
    count: 3,
    failureLimit: 0,
    noData: 'fail',
    metrics: [{ name: 'success-rate', type: 'success-rate', min: 99 }],
  };
  const read = (json: object) => parseRolloutSpec(JSON.stringify(json), stages, 'release shop');
  const where = 'release shop: annotation mesh-release.io/rollout:';

  test('a spec as MeshRelease writes it is read as it is', () => {
    expect(read({ version: 1, pauseBefore: ['shift-100'], analysis })).toEqual({ version: 1, pauseBefore: ['shift-100'], analysis });
  });

  test.each([
    [{ version: 2, pauseBefore: [] },
      `${where} 'version' must be 1 (this mesh-release reads version 1: synthesize the app with the same cdk8s-mesh-release version as the CLI), got 2`],
    [{ version: 1, pauseBefore: ['stable'] }, `${where} 'pauseBefore' must not name the first stage 'stable'`],
    [{ version: 1, pauseBefore: 'shift-100' }, `${where} 'pauseBefore' must be a list of stage names, got "shift-100"`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, reporter: 'source' } },
      `${where} 'analysis.reporter' must be one of "destination", "waypoint", got "source"`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, stages: ['shift-50'] } },
      `${where} 'analysis.stages' must list stages of the plan (stable, deploy, shift-10, shift-100), got ["shift-50"]`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, baselineStages: ['deploy'] } },
      `${where} 'analysis.baselineStages' must be analyzed stages (shift-10, shift-100), got "deploy"`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, interval: 0 } }, `${where} 'analysis.interval' must be a whole number of seconds`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, metrics: [{ name: 'x', type: 'prometheus', query: '{{ target }}', max: 1 }] } },
      `${where} 'analysis.metrics[0].query' must use only the placeholders`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, metrics: [{ name: 'x', type: 'apdex' }] } },
      `${where} 'analysis.metrics[0].type' must be 'success-rate', 'latency' or 'prometheus', got "apdex"`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, stable: '' } }, `${where} 'analysis.stable' must be a version: a DNS-1035 label`],
    [{ version: 1, pauseBefore: [], analysis: { ...analysis, candidate: 'v2"} or vector(100) #' } },
      `${where} 'analysis.candidate' must be a version: a DNS-1035 label (lowercase letters, digits and '-', starting with a letter), got "v2\\"} or vector(100) #"`],
  ])('fails %#: %j', (json, message) => {
    expect(() => read(json)).toThrow(message);
  });

  test('fails on text that is not JSON', () => {
    expect(() => parseRolloutSpec('{version: 1}', stages, 'release shop'))
      .toThrow(/^release shop: annotation mesh-release.io\/rollout must be JSON written by MeshRelease \(/);
  });
});
