/** `catch-all-route` (src/safety/rules/catch-all-route.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { headerRoute, stage, violating, violation, weighted } from '../_cases';

describe(SafetyRule.CATCH_ALL_ROUTE, () => {
  test('match routes with no catch-all are reported at the last route', () => {
    // GIVEN two header routes and nothing after them
    const { current } = violating(SafetyRule.CATCH_ALL_ROUTE);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the last route (http[1]) is blamed
    expect(violations).toEqual([violation(SafetyRule.CATCH_ALL_ROUTE, 'VirtualService/helloworld http[1]',
      ['the last route has a match', '404'],
      ['end http with a route that has no match'])]);
  });

  test('match routes followed by a catch-all are fine', () => {
    // GIVEN a header route, then a route without match
    const current = stage(['v1', 'v2'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('an empty match list counts as a catch-all', () => {
    // GIVEN a header route, then a route with `match: []`
    const current = stage(['v1', 'v2'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 100]], { match: [] }));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});
