/** The version-free Service of a mesh-routed host carries no version label in its selector. */
import { Labels } from '../../../_conventions';
import { objectName } from '../../../safety/_facts';
import { RouterRuleInput } from '../../../safety/_plugin';
import { defineRule } from '../../../safety/_rule';
import { SafetyRule, Severity } from '../../../safety/safety-rule';
import { IstioStage } from '../_reader';

export const SERVICE_SELECTS_VERSION = defineRule({
  id: SafetyRule.SERVICE_SELECTS_VERSION,
  findings: {
    versionLabel: { severity: Severity.ERROR, fix: 'select on the app label only and let DestinationRule subsets pick versions' },
  },
  check({ current }: RouterRuleInput<IstioStage>, report) {
    if (current.destinationRules.length === 0 && current.virtualServices.length === 0) {
      return;
    }
    for (const [host, service] of current.services) {
      const subsets = (current.destinationRulesByHost.get(host) ?? []).flatMap((dr) => dr.subsets);
      if (subsets.length === 0 && !current.routedHosts.has(host)) {
        continue;
      }
      const selector: Labels = service.spec?.selector ?? {};
      const keys = Object.keys(selector);
      if (keys.length === 0) {
        continue;
      }
      for (const key of keys) {
        if (tellsVersionsApart(key, subsets)) {
          report('versionLabel', objectName(service),
            `selector has '${key}: ${selector[key]}', a label that tells versions apart, so the Service reaches one version only and a shift drops requests`);
        }
      }
    }
  },
});

/** Whether a label tells versions apart: `version`, or a label of a subset that the subsets give different values. */
function tellsVersionsApart(key: string, subsets: readonly any[]): boolean {
  if (key === 'version') {
    return true;
  }
  let labelled = false;
  let differs = false;
  for (const [i, s] of subsets.entries()) {
    const labels = s?.labels ?? {};
    labelled ||= Object.prototype.propertyIsEnumerable.call(labels, key);
    differs ||= i > 0 && !sameValue(labels[key], subsets[0]?.labels?.[key]);
  }
  return labelled && differs;
}

/** Equality as a Set sees it (NaN equals NaN). */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}
