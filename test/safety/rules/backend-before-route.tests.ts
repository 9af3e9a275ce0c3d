/** `backend-before-route` (src/safety/rules/backend-before-route.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { stage, violating, violation, weighted } from '../_cases';

describe(SafetyRule.SUBSET_BEFORE_ROUTE, () => {
  test('routing to a subset added in the same stage is reported', () => {
    // GIVEN subset v2 added in the stage that routes 10% to it
    const { previous, current } = violating(SafetyRule.SUBSET_BEFORE_ROUTE);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the route to v2 is reported, and the fix adds the subset a stage earlier
    expect(violations).toEqual([violation(SafetyRule.SUBSET_BEFORE_ROUTE, 'VirtualService/helloworld http[0]',
      ["routes to subset 'v2' of helloworld.default.svc.cluster.local", 'which the previous stage did not define', 'the proxies may receive this route before the subset'],
      ["add subset 'v2' to the DestinationRule in a stage of its own", 'before the one that routes to it'])]);
  });

  test('the same stage on its own (no previous) is fine', () => {
    // GIVEN the current stage of the violating case, checked alone
    const { current } = violating(SafetyRule.SUBSET_BEFORE_ROUTE);

    // WHEN / THEN the rule needs a previous stage
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a subset added but not routed is fine', () => {
    // GIVEN subset v2 added while the route still sends everything to v1
    const previous = stage(['v1'], ['v1'], weighted([['v1', 100]]));
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('routing to a subset that existed in the previous stage is fine', () => {
    // GIVEN subset v2 defined (and v2 deployed) since the previous stage
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 100]]));
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 10]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });
});
