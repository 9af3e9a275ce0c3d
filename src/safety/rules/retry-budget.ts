/**
 * (attempts + 1) x perTryTimeout fits in the route timeout. Istio's `retries.attempts` counts retries after the
 * first try (Envoy's `num_retries`), so a request may run `attempts + 1` tries of `perTryTimeout` each; all of them
 * must fit the route timeout or the last retries never run.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
import { showMs } from '../_durations';
import { defineRule } from '../_rule';
import { Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

export const RETRY_BUDGET = defineRule({
  id: SafetyRule.RETRY_BUDGET,
  findings: {
    triesExceedTimeout: { severity: Severity.ERROR, fix: 'lower retries.attempts or retries.perTryTimeout, or raise timeout' },
  },
  check({ current }: Transition, report) {
    for (const route of current.facts.routes) {
      for (const { retries, timeoutMs, where } of route.rules) {
        if (!retries || !retries.attempts || retries.perTryTimeoutMs === undefined || timeoutMs === undefined) {
          continue;
        }
        const tries = retries.attempts + 1;
        if (tries * retries.perTryTimeoutMs > timeoutMs) {
          report('triesExceedTimeout', where,
            `the first try + ${retries.attempts} retries x perTryTimeout ${showMs(retries.perTryTimeoutMs)} = ${showMs(tries * retries.perTryTimeoutMs)} exceed the route timeout ${showMs(timeoutMs)}, so the last retries can never run`);
        }
      }
    }
  },
});
