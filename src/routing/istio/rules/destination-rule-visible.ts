/** The DestinationRule of a host is visible where the routes are (its namespace, `exportTo`). */
import { parseServiceHost } from '../../../_conventions';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { ISTIO_ROOT_NAMESPACE, IstioDestinationRule, IstioStage, IstioVirtualService } from '../_reader';

export const DESTINATION_RULE_VISIBLE = defineRule({
  id: SafetyRule.DESTINATION_RULE_VISIBLE,
  findings: {
    /** Istio looks for a host's DestinationRule only where the callers are, where the Service is, and in the root namespace. */
    otherNamespace: {
      severity: Severity.ERROR,
      fix: (d: { serviceNamespace: string }) => `move the DestinationRule to namespace '${d.serviceNamespace}'`,
    },
    notExported: { severity: Severity.ERROR, fix: "drop exportTo (or use ['*']) on a DestinationRule whose subsets are routed" },
  },
  check({ current, options }: RouterRuleInput<IstioStage>, report) {
    if (current.destinationRules.length === 0) {
      return;
    }
    const order = new Map(current.destinationRules.map((dr, i) => [dr, i]));
    for (const vs of current.virtualServices) {
      // Subsets it routes to, as `<host>#<subset>`, and the DestinationRules of their hosts.
      const routedSubsets = new Set<string>();
      const candidates = new Set<IstioDestinationRule>();
      for (const d of vs.destinations) {
        if (d.kind === 'subset') {
          routedSubsets.add(`${d.host}#${d.name}`);
          for (const dr of current.destinationRulesByHost.get(d.host!) ?? []) {
            candidates.add(dr);
          }
        }
      }
      for (const dr of [...candidates].sort((a, b) => order.get(a)! - order.get(b)!)) {
        if (!dr.subsets.some((s: any) => routedSubsets.has(`${dr.host}#${s?.name}`))) {
          continue;
        }
        const serviceNamespace = parseServiceHost(dr.host, options.clusterDomain)?.namespace;
        // A host outside the cluster domain (a ServiceEntry, or a Service of another cluster domain
        // than the one given) has no Service namespace to compare with.
        if (serviceNamespace !== undefined && dr.namespace !== serviceNamespace && dr.namespace !== ISTIO_ROOT_NAMESPACE) {
          report('otherNamespace', dr.object,
            `is in namespace '${dr.namespace}', but Istio looks for the DestinationRule of ${dr.host} only in the caller's namespace, the service's namespace ('${serviceNamespace}') and the root namespace: callers elsewhere see none of its subsets (503)`,
            { serviceNamespace });
        }
        const exportTo: unknown = dr.manifest.spec?.exportTo;
        if (Array.isArray(exportTo) && exportTo.length > 0 && !exportTo.includes('*') && !exportedWithin(vs, exportTo, dr.namespace)) {
          report('notExported', dr.object,
            `exportTo ${JSON.stringify(exportTo)} hides its subsets from callers in other namespaces, while ${vs.object} routes their requests to them (503)`);
        }
      }
    }
  },
});

/**
 * Whether every namespace the VirtualService is exported to also sees the DestinationRule
 * (`.` is the object's own namespace; a VirtualService without exportTo is exported everywhere).
 */
function exportedWithin(vs: IstioVirtualService, drExportTo: unknown[], drNamespace: string): boolean {
  const vsExportTo: unknown = vs.manifest.spec?.exportTo;
  if (!Array.isArray(vsExportTo) || vsExportTo.length === 0 || vsExportTo.includes('*')) {
    return false;
  }
  const seen = new Set(drExportTo.map((n) => (n === '.' ? drNamespace : n)));
  return vsExportTo.every((n) => n === '~' || seen.has(n === '.' ? vs.namespace : n));
}
