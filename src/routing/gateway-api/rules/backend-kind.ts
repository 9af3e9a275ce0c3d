/**
 * Every HTTPRoute backendRef (and mirror backendRef) names a kind of backend Istio can send to. Istio's
 * `buildDestination` (istio/istio pilot/pkg/config/kube/gateway/conversion.go) knows a core `Service` (group `""`,
 * the default), `networking.istio.io` `Hostname`, `multicluster.x-k8s.io` `ServiceImport`, and, when enabled in
 * istiod, `inference.networking.k8s.io` `InferencePool` and `gateway.networking.x-k8s.io` `XBackend`; any other
 * group and kind is "referencing unsupported backendRef" (route condition ResolvedRefs False, reason InvalidKind),
 * and the share of requests it was given fails (the Gateway API spec: requests to an invalid backendRef get 500).
 * A RequestMirror to such a backend is dropped from the route (`mirrorBackendErr`, the rule still serves): a warning.
 * The usual mistake is `group: core` for a Service: the core group is written `""`.
 */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { GatewayApiStage } from '../_reader';

/** `group/kind` of the backends Istio's Gateway API implementation sends to (see above). */
const KNOWN_BACKENDS = new Set([
  '/Service',
  'networking.istio.io/Hostname',
  'multicluster.x-k8s.io/ServiceImport',
  'inference.networking.k8s.io/InferencePool',
  'gateway.networking.x-k8s.io/XBackend',
]);

function fixOf(d: { kind: string }): string {
  return d.kind === 'Service'
    ? 'write group: "" (or leave group out) for a Kubernetes Service'
    : 'name a Service (group "", kind Service), or a kind Istio supports: networking.istio.io Hostname, multicluster.x-k8s.io ServiceImport';
}

export const BACKEND_KIND = defineRule({
  id: SafetyRule.BACKEND_KIND,
  findings: {
    unsupported: { severity: Severity.ERROR, fix: fixOf },
    unsupportedMirror: { severity: Severity.WARNING, fix: fixOf },
  },
  check({ current }: RouterRuleInput<GatewayApiStage>, report) {
    for (const route of current.routes) {
      const rules: any[] = Array.isArray(route.manifest?.spec?.rules) ? route.manifest.spec.rules : [];
      rules.forEach((rule, index) => {
        const refs: Array<{ ref: any; mirror: boolean }> = [
          ...(Array.isArray(rule?.backendRefs) ? rule.backendRefs : []).map((ref: any) => ({ ref, mirror: false })),
          ...(Array.isArray(rule?.filters) ? rule.filters : []).filter((f: any) => f?.type === 'RequestMirror')
            .map((f: any) => ({ ref: f.requestMirror?.backendRef, mirror: true })),
        ];
        for (const { ref, mirror } of refs) {
          const group = ref?.group ?? '';
          const kind = ref?.kind ?? 'Service';
          if (ref === undefined || ref === null || KNOWN_BACKENDS.has(`${group}/${kind}`) || (!mirror && ref.weight === 0)) {
            continue;
          }
          const what = `${kind} '${ref.name}' of group "${group}", a backend Istio does not support ("referencing unsupported backendRef", ResolvedRefs False)`;
          if (mirror) {
            report('unsupportedMirror', `${route.object} rules[${index}]`, `mirrors to ${what}: Istio drops the mirror, nothing is mirrored`, { kind });
          } else {
            report('unsupported', `${route.object} rules[${index}]`, `routes to ${what}: its share of requests fails (500)`, { kind });
          }
        }
      });
    }
  },
});
