/**
 * Schema validation of Gateway API objects for the router tests, until `ManifestSchemas` knows
 * the Gateway API kinds: ajv over the CRD schemas (`GATEWAY_API_SCHEMAS`, or the experimental
 * channel's), unknown fields rejected the way the API server prunes them. CEL rules
 * (`x-kubernetes-validations`) are not evaluated here. Kubernetes kinds go through `ManifestSchemas`.
 */
import Ajv, { ValidateFunction } from 'ajv';
import { ManifestSchemas } from '../../src';
import { GATEWAY_API_EXPERIMENTAL_SCHEMAS, GATEWAY_API_SCHEMAS } from '../../src/imports/gateway-api-schemas';

const ajv = new Ajv({ allErrors: true, strict: false, formats: { 'int32': true, 'int64': true, 'date-time': true } });
const compiled = new Map<string, ValidateFunction>();

/** A CRD schema that rejects unknown fields (objects with properties get additionalProperties: false). */
function structural(node: any, inJunctor = false): any {
  if (Array.isArray(node)) return node.map((n) => structural(n, inJunctor));
  if (node === null || typeof node !== 'object') return node;
  const out: any = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'description') continue;
    out[key] = key === 'properties'
      ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, structural(v, inJunctor)]))
      : structural(value, inJunctor || ['allOf', 'anyOf', 'oneOf', 'not'].includes(key));
  }
  if (out.properties && out.additionalProperties === undefined && !inJunctor && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

function validator(key: string, experimental: boolean): ValidateFunction | undefined {
  const schemas = experimental ? GATEWAY_API_EXPERIMENTAL_SCHEMAS : GATEWAY_API_SCHEMAS;
  if (!schemas[key]) return undefined;
  const cacheKey = `${experimental}|${key}`;
  let fn = compiled.get(cacheKey);
  if (!fn) {
    const schema = structural(schemas[key]);
    schema.properties.metadata = { type: 'object' };
    fn = ajv.compile(schema);
    compiled.set(cacheKey, fn);
  }
  return fn;
}

/** Every schema violation of `manifests`, as `<Kind>/<name> <path>: <message>` (experimental: the experimental channel's CRDs). */
export function schemaViolations(manifests: any[], experimental = false): string[] {
  const gateway = manifests.filter((m) => String(m.apiVersion).startsWith('gateway.networking.k8s.io/'));
  const others = manifests.filter((m) => !gateway.includes(m));
  const found = ManifestSchemas.validate(others).map((v) => `${v.object} ${v.path}: ${v.message}`);
  for (const m of gateway) {
    const fn = validator(`${m.apiVersion}/${m.kind}`, experimental);
    if (!fn) {
      found.push(`${m.kind}/${m.metadata?.name}: no schema for ${m.apiVersion}/${m.kind}`);
    } else if (!fn(m)) {
      found.push(...(fn.errors ?? []).map((e) => `${m.kind}/${m.metadata?.name} ${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`));
    }
  }
  return found;
}
