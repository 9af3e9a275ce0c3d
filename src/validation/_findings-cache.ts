import { createHash } from 'crypto';
import { plainJson } from './_plain-json';
import { ObjectFindings } from './_types';

/**
 * The findings of objects already validated, by a hash of their JSON text: the stages of a plan
 * (`ReleaseTesting.assertPlan`, `mesh-release check` of a before/after pair) repeat most of their objects
 * unchanged (a Deployment that does not change between two stages).
 *
 * A cached object is validated as its JSON text parsed back, so its findings are a function of that text by
 * construction (a getter, a non-enumerable property or object identity cannot leak in). Only objects that JSON
 * spells exactly take this path (`plainJson`): an `undefined` property, a Date, a class instance, an object with
 * `toJSON`, NaN or a cycle would validate differently from its JSON text, so such an object is validated as it
 * is, every time.
 *
 * One map per validate function; each keeps the findings (not the texts) of its `MAX_ENTRIES` newest objects.
 */
const MAX_ENTRIES = 4096;
const CACHES = new WeakMap<(object: unknown) => ObjectFindings, Map<string, ObjectFindings>>();

/** `validate(object)`, or what it returned for an object with the same JSON text (see above). */
export function cachedFindings(object: unknown, validate: (object: unknown) => ObjectFindings): ObjectFindings {
  const text = plainJson(object);
  if (text === undefined) {
    return validate(object);
  }
  let cache = CACHES.get(validate);
  if (!cache) {
    cache = new Map<string, ObjectFindings>();
    CACHES.set(validate, cache);
  }
  const key = createHash('sha256').update(text).digest('base64');
  let found = cache.get(key);
  if (!found) {
    found = validate(JSON.parse(text));
    cache.set(key, found);
    if (cache.size > MAX_ENTRIES) {
      cache.delete(cache.keys().next().value!);
    }
  }
  return found;
}
