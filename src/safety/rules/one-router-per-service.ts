/**
 * One kind of route per Service in the mesh. Istio turns an HTTPRoute attached to a Service (GAMMA) into a
 * VirtualService of the Service's host, and does not merge the VirtualServices of one host on the mesh: it keeps one
 * (istio/istio#36621: "There is no merging for mesh"; a route of the caller's namespace is preferred,
 * `SelectVirtualServices` in pilot/pkg/model/virtualservice.go), so with a VirtualService and an HTTPRoute for one
 * Service, which one routes is undefined and the other's weights do nothing.
 */
import { compareText, push } from '../../_util';
import { ServiceRouteFacts } from '../_facts';
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const ONE_ROUTER_PER_SERVICE = defineRule({
  id: SafetyRule.ONE_ROUTER_PER_SERVICE,
  findings: {
    twoKinds: {
      severity: Severity.ERROR,
      fix: 'route each Service with one API: remove the VirtualService or the HTTPRoute of the Service (one router per release)',
    },
  },
  check({ current }: Transition, report) {
    const byService = new Map<string, ServiceRouteFacts[]>();
    for (const route of current.facts.serviceRoutes) {
      push(byService, route.service, route);
    }
    for (const [service, routes] of byService) {
      if (new Set(routes.map((r) => r.kind)).size < 2) {
        continue;
      }
      // Named by kind, then namespace and name: the same report whatever the order of the manifests.
      const sorted = [...routes].sort((a, b) =>
        compareText(a.kind, b.kind) || compareText(a.namespace, b.namespace) || compareText(a.object, b.object));
      const first = sorted[0];
      for (const route of sorted.filter((r) => r.kind !== first.kind)) {
        const firstName = first.namespace === route.namespace ? first.object : `${first.object} (namespace ${first.namespace})`;
        report('twoKinds', route.object,
          `routes the in-mesh requests to Service ${service}, like ${firstName}: Istio does not merge a VirtualService and an HTTPRoute of one Service and keeps one of them, which one is undefined, so the other's weights and routes do nothing`);
      }
    }
  },
});
