/** terminationGracePeriodSeconds covers the preStop sleep and the drain the sidecar really performs. */
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const TERMINATION_BUDGET = defineRule({
  id: SafetyRule.TERMINATION_BUDGET,
  findings: {
    /** The grace period ends before the pod stopped serving. */
    graceTooShort: {
      severity: Severity.ERROR,
      fix: (d: { requiredSeconds: number }) => `raise terminationGracePeriodSeconds to at least ${Math.ceil(d.requiredSeconds)} or shorten the preStop sleep`,
    },
    /** A classic sidecar exits while the app's preStop sleep still waits for endpoints to stop sending. */
    sidecarExitsEarly: {
      severity: Severity.ERROR,
      fix: (d: { drainSetting: string; preStopSleepSeconds: number }) =>
        `set ${d.drainSetting} in proxy.istio.io/config to at least the preStop sleep (${d.preStopSleepSeconds}s)`,
    },
  },
  check({ current }: Transition, report) {
    for (const w of current.facts.workloads) {
      const requiredSeconds = w.sidecarDrain?.requiredSeconds ?? w.preStopSleepSeconds;
      if (Math.round(w.graceSeconds * 1000) < Math.round(requiredSeconds * 1000)) {
        const explanation = w.sidecarDrain?.explanation ?? `preStop sleep ${w.preStopSleepSeconds}s + sidecar drain 0s`;
        report('graceTooShort', w.object,
          `terminationGracePeriodSeconds ${w.graceSeconds} is shorter than ${explanation}, so pods are killed while still serving`,
          { requiredSeconds });
      }
      if (w.sidecarDrain?.exitsEarly) {
        report('sidecarExitsEarly', w.object, w.sidecarDrain.exitsEarly,
          { drainSetting: w.sidecarDrain.drainSetting, preStopSleepSeconds: w.preStopSleepSeconds });
      }
    }
  },
});
