/**
 * A workload (Deployment, StatefulSet, ReplicaSet) that sets `spec.replicas` above 1 in the previous stage keeps
 * setting it while its version gets traffic — any share, a header route or a mirror, in the previous stage or in this
 * one. A stage that leaves the field out (a version switched from `Scaling.fixed(n)` to `Scaling.autoscale()`) does
 * not hand the count over to the new HorizontalPodAutoscaler: applying it removes the field, and the API server sets
 * its default, 1 pod, until the autoscaler scales the workload back up.
 * - kubectl (client-side) apply: the field is in the `last-applied-configuration` annotation and not in the new
 *   manifest, so the three-way merge deletes it; the Kubernetes docs: "the removal of spec.replicas may incur a
 *   one-time degradation of Pod counts as the default value of this key is 1"
 *   (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling).
 * - server-side apply: the applier's field manager owns `spec.replicas`; an apply without it removes it, unless the
 *   ownership was transferred first
 *   (https://kubernetes.io/docs/reference/using-api/server-side-apply/#transferring-ownership).
 * Setting the field again (a roll back from autoscaled to fixed) is no drop, and neither is leaving out
 * `replicas: 1` (the default) or `replicas: 0`. A workload an autoscaler already targets in the previous stage is not
 * checked: its `replicas`, in objects read back from a cluster (the rollout's live objects), is the autoscaler's count.
 */
import { compareText, push } from '../../_util';
import { defineRule } from '../_rule';
import { StageView, Transition, receives, workloadKey } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

const MIGRATING = 'https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#migrating-deployments-and-statefulsets-to-horizontal-autoscaling';
const TRANSFERRING = 'https://kubernetes.io/docs/reference/using-api/server-side-apply/#transferring-ownership';

export const REPLICAS_REMOVED_WHILE_ROUTED = defineRule({
  id: SafetyRule.REPLICAS_REMOVED_WHILE_ROUTED,
  findings: {
    removed: {
      severity: Severity.ERROR,
      fix: (d: { object: string; replicas: number }) => `keep spec.replicas: ${d.replicas} (Scaling.fixed(${d.replicas})) on ${d.object} until a stage `
        + 'where its version gets no traffic, or hand the field over first (kubectl apply edit-last-applied to take replicas out of the '
        + `last-applied configuration, or a server-side apply field-manager transfer), see ${MIGRATING} and ${TRANSFERRING}`,
    },
  },
  check({ current, previous }: Transition, report) {
    if (!previous) {
      return;
    }
    const removed = previous.facts.workloads.filter((w) => (w.replicas ?? 0) > 1 && !w.autoscaled
      && current.hasWorkload(w) && current.workloads.get(workloadKey(w))!.replicas === undefined);
    if (removed.length === 0) {
      return;
    }
    const before = receivingWorkloads(previous);
    const now = receivingWorkloads(current);
    for (const w of removed) {
      const was = before.get(workloadKey(w));
      const is = now.get(workloadKey(w));
      if (!was && !is) {
        continue;
      }
      const labels = [...new Set([...was ?? [], ...is ?? []])].sort(compareText).join(', ');
      const when = was && is ? 'in both stages' : was ? 'in the previous stage' : 'in this stage';
      report('removed', w.object,
        `sets spec.replicas: ${w.replicas} in the previous stage and leaves it out in this one, while ${labels} receives traffic ${when}: `
        + 'applying this stage removes the field (kubectl apply: it is in the last-applied configuration; server-side apply: its field '
        + 'manager owned it), and the API server sets the default, 1 pod, until an autoscaler scales it back',
        { object: w.object, replicas: w.replicas! });
    }
  },
});

/** The labels of the backends receiving traffic (any share, header route or mirror) behind each workload, by `workloadKey`. */
function receivingWorkloads(stage: StageView): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const route of stage.facts.routes) {
    for (const rule of route.rules) {
      for (const t of rule.targets) {
        const backend = receives(t) ? stage.backends.get(t.backendId) : undefined;
        if (!backend?.podsKnown) {
          continue;
        }
        for (const w of stage.behind(backend)) {
          const key = workloadKey(w);
          if (!found.get(key)?.includes(backend.label)) {
            push(found, key, backend.label);
          }
        }
      }
    }
  }
  return found;
}
