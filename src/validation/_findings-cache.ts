import { ObjectFindings } from './_types';

/**
 * The findings of objects already validated, by their exact JSON text: validation is a pure function of one
 * object, and the stages of a plan (`ReleaseTesting.assertPlan`, `mesh-release check` of a before/after pair)
 * repeat most of their objects unchanged (a Deployment that does not change between two stages).
 *
 * Only objects that JSON spells exactly are cached: plain objects, arrays, strings, booleans, finite numbers
 * other than -0 and null. An `undefined` property, a Date, a class instance, NaN or a cycle could validate
 * differently from its JSON text, so such an object is validated every time. Bounded: the oldest entry goes
 * first once `MAX_ENTRIES` are kept.
 */
const MAX_ENTRIES = 4096;
const FINDINGS = new Map<string, ObjectFindings>();

/** The JSON text of `value` if JSON spells it exactly (see above), else undefined. */
function exactJson(value: unknown): string | undefined {
  let exact = true;
  try {
    const text = JSON.stringify(value, function (this: any, key: string, v: unknown) {
      const raw = this[key];
      if (raw === undefined || typeof raw === 'function' || typeof raw === 'symbol' || typeof raw === 'bigint'
        || (typeof raw === 'number' && (!Number.isFinite(raw) || Object.is(raw, -0)))
        || (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && Object.getPrototypeOf(raw) !== Object.prototype
          && Object.getPrototypeOf(raw) !== null)) {
        exact = false;
      }
      return v;
    });
    return exact ? text : undefined;
  } catch {
    return undefined; // a cycle
  }
}

/** `validate(object)`, or what it returned for an object with the same exact JSON text. */
export function cachedFindings(object: unknown, validate: (object: unknown) => ObjectFindings): ObjectFindings {
  const key = exactJson(object);
  if (key === undefined) {
    return validate(object);
  }
  let found = FINDINGS.get(key);
  if (!found) {
    found = validate(object);
    FINDINGS.set(key, found);
    if (FINDINGS.size > MAX_ENTRIES) {
      FINDINGS.delete(FINDINGS.keys().next().value!);
    }
  }
  return found;
}
