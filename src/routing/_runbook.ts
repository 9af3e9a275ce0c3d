/**
 * What a router tells the runbook (`mesh-release runbook`, and next `rollout`) about its objects in
 * applied YAML: which of them route and which make versions routable (the order of deletes), and
 * what "routing is live" means for it after an apply or a delete. The CLI turns each wait into
 * its shell helper; each router folder exports one `RouterRunbook` (`_runbook.ts`), listed in
 * `routing/_registry.ts`.
 */

/** A wait after an apply or a delete, by what it waits for. */
export enum LiveWaitKind {
  /** Every parent of each HTTPRoute accepted its generation (`Accepted`, `ResolvedRefs`). */
  ROUTES_ACCEPTED = 'routes-accepted',
  /** The EndpointSlices of each Service list only the ready pods its (switched) selector selects. */
  ENDPOINTS_SWITCHED = 'endpoints-switched',
  /** Every Envoy acknowledged the routing (`istioctl proxy-status`), `objects` reconciled by istiod. */
  PROXIES_SYNCED = 'proxies-synced',
}

/** One wait: its kind and the objects it waits on (none: every proxy, for a delete). */
export interface LiveWait {
  readonly kind: LiveWaitKind;
  readonly objects: readonly any[];
}

/** A router, as the runbook knows it. */
export interface RouterRunbook {
  /** `route` for an object of its kinds that sends traffic, `routable` for one that makes versions routable, else undefined. */
  roleOf(manifest: any): 'route' | 'routable' | undefined;
  /**
   * The waits after applying `applied` (the objects the transition creates or changes) over `from` (the live stage's
   * objects); `namespace` is where objects without one are applied.
   */
  afterApply(applied: readonly any[], from: readonly any[], namespace: string | undefined): LiveWait[];
  /** The waits after deleting `deleted`. */
  afterDelete(deleted: readonly any[]): LiveWait[];
}
