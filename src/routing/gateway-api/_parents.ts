/**
 * The parents of HTTPRoutes (`spec.parentRefs`): what each one attaches to, and which routes the Gateway API merges
 * on one parent, read by the Gateway API reader (`_reader.ts`) only.
 *
 * A route without parentRefs attaches to nothing. A parentRef attaches to nothing when:
 * - it names `kind: Service` without `group: ""`: the group defaults to gateway.networking.k8s.io, where there is no
 *   kind Service (Istio ignores such a parent: `toInternalParentReference` in istio/istio
 *   pilot/pkg/config/kube/gateway/conversion.go accepts Gateway, core Service, ServiceEntry and ListenerSet only);
 * - it names a core Service that does not exist: Istio does not accept the parent ("parent service: ... not found",
 *   `referenceAllowed` in pilot/pkg/config/kube/gateway/conversion.go);
 * - it names a `port` its Service does not have ("When the parent resource is a Service, this targets a specific
 *   port in the Service spec", ParentReference.port in the HTTPRoute CRD of Gateway API 1.6.1; Istio adds that port
 *   to every match of the route, `augmentPortMatch` in pilot/pkg/config/kube/gateway/route_collections.go, so no
 *   request matches).
 *
 * The routes on one parent are merged: "Although a client request may match multiple route rules, only one rule may
 * ultimately receive the request": the most specific match, then the oldest route, then the first by namespace/name
 * (Listener.allowedRoutes in the Gateway CRD of Gateway API 1.6.1). Istio merges them per key
 * (`mergeHTTPRoutes` in route_collections.go): a Gateway listener and one hostname (a VirtualService per hostname:
 * a route for `a.example.com` and one without hostnames are not merged), or, for a Service (GAMMA), the route's
 * namespace, the parentRef's port and the Service (a consumer route, in the caller's namespace, overrides the
 * producer's instead of merging with it).
 */

/** The group of the Gateway API kinds. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/**
 * Why a parentRef attaches to nothing: `serviceGroup`, kind Service in the default group; `serviceMissing`, a Service
 * the stage does not have; `servicePort`, a port the Service lacks.
 */
export type Detached = 'serviceGroup' | 'serviceMissing' | 'servicePort';

/** A parentRef of an HTTPRoute, read. */
export interface ParentRef {
  /** Its index in `spec.parentRefs`. */
  readonly index: number;
  /** Its group (gateway.networking.k8s.io when left out, the API server's default). */
  readonly group: string;
  /** True when its group is left out. */
  readonly groupLeftOut: boolean;
  /** Its kind (Gateway when left out). */
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
  /** `<namespace>/<name>` of the core Service it names (a GAMMA parent), when it names one (attached or not). */
  readonly service?: string;
  /** Why it attaches to nothing, when it does not. */
  readonly detached?: Detached;
}

/** The parentRefs of a route (`services`: the stage's Services by `<namespace>/<name>`, for their ports). */
export function readParentRefs(route: any, routeNamespace: string, services: ReadonlyMap<string, any>): ParentRef[] {
  const written: any[] = Array.isArray(route.spec?.parentRefs) ? route.spec.parentRefs : [];
  return written.map((p, index): ParentRef => {
    const ref = {
      index,
      group: typeof p?.group === 'string' ? p.group : GATEWAY_API_GROUP,
      groupLeftOut: typeof p?.group !== 'string',
      kind: typeof p?.kind === 'string' ? p.kind : 'Gateway',
      namespace: typeof p?.namespace === 'string' ? p.namespace : routeNamespace,
      name: String(p?.name),
      sectionName: typeof p?.sectionName === 'string' ? p.sectionName : undefined,
      port: typeof p?.port === 'number' ? p.port : undefined,
    };
    if (ref.kind !== 'Service') {
      return ref;
    }
    const service = `${ref.namespace}/${ref.name}`;
    if (ref.group !== '') {
      return { ...ref, detached: 'serviceGroup' };
    }
    if (!services.has(service)) {
      return { ...ref, service, detached: 'serviceMissing' };
    }
    const ports: unknown = services.get(service)?.spec?.ports;
    const lacksPort = ref.port !== undefined && Array.isArray(ports) && ports.length > 0 && !ports.some((sp) => sp?.port === ref.port);
    return lacksPort ? { ...ref, service, detached: 'servicePort' } : { ...ref, service };
  });
}

/** A parentRef for people: `Service bookinfo/reviews port 9080`, `Gateway infra/public section https`. */
export function describeParent(p: ParentRef): string {
  return `${p.kind} ${p.namespace}/${p.name}${p.sectionName !== undefined ? ` section ${p.sectionName}` : ''}${p.port !== undefined ? ` port ${p.port}` : ''}`;
}

/**
 * The key of the routes merged with a route on a parent, before the parentRef's section and port: the object it
 * names, and for a Service the route's namespace.
 */
export function mergeKey(p: ParentRef, routeNamespace: string): string {
  return `${p.group}/${p.kind}/${p.namespace}/${p.name}${p.service !== undefined ? ` from ${routeNamespace}` : ''}`;
}

/** The hostnames a route answers for on a parent: one key for a Service (hostnames do not apply), else its hostnames or `*`. */
export function hostsOn(p: ParentRef, hostnames: readonly string[]): readonly string[] {
  return p.service !== undefined ? [''] : hostnames.length > 0 ? hostnames : ['*'];
}

/** Whether the requests `b` takes on a parent include every request `a` takes there (same merge key assumed). */
export function covers(b: ParentRef, a: ParentRef): boolean {
  return (b.sectionName === undefined || b.sectionName === a.sectionName) && (b.port === undefined || b.port === a.port);
}

/** Whether `a` and `b` take some of the same requests on a parent (same merge key assumed). */
export function overlaps(a: ParentRef, b: ParentRef): boolean {
  return (a.sectionName === undefined || b.sectionName === undefined || a.sectionName === b.sectionName)
    && (a.port === undefined || b.port === undefined || a.port === b.port);
}
