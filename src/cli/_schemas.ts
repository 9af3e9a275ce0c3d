/**
 * The CLI's one door to schema validation, loaded lazily by `check` (ajv, the schemas and
 * kubernetes-models cost time that `--help` and `plan` do without). Today it calls
 * `ManifestSchemas.validate` object by object; a cdk8s-free entry point of `src/validation/` can
 * replace the body of `validateSchemas` without touching the commands. Nothing here may load
 * cdk8s: `schema-validation.ts` needs ajv, the generated JSON schemas and kubernetes-models only.
 */

/** One schema problem, with the path in the object written the way a user reads YAML: `spec.http[0].route[0].port`. */
export interface SchemaFinding {
  /** `Kind/name`. */
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

export interface SchemaReport {
  readonly findings: SchemaFinding[];
  /** Objects whose schema could not be checked, and why (an unknown kind, a missing optional package). */
  readonly notChecked: string[];
}

const NOT_KNOWN = /is not known to the schema validator/;
const NEEDS_PACKAGE = /needs the npm package "kubernetes-models"/;

/** Validates every object against the upstream Kubernetes and Istio schemas (unknown fields, enums, types). */
export function validateSchemas(objects: any[]): SchemaReport {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ManifestSchemas } = require('../validation/schema-validation') as typeof import('../validation/schema-validation');
  const findings: SchemaFinding[] = [];
  const notChecked: string[] = [];
  for (const object of objects) {
    const name = `${object?.kind}/${object?.metadata?.name ?? '(no name)'}`;
    let violations;
    try {
      violations = ManifestSchemas.validate([object]);
    } catch (e) {
      if (!NEEDS_PACKAGE.test((e as Error)?.message ?? '')) {
        throw e;
      }
      notChecked.push(`${name} (${object.apiVersion}): needs the optional npm package kubernetes-models 4.5.x`);
      continue;
    }
    for (const v of violations) {
      if (v.path === '' && NOT_KNOWN.test(v.message)) {
        notChecked.push(`${name} (${object.apiVersion}): no schema for this kind`);
      } else {
        findings.push({ object: v.object, path: dottedPath(v.path), message: v.message });
      }
    }
  }
  return { findings, notChecked };
}

/** `/spec/http/0/route/0/port` → `spec.http[0].route[0].port` (JSON pointer escapes undone). */
export function dottedPath(pointer: string): string {
  return pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`), '');
}
