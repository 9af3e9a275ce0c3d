/**
 * A version receiving traffic has at least one pod guaranteed (replicas, HPA minReplicas) and a rollout that keeps
 * pods available (errors); a fixed floor far below its share of traffic is a warning.
 */
import { RuleFacts, TargetFacts } from '../_facts';
import { defineRule } from '../_rule';
import { Floor, StageView, Transition, receives } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const CAPACITY = defineRule({
  id: SafetyRule.CAPACITY,
  findings: {
    noPodGuaranteed: {
      severity: Severity.ERROR,
      fix: 'give the version at least one replica (replicas, or HorizontalPodAutoscaler minReplicas) while it receives traffic',
    },
    rolloutTakesAllPods: {
      severity: Severity.ERROR,
      fix: 'use strategy RollingUpdate with maxUnavailable 0 (or below the replica count) and maxSurge above 0',
    },
    /**
     * A version with a share of a weighted rule far below — less than half of — the pods its share needs, where the
     * need is measured against the largest floor among the rule's versions (the capacity that carries all of the
     * traffic): `ceil(reference x share / 100)`.
     */
    floorBelowShare: {
      severity: Severity.WARNING,
      fix: (d: { workloads: string; needed: number; weight: number }) => `raise the floor of ${d.workloads} to at least ${d.needed} while it receives ${d.weight}%`,
    },
  },
  check({ current }: Transition, report) {
    for (const route of current.facts.routes) {
      for (const rule of route.rules) {
        let receiving = 0;
        for (const t of rule.targets) {
          if (!receives(t)) {
            continue;
          }
          if (!t.mirror) {
            receiving++;
          }
          const backend = current.backends.get(t.backendId);
          const behind = backend?.podsKnown ? current.behind(backend) : [];
          if (behind.length === 0) {
            continue; // destination-ready
          }
          let floor = 0;
          for (const w of behind) {
            floor += w.floor;
          }
          if (floor === 0) {
            report('noPodGuaranteed', rule.where,
              `sends traffic to ${t.label}, but no pod of it is guaranteed (${behind.map((w) => `${w.object} ${w.floorSource}`).join(', ')})`);
          }
          for (const w of behind) {
            if (w.rolloutTakesAllPods) {
              report('rolloutTakesAllPods', w.object,
                `receives traffic through ${rule.where}, but ${w.rolloutTakesAllPods}: the next rollout leaves ${t.label} with no ready pod`);
            }
          }
        }
        // One version alone always has the floor of its share.
        if (receiving > 1) {
          floorsBelowShare(rule, current, (t, f, reference, needed) => report('floorBelowShare', rule.where,
            `${t.label} receives ${t.weight}% of the requests on ${f.floor} guaranteed pod(s), while ${reference} pod(s) carry 100% elsewhere in the route: it needs about ${needed}`,
            { workloads: f.workloads.map((w) => w.object).join(', '), needed, weight: t.weight }));
        }
      }
    }
  },
});

/** Calls `low` for each version of a rule whose floor is less than half the pods its share needs. */
function floorsBelowShare(rule: RuleFacts, stage: StageView, low: (t: TargetFacts, f: Floor, reference: number, needed: number) => void): void {
  const floors: Array<[TargetFacts, Floor]> = [];
  let reference = 0;
  for (const t of rule.targets) {
    const f = !t.mirror && receives(t) ? stage.floorOf(t.backendId) : undefined;
    if (f && f.floor > 0) {
      floors.push([t, f]);
      reference = Math.max(reference, f.floor);
    }
  }
  for (const [t, f] of floors) {
    const needed = Math.ceil(reference * t.weight / 100);
    if (f.floor * 2 < needed) {
      low(t, f, reference, needed);
    }
  }
}
