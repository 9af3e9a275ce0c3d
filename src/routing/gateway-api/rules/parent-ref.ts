/**
 * An HTTPRoute has parentRefs, and every one attaches (see `../_parents.ts` for when one does not and the sources):
 * a Service parent has `group: ""`, exists in the stage and, when it names a port, a port of the Service. A route none of whose parentRefs
 * attaches routes nothing: the reader adds no route of it to the facts, so its weights are not counted.
 */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { describeParent } from '../_parents';
import { GatewayApiStage } from '../_reader';

export const PARENT_REF = defineRule({
  id: SafetyRule.PARENT_REF,
  findings: {
    none: {
      severity: Severity.ERROR,
      fix: 'add a parentRef: the Service the route applies to (group: "", kind: Service) or a Gateway',
    },
    serviceGroup: {
      severity: Severity.ERROR,
      fix: 'set group: "" in the parentRef (Service is in the core group; left out, the group is gateway.networking.k8s.io)',
    },
    serviceMissing: {
      severity: Severity.ERROR,
      fix: (d: { service: string }) => `create Service ${d.service} in a stage before, or name an existing Service in the parentRef`,
    },
    servicePort: {
      severity: Severity.ERROR,
      fix: (d: { service: string; ports: string }) =>
        `set port to one of the ports of Service ${d.service} (spec.ports[].port: ${d.ports}), or leave it out to route every port of the Service`,
    },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const route of current.routes) {
      const effect = route.attached
        ? 'the route does not apply there'
        : 'no parentRef of the route attaches, so it routes nothing (its weights do not apply: requests to its parents reach their own endpoints)';
      if (route.parentRefs.length === 0) {
        report('none', route.object, 'has no parentRefs: it attaches to nothing, so it routes nothing (its weights do not apply)');
      }
      for (const parent of route.parentRefs) {
        const where = `${route.object} parentRefs[${parent.index}]`;
        if (parent.detached === 'serviceGroup') {
          const group = parent.groupLeftOut ? 'without group "": the group defaults to gateway.networking.k8s.io, which' : `in group '${parent.group}', which`;
          report('serviceGroup', where,
            `names ${describeParent(parent)} ${group} has no kind Service, so the parentRef attaches to nothing; ${effect}`);
        } else if (parent.detached === 'serviceMissing') {
          report('serviceMissing', where,
            `names ${describeParent(parent)}, which does not exist in this stage: Istio does not accept the parent ("parent service not found"), so the parentRef attaches to nothing; ${effect}`,
            { service: parent.service! });
        } else if (parent.detached === 'servicePort') {
          const service = current.services.get(parent.service!);
          const ports = (service.spec.ports as any[]).map((p) => p?.port).join(', ');
          report('servicePort', where,
            `names port ${parent.port} of Service ${parent.service}, whose ports are ${ports}: the route applies to requests to that port only, and there are none; ${effect}`,
            { service: parent.service!, ports });
        }
      }
    }
  },
});
