import { celEnvironment, celModule, isDefinedFunction } from './_cel-library';
import { fieldPathToPointer, pointerJoin } from './_pointer';
import { ObjectFindings } from './_types';

/**
 * Evaluation of a CRD's `x-kubernetes-validations` (CEL) rules over one (defaulted) object, as the API server
 * does on create:
 *
 * - every rule, at any depth, runs with `self` bound to the value of the node that carries it (an object, a list,
 *   a map, a list item or a map value), converted to CEL the Kubernetes way: `integer` → int, `number` → double,
 *   objects with `properties` → objects whose field names are escaped like the API server escapes them
 *   (`namespace` → `__namespace__`, `a.b` → `a__dot__b`, ...), unknown fields pruned, `additionalProperties` maps →
 *   maps with the keys unchanged, int-or-string → int or string; strings stay strings (no rule here reads a
 *   `date-time`/`byte`/`duration`-formatted field as a timestamp/bytes/duration);
 * - the message is the value of `messageExpression` when it evaluates to a non-empty string, else `message`, else
 *   `failed rule: <rule>` (the API server's default); `fieldPath` moves the violation to that field; a `reason`
 *   other than FieldValueInvalid prefixes the message (`Forbidden: `, `Required value: `, `Duplicate value: `);
 * - a rule that fails with an evaluation error (e.g. `duration('abc')`, a missing field) is a violation, like on
 *   the API server;
 * - a rule this evaluator cannot run is reported as NOT CHECKED, never as passed: parse errors, functions or
 *   identifiers the environment does not define (see `_cel-library.ts`), transition rules (they read `oldSelf`,
 *   which only exists on update; `optionalOldSelf` rules need CEL optionals, not supported), results that are
 *   not a bool, and runtime "no such overload"/"unbound function" errors.
 *
 * Also checked here, because the API server checks them with the schema: `x-kubernetes-list-type: set` items
 * and `x-kubernetes-list-type: map` keys (`x-kubernetes-list-map-keys`) must be unique.
 *
 * Not reproduced: the CEL cost budget (per-rule and per-request cost limits) and the CRD-creation-time type
 * check of rules.
 */

/** One entry of `x-kubernetes-validations`. */
interface Rule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?: string;
  readonly optionalOldSelf?: boolean;
}

type Program = (bindings: { self: unknown }) => unknown;
type Compiled = { readonly program: Program } | { readonly reason: string };

const programs = new Map<string, Compiled>();

const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function',
  'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** The CEL name of a schema property, as the API server escapes it (undefined when it cannot be accessed). */
export function escapePropertyName(name: string): string | undefined {
  if (name === '' || /^[0-9]/.test(name) || !/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  return name.replace(/__|\.|-|\//g, s => ({ '__': '__underscores__', '.': '__dot__', '-': '__dash__', '/': '__slash__' }[s]!));
}

/** Free identifiers and called functions of a parsed expression. */
function scan(expr: any, idents: Set<string>, bound: Set<string>, calls: Set<string>): void {
  if (!expr || typeof expr !== 'object') return;
  const kind = expr.exprKind;
  switch (kind?.case) {
    case 'identExpr': idents.add(kind.value.name); return;
    case 'callExpr':
      calls.add(kind.value.function);
      scan(kind.value.target, idents, bound, calls);
      kind.value.args.forEach((a: any) => scan(a, idents, bound, calls));
      return;
    case 'selectExpr': scan(kind.value.operand, idents, bound, calls); return;
    case 'listExpr': kind.value.elements.forEach((e: any) => scan(e, idents, bound, calls)); return;
    case 'structExpr':
      kind.value.entries.forEach((e: any) => { scan(e.keyKind?.value, idents, bound, calls); scan(e.value, idents, bound, calls); });
      return;
    case 'comprehensionExpr': {
      const c = kind.value;
      [c.iterVar, c.iterVar2, c.accuVar].filter(Boolean).forEach((v: string) => bound.add(v));
      [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].forEach((e: any) => scan(e, idents, bound, calls));
      return;
    }
    default: return;
  }
}

/** Parses and plans `text` once; or the reason it cannot be evaluated here. */
function compile(text: string, optionalOldSelf: boolean): Compiled {
  const cacheKey = `${optionalOldSelf}\u0000${text}`;
  let compiled = programs.get(cacheKey);
  if (compiled) return compiled;
  const { parse, plan } = celModule();
  try {
    const parsed = parse(text);
    const idents = new Set<string>();
    const bound = new Set<string>();
    const calls = new Set<string>();
    scan(parsed.expr, idents, bound, calls);
    const free = [...idents].filter(i => !bound.has(i) && i !== 'self');
    const missing = [...calls].filter(c => !isDefinedFunction(c));
    if (free.includes('oldSelf')) {
      compiled = {
        reason: optionalOldSelf
          ? 'transition rule with optionalOldSelf: needs CEL optional values, which this validator does not support'
          : 'transition rule (uses oldSelf): only evaluated on update, not checked here',
      };
    } else if (free.length > 0) {
      compiled = { reason: `unknown identifier(s): ${free.join(', ')}` };
    } else if (missing.length > 0) {
      compiled = { reason: `function(s) not implemented by this validator: ${missing.join(', ')}` };
    } else {
      const program = plan(celEnvironment(), parsed) as unknown as Program;
      compiled = { program };
    }
  } catch (e: any) {
    compiled = { reason: `cannot be parsed: ${String(e?.message ?? e).split('\n')[0]}` };
  }
  programs.set(cacheKey, compiled);
  return compiled;
}

function isEvaluatorLimitation(message: string): boolean {
  return /unbound function|no such overload|no matching overload|unsupported/i.test(message);
}

/** The CEL value of `value` under `schema` (see the file comment). */
export function toCel(schema: any, value: any): unknown {
  if (value === null || value === undefined) return null;
  if (schema?.['x-kubernetes-int-or-string'] === true) {
    return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map(item => toCel(schema?.items, item));
  if (typeof value === 'number') {
    if (schema?.type === 'number') return value;
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (typeof value !== 'object') return value;
  const map = new Map<string, unknown>();
  if (schema?.properties) {
    for (const [name, child] of Object.entries<any>(schema.properties)) {
      const celName = escapePropertyName(name);
      if (name in value && celName !== undefined) map.set(celName, toCel(child, value[name]));
    }
    if (schema['x-kubernetes-preserve-unknown-fields'] === true) {
      for (const [k, v] of Object.entries(value)) if (!(k in schema.properties)) map.set(k, toCel(undefined, v));
    }
  } else {
    const child = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    for (const [k, v] of Object.entries(value)) map.set(k, toCel(child, v));
  }
  return map;
}

const REASON_PREFIX: Record<string, string> = {
  FieldValueForbidden: 'Forbidden: ',
  FieldValueRequired: 'Required value: ',
  FieldValueDuplicate: 'Duplicate value: ',
};

function messageOf(rule: Rule, self: unknown): string {
  if (rule.messageExpression) {
    const compiled = compile(rule.messageExpression, false);
    if ('program' in compiled) {
      const value = compiled.program({ self });
      if (typeof value === 'string' && value.trim() !== '' && !value.includes('\n')) return value;
    }
  }
  return rule.message ?? `failed rule: ${rule.rule}`;
}

function evaluate(rule: Rule, self: unknown, path: string, out: ObjectFindings): void {
  const compiled = compile(rule.rule, rule.optionalOldSelf === true);
  if ('reason' in compiled) {
    out.unchecked.push({ path, rule: rule.rule, reason: compiled.reason });
    return;
  }
  const result = compiled.program({ self });
  const where = rule.fieldPath ? fieldPathToPointer(path, rule.fieldPath) : path;
  const prefix = REASON_PREFIX[rule.reason ?? ''] ?? '';
  if (celModule().isCelError(result)) {
    const error = String((result as Error).message);
    if (isEvaluatorLimitation(error)) {
      out.unchecked.push({ path, rule: rule.rule, reason: `evaluation failed in this validator: ${error}` });
    } else {
      out.violations.push({ path: where, message: `${prefix}${messageOf(rule, self)} (rule evaluation error: ${error})` });
    }
  } else if (result === false) {
    out.violations.push({ path: where, message: `${prefix}${messageOf(rule, self)}` });
  } else if (result !== true) {
    out.unchecked.push({ path, rule: rule.rule, reason: 'does not evaluate to a bool' });
  }
}

/** `x-kubernetes-list-type` set/map uniqueness of one list. */
function checkListType(schema: any, list: any[], path: string, out: ObjectFindings): void {
  const type = schema['x-kubernetes-list-type'];
  const keys: string[] | undefined = schema['x-kubernetes-list-map-keys'];
  if (type !== 'set' && !(type === 'map' && keys?.length)) return;
  const seen = new Set<string>();
  list.forEach((item, index) => {
    const identity = type === 'set' ? item : Object.fromEntries(keys!.map(k => [k, item?.[k]]));
    const text = JSON.stringify(identity);
    if (seen.has(text)) out.violations.push({ path: pointerJoin(path, index), message: `Duplicate value: ${text}` });
    seen.add(text);
  });
}

/** Evaluates every CEL rule of `schema` over `value` (a defaulted object), adding to `out`. */
export function evaluateCelRules(schema: any, value: any, path: string, out: ObjectFindings): void {
  if (!schema || typeof schema !== 'object' || value === undefined || value === null) return;
  const rules: Rule[] | undefined = schema['x-kubernetes-validations'];
  if (rules?.length) {
    const self = toCel(schema, value);
    for (const rule of rules) evaluate(rule, self, path, out);
  }
  if (Array.isArray(value)) {
    if (schema.items) {
      checkListType(schema, value, path, out);
      value.forEach((item, index) => evaluateCelRules(schema.items, item, pointerJoin(path, index), out));
    }
  } else if (typeof value === 'object') {
    if (schema.properties) {
      for (const [name, child] of Object.entries(schema.properties)) {
        if (name in value) evaluateCelRules(child, value[name], pointerJoin(path, name), out);
      }
    } else if (typeof schema.additionalProperties === 'object') {
      for (const [key, child] of Object.entries(value)) evaluateCelRules(schema.additionalProperties, child, pointerJoin(path, key), out);
    }
  }
}
