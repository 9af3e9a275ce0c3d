/** (warning) A VirtualService bound to gateways lists `mesh` too, or in-mesh callers bypass it. */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { IstioStage } from '../_reader';

export const GATEWAYS_WITHOUT_MESH = defineRule({
  id: SafetyRule.GATEWAYS_WITHOUT_MESH,
  findings: {
    meshMissing: { severity: Severity.WARNING, fix: "add 'mesh' to gateways (or route in-mesh callers with a VirtualService of their own)" },
  },
  check({ current }: RouterRuleInput<IstioStage>, report) {
    for (const vs of current.virtualServices) {
      const gateways: unknown = vs.manifest.spec?.gateways;
      if (!Array.isArray(gateways) || gateways.length === 0 || gateways.includes('mesh')) {
        continue;
      }
      const internal = vs.hosts.filter((h) => current.services.has(h));
      if (internal.length > 0) {
        report('meshMissing', vs.object,
          `is bound to ${gateways.join(', ')} only, so in-mesh callers of ${internal.join(', ')} bypass its weights and reach every version the Service selects`);
      }
    }
  },
});
