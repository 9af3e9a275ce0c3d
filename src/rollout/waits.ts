/**
 * The waits "until live" of a transition, through the API: what the runbook's shell helpers wait for
 * (`cli/runbook-steps.ts`), read from the same objects with the same conditions, each polled every second until it
 * holds or its timeout passes (then a `WaitTimeout` naming what is still pending: the driver rolls back).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { KubeClient } from './kube-client';
import { RolloutEvents } from './reporter';

/** A wait that did not hold in time. */
export class WaitTimeout extends Error {
  constructor(readonly what: string, readonly seconds: number, readonly pending: string) {
    super(`${what}: not after ${seconds} s: ${pending}`);
    this.name = 'WaitTimeout';
  }
}

/** A wait that cannot hold any more (a Deployment deleted under it, past its progress deadline). */
export class WaitFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitFailed';
  }
}

/** The driver was asked to stop (SIGINT, SIGTERM, a lost Lease) while it waited. */
export class Stopped extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'Stopped';
  }
}

/** How Istio's propagation is waited for. */
export enum ProxyWaitMode {
  /** `istioctl proxy-status` until no proxy is STALE. */
  ISTIOCTL = 'istioctl',
  /** The `Reconciled` condition of the Istio objects (istiod with `PILOT_ENABLE_STATUS=true`). */
  STATUS = 'status',
  /** A stated dwell (`--propagation-wait`). */
  DWELL = 'dwell',
}

export interface WaitSettings {
  /** Between two polls. */
  readonly pollMs: number;
  /** After routes accepted, endpoints switched, proxies in sync: in-flight connections and endpoint updates. */
  readonly dwellSeconds: number;
  readonly routeTimeout: number;
  readonly endpointsTimeout: number;
  readonly propagationTimeout: number;
  /** Every wait at most this long (`--wait-timeout`). */
  readonly maxSeconds?: number;
  readonly proxyMode: ProxyWaitMode;
  /** The dwell without istioctl or status. */
  readonly propagationWait: number;
  /** `istioctl` and its `--kubeconfig`/`--context` arguments. */
  readonly istioctl?: { readonly command: string; readonly args: string[] };
}

/** What a wait needs: the client, the settings, the events and the stop signal. */
export interface WaitContext {
  readonly kube: KubeClient;
  readonly settings: WaitSettings;
  readonly events: RolloutEvents;
  readonly signal: AbortSignal;
  /** The stage (or roll back) the wait belongs to, for the events. */
  readonly stage: string;
}

/** Polls `pending` (what is not there yet, undefined: done) until done; throws `WaitTimeout` after `seconds`. */
export async function waitUntil(ctx: WaitContext, what: string, seconds: number, pending: () => Promise<string | undefined>): Promise<void> {
  const limit = Math.min(seconds, ctx.settings.maxSeconds ?? Infinity);
  const started = Date.now();
  let shown: string | undefined;
  for (;;) {
    throwIfStopped(ctx.signal);
    const now = await pending();
    const elapsed = (Date.now() - started) / 1000;
    if (now === undefined) {
      ctx.events.emit({ event: 'waited', stage: ctx.stage, what, seconds: round(elapsed) });
      return;
    }
    if (elapsed >= limit) {
      throw new WaitTimeout(what, limit, now);
    }
    if (now !== shown) {
      ctx.events.emit({ event: 'waiting', stage: ctx.stage, what, pending: now, timeout: limit });
      shown = now;
    }
    await ctx.kube.waiting.during(sleep(ctx.settings.pollMs, ctx.signal));
  }
}

/** Sleeps, or throws `Stopped` as soon as the signal is aborted. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  throwIfStopped(signal);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Stopped(String(signal.reason ?? 'stopped')));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function throwIfStopped(signal: AbortSignal): void {
  if (signal.aborted) {
    throw new Stopped(String(signal.reason ?? 'stopped'));
  }
}

/** The dwell after routing went live, stated. */
export async function dwell(ctx: WaitContext, why: string, seconds = ctx.settings.dwellSeconds): Promise<void> {
  if (seconds > 0) {
    ctx.events.emit({ event: 'dwell', stage: ctx.stage, what: why, seconds });
    await ctx.kube.waiting.during(sleep(seconds * 1000, ctx.signal));
  }
}

/**
 * What `kubectl rollout status` waits for (kubectl's DeploymentStatusViewer): the controller saw the current
 * generation, every replica is updated, no old one is left, every updated one is available; past its
 * `progressDeadlineSeconds` (`ProgressDeadlineExceeded`) it fails at once.
 */
export async function rolloutPending(kube: KubeClient, deployment: any, namespace: string): Promise<string | undefined> {
  const name = deployment.metadata?.name;
  const live = await kube.find('apps/v1', 'Deployment', namespace, name);
  if (!live) {
    throw new WaitFailed(`deployment/${name} (namespace ${namespace}) is not there`);
  }
  const status = live.status ?? {};
  if ((status.observedGeneration ?? 0) < (live.metadata?.generation ?? 0)) {
    return 'waiting for the new spec to be observed';
  }
  const progressing = (status.conditions ?? []).find((c: any) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    throw new WaitFailed(`deployment/${name} (namespace ${namespace}) exceeded its progress deadline: ${progressing.message ?? ''}`.trim());
  }
  const wanted = live.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < wanted) {
    return `${updated} of ${wanted} new replicas updated`;
  }
  if ((status.replicas ?? 0) > updated) {
    return `${(status.replicas ?? 0) - updated} old replicas pending termination`;
  }
  if ((status.availableReplicas ?? 0) < updated) {
    return `${status.availableReplicas ?? 0} of ${updated} updated replicas available`;
  }
  return undefined;
}

/** `readyReplicas >= floor` (an autoscaler may scale above its floor); a Deployment that is not there fails at once. */
export async function replicasPending(kube: KubeClient, deployment: any, namespace: string, floor: number): Promise<string | undefined> {
  const name = deployment.metadata?.name;
  const live = await kube.find('apps/v1', 'Deployment', namespace, name);
  if (!live) {
    throw new WaitFailed(`deployment/${name} (namespace ${namespace}) is not there`);
  }
  const ready = live.status?.readyReplicas ?? 0;
  return ready >= floor ? undefined : `${ready} of ${floor} ready pods`;
}

/** The object is gone. */
export async function gonePending(kube: KubeClient, object: any, namespace: string | undefined): Promise<string | undefined> {
  const live = await kube.find(object.apiVersion, object.kind, namespace, object.metadata?.name);
  return live ? `${object.kind}/${object.metadata?.name} still there${live.metadata?.deletionTimestamp ? ' (terminating)' : ''}` : undefined;
}

/** No pod of the selector is left. */
export async function podsGonePending(kube: KubeClient, namespace: string, selector: { [k: string]: string }): Promise<string | undefined> {
  const pods = await kube.list('v1', 'Pod', namespace, labelSelector(selector));
  return pods.length === 0 ? undefined : `${pods.length} pod${pods.length === 1 ? '' : 's'} of ${labelSelector(selector)} left`;
}

/**
 * Every parent (`spec.parentRefs`) of the HTTPRoute accepted its current generation: a `status.parents[]` entry for
 * that parent (group, kind, namespace, name, sectionName, port; unset: gateway.networking.k8s.io, Gateway, the
 * route's namespace) whose `Accepted` and `ResolvedRefs` are True with `observedGeneration` = the route's generation
 * (https://gateway-api.sigs.k8s.io/reference/spec/#routeparentstatus).
 */
export async function routePending(kube: KubeClient, route: any, namespace: string): Promise<string | undefined> {
  const name = route.metadata?.name;
  const live = await kube.find(route.apiVersion, 'HTTPRoute', namespace, name);
  if (!live) {
    return `httproute/${name} not there yet`;
  }
  const generation = live.metadata?.generation;
  const ref = (r: any) => JSON.stringify([r?.group ?? 'gateway.networking.k8s.io', r?.kind ?? 'Gateway', r?.namespace ?? namespace, r?.name,
    r?.sectionName ?? null, r?.port ?? null]);
  const pending = (live.spec?.parentRefs ?? []).flatMap((parent: any) => {
    const entries = (live.status?.parents ?? []).filter((p: any) => ref(p.parentRef) === ref(parent));
    const current = entries.some((e: any) => ['Accepted', 'ResolvedRefs'].every((type) => (e.conditions ?? [])
      .some((c: any) => c.type === type && c.status === 'True' && c.observedGeneration === generation)));
    if (current) {
      return [];
    }
    const conditions = entries.flatMap((e: any) => (e.conditions ?? []).map((c: any) => `${c.type}=${c.status} (${c.reason ?? 'no reason'}`
      + `${c.message ? `: ${c.message}` : ''}, observedGeneration ${c.observedGeneration ?? 'unset'})`));
    // A condition without observedGeneration cannot be told from one about an older spec. The Gateway API conformance
    // suite requires it on every route parent condition (conformance/utils/kubernetes/helpers.go,
    // ConditionsHaveLatestObservedGeneration), so an implementation that leaves it out is named as the cause.
    const unset = entries.some((e: any) => (e.conditions ?? []).some((c: any) => c.observedGeneration === undefined))
      ? ' (the implementation leaves observedGeneration unset, which the Gateway API conformance tests require: its status cannot be '
        + 'matched to this generation)' : '';
    return [`httproute/${name} (generation ${generation}), parent ${parent.kind ?? 'Gateway'} ${parent.namespace ?? namespace}/${parent.name}: `
      + `${entries.length === 0 ? 'no status from this parent yet' : conditions.join('; ') || 'no conditions'}${unset}`];
  });
  return pending.length === 0 ? undefined : pending.join(' | ');
}

/**
 * The Service's EndpointSlices (`kubernetes.io/service-name`) list exactly the ready pods its selector now selects:
 * every ready endpoint is a pod of the selector, every Ready pod of the selector that is not terminating is listed
 * ready, and there is at least one.
 */
export async function endpointsPending(kube: KubeClient, service: any, namespace: string): Promise<string | undefined> {
  const name = service.metadata?.name;
  const live = await kube.find('v1', 'Service', namespace, name);
  const selector = live?.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) {
    return live ? `service/${name} has no selector` : `service/${name} not there yet`;
  }
  const [pods, slices] = await Promise.all([
    kube.list('v1', 'Pod', namespace, labelSelector(selector)),
    kube.list('discovery.k8s.io/v1', 'EndpointSlice', namespace, `kubernetes.io/service-name=${name}`),
  ]);
  const selected = new Set(pods.map((p) => p.metadata?.name));
  const ready = pods.filter((p) => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => p.metadata.name);
  const listed = new Set<string>(slices.flatMap((s) => (s.endpoints ?? []).filter((e: any) => e.conditions?.ready !== false)
    .map((e: any) => (e.targetRef?.kind === 'Pod' ? e.targetRef.name : `(not a pod: ${(e.addresses ?? []).join(',')})`))));
  const foreign = [...listed].filter((p) => !selected.has(p)).sort();
  const missing = ready.filter((p) => !listed.has(p)).sort();
  const text = labelSelector(selector);
  const problems = [
    ...(foreign.length > 0 ? [`listed ready but not selected by ${text}: ${foreign.join(', ')}`] : []),
    ...(missing.length > 0 ? [`ready pods of ${text} not listed ready yet: ${missing.join(', ')}`] : []),
    ...(listed.size === 0 ? ['no ready endpoint'] : []),
  ];
  return problems.length === 0 ? undefined : `service/${name}: ${problems.join('; ')}`;
}

/** istiod's `Reconciled` condition of each Istio object at its current generation (https://istio.io/latest/docs/reference/config/config-status/). */
export async function reconciledPending(kube: KubeClient, objects: readonly any[], namespace: string): Promise<string | undefined> {
  const pending = await Promise.all(objects.map(async (o) => {
    const ns = o.metadata?.namespace ?? namespace;
    const live = await kube.find(o.apiVersion, o.kind, ns, o.metadata?.name);
    const reconciled = (live?.status?.conditions ?? []).some((c: any) => c.type === 'Reconciled' && c.status === 'True'
      && (c.observedGeneration === undefined || c.observedGeneration === live.metadata?.generation));
    return reconciled ? undefined : `${o.kind}/${o.metadata?.name} not reconciled at generation ${live?.metadata?.generation ?? '(absent)'}`;
  }));
  const left = pending.filter((p) => p !== undefined);
  return left.length === 0 ? undefined : left.join('; ');
}

/**
 * `istioctl proxy-status` until no proxy is STALE (`istioctl x wait` was removed in Istio 1.23;
 * https://istio.io/latest/docs/reference/commands/istioctl/#istioctl-proxy-status).
 */
export async function proxiesPending(istioctl: { command: string; args: string[] }): Promise<string | undefined> {
  const output = await new Promise<string>((resolve) => {
    execFile(istioctl.command, ['proxy-status', ...istioctl.args], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve(error ? `istioctl proxy-status failed: ${String(stderr).trim().split('\n').pop() || error.message}` : `ok\n${stdout}`));
  });
  if (!output.startsWith('ok\n')) {
    return output;
  }
  const stale = output.split('\n').filter((line) => line.includes('STALE'));
  return stale.length === 0 ? undefined : `${stale.length} prox${stale.length === 1 ? 'y' : 'ies'} STALE: ${stale.map((l) => l.split(/\s+/)[0]).join(', ')}`;
}

/** `istioctl` on PATH, or undefined. */
export function findOnPath(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '')) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

export function labelSelector(selector: { [k: string]: string }): string {
  return Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
