/**
 * What is live in the cluster of a transition the driver is about to perform: the objects the safety check
 * compares the target stage with (issue 20: every step is checked against what is live, not only against the
 * plan's idea of the live stage), and the release's objects the target does not have.
 *
 * Read with one LIST per kind and namespace (never one GET per object: a 100-service app has ~900 objects per
 * stage): the kinds of the target stage and of the stage the cluster is believed to be at, plus the kinds
 * `VersionedApp` and the routers emit for a version (Deployment, HorizontalPodAutoscaler, PodDisruptionBudget,
 * Service), which an earlier release may have left and the live routing objects may name. Objects of other apps
 * are left out: a live object counts when it is the counterpart (group, kind, namespace, name) of an object of
 * either stage, or carries the `app` label of one of the plan's releases in its namespace.
 */
import { KubeClient } from './kube-client';
import { APP_LABEL, VERSION_LABEL, versionedName } from '../_conventions';
import { namespaceOf, ReleaseRef } from '../cli/release-view';
import { groupOf, keyOf } from '../cli/stage-diff';

/** The kinds a release has per version, whatever its stages: listed even when neither stage has one. */
const RELEASE_KINDS: ReadonlyArray<{ apiVersion: string; kind: string }> = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'v1', kind: 'Service' },
];

/**
 * Fields the API server sets, which no stage writes: left out before the check reads a live object
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#resourceversion-in-metadata,
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management).
 */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'];

/** The live objects of a transition, server-only fields stripped. */
export interface LiveObjects {
  /** Every live object read: counterparts of the two stages' objects and the releases' objects. */
  readonly objects: any[];
  /** Of them, the releases' own (the `app` label of a release of the plan, in its namespace). */
  readonly releaseObjects: any[];
}

/**
 * Reads the live objects of a transition to `target` from the stage the cluster is believed to be at
 * (`believed`: none at a first stage or over a stage the plan does not know).
 */
export async function readLiveObjects(kube: KubeClient, target: any[], believed: any[], releases: readonly ReleaseRef[], namespace: string):
Promise<LiveObjects> {
  const wanted = new Set([...target, ...believed].map((m) => keyOf(m, namespace)));
  const apps = new Map<string, Set<string>>();
  for (const r of releases) {
    apps.set(r.namespace, (apps.get(r.namespace) ?? new Set()).add(r.name));
  }
  const ownOf = (o: any) => apps.get(namespaceOf(o, namespace))?.has(o.metadata?.labels?.[APP_LABEL]) === true;
  // One LIST per group, kind and namespace; unfiltered for the stages' kinds (a counterpart may have lost its label
  // by hand), by the releases' `app` label for the other kinds of a version.
  const lists = new Map<string, { apiVersion: string; kind: string; namespace?: string; selector?: string }>();
  for (const m of [...target, ...believed]) {
    const ns = m.metadata?.namespace ?? namespace;
    lists.set(JSON.stringify([groupOf(m.apiVersion), m.kind, ns]), { apiVersion: m.apiVersion, kind: m.kind, namespace: ns });
  }
  for (const [ns, names] of apps) {
    for (const { apiVersion, kind } of RELEASE_KINDS) {
      const k = JSON.stringify([groupOf(apiVersion), kind, ns]);
      if (!lists.has(k)) {
        lists.set(k, { apiVersion, kind, namespace: ns, selector: `${APP_LABEL} in (${[...names].sort().join(',')})` });
      }
    }
  }
  const listed = await Promise.all([...lists.values()].map(async (l) => {
    const items = await kube.list(l.apiVersion, l.kind, l.namespace, l.selector);
    // A list's items of built-in kinds carry no apiVersion and kind.
    return items.map((o) => stripServerFields({ ...o, apiVersion: o.apiVersion ?? l.apiVersion, kind: o.kind ?? l.kind }));
  }));
  const objects = listed.flat().filter((o) => wanted.has(keyOf(o, namespace)) || ownOf(o));
  return { objects, releaseObjects: objects.filter(ownOf) };
}

/** The object without the fields the API server sets (`status`, `metadata.managedFields`, `uid`...). */
export function stripServerFields(object: any): any {
  const { status: _status, ...rest } = object;
  const metadata = { ...rest.metadata };
  for (const field of SERVER_METADATA) {
    delete metadata[field];
  }
  return { ...rest, metadata };
}

/** The releases' live objects that `target` does not have (by group, kind, namespace and name). */
export function leftoversOf(live: LiveObjects, target: any[], namespace: string): any[] {
  const kept = new Set(target.map((m) => keyOf(m, namespace)));
  return live.releaseObjects.filter((o) => !kept.has(keyOf(o, namespace)));
}

/**
 * Of the leftovers, those a first stage over a live stage the plan does not know deletes: the objects of an earlier
 * version, named `<app>-<version>` as the library (and Istio's examples: `reviews-v1`) names them, with that
 * `version` label (its Deployment, autoscaler, budget) or, for a Service, selecting that version (a per-version
 * Service). Other objects that only carry a release's `app` label (a Service for scraping, a worker Deployment, made
 * by hand) are the team's, not the release's: never deleted (they stay, and are checked as staying).
 */
export function versionLeftoversOf(live: LiveObjects, target: any[], namespace: string): any[] {
  return leftoversOf(live, target, namespace).filter(isVersionObject);
}

function isVersionObject(o: any): boolean {
  const labels = o.metadata?.labels ?? {};
  const version = labels[VERSION_LABEL] ?? (o.kind === 'Service' && groupOf(o.apiVersion) === '' ? o.spec?.selector?.[VERSION_LABEL] : undefined);
  return typeof version === 'string' && o.metadata?.name === versionedName(labels[APP_LABEL], version);
}
