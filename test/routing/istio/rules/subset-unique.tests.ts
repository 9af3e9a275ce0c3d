/** Istio's `subset-unique` (src/routing/istio/rules/subset-unique.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import { stage, violating, violation, weighted } from '../../../safety/_cases';

describe(SafetyRule.SUBSET_UNIQUE, () => {
  test('a subset name defined twice is reported', () => {
    // GIVEN subset v1 twice
    const { current } = violating(SafetyRule.SUBSET_UNIQUE);

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SUBSET_UNIQUE, 'DestinationRule/helloworld',
      ["subset 'v1' is defined twice"], ['give every subset a unique name'])]);
  });

  test('two subsets with the same labels are reported', () => {
    // GIVEN subsets v1 and v2 both selecting version=v1 (copy-paste)
    const current = stage(['v1'], [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v1' } }], weighted([['v1', 100]]));

    // WHEN / THEN both names and the labels are named
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SUBSET_UNIQUE, 'DestinationRule/helloworld',
      ["subsets 'v1' and 'v2' have the same labels", '"version","v1"', 'both select the same pods'],
      ['give each subset the version label of its own Deployment'])]);
  });

  test('distinct names and labels are fine', () => {
    // GIVEN subsets v1 and v2 with their own labels
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});
