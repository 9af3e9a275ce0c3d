/** Istio's `cluster-domain` (src/routing/istio/rules/cluster-domain.ts), through `SafetyCheck` on plain manifests. */
import { SafetyCheck } from '../../../../src/safety/safety-check';
import { SafetyRule } from '../../../../src/safety/safety-rule';
import { APP, deployment, destinationRule, OTHER_DOMAIN_HOST, rulesOf, service, violating, violation, virtualServiceOf } from '../../../safety/_cases';

describe(SafetyRule.CLUSTER_DOMAIN, () => {
  const message = (host: string, domain: string, read: string) => [
    `host '${host}' is Service 'helloworld' of namespace 'default' in cluster domain '${domain}', but the check reads in-cluster hosts in '${read}'`,
    'the rules that find its pods and versions by host cannot see it',
  ];
  const FIX = ["if the cluster's DNS domain is 'corp.internal', check with it (SafetyCheck option clusterDomain: 'corp.internal', "
    + "mesh-release --cluster-domain corp.internal, MeshReleaseProps.clusterDomain); else write the host in 'cluster.local'"];

  test('hosts of another cluster domain are refused, once per object, instead of passing a version with no Deployment', () => {
    // GIVEN hosts in corp.internal, 10% to subset v2 which no Deployment runs, read with the default cluster.local
    const { current } = violating(SafetyRule.CLUSTER_DOMAIN);

    // WHEN / THEN each object names the host, the domain it is in and the one the check reads
    expect(SafetyCheck.check(current)).toEqual([
      violation(SafetyRule.CLUSTER_DOMAIN, `DestinationRule/${APP}`, message(OTHER_DOMAIN_HOST, 'corp.internal', 'cluster.local'), FIX),
      violation(SafetyRule.CLUSTER_DOMAIN, `VirtualService/${APP}`, message(OTHER_DOMAIN_HOST, 'corp.internal', 'cluster.local'), FIX),
    ]);
  });

  test("with the cluster's domain the rules see the Service again: the missing version is found", () => {
    const { current } = violating(SafetyRule.CLUSTER_DOMAIN);
    expect(rulesOf(SafetyCheck.check(current, undefined, { clusterDomain: 'corp.internal' }))).toEqual([SafetyRule.DESTINATION_READY]);
  });

  test('cluster.local hosts read with another domain are refused too, and so are hosts of the previous stage', () => {
    const { current } = violating(SafetyRule.CLUSTER_DOMAIN);
    const local = current.map((m) => JSON.parse(JSON.stringify(m).split(OTHER_DOMAIN_HOST).join(`${APP}.default.svc.cluster.local`)));
    const found = SafetyCheck.check(current, local, { clusterDomain: 'corp.internal' }).filter((v) => v.rule === SafetyRule.CLUSTER_DOMAIN);
    expect(found.map((v) => v.object)).toEqual([`DestinationRule/${APP} (previous stage)`, `VirtualService/${APP} (previous stage)`]);
    expect(found[0].message).toContain("in cluster domain 'cluster.local', but the check reads in-cluster hosts in 'corp.internal'");
  });

  test.each([
    ['a short name (qualified with the domain read)', APP],
    ['a name in the domain read', `${APP}.default.svc.cluster.local`],
    ['an external name', 'api.example.com'],
    ['a name with no namespace before svc', 'helloworld.svc.corp.internal'],
    ['a wildcard', '*.example.com'],
  ])('%s is fine', (_name, host) => {
    const manifests = [service(), deployment('v1'), destinationRule(['v1'], host),
      virtualServiceOf(APP, { hosts: [host], http: [{ route: [{ destination: { host, subset: 'v1' } }] }] })];
    expect(rulesOf(SafetyCheck.check(manifests))).not.toContain(SafetyRule.CLUSTER_DOMAIN);
  });
});
