/**
 * Every port an HTTPRoute backendRef or RequestMirror names is a port of its Service (`spec.ports[].port`, not a
 * targetPort): Istio builds the destination of the port as written (`buildDestination` in istio/istio
 * pilot/pkg/config/kube/gateway/conversion.go), so a port the Service lacks sends its share to a cluster that does not
 * exist (503); a backendRef to a Service without a port is invalid ("port is required in backendRef": 500).
 */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { GatewayApiStage } from '../_reader';

export const SERVICE_PORT = defineRule({
  id: SafetyRule.SERVICE_PORT,
  findings: {
    notAServicePort: {
      severity: Severity.ERROR,
      fix: (d: { service: string; ports: string }) => `set port to one of the ports of Service ${d.service} (spec.ports[].port: ${d.ports}), not a targetPort`,
    },
    noPort: {
      severity: Severity.ERROR,
      fix: (d: { service: string; ports: string }) => `set port to one of the ports of Service ${d.service} (spec.ports[].port: ${d.ports})`,
    },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const route of current.routes) {
      for (const ref of route.refs) {
        const service = `${ref.namespace}/${ref.name}`;
        const written: unknown = current.services.get(service)?.spec?.ports;
        const ports: unknown[] = Array.isArray(written) ? written.map((p) => p?.port) : [];
        // A backendRef of weight 0 gets no request: its port drops nothing (yet).
        if (ports.length === 0 || ports.includes(ref.port) || ref.weight === 0) {
          continue;
        }
        const verb = ref.mirror ? 'mirrors' : 'routes';
        const details = { service, ports: ports.join(', ') };
        if (ref.port === undefined) {
          report('noPort', `${route.object} rules[${ref.rule}]`,
            `${verb} to Service ${service} without a port: the backendRef is invalid and its share of requests fails (500)`, details);
        } else {
          report('notAServicePort', `${route.object} rules[${ref.rule}]`,
            `${verb} to port ${String(ref.port)} of Service ${service}, whose ports are ${details.ports}: Istio sends that share to a destination for port ${String(ref.port)}, which does not exist (503)`,
            details);
        }
      }
    }
  },
});
