/**
 * The rules every router shares, on the facts of a stage (and of the stage applied before it).
 * Router-specific rules live with their router (`routing/<router>/_rules.ts`).
 */
import { Labels, selects } from '../_conventions';
import { compareText, push } from '../_util';
import { showMs } from './_durations';
import { BackendFacts, BackendKind, RuleFacts, StageFacts, TargetFacts, WorkloadFacts } from './_facts';
import { SafetyRule, Severity } from './safety-rule';

/** Records one violation. */
export type Report = (rule: SafetyRule, severity: Severity, object: string, message: string, fix: string) => void;

const RULES: Record<Exclude<BackendKind, 'host'>, { defined: SafetyRule; before: SafetyRule; removed: SafetyRule; deployment: SafetyRule; stale: SafetyRule }> = {
  subset: {
    defined: SafetyRule.SUBSET_DEFINED,
    before: SafetyRule.SUBSET_BEFORE_ROUTE,
    removed: SafetyRule.SUBSET_REMOVED_WHILE_ROUTED,
    deployment: SafetyRule.DEPLOYMENT_REMOVED_WHILE_SUBSET,
    stale: SafetyRule.STALE_SUBSET,
  },
  service: {
    defined: SafetyRule.SERVICE_DEFINED,
    before: SafetyRule.SERVICE_BEFORE_ROUTE,
    removed: SafetyRule.SERVICE_REMOVED_WHILE_ROUTED,
    deployment: SafetyRule.DEPLOYMENT_REMOVED_WHILE_SERVICE,
    stale: SafetyRule.STALE_SERVICE,
  },
};

/** Where a backend is defined, for fixes: "the DestinationRule" or "its Service". */
const DEFINED_IN: Record<Exclude<BackendKind, 'host'>, string> = { subset: 'the DestinationRule', service: 'a Service' };

/**
 * Items indexed by namespace and by each `key=value` label pair, so that "which items match" is
 * answered from one bucket instead of a scan (the check stays linear in the number of objects).
 */
class LabelIndex<T> {
  private readonly byNamespace = new Map<string, T[]>();
  private readonly byPair = new Map<string, T[]>();
  add(namespace: string, labels: Labels, item: T): void {
    push(this.byNamespace, namespace, item);
    for (const [k, v] of Object.entries(labels)) {
      push(this.byPair, pairKey(namespace, k, v), item);
    }
  }
  /** Items of the namespace carrying every label of `selector` (all of them for an empty selector), in insertion order. */
  carrying(namespace: string, selector: Labels, labelsOf: (item: T) => Labels): T[] {
    const pairs = Object.entries(selector);
    if (pairs.length === 0) {
      return this.byNamespace.get(namespace) ?? [];
    }
    let smallest: T[] | undefined;
    for (const [k, v] of pairs) {
      const bucket = this.byPair.get(pairKey(namespace, k, v)) ?? [];
      if (!smallest || bucket.length < smallest.length) {
        smallest = bucket;
      }
    }
    return smallest!.filter((item) => selects(selector, labelsOf(item)));
  }
}

function pairKey(namespace: string, key: string, value: string): string {
  return JSON.stringify([namespace, key, value]);
}


/** A stage's facts with lookups. */
class Stage {
  readonly backends = new Map<string, BackendFacts>();
  readonly workloads: Map<string, WorkloadFacts>;
  private readonly workloadIndex = new LabelIndex<WorkloadFacts>();
  private readonly behindCache = new Map<BackendFacts, WorkloadFacts[]>();
  constructor(readonly facts: StageFacts) {
    // Two objects defining one backend (subset 'v2' of a host in two DestinationRules): Istio keeps the subset of the
    // oldest DestinationRule, ties (objects created by one apply) broken by name, then namespace (istiod sorts
    // configs with `sortConfigByCreationTime` before `combineSingleDestinationRule` keeps a subset name's first
    // definition). Without creation times, the one first by name, then namespace: not the first in the manifests.
    for (const backend of facts.backends) {
      const kept = this.backends.get(backend.id);
      if (!kept || compareText(backend.object, kept.object) < 0
        || (backend.object === kept.object && compareText(backend.namespace, kept.namespace) < 0)) {
        this.backends.set(backend.id, backend);
      }
    }
    this.workloads = new Map(facts.workloads.map((w) => [workloadKey(w), w]));
    for (const w of facts.workloads) {
      this.workloadIndex.add(w.namespace, w.podLabels, w);
    }
  }

  /**
   * Workloads whose pods a backend reaches, by namespace and name: the messages that list them do not depend on the
   * order of the manifests (a subset with few labels can select several versions' Deployments).
   */
  behind(backend: BackendFacts): WorkloadFacts[] {
    let found = this.behindCache.get(backend);
    if (!found) {
      found = [...this.workloadIndex.carrying(backend.namespace, backend.selector, (w) => w.podLabels)]
        .sort((a, b) => compareText(workloadKey(a), workloadKey(b)));
      this.behindCache.set(backend, found);
    }
    return found;
  }

  /** Backend ids referenced by any route rule (any weight, mirrors included). */
  referenced(): Set<string> {
    return new Set(this.facts.routes.flatMap((r) => r.rules.flatMap((rule) => rule.targets.map((t) => t.backendId))));
  }

  /** Share of all requests of its route a backend receives in the catch-all rules (max over routes). */
  shares(): Map<string, number> {
    const shares = new Map<string, number>();
    for (const route of this.facts.routes) {
      const last = route.rules[route.rules.length - 1];
      for (const t of last && !last.hasMatch ? last.targets.filter((x) => !x.mirror) : []) {
        shares.set(t.backendId, Math.max(shares.get(t.backendId) ?? 0, t.weight));
      }
    }
    return shares;
  }
}

function workloadKey(w: WorkloadFacts): string {
  return `${w.namespace}/${w.object}`;
}

const receives = (t: TargetFacts) => t.weight > 0;

/** Every shared rule, on `current` applied after `previous` when given. */
export function checkFacts(currentFacts: StageFacts, previousFacts: StageFacts | undefined, report: Report): void {
  const current = new Stage(currentFacts);
  const previous = previousFacts && new Stage(previousFacts);
  for (const workload of current.facts.workloads) {
    checkTerminationBudget(workload, report);
  }
  for (const route of current.facts.routes) {
    checkCatchAll(route.rules, route.list, route.needsCatchAll, report);
    for (const rule of route.rules) {
      checkWeights(rule, report);
      checkRetryBudget(rule, report);
      for (const target of rule.targets) {
        checkTarget(target, rule, current, previous, report);
      }
      checkShareCapacity(rule, current, report);
    }
  }
  checkStale(current, previous, report);
  if (previous) {
    checkRemovals(current, previous, report);
    checkRollbackCapacity(current, previous, report);
  }
}

function checkTerminationBudget(w: WorkloadFacts, report: Report): void {
  const required = w.sidecarDrain?.requiredSeconds ?? w.preStopSleepSeconds;
  if (Math.round(w.graceSeconds * 1000) < Math.round(required * 1000)) {
    const explanation = w.sidecarDrain?.explanation ?? `preStop sleep ${w.preStopSleepSeconds}s + sidecar drain 0s`;
    report(SafetyRule.TERMINATION_BUDGET, Severity.ERROR, w.object,
      `terminationGracePeriodSeconds ${w.graceSeconds} is shorter than ${explanation}, so pods are killed while still serving`,
      `raise terminationGracePeriodSeconds to at least ${Math.ceil(required)} or shorten the preStop sleep`);
  }
  if (w.sidecarDrain?.exitsEarly) {
    report(SafetyRule.TERMINATION_BUDGET, Severity.ERROR, w.object, w.sidecarDrain.exitsEarly,
      `set ${w.sidecarDrain.drainSetting} in proxy.istio.io/config to at least the preStop sleep (${w.preStopSleepSeconds}s)`);
  }
}

function checkCatchAll(rules: RuleFacts[], list: string, needsCatchAll: boolean, report: Report): void {
  const last = rules[rules.length - 1];
  if (needsCatchAll && last && rules.some((r) => r.hasMatch) && last.hasMatch) {
    report(SafetyRule.CATCH_ALL_ROUTE, Severity.ERROR, last.where,
      'the last route has a match, so requests matching none of the routes get 404 (no route)',
      `end ${list} with a route that has no match and carries the weighted destinations`);
  }
}

function checkWeights(rule: RuleFacts, report: Report): void {
  const routed = rule.targets.filter((t) => !t.mirror);
  if (routed.length === 0) {
    return;
  }
  for (const t of routed.filter((x) => x.invalidWeight !== undefined)) {
    report(SafetyRule.WEIGHTS, Severity.ERROR, rule.where, `weight ${t.invalidWeight} of ${t.label} is not an integer between 0 and 100`, 'use integer percentages');
  }
  // The sum of the weights as written: an out-of-range weight is reported above, not counted as 0 here
  // (weights -10 and 110 do add up to 100; "add up to 0" would send the user after the wrong problem).
  const total = routed.reduce((sum, t) => sum + (typeof t.invalidWeight === 'number' ? t.invalidWeight : t.weight), 0);
  if (total !== 100 && routed.every((t) => t.invalidWeight === undefined || typeof t.invalidWeight === 'number')) {
    report(SafetyRule.WEIGHTS, Severity.ERROR, rule.where,
      `weights add up to ${total}, not 100 (${routed.map((t) => `${t.label}=${t.weight}`).join(', ')})`,
      'make the weights of the route add up to exactly 100');
  }
}

/**
 * Istio's `retries.attempts` counts retries after the first try (Envoy's `num_retries`), so a
 * request may run `attempts + 1` tries of `perTryTimeout` each; all of them must fit the route
 * timeout or the last retries never run.
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
function checkRetryBudget(rule: RuleFacts, report: Report): void {
  const { retries, timeoutMs } = rule;
  if (!retries || !retries.attempts || retries.perTryTimeoutMs === undefined || timeoutMs === undefined) {
    return;
  }
  const tries = retries.attempts + 1;
  if (tries * retries.perTryTimeoutMs > timeoutMs) {
    report(SafetyRule.RETRY_BUDGET, Severity.ERROR, rule.where,
      `the first try + ${retries.attempts} retries x perTryTimeout ${showMs(retries.perTryTimeoutMs)} = ${showMs(tries * retries.perTryTimeoutMs)} exceed the route timeout ${showMs(timeoutMs)}, so the last retries can never run`,
      'lower retries.attempts or retries.perTryTimeout, or raise timeout');
  }
}

function checkTarget(t: TargetFacts, rule: RuleFacts, current: Stage, previous: Stage | undefined, report: Report): void {
  const backend = current.backends.get(t.backendId);
  if (t.kind !== 'host') {
    const rules = RULES[t.kind];
    if (!backend) {
      report(rules.defined, Severity.ERROR, rule.where,
        `routes to ${t.label}, which ${t.kind === 'subset' ? 'no DestinationRule of this stage defines, so Envoy answers 503 (no healthy upstream)' : 'does not exist in this stage, so the route has no endpoints for it (503)'}`,
        t.kind === 'subset'
          ? `add subset '${t.label.split("'")[1]}' to the DestinationRule of ${t.label.split(' of ')[1]} in an earlier stage`
          : `create ${t.label} in an earlier stage`);
      return;
    }
    if (previous && !previous.backends.has(t.backendId)) {
      report(rules.before, Severity.ERROR, rule.where,
        `routes to ${t.label}, which the previous stage did not define; the proxies may receive this route before ${t.kind === 'subset' ? 'the subset' : 'the Service\'s endpoints'}`,
        `add ${t.kind === 'subset' ? `subset '${t.label.split("'")[1]}' to ${DEFINED_IN.subset}` : t.label} in a stage of its own, before the one that routes to it`);
    }
  }
  if (!receives(t) || !backend?.podsKnown) {
    return;
  }
  const behind = current.behind(backend);
  if (behind.length === 0) {
    report(SafetyRule.DESTINATION_READY, Severity.ERROR, rule.where, `sends traffic to ${t.label}, but no Deployment of this stage has pods it selects`,
      'deploy the version in a stage before the one that routes traffic to it');
    return;
  }
  if (previous && !behind.some((w) => previous.workloads.has(workloadKey(w)))) {
    report(SafetyRule.DESTINATION_READY, Severity.ERROR, rule.where,
      `sends traffic to ${t.label}, whose Deployment ${behind.map((w) => w.object).sort().join(', ')} did not exist in the previous stage, so it gets traffic before its pods are ready`,
      'deploy the version in a stage of its own, and route to it in the next one');
  }
  const floor = behind.reduce((sum, w) => sum + w.floor, 0);
  if (floor === 0) {
    report(SafetyRule.CAPACITY, Severity.ERROR, rule.where,
      `sends traffic to ${t.label}, but no pod of it is guaranteed (${behind.map((w) => `${w.object} ${w.floorSource}`).join(', ')})`,
      'give the version at least one replica (replicas, or HorizontalPodAutoscaler minReplicas) while it receives traffic');
  }
  for (const w of behind.filter((x) => x.rolloutTakesAllPods)) {
    report(SafetyRule.CAPACITY, Severity.ERROR, w.object,
      `receives traffic through ${rule.where}, but ${w.rolloutTakesAllPods}: the next rollout leaves ${t.label} with no ready pod`,
      'use strategy RollingUpdate with maxUnavailable 0 (or below the replica count) and maxSurge above 0');
  }
}

/** The floor of the pods behind a backend in a stage (0 when none). */
function floorOf(stage: Stage, backendId: string): { floor: number; workloads: WorkloadFacts[] } | undefined {
  const backend = stage.backends.get(backendId);
  if (!backend?.podsKnown) {
    return undefined;
  }
  const workloads = stage.behind(backend);
  return { floor: workloads.reduce((sum, w) => sum + w.floor, 0), workloads };
}

/**
 * (warning) A version with a share of a weighted rule far below — less than half of — the pods its share needs,
 * where the need is measured against the largest floor among the rule's versions (the capacity that
 * carries all of the traffic): `ceil(reference x share / 100)`.
 */
function checkShareCapacity(rule: RuleFacts, stage: Stage, report: Report): void {
  const targets = rule.targets.filter((t) => !t.mirror && receives(t));
  const floors = targets.map((t) => ({ t, f: floorOf(stage, t.backendId) })).filter((x) => x.f && x.f.floor > 0);
  const reference = Math.max(0, ...floors.map((x) => x.f!.floor));
  for (const { t, f } of floors) {
    const needed = Math.ceil(reference * t.weight / 100);
    if (f!.floor * 2 < needed) {
      report(SafetyRule.CAPACITY, Severity.WARNING, rule.where,
        `${t.label} receives ${t.weight}% of the requests on ${f!.floor} guaranteed pod(s), while ${reference} pod(s) carry 100% elsewhere in the route: it needs about ${needed}`,
        `raise the floor of ${f!.workloads.map((w) => w.object).join(', ')} to at least ${needed} while it receives ${t.weight}%`);
    }
  }
}

/**
 * (warning) Applying the previous stage again (the documented roll back) must land on pods that
 * already run: a version that had a share of traffic in the previous stage keeps the floor for it.
 */
function checkRollbackCapacity(current: Stage, previous: Stage, report: Report): void {
  const before = previous.shares();
  const now = current.shares();
  const floorsBefore = [...before.keys()].map((id) => floorOf(previous, id)?.floor ?? 0);
  const reference = Math.max(0, ...floorsBefore);
  for (const [id, share] of before) {
    if (share <= (now.get(id) ?? 0)) {
      continue;
    }
    const f = floorOf(current, id);
    const needed = Math.ceil(reference * share / 100);
    if (f && f.workloads.length > 0 && f.floor < needed) {
      const backend = current.backends.get(id)!;
      report(SafetyRule.ROLLBACK_CAPACITY, Severity.WARNING, f.workloads.map((w) => w.object).join(', '),
        `${backend.label} had ${share}% of the requests in the previous stage on a floor of ${reference} pod(s) for all traffic, but keeps only ${f.floor}: rolling back sends ${share}% to pods that do not run yet`,
        `keep the floor of ${backend.label} at ${needed} or more until the stage after next`);
    }
  }
}

/** (warning) A subset or per-version Service that selects no pods, kept from the previous stage, and routed by nothing. */
function checkStale(current: Stage, previous: Stage | undefined, report: Report): void {
  if (!previous) {
    return;
  }
  const referenced = current.referenced();
  for (const backend of current.backends.values()) {
    if (backend.kind === 'host' || !backend.podsKnown || referenced.has(backend.id) || !previous.backends.has(backend.id)) {
      continue;
    }
    if (current.behind(backend).length === 0) {
      report(RULES[backend.kind].stale, Severity.WARNING, backend.object,
        `${backend.label} selects no pods and was already there in the previous stage: nothing runs or routes to it`,
        `remove ${backend.label}, or deploy its version (keep routable objects in sync with the versions you run)`);
    }
  }
}

function checkRemovals(current: Stage, previous: Stage, report: Report): void {
  const routedBefore = previous.referenced();
  const routedNow = current.referenced();
  for (const backend of previous.backends.values()) {
    if (backend.kind !== 'host' && !current.backends.has(backend.id) && routedBefore.has(backend.id)) {
      const name = backend.kind === 'subset' ? `'${backend.label.split("'")[1]}'` : backend.label;
      report(RULES[backend.kind].removed, Severity.ERROR, backend.object,
        `${backend.kind === 'subset' ? `subset ${name}` : name} is removed while the previous stage's route still sends to it`,
        `remove ${name} from the route in one stage, then remove it in the next`);
    }
  }
  const removed = previous.facts.workloads.filter((w) => !current.workloads.has(workloadKey(w)));
  if (removed.length === 0) {
    return;
  }
  // Routed backends by namespace and their first selector label (or none): a removed workload looks up
  // the buckets of its own labels, so each backend is compared with the few workloads it can select.
  const index = [previous, current].map((stage) => {
    const byLabel = new Map<string, BackendFacts[]>();
    const order = new Map<BackendFacts, number>();
    for (const backend of stage.backends.values()) {
      order.set(backend, order.size);
      if (backend.kind !== 'host' && (routedBefore.has(backend.id) || routedNow.has(backend.id))) {
        const first = Object.entries(backend.selector)[0];
        push(byLabel, first ? pairKey(backend.namespace, first[0], first[1]) : backend.namespace, backend);
      }
    }
    return { byLabel, order };
  });
  for (const workload of removed) {
    const seen = new Set<string>();
    for (const [i, stage] of [previous, current].entries()) {
      const keys = [workload.namespace, ...Object.entries(workload.podLabels).map(([k, v]) => pairKey(workload.namespace, k, v))];
      const candidates = [...new Set(keys.flatMap((key) => index[i].byLabel.get(key) ?? []))]
        .sort((a, b) => index[i].order.get(a)! - index[i].order.get(b)!);
      for (const backend of candidates) {
        const routed = routedBefore.has(backend.id) || routedNow.has(backend.id);
        if (backend.kind === 'host' || seen.has(backend.id) || !routed || backend.namespace !== workload.namespace || !selects(backend.selector, workload.podLabels)) {
          continue;
        }
        seen.add(backend.id);
        const where = backend.kind === 'subset' ? `subset '${backend.label.split("'")[1]}' of ${backend.object}` : backend.label;
        report(RULES[backend.kind].deployment, Severity.ERROR, workload.object,
          `is deleted while ${where}${stage === previous ? ' in the previous stage' : ''}, which a route names, still selects its pods`,
          `unroute and remove ${where} in stages before deleting the Deployment`);
      }
    }
  }
}
