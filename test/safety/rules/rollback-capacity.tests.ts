/** `rollback-capacity` (src/safety/rules/rollback-capacity.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../src/safety/safety-check';
import { SafetyRule } from '../../../src/safety/safety-rule';
import { fixture, HOST, patched, violating, warning } from '../_cases';

describe(SafetyRule.ROLLBACK_CAPACITY, () => {
  test('a version that had traffic keeps the floor for it, or rolling back lands on too few pods (warning)', () => {
    // GIVEN v1 at 50% of a floor of 10 pods, then at 0% on 2 pods
    const { previous, current } = violating(SafetyRule.ROLLBACK_CAPACITY);

    // WHEN / THEN
    expect(SafetyCheck.check(current, previous)).toEqual([warning(SafetyRule.ROLLBACK_CAPACITY, 'Deployment/helloworld-v1',
      [`subset 'v1' of ${HOST} had 50% of the requests in the previous stage on a floor of 10 pod(s) for all traffic, but keeps only 2`, 'rolling back by applying that stage whole sends 50% to pods that do not run yet'],
      [`keep the floor of subset 'v1' of ${HOST} at 5 or more until the stage after next, if the stage before may be applied whole (kubectl apply, `
        + 'a GitOps tool); `mesh-release runbook` and `rollout` scale it first, then route'])]);
  });

  test('keeping the floor (5 of 10 for 50%) is fine', () => {
    const { previous, current } = violating(SafetyRule.ROLLBACK_CAPACITY);
    const kept = patched(current, 'Deployment', (d) => { d.spec.replicas = 5; }, 'helloworld-v1');
    expect(SafetyCheck.check(kept, previous)).toEqual([]);
  });

  test('rollback-shift-*.yaml: shift-50 then shift-100 with v1 lowered to minReplicas 2; the roll back itself raises no error', () => {
    // GIVEN v2 autoscaled from 10, v1 from 5 at shift-50 and from 2 at shift-100
    const shift50 = fixture('rollback-shift-50.yaml');
    const shift100 = fixture('rollback-shift-100.yaml');

    // WHEN checking forward (shift-50 -> shift-100) and the roll back (shift-100 -> shift-50)
    // THEN forward warns that v1 gave up the floor it needs if the stage is rolled back
    expect(SafetyCheck.check(shift100, shift50)).toEqual([warning(SafetyRule.ROLLBACK_CAPACITY, 'Deployment/reviews-v1',
      ['had 50% of the requests in the previous stage on a floor of 10 pod(s)', 'keeps only 2'], ['at 5 or more'])]);
    // AND the backward transition is a stage like any other: no violation
    expect(SafetyCheck.check(shift50, shift100)).toEqual([]);
  });
});
