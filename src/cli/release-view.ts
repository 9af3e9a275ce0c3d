import { resolveHost as fqdn } from '../_conventions';
import { MeshRelease } from '../mesh-release';

/** A release found in an app's output: a VirtualService carrying the plan annotation. */
export interface ReleaseRef {
  /** The VirtualService's name (MeshRelease names it after the app, the `app` label of its pods). */
  readonly name: string;
  readonly namespace: string;
  /** The stages of its plan, in order (`mesh-release.io/plan-stages`). */
  readonly plan: string[];
  /** The stage synthesized (`mesh-release.io/stage`). */
  readonly stage?: string;
}

/** Share of the catch-all route one destination receives. */
export interface Weight {
  /** The subset (the version), or the host when the destination has no subset. */
  readonly version: string;
  readonly weight: number;
}

/** What one stage of a release looks like in its manifests. */
export interface ReleaseState {
  /** Versions with a Deployment (pods labelled `app=<release>`), from their `version` label. */
  readonly deployed: string[];
  /** Subsets of the DestinationRules of the hosts the VirtualService routes to. */
  readonly subsets: string[];
  /** Weights of the catch-all (last) http route. */
  readonly weights: Weight[];
  /** The match routes ahead of it, e.g. `x-version=v3 → v3`. */
  readonly matchRoutes: string[];
}

export function namespaceOf(manifest: any): string {
  return manifest?.metadata?.namespace ?? 'default';
}

/** Every release in the manifests: VirtualServices with the `mesh-release.io/plan-stages` annotation. */
export function releasesIn(manifests: any[]): ReleaseRef[] {
  return manifests
    .filter((m) => m?.kind === 'VirtualService' && typeof m.metadata?.annotations?.[MeshRelease.PLAN_ANNOTATION] === 'string')
    .map((vs) => ({
      name: vs.metadata.name,
      namespace: namespaceOf(vs),
      plan: (vs.metadata.annotations[MeshRelease.PLAN_ANNOTATION] as string).split(',').map((s) => s.trim()).filter((s) => s !== ''),
      stage: vs.metadata.annotations[MeshRelease.STAGE_ANNOTATION],
    }));
}

/** The VirtualService of a release in a stage's manifests. */
export function virtualServiceOf(manifests: any[], release: ReleaseRef): any | undefined {
  return manifests.find((m) => m?.kind === 'VirtualService' && m.metadata?.name === release.name && namespaceOf(m) === release.namespace);
}

/** How the release looks in one stage's manifests. */
export function releaseState(manifests: any[], release: ReleaseRef): ReleaseState {
  const http: any[] = virtualServiceOf(manifests, release)?.spec?.http ?? [];
  const catchAll = http.length > 0 ? http[http.length - 1] : undefined;
  const destinations: any[] = catchAll?.route ?? [];
  const hosts = new Set(http.flatMap((r) => (r.route ?? []).map((d: any) => fqdn(d.destination?.host, release.namespace))));
  const deployed = manifests
    .filter((m) => m?.kind === 'Deployment' && namespaceOf(m) === release.namespace && m.spec?.template?.metadata?.labels?.app === release.name)
    .map((d) => d.spec.template.metadata.labels.version ?? d.metadata?.name);
  const subsets = manifests
    .filter((m) => m?.kind === 'DestinationRule' && hosts.has(fqdn(m.spec?.host, namespaceOf(m))))
    .flatMap((dr) => (dr.spec.subsets ?? []).map((s: any) => s.name));
  return {
    deployed,
    subsets,
    weights: destinations.map((d) => ({
      version: d.destination?.subset ?? d.destination?.host,
      weight: d.weight ?? (destinations.length === 1 ? 100 : 0),
    })),
    matchRoutes: http.slice(0, -1).map((r) => `${describeMatch(r.match)} → ${(r.route ?? []).map((d: any) => d.destination?.subset ?? d.destination?.host).join(', ')}`),
  };
}

function describeMatch(match: any[] | undefined): string {
  const conditions = (match ?? []).map((m) => {
    const headers = Object.entries(m?.headers ?? {}).map(([name, v]: [string, any]) =>
      (v?.exact !== undefined ? `${name}=${v.exact}` : v?.prefix !== undefined ? `${name}^=${v.prefix}` : `${name}~${v?.regex}`));
    return [...headers, ...(m?.uri ? ['uri'] : [])].join(' & ') || 'match';
  });
  return conditions.join(' | ') || 'match';
}
