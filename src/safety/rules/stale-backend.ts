/** (warning) A subset or per-version Service that selects no pods, kept from the previous stage, and routed by nothing. */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

const fix = (d: { label: string }) => `remove ${d.label}, or deploy its version (keep routable objects in sync with the versions you run)`;

export const STALE_BACKEND = defineRule({
  findings: {
    subset: { id: SafetyRule.STALE_SUBSET, severity: Severity.WARNING, fix },
    service: { id: SafetyRule.STALE_SERVICE, severity: Severity.WARNING, fix },
  },
  check({ current, previous }: Transition, report) {
    if (!previous) {
      return;
    }
    const referenced = current.referenced();
    for (const backend of current.backends.values()) {
      if (backend.kind === 'host' || !backend.podsKnown || referenced.has(backend.id) || !previous.backends.has(backend.id)) {
        continue;
      }
      if (current.behind(backend).length === 0) {
        report(backend.kind, backend.object, `${backend.label} selects no pods and was already there in the previous stage: nothing runs or routes to it`, backend);
      }
    }
  },
});
