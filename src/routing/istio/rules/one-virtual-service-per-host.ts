/** One VirtualService per host and gateway: Istio merges several unpredictably. */
import { compareText } from '../../../_util';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { IstioStage, IstioVirtualService } from '../_reader';

export const ONE_VIRTUAL_SERVICE_PER_HOST = defineRule({
  id: SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST,
  findings: {
    sharedHost: { severity: Severity.ERROR, fix: 'keep one VirtualService per host and gateway' },
  },
  check({ current }: RouterRuleInput<IstioStage>, report) {
    if (current.virtualServices.length < 2) {
      return;
    }
    // Every VirtualService after the first, by namespace and name (not by the order of the manifests), is reported,
    // naming the first.
    const identity = (vs: IstioVirtualService) => `${vs.namespace}/${vs.manifest.metadata?.name}`;
    const owners = new Map<string, IstioVirtualService>();
    for (const vs of [...current.virtualServices].sort((a, b) => compareText(identity(a), identity(b)))) {
      const written: unknown = vs.manifest.spec?.gateways;
      const gateways = Array.isArray(written) && written.length > 0 ? written : ['mesh'];
      for (const host of vs.hosts) {
        for (const gateway of gateways) {
          const key = `${host}|${gateway}`;
          const other = owners.get(key);
          if (other === undefined) {
            owners.set(key, vs);
          } else if (identity(other) !== identity(vs)) {
            const otherName = other.namespace === vs.namespace ? other.object : `${other.object} (namespace ${other.namespace})`;
            report('sharedHost', vs.object,
              `routes host ${host} on gateway '${gateway}' like ${otherName}: Istio merges the two unpredictably, so weights and routes of one are ignored`);
          }
        }
      }
    }
  },
});
