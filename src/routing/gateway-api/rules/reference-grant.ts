/**
 * A Service a route sends to in another namespace is allowed by a ReferenceGrant there, or the backendRef is not
 * resolved (500). The grant is created in a stage before the one whose route needs it, and deleted in a stage after
 * the one whose route stops needing it: applied together, the proxies may receive the route before the grant (or lose
 * the grant before they receive the route that no longer needs it), and Istio refuses the backendRef meanwhile
 * ("backendRef ... not accessible ... (missing a ReferenceGrant?)", `buildDestination` in istio/istio
 * pilot/pkg/config/kube/gateway/conversion.go).
 *
 * Only a route attached to a Gateway needs the grant: Istio enforces it for Gateway parents only
 * (`convertHTTPRoute(ctx, r, obj, n, !mesh)` in pilot/pkg/config/kube/gateway/route_collections.go), and the Gateway
 * API's mesh conformance test MeshConsumerRoute (conformance/tests/mesh/mesh-consumer-route.yaml in
 * kubernetes-sigs/gateway-api) requires a consumer route to reach a Service of another namespace without one.
 */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { GATEWAY_API_GROUP, GatewayApiStage, GatewayRoute, ServiceRef } from '../_reader';

type Grant = { namespace: string; routeNamespace: string; name: string };

export const REFERENCE_GRANT = defineRule({
  id: SafetyRule.REFERENCE_GRANT,
  findings: {
    notGranted: {
      severity: Severity.ERROR,
      fix: (d: Grant) => `add a ReferenceGrant in namespace '${d.namespace}' from HTTPRoute in '${d.routeNamespace}' to Service '${d.name}', in a stage before this one`,
    },
    grantedInSameStage: {
      severity: Severity.ERROR,
      fix: (d: Grant) =>
        `create the ReferenceGrant in namespace '${d.namespace}' from HTTPRoute in '${d.routeNamespace}' to Service '${d.name}' in a stage before the one that routes to it`,
    },
    grantRemovedInSameStage: {
      severity: Severity.ERROR,
      fix: (d: Grant) =>
        `keep the ReferenceGrant in namespace '${d.namespace}' from HTTPRoute in '${d.routeNamespace}' to Service '${d.name}' until the stage after the one where no HTTPRoute of '${d.routeNamespace}' sends to it`,
    },
  },
  check({ current, previous }: RouterRuleInput<GatewayApiStage>, report) {
    const verb = (ref: ServiceRef) => (ref.mirror ? 'mirrors' : 'routes');
    for (const route of current.routes) {
      for (const ref of crossNamespace(route)) {
        const details = { namespace: ref.namespace, routeNamespace: route.namespace, name: ref.name };
        if (!granting(current, route.namespace, ref).length) {
          report('notGranted', `${route.object} rules[${ref.rule}]`,
            `${verb(ref)} to Service ${ref.namespace}/${ref.name} in another namespace, which no ReferenceGrant in '${ref.namespace}' allows for HTTPRoutes of '${route.namespace}': the backendRef is not resolved and its share of requests fails (500)`,
            details);
        } else if (previous && !granting(previous, route.namespace, ref).length && !names(previous, route, ref)) {
          report('grantedInSameStage', `${route.object} rules[${ref.rule}]`,
            `${verb(ref)} to Service ${ref.namespace}/${ref.name} in another namespace, allowed by a ReferenceGrant this stage creates: the proxies may receive the route before the grant, and its share of requests fails (500) meanwhile`,
            details);
        }
      }
    }
    for (const route of previous?.routes ?? []) {
      for (const ref of crossNamespace(route)) {
        const grants = granting(previous!, route.namespace, ref);
        if (grants.length === 0 || granting(current, route.namespace, ref).length > 0 || names(current, route, ref)) {
          continue;
        }
        report('grantRemovedInSameStage', `ReferenceGrant/${grants[0].metadata?.name}`,
          `no longer allows HTTPRoutes of '${route.namespace}' to reach Service ${ref.namespace}/${ref.name} in the stage where ${route.object} stops sending to it: the proxies may lose the grant before they receive the new route, and that share of requests fails (500) meanwhile`,
          { namespace: ref.namespace, routeNamespace: route.namespace, name: ref.name });
      }
    }
  },
});

/** The Services a route names in another namespace, when it attaches to a Gateway (mesh parents need no grant). */
function crossNamespace(route: GatewayRoute): ServiceRef[] {
  const gateway = route.parentRefs.some((p) => p.detached === undefined && p.kind !== 'Service' && p.kind !== 'ServiceEntry');
  return gateway ? route.refs.filter((ref) => ref.namespace !== route.namespace) : [];
}

/** Whether the route of the same namespace and name as `route` in `stage` names the Service of `ref`. */
function names(stage: GatewayApiStage, route: GatewayRoute, ref: ServiceRef): boolean {
  return stage.routes.some((r) => r.namespace === route.namespace && r.manifest.metadata?.name === route.manifest.metadata?.name
    && r.refs.some((x) => x.namespace === ref.namespace && x.name === ref.name));
}

/** The ReferenceGrants of `stage` that allow HTTPRoutes of `routeNamespace` to reach the Service of `ref`. */
function granting(stage: GatewayApiStage, routeNamespace: string, ref: ServiceRef): any[] {
  return stage.grants.filter((g) => stage.stage.namespaceOf(g) === ref.namespace
    && (g.spec?.from ?? []).some((f: any) => f?.group === GATEWAY_API_GROUP && f?.kind === 'HTTPRoute' && f?.namespace === routeNamespace)
    && (g.spec?.to ?? []).some((t: any) => (t?.group ?? '') === '' && t?.kind === 'Service' && (t?.name === undefined || t.name === ref.name)));
}
