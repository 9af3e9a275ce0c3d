/**
 * Schema validation of the router tests' output: `ManifestSchemas` knows the Gateway API kinds
 * (standard channel, and the experimental channel for an HTTPRoute with experimental fields) and
 * runs their CEL rules, as it does for the Kubernetes and Istio kinds.
 */
import { ManifestSchemas } from '../../../src';

/** Every schema violation of `manifests`, as `<Kind>/<name> <path>: <message>`. */
export function schemaViolations(manifests: any[], _experimental = false): string[] {
  return ManifestSchemas.validate(manifests).map((v) => `${v.object} ${v.path}: ${v.message}`);
}
