/** `weights` (src/safety/rules/weights.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { HOST, stage, violating, violation, weighted } from '../_cases';

describe(SafetyRule.WEIGHTS, () => {
  test('weights adding up to 110 are reported with every weight', () => {
    // GIVEN v1=90, v2=20
    const { current } = violating(SafetyRule.WEIGHTS);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the sum and each weight are named
    expect(violations).toEqual([violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]',
      ['weights add up to 110, not 100', `subset 'v1' of ${HOST}=90`, `subset 'v2' of ${HOST}=20`],
      ['make the weights of the route add up to exactly 100'])]);
  });

  test.each([
    [50.5, 49.5],
    [-10, 110],
  ])('weights %d and %d (summing to 100) are reported as out of range', (w1, w2) => {
    // GIVEN weights that add up to 100 but are not integers in 0..100
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', w1], ['v2', w2]]));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN each bad weight is named, and only the weights rule is broken
    expect(violations.filter((v) => v.rule === SafetyRule.WEIGHTS)).toEqual([
      violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]', [`weight ${w1} of subset 'v1'`, 'not an integer between 0 and 100'], ['use integer percentages']),
      violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]', [`weight ${w2} of subset 'v2'`, 'not an integer between 0 and 100'], ['use integer percentages']),
    ]);
  });

  test('several destinations without weights add up to 0', () => {
    // GIVEN two destinations, no weights
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', undefined], ['v2', undefined]]));

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.WEIGHTS, 'VirtualService/helloworld http[0]', ['weights add up to 0, not 100'], ['add up to exactly 100'])]);
  });

  test('90/10, and a single destination without a weight, are fine', () => {
    // GIVEN a header route with one unweighted destination and a 90/10 catch-all
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v2', undefined]], { match: [{ headers: { 'x-version': { exact: 'v2' } } }] }),
      weighted([['v1', 90], ['v2', 10]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});
