/**
 * How the CLI reads a release out of a stage's manifests, whatever router made them: the release
 * is the object carrying the plan annotation (an Istio VirtualService, a Gateway API HTTPRoute, or
 * the version-free Service of a selector switch), and the routers' readers (the safety check's
 * facts) tell its routable versions, the weights of its catch-all route and its match routes.
 * Loads no cdk8s.
 */
import { CliError } from './errors';
import { APP_LABEL, CLUSTER_DOMAIN_ANNOTATION, DEFAULT_CLUSTER_DOMAIN, PLAN_ANNOTATION, STAGE_ANNOTATION, VERSION_LABEL } from '../_conventions';
import { unique } from '../_util';
import { readStage } from '../routing/_registry';
import { readOptions } from '../safety/_engine';
import { RouteFacts, RuleFacts, StageFacts, TargetFacts } from '../safety/_facts';

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
  /** The cluster DNS domain it was synthesized for (`mesh-release.io/cluster-domain`), when not `cluster.local`. */
  readonly clusterDomain?: string;
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
      clusterDomain: m.metadata.annotations[CLUSTER_DOMAIN_ANNOTATION],
    }));
}

/**
 * The cluster DNS domain to read a release's YAML with: `--cluster-domain` when given, else the one its releases were
 * synthesized for (`mesh-release.io/cluster-domain`; none: `cluster.local`). Releases of two domains need the flag:
 * one cluster has one domain, and hosts of the other would reach no Service.
 */
export function clusterDomainOf(flag: string | undefined, releases: ReleaseRef[]): string | undefined {
  if (flag !== undefined) {
    return flag;
  }
  const domains = [...new Set(releases.map((r) => r.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN))];
  if (domains.length > 1) {
    throw new CliError(`the releases were synthesized for different cluster domains (${releases.map((r) => `${r.namespace}/${r.name}: `
      + `${r.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN}`).join(', ')}): say which domain the cluster has with --cluster-domain`);
  }
  return releases.find((r) => r.clusterDomain !== undefined)?.clusterDomain;
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

/**
 * How the release looks in one stage's manifests, read by the routers' readers (the same facts the safety check
 * reads: no parser of its own).
 */
export function releaseState(manifests: any[], release: ReleaseRef, options: { namespace?: string; clusterDomain?: string } = {}): ReleaseState {
  return releaseStateIn(stageFacts(manifests, options), release);
}

/** The facts of a stage's manifests, read once for the states of several releases (`releaseStateIn`). */
export function stageFacts(manifests: any[], options: { namespace?: string; clusterDomain?: string } = {}): StageFacts {
  return readStage(manifests, readOptions(options.namespace, options.clusterDomain));
}

/** `releaseState` from facts already read: a plan of many releases reads each stage once, not once per release. */
export function releaseStateIn(facts: StageFacts, release: ReleaseRef): ReleaseState {
  const deployed = facts.workloads
    .filter((w) => w.object.startsWith('Deployment/') && w.namespace === release.namespace && w.podLabels[APP_LABEL] === release.name)
    .map((w) => w.podLabels[VERSION_LABEL] ?? w.name);
  const route = facts.routes.find((r) => r.object === `${release.kind}/${release.name}` && r.namespace === release.namespace);
  if (!route || route.rules.length === 0) {
    return { deployed, routable: release.kind === 'Service' ? deployed : [], weights: [], matchRoutes: [] };
  }
  const backends = new Map(facts.backends.map((b) => [b.id, b]));
  // A destination as the version it reaches: a subset's name, the version a Service selects, else what it names.
  const versionOf = (t: TargetFacts) => (t.kind === 'subset' ? t.name : backends.get(t.backendId)?.selector[VERSION_LABEL] ?? t.host ?? t.name);
  const sent = (rule: RuleFacts) => rule.targets.filter((t) => !t.mirror);
  const catchAll = route.rules[route.rules.length - 1];
  return {
    deployed,
    routable: routableVersions(release, route, facts, deployed),
    weights: sent(catchAll).map((t) => ({ version: String(versionOf(t)), weight: Math.round(t.weight) })),
    matchRoutes: route.rules.slice(0, -1).map((r) => `${r.matchText ?? 'match'} → ${sent(r).map(versionOf).join(', ')}`),
  };
}

/**
 * The versions a route of the release can name: Istio, the subsets of the hosts it routes to; the Gateway API, the
 * per-version Services of the app (selecting `app` and a `version`); a selector switch, every deployed version.
 */
function routableVersions(release: ReleaseRef, route: RouteFacts, facts: StageFacts, deployed: string[]): string[] {
  switch (release.kind) {
    case 'VirtualService': {
      const hosts = new Set(route.rules.flatMap((r) => r.targets.map((t) => t.host)));
      return facts.backends.filter((b) => b.kind === 'subset' && hosts.has(b.host)).map((b) => b.name);
    }
    case 'HTTPRoute':
      return unique(facts.backends
        .filter((b) => b.kind === 'service' && b.namespace === release.namespace && b.name !== release.name
          && b.selector[APP_LABEL] === release.name && b.selector[VERSION_LABEL] !== undefined)
        .map((b) => b.selector[VERSION_LABEL]));
    default:
      return deployed;
  }
}
