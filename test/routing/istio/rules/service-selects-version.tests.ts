/** Istio's `service-selects-version` (src/routing/istio/rules/service-selects-version.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import { APP, deployment, destinationRule, service, stage, violating, violation, virtualService, weighted } from '../../../safety/_cases';

describe(SafetyRule.SERVICE_SELECTS_VERSION, () => {
  test('a Service selecting the version label is reported', () => {
    // GIVEN Service helloworld selecting app=helloworld, version=v1
    const { current } = violating(SafetyRule.SERVICE_SELECTS_VERSION);

    // WHEN checking the stage
    const violations = SafetyCheck.check(current);

    // THEN the label and its value are named
    expect(violations).toEqual([violation(SafetyRule.SERVICE_SELECTS_VERSION, 'Service/helloworld',
      ["selector has 'version: v1'", 'a label that tells versions apart'],
      ['select on the app label only', 'let DestinationRule subsets pick versions'])]);
  });

  test('a Service selecting a label the subsets use to tell versions apart is reported', () => {
    // GIVEN subsets told apart by `track`, and a Service selecting track=stable
    const current = [
      service({ app: APP, track: 'stable' }),
      deployment('v1', { labels: { app: APP, track: 'stable' } }),
      destinationRule([{ name: 'stable', labels: { track: 'stable' } }, { name: 'canary', labels: { track: 'canary' } }]),
      virtualService(weighted([['stable', 100]])),
    ];

    // WHEN / THEN
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.SERVICE_SELECTS_VERSION, 'Service/helloworld', ["selector has 'track: stable'"], ['select on the app label only'])]);
  });

  test('a Service selecting the app label only is fine', () => {
    // GIVEN the usual version-free Service
    const current = stage(['v1'], ['v1'], weighted([['v1', 100]]));

    // WHEN / THEN no violation
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('a Service selecting the app label is fine when every subset also carries it', () => {
    // GIVEN subsets {app: helloworld, version: v1|v2} (app is the same in all, it tells no versions apart)
    const current = [
      service({ app: APP }),
      deployment('v1'), deployment('v2'),
      destinationRule([{ name: 'v1', labels: { app: APP, version: 'v1' } }, { name: 'v2', labels: { app: APP, version: 'v2' } }]),
      virtualService(weighted([['v1', 90], ['v2', 10]])),
    ];

    // WHEN / THEN no violation expected (actual: [service-selects-version] Service/helloworld: selector has 'app: helloworld'...)
    expect(SafetyCheck.check(current)).toEqual([]);
  });
});
