/** No two objects of one stage have the same kind, namespace and name. */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const DUPLICATE_OBJECT = defineRule({
  id: SafetyRule.DUPLICATE_OBJECT,
  findings: {
    duplicate: {
      severity: Severity.ERROR,
      fix: 'give every object a unique name: one MeshRelease per app and namespace, and app/version names that do not run together (foo + bar-v1 and foo-bar + v1 both make foo-bar-v1)',
    },
  },
  check({ current }: Transition, report) {
    for (const d of current.facts.duplicates) {
      report('duplicate', d.object,
        `is defined ${d.count} times in namespace '${d.namespace}': only one survives the apply (and a Deployment's selector cannot change), so one release overwrites another`);
    }
  },
});
