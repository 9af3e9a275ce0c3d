/** `termination-budget` (src/safety/rules/termination-budget.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { deployment, fixture, violation } from '../_cases';

describe(SafetyRule.TERMINATION_BUDGET, () => {
  // Drains are at least the preStop sleep in these tests, so a classic sidecar never exits early:
  // each test checks the sum only. The early exit has tests of its own below.
  const PRE_STOPS: Array<[string, any]> = [
    ["exec ['sleep', '20']", { exec: { command: ['sleep', '20'] } }],
    ["exec ['/bin/sh', '-c', 'sleep 20']", { exec: { command: ['/bin/sh', '-c', 'sleep 20'] } }],
    ["exec ['/bin/sleep', '20']", { exec: { command: ['/bin/sleep', '20'] } }],
    ['native sleep.seconds 20', { sleep: { seconds: 20 } }],
  ];
  const PROXY_CONFIGS: Array<[string, string]> = [
    ['JSON', '{"terminationDrainDuration": "20s"}'],
    ['JSON, compact, among other fields', '{"holdApplicationUntilProxyStarts":true,"terminationDrainDuration":"20s"}'],
    ['YAML', 'terminationDrainDuration: 20s\n'],
    ['YAML, quoted, among other fields', 'holdApplicationUntilProxyStarts: true\nterminationDrainDuration: "20s"\n'],
  ];
  const CASES = PRE_STOPS.flatMap(([preStopName, preStop]) =>
    PROXY_CONFIGS.map(([configName, proxyConfig]) => [preStopName, configName, preStop, proxyConfig]));

  test.each(CASES)('preStop %s + %s drain 20s needs a grace period of 40s', (_p, _c, preStop, proxyConfig) => {
    // GIVEN a 20s preStop sleep and a 20s sidecar drain
    const pod = (grace: number) => [deployment('v1', { grace, preStop, proxyConfig })];

    // WHEN checking with a grace period of 39s, then 40s
    const short = SafetyCheck.check(pod(39));
    const enough = SafetyCheck.check(pod(40));

    // THEN 39s is reported with all three numbers and the minimum, 40s is fine
    expect(short).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
      ['terminationGracePeriodSeconds 39 is shorter than preStop sleep 20s + sidecar drain 20s (terminationDrainDuration)', 'killed while still serving'],
      ['raise terminationGracePeriodSeconds to at least 40', 'or shorten the preStop sleep'])]);
    expect(enough).toEqual([]);
  });

  test('the grace period defaults to 30s', () => {
    // GIVEN no terminationGracePeriodSeconds, a 10s sleep and a 25s drain
    const pod = [deployment('v1', { preStop: { exec: { command: ['sleep', '10'] } }, proxyConfig: 'terminationDrainDuration: 25s' })];

    // WHEN / THEN Kubernetes' default of 30s is too short
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
      ['terminationGracePeriodSeconds 30 is shorter than preStop sleep 10s + sidecar drain 25s'], ['at least 35'])]);
  });

  test('the drain duration is read as a duration (1m)', () => {
    // GIVEN a 1m drain and a 10s sleep, grace 60
    const pod = [deployment('v1', { grace: 60, preStop: { sleep: { seconds: 10 } }, proxyConfig: '{"terminationDrainDuration":"1m"}' })];

    // WHEN / THEN 60 < 10 + 60
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 10s + sidecar drain 60s'], ['at least 70'])]);
  });

  test('without a proxy config the drain counts as 0', () => {
    // GIVEN a 20s sleep, no drain annotation
    const pod = (grace: number) => [deployment('v1', { grace, preStop: { exec: { command: ['sleep', '20'] } } })];

    // WHEN / THEN 19 is too short, 20 is enough
    expect(SafetyCheck.check(pod(19))).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 20s + sidecar drain 0s'], ['at least 20'])]);
    expect(SafetyCheck.check(pod(20))).toEqual([]);
  });

  test.each([
    ['sets no drain', '{"holdApplicationUntilProxyStarts":true}'],
    ['sets EXIT_ON_ZERO_ACTIVE_CONNECTIONS without MINIMUM_DRAIN_DURATION', '{"terminationDrainDuration":"60s","proxyMetadata":{"EXIT_ON_ZERO_ACTIVE_CONNECTIONS":"true"}}'],
    ['is unreadable', '{"terminationDrainDuration": '],
  ])('a proxy config that %s leaves the drain to the mesh-wide config: only the preStop sleep counts', (_name, proxyConfig) => {
    // GIVEN a 20s sleep, a proxy config that does not decide the drain, grace 20
    const pod = [deployment('v1', { grace: 20, preStop: { exec: { command: ['sleep', '20'] } }, proxyConfig })];

    // WHEN / THEN the unknown mesh-wide drain is not guessed (as for a pod without the annotation)
    expect(SafetyCheck.check(pod)).toEqual([]);
  });

  test('the longest preStop sleep of the containers counts', () => {
    // GIVEN two containers sleeping 5s and 25s, grace 30, drain 25s
    const d = deployment('v1', { grace: 30, proxyConfig: 'terminationDrainDuration: 25s' });
    d.spec.template.spec.containers = [
      { name: 'a', image: 'a', lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } },
      { name: 'b', image: 'b', lifecycle: { preStop: { sleep: { seconds: 25 } } } },
    ];

    // WHEN / THEN 30 < 25 + 25
    expect(SafetyCheck.check([d])).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 25s + sidecar drain 25s'], ['at least 50'])]);
  });

  test('a preStop hook that does not sleep counts as 0s: the sidecar drain alone must fit', () => {
    // GIVEN a preStop that runs a command without sleeping, grace 1, drain 15s
    const pod = [deployment('v1', { grace: 1, preStop: { exec: { command: ['nginx', '-s', 'quit'] } }, proxyConfig: 'terminationDrainDuration: 15s' })];

    // WHEN / THEN 1 < 0 + 15
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 0s + sidecar drain 15s'], ['at least 15'])]);
  });

  test('a preStop hook that does not sleep, with no drain, fits any grace period', () => {
    const pod = [deployment('v1', { grace: 1, preStop: { exec: { command: ['nginx', '-s', 'quit'] } } })];
    expect(SafetyCheck.check(pod)).toEqual([]);
  });

  test("a single-quoted YAML drain duration ('15s') is read", () => {
    // GIVEN proxy config `terminationDrainDuration: '15s'`, a 10s sleep, grace 20
    const pod = [deployment('v1', { grace: 20, preStop: { exec: { command: ['sleep', '10'] } }, proxyConfig: "terminationDrainDuration: '15s'\n" })];

    // WHEN / THEN 20 < 10 + 15
    expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['preStop sleep 10s + sidecar drain 15s'], ['at least 25'])]);
  });

  describe('EXIT_ON_ZERO_ACTIVE_CONNECTIONS: pilot-agent waits MINIMUM_DRAIN_DURATION, not terminationDrainDuration', () => {
    const exitOnZero = (minimum: string, termination = '5s') =>
      JSON.stringify({ terminationDrainDuration: termination, proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: minimum } });

    test('the budget counts MINIMUM_DRAIN_DURATION', () => {
      // GIVEN a 10s sleep, MINIMUM_DRAIN_DURATION 30s (terminationDrainDuration 5s is ignored), grace 35
      const pod = [deployment('v1', { grace: 35, preStop: { sleep: { seconds: 10 } }, proxyConfig: exitOnZero('30s') })];

      // WHEN / THEN 35 < 10 + 30, and the message names the setting that applies
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['terminationGracePeriodSeconds 35 is shorter than preStop sleep 10s + sidecar drain 30s (MINIMUM_DRAIN_DURATION, then until no connection is active)'],
        ['at least 40'])]);
    });

    test('a long terminationDrainDuration does not count when MINIMUM_DRAIN_DURATION applies', () => {
      // GIVEN a 10s sleep, MINIMUM_DRAIN_DURATION 10s, terminationDrainDuration 120s, grace 25
      const pod = [deployment('v1', { grace: 25, preStop: { sleep: { seconds: 10 } }, proxyConfig: exitOnZero('10s', '120s') })];

      // WHEN / THEN 25 >= 10 + 10
      expect(SafetyCheck.check(pod)).toEqual([]);
    });

    test('YAML proxy config with proxyMetadata is read', () => {
      // GIVEN the same as YAML, with an unquoted boolean
      const proxyConfig = 'terminationDrainDuration: 5s\nproxyMetadata:\n  EXIT_ON_ZERO_ACTIVE_CONNECTIONS: true\n  MINIMUM_DRAIN_DURATION: 30s\n';
      const pod = [deployment('v1', { grace: 35, preStop: { sleep: { seconds: 10 } }, proxyConfig })];

      // WHEN / THEN
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['sidecar drain 30s (MINIMUM_DRAIN_DURATION'], ['at least 40'])]);
    });

    test("VersionedApp's proxy config (both settings, equal) is read as MINIMUM_DRAIN_DURATION", () => {
      // GIVEN the annotation VersionedApp writes for sidecarDrainDuration 15s, a 10s sleep
      const proxyConfig = JSON.stringify({
        holdApplicationUntilProxyStarts: true,
        terminationDrainDuration: '15s',
        proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '15s' },
      });
      const pod = (grace: number) => [deployment('v1', { grace, preStop: { sleep: { seconds: 10 } }, proxyConfig })];

      // WHEN / THEN 24 is too short, 25 fits
      expect(SafetyCheck.check(pod(24))).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['sidecar drain 15s (MINIMUM_DRAIN_DURATION'], ['at least 25'])]);
      expect(SafetyCheck.check(pod(25))).toEqual([]);
    });
  });

  describe('native sidecar (sidecar.istio.io/nativeSidecar: "true"): it drains after the app container stopped', () => {
    const NATIVE = { 'sidecar.istio.io/nativeSidecar': 'true' };

    test('only the preStop sleep counts', () => {
      // GIVEN a 20s sleep and a 30s drain on a native sidecar
      const pod = (grace: number) => [deployment('v1', { grace, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 30s', annotations: NATIVE })];

      // WHEN / THEN 19 is too short (the message says why the drain is left out), 20 fits
      expect(SafetyCheck.check(pod(19))).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['terminationGracePeriodSeconds 19 is shorter than preStop sleep 20s (native sidecar: it drains when the app has stopped)'], ['at least 20'])]);
      expect(SafetyCheck.check(pod(20))).toEqual([]);
    });

    test('a drain shorter than the preStop sleep is fine: the sidecar outlives the app', () => {
      const pod = [deployment('v1', { grace: 30, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 5s', annotations: NATIVE })];
      expect(SafetyCheck.check(pod)).toEqual([]);
    });
  });

  describe('a classic sidecar exiting before the preStop sleep ends', () => {
    test('a drain shorter than the preStop sleep is reported, whatever the grace period', () => {
      // GIVEN a 20s sleep, a 5s drain, grace 60 (plenty)
      const pod = [deployment('v1', { grace: 60, preStop: { exec: { command: ['sleep', '20'] } }, proxyConfig: '{"terminationDrainDuration":"5s"}' })];

      // WHEN / THEN the early exit is named, with the setting to raise
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['a classic sidecar exits after its sidecar drain 5s (terminationDrainDuration)', "while the app's preStop sleep (20s) still waits", 'requests arriving in between are refused'],
        ['set terminationDrainDuration in proxy.istio.io/config to at least the preStop sleep (20s)'])]);
    });

    test('with EXIT_ON_ZERO_ACTIVE_CONNECTIONS the fix names MINIMUM_DRAIN_DURATION', () => {
      // GIVEN a 20s sleep, MINIMUM_DRAIN_DURATION 5s (terminationDrainDuration 60s is ignored), grace 90
      const proxyConfig = JSON.stringify({ terminationDrainDuration: '60s', proxyMetadata: { EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true', MINIMUM_DRAIN_DURATION: '5s' } });
      const pod = [deployment('v1', { grace: 90, preStop: { sleep: { seconds: 20 } }, proxyConfig })];

      // WHEN / THEN
      expect(SafetyCheck.check(pod)).toEqual([violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1',
        ['exits after its sidecar drain 5s (MINIMUM_DRAIN_DURATION, then until no connection is active)'],
        ['set MINIMUM_DRAIN_DURATION in proxy.istio.io/config to at least the preStop sleep (20s)'])]);
    });

    test('a short grace period and an early exit are both reported', () => {
      // GIVEN a 20s sleep, a 5s drain, grace 10
      const pod = [deployment('v1', { grace: 10, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 5s' })];

      // WHEN / THEN
      expect(SafetyCheck.check(pod)).toEqual([
        violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['terminationGracePeriodSeconds 10 is shorter than preStop sleep 20s + sidecar drain 5s'], ['at least 25']),
        violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/helloworld-v1', ['a classic sidecar exits after its sidecar drain 5s'], ['at least the preStop sleep (20s)']),
      ]);
    });

    test('a drain equal to the preStop sleep is fine', () => {
      const pod = [deployment('v1', { grace: 40, preStop: { sleep: { seconds: 20 } }, proxyConfig: 'terminationDrainDuration: 20s' })];
      expect(SafetyCheck.check(pod)).toEqual([]);
    });
  });

  test('termination-budget.yaml: every preStop and proxy config form is read', () => {
    // GIVEN hand-written bookinfo Deployments (see the table at the top of the fixture)
    const manifests = fixture('termination-budget.yaml');

    // WHEN checking them
    const violations = SafetyCheck.check(manifests);

    // THEN the three short grace periods are reported, the two long enough ones are not
    expect(violations).toEqual([
      violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/productpage-v1', ['terminationGracePeriodSeconds 30', 'preStop sleep 10s + sidecar drain 25s'], ['at least 35']),
      violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/details-v1', ['terminationGracePeriodSeconds 30', 'preStop sleep 10s + sidecar drain 25s'], ['at least 35']),
      violation(SafetyRule.TERMINATION_BUDGET, 'Deployment/reviews-v1', ['terminationGracePeriodSeconds 34', 'preStop sleep 10s + sidecar drain 25s'], ['at least 35']),
    ]);
  });
});
