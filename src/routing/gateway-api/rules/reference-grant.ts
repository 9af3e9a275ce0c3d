/** A Service a route sends to in another namespace is allowed by a ReferenceGrant there, or the backendRef is not resolved (500). */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { GATEWAY_API_GROUP, GatewayApiStage, GatewayRoute, ServiceRef } from '../_reader';

export const REFERENCE_GRANT = defineRule({
  id: SafetyRule.REFERENCE_GRANT,
  findings: {
    notGranted: {
      severity: Severity.ERROR,
      fix: (d: { namespace: string; routeNamespace: string; name: string }) =>
        `add a ReferenceGrant in namespace '${d.namespace}' from HTTPRoute in '${d.routeNamespace}' to Service '${d.name}', in a stage before this one`,
    },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const route of current.routes) {
      for (const ref of route.refs) {
        if (ref.namespace === route.namespace || granted(current, route, ref)) {
          continue;
        }
        report('notGranted', `${route.object} rules[${ref.rule}]`,
          `${ref.mirror ? 'mirrors' : 'routes'} to Service ${ref.namespace}/${ref.name} in another namespace, which no ReferenceGrant in '${ref.namespace}' allows for HTTPRoutes of '${route.namespace}': the backendRef is not resolved and its share of requests fails (500)`,
          { namespace: ref.namespace, routeNamespace: route.namespace, name: ref.name });
      }
    }
  },
});

function granted(stage: GatewayApiStage, route: GatewayRoute, ref: ServiceRef): boolean {
  return stage.grants.some((g) => stage.stage.namespaceOf(g) === ref.namespace
    && (g.spec?.from ?? []).some((f: any) => f?.group === GATEWAY_API_GROUP && f?.kind === 'HTTPRoute' && f?.namespace === route.namespace)
    && (g.spec?.to ?? []).some((t: any) => (t?.group ?? '') === '' && t?.kind === 'Service' && (t?.name === undefined || t.name === ref.name)));
}
