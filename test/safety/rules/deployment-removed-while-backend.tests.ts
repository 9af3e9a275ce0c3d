/** `deployment-removed-while-backend` (src/safety/rules/deployment-removed-while-backend.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { deployment, HOST, stage, violating, violation, warning, weighted } from '../_cases';

describe(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, () => {
  test('deleting a Deployment while its subset is still in the route (weight 0) is reported', () => {
    // GIVEN helloworld-v1 deleted while subset v1 stays listed at weight 0
    const { previous, current } = violating(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the Deployment is blamed once, naming the previous stage's subset
    expect(violations).toEqual([violation(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, 'Deployment/helloworld-v1',
      ["is deleted while subset 'v1' of DestinationRule/helloworld in the previous stage, which a route names, still selects its pods"],
      ["unroute and remove subset 'v1' of DestinationRule/helloworld in stages before deleting the Deployment"])]);
  });

  test('deleting a Deployment together with its subset, while the previous stage still routed to it, is reported', () => {
    // GIVEN v1 listed at weight 0 in the previous stage; helloworld-v1, subset v1 and the route to v1 all go at once
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v1', 0], ['v2', 100]]));
    const current = stage(['v2'], ['v2'], weighted([['v2', 100]]));

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN the subset removal and the Deployment deletion are both reported
    expect(violations).toEqual([
      violation(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, 'DestinationRule/helloworld', ["subset 'v1' is removed"], ["remove 'v1' from the route"]),
      violation(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, 'Deployment/helloworld-v1', ["subset 'v1' of DestinationRule/helloworld in the previous stage"], ["unroute and remove subset 'v1'"]),
    ]);
  });

  test('deleting the Deployment of an unrouted version whose subset stays is no error: the subset is stale (warning)', () => {
    // GIVEN v1 unrouted in the previous stage; helloworld-v1 deleted, subset v1 kept
    const previous = stage(['v1', 'v2'], ['v1', 'v2'], weighted([['v2', 100]]));
    const current = stage(['v2'], ['v1', 'v2'], weighted([['v2', 100]]));

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN no request can reach v1: only the leftover subset is reported, as a warning
    expect(violations).toEqual([
      warning(SafetyRule.STALE_SUBSET, 'DestinationRule/helloworld', [`subset 'v1' of ${HOST} selects no pods`], [`remove subset 'v1' of ${HOST}`]),
    ]);
  });

  test('deleting a Deployment after its subset was removed is fine', () => {
    // GIVEN subset v1 removed in the previous stage, helloworld-v1 deleted now
    const previous = stage(['v1', 'v2'], ['v2'], weighted([['v2', 100]]));
    const current = stage(['v2'], ['v2'], weighted([['v2', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });

  test('deleting a Deployment of another app is fine', () => {
    // GIVEN a ratings-v1 Deployment (pods app=ratings, version=v1) deleted while helloworld keeps subset v1
    const ratings = deployment('v1', { labels: { app: 'ratings', version: 'v1' } });
    const previous = [...stage(['v1'], ['v1'], weighted([['v1', 100]])), { ...ratings, metadata: { name: 'ratings-v1', namespace: 'default' } }];
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]]));

    // WHEN / THEN the helloworld Service does not select ratings pods: no violation
    expect(SafetyCheck.check(current, previous)).toEqual([]);
  });
});
