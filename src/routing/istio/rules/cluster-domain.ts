/**
 * A host written like an in-cluster Service's (`<name>.<namespace>.svc.<domain>`) is in the cluster domain the check
 * reads with. Istio names a Kubernetes Service `<name>.<namespace>.svc.<domain suffix>`, the suffix being istiod's
 * one cluster domain (`--domain`, default `cluster.local`; istio/istio `pilot/pkg/serviceregistry/kube/conversion.go`
 * `ServiceHostname`), and matches hosts to it verbatim: a host of another domain names no Service of the cluster.
 *
 * The check does not guess the domain from the hosts: a typo (`cluster.locl`) is a host of another domain too, which
 * routes nowhere, and the rules that find a Service, its pods and its versions by host would pass it silently. So it
 * refuses a host of a domain other than the one it was given, and the fix says how to give the cluster's
 * (`SafetyCheck` option `clusterDomain`, the CLI's `--cluster-domain`, `MeshReleaseProps.clusterDomain`).
 */
import { parseServiceHostOfAnyDomain } from '../../../_conventions';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { IstioStage } from '../_reader';

export const CLUSTER_DOMAIN = defineRule({
  id: SafetyRule.CLUSTER_DOMAIN,
  findings: {
    otherDomain: {
      severity: Severity.ERROR,
      fix: (d: { domain: string; read: string }) => `if the cluster's DNS domain is '${d.domain}', check with it (SafetyCheck option clusterDomain: '${d.domain}', `
        + `mesh-release --cluster-domain ${d.domain}, MeshReleaseProps.clusterDomain); else write the host in '${d.read}'`,
    },
  },
  check({ current, previous, options }: RouterRuleInput<IstioStage>, report) {
    for (const [stage, when] of [[current, ''], [previous, ' (previous stage)']] as const) {
      for (const [object, host] of hostsOf(stage)) {
        const service = parseServiceHostOfAnyDomain(host);
        if (service && service.domain !== options.clusterDomain) {
          report('otherDomain', `${object}${when}`,
            `host '${host}' is Service '${service.name}' of namespace '${service.namespace}' in cluster domain '${service.domain}', but the check reads `
            + `in-cluster hosts in '${options.clusterDomain}': Istio knows a Service only by its name in the cluster's domain, and the rules that find `
            + 'its pods and versions by host cannot see it', { domain: service.domain, read: options.clusterDomain });
        }
      }
    }
  },
});

/** Each object and host of a stage's Istio objects (a DestinationRule's host, a VirtualService's hosts and destinations), once. */
function hostsOf(stage: IstioStage | undefined): Array<[string, string]> {
  const seen = new Set<string>();
  const found: Array<[string, string]> = [];
  const add = (object: string, host: string | undefined) => {
    if (host && !seen.has(`${object}|${host}`)) {
      seen.add(`${object}|${host}`);
      found.push([object, host]);
    }
  };
  for (const dr of stage?.destinationRules ?? []) {
    add(dr.object, dr.host);
  }
  for (const vs of stage?.virtualServices ?? []) {
    vs.hosts.forEach((host) => add(vs.object, host));
    vs.destinations.forEach((d) => add(vs.object, d.host));
  }
  return found;
}
