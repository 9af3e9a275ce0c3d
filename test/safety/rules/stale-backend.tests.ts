/** `stale-backend` (src/safety/rules/stale-backend.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { fixture, HOST, stage, violating, warning, weighted } from '../_cases';

describe(SafetyRule.STALE_SUBSET, () => {
  test('a subset that selects no pods, kept from the previous stage and routed by nothing, is a warning', () => {
    // GIVEN subset v3 in both stages, no helloworld-v3, no route to v3
    const { previous, current } = violating(SafetyRule.STALE_SUBSET);

    // WHEN checking the transition
    const violations = SafetyCheck.check(current, previous);

    // THEN v3 is named, as a warning: no request is lost
    expect(violations).toEqual([warning(SafetyRule.STALE_SUBSET, 'DestinationRule/helloworld',
      [`subset 'v3' of ${HOST} selects no pods and was already there in the previous stage`, 'nothing runs or routes to it'],
      [`remove subset 'v3' of ${HOST}, or deploy its version`, 'keep routable objects in sync with the versions you run'])]);
    expect(SafetyCheck.errors(violations)).toEqual([]);
  });

  test('a subset added before its version is deployed (the make-routable stage) is fine', () => {
    // GIVEN subset v2 new in this stage, helloworld-v2 not deployed yet
    const previous = stage(['v1'], ['v1'], weighted([['v1', 100]]));
    const current = stage(['v1'], ['v1', 'v2'], weighted([['v1', 100]]));

    // WHEN / THEN it is about to be deployed: no warning; and without a previous stage nothing is known
    expect(SafetyCheck.check(current, previous)).toEqual([]);
    expect(SafetyCheck.check(violating(SafetyRule.STALE_SUBSET).current)).toEqual([]);
  });

  test('stale-subset-v3.yaml (the hzeng10 zero-downtime repository shape): version-v3 is stale when applied after itself', () => {
    // GIVEN the same stage applied twice (no namespace: read as `default`)
    const manifests = fixture('stale-subset-v3.yaml');

    // WHEN / THEN alone nothing is reported; as a transition subset version-v3 is a warning
    expect(SafetyCheck.check(manifests)).toEqual([]);
    expect(SafetyCheck.check(manifests, manifests)).toEqual([
      warning(SafetyRule.STALE_SUBSET, 'DestinationRule/zero-downtime-rollingupdate-dr',
        ["subset 'version-v3' of zero-downtime-rollingupdate.default.svc.cluster.local selects no pods"], ["remove subset 'version-v3'"]),
    ]);
    // AND applied with `kubectl -n shop`, the hosts resolve in shop
    expect(SafetyCheck.check(manifests, manifests, { namespace: 'shop' })[0].message).toContain('zero-downtime-rollingupdate.shop.svc.cluster.local');
  });
});
