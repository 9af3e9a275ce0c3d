import type { CelEnv, CelFunc } from '@bufbuild/cel';
import { parseGoDuration, protobufDurationText } from './_go-duration';
import { compileRe2 } from './_re2';

/**
 * The CEL environment of `x-kubernetes-validations` rules: `@bufbuild/cel` (the CEL standard definitions and
 * macros) plus the parts of the Kubernetes CEL library that the validated CRDs use, with Kubernetes (cel-go)
 * semantics. Loaded on first use.
 *
 * Functions, macros and operators used by the rules of the CRDs we validate (found by parsing every rule of Istio
 * 1.30 DestinationRule, VirtualService, Gateway, PeerAuthentication, AuthorizationPolicy and Gateway API 1.6.1
 * HTTPRoute, ReferenceGrant, Gateway, standard and experimental channels; `test/validation/cel-library.tests.ts`
 * re-derives this list from the schemas and fails when it changes), and how each is provided:
 *
 * | used in rules                                   | where it comes from                                                   |
 * |-------------------------------------------------|-----------------------------------------------------------------------|
 * | `has(x.f)`                                      | CEL macro (@bufbuild/cel)                                             |
 * | `l.all(x, p)`, `l.exists(x, p)`, `l.exists_one(x, p)`, `l.filter(x, p)` (lists and map keys) | CEL macros (@bufbuild/cel) |
 * | `size(x)`, `x.size()` (string: code points, list, map) | CEL standard (@bufbuild/cel)                                   |
 * | `s.contains(t)`, `s.startsWith(t)`, `s.endsWith(t)` | CEL standard (@bufbuild/cel)                                      |
 * | `s.matches(re)`                                 | CEL standard, RE2 semantics: @bufbuild/cel with the `re2js` engine    |
 * | `int(s)`                                        | CEL standard conversion (@bufbuild/cel)                               |
 * | `duration(s)`                                   | overridden: Go `time.ParseDuration` syntax (`_go-duration.ts`), as cel-go |
 * | `s.split(sep)`                                  | Kubernetes strings library (cel-go ext): overridden with Go `strings.Split`/`SplitN` semantics |
 * | `in`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `+`, `&&`, `\|\|`, `!`, `? :`, `l[i]`, list and map literals | CEL operators (@bufbuild/cel) |
 *
 * Also available (Kubernetes strings library, from `@bufbuild/cel/ext`, not used by these CRDs): `charAt`,
 * `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`, `substring`, `trim`, `join`.
 *
 * Not implemented (no rule of these CRDs uses them): the Kubernetes `isSorted`/`sum`/`min`/`max` list functions,
 * `find`/`findAll`, `url`/`isURL`, `ip`/`isIP`/`cidr`/`isCIDR`, `quantity`/`isQuantity`, `format.*`,
 * `authorizer`, `optional` types. A rule that calls any function this environment does not define is reported
 * as not checked (see `_cel-rules.ts`), never as passed.
 */

let env: CelEnv | undefined;

/** Calls planned by @bufbuild/cel itself rather than through the function registry. */
const PLANNER_OPERATORS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '_[?_]', '@not_strictly_false', '@in']);

function cel(): typeof import('@bufbuild/cel') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@bufbuild/cel');
}

/** The Kubernetes CEL environment, created once. */
export function celEnvironment(): CelEnv {
  if (env) return env;
  const { celEnv, celFunc, celMethod, CelScalar, listType } = cel();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { strings } = require('@bufbuild/cel/ext') as typeof import('@bufbuild/cel/ext');
  const std = celEnv({});
  const stdDuration = std.funcs.find('duration')!;
  const DURATION = [...stdDuration].find(f => f.arguments[0] === CelScalar.STRING)!.result;
  const funcs: CelFunc[] = [
    ...strings.filter(f => f.name !== 'split'),
    celFunc('duration', [CelScalar.STRING], DURATION, (text: string) => {
      const result = stdDuration.call(0, undefined, [protobufDurationText(parseGoDuration(text))]);
      if (result === undefined || cel().isCelError(result)) throw new Error(`invalid duration ${JSON.stringify(text)}`);
      return result as any;
    }),
    celMethod('split', CelScalar.STRING, [CelScalar.STRING], listType(CelScalar.STRING), function (this: string, sep: string) {
      return goSplit(this, sep, -1);
    }),
    celMethod('split', CelScalar.STRING, [CelScalar.STRING, CelScalar.INT], listType(CelScalar.STRING), function (this: string, sep: string, n: bigint) {
      return goSplit(this, sep, Number(n));
    }),
  ];
  env = celEnv({ funcs, re2: { compile: compileRe2 } });
  return env;
}

/** Whether `name` (a call in a parsed rule: function, method or operator) is defined in the environment. */
export function isDefinedFunction(name: string): boolean {
  return PLANNER_OPERATORS.has(name) || celEnvironment().funcs.find(name) !== undefined;
}

/** Go `strings.SplitN(s, sep, n)` (`n < 0`: all parts); `sep === ''` splits into characters (code points). */
export function goSplit(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const parts = sep === '' ? [...s] : s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  if (sep === '') return [...parts.slice(0, n - 1), parts.slice(n - 1).join('')];
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

/** `@bufbuild/cel` itself (parse, plan, isCelError, ...), loaded on first use. */
export function celModule(): typeof import('@bufbuild/cel') {
  return cel();
}
