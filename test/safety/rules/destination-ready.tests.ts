/** `destination-ready` (src/safety/rules/destination-ready.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { APP, headerRoute, stage, violating, violation, virtualService, weighted } from '../_cases';

describe(SafetyRule.DESTINATION_READY, () => {
  test('weight to a subset whose version is not deployed is reported', () => {
    // GIVEN subset v2 with 10% but no helloworld-v2 Deployment
    const { current } = violating(SafetyRule.DESTINATION_READY);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN v2 is named, and the fix deploys it first
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]',
      ["sends traffic to subset 'v2' of helloworld.default.svc.cluster.local", 'no Deployment of this stage has pods it selects'],
      ['deploy the version in a stage before the one that routes traffic to it'])]);
  });

  test('weight to a version deployed in the same stage is reported', () => {
    // GIVEN subset v2 defined before, but helloworld-v2 created in the stage that gives it 10%
    const previous = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));
    const current = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 90], ['v2', 10]]));

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the new Deployment is named
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]',
      ["sends traffic to subset 'v2'", 'whose Deployment Deployment/helloworld-v2 did not exist in the previous stage'],
      ['deploy the version in a stage of its own, and route to it in the next one'])]);
  });

  test('a header route (one destination, no weight) to an undeployed version is reported', () => {
    // GIVEN testers routed to v2 by header, v2 not deployed
    const current = stage(['v1'], ['v1', 'v2'], headerRoute('v2'), weighted([['v1', 100]]));

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the header route (http[0]) is named
    expect(violations).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]', ["subset 'v2'"], ['deploy the version'])]);
  });

  test('a mirror to an undeployed version is reported', () => {
    // GIVEN v2 mirrored to (a mirror always receives traffic) but not deployed
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]], { mirror: { host: APP, subset: 'v2' } }));

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DESTINATION_READY, 'VirtualService/helloworld http[0]', ["subset 'v2'"], ['deploy the version'])]);
  });

  test('weight 0 to a subset whose version is not deployed yet is fine', () => {
    // GIVEN subset v2 listed at weight 0, v2 not deployed
    const previous = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100], ['v2', 0]]));

    // WHEN / THEN no violation, alone or as a transition
    expect(SafetyCheck.check(current)).toEqual([]);
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('hosts outside the cluster are not checked', () => {
    // GIVEN a route to an external host (a ServiceEntry), nothing deployed for it
    const current = [virtualService({ route: [{ destination: { host: 'api.example.com' } }] })];

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});
