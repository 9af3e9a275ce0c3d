/** A destination that receives traffic selects pods of a Deployment that existed in the previous stage. */
import { WorkloadFacts } from '../_facts';
import { defineRule } from '../_rule';
import { StageView, Transition, receives } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const DESTINATION_READY = defineRule({
  id: SafetyRule.DESTINATION_READY,
  findings: {
    noPods: { severity: Severity.ERROR, fix: 'deploy the version in a stage before the one that routes traffic to it' },
    newDeployment: { severity: Severity.ERROR, fix: 'deploy the version in a stage of its own, and route to it in the next one' },
  },
  check({ current, previous }: Transition, report) {
    for (const route of current.facts.routes) {
      for (const rule of route.rules) {
        for (const t of rule.targets) {
          const backend = receives(t) ? current.backends.get(t.backendId) : undefined;
          if (!backend?.podsKnown) {
            continue;
          }
          const behind = current.behind(backend);
          if (behind.length === 0) {
            report('noPods', rule.where, `sends traffic to ${t.label}, but no Deployment of this stage has pods it selects`);
          } else if (previous && !hadAny(previous, behind)) {
            report('newDeployment', rule.where,
              `sends traffic to ${t.label}, whose Deployment ${behind.map((w) => w.object).sort().join(', ')} did not exist in the previous stage, so it gets traffic before its pods are ready`);
          }
        }
      }
    }
  },
});

/** Whether a stage has any of the workloads. */
function hadAny(stage: StageView, workloads: readonly WorkloadFacts[]): boolean {
  for (const w of workloads) {
    if (stage.hasWorkload(w)) {
      return true;
    }
  }
  return false;
}
