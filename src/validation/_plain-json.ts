/**
 * The JSON text of a value when JSON spells it exactly, else undefined: plain objects (or without a prototype),
 * arrays, strings, booleans, finite numbers other than -0, and null, each object reached once. Anything JSON would
 * drop, change or refuse (`undefined`, a function, a symbol, a bigint, NaN, -0, a Date or other value with
 * `toJSON`, a class instance, a cycle) or write twice (an object reached twice: YAML writes it as an anchor and
 * an alias) makes it undefined. What is computed from such a text (a YAML document, validation findings) is then
 * a function of the text alone.
 */
export function plainJson(value: unknown): string | undefined {
  let plain = true;
  const seen = new Set<object>();
  let json: string;
  try {
    json = JSON.stringify(value, function check(this: any, key: string, v: unknown) {
      // `this[key]` is the value before its own toJSON() (a Date's, say): such a value is not plain.
      if (this[key] !== v) {
        plain = false;
      }
      switch (typeof v) {
        case 'string':
        case 'boolean':
          return v;
        case 'number':
          if (!Number.isFinite(v) || Object.is(v, -0)) {
            plain = false;
          }
          return v;
        case 'object':
          if (v !== null) {
            const prototype = Object.getPrototypeOf(v);
            if ((!Array.isArray(v) && prototype !== Object.prototype && prototype !== null) || seen.has(v)) {
              plain = false;
            }
            seen.add(v);
          }
          return v;
        default:
          // undefined (an array hole too), functions, symbols, bigint: JSON drops or refuses them.
          plain = false;
          return null;
      }
    });
  } catch {
    return undefined; // a cycle
  }
  return plain ? json : undefined;
}
