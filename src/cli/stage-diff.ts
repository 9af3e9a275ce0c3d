/**
 * What applying one stage after another changes in the cluster: the objects it creates, changes
 * and deletes. `kubectl apply` only creates and changes; the runbook deletes the rest itself.
 */
import { groupOf, STAGE_ANNOTATION } from '../_conventions';

/** One object, as named on a `kubectl` command line. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Its namespace (the `--namespace` default for objects without one). */
  readonly namespace: string;
}

/** The changes of one transition. */
export interface StageChanges {
  /** Objects of the stage that the stage before it did not have. */
  readonly created: any[];
  /** Objects of both whose content differs (the stage annotation aside). */
  readonly changed: any[];
  /** Objects of the stage before that this stage drops: `kubectl apply` leaves them, they must be deleted. */
  readonly deleted: any[];
}

/**
 * The identity of an object as the API server sees it: group (not version: `v1beta1` and `v1` of a
 * kind are one object), kind, namespace and name.
 */
export function keyOf(manifest: any, defaultNamespace: string = 'default'): string {
  return JSON.stringify([groupOf(manifest?.apiVersion), manifest?.kind, manifest?.metadata?.namespace ?? defaultNamespace, manifest?.metadata?.name]);
}

export { groupOf };

export function refOf(manifest: any, defaultNamespace: string = 'default'): ObjectRef {
  const metadata = manifest?.metadata;
  return { apiVersion: manifest?.apiVersion, kind: manifest?.kind, name: metadata?.name, namespace: metadata?.namespace ?? defaultNamespace };
}

/** The changes from `previous` (none for the first stage: everything is created) to `current`. */
export function changesBetween(current: any[], previous: any[] = [], defaultNamespace: string = 'default'): StageChanges {
  const before = new Map(previous.map((m) => [keyOf(m, defaultNamespace), m]));
  const now = new Set(current.map((m) => keyOf(m, defaultNamespace)));
  const created: any[] = [];
  const changed: any[] = [];
  for (const m of current) {
    const old = before.get(keyOf(m, defaultNamespace));
    if (old === undefined) {
      created.push(m);
    } else if (canonical(old) !== canonical(m)) {
      changed.push(m);
    }
  }
  return { created, changed, deleted: previous.filter((m) => !now.has(keyOf(m, defaultNamespace))) };
}

/** `+2 ~1 -3` (created, changed, deleted), or `-` when nothing changes. */
export function summarize(changes: StageChanges): string {
  const parts = [
    changes.created.length > 0 ? `+${changes.created.length}` : '',
    changes.changed.length > 0 ? `~${changes.changed.length}` : '',
    changes.deleted.length > 0 ? `-${changes.deleted.length}` : '',
  ].filter((p) => p !== '');
  return parts.join(' ') || '-';
}

const CANONICAL = new WeakMap<object, string>();

/**
 * The object as JSON with sorted keys, without the annotation that names the stage (it changes every stage)
 * and without `apiVersion` (one object served at two versions is the same object). Computed once per object
 * (each stage is compared with the one before and the one after it, forward and for roll back).
 */
function canonical(manifest: any): string {
  if (manifest === null || typeof manifest !== 'object') {
    return sortedJson(manifest);
  }
  let text = CANONICAL.get(manifest);
  if (text === undefined) {
    const annotations = manifest.metadata?.annotations;
    const copy = annotations && STAGE_ANNOTATION in annotations
      ? { ...manifest, apiVersion: undefined, metadata: { ...manifest.metadata, annotations: { ...annotations, [STAGE_ANNOTATION]: undefined } } }
      : { ...manifest, apiVersion: undefined };
    text = sortedJson(copy);
    CANONICAL.set(manifest, text);
  }
  return text;
}

/** `JSON.stringify` with the keys of every object sorted (undefined members dropped, as JSON does). */
export function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : sortedJson(v))).join(',')}]`;
  }
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = (value as any)[key];
    if (v !== undefined && typeof v !== 'function' && typeof v !== 'symbol') {
      parts.push(`${JSON.stringify(key)}:${sortedJson(v)}`);
    }
  }
  return `{${parts.join(',')}}`;
}

/** Whether an object takes part in routing: its change must reach every proxy before the next step. */
export function isRouting(manifest: any): boolean {
  const group = groupOf(manifest?.apiVersion);
  return group === 'networking.istio.io' || group === 'security.istio.io' || group === 'gateway.networking.k8s.io'
    || (manifest?.kind === 'Service' && group === '');
}
