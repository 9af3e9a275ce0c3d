/**
 * One HTTPRoute rule without match per parent and hostname. The Gateway API merges the rules of the routes on a
 * parent, and of two rules with the same matches the one of the oldest route takes the requests, ties broken by
 * namespace/name (see `../_parents.ts`): the other rule's split is dead. The check reads YAML without creation times,
 * so it reports the pair, naming both.
 */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { describeParent } from '../_parents';
import { GatewayApiStage } from '../_reader';

export const ONE_CATCH_ALL_PER_PARENT = defineRule({
  id: SafetyRule.ONE_CATCH_ALL_PER_PARENT,
  findings: {
    twoCatchAlls: {
      severity: Severity.ERROR,
      fix: 'keep one rule without match per parent: merge the weighted backendRefs of both into one route, or give one of the rules matches',
    },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const { first, other, host } of current.catchAllConflicts()) {
      const firstName = first.route.namespace === other.route.namespace ? first.route.catchAll!.where : `${first.route.catchAll!.where} (namespace ${first.route.namespace})`;
      const hostname = host === '' || host === '*' ? '' : ` for hostname ${host}`;
      report('twoCatchAlls', other.route.catchAll!.where,
        `takes every request on ${describeParent(other.parent)}${hostname}, like ${firstName}: only the older route's rule receives them (between routes created together, the first by namespace/name: ${first.route.object}), so the other's split is dead`);
    }
  },
});
