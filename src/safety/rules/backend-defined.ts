/**
 * Every routable version a route sends to exists in this stage: an Istio subset is defined by a DestinationRule
 * (subset-defined), a Service a route names exists (service-defined).
 */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const BACKEND_DEFINED = defineRule({
  findings: {
    subset: {
      id: SafetyRule.SUBSET_DEFINED,
      severity: Severity.ERROR,
      fix: (d: { name: string; host?: string }) => `add subset '${d.name}' to the DestinationRule of ${d.host} in an earlier stage`,
    },
    service: {
      id: SafetyRule.SERVICE_DEFINED,
      severity: Severity.ERROR,
      fix: (d: { label: string }) => `create ${d.label} in an earlier stage`,
    },
  },
  check({ current }: Transition, report) {
    for (const route of current.facts.routes) {
      for (const rule of route.rules) {
        for (const t of rule.targets) {
          if (t.kind === 'host' || current.backends.has(t.backendId)) {
            continue;
          }
          if (t.kind === 'subset') {
            report('subset', rule.where, `routes to ${t.label}, which no DestinationRule of this stage defines, so Envoy answers 503 (no healthy upstream)`, t);
          } else {
            report('service', rule.where, `routes to ${t.label}, which does not exist in this stage, so the route has no endpoints for it (503)`, t);
          }
        }
      }
    }
  },
});
