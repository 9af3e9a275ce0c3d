/**
 * The safety engine: reads a stage's manifests (and the previous stage's) into facts and runs
 * the shared rules and every router's rules on them. `SafetyCheck`, `MeshRelease`,
 * `ReleasePlan` and the CLI all go through `checkManifests`.
 */
import { DEFAULT_CLUSTER_DOMAIN } from '../_conventions';
import { BackendFacts, ReadOptions, RouteFacts, StageFacts, objectKey, objectName } from './_facts';
import { READERS, ROUTER_RULES } from './_routers';
import { Report, checkFacts } from './_rules';
import { readWorkloads } from './_workloads';
import { SafetyRule, SafetyViolation, Severity } from './safety-rule';

/** The objects of manifests, with the items of `kind: List` objects (`v1/List`, `DeploymentList`...) taken out. */
export function flattenLists(manifests: any[]): any[] {
  return manifests.flatMap((m) => (m && typeof m.kind === 'string' && m.kind.endsWith('List') && Array.isArray(m.items)
    ? flattenLists(m.items) : [m])).filter((m) => m !== null && typeof m === 'object');
}

/** The facts of one stage (`other`: the stage it is compared with, see `RouterReader.read`). */
export function readStage(manifests: any[], options: ReadOptions, other?: any[]): StageFacts {
  const into: { backends: BackendFacts[]; routes: RouteFacts[] } = { backends: [], routes: [] };
  for (const reader of READERS) {
    reader.read(manifests, options, into, other);
  }
  return { workloads: readWorkloads(manifests, options), ...into };
}

/** Read options with their defaults. */
export function readOptions(namespace?: string, clusterDomain?: string): ReadOptions {
  return { namespace: namespace ?? 'default', clusterDomain: clusterDomain ?? DEFAULT_CLUSTER_DOMAIN };
}

/** Every violation of `current` applied after `previous` (when given): errors first, then warnings, each in rule order. */
export function checkManifests(currentManifests: any[], previousManifests: any[] | undefined, options: ReadOptions): SafetyViolation[] {
  const current = flattenLists(currentManifests);
  const previous = previousManifests && flattenLists(previousManifests);
  const violations: SafetyViolation[] = [];
  const seen = new Set<string>();
  const report: Report = (rule, severity, object, message, fix) => {
    const key = `${rule}|${object}|${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      violations.push({ rule, severity, object, message, fix });
    }
  };
  checkDuplicates(current, options, report);
  checkFacts(readStage(current, options, previous), previous && readStage(previous, options, current), report);
  for (const rules of ROUTER_RULES) {
    rules(current, options, report, previous);
  }
  return [...violations.filter((v) => v.severity === Severity.ERROR), ...violations.filter((v) => v.severity !== Severity.ERROR)];
}

/** Two objects of one stage with one identity: the second apply overwrites the first, or fails on an immutable field. */
function checkDuplicates(manifests: any[], options: ReadOptions, report: Report): void {
  const counts = new Map<string, number>();
  for (const m of manifests) {
    const key = objectKey(m, options.namespace);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const reported = new Set<string>();
  for (const m of manifests) {
    const key = objectKey(m, options.namespace);
    if ((counts.get(key) ?? 0) > 1 && !reported.has(key)) {
      reported.add(key);
      report(SafetyRule.DUPLICATE_OBJECT, Severity.ERROR, objectName(m),
        `is defined ${counts.get(key)} times in namespace '${m.metadata?.namespace ?? options.namespace}': only one survives the apply (and a Deployment's selector cannot change), so one release overwrites another`,
        'give every object a unique name: one MeshRelease per app and namespace, and app/version names that do not run together (foo + bar-v1 and foo-bar + v1 both make foo-bar-v1)');
    }
  }
}

/** The violations of severity error. */
export function errorsOf(violations: SafetyViolation[]): SafetyViolation[] {
  return violations.filter((v) => v.severity === Severity.ERROR);
}

/** One line per violation: `[rule] object: message. Fix: fix` (warnings marked `(warning)`). */
export function formatViolations(violations: SafetyViolation[]): string {
  return violations.map((v) => `[${v.rule}]${v.severity === Severity.WARNING ? ' (warning)' : ''} ${v.object}: ${v.message}. Fix: ${v.fix}`).join('\n');
}

/** Throws, prefixed with `context`, listing the errors among `violations`, if any. */
export function throwIfUnsafe(violations: SafetyViolation[], context: string): void {
  const errors = errorsOf(violations);
  if (errors.length > 0) {
    throw new Error(`${context} is unsafe to apply (${errors.length} violation${errors.length > 1 ? 's' : ''}):\n${formatViolations(errors)}`);
  }
}
