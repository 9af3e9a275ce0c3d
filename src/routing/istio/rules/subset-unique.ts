/** Subset names, and subset label sets, are unique within a DestinationRule. */
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { IstioStage } from '../_reader';

export const SUBSET_UNIQUE = defineRule({
  id: SafetyRule.SUBSET_UNIQUE,
  findings: {
    sameName: { severity: Severity.ERROR, fix: 'give every subset a unique name' },
    sameLabels: { severity: Severity.ERROR, fix: 'give each subset the version label of its own Deployment' },
  },
  check({ current }: RouterRuleInput<IstioStage>, report) {
    for (const dr of current.destinationRules) {
      if (dr.subsets.length < 2) {
        continue;
      }
      const names = new Set<unknown>();
      const labelSets = new Map<string, unknown>();
      for (const subset of dr.subsets) {
        if (names.has(subset?.name)) {
          report('sameName', dr.object, `subset '${subset.name}' is defined twice`);
        }
        names.add(subset?.name);
        const key = labelSetKey(subset?.labels);
        const other = labelSets.get(key);
        if (other !== undefined && other !== subset.name) {
          report('sameLabels', dr.object,
            `subsets '${other}' and '${subset.name}' have the same labels ${JSON.stringify(Object.entries(subset?.labels ?? {}).sort())}, so both select the same pods`);
        }
        labelSets.set(key, subset?.name);
      }
    }
  },
});

/** A key equal for equal label sets, whatever their order (text labels without JSON; anything else as JSON). */
function labelSetKey(labels: unknown): string {
  const entries = Object.entries(labels ?? {}).sort();
  let key = 'L';
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.includes('\u0000') || v.includes('\u0000')) {
      return `J${JSON.stringify(entries)}`;
    }
    key += `${k}\u0000${v}\u0000`;
  }
  return key;
}
