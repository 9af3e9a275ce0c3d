/**
 * A simulated mesh control plane for the integration tests, writing the status a real one writes:
 * - Gateway API (the part of a GAMMA or Gateway implementation that judges routes): for each `parentRef` of an
 *   HTTPRoute, a `status.parents[]` entry with `Accepted` (False, `NoMatchingParent`, when the parent Service or
 *   Gateway does not exist) and `ResolvedRefs` (False, `BackendNotFound`, when a backend Service does not exist),
 *   both with the route's `observedGeneration` (GEP-1364; https://gateway-api.sigs.k8s.io/reference/spec/#routeparentstatus).
 *   Routes are judged again when Services or Gateways change.
 * - Istio (istiod with `PILOT_ENABLE_STATUS=true`): the `Reconciled` condition on the Istio objects a release
 *   emits (VirtualServices, DestinationRules, Gateways, PeerAuthentications, AuthorizationPolicies), with `observedGeneration` (https://istio.io/latest/docs/reference/config/config-status/).
 * Each status is written `delayMs` after the change, standing in for the propagation a runbook must wait for.
 */
import { Kube } from './_kube';

export const CONTROLLER_NAME = 'mesh-release.io/simulated-mesh';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** The Istio kinds a release or its example emits: istiod reports the status of every Istio config kind. */
const ISTIO_KINDS = [
  ['networking.istio.io/v1', 'VirtualService'],
  ['networking.istio.io/v1', 'DestinationRule'],
  ['networking.istio.io/v1', 'Gateway'],
  ['security.istio.io/v1', 'PeerAuthentication'],
  ['security.istio.io/v1', 'AuthorizationPolicy'],
];

export interface MeshControllerOptions {
  /** Delay before a status is written. @default 300 */
  readonly delayMs?: number;
}

export class SimulatedMeshController {
  static async start(kube: Kube, options: MeshControllerOptions = {}): Promise<SimulatedMeshController> {
    const controller = new SimulatedMeshController(kube, options.delayMs ?? 300);
    await Promise.all([
      controller.follow('gateway.networking.k8s.io/v1', 'HTTPRoute', (route) => controller.routes.set(keyOf(route), route)),
      controller.follow('v1', 'Service', () => undefined),
      controller.follow('gateway.networking.k8s.io/v1', 'Gateway', () => undefined),
      ...ISTIO_KINDS.map(([apiVersion, kind]) => controller.follow(apiVersion, kind, (o) => controller.reconcileIstio(o))),
    ]);
    return controller;
  }

  readonly errors: Error[] = [];
  /** Live objects by kind, then `namespace/name`. */
  private readonly objects = new Map<string, Map<string, any>>();
  private readonly routes = new Map<string, any>();
  private readonly watches: { stop: () => void }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  private constructor(private readonly kube: Kube, private readonly delayMs: number) {}

  async stop(): Promise<void> {
    this.stopped = true;
    this.watches.forEach((w) => w.stop());
    this.timers.forEach(clearTimeout);
  }

  /** Keeps `objects` of a kind up to date; calls `changed` on each added or modified object, then judges routes. */
  private async follow(apiVersion: string, kind: string, changed: (o: any) => void): Promise<void> {
    const live = new Map<string, any>();
    const istio = apiVersion.includes('.istio.io/');
    if (!istio) {
      // What routes refer to: Services, Gateway API Gateways, the routes themselves.
      this.objects.set(kind, live);
    }
    const { items, resourceVersion } = await this.kube.list(apiVersion, kind);
    const handle = (type: string, o: any) => {
      if (type === 'DELETED') {
        live.delete(keyOf(o));
        if (kind === 'HTTPRoute') {
          this.routes.delete(keyOf(o));
        }
      } else if (type === 'ADDED' || type === 'MODIFIED') {
        live.set(keyOf(o), o);
        changed(o);
      }
      if (!istio) {
        this.later(() => this.judgeRoutes());
      }
    };
    items.forEach((o) => handle('ADDED', { apiVersion, kind, ...o }));
    const watch = () => {
      if (this.stopped) {
        return;
      }
      this.watches.push(this.kube.watch(apiVersion, kind, resourceVersion, handle, (e) => {
        if (!this.stopped) {
          this.errors.push(e ?? new Error(`the watch of ${kind} ended`));
        }
      }));
    };
    watch();
  }

  private later(action: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action().catch((e) => {
        if (!this.stopped && e?.status !== 404 && e?.status !== 409) {
          this.errors.push(e);
        }
      });
    }, this.delayMs);
    this.timers.add(timer);
  }

  private has(kind: string, namespace: string, name: string): boolean {
    return this.objects.get(kind)?.has(`${namespace}/${name}`) ?? false;
  }

  /** Writes the parents' status of every route whose status is not what it should be. */
  private async judgeRoutes(): Promise<void> {
    await Promise.all([...this.routes.values()].map(async (route) => {
      const wanted = this.parentStatus(route);
      const current = (route.status?.parents ?? []).filter((p: any) => p.controllerName === CONTROLLER_NAME);
      if (JSON.stringify(strip(current)) === JSON.stringify(strip(wanted))) {
        return;
      }
      await this.kube.mergePatch('gateway.networking.k8s.io/v1', 'HTTPRoute', route.metadata.namespace, route.metadata.name,
        { metadata: { uid: route.metadata.uid }, status: { parents: wanted } }, 'status');
    }));
  }

  private parentStatus(route: any): any[] {
    const ns = route.metadata.namespace;
    const generation = route.metadata.generation;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, ok: boolean, reason: string, message: string) =>
      ({ type, status: ok ? 'True' : 'False', reason, message, observedGeneration: generation, lastTransitionTime: now });
    const missing = (route.spec?.rules ?? []).flatMap((r: any) => [
      ...(r.backendRefs ?? []),
      ...(r.filters ?? []).filter((f: any) => f.type === 'RequestMirror').map((f: any) => f.requestMirror?.backendRef),
    ]).filter((b: any) => b && (b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service' && !this.has('Service', b.namespace ?? ns, b.name))
      .map((b: any) => `${b.namespace ?? ns}/${b.name}`);
    return (route.spec?.parentRefs ?? []).map((ref: any) => {
      const group = ref.group ?? GATEWAY_GROUP;
      const kind = ref.kind ?? 'Gateway';
      const parentNs = ref.namespace ?? ns;
      const exists = group === '' && kind === 'Service' ? this.has('Service', parentNs, ref.name)
        : group === GATEWAY_GROUP && kind === 'Gateway' ? this.has('Gateway', parentNs, ref.name) : false;
      return {
        parentRef: ref,
        controllerName: CONTROLLER_NAME,
        conditions: [
          exists ? condition('Accepted', true, 'Accepted', 'accepted by the simulated mesh')
            : condition('Accepted', false, 'NoMatchingParent', `${kind} ${parentNs}/${ref.name} not found`),
          missing.length === 0 ? condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved')
            : condition('ResolvedRefs', false, 'BackendNotFound', `backend Service ${missing.join(', ')} not found`),
        ],
      };
    });
  }

  /** The `Reconciled` condition istiod writes once every proxy has the object's generation. */
  private reconcileIstio(o: any): void {
    const generation = o.metadata.generation;
    const reconciled = (o.status?.conditions ?? []).find((c: any) => c.type === 'Reconciled');
    if (reconciled?.observedGeneration === generation && o.status?.observedGeneration === generation) {
      return;
    }
    this.later(() => this.kube.mergePatch(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name, {
      metadata: { uid: o.metadata.uid },
      status: {
        observedGeneration: generation,
        conditions: [{ type: 'Reconciled', status: 'True', reason: 'Reconciled', message: 'simulated: every proxy has the configuration', observedGeneration: generation }],
      },
    }, 'status'));
  }
}

function keyOf(o: any): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

/** Parent statuses without their transition times, to compare. */
function strip(parents: any[]): unknown {
  return parents.map((p) => ({ ...p, conditions: p.conditions.map(({ lastTransitionTime: _, ...c }: any) => c) }));
}
