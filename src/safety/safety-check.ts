import {
  DestinationRuleSnapshot, DestinationSnapshot, hostNamespace, Labels, millis, ReleaseSnapshot, selects, snapshotOf, SubsetSnapshot,
  WorkloadSnapshot,
} from './_release-snapshot';

/** The rules `SafetyCheck` enforces; each names one way a stage can drop requests. */
export enum SafetyRule {
  /** Every subset a VirtualService routes or mirrors to is defined in this stage's DestinationRule. */
  SUBSET_DEFINED = 'subset-defined',
  /** ...and was already defined in the previous stage (Envoy may receive the route before the subset). */
  SUBSET_BEFORE_ROUTE = 'subset-before-route',
  /** A destination that receives traffic selects pods of a Deployment that existed in the previous stage. */
  DESTINATION_READY = 'destination-ready',
  /** A subset leaves the DestinationRule only after it left every VirtualService in an earlier stage. */
  SUBSET_REMOVED_WHILE_ROUTED = 'subset-removed-while-routed',
  /** A Deployment is deleted only after every subset selecting its pods is gone. */
  DEPLOYMENT_REMOVED_WHILE_SUBSET = 'deployment-removed-while-subset',
  /** Weights of a route are integers 0–100 that add up to 100. */
  WEIGHTS = 'weights',
  /** A VirtualService with match routes ends with a catch-all route (no `match`). */
  CATCH_ALL_ROUTE = 'catch-all-route',
  /** A Service selector carries no version label (no label a subset uses to tell versions apart). */
  SERVICE_SELECTS_VERSION = 'service-selects-version',
  /** Subset names, and subset label sets, are unique within a DestinationRule. */
  SUBSET_UNIQUE = 'subset-unique',
  /** terminationGracePeriodSeconds >= preStop sleep + sidecar drain duration. */
  TERMINATION_BUDGET = 'termination-budget',
  /** retries.attempts x retries.perTryTimeout <= the route timeout. */
  RETRY_BUDGET = 'retry-budget',
}

/** One way a stage (or the transition to it) could drop requests. */
export interface SafetyViolation {
  /** The rule broken. */
  readonly rule: SafetyRule;
  /** The offending object, `Kind/name`, with the part of it at fault when useful. */
  readonly object: string;
  /** What is wrong, naming the subset, version or value. */
  readonly message: string;
  /** How to make the stage safe. */
  readonly fix: string;
}

/**
 * Checks that a stage of a release can be applied without dropping a request: on its own,
 * and (given the previous stage) as a transition — make-before-break.
 *
 * Works on plain manifest objects, so it checks hand-written YAML as well as ours.
 */
export class SafetyCheck {
  /**
   * Every violation of the stage `manifests`, applied after `previous` when given.
   * @param manifests the objects of the stage (Kubernetes and Istio), as plain JSON
   * @param previous the objects of the stage applied before it
   */
  public static check(manifests: any[], previous?: any[]): SafetyViolation[] {
    return checkSnapshots(snapshotOf(manifests), previous ? snapshotOf(previous) : undefined);
  }

  /**
   * Throws one error listing every violation, prefixed with `context` (e.g. the construct path).
   */
  public static assertSafe(manifests: any[], previous?: any[], context?: string): void {
    throwIfUnsafe(SafetyCheck.check(manifests, previous), context ?? 'stage');
  }

  /** One line per violation: `[rule] object: message. Fix: fix`. */
  public static format(violations: SafetyViolation[]): string {
    return violations.map((v) => `[${v.rule}] ${v.object}: ${v.message}. Fix: ${v.fix}`).join('\n');
  }
}

/** @internal */
export function throwIfUnsafe(violations: SafetyViolation[], context: string): void {
  if (violations.length > 0) {
    throw new Error(`${context} is unsafe to apply (${violations.length} violation${violations.length > 1 ? 's' : ''}):\n${SafetyCheck.format(violations)}`);
  }
}

/** @internal */
export function checkSnapshots(current: ReleaseSnapshot, previous?: ReleaseSnapshot): SafetyViolation[] {
  const violations: SafetyViolation[] = [];
  const report = (rule: SafetyRule, object: string, message: string, fix: string) => violations.push({ rule, object, message, fix });

  for (const dr of current.destinationRules) {
    checkSubsetsUnique(dr, report);
  }
  for (const service of current.services) {
    // Keys that tell versions apart: `version`, and any subset label whose value differs between subsets.
    const subsets = current.destinationRules.filter((dr) => dr.host === service.host).flatMap((dr) => dr.subsets);
    const versionKeys = new Set(['version', ...subsets.flatMap((s) => Object.keys(s.labels))
      .filter((key) => new Set(subsets.map((s) => s.labels[key])).size > 1)]);
    for (const key of Object.keys(service.selector).filter((k) => versionKeys.has(k))) {
      report(SafetyRule.SERVICE_SELECTS_VERSION, service.object,
        `selector has '${key}: ${service.selector[key]}', a label that tells versions apart, so the Service reaches one version only and a shift drops requests`,
        'select on the app label only and let DestinationRule subsets pick versions');
    }
  }
  for (const workload of current.workloads) {
    const drain = workload.drainSeconds ?? 0;
    const preStop = workload.preStopSleepSeconds ?? 0;
    if (workload.graceSeconds !== undefined && millis(workload.graceSeconds) < millis(preStop + drain)) {
      report(SafetyRule.TERMINATION_BUDGET, workload.object,
        `terminationGracePeriodSeconds ${workload.graceSeconds} is shorter than preStop sleep ${preStop}s + sidecar drain ${drain}s, so pods are killed while still serving`,
        `raise terminationGracePeriodSeconds to at least ${preStop + drain} or shorten the preStop sleep`);
    }
  }

  for (const vs of current.virtualServices) {
    const lastIndex = vs.http.length - 1;
    if (vs.http.some((r) => r.hasMatch) && vs.http[lastIndex].hasMatch) {
      report(SafetyRule.CATCH_ALL_ROUTE, `${vs.object} http[${lastIndex}]`,
        'the last route has a match, so requests matching none of the routes get 404 (no route)',
        'end http with a route that has no match and carries the weighted destinations');
    }
    for (const route of vs.http) {
      const where = `${vs.object} http[${route.index}]`;
      checkWeights(route.destinations, where, report);
      if (route.retryAttempts && route.perTryTimeoutSeconds !== undefined && route.timeoutSeconds !== undefined
        && route.retryAttempts * millis(route.perTryTimeoutSeconds) > millis(route.timeoutSeconds)) {
        report(SafetyRule.RETRY_BUDGET, where,
          `retries ${route.retryAttempts} x perTryTimeout ${route.perTryTimeoutSeconds}s = ${route.retryAttempts * route.perTryTimeoutSeconds}s exceed the route timeout ${route.timeoutSeconds}s, so the last attempts can never run`,
          'lower retries.attempts or retries.perTryTimeout, or raise timeout');
      }
      const routed = route.destinations.map((d) => ({ d, receives: (d.weight ?? (route.destinations.length === 1 ? 100 : 0)) > 0 }));
      if (route.mirror) {
        routed.push({ d: route.mirror, receives: true });
      }
      for (const { d, receives } of routed) {
        checkDestination(d, receives, where, current, previous, report);
      }
    }
  }

  if (previous) {
    checkRemovals(current, previous, report);
  }
  return violations;
}

type Report = (rule: SafetyRule, object: string, message: string, fix: string) => void;

function checkSubsetsUnique(dr: DestinationRuleSnapshot, report: Report): void {
  const names = new Set<string>();
  const labelSets = new Map<string, string>();
  for (const subset of dr.subsets) {
    if (names.has(subset.name)) {
      report(SafetyRule.SUBSET_UNIQUE, dr.object, `subset '${subset.name}' is defined twice`, 'give every subset a unique name');
    }
    names.add(subset.name);
    const key = JSON.stringify(Object.entries(subset.labels).sort());
    const other = labelSets.get(key);
    if (other !== undefined && other !== subset.name) {
      report(SafetyRule.SUBSET_UNIQUE, dr.object, `subsets '${other}' and '${subset.name}' have the same labels ${key}, so both select the same pods`,
        'give each subset the version label of its own Deployment');
    }
    labelSets.set(key, subset.name);
  }
}

function checkWeights(destinations: DestinationSnapshot[], where: string, report: Report): void {
  if (destinations.length === 0) {
    return;
  }
  for (const d of destinations) {
    if (d.weight !== undefined && (!Number.isInteger(d.weight) || d.weight < 0 || d.weight > 100)) {
      report(SafetyRule.WEIGHTS, where, `weight ${d.weight} of ${label(d)} is not an integer between 0 and 100`, 'use integer percentages');
    }
  }
  const total = destinations.length === 1 && destinations[0].weight === undefined
    ? 100 : destinations.reduce((sum, d) => sum + (d.weight ?? 0), 0);
  if (total !== 100) {
    report(SafetyRule.WEIGHTS, where, `weights add up to ${total}, not 100 (${destinations.map((d) => `${label(d)}=${d.weight ?? 0}`).join(', ')})`,
      'make the weights of the route add up to exactly 100');
  }
}

function checkDestination(
  d: DestinationSnapshot, receivesTraffic: boolean, where: string,
  current: ReleaseSnapshot, previous: ReleaseSnapshot | undefined, report: Report,
): void {
  if (d.subset !== undefined) {
    if (!subsetOf(current, d)) {
      report(SafetyRule.SUBSET_DEFINED, where, `routes to subset '${d.subset}' of ${d.host}, which no DestinationRule of this stage defines, so Envoy answers 503 (no healthy upstream)`,
        `add subset '${d.subset}' to the DestinationRule of ${d.host} in an earlier stage`);
      return;
    } else if (previous && !subsetOf(previous, d)) {
      report(SafetyRule.SUBSET_BEFORE_ROUTE, where, `routes to subset '${d.subset}' of ${d.host}, which the previous stage's DestinationRule did not define; Envoy may receive this route before the subset`,
        `add subset '${d.subset}' to the DestinationRule in a stage of its own, before the one that routes to it`);
    }
  }
  if (!receivesTraffic || !d.host.endsWith('.svc.cluster.local')) {
    return;
  }
  const podsNow = workloadsBehind(current, d);
  if (podsNow.length === 0) {
    report(SafetyRule.DESTINATION_READY, where, `sends traffic to ${label(d)}, but no Deployment of this stage has pods it selects`,
      'deploy the version in a stage before the one that routes traffic to it');
  } else if (previous && !podsNow.some((w) => previous.workloads.some((p) => p.object === w.object && p.namespace === w.namespace))) {
    report(SafetyRule.DESTINATION_READY, where, `sends traffic to ${label(d)}, whose Deployment ${podsNow.map((w) => w.object).sort().join(', ')} did not exist in the previous stage, so it gets traffic before its pods are ready`,
      'deploy the version in a stage of its own, and route to it in the next one');
  }
}

function checkRemovals(current: ReleaseSnapshot, previous: ReleaseSnapshot, report: Report): void {
  for (const dr of previous.destinationRules) {
    for (const subset of dr.subsets) {
      const kept = current.destinationRules.some((c) => c.host === dr.host && c.subsets.some((s) => s.name === subset.name));
      const stillRouted = previous.virtualServices.some((vs) => vs.http.some((r) =>
        [...r.destinations, ...(r.mirror ? [r.mirror] : [])].some((d) => d.host === dr.host && d.subset === subset.name)));
      if (!kept && stillRouted) {
        report(SafetyRule.SUBSET_REMOVED_WHILE_ROUTED, dr.object, `subset '${subset.name}' is removed while the previous stage's VirtualService still routes to it`,
          `remove '${subset.name}' from the VirtualService in one stage, then from the DestinationRule in the next`);
      }
    }
  }
  for (const workload of previous.workloads) {
    if (current.workloads.some((w) => w.object === workload.object && w.namespace === workload.namespace)) {
      continue;
    }
    const reported = new Set<string>();
    for (const snapshot of [previous, current]) {
      for (const dr of snapshot.destinationRules) {
        const service = snapshot.services.find((s) => s.host === dr.host);
        for (const subset of dr.subsets.filter((s) => selectsPods(dr.host, s, service?.selector, workload))) {
          const key = `${dr.object}/${subset.name}`;
          if (!reported.has(key)) {
            reported.add(key);
            report(SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET, workload.object,
              `is deleted while subset '${subset.name}' of ${dr.object}${snapshot === previous ? ' in the previous stage' : ''} still selects its pods`,
              `remove subset '${subset.name}' in a stage before deleting the Deployment`);
          }
        }
      }
    }
  }
}

function subsetOf(snapshot: ReleaseSnapshot, d: DestinationSnapshot): SubsetSnapshot | undefined {
  for (const dr of snapshot.destinationRules.filter((r) => r.host === d.host)) {
    const subset = dr.subsets.find((s) => s.name === d.subset);
    if (subset) {
      return subset;
    }
  }
  return undefined;
}

function workloadsBehind(snapshot: ReleaseSnapshot, d: DestinationSnapshot) {
  const service = snapshot.services.find((s) => s.host === d.host);
  const subset = d.subset === undefined ? undefined : subsetOf(snapshot, d);
  if (d.subset !== undefined && !subset) {
    return [];
  }
  if (!service && !subset) {
    // A whole host with no Service in these manifests: nothing to check against.
    return snapshot.workloads;
  }
  return snapshot.workloads.filter((w) => selectsPods(d.host, subset, service?.selector, w));
}

/** Whether pods of `workload` are behind `host` (same namespace) and selected by the subset and Service selector. */
function selectsPods(host: string, subset: SubsetSnapshot | undefined, serviceSelector: Labels | undefined, workload: WorkloadSnapshot): boolean {
  return hostNamespace(host) === workload.namespace
    && selects(subset?.labels ?? {}, workload.podLabels) && selects(serviceSelector ?? {}, workload.podLabels);
}

function label(d: DestinationSnapshot): string {
  return d.subset === undefined ? d.host : `subset '${d.subset}' of ${d.host}`;
}
