/** `backend-removed-while-routed` (src/safety/rules/backend-removed-while-routed.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { APP, stage, violating, violation, weighted } from '../_cases';

describe(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, () => {
  test('removing a subset the previous VirtualService still routes to (weight 0) is reported', () => {
    // GIVEN v1 at weight 0 in the previous stage, subset v1 removed now
    const { previous, current } = violating(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the DestinationRule is blamed for v1, and the fix unroutes it first
    expect(violations).toEqual([violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld',
      ["subset 'v1' is removed while the previous stage's route still sends to it"],
      ["remove 'v1' from the route in one stage, then remove it in the next"])]);
  });

  test('removing a subset the previous stage mirrored to is reported', () => {
    // GIVEN v2 mirrored to in the previous stage, subset v2 removed now
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 100]], { mirror: { host: APP, subset: 'v2' } }));
    const current = stage(['v1', 'v2'], ['v1'], weighted([['v1', 100]]));

    // WHEN / THEN
    expect(SafetyCheck.check(current, previous)).toEqual([violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld', ["subset 'v2'"], ["remove 'v2'"])]);
  });

  test('removing a subset unrouted in the previous stage is fine', () => {
    // GIVEN v1 left the route one stage before its subset goes
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v2', 100]]));
    const current = stage(['v1', 'v2'], ['v2'], weighted([['v2', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });
});
