/**
 * A route with match rules ends with a catch-all rule (no match). A route bound to gateways only needs one when its
 * previous version had one: the requests it leaves unmatched were never answered by a Service's own endpoints (an
 * ingress route exposing some paths, like Istio's Bookinfo gateway in istio/istio
 * samples/bookinfo/networking/bookinfo-gateway.yaml), unless that route took them until now.
 */
import { RouteFacts } from '../_facts';
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
  check({ current, previous }: Transition, report) {
    const before = new Map((previous?.facts.routes ?? []).map((r) => [`${r.namespace}/${r.object}`, r]));
    const tookEverything = (route?: RouteFacts) => route !== undefined && route.rules.some((r) => !r.hasMatch);
    for (const route of current.facts.routes) {
      const last = route.rules[route.rules.length - 1];
      if (!route.needsCatchAll || !last?.hasMatch) {
        continue;
      }
      if (!route.gatewayOnly) {
        report('lastRuleMatches', last.where, 'the last route has a match, so requests matching none of the routes get 404 (no route)', { list: route.list });
      } else if (tookEverything(before.get(`${route.namespace}/${route.object}`))) {
        report('lastRuleMatches', last.where, 'the last route has a match, and in the previous stage this route, bound to gateways only, took every request: '
          + 'requests matching none of the routes now get 404 (no route)', { list: route.list });
      }
    }
  },
});
