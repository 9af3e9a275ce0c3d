/**
 * Which CRD schema validates a custom resource. The generated schema modules are large, so they are required on
 * first use only.
 *
 * - Istio 1.30 (`ISTIO_SCHEMAS`): networking.istio.io/v1 DestinationRule, VirtualService, Gateway and
 *   security.istio.io/v1 PeerAuthentication, AuthorizationPolicy. The older served versions
 *   networking.istio.io/v1alpha3 and v1beta1 and security.istio.io/v1beta1 have the same schema in Istio's CRDs,
 *   so they are validated with the v1 schema (and flagged with a note by the caller).
 * - Gateway API 1.6.1: HTTPRoute, ReferenceGrant, Gateway (gateway.networking.k8s.io/v1), standard channel
 *   (`GATEWAY_API_SCHEMAS`) unless the object needs the experimental channel (`GATEWAY_API_EXPERIMENTAL_SCHEMAS`).
 */

/** The schema chosen for one object. */
export interface CrdSchema {
  /** `<group>/<version>/<kind>` of the schema used (v1 for the older Istio versions). */
  readonly key: string;
  /** `istio`, `gateway-api` or `gateway-api-experimental`. */
  readonly source: 'istio' | 'gateway-api' | 'gateway-api-experimental';
  /** The `openAPIV3Schema`. */
  readonly schema: any;
}

/** Older Istio API versions served with the same schema as v1, mapped to that v1 apiVersion. */
export const OLDER_ISTIO_VERSIONS: Record<string, string> = {
  'networking.istio.io/v1alpha3': 'networking.istio.io/v1',
  'networking.istio.io/v1beta1': 'networking.istio.io/v1',
  'security.istio.io/v1beta1': 'security.istio.io/v1',
};

function istio(): Record<string, any> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../imports/istio-schemas').ISTIO_SCHEMAS;
}

function gatewayApi(experimental: boolean): Record<string, any> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require('../imports/gateway-api-schemas');
  return experimental ? module.GATEWAY_API_EXPERIMENTAL_SCHEMAS : module.GATEWAY_API_SCHEMAS;
}

/** The Istio or Gateway API (standard channel) schema of `<apiVersion>/<kind>`, or undefined for other kinds. */
export function crdSchemaOf(apiVersion: string, kind: string): CrdSchema | undefined {
  const istioKey = `${OLDER_ISTIO_VERSIONS[apiVersion] ?? apiVersion}/${kind}`;
  if (istio()[istioKey]) return { key: istioKey, source: 'istio', schema: istio()[istioKey] };
  const key = `${apiVersion}/${kind}`;
  if (apiVersion.startsWith('gateway.networking.k8s.io/') && gatewayApi(false)[key]) {
    return { key, source: 'gateway-api', schema: gatewayApi(false)[key] };
  }
  return undefined;
}

/** The experimental-channel schema of a Gateway API kind. */
export function experimentalSchemaOf(key: string): CrdSchema | undefined {
  const schema = gatewayApi(true)[key];
  return schema ? { key, source: 'gateway-api-experimental', schema } : undefined;
}
