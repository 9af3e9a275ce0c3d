/** Weights of a route are integers 0–100 that add up to 100. */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const WEIGHTS = defineRule({
  id: SafetyRule.WEIGHTS,
  findings: {
    notAnInteger: { severity: Severity.ERROR, fix: 'use integer percentages' },
    totalNot100: { severity: Severity.ERROR, fix: 'make the weights of the route add up to exactly 100' },
  },
  check({ current }: Transition, report) {
    for (const route of current.facts.routes) {
      for (const rule of route.rules) {
        const routed = rule.targets.filter((t) => !t.mirror);
        if (routed.length === 0) {
          continue;
        }
        for (const t of routed) {
          if (t.invalidWeight !== undefined) {
            report('notAnInteger', rule.where, `weight ${t.invalidWeight} of ${t.label} is not an integer between 0 and 100`);
          }
        }
        // The sum of the weights as written: an out-of-range weight is reported above, not counted as 0 here
        // (weights -10 and 110 do add up to 100; "add up to 0" would send the user after the wrong problem).
        const total = routed.reduce((sum, t) => sum + (typeof t.invalidWeight === 'number' ? t.invalidWeight : t.weight), 0);
        if (total !== 100 && routed.every((t) => t.invalidWeight === undefined || typeof t.invalidWeight === 'number')) {
          report('totalNot100', rule.where, `weights add up to ${total}, not 100 (${routed.map((t) => `${t.label}=${t.weight}`).join(', ')})`);
        }
      }
    }
  },
});
