/** Istio's `mtls-mode` (src/routing/istio/rules/mtls-mode.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import {
  APP, deployment, destinationRule, fixture, HOST, peerAuthentication, rulesOf, service, SubsetSpec, violating, violation, virtualService, weighted,
} from '../../../safety/_cases';

describe(SafetyRule.MTLS_MODE, () => {
  const MESSAGE = [`sets tls mode DISABLE (plain text) towards pods of ${HOST}, which PeerAuthentication/helloworld requires to use mutual TLS (STRICT)`, 'every request is refused'];
  const FIX = ['use tls mode ISTIO_MUTUAL (or drop the tls setting)'];
  const withPolicy = (drSpec: any, subsets: SubsetSpec[] = ['v1'], ...policies: any[]) =>
    [service(), deployment('v1'), destinationRule(subsets, APP, { spec: drSpec }), virtualService(weighted([['v1', 100]])), ...policies];

  test('STRICT PeerAuthentication and tls mode DISABLE on the DestinationRule are reported', () => {
    const { current } = violating(SafetyRule.MTLS_MODE);
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.MTLS_MODE, 'DestinationRule/helloworld trafficPolicy', MESSAGE, FIX)]);
  });

  test('DISABLE on one subset, or on a port of it, is reported with the subset', () => {
    const current = withPolicy({}, [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { portLevelSettings: [{ port: { number: 3000 }, tls: { mode: 'DISABLE' } }] } }],
      peerAuthentication());
    expect(SafetyCheck.check(current)).toEqual([violation(SafetyRule.MTLS_MODE, "DestinationRule/helloworld subset 'v1'", MESSAGE, FIX)]);
  });

  test('a mesh-wide STRICT policy (root namespace, no selector) counts', () => {
    const meshWide = { ...peerAuthentication('STRICT', {}), metadata: { name: 'default', namespace: 'istio-system' } };
    meshWide.spec = { mtls: { mode: 'STRICT' } };
    expect(rulesOf(SafetyCheck.check(withPolicy({ trafficPolicy: { tls: { mode: 'DISABLE' } } }, ['v1'], meshWide)))).toEqual([SafetyRule.MTLS_MODE]);
  });

  test.each([
    ['ISTIO_MUTUAL under STRICT', { trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }, [peerAuthentication()]],
    ['DISABLE under PERMISSIVE', { trafficPolicy: { tls: { mode: 'DISABLE' } } }, [peerAuthentication('PERMISSIVE')]],
    ['DISABLE with a STRICT policy for another app', { trafficPolicy: { tls: { mode: 'DISABLE' } } }, [peerAuthentication('STRICT', { app: 'ratings' })]],
    ['DISABLE under a namespace PERMISSIVE policy that overrides a mesh-wide STRICT one', { trafficPolicy: { tls: { mode: 'DISABLE' } } }, [
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'istio-system' }, spec: { mtls: { mode: 'STRICT' } } },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'default' }, spec: { mtls: { mode: 'PERMISSIVE' } } },
    ]],
  ])('%s is fine', (_name, drSpec, policies) => {
    expect(SafetyCheck.check(withPolicy(drSpec, ['v1'], ...policies))).toEqual([]);
  });

  test('mtls-disable.yaml: the host-wide DISABLE and the one on port 9080 of subset v2', () => {
    expect(SafetyCheck.check(fixture('mtls-disable.yaml'))).toEqual([
      violation(SafetyRule.MTLS_MODE, 'DestinationRule/reviews trafficPolicy', ['tls mode DISABLE', 'PeerAuthentication/reviews'], FIX),
      violation(SafetyRule.MTLS_MODE, "DestinationRule/reviews subset 'v2'", ['tls mode DISABLE'], FIX),
    ]);
  });
});
