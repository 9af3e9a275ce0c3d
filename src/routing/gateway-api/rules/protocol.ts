/**
 * An HTTPRoute attached to a Service (GAMMA) routes an HTTP port of it: Istio applies a mesh route only to the
 * Service ports it treats as HTTP (the appProtocol or the port name's prefix; an unknown one is sniffed), as it does
 * a VirtualService's `http` routes, so on a TCP port (`tcp-db`, `mongo`, appProtocol `tcp`) the route's weights do
 * nothing and the version-free Service reaches every version. A route attached to a Gateway is applied by the
 * Gateway's HTTP listener, whatever its backends' port names: not checked.
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
import { nonHttpProtocol } from '../../../_conventions';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { GatewayApiStage } from '../_reader';

export const HTTP_ROUTE_PROTOCOL = defineRule({
  id: SafetyRule.PROTOCOL,
  findings: {
    httpRouteOnOtherPorts: {
      severity: Severity.ERROR,
      fix: "name the Service port 'http' (or set appProtocol http, http2 or grpc), or route the port with a TCPRoute",
    },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const route of current.routes) {
      const parentRefs: any[] = Array.isArray(route.manifest.spec?.parentRefs) ? route.manifest.spec.parentRefs : [];
      for (const parent of parentRefs.filter((p) => p?.group === '' && p?.kind === 'Service')) {
        const key = `${parent.namespace ?? route.namespace}/${parent.name}`;
        const ports: unknown = current.services.get(key)?.spec?.ports;
        if (!Array.isArray(ports)) {
          continue;
        }
        // `port` on the parentRef attaches the route to that port only
        const attached = parent.port === undefined ? ports : ports.filter((p) => p?.port === parent.port);
        const protocols = attached.map(nonHttpProtocol);
        if (attached.length > 0 && protocols.every((p) => p !== undefined)) {
          report('httpRouteOnOtherPorts', route.object,
            `is attached to Service ${key}${parent.port === undefined ? '' : ` port ${parent.port}`}, whose ${attached.length > 1 ? 'ports are' : 'port is'} ${protocols.join(', ')}: Istio applies a route attached to a Service to its HTTP ports only, so its weights do nothing and the Service reaches every version`);
        }
      }
    }
  },
});
