/**
 * Rules that only make sense for the Gateway API, on plain manifests. The shared rules cover
 * the rest through the reader: service-defined, service-before-route, destination-ready,
 * service-removed-while-routed, deployment-removed-while-service, stale-service, weights,
 * catch-all-route (GAMMA and Gateways answer 404 to a request no rule matches), capacity,
 * retry-budget.
 */
import { GATEWAY_API_GROUP, isGatewayApi, serviceParents, serviceRefs } from './_reader';
import { Labels, VERSION_LABEL } from '../../_conventions';
import { ReadOptions, objectName } from '../../safety/_facts';
import { Report } from '../../safety/_rules';
import { SafetyRule, Severity } from '../../safety/safety-rule';

export function checkGatewayApi(manifests: any[], options: ReadOptions, report: Report): void {
  const ns = (m: any): string => m?.metadata?.namespace ?? options.namespace;
  const routes = manifests.filter((m) => isGatewayApi(m, 'HTTPRoute'));
  const services = new Map<string, any>(manifests.filter((m) => m?.kind === 'Service' && m.apiVersion === 'v1')
    .map((s) => [`${ns(s)}/${s.metadata?.name}`, s]));
  const grants = manifests.filter((m) => isGatewayApi(m, 'ReferenceGrant'));

  for (const route of routes) {
    const refs = serviceRefs(route, options.namespace);

    // The Service a GAMMA route attaches to selects no version: callers the route does not
    // apply to (outside the mesh, before the route is programmed) reach its pods directly.
    const backendSelectors: Labels[] = refs.map((r) => services.get(`${r.namespace}/${r.name}`)).filter((s) => s !== undefined)
      .map((s) => s.spec?.selector ?? {});
    const versionKeys = new Set([VERSION_LABEL, ...backendSelectors.flatMap((s) => Object.keys(s))
      .filter((key) => new Set(backendSelectors.map((s) => s[key])).size > 1)]);
    for (const parent of serviceParents(route, options.namespace)) {
      const service = services.get(parent);
      const selector: Labels = service?.spec?.selector ?? {};
      for (const key of Object.keys(selector).filter((k) => versionKeys.has(k))) {
        report(SafetyRule.SERVICE_SELECTS_VERSION, Severity.ERROR, objectName(service),
          `selector has '${key}: ${selector[key]}', a label that tells versions apart, while ${objectName(route)} routes its traffic by weight: callers the route does not apply to (outside the mesh, or before the route is programmed) reach one version only, and a shift drops their requests`,
          'select on the app label only and let the HTTPRoute backendRefs (one Service per version) pick versions');
      }
    }

    // A backendRef to another namespace needs a ReferenceGrant there, or it is not resolved (500).
    for (const ref of refs.filter((r) => r.namespace !== ns(route))) {
      const granted = grants.some((g) => ns(g) === ref.namespace
        && (g.spec?.from ?? []).some((f: any) => f?.group === GATEWAY_API_GROUP && f?.kind === 'HTTPRoute' && f?.namespace === ns(route))
        && (g.spec?.to ?? []).some((t: any) => (t?.group ?? '') === '' && t?.kind === 'Service' && (t?.name === undefined || t.name === ref.name)));
      if (!granted) {
        report(SafetyRule.REFERENCE_GRANT, Severity.ERROR, `${objectName(route)} rules[${ref.rule}]`,
          `${ref.mirror ? 'mirrors' : 'routes'} to Service ${ref.namespace}/${ref.name} in another namespace, which no ReferenceGrant in '${ref.namespace}' allows for HTTPRoutes of '${ns(route)}': the backendRef is not resolved and its share of requests fails (500)`,
          `add a ReferenceGrant in namespace '${ref.namespace}' from HTTPRoute in '${ns(route)}' to Service '${ref.name}', in a stage before this one`);
      }
    }
  }
}
