/**
 * A routable version a route sends to already existed in the previous stage: the proxies may receive the route
 * before the subset (subset-before-route) or before the Service's endpoints (service-before-route).
 */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const BACKEND_BEFORE_ROUTE = defineRule({
  findings: {
    subset: {
      id: SafetyRule.SUBSET_BEFORE_ROUTE,
      severity: Severity.ERROR,
      fix: (d: { name: string }) => `add subset '${d.name}' to the DestinationRule in a stage of its own, before the one that routes to it`,
    },
    service: {
      id: SafetyRule.SERVICE_BEFORE_ROUTE,
      severity: Severity.ERROR,
      fix: (d: { label: string }) => `add ${d.label} in a stage of its own, before the one that routes to it`,
    },
  },
  check({ current, previous }: Transition, report) {
    if (!previous) {
      return;
    }
    for (const route of current.facts.routes) {
      for (const rule of route.rules) {
        for (const t of rule.targets) {
          if (t.kind === 'host' || !current.backends.has(t.backendId) || previous.backends.has(t.backendId)) {
            continue;
          }
          if (t.kind === 'subset') {
            report('subset', rule.where, `routes to ${t.label}, which the previous stage did not define; the proxies may receive this route before the subset`, t);
          } else {
            report('service', rule.where, `routes to ${t.label}, which the previous stage did not define; the proxies may receive this route before the Service's endpoints`, t);
          }
        }
      }
    }
  },
});
