/**
 * (warning) Applying the previous stage again whole (a roll back by `kubectl apply` or a GitOps tool) must land on
 * pods that already run: a version that had a share of traffic in the previous stage keeps the floor for it. A
 * warning, not an error: `mesh-release runbook` and `rollout` scale such a version first (its Deployment and
 * autoscalers of the stage before, then its floor of ready pods) and route only then (`cli/transition.ts`).
 */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const ROLLBACK_CAPACITY = defineRule({
  id: SafetyRule.ROLLBACK_CAPACITY,
  findings: {
    floorDropped: {
      severity: Severity.WARNING,
      fix: (d: { label: string; needed: number }) => `keep the floor of ${d.label} at ${d.needed} or more until the stage after next, if the stage `
        + 'before may be applied whole (kubectl apply, a GitOps tool); `mesh-release runbook` and `rollout` scale it first, then route',
    },
  },
  check({ current, previous }: Transition, report) {
    if (!previous) {
      return;
    }
    const before = previous.shares();
    const now = current.shares();
    let reference = 0;
    for (const id of before.keys()) {
      reference = Math.max(reference, previous.floorOf(id)?.floor ?? 0);
    }
    for (const [id, share] of before) {
      if (share <= (now.get(id) ?? 0)) {
        continue;
      }
      const f = current.floorOf(id);
      const needed = Math.ceil(reference * share / 100);
      if (f && f.workloads.length > 0 && f.floor < needed) {
        const { label } = current.backends.get(id)!;
        report('floorDropped', f.workloads.map((w) => w.object).join(', '),
          `${label} had ${share}% of the requests in the previous stage on a floor of ${reference} pod(s) for all traffic, but keeps only ${f.floor}: rolling back by applying that stage whole sends ${share}% to pods that do not run yet`,
          { label, needed });
      }
    }
  },
});
