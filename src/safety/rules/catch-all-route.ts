/** A route with match rules ends with a catch-all rule (no match). */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const CATCH_ALL_ROUTE = defineRule({
  id: SafetyRule.CATCH_ALL_ROUTE,
  findings: {
    lastRuleMatches: {
      severity: Severity.ERROR,
      fix: (d: { list: string }) => `end ${d.list} with a route that has no match and carries the weighted destinations`,
    },
  },
  check({ current }: Transition, report) {
    for (const route of current.facts.routes) {
      const last = route.rules[route.rules.length - 1];
      if (route.needsCatchAll && last?.hasMatch) {
        report('lastRuleMatches', last.where, 'the last route has a match, so requests matching none of the routes get 404 (no route)', { list: route.list });
      }
    }
  },
});
