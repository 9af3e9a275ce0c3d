/**
 * What applying a stage after another does, in order, as data: the one order both the runbook (`runbook-steps.ts`,
 * which prints each action as a shell command) and the `rollout` driver (`rollout/`, which performs it through the
 * API) follow. Per transition: the capacity checks of the versions that get more traffic, the guard on the live
 * stage of every release's routing object, the scale-ups of the versions that get more traffic than their live
 * floor carries, the apply, the waits (rollouts, floors, what the routers say "routing is live" means:
 * `routing/_runbook.ts`), the deletes of what the stage drops (routes first, by the routers' roles) and the waits
 * after them.
 *
 * Why scale first: a step moves weights at once, while pods start later. A version whose share the step raises
 * (forward or back) and whose floor in the target stage is above its floor in the live stage (e.g. a stable with
 * fixed replicas scaled down mid-plan, rolled back to the stage before: 2 pods at 10% live, 10 pods at 100% in the
 * target) would be given its share by the apply of the whole stage before its new pods run. So its workload objects
 * of the target stage (its Deployment and the autoscalers on it: nothing that routes) are applied first, and its
 * target floor of ready pods waited for; only then the whole stage. The `rollback-capacity` rule stays a warning:
 * it matters to whoever applies a stage whole (GitOps), not to the runbook and the `rollout` driver.
 *
 * Why scale down last (the mirror): a version whose share the step lowers and whose fixed replicas the target stage
 * lowers too (v1: 6 pods at 100%, then 1 at 10%) would lose its pods at the apply, while the proxies, gateways or
 * kube-proxy still send it its old share until the new routing is live: one pod for all of it. So the apply leaves
 * its workload objects out (they stay at their live values), and applies them after the router's waits for routing
 * to be live, before the deletes (`ScaleDownAction`). An autoscaled version without `replicas` in its Deployment (what
 * `Scaling.autoscale` emits) is not held back: a lower `minReplicas` stops no pod the measured load needs, since the
 * HPA controller scales to its metrics' recommendation (at least the new minimum), and lowers it only to the highest
 * recommendation of the scale-down stabilization window, 300 s by default
 * (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#stabilization-window;
 * kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go: `normalizeDesiredReplicasWithBehaviors` stabilizes
 * the metrics' recommendation (`stabilizeRecommendationWithBehaviors`), then `convertDesiredReplicasWithBehaviorRate`
 * clamps it to minReplicas; autoscaling/v2 objects get a defaulted `behavior`, so this is their path), while the load
 * it measures is still that of the old share.
 */
import { APP_LABEL, selects, VERSION_LABEL, versionLabels } from '../_conventions';
import { unique } from '../_util';
import { namespaceOf, ReleaseRef, releaseObjectOf, ReleaseState, releaseStateIn, stageFacts, stageOf } from './release-view';
import { changesBetween, groupOf, isRouting, keyOf, StageChanges } from './stage-diff';
import { StageResult } from './stages';
import { readStage, ROUTER_RUNBOOKS } from '../routing/_registry';
import { LiveWaitKind } from '../routing/_runbook';
import { readOptions } from '../safety/_engine';

/** Kubernetes' default `progressDeadlineSeconds`. */
export const DEFAULT_PROGRESS_DEADLINE = 600;
/** Kubernetes' default `terminationGracePeriodSeconds`. */
export const DEFAULT_GRACE = 30;
/** Slack added to the deadlines of the waits. */
export const SLACK = 60;

/** Where objects without a namespace go, and the releases whose live stage is guarded. */
export interface TransitionContext {
  /** `--namespace`: objects without a namespace are applied there. */
  readonly namespace?: string;
  /** The releases of the plan. */
  readonly releases: ReleaseRef[];
}

/** Before a version gets more traffic: its Deployment has its floor of ready pods (in the live stage). */
export interface CapacityAction {
  readonly kind: 'capacity';
  readonly deployment: any;
  readonly floor: number;
  readonly timeoutSeconds: number;
  readonly release: string;
  readonly version: string;
}

/** A version's workload objects of the target stage applied on their own (`scale`, `scale-down`). */
interface VersionWorkloadAction {
  /** The version's Deployment in the target stage. */
  readonly deployment: any;
  /** The Deployment and the HorizontalPodAutoscalers on it, of the target stage. */
  readonly objects: any[];
  /** Its floor in the live stage and in the target stage. */
  readonly from: number;
  readonly floor: number;
  readonly release: string;
  readonly version: string;
  /**
   * `app=<release>,version=<version>` when, among the target stage's objects, these labels select the objects (and
   * else only PodDisruptionBudgets, or objects the transition leaves unchanged, none that routes): what the runbook's
   * `kubectl apply -l` applies; undefined when they do not.
   */
  readonly labels?: { [key: string]: string };
  /** What else those labels select (PodDisruptionBudgets, unchanged objects). */
  readonly alsoSelected: any[];
}

/**
 * Before a version gets more traffic than its live floor carries: its workload objects of the target stage (its
 * Deployment and the autoscalers on it) applied alone, after the guard and before the apply; a `floor` wait for its
 * target floor follows.
 */
export interface ScaleAction extends VersionWorkloadAction {
  readonly kind: 'scale';
}

/**
 * After routing is live (the router's waits after the apply), a version whose share the transition lowers and whose
 * `replicas` (fixed, or beside an autoscaler) it lowers too: its workload objects of the target stage (its Deployment
 * and the autoscalers on it), left out of the apply (the runbook's apply leaves out what `labels` select), applied
 * now, before the deletes.
 */
export interface ScaleDownAction extends VersionWorkloadAction {
  readonly kind: 'scale-down';
}

/** The live stage of a release's routing object must be one of `expected` (`-`: the object does not exist). */
export interface GuardAction {
  readonly kind: 'guard';
  readonly release: ReleaseRef;
  /** The routing object (the one with the stage annotation). */
  readonly object: any;
  /** The stage about to be applied. */
  readonly target: string;
  readonly expected: string[];
}

/**
 * Apply every object of the target stage (created, changed, and unchanged ones: their stage annotation moves), but the
 * workload objects of the versions scaled down after routing is live (`held`).
 */
export interface ApplyAction {
  readonly kind: 'apply';
  /** The objects to apply: the target stage's, without those of `held`. */
  readonly objects: any[];
  /** The scale-downs that follow the waits: their objects stay at their live values meanwhile. */
  readonly held: ScaleDownAction[];
  /** The objects the transition creates. */
  readonly created: any[];
  /** The objects the transition changes. */
  readonly changed: any[];
}

/** `kubectl rollout status` of a Deployment the transition creates or whose pod template it changes. */
export interface RolloutAction {
  readonly kind: 'rollout';
  readonly deployment: any;
  readonly timeoutSeconds: number;
}

/** A Deployment whose floor the transition raises has at least `floor` ready pods. */
export interface FloorAction {
  readonly kind: 'floor';
  readonly deployment: any;
  readonly floor: number;
  readonly timeoutSeconds: number;
}

/** A router's wait for routing to be live, after the apply or after the deletes. */
export interface LiveAction {
  readonly kind: 'live';
  readonly wait: LiveWaitKind;
  /** The objects it waits on (none for proxies after a delete: every proxy). */
  readonly objects: readonly any[];
  readonly after: 'apply' | 'delete';
}

/** Delete an object the transition drops, by name. */
export interface DeleteAction {
  readonly kind: 'delete';
  readonly object: any;
  readonly timeoutSeconds: number;
}

/** The pods of a deleted Deployment are gone. */
export interface PodsGoneAction {
  readonly kind: 'pods-gone';
  readonly deployment: any;
  /** The Deployment's pod selector. */
  readonly selector: { [key: string]: string };
  readonly timeoutSeconds: number;
}

export type TransitionAction = CapacityAction | GuardAction | ScaleAction | ApplyAction | RolloutAction | FloorAction | LiveAction
  | ScaleDownAction | DeleteAction | PodsGoneAction;

/** The actions that apply `stage` after the stage before it (none: a fresh install). */
export function forwardActions(stage: StageResult, previous: StageResult | undefined, ctx: TransitionContext): TransitionAction[] {
  return ordered(stage.manifests, previous?.manifests ?? [], guardActions(stage, previous, ctx), stage.changes, ctx);
}

/** The actions that roll `stage` back to `previous`: the same changes in reverse, with the same waits. */
export function rollbackActions(stage: StageResult, previous: StageResult, ctx: TransitionContext): TransitionAction[] {
  return ordered(previous.manifests, stage.manifests, guardActions(previous, stage, ctx), stage.rollback, ctx);
}

/** Capacity checks, guards, scale-ups (each followed by its floor wait), then the transition itself, with its scale-downs. */
function ordered(target: any[], from: any[], guards: GuardAction[], changes: StageChanges, ctx: TransitionContext): TransitionAction[] {
  const raised = raisedVersions(target, from, ctx);
  const scales = raised.filter((r) => r.floor > r.from).map((r): ScaleAction => ({ kind: 'scale', ...versionAction(r, target, from, ctx) }));
  const scaled = new Set(scales.map((a) => keyOf(a.deployment, ctx.namespace)));
  return [
    ...raised.filter((r) => r.floor <= r.from && r.from > 0)
      .map((r): CapacityAction => ({ kind: 'capacity', deployment: r.live, floor: r.from, timeoutSeconds: deadline(r.live), release: r.release, version: r.version })),
    ...guards,
    ...scales.flatMap((a): TransitionAction[] => [a, { kind: 'floor', deployment: a.deployment, floor: a.floor, timeoutSeconds: deadline(a.deployment) }]),
    ...transitionActions(target, from, changes, loweredVersions(target, from, ctx), ctx).filter((a) => !(a.kind === 'floor' && scaled.has(keyOf(a.deployment, ctx.namespace)))),
  ];
}

/**
 * The guard before `target` is applied: the routing object of each release (its VirtualService, HTTPRoute, or
 * the Service of a selector switch: the object with the stage annotation) must be live at the stage of `live`,
 * the one applied now (`-`: absent, e.g. without `live`: a fresh install), or at `target`'s (applying again is idempotent).
 */
function guardActions(target: StageResult, live: StageResult | undefined, ctx: TransitionContext): GuardAction[] {
  return ctx.releases.flatMap((release) => {
    const object = releaseObjectOf(target.manifests, release, ctx.namespace) ?? (live && releaseObjectOf(live.manifests, release, ctx.namespace));
    if (!object) {
      return [];
    }
    const stageIn = (s: StageResult | undefined) => (s && stageOf(s.manifests, release, ctx.namespace)) ?? '-';
    return [{ kind: 'guard' as const, release, object, target: target.name, expected: unique([stageIn(live), stageIn(target)]) }];
  });
}

/** The order of the waits after an apply: routes accepted, then endpoints switched, then proxies in sync. */
const WAIT_ORDER = [LiveWaitKind.ROUTES_ACCEPTED, LiveWaitKind.ENDPOINTS_SWITCHED, LiveWaitKind.PROXIES_SYNCED];

function transitionActions(target: any[], from: any[], changes: StageChanges, lowered: RaisedVersion[], ctx: TransitionContext): TransitionAction[] {
  const applied = [...changes.created, ...changes.changed];
  const deleted = [...changes.deleted].sort((a, b) => deleteRank(a) - deleteRank(b));
  const held = lowered.map((r): ScaleDownAction => ({ kind: 'scale-down', ...versionAction(r, target, from, ctx) }));
  const heldKeys = new Set(held.flatMap((a) => a.objects).map((o) => keyOf(o, ctx.namespace)));
  const isHeld = (o: any) => heldKeys.has(keyOf(o, ctx.namespace));
  const rollouts = rolloutActions(target, from, ctx);
  return [
    { kind: 'apply', objects: target.filter((o) => !isHeld(o)), held, created: changes.created, changed: changes.changed },
    ...rollouts.filter((a) => !isHeld(a.deployment)),
    ...floorActions(target, from, ctx),
    ...liveActions(ROUTER_RUNBOOKS.flatMap((r) => r.afterApply(applied, from, ctx.namespace)), 'apply'),
    ...held,
    ...rollouts.filter((a) => isHeld(a.deployment)),
    ...deleted.flatMap((m): TransitionAction[] => [
      { kind: 'delete', object: m, timeoutSeconds: DEFAULT_GRACE + SLACK },
      ...(isDeployment(m) ? [{ kind: 'pods-gone' as const, deployment: m, selector: selectorOf(m), timeoutSeconds: grace(m) + SLACK }] : []),
    ]),
    ...liveActions(ROUTER_RUNBOOKS.flatMap((r) => r.afterDelete(deleted)), 'delete'),
  ];
}

/** The routers' waits, one per kind, in `WAIT_ORDER`. */
function liveActions(waits: ReturnType<typeof ROUTER_RUNBOOKS[number]['afterApply']>, after: 'apply' | 'delete'): LiveAction[] {
  return WAIT_ORDER.filter((kind) => waits.some((w) => w.kind === kind))
    .map((kind) => ({ kind: 'live', wait: kind, objects: waits.filter((w) => w.kind === kind).flatMap((w) => w.objects), after }));
}

/** A version whose share of the catch-all route a transition raises (or lowers), its Deployments and its floors. */
interface RaisedVersion {
  readonly release: string;
  readonly version: string;
  /** Its Deployment in the live stage, and in the target stage (undefined when the target has none). */
  readonly live: any;
  readonly target?: any;
  /** Its floor in the live stage and in the target stage. */
  readonly from: number;
  readonly floor: number;
}

/**
 * Each version whose share of the catch-all route the transition raises (forward or back), with its Deployment
 * live (a version created in the same transition gets no traffic: the plan's checks refuse that), once per
 * Deployment. Its floor does not rise: first of all a capacity check, at its floor in the live stage: traffic moves
 * only to pods that are there (a version whose pods went away since the stage before, by a crash loop, an eviction
 * or a scale down by hand, would otherwise be given its traffic first and found short only by the waits after the
 * apply). It applies nothing, so it comes before the guard (which the apply follows at once); a Deployment that is
 * not there fails it at once. Its floor rises: a scale-up after the guard (`ScaleAction`).
 */
function raisedVersions(target: any[], from: any[], ctx: TransitionContext): RaisedVersion[] {
  return versionsWhoseShare(target, from, ctx, (targetShare, fromShare) => targetShare > fromShare);
}

/**
 * Each version whose share of the catch-all route the transition lowers (forward or back), whose Deployment the
 * target stage keeps with a lower floor, and whose pods the apply would stop at once: its Deployment sets `replicas`
 * (fixed replicas; or beside an autoscaler: applying it sets the scale). Autoscaled only (no `replicas`): not held
 * back (see the top of this file).
 */
function loweredVersions(target: any[], from: any[], ctx: TransitionContext): RaisedVersion[] {
  return versionsWhoseShare(target, from, ctx, (targetShare, fromShare) => targetShare < fromShare)
    .filter((r) => r.target !== undefined && r.floor < r.from
      && (r.target.spec?.replicas !== undefined || autoscalersOf(r.target, target, ctx).length === 0));
}

/** The versions, once per Deployment live in `from`, whose shares in `target` and `from` pass `changed`. */
function versionsWhoseShare(target: any[], from: any[], ctx: TransitionContext,
  changed: (targetShare: number, fromShare: number) => boolean): RaisedVersion[] {
  const [before, after] = [floors(from, ctx), floors(target, ctx)];
  const seen = new Set<string>();
  const options = { namespace: ctx.namespace };
  // Each stage read once for all the releases (a plan of 100 releases would otherwise read it hundreds of times).
  const [targetFacts, fromFacts] = [stageFacts(target, options), stageFacts(from, options)];
  return ctx.releases.flatMap((release) => {
    const [targetState, fromState] = [releaseStateIn(targetFacts, release), releaseStateIn(fromFacts, release)];
    const share = (state: ReleaseState, version: string) => state.weights.filter((w) => w.version === version).reduce((sum, w) => sum + w.weight, 0);
    const versions = unique([...targetState.weights, ...fromState.weights].map((w) => w.version))
      .filter((version) => changed(share(targetState, version), share(fromState, version)));
    return versions.flatMap((version) => {
      const deployment = from.find((m) => isDeployment(m) && namespaceOf(m, ctx.namespace) === release.namespace
        && m.spec?.template?.metadata?.labels?.[APP_LABEL] === release.name && m.spec?.template?.metadata?.labels?.[VERSION_LABEL] === version);
      const key = deployment && `${namespaceOf(deployment, readOptions(ctx.namespace).namespace)}/${deployment.metadata?.name}`;
      if (!key || seen.has(key)) {
        return [];
      }
      seen.add(key);
      const { deployment: targetDeployment, floor } = after.get(key) ?? { deployment: undefined, floor: 0 };
      return [{ release: release.name, version, live: deployment, target: targetDeployment, from: before.get(key)?.floor ?? 0, floor }];
    });
  });
}

/** The HorizontalPodAutoscalers of `manifests` on `deployment`. */
function autoscalersOf(deployment: any, manifests: any[], ctx: TransitionContext): any[] {
  const ns = namespaceOf(deployment, readOptions(ctx.namespace).namespace);
  return manifests.filter((m) => m?.kind === 'HorizontalPodAutoscaler' && groupOf(m.apiVersion) === 'autoscaling'
    && namespaceOf(m, readOptions(ctx.namespace).namespace) === ns && m.spec?.scaleTargetRef?.kind === 'Deployment'
    && m.spec?.scaleTargetRef?.name === deployment.metadata?.name);
}

/**
 * The workload objects of a version whose floor changes with its share (scaled up first, or down last): its
 * Deployment and autoscalers of the target stage, and whether its labels select them exactly.
 */
function versionAction(raised: RaisedVersion, target: any[], from: any[], ctx: TransitionContext): Omit<ScaleAction, 'kind'> {
  const deployment = raised.target;
  const objects = [deployment, ...autoscalersOf(deployment, target, ctx)];
  const labels = versionLabels(raised.release, raised.version);
  const keys = new Set(objects.map((o) => keyOf(o, ctx.namespace)));
  const diff = changesBetween(target, from, ctx.namespace);
  const changed = new Set([...diff.created, ...diff.changed].map((m) => keyOf(m, ctx.namespace)));
  const selected = target.filter((m) => selects(labels, m?.metadata?.labels ?? {}));
  const alsoSelected = selected.filter((m) => !keys.has(keyOf(m, ctx.namespace)));
  const harmless = (m: any) => (m.kind === 'PodDisruptionBudget' && groupOf(m.apiVersion) === 'policy')
    || (!changed.has(keyOf(m, ctx.namespace)) && !isRouting(m) && !ROUTER_RUNBOOKS.some((r) => r.roleOf(m) !== undefined));
  const exact = objects.every((o) => selected.includes(o)) && alsoSelected.every(harmless);
  return {
    deployment,
    objects,
    from: raised.from,
    floor: raised.floor,
    release: raised.release,
    version: raised.version,
    labels: exact ? labels : undefined,
    alsoSelected: exact ? alsoSelected : [],
  };
}

/** Each Deployment the transition creates or whose pod template it changes. */
function rolloutActions(target: any[], from: any[], ctx: TransitionContext): RolloutAction[] {
  const changed = changesBetween(target.filter(isDeployment), from.filter(isDeployment));
  const templateOf = (d: any) => JSON.stringify(from.find((m) => isDeployment(m) && sameObject(m, d, ctx))?.spec?.template);
  return [...changed.created, ...changed.changed]
    .filter((d) => templateOf(d) !== JSON.stringify(d.spec?.template))
    .map((d) => ({ kind: 'rollout', deployment: d, timeoutSeconds: deadline(d) }));
}

/** Each Deployment whose floor (autoscaler minimum, else replicas) the transition raises. */
function floorActions(target: any[], from: any[], ctx: TransitionContext): FloorAction[] {
  const before = floors(from, ctx);
  return [...floors(target, ctx)]
    .filter(([key, { floor }]) => floor > 0 && floor > (before.get(key)?.floor ?? 0))
    .map(([, { deployment, floor }]) => ({ kind: 'floor', deployment, floor, timeoutSeconds: deadline(deployment) }));
}

/**
 * Deployments' floors, by namespace/name, as the safety check reads them (`safety/_workloads.ts`): the autoscaler's
 * minReplicas, else replicas, else 1; with two autoscalers on one Deployment, its replicas (the HPA controller then
 * scales with neither).
 */
export function floors(manifests: any[], ctx: { namespace?: string }): Map<string, { deployment: any; floor: number }> {
  const options = readOptions(ctx.namespace);
  const deployments = new Map(manifests.filter(isDeployment).map((d) => [`${namespaceOf(d, options.namespace)}/${d.metadata?.name}`, d]));
  const out = new Map<string, { deployment: any; floor: number }>();
  for (const w of readStage(manifests, options).workloads) {
    const deployment = deployments.get(`${w.namespace}/${w.name}`);
    if (deployment && w.object.startsWith('Deployment/')) {
      out.set(`${w.namespace}/${w.name}`, { deployment, floor: w.floor });
    }
  }
  return out;
}

export function isDeployment(m: any): boolean {
  return m?.kind === 'Deployment' && groupOf(m.apiVersion) === 'apps';
}

function sameObject(a: any, b: any, ctx: TransitionContext): boolean {
  return a.metadata?.name === b.metadata?.name && (a.metadata?.namespace ?? ctx.namespace) === (b.metadata?.namespace ?? ctx.namespace);
}

function deadline(deployment: any): number {
  return (typeof deployment.spec?.progressDeadlineSeconds === 'number' ? deployment.spec.progressDeadlineSeconds : DEFAULT_PROGRESS_DEADLINE) + SLACK;
}

function grace(deployment: any): number {
  const g = deployment.spec?.template?.spec?.terminationGracePeriodSeconds;
  return typeof g === 'number' ? g : DEFAULT_GRACE;
}

/** Routes and routable versions first (by the routers' roles), then Services, autoscalers and budgets, then workloads, then the rest. */
function deleteRank(m: any): number {
  const roles = ROUTER_RUNBOOKS.map((r) => r.roleOf(m));
  if (roles.includes('route')) {
    return 0;
  }
  if (roles.includes('routable')) {
    return 1;
  }
  const ranks: { [kind: string]: number } = { Service: 2, HorizontalPodAutoscaler: 3, PodDisruptionBudget: 4, Deployment: 5 };
  return ranks[m?.kind] ?? 6;
}

/** A Deployment's pod selector: its matchLabels, else its template's labels. */
function selectorOf(deployment: any): { [key: string]: string } {
  return deployment.spec?.selector?.matchLabels ?? deployment.spec?.template?.metadata?.labels ?? {};
}
