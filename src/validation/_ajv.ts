import type { ErrorObject, ValidateFunction } from 'ajv';
import type Ajv from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import { DNS_1123_LABEL, DNS_1123_SUBDOMAIN } from '../_conventions';
import { pointerEscape } from './_pointer';
import { Finding } from './_types';

/**
 * OpenAPI v3 validation of custom resources with ajv, the way the API server validates a structural CRD schema:
 * types, enums, formats, required fields, and unknown fields (which the API server prunes or, with strict field
 * validation, rejects). CEL rules (`x-kubernetes-validations`) are evaluated separately (see `_cel-rules.ts`).
 * ajv is loaded on first use.
 */

const FORMAT_MESSAGES: Record<string, string> = {
  'dns1123-subdomain': "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)",
  'dns1123-label': "must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)",
  'int32': 'must be a 32-bit integer',
  'ipv4': 'must be a valid IPv4 address',
  'ipv6': 'must be a valid IPv6 address',
};

/** Go `net.ParseIP` accepts it (no zone), as kube-openapi's `ipv4`/`ipv6` formats require. */
function isIp(text: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return !text.includes('%') && (require('net') as typeof import('net')).isIP(text) !== 0;
}

/** `metadata.name` (or `generateName`) and `namespace` the way the API server checks them, for every kind. */
const NAMES_SCHEMA = {
  type: 'object',
  required: ['metadata'],
  properties: {
    metadata: {
      type: 'object',
      properties: { name: { format: 'dns1123-subdomain' }, namespace: { format: 'dns1123-label' } },
      if: { not: { required: ['generateName'] } },
      then: { required: ['name'] },
    },
  },
};

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } };
const typed = (type: string, names: string[]) => Object.fromEntries(names.map(name => [name, { type }]));
/** ObjectMeta for custom resources (kubernetes-models checks it for the built-in kinds). */
const OBJECT_META = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...typed('string', ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'selfLink', 'creationTimestamp', 'deletionTimestamp']),
    ...typed('integer', ['generation', 'deletionGracePeriodSeconds']),
    ...typed('array', ['finalizers', 'ownerReferences', 'managedFields']),
    labels: STRING_MAP,
    annotations: STRING_MAP,
  },
};

let ajv: Ajv | undefined;

/** ajv's `code.regExp`: a pattern compiled by RE2 (unanchored search, like Go's `MatchString`). */
function re2Engine(): RegExpEngine {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RE2JS } = require('re2js') as typeof import('re2js');
  const engine = (pattern: string) => {
    const re = RE2JS.compile(pattern);
    // ajv keys its cache of patterns on `toString()`.
    return { test: (s: string) => re.matcher(s).find(), toString: () => `/${pattern}/` };
  };
  return Object.assign(engine, { code: 'RE2JS.compile' });
}
const compiled = new Map<string, ValidateFunction>();

function ajvInstance(): Ajv {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const AjvClass: typeof Ajv = require('ajv').default;
  ajv ??= new AjvClass({
    allErrors: true,
    strict: false,
    verbose: true,
    // The schemas are the CRDs' own (and two of ours), not user input: no JSON Schema meta-schema to load and
    // check them against (about 40 ms per process, and per test file).
    meta: false,
    validateSchema: false,
    // ajv's code optimizer (dead-variable removal, constant folding) costs 40% of the compile time of a large CRD
    // schema (DestinationRule, VirtualService, HTTPRoute: ~0.5 s -> ~0.3 s per process) and saves little at run
    // time: a validator runs over a few objects per check. The generated code is otherwise the same.
    // `pattern` is matched with RE2 (re2js), as the API server does (Go's regexp): linear time, where a JavaScript
    // RegExp backtracks exponentially on some CRD patterns (the experimental HTTPRoute header value's
    // `^[!-~]+([\t ]?[!-~]+)*$` took hours on a 40-character value ending in a bad character).
    code: { optimize: false, regExp: re2Engine() },
    formats: {
      'int32': { type: 'number', validate: (n: number) => !Number.isInteger(n) || (n >= -(2 ** 31) && n < 2 ** 31) },
      'int64': true,
      'double': true,
      'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i,
      'byte': /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
      'dns1123-subdomain': DNS_1123_SUBDOMAIN,
      'dns1123-label': DNS_1123_LABEL,
      'ipv4': (s: string) => isIp(s) && s.includes('.'),
      'ipv6': (s: string) => isIp(s) && s.includes(':'),
    },
  });
  return ajv;
}

/** The validator of metadata names, compiled once. */
export function namesValidator(): ValidateFunction {
  let fn = compiled.get('names');
  if (!fn) {
    fn = ajvInstance().compile(NAMES_SCHEMA);
    compiled.set('names', fn);
  }
  return fn;
}

/** The validator of a CRD `openAPIV3Schema` (cached under `cacheKey`), with ObjectMeta checked as well. */
export function crdValidator(cacheKey: string, crdSchema: () => any): ValidateFunction {
  let fn = compiled.get(cacheKey);
  if (!fn) {
    const schema = structural(crdSchema(), false);
    schema.required = ['apiVersion', 'kind', ...(schema.required ?? [])]; // metadata: see NAMES_SCHEMA
    schema.properties = { ...schema.properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: OBJECT_META };
    fn = ajvInstance().compile(schema);
    compiled.set(cacheKey, fn);
  }
  return fn;
}

/**
 * A deep copy of a CRD schema that rejects unknown fields the way the API server prunes them: objects with
 * `properties` get `additionalProperties: false` unless they preserve unknown fields. `x-kubernetes-*` keywords
 * are dropped (CEL rules are evaluated by `_cel-rules.ts`); int-or-string becomes `type: [integer, string]`.
 */
function structural(node: any, inJunctor: boolean): any {
  if (Array.isArray(node)) return node.map(n => structural(n, inJunctor));
  if (node === null || typeof node !== 'object') return node;
  const out: any = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'description' || key === 'default') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, structural(v, inJunctor)]));
    } else {
      out[key] = structural(value, inJunctor || ['allOf', 'anyOf', 'oneOf', 'not'].includes(key));
    }
  }
  if (node['x-kubernetes-int-or-string'] === true) {
    delete out.anyOf;
    out.type = ['integer', 'string'];
  }
  if (out.properties && out.additionalProperties === undefined && !inJunctor && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * Errors after which the API server does not evaluate CEL rules ("some validation rules were not checked because
 * the object was invalid"): wrong types, missing required fields, values outside an enum, too long/too many.
 */
export function hasBlockingError(errors: ErrorObject[]): boolean {
  return errors.some(e => ['type', 'required', 'enum', 'maxLength', 'maxItems', 'maxProperties'].includes(e.keyword));
}

/** Human-readable violations from ajv-style errors, folding the noise of `oneOf`/`not`/`if` into one message. */
export function describe(errors: ErrorObject[]): Finding[] {
  const composites = errors.filter(e => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const partOf = (e: ErrorObject, c: ErrorObject) => e !== c && e.instancePath === c.instancePath
    && (e.schemaPath.startsWith(`${c.schemaPath}/`) || e.keyword === 'type');
  return errors.filter(e => e.keyword !== 'not' && e.keyword !== 'if' && !composites.some(c => partOf(e, c))).map(e => {
    const p = e.params as any;
    switch (e.keyword) {
      case 'additionalProperties':
        return { path: `${e.instancePath}/${pointerEscape(p.additionalProperty)}`, message: `unknown field "${p.additionalProperty}"` };
      case 'required': return { path: e.instancePath, message: `missing required field "${p.missingProperty}"` };
      case 'enum': return { path: e.instancePath, message: `must be one of: ${p.allowedValues.join(', ')}` };
      case 'type': return { path: e.instancePath, message: `must be ${[p.type].flat().join(' or ')}` };
      case 'format': return { path: e.instancePath, message: FORMAT_MESSAGES[p.format] ?? `must be a valid ${p.format}` };
      case 'oneOf':
      case 'anyOf': {
        const exclusive = Array.isArray(e.schema) ? e.schema.flatMap((s: any) => s.required ?? []) : [];
        const types = errors.filter(x => x.keyword === 'type' && partOf(x, e)).map(x => (x.params as any).type);
        const message = Array.isArray(p.passingSchemas) && exclusive.length > 0 ? `must set at most one of: ${exclusive.join(', ')}`
          : types.length > 0 ? `must be ${types.join(' or ')}` : 'must match exactly one of the allowed forms';
        return { path: e.instancePath, message };
      }
      default: return { path: e.instancePath, message: e.message ?? `fails ${e.keyword}` };
    }
  });
}
