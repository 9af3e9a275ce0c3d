/** `retry-budget` (src/safety/rules/retry-budget.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import {
  APP, deployment, destinationRule, fixture, service, stage, violating, violation, virtualServiceOf, weighted,
} from '../_cases';

describe(SafetyRule.RETRY_BUDGET, () => {
  test('the first try + 2 retries of 2s under a 5s timeout are reported', () => {
    // GIVEN timeout 5s, retries {attempts: 2, perTryTimeout: 2s}: 3 tries of 2s
    const { current } = violating(SafetyRule.RETRY_BUDGET);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the tries, the product and the timeout are named
    expect(violations).toEqual([violation(SafetyRule.RETRY_BUDGET, 'VirtualService/helloworld http[0]',
      ['the first try + 2 retries x perTryTimeout 2s = 6s exceed the route timeout 5s', 'the last retries can never run'],
      ['lower retries.attempts or retries.perTryTimeout, or raise timeout'])]);
  });

  test('attempts counts retries after the first try: 3 x 2s no longer fits a 6s timeout', () => {
    // GIVEN the budget the old model accepted (attempts x perTryTimeout = timeout)
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], { timeout: '6s', retries: { attempts: 3, perTryTimeout: '2s' } }));

    // WHEN / THEN 4 tries of 2s = 8s
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.RETRY_BUDGET, 'VirtualService/helloworld http[0]',
      ['the first try + 3 retries x perTryTimeout 2s = 8s exceed the route timeout 6s'], ['raise timeout'])]);
  });

  test.each([
    // timeout, attempts, perTryTimeout, violation message or undefined when safe
    ['8s', 3, '2s', undefined],
    ['1m', 3, '15s', undefined],
    ['1m', 3, '16s', 'the first try + 3 retries x perTryTimeout 16s = 64s exceed the route timeout 60s'],
    ['1s', 3, '500ms', 'the first try + 3 retries x perTryTimeout 0.5s = 2s exceed the route timeout 1s'],
    ['2s', 3, '500ms', undefined],
    ['1m30s', 4, '20s', 'the first try + 4 retries x perTryTimeout 20s = 100s exceed the route timeout 90s'],
    ['2m30s', 4, '30s', undefined],
    ['1s', 1, '600ms', 'the first try + 1 retries x perTryTimeout 0.6s = 1.2s exceed the route timeout 1s'],
  ])('timeout %s with attempts %d x %s', (timeout, attempts, perTryTimeout, message) => {
    // GIVEN a route with that timeout and those retries
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], { timeout, retries: { attempts, perTryTimeout } }));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN a violation naming the numbers, or none
    expect(violations).toEqual(message === undefined ? [] : [violation(SafetyRule.RETRY_BUDGET, 'VirtualService/helloworld http[0]', [message], ['raise timeout'])]);
  });

  test.each([
    ['no timeout', { retries: { attempts: 3, perTryTimeout: '2s' } }],
    ['no perTryTimeout', { timeout: '1s', retries: { attempts: 3 } }],
    ['retries off', { timeout: '1s', retries: { attempts: 0, perTryTimeout: '2s' } }],
    ['an unreadable duration', { timeout: '5 seconds', retries: { attempts: 3, perTryTimeout: '2s' } }],
  ])('a route with %s is not checked', (_name, extra) => {
    // GIVEN a route missing one of the three numbers
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], extra));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('the first try + 2 retries of 100ms fit a 300ms timeout exactly', () => {
    // GIVEN timeout 300ms, retries 2 x 100ms (3 tries; 0.1 + 0.1 + 0.1 is not 0.3 in floating point)
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]], { timeout: '300ms', retries: { attempts: 2, perTryTimeout: '100ms' } }));

    // WHEN / THEN expected no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a tcp route with retries-like fields is not checked (retries are http only)', () => {
    // GIVEN a tcp route carrying timeout and retries (Istio ignores them there)
    const current = [service({ app: APP }, [{ name: 'tcp', port: 3000 }]), deployment('v1'), destinationRule(['v1']),
      virtualServiceOf(APP, { tcp: [{ route: [{ destination: { host: APP, subset: 'v1' } }], timeout: '1s', retries: { attempts: 3, perTryTimeout: '1s' } }] })];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('retry-budget.yaml: each route is checked with its own durations', () => {
    // GIVEN a hand-written VirtualService with 5s, 1s (500ms tries) and 1m (15s tries) routes
    const manifests = fixture('retry-budget.yaml');

    // WHEN checking it (the fixture has no DestinationRule: only the retry budget is under test)
    const violations = SafetyCheck.check(manifests).filter((v) => v.rule === SafetyRule.RETRY_BUDGET);

    // THEN http[0] and http[1] are reported, http[2] is not
    expect(violations).toEqual([
      violation(SafetyRule.RETRY_BUDGET, 'VirtualService/reviews http[0]', ['the first try + 3 retries x perTryTimeout 2s = 8s exceed the route timeout 5s'], ['raise timeout']),
      violation(SafetyRule.RETRY_BUDGET, 'VirtualService/reviews http[1]', ['the first try + 3 retries x perTryTimeout 0.5s = 2s exceed the route timeout 1s'], ['raise timeout']),
    ]);
  });
});
