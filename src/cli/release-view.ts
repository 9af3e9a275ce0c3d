/**
 * How the CLI reads a release out of a stage's manifests, whatever router made them: the release
 * is the object carrying the plan annotation (an Istio VirtualService, a Gateway API HTTPRoute, or
 * the version-free Service of a selector switch), and one small reader per router tells its
 * routable versions, the weights of its catch-all route and its match routes. Loads no cdk8s.
 */
import { APP_LABEL, PLAN_ANNOTATION, resolveHost as fqdn, STAGE_ANNOTATION, VERSION_LABEL } from '../_conventions';

/** Kinds that carry a release's annotations, by router. */
export type ReleaseKind = 'VirtualService' | 'HTTPRoute' | 'Service';

/** A release found in an app's output: the object carrying the plan annotation. */
export interface ReleaseRef {
  /** The object's name (MeshRelease names it after the app, the `app` label of its pods). */
  readonly name: string;
  readonly namespace: string;
  /** The kind of the annotated object: tells the router. */
  readonly kind: ReleaseKind;
  /** The stages of its plan, in order (`mesh-release.io/plan-stages`). */
  readonly plan: string[];
  /** The stage synthesized (`mesh-release.io/stage`). */
  readonly stage?: string;
}

/** Share of the catch-all route one destination receives. */
export interface Weight {
  /** The version (subset, per-version Service's version label), or the host when it names none. */
  readonly version: string;
  readonly weight: number;
}

/** What one stage of a release looks like in its manifests. */
export interface ReleaseState {
  /** Versions with a Deployment (pods labelled `app=<release>`), from their `version` label. */
  readonly deployed: string[];
  /** Versions a route can name: DestinationRule subsets, per-version Services, or (selector switch) the Deployments. */
  readonly routable: string[];
  /** Weights of the catch-all (last) route rule. */
  readonly weights: Weight[];
  /** The match routes ahead of it, e.g. `x-version=v3 → v3`. */
  readonly matchRoutes: string[];
}

export function namespaceOf(manifest: any, defaultNamespace: string = 'default'): string {
  return manifest?.metadata?.namespace ?? defaultNamespace;
}

const RELEASE_KINDS: { [kind in ReleaseKind]: (apiVersion: string) => boolean } = {
  VirtualService: (v) => v.startsWith('networking.istio.io/'),
  HTTPRoute: (v) => v.startsWith('gateway.networking.k8s.io/'),
  Service: (v) => v === 'v1',
};

function isReleaseKind(m: any): boolean {
  const check = RELEASE_KINDS[m?.kind as ReleaseKind];
  return check !== undefined && typeof m.apiVersion === 'string' && check(m.apiVersion);
}

/** Every release in the manifests: VirtualServices, HTTPRoutes and Services with the `mesh-release.io/plan-stages` annotation. */
export function releasesIn(manifests: any[], defaultNamespace?: string): ReleaseRef[] {
  return manifests
    .filter((m) => isReleaseKind(m) && typeof m.metadata?.annotations?.[PLAN_ANNOTATION] === 'string')
    .map((m) => ({
      name: m.metadata.name,
      namespace: namespaceOf(m, defaultNamespace),
      kind: m.kind,
      plan: (m.metadata.annotations[PLAN_ANNOTATION] as string).split(',').map((s) => s.trim()).filter((s) => s !== ''),
      stage: m.metadata.annotations[STAGE_ANNOTATION],
    }));
}

/** The annotated object of a release in a stage's manifests. */
export function releaseObjectOf(manifests: any[], release: ReleaseRef, defaultNamespace?: string): any | undefined {
  return manifests.find((m) => m?.kind === release.kind && isReleaseKind(m) && m.metadata?.name === release.name
    && namespaceOf(m, defaultNamespace) === release.namespace);
}

/** The stage a release's object says it was synthesized at. */
export function stageOf(manifests: any[], release: ReleaseRef, defaultNamespace?: string): string | undefined {
  return releaseObjectOf(manifests, release, defaultNamespace)?.metadata?.annotations?.[STAGE_ANNOTATION];
}

/** What a router's reader returns: everything of `ReleaseState` but the Deployments. */
type RoutingView = Omit<ReleaseState, 'deployed'>;
type RouterView = (route: any, manifests: any[], release: ReleaseRef, ctx: ViewContext) => RoutingView;
interface ViewContext {
  readonly defaultNamespace: string;
  readonly clusterDomain?: string;
  readonly deployed: string[];
}

/** How the release looks in one stage's manifests. */
export function releaseState(manifests: any[], release: ReleaseRef, options: { namespace?: string; clusterDomain?: string } = {}): ReleaseState {
  const defaultNamespace = options.namespace ?? 'default';
  const deployed = manifests
    .filter((m) => m?.kind === 'Deployment' && namespaceOf(m, defaultNamespace) === release.namespace
      && m.spec?.template?.metadata?.labels?.[APP_LABEL] === release.name)
    .map((d) => d.spec.template.metadata.labels[VERSION_LABEL] ?? d.metadata?.name);
  const route = releaseObjectOf(manifests, release, defaultNamespace);
  const view = route ? VIEWS[release.kind](route, manifests, release, { defaultNamespace, clusterDomain: options.clusterDomain, deployed }) : EMPTY;
  return { deployed, ...view };
}

const EMPTY: RoutingView = { routable: [], weights: [], matchRoutes: [] };

/** Istio: DestinationRule subsets of the routed hosts; weights of the last `http` (else `tcp`, `tls`) route. */
function istioView(vs: any, manifests: any[], release: ReleaseRef, ctx: ViewContext): RoutingView {
  const list: any[] = ['http', 'tcp', 'tls'].map((l) => vs.spec?.[l]).find((l) => Array.isArray(l) && l.length > 0) ?? [];
  const catchAll = list.length > 0 ? list[list.length - 1] : undefined;
  const destinations: any[] = Array.isArray(catchAll?.route) ? catchAll.route : [];
  const host = (h: string | undefined, namespace: string) => fqdn(h, namespace, ctx.clusterDomain);
  const hosts = new Set(list.flatMap((r) => (r?.route ?? []).map((d: any) => host(d?.destination?.host, release.namespace))));
  const routable = manifests
    .filter((m) => m?.kind === 'DestinationRule' && hosts.has(host(m.spec?.host, namespaceOf(m, ctx.defaultNamespace))))
    .flatMap((dr) => (dr.spec?.subsets ?? []).map((s: any) => String(s?.name)));
  const label = (d: any) => d?.destination?.subset ?? d?.destination?.host;
  return {
    routable,
    weights: destinations.map((d) => ({ version: String(label(d)), weight: d?.weight ?? (destinations.length === 1 ? 100 : 0) })),
    matchRoutes: list.slice(0, -1).map((r) => `${describeIstioMatch(r?.match)} → ${(r?.route ?? []).map(label).join(', ')}`),
  };
}

function describeIstioMatch(match: any[] | undefined): string {
  const conditions = (Array.isArray(match) ? match : []).map((m) => {
    const headers = Object.entries(m?.headers ?? {}).map(([name, v]: [string, any]) =>
      (v?.exact !== undefined ? `${name}=${v.exact}` : v?.prefix !== undefined ? `${name}^=${v.prefix}` : `${name}~${v?.regex}`));
    return [...headers, ...(m?.uri ? ['uri'] : [])].join(' & ') || 'match';
  });
  return conditions.join(' | ') || 'match';
}

/**
 * Gateway API: per-version Services (selecting `app=<release>` and a `version`) are the routable
 * versions; the weights are those of the last rule's backendRefs (relative weights, default 1,
 * shown as percentages), each backendRef named by the version its Service selects.
 */
function gatewayApiView(route: any, manifests: any[], release: ReleaseRef, ctx: ViewContext): RoutingView {
  const versionServices = new Map<string, string>();
  for (const m of manifests) {
    const selector = m?.kind === 'Service' && m.apiVersion === 'v1' ? m.spec?.selector : undefined;
    const ofRelease = selector?.[APP_LABEL] === release.name && namespaceOf(m, ctx.defaultNamespace) === release.namespace;
    if (ofRelease && selector?.[VERSION_LABEL] !== undefined) {
      versionServices.set(m.metadata?.name, String(selector[VERSION_LABEL]));
    }
  }
  const rules: any[] = Array.isArray(route.spec?.rules) ? route.spec.rules : [];
  const versionOf = (ref: any) => versionServices.get(ref?.name) ?? String(ref?.name);
  const catchAll = rules.length > 0 ? rules[rules.length - 1] : undefined;
  const refs: any[] = Array.isArray(catchAll?.backendRefs) ? catchAll.backendRefs : [];
  const raw = refs.map((r) => (typeof r?.weight === 'number' ? r.weight : 1));
  const total = raw.reduce((a, b) => a + b, 0);
  return {
    routable: [...versionServices.values()],
    weights: refs.map((r, i) => ({ version: versionOf(r), weight: total === 0 ? 0 : Math.round((raw[i] * 100) / total) })),
    matchRoutes: rules.slice(0, -1).map((r) => `${describeGatewayMatch(r?.matches)} → ${(r?.backendRefs ?? []).map(versionOf).join(', ')}`),
  };
}

function describeGatewayMatch(matches: any[] | undefined): string {
  const conditions = (Array.isArray(matches) ? matches : []).map((m) => {
    const headers = (Array.isArray(m?.headers) ? m.headers : []).map((h: any) =>
      (h?.type === 'RegularExpression' ? `${h.name}~${h.value}` : `${h?.name}=${h?.value}`));
    return [...headers, ...(m?.path ? ['path'] : [])].join(' & ') || 'match';
  });
  return conditions.join(' | ') || 'match';
}

/** Service selector switch: every Deployment is routable; the version the Service selects gets 100%. */
function serviceSelectorView(service: any, _manifests: any[], _release: ReleaseRef, ctx: ViewContext): RoutingView {
  const version = service.spec?.selector?.[VERSION_LABEL];
  return { routable: ctx.deployed, weights: version === undefined ? [] : [{ version: String(version), weight: 100 }], matchRoutes: [] };
}

const VIEWS: { [kind in ReleaseKind]: RouterView } = {
  VirtualService: istioView,
  HTTPRoute: gatewayApiView,
  Service: serviceSelectorView,
};
