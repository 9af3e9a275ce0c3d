/** A Deployment is deleted only after every routed subset or per-version Service selecting its pods is gone. */
import { selects } from '../../_conventions';
import { push } from '../../_util';
import { BackendFacts } from '../_facts';
import { defineRule } from '../_rule';
import { StageView, Transition } from '../_stage';
import { SafetyRule, Severity } from '../safety-rule';

const fix = (d: { where: string }) => `unroute and remove ${d.where} in stages before deleting the Deployment`;

export const DEPLOYMENT_REMOVED_WHILE_BACKEND = defineRule({
  findings: {
    subset: { id: SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, severity: Severity.ERROR, fix },
    service: { id: SafetyRule.DEPLOYMENT_REMOVED_WHILE_SERVICE, severity: Severity.ERROR, fix },
  },
  check({ current, previous }: Transition, report) {
    if (!previous) {
      return;
    }
    const removed = previous.facts.workloads.filter((w) => !current.hasWorkload(w));
    if (removed.length === 0) {
      return;
    }
    const routedBefore = previous.referenced();
    const routedNow = current.referenced();
    const routed = (b: BackendFacts) => b.kind !== 'host' && (routedBefore.has(b.id) || routedNow.has(b.id));
    const stages = [previous, current].map((stage) => ({ stage, index: new FirstPairIndex(stage, routed) }));
    for (const workload of removed) {
      const seen = new Set<string>();
      for (const { stage, index } of stages) {
        for (const backend of index.candidates(workload.namespace, workload.podLabels)) {
          if (seen.has(backend.id) || backend.namespace !== workload.namespace || !selects(backend.selector, workload.podLabels)) {
            continue;
          }
          seen.add(backend.id);
          const where = backend.kind === 'subset' ? `subset '${backend.name}' of ${backend.object}` : backend.label;
          report(backend.kind === 'subset' ? 'subset' : 'service', workload.object,
            `is deleted while ${where}${stage === previous ? ' in the previous stage' : ''}, which a route names, still selects its pods`,
            { where });
        }
      }
    }
  },
});

/**
 * The routed backends of a stage by namespace and their first selector label (or none): a removed workload looks up
 * the buckets of its own labels, so each backend is compared with the few workloads it can select.
 */
class FirstPairIndex {
  private readonly order = new Map<BackendFacts, number>();
  private readonly unlabelled = new Map<string, BackendFacts[]>();
  private readonly byPair = new Map<string, Map<string, Map<unknown, BackendFacts[]>>>();

  constructor(stage: StageView, include: (b: BackendFacts) => boolean) {
    for (const backend of stage.backends.values()) {
      this.order.set(backend, this.order.size);
      if (!include(backend)) {
        continue;
      }
      const first = Object.entries(backend.selector)[0];
      if (!first) {
        push(this.unlabelled, backend.namespace, backend);
        continue;
      }
      let keys = this.byPair.get(backend.namespace);
      if (!keys) {
        keys = new Map();
        this.byPair.set(backend.namespace, keys);
      }
      let values = keys.get(first[0]);
      if (!values) {
        values = new Map();
        keys.set(first[0], values);
      }
      push(values, first[1], backend);
    }
  }

  /** Backends of the namespace whose first selector label the pod labels carry (or with no selector), in stage order. */
  candidates(namespace: string, podLabels: { [key: string]: string }): BackendFacts[] {
    const found = new Set<BackendFacts>(this.unlabelled.get(namespace));
    const keys = this.byPair.get(namespace);
    if (keys) {
      for (const [k, v] of Object.entries(podLabels)) {
        for (const b of keys.get(k)?.get(v) ?? []) {
          found.add(b);
        }
      }
    }
    return [...found].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }
}
