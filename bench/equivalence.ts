/**
 * Deep comparison of two lists of manifests, naming every field that differs.
 */
import { isDeepStrictEqual } from 'util';

export interface EquivalenceResult {
  readonly equal: boolean;
  /** True when the lists are equal only once sorted by apiVersion/kind/namespace/name. */
  readonly orderIgnored: boolean;
  /** One line per difference (capped). */
  readonly differences: string[];
}

const MAX_DIFFERENCES = 40;

function objectKey(o: any): string {
  return `${o?.apiVersion}/${o?.kind}/${o?.metadata?.namespace ?? ''}/${o?.metadata?.name}`;
}

function fieldDiffs(a: any, b: any, path: string, out: string[]): void {
  if (out.length >= MAX_DIFFERENCES || isDeepStrictEqual(a, b)) {
    return;
  }
  const isObj = (v: any) => v !== null && typeof v === 'object';
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    if (Array.isArray(a) && a.length !== b.length) {
      out.push(`${path}: array length ${a.length} (A) vs ${b.length} (B)`);
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const sub = Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`;
      if (!(key in a)) {
        out.push(`${sub}: only in B = ${JSON.stringify(b[key])}`);
      } else if (!(key in b)) {
        out.push(`${sub}: only in A = ${JSON.stringify(a[key])}`);
      } else {
        fieldDiffs(a[key], b[key], sub, out);
      }
      if (out.length >= MAX_DIFFERENCES) {
        return;
      }
    }
    if (out.length === 0) {
      out.push(`${path}: key order or prototype differs`);
    }
    return;
  }
  out.push(`${path}: A = ${JSON.stringify(a)}, B = ${JSON.stringify(b)}`);
}

/** Compares the lists in order; when that fails, compares them sorted by object identity. */
export function compareManifests(a: any[], b: any[]): EquivalenceResult {
  if (isDeepStrictEqual(a, b)) {
    return { equal: true, orderIgnored: false, differences: [] };
  }
  const byKey = (list: any[]) => new Map(list.map((o) => [objectKey(o), o]));
  const sortedA = [...a].sort((x, y) => objectKey(x).localeCompare(objectKey(y)));
  const sortedB = [...b].sort((x, y) => objectKey(x).localeCompare(objectKey(y)));
  if (isDeepStrictEqual(sortedA, sortedB)) {
    return { equal: true, orderIgnored: true, differences: [] };
  }
  const differences: string[] = [];
  if (a.length !== b.length) {
    differences.push(`object count: ${a.length} (A) vs ${b.length} (B)`);
  }
  const mapA = byKey(a);
  const mapB = byKey(b);
  for (const [key, objA] of mapA) {
    const objB = mapB.get(key);
    if (!objB) {
      differences.push(`${key}: only in A`);
    } else {
      fieldDiffs(objA, objB, key, differences);
    }
    if (differences.length >= MAX_DIFFERENCES) {
      break;
    }
  }
  for (const key of mapB.keys()) {
    if (!mapA.has(key) && differences.length < MAX_DIFFERENCES) {
      differences.push(`${key}: only in B`);
    }
  }
  return { equal: false, orderIgnored: false, differences };
}
