import type { SchemaReport } from './_schemas';
import { EXIT_OK, EXIT_UNSAFE } from './errors';
import { readManifests } from './manifests';
import { displayPath } from './paths';
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
 * applying `before` on top of `after`)? Schemas first, then the safety rules. Reads YAML and runs the
 * rules: it loads no cdk8s.
 */
export function checkCommand(before: string, after: string, options: CheckOptions = {}): number {
  const [fromPath, toPath] = options.rollback ? [after, before] : [before, after];
  const previous = readManifests(fromPath).objects;
  const current = readManifests(toPath).objects;
  const schemas: SchemaReport = options.schemas === false
    ? { findings: [], notChecked: [], notes: [] }
    : loadSchemas().validateSchemas([...previous, ...current]);
  // Objects the API server would refuse or read differently: the rules would judge something else than what applies.
  const violations = schemas.findings.length > 0 ? [] : checkManifests(current, previous, readOptions(options.namespace, options.clusterDomain));
  const errors = violations.filter((v) => v.severity === Severity.ERROR).length;
  const warnings = violations.length - errors;
  const failed = schemas.findings.length > 0 || errors > 0 || (options.strict === true && warnings > 0);
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
  if (schemas.findings.length > 0) {
    console.log(schemas.findings.map((f) => `schema: ${f.object} ${f.path}: ${f.message}`).join('\n'));
    console.log(`INVALID: ${schemas.findings.length} schema violation${schemas.findings.length === 1 ? '' : 's'}; `
      + 'the API server would refuse these objects (or drop the unknown fields): the safety rules were not run');
    return EXIT_UNSAFE;
  }
  const objects = `${current.length + previous.length} objects checked`;
  if (violations.length === 0) {
    console.log(`OK: no violations (${objects})`);
    return EXIT_OK;
  }
  console.log(violations.map(formatViolation).join('\n'));
  const counts = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  if (errors > 0) {
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
