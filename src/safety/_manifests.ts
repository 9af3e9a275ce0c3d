/**
 * The objects of one stage as the readers get them: `kind: List` objects unwrapped, indexed by
 * kind once (a reader asks for its kinds instead of filtering every object again), and the
 * objects that share one identity.
 */
import { DuplicateObject, ReadOptions, objectName } from './_facts';

const NONE: readonly any[] = Object.freeze([]);

/** The objects of manifests, with the items of `kind: List` objects (`v1/List`, `DeploymentList`...) taken out. */
export function flattenLists(manifests: any[]): any[] {
  const objects: any[] = [];
  flattenInto(manifests, objects, undefined);
  return objects;
}

/** Adds the objects of `manifests` to `objects` (and to `byKind`, when given), Lists unwrapped. */
function flattenInto(manifests: any[], objects: any[], byKind: Map<string, any[]> | undefined): void {
  for (const m of manifests) {
    if (m === null || typeof m !== 'object') {
      continue;
    }
    const kind = typeof m.kind === 'string' ? m.kind : '';
    if (kind.endsWith('List') && Array.isArray(m.items)) {
      flattenInto(m.items, objects, byKind);
      continue;
    }
    objects.push(m);
    if (byKind) {
      const list = byKind.get(kind);
      if (list) {
        list.push(m);
      } else {
        byKind.set(kind, [m]);
      }
    }
  }
}

/** One stage's objects, indexed by kind. */
export class StageManifests {
  /** Every object, in the order of the manifests. */
  readonly objects: readonly any[];
  private readonly byKind = new Map<string, any[]>();
  private coreServices?: readonly any[];

  constructor(manifests: any[], readonly options: ReadOptions) {
    const objects: any[] = [];
    flattenInto(manifests, objects, this.byKind);
    this.objects = objects;
  }

  /** The objects of a kind (any API group and version), in the order of the manifests. */
  ofKind(kind: string): readonly any[] {
    return this.byKind.get(kind) ?? NONE;
  }

  /** The core (`v1`) Services. */
  services(): readonly any[] {
    return this.coreServices ??= this.ofKind('Service').filter((m) => m.apiVersion === 'v1');
  }

  /** The namespace of an object: its own, or the one objects without one are applied to. */
  namespaceOf(m: any): string {
    return m?.metadata?.namespace ?? this.options.namespace;
  }

  /** Objects of one identity: the second apply overwrites the first, or fails on an immutable field. */
  duplicates(): DuplicateObject[] {
    const objects = this.objects;
    // A few objects are compared pairwise (no key is built); more are counted by identity.
    if (objects.length <= 32) {
      const found: DuplicateObject[] = [];
      const counted = new Set<number>();
      for (let i = 0; i < objects.length; i++) {
        if (counted.has(i)) {
          continue;
        }
        let count = 1;
        for (let j = i + 1; j < objects.length; j++) {
          if (this.sameIdentity(objects[i], objects[j])) {
            count++;
            counted.add(j);
          }
        }
        if (count > 1) {
          found.push({ object: objectName(objects[i]), namespace: this.namespaceOf(objects[i]), count });
        }
      }
      return found;
    }
    const counts = new Map<string, { first: any; count: number }>();
    let found = false;
    for (const m of objects) {
      const key = identity(m, this.options.namespace);
      const seen = counts.get(key);
      if (seen) {
        seen.count++;
        found = true;
      } else {
        counts.set(key, { first: m, count: 1 });
      }
    }
    if (!found) {
      return [];
    }
    return [...counts.values()].filter((x) => x.count > 1)
      .map(({ first, count }) => ({ object: objectName(first), namespace: this.namespaceOf(first), count }));
  }

  private sameIdentity(a: any, b: any): boolean {
    return `${a.kind}` === `${b.kind}` && `${a.metadata?.name}` === `${b.metadata?.name}`
      && `${this.namespaceOf(a)}` === `${this.namespaceOf(b)}` && groupOf(a) === groupOf(b);
  }
}

/** The API group of an object ('' for the core group). */
function groupOf(m: any): string {
  const apiVersion = m.apiVersion;
  const slash = typeof apiVersion === 'string' ? apiVersion.indexOf('/') : -1;
  return slash >= 0 ? apiVersion.slice(0, slash) : '';
}

/** Identity of an object: group, kind, namespace and name (version-free, as the API server sees it). */
function identity(m: any, defaultNamespace: string): string {
  return `${groupOf(m)}\u0000${m.kind}\u0000${m.metadata?.namespace ?? defaultNamespace}\u0000${m.metadata?.name}`;
}
