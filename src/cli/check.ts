import { SafetyCheck } from '../safety/safety-check';
import { SafetyViolation } from '../safety/safety-rule';
import { EXIT_OK, EXIT_UNSAFE } from './errors';
import { readManifests } from './manifests';

/** Two lines per violation: `<object>  [<rule>]  <message>`, then `  fix: <fix>`. */
export function formatViolation(v: SafetyViolation): string {
  return `${v.object}  [${v.rule}]  ${v.message}\n  fix: ${v.fix}`;
}

/** `mesh-release check <before> <after>`: is applying `after` on top of `before` safe? */
export function checkCommand(before: string, after: string): number {
  const previous = readManifests(before).objects;
  const current = readManifests(after).objects;
  const violations = SafetyCheck.check(current, previous);
  if (violations.length === 0) {
    console.log(`OK: no violations (${current.length + previous.length} objects checked)`);
    return EXIT_OK;
  }
  console.log(violations.map(formatViolation).join('\n'));
  console.log(`UNSAFE: ${violations.length} violation${violations.length === 1 ? '' : 's'}; applying ${after} after ${before} could drop requests`);
  return EXIT_UNSAFE;
}
