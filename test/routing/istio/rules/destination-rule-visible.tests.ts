/** Istio's `destination-rule-visible` (src/routing/istio/rules/destination-rule-visible.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import {
  APP, deployment, destinationRule, fixture, HOST, service, violating, violation, virtualService, virtualServiceOf, weighted,
} from '../../../safety/_cases';

describe(SafetyRule.DESTINATION_RULE_VISIBLE, () => {
  test('a DestinationRule in another namespace than its Service is reported', () => {
    const { current } = violating(SafetyRule.DESTINATION_RULE_VISIBLE);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/helloworld',
      ["is in namespace 'other'", `Istio looks for the DestinationRule of ${HOST} only in the caller's namespace, the service's namespace ('default') and the root namespace`, '503'],
      ["move the DestinationRule to namespace 'default'"])]);
  });

  test('exportTo ["."] on a routed DestinationRule is reported', () => {
    const current = [service(), deployment('v1'), destinationRule(['v1'], APP, { spec: { exportTo: ['.'] } }), virtualService(weighted([['v1', 100]]))];
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/helloworld',
      ['exportTo ["."] hides its subsets from callers in other namespaces, while VirtualService/helloworld routes their requests to them'],
      ["drop exportTo (or use ['*'])"])]);
  });

  test.each([
    ['in the root namespace istio-system', destinationRule(['v1'], HOST, { namespace: 'istio-system' }), virtualService(weighted([['v1', 100]]))],
    ['exported to *', destinationRule(['v1'], APP, { spec: { exportTo: ['*'] } }), virtualService(weighted([['v1', 100]]))],
    ['exported to "." with a VirtualService exported to "." too', destinationRule(['v1'], APP, { spec: { exportTo: ['.'] } }),
      virtualServiceOf(APP, { exportTo: ['.'], http: [weighted([['v1', 100]])] })],
  ])('a DestinationRule %s is fine', (_name, dr, vs) => {
    expect(SafetyCheck.check([service(), deployment('v1'), dr, vs])).toEqual([]);
  });

  test('destination-rule-other-namespace.yaml and destination-rule-export-to.yaml', () => {
    expect(SafetyCheck.check(fixture('destination-rule-other-namespace.yaml'))).toEqual([
      violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/reviews', ["is in namespace 'frontend'"], ["move the DestinationRule to namespace 'bookinfo'"]),
    ]);
    expect(SafetyCheck.check(fixture('destination-rule-export-to.yaml'))).toEqual([
      violation(SafetyRule.DESTINATION_RULE_VISIBLE, 'DestinationRule/reviews', ['exportTo ["."]'], ['drop exportTo']),
    ]);
  });
});
