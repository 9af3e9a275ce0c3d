/** A subset or per-version Service leaves only after it left every route in an earlier stage. */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

const fix = (d: { shown: string }) => `remove ${d.shown} from the route in one stage, then remove it in the next`;

export const BACKEND_REMOVED_WHILE_ROUTED = defineRule({
  findings: {
    subset: { id: SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, severity: Severity.ERROR, fix },
    service: { id: SafetyRule.SERVICE_REMOVED_WHILE_ROUTED, severity: Severity.ERROR, fix },
  },
  check({ current, previous }: Transition, report) {
    if (!previous) {
      return;
    }
    const routedBefore = previous.referenced();
    for (const backend of previous.backends.values()) {
      if (backend.kind === 'host' || current.backends.has(backend.id) || !routedBefore.has(backend.id)) {
        continue;
      }
      if (backend.kind === 'subset') {
        const shown = `'${backend.name}'`;
        report('subset', backend.object, `subset ${shown} is removed while the previous stage's route still sends to it`, { shown });
      } else {
        report('service', backend.object, `${backend.label} is removed while the previous stage's route still sends to it`, { shown: backend.label });
      }
    }
  },
});
