/** `backend-defined` (src/safety/rules/backend-defined.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { APP, headerRoute, stage, violating, violation, weighted } from '../_cases';

describe(SafetyRule.SUBSET_DEFINED, () => {
  test('a route to a subset the DestinationRule does not define is reported, even at weight 0', () => {
    // GIVEN the case where v2 is listed (weight 0) but not a subset
    const { current } = violating(SafetyRule.SUBSET_DEFINED);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the route names the missing subset and the fix adds it
    expect(violations).toEqual([violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld http[0]',
      ["routes to subset 'v2' of helloworld.default.svc.cluster.local", 'no DestinationRule of this stage defines', '503'],
      ["add subset 'v2' to the DestinationRule of helloworld.default.svc.cluster.local", 'earlier stage'])]);
  });

  test('a mirror to an undefined subset is reported too', () => {
    // GIVEN v2 deployed, mirrored to, but not a subset
    const current = stage(['v1', 'v2'], ['v1'], weighted([['v1', 100]], { mirror: { host: APP, subset: 'v2' } }));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the mirror counts as a route to v2 (one violation: the missing subset is the cause)
    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_DEFINED, 'VirtualService/helloworld http[0]', ["subset 'v2'"], ["add subset 'v2'"]),
    ]);
  });

  test('every routed subset defined is fine', () => {
    // GIVEN v1 and v2 both subsets, both routed
    const current = stage(['v1', 'v2'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 90], ['v2', 10]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});
