/**
 * CRD structural defaulting, as the API server applies it before validating a custom resource: a property that
 * is absent (or `null` without `nullable: true`) gets a deep copy of its schema `default`; defaults apply inside
 * objects, list items and map values that exist (and inside defaulted values). CEL rules rely on it: Gateway
 * API's `(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true` reads the defaulted `group`
 * and `kind` of a backendRef.
 */
export function withDefaults(schema: any, value: any): any {
  if (!schema || typeof schema !== 'object' || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    return schema.items ? value.map(item => withDefaults(schema.items, item)) : value;
  }
  const out: any = { ...value };
  const properties: Record<string, any> | undefined = schema.properties;
  if (properties) {
    for (const [name, child] of Object.entries(properties)) {
      const absent = !(name in out) || (out[name] === null && child?.nullable !== true);
      if (absent && child?.default !== undefined) out[name] = structuredClone(child.default);
      if (name in out) out[name] = withDefaults(child, out[name]);
    }
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(out)) out[key] = withDefaults(schema.additionalProperties, out[key]);
  }
  return out;
}
