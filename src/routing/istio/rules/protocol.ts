/** A VirtualService routes the protocol of the Service port: `http` routes do nothing on a port Istio does not treat as HTTP. */
import { nonHttpProtocol } from '../../../_conventions';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { IstioStage } from '../_reader';

export const PROTOCOL = defineRule({
  id: SafetyRule.PROTOCOL,
  findings: {
    httpOnOtherPorts: {
      severity: Severity.ERROR,
      fix: "name the Service port 'http' (or set appProtocol http/http2/grpc), or route the port with tcp routes",
    },
  },
  check({ current }: RouterRuleInput<IstioStage>, report) {
    for (const vs of current.virtualServices) {
      if (!vs.manifest.spec?.http?.length) {
        continue;
      }
      const hosts = new Set<string>();
      for (const d of vs.destinations) {
        if (d.host) {
          hosts.add(d.host);
        }
      }
      for (const host of hosts) {
        const ports: unknown = current.services.get(host)?.spec?.ports;
        if (!Array.isArray(ports) || ports.length === 0) {
          continue;
        }
        const protocols = ports.map(nonHttpProtocol);
        if (protocols.every((p) => p !== undefined)) {
          report('httpOnOtherPorts', vs.object,
            `has http routes for ${host}, whose Service ports are ${protocols.join(', ')}: Istio applies http routes to HTTP ports only, so its weights do nothing`);
        }
      }
    }
  },
});
