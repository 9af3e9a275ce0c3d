/**
 * Every HTTPRoute rule sends what it matches somewhere: to backendRefs, or as a RequestRedirect. A rule with neither
 * answers every request it matches with an error: Istio 500 (`weightSum(r.BackendRefs) == 0 && vs.Redirect == nil`
 * in istio/istio pilot/pkg/config/kube/gateway/conversion.go, istio/istio#59356), 404 in the Gateway API spec.
 */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { GatewayApiStage } from '../_reader';

export const RULE_HAS_BACKENDS = defineRule({
  id: SafetyRule.RULE_HAS_BACKENDS,
  findings: {
    noBackends: {
      severity: Severity.ERROR,
      fix: 'give the rule backendRefs (or a RequestRedirect filter), or remove the rule',
    },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const route of current.routes) {
      for (const rule of route.withoutBackends) {
        const matched = rule.hasMatch ? `the requests it matches (${rule.matchText})` : 'every request it takes';
        report('noBackends', rule.where,
          `has no backendRefs and no RequestRedirect filter: ${matched} get an error instead of a response (Istio answers 500, the Gateway API spec 404)`);
      }
    }
  },
});
