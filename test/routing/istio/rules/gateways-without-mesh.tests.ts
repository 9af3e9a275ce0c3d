/** Istio's `gateways-without-mesh` (src/routing/istio/rules/gateways-without-mesh.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import {
  APP, deployment, destinationRule, fixture, HOST, service, violating, virtualServiceOf, warning, weighted,
} from '../../../safety/_cases';

describe(SafetyRule.GATEWAYS_WITHOUT_MESH, () => {
  test('a VirtualService of an in-cluster host bound to gateways only is a warning', () => {
    const { current } = violating(SafetyRule.GATEWAYS_WITHOUT_MESH);
    expect(SafetyCheck.check(current)).toEqual([warning(SafetyRule.GATEWAYS_WITHOUT_MESH, 'VirtualService/helloworld',
      [`is bound to istio-system/public-gateway only, so in-mesh callers of ${HOST} bypass its weights and reach every version the Service selects`],
      ["add 'mesh' to gateways (or route in-mesh callers with a VirtualService of their own)"])]);
  });

  test.each([
    ['gateways listing mesh', { gateways: ['istio-system/public-gateway', 'mesh'] }],
    ['an external host only', { hosts: ['helloworld.example.com'], gateways: ['istio-system/public-gateway'] }],
    ['no gateways (mesh only)', {}],
  ])('%s is fine', (_name, spec) => {
    const current = [service(), deployment('v1'), destinationRule(['v1']), virtualServiceOf(APP, { ...spec, http: [weighted([['v1', 100]])] })];
    expect(SafetyCheck.check(current)).toEqual([]);
  });

  test('gateways-without-mesh.yaml', () => {
    expect(SafetyCheck.check(fixture('gateways-without-mesh.yaml'))).toEqual([warning(SafetyRule.GATEWAYS_WITHOUT_MESH, 'VirtualService/reviews',
      ['in-mesh callers of reviews.bookinfo.svc.cluster.local bypass its weights'], ["add 'mesh' to gateways"])]);
  });
});
