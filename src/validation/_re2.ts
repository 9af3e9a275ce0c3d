import type { RE2JS } from 're2js';

/**
 * RE2 regular expressions (the engine of Envoy, Istio's Go validation and Kubernetes CEL `matches`), through
 * `re2js`, a pure-JavaScript port of RE2. Loaded on first use; compiled patterns are cached.
 */
let re2js: typeof RE2JS | undefined;
const cache = new Map<string, RE2JS | Error>();

function compileCached(pattern: string): RE2JS | Error {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    re2js ??= (require('re2js') as typeof import('re2js')).RE2JS;
    try {
      compiled = re2js.compile(pattern);
    } catch (e: any) {
      compiled = new Error(String(e?.message ?? e));
    }
    if (cache.size > 2000) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** Compiles `pattern` with RE2 syntax; throws the RE2 syntax error (e.g. `invalid repeat count`) if it is not valid. */
export function compileRe2(pattern: string): { test(text: string): boolean } {
  const compiled = compileCached(pattern);
  if (compiled instanceof Error) throw compiled;
  return compiled;
}

/** The RE2 syntax error of `pattern`, or undefined when RE2 accepts it. */
export function re2SyntaxError(pattern: string): string | undefined {
  const compiled = compileCached(pattern);
  return compiled instanceof Error ? compiled.message : undefined;
}
