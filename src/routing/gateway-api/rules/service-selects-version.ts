/**
 * The Service a GAMMA route attaches to selects no version: callers the route does not apply to (outside the mesh,
 * before the route is programmed) reach its pods directly. A route that sends a per-version Service's requests to
 * that Service only (a filter on its own traffic, as in the Gateway API's mesh conformance tests MeshPorts and
 * MeshFrontend: conformance/tests/mesh/mesh-ports.yaml in kubernetes-sigs/gateway-api) chooses no version: its
 * callers reach the same pods either way.
 */
import { Labels, VERSION_LABEL } from '../../../_conventions';
import { objectName } from '../../../safety/_facts';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { GatewayApiStage } from '../_reader';

export const SERVICE_SELECTS_VERSION = defineRule({
  id: SafetyRule.SERVICE_SELECTS_VERSION,
  findings: {
    versionLabel: {
      severity: Severity.ERROR,
      fix: 'select on the app label only and let the HTTPRoute backendRefs (one Service per version) pick versions',
    },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const route of current.routes) {
      if (route.parents.length === 0) {
        continue;
      }
      // The labels that tell versions apart: `version`, and any label the backends' selectors give different values.
      const backendSelectors: Labels[] = route.refs.map((r) => current.services.get(`${r.namespace}/${r.name}`)).filter((s) => s !== undefined)
        .map((s) => s.spec?.selector ?? {});
      const versionKeys = new Set([VERSION_LABEL, ...backendSelectors.flatMap((s) => Object.keys(s))
        .filter((key) => new Set(backendSelectors.map((s) => s[key])).size > 1)]);
      const sendsTo = new Set(route.refs.filter((r) => !r.mirror).map((r) => `${r.namespace}/${r.name}`));
      for (const parent of route.parents) {
        if (sendsTo.size === 1 && sendsTo.has(parent)) {
          continue;
        }
        const service = current.services.get(parent);
        const selector: Labels = service?.spec?.selector ?? {};
        for (const key of Object.keys(selector).filter((k) => versionKeys.has(k))) {
          report('versionLabel', objectName(service),
            `selector has '${key}: ${selector[key]}', a label that tells versions apart, while ${route.object} routes its traffic by weight: callers the route does not apply to (outside the mesh, or before the route is programmed) reach one version only, and a shift drops their requests`);
        }
      }
    }
  },
});
