/** Pods that require mutual TLS (STRICT PeerAuthentication) are not called in plain text (tls mode DISABLE). */
import { Labels, parseServiceHost, selects } from '../../../_conventions';
import { objectName } from '../../../safety/_facts';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { ISTIO_ROOT_NAMESPACE, IstioStage } from '../_reader';

export const MTLS_MODE = defineRule({
  id: SafetyRule.MTLS_MODE,
  findings: {
    plainTextToStrict: { severity: Severity.ERROR, fix: 'use tls mode ISTIO_MUTUAL (or drop the tls setting)' },
  },
  check({ current, options }: RouterRuleInput<IstioStage>, report) {
    const policies = current.destinationRules.length > 0 ? current.peerAuthentications : [];
    if (policies.length === 0) {
      return;
    }
    for (const dr of current.destinationRules) {
      const target = parseServiceHost(dr.host, options.clusterDomain);
      const selector: Labels = current.services.get(dr.host)?.spec?.selector ?? {};
      const required = target && strictPolicyOf(policies, target.namespace, selector, (m) => current.stage.namespaceOf(m));
      if (!required) {
        continue;
      }
      const settings: Array<[string, any]> = [['trafficPolicy', dr.manifest.spec?.trafficPolicy],
        ...dr.subsets.map((s: any) => [`subset '${s?.name}'`, s?.trafficPolicy] as [string, any])];
      for (const [where, policy] of settings) {
        const modes = [policy?.tls?.mode, ...(policy?.portLevelSettings ?? []).map((p: any) => p?.tls?.mode)];
        if (modes.includes('DISABLE')) {
          report('plainTextToStrict', `${dr.object} ${where}`,
            `sets tls mode DISABLE (plain text) towards pods of ${dr.host}, which ${objectName(required)} requires to use mutual TLS (STRICT): every request is refused`);
        }
      }
    }
  },
});

/** Whether a PeerAuthentication's selector can select pods the Service selects (an empty selector selects all). */
function overlaps(selector: Labels, serviceSelector: Labels): boolean {
  return Object.keys(selector).length === 0 || selects(selector, serviceSelector) || selects(serviceSelector, selector)
    || Object.entries(selector).every(([k, v]) => serviceSelector[k] === undefined || serviceSelector[k] === v);
}

/**
 * The PeerAuthentication that makes the pods of a Service require mutual TLS, if the policy that
 * applies to them is STRICT. Istio takes the most specific policy: one selecting the workload in
 * its namespace, else the namespace-wide one (no selector), else the mesh-wide one (root namespace,
 * no selector); `UNSET` (or no mtls) inherits from the next level.
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
function strictPolicyOf(policies: readonly any[], namespace: string, serviceSelector: Labels, ns: (m: any) => string): any | undefined {
  const selectorOf = (pa: any): Labels => pa.spec?.selector?.matchLabels ?? {};
  const levels = [
    policies.filter((pa) => ns(pa) === namespace && Object.keys(selectorOf(pa)).length > 0 && overlaps(selectorOf(pa), serviceSelector)),
    policies.filter((pa) => ns(pa) === namespace && Object.keys(selectorOf(pa)).length === 0),
    policies.filter((pa) => ns(pa) === ISTIO_ROOT_NAMESPACE && Object.keys(selectorOf(pa)).length === 0),
  ];
  for (const level of levels) {
    const decided = level.filter((pa) => pa.spec?.mtls?.mode !== undefined && pa.spec.mtls.mode !== 'UNSET');
    if (decided.length > 0) {
      return decided.find((pa) => pa.spec.mtls.mode === 'STRICT');
    }
  }
  return undefined;
}
