/** Istio's `one-virtual-service-per-host` (src/routing/istio/rules/one-virtual-service-per-host.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import { fixture, HOST, stage, violating, violation, virtualServiceOf, weighted } from '../../../safety/_cases';

describe(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST, () => {
  test('two VirtualServices for one host are reported', () => {
    const { current } = violating(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST, 'VirtualService/helloworld-extra',
      [`routes host ${HOST} on gateway 'mesh' like VirtualService/helloworld`, 'Istio merges the two unpredictably'],
      ['keep one VirtualService per host and gateway'])]);
  });

  test('one VirtualService for the mesh and one for an ingress gateway are fine', () => {
    const current = [...stage(['v1'], ['v1'], weighted([['v1', 100]])),
      virtualServiceOf('helloworld-public', { hosts: ['helloworld.example.com'], gateways: ['istio-system/public-gateway'], http: [weighted([['v1', 100]])] })];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('two-virtual-services.yaml: the short name and the FQDN are one host', () => {
    expect(SafetyCheck.check(fixture('two-virtual-services.yaml'))).toEqual([violation(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST, 'VirtualService/reviews-canary',
      ["routes host reviews.bookinfo.svc.cluster.local on gateway 'mesh' like VirtualService/reviews"], ['one VirtualService per host'])]);
  });
});
