/**
 * The facts of a stage with the lookups the shared rules need, each built once and only when a
 * rule asks for it (most stages are safe and most lookups are never made).
 */
import { Labels, selects } from '../_conventions';
import { compareText, push } from '../_util';
import { BackendFacts, StageFacts, TargetFacts, WorkloadFacts } from './_facts';

/** What the shared rules check: a stage, and the stage applied before it when there is one. */
export interface Transition {
  readonly current: StageView;
  readonly previous?: StageView;
}

/**
 * Items by namespace and by label pair (namespace → key → value → items): which items carry a selector's labels
 * is answered from the smallest bucket of its pairs instead of a scan, so the checks stay linear in the number of
 * objects.
 */
export class LabelIndex<T> {
  private readonly byNamespace = new Map<string, T[]>();
  private readonly byPair = new Map<string, Map<string, Map<string, T[]>>>();

  /** Adds an item under its namespace and under each of `labels` (under none: only in the namespace's list). */
  add(namespace: string, labels: Labels, item: T): void {
    push(this.byNamespace, namespace, item);
    let keys = this.byPair.get(namespace);
    for (const key in labels) {
      if (!keys) {
        keys = new Map();
        this.byPair.set(namespace, keys);
      }
      let values = keys.get(key);
      if (!values) {
        values = new Map();
        keys.set(key, values);
      }
      push(values, labels[key], item);
    }
  }

  /** Every item of the namespace. */
  inNamespace(namespace: string): readonly T[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  /** Items added under the pair `key=value` of the namespace. */
  withPair(namespace: string, key: string, value: string): readonly T[] {
    return this.byPair.get(namespace)?.get(key)?.get(value) ?? [];
  }

  /** Items of the namespace carrying every label of `selector` (all of them for an empty selector), in insertion order. */
  carrying(namespace: string, selector: Labels, labelsOf: (item: T) => Labels): T[] {
    let smallest: readonly T[] | undefined;
    for (const key in selector) {
      const bucket = this.withPair(namespace, key, selector[key]);
      if (!smallest || bucket.length < smallest.length) {
        smallest = bucket;
      }
    }
    if (smallest === undefined) {
      return [...this.inNamespace(namespace)];
    }
    return smallest.filter((item) => selects(selector, labelsOf(item)));
  }
}

/** Key of a workload within a stage: namespace and `Kind/name`. */
export function workloadKey(w: WorkloadFacts): string {
  return `${w.namespace}/${w.object}`;
}

/** Whether a target gets requests. */
export function receives(t: TargetFacts): boolean {
  return t.weight > 0;
}

/** The floor of the pods behind a backend, and the workloads that make it. */
export interface Floor {
  readonly floor: number;
  readonly workloads: WorkloadFacts[];
}

/** Up to this many workloads, a scan finds those behind a backend sooner than an index is built. */
const SCAN_BELOW = 16;

/** A stage's facts with lookups. */
export class StageView {
  /** The backends by id: one per id (see the constructor for which one). */
  readonly backends = new Map<string, BackendFacts>();
  private workloadsByKey?: Map<string, WorkloadFacts>;
  private workloadIndex?: LabelIndex<WorkloadFacts>;
  private readonly behindCache = new Map<BackendFacts, WorkloadFacts[]>();
  private referencedIds?: Set<string>;
  private catchAllShares?: Map<string, number>;

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
  }

  /** The workloads by `workloadKey`. */
  get workloads(): Map<string, WorkloadFacts> {
    return this.workloadsByKey ??= new Map(this.facts.workloads.map((w) => [workloadKey(w), w]));
  }

  /** Whether the stage has a workload of the namespace, kind and name of `w`. */
  hasWorkload(w: WorkloadFacts): boolean {
    return this.workloads.has(workloadKey(w));
  }

  /**
   * Workloads whose pods a backend reaches, by namespace and name: the messages that list them do not depend on the
   * order of the manifests (a subset with few labels can select several versions' Deployments).
   */
  behind(backend: BackendFacts): WorkloadFacts[] {
    let found = this.behindCache.get(backend);
    if (!found) {
      const workloads = this.facts.workloads;
      if (workloads.length <= SCAN_BELOW) {
        found = workloads.filter((w) => w.namespace === backend.namespace && selects(backend.selector, w.podLabels));
      } else {
        if (!this.workloadIndex) {
          this.workloadIndex = new LabelIndex<WorkloadFacts>();
          for (const w of workloads) {
            this.workloadIndex.add(w.namespace, w.podLabels, w);
          }
        }
        found = this.workloadIndex.carrying(backend.namespace, backend.selector, (w) => w.podLabels);
      }
      if (found.length > 1) {
        found.sort((a, b) => compareText(workloadKey(a), workloadKey(b)));
      }
      this.behindCache.set(backend, found);
    }
    return found;
  }

  /** The floor of the pods behind a backend (0 when none); undefined when the backend is missing or its pods unknown. */
  floorOf(backendId: string): Floor | undefined {
    const backend = this.backends.get(backendId);
    if (!backend?.podsKnown) {
      return undefined;
    }
    const workloads = this.behind(backend);
    let floor = 0;
    for (const w of workloads) {
      floor += w.floor;
    }
    return { floor, workloads };
  }

  /** Backend ids referenced by any route rule (any weight, mirrors included). */
  referenced(): ReadonlySet<string> {
    if (!this.referencedIds) {
      this.referencedIds = new Set();
      for (const route of this.facts.routes) {
        for (const rule of route.rules) {
          for (const t of rule.targets) {
            this.referencedIds.add(t.backendId);
          }
        }
      }
    }
    return this.referencedIds;
  }

  /** Share of all requests of its route a backend receives in the catch-all rules (max over routes). */
  shares(): ReadonlyMap<string, number> {
    if (!this.catchAllShares) {
      this.catchAllShares = new Map();
      for (const route of this.facts.routes) {
        const last = route.rules[route.rules.length - 1];
        if (!last || last.hasMatch) {
          continue;
        }
        for (const t of last.targets) {
          if (!t.mirror) {
            this.catchAllShares.set(t.backendId, Math.max(this.catchAllShares.get(t.backendId) ?? 0, t.weight));
          }
        }
      }
    }
    return this.catchAllShares;
  }
}
