/**
 * The CLI's one door to schema validation, loaded lazily by `check` (ajv, the CEL evaluator, the
 * schemas and kubernetes-models cost time that `--help` and `plan` do without). It calls the
 * cdk8s-free `validateManifests` of `src/validation/_validate.ts` (what `ManifestSchemas` wraps)
 * object by object, so that one object of a kind it cannot check (or a missing optional package)
 * does not stop the others. Nothing here may load cdk8s (test/validation/isolation.test.ts,
 * test/cli/check.test.ts).
 */
import { Served, servedObject } from '../validation/_served';

export type { Served } from '../validation/_served';

/** One schema problem, with the path in the object written the way a user reads YAML: `spec.http[0].route[0].port`. */
export interface SchemaFinding {
  /** `Kind/name`. */
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

export interface SchemaReport {
  readonly findings: SchemaFinding[];
  /** What could not be checked, and why: an unknown kind, a missing optional package, a CEL rule not evaluated. */
  readonly notChecked: string[];
  /** Notes that are not violations (an older API version validated with the v1 schema...). */
  readonly notes: string[];
  /**
   * Each object (in the order given) as the API server would keep it: as written, without its unknown fields, or
   * refused (see `validation/_served.ts`); what the safety rules read.
   */
  readonly served: Served[];
}

const NOT_KNOWN = /is not known to the schema validator/;
const NEEDS_PACKAGE = /needs the npm package "kubernetes-models"/;

/** Validates every object against the upstream Kubernetes, Istio and Gateway API schemas (unknown fields, enums, CEL). */
export function validateSchemas(objects: any[]): SchemaReport {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { validateManifests } = require('../validation/_validate') as typeof import('../validation/_validate');
  const report: SchemaReport = { findings: [], notChecked: [], notes: [], served: [] };
  for (const object of objects) {
    const name = `${object?.kind}/${object?.metadata?.name ?? '(no name)'}`;
    let result;
    try {
      result = validateManifests([object]);
    } catch (e) {
      if (!NEEDS_PACKAGE.test((e as Error)?.message ?? '')) {
        throw e;
      }
      report.notChecked.push(`${name} (${object.apiVersion}): needs the optional npm package kubernetes-models 4.5.x`);
      report.served.push({ as: 'written', object });
      continue;
    }
    const found = [];
    for (const v of result.violations) {
      if (v.path === '' && NOT_KNOWN.test(v.message)) {
        report.notChecked.push(`${name} (${object.apiVersion}): no schema for this kind`);
      } else {
        report.findings.push({ object: v.object, path: dottedPath(v.path), message: v.message });
        found.push(v);
      }
    }
    report.served.push(servedObject(object, found));
    report.notChecked.push(...result.uncheckedRules.map((u) => `${u.object} ${dottedPath(u.path) || '(object)'}: CEL rule ${u.rule}: ${u.reason}`));
    report.notes.push(...result.notes.map((n) => `${n.object} ${dottedPath(n.path) || '(object)'}: ${n.message}`));
  }
  return report;
}

/** `/spec/http/0/route/0/port` → `spec.http[0].route[0].port` (JSON pointer escapes undone). */
export function dottedPath(pointer: string): string {
  return pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out === '' ? part : `${out}.${part}`), '');
}
