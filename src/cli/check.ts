import type { SchemaReport, Served } from './_schemas';
import { EXIT_OK, EXIT_UNSAFE } from './errors';
import { readManifests } from './manifests';
import { displayPath } from './paths';
import { clusterDomainOf, releasesIn } from './release-view';
import { checkManifests } from '../routing/_registry';
import { readOptions } from '../safety/_engine';
import { SafetyViolation, Severity } from '../safety/safety-rule';

export interface CheckOptions {
  /** Namespace of objects without one (applied with `kubectl -n`). */
  readonly namespace?: string;
  /** Cluster DNS domain. */
  readonly clusterDomain?: string;
  /** Check rolling back: `before` applied after `after`. */
  readonly rollback?: boolean;
  /** Fail (exit 1) on warnings too. */
  readonly strict?: boolean;
  /** Validate the objects against their schemas first (default true; `--no-schemas` skips it). */
  readonly schemas?: boolean;
  /** `text` (default) or `json`. */
  readonly output?: string;
}

/** Two lines per violation: `<severity>: <object>  [<rule>]  <message>`, then `  fix: <fix>`. */
export function formatViolation(v: SafetyViolation): string {
  return `${v.severity}: ${v.object}  [${v.rule}]  ${v.message}\n  fix: ${v.fix}`;
}

export function violationJson(v: SafetyViolation): object {
  return { rule: v.rule, severity: v.severity, object: v.object, message: v.message, fix: v.fix };
}

/**
 * `mesh-release check <before> <after>`: is applying `after` on top of `before` safe (with `rollback`,
 * applying `before` on top of `after`)? Schemas first, then the safety rules on the objects as the API
 * server would keep them: an object with unknown fields only is read without them (the server drops
 * them, or refuses the object under strict field validation: either way they never reach the mesh), an
 * object with other schema violations is refused and left out; both are named. Reads YAML and runs the
 * rules: it loads no cdk8s.
 */
export function checkCommand(before: string, after: string, options: CheckOptions = {}): number {
  const [fromPath, toPath] = options.rollback ? [after, before] : [before, after];
  const previous = readManifests(fromPath).objects;
  const current = readManifests(toPath).objects;
  const all = [...previous, ...current];
  const schemas: SchemaReport = options.schemas === false
    ? { findings: [], notChecked: [], notes: [], served: all.map((object) => ({ as: 'written' as const, object })) }
    : loadSchemas().validateSchemas(all);
  const kept = (served: Served[]) => served.flatMap((o) => (o.as === 'refused' ? [] : [o.object]));
  const violations = checkManifests(kept(schemas.served.slice(previous.length)), kept(schemas.served.slice(0, previous.length)),
    readOptions(options.namespace, clusterDomainOf(options.clusterDomain, releasesIn(all, options.namespace))));
  const named = (as: Served['as']) => [...new Set(schemas.served.flatMap((o, i) => (o.as === as ? [`${all[i]?.kind}/${all[i]?.metadata?.name}`] : [])))];
  const served = { pruned: named('pruned'), refused: named('refused') };
  const errors = violations.filter((v) => v.severity === Severity.ERROR).length;
  const warnings = violations.length - errors;
  const invalid = schemas.findings.length > 0;
  const failed = invalid || errors > 0 || (options.strict === true && warnings > 0);
  const what = `applying ${displayPath(toPath)} after ${displayPath(fromPath)}${options.rollback ? ' (roll back)' : ''}`;

  if (options.output === 'json') {
    console.log(JSON.stringify({
      from: displayPath(fromPath),
      to: displayPath(toPath),
      rollback: options.rollback === true,
      ok: !failed,
      objects: previous.length + current.length,
      errors,
      warnings,
      schemaViolations: schemas.findings,
      served,
      violations: violations.map(violationJson),
      notChecked: schemas.notChecked,
      notes: schemas.notes,
    }, undefined, 2));
    return failed ? EXIT_UNSAFE : EXIT_OK;
  }
  if (schemas.notChecked.length > 0) {
    console.error(`note: not checked (${schemas.notChecked.length}): ${schemas.notChecked.join('; ')}`);
  }
  for (const note of schemas.notes) {
    console.error(`note: ${note}`);
  }
  const objects = `${current.length + previous.length} objects checked`;
  const counts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  if (invalid) {
    console.log(schemas.findings.map((f) => `schema: ${f.object} ${f.path}: ${f.message}`).join('\n'));
    if (served.pruned.length > 0) {
      console.log(`schema: the API server drops the unknown fields of ${served.pruned.join(', ')} (kubectl apply --validate=strict refuses `
        + 'the object instead): the safety rules below read it without them');
    }
    if (served.refused.length > 0) {
      console.log(`schema: the API server refuses ${served.refused.join(', ')}: the safety rules below leave it out`);
    }
  }
  if (violations.length > 0) {
    console.log(violations.map(formatViolation).join('\n'));
  }
  if (invalid) {
    const schema = `INVALID: ${schemas.findings.length} schema violation${schemas.findings.length === 1 ? '' : 's'}; as the API server would keep the objects, `;
    console.log(errors > 0 ? `${schema}${counts}: ${what} could drop requests`
      : `${schema}${violations.length === 0 ? 'no safety violations' : counts} (${objects})`);
  } else if (violations.length === 0) {
    console.log(`OK: no violations (${objects})`);
  } else if (errors > 0) {
    console.log(`UNSAFE: ${counts}; ${what} could drop requests`);
  } else {
    console.log(`${failed ? 'WARNINGS (--strict)' : 'OK'}: ${counts} (${objects})`);
  }
  return failed ? EXIT_UNSAFE : EXIT_OK;
}

function loadSchemas(): typeof import('./_schemas') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./_schemas');
}
