import type { ErrorObject, ValidateFunction } from 'ajv';
import type Ajv from 'ajv';

/** Loaded on first use: the schemas and ajv are large, and most users of the library never validate. */
function istioSchemas(): Record<string, any> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../imports/istio-schemas').ISTIO_SCHEMAS;
}

/** One problem found in a manifest. */
export interface SchemaViolation {
  /** The object, as `<kind>/<name>`, e.g. `Deployment/helloworld-v1`. */
  readonly object: string;
  /** JSON pointer to the offending value, e.g. `/spec/template/spec/containers/0/porst` (`''` for the whole object). */
  readonly path: string;
  /** What is wrong, e.g. `unknown field "porst"` or `must be integer`. */
  readonly message: string;
}

/** Kubernetes kinds checked with `kubernetes-models`, as `<apiVersion>/<kind>` (also the module path inside the package). */
const KUBERNETES_KINDS = new Set([
  'v1/ConfigMap', 'v1/Namespace', 'v1/Pod', 'v1/Secret', 'v1/Service', 'v1/ServiceAccount',
  'apps/v1/DaemonSet', 'apps/v1/Deployment', 'apps/v1/StatefulSet', 'autoscaling/v2/HorizontalPodAutoscaler',
  'batch/v1/CronJob', 'batch/v1/Job', 'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/Ingress', 'networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
]);

const DNS_1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const FORMAT_MESSAGES: Record<string, string> = {
  'dns1123-subdomain': "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)",
  'dns1123-label': "must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters)",
  'int32': 'must be a 32-bit integer',
};

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
const compiled = new Map<string, ValidateFunction>();

/** The validator of `key` (`names` or an Istio schema key), compiled once. */
function validatorFor(key: string): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const AjvClass: typeof Ajv = require('ajv').default;
    ajv ??= new AjvClass({
      allErrors: true,
      strict: false,
      verbose: true,
      formats: {
        'int32': { type: 'number', validate: (n: number) => !Number.isInteger(n) || (n >= -(2 ** 31) && n < 2 ** 31) },
        'int64': true,
        'double': true,
        'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i,
        'byte': /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
        'dns1123-subdomain': DNS_1123_SUBDOMAIN,
        'dns1123-label': DNS_1123_LABEL,
      },
    });
    const schema = key === 'names' ? NAMES_SCHEMA : structural(istioSchemas()[key], false);
    if (key !== 'names') {
      schema.required = ['apiVersion', 'kind', ...(schema.required ?? [])]; // metadata: see NAMES_SCHEMA
      Object.assign(schema.properties, { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: OBJECT_META });
    }
    fn = ajv.compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

/**
 * A deep copy of a CRD schema that rejects unknown fields the way the API server prunes them: objects with
 * `properties` get `additionalProperties: false` unless they preserve unknown fields. `x-kubernetes-*` keywords
 * are dropped (CEL rules cannot be checked here); int-or-string becomes `type: [integer, string]`.
 */
function structural(node: any, inJunctor: boolean): any {
  if (Array.isArray(node)) return node.map(n => structural(n, inJunctor));
  if (node === null || typeof node !== 'object') return node;
  const out: any = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'description') continue;
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

/** The `kubernetes-models` class of `key`, e.g. `Deployment` for `apps/v1/Deployment`. */
function kubernetesModel(key: string): any {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports, import/no-extraneous-dependencies
    return require(`kubernetes-models/${key}`)[key.split('/').pop()!];
  } catch (e: any) {
    if (e?.code !== 'MODULE_NOT_FOUND' && e?.code !== 'ERR_REQUIRE_ESM') throw e;
    throw new Error('ManifestSchemas needs the npm package "kubernetes-models" 4.5.x (CommonJS) to validate Kubernetes kinds: '
      + `run \`npm install --save-dev kubernetes-models@^4.5\` (${e.message.split('\n')[0]})`);
  }
}

interface Access { readonly read: Set<string>; enumerated: boolean }

/** Wraps `value` (deeply, on demand) so that the keys read and the nodes enumerated are recorded in `log`. */
function track(value: any, log: WeakMap<object, Access>, proxies: WeakMap<object, any>): any {
  if (value === null || typeof value !== 'object') return value;
  let proxy = proxies.get(value);
  if (!proxy) {
    const access: Access = { read: new Set(), enumerated: false };
    log.set(value, access);
    proxy = new Proxy(value, {
      get(target, key, receiver) {
        if (typeof key === 'string') access.read.add(key);
        return track(Reflect.get(target, key, receiver), log, proxies);
      },
      has(target, key) {
        if (typeof key === 'string') access.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        access.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
  }
  return proxy;
}

/**
 * Keys of object nodes the validator looked into (read at least one key) but never read, unless it enumerated
 * the node (a map, such as labels). Nodes it never reached (below an unknown field or a wrong type) are skipped.
 */
function unknownFields(node: any, path: string, log: WeakMap<object, Access>, out: { path: string; message: string }[]): void {
  if (node === null || typeof node !== 'object') return;
  const access = log.get(node);
  if (!access) return;
  for (const key of Object.keys(node)) {
    const child = Array.isArray(node) ? `${path}/${key}` : `${path}/${pointerEscape(key)}`;
    if (!Array.isArray(node) && !access.enumerated && access.read.size > 0 && !access.read.has(key)) {
      out.push({ path: child, message: `unknown field "${key}"` });
    } else {
      unknownFields(node[key], child, log, out);
    }
  }
}

function pointerEscape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Human-readable violations from ajv-style errors, folding the noise of `oneOf`/`not`/`if` into one message. */
function describe(errors: ErrorObject[]): { path: string; message: string }[] {
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

/** Checks manifests against the upstream Kubernetes (kubernetes-models) and Istio (CRD) schemas, unknown fields included. */
export class ManifestSchemas {
  /** Validate plain manifest objects (as returned by cdk8s Testing.synth / yaml parse); returns all violations, [] when valid. */
  public static validate(manifests: any[]): SchemaViolation[] {
    const violations: SchemaViolation[] = [];
    manifests.forEach((manifest, index) => {
      const name = manifest?.metadata?.name ?? manifest?.metadata?.generateName ?? `#${index}`;
      const object = `${manifest?.kind ?? 'Unknown'}/${name}`;
      const found = ManifestSchemas.validateOne(manifest);
      violations.push(...found.map(v => ({ object, ...v })));
    });
    return violations;
  }

  /** Same as validate(), but throws one Error listing every violation (one line each: `<object> <path>: <message>`). */
  public static assertValid(manifests: any[]): void {
    const violations = ManifestSchemas.validate(manifests);
    if (violations.length > 0) {
      const lines = violations.map(v => `${v.object} ${v.path}: ${v.message}`);
      throw new Error(`${violations.length} schema violation(s):\n${lines.join('\n')}`);
    }
  }

  private static validateOne(manifest: any): { path: string; message: string }[] {
    if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)
      || typeof manifest.apiVersion !== 'string' || typeof manifest.kind !== 'string') {
      return [{ path: '', message: 'must be an object with string "apiVersion" and "kind"' }];
    }
    const key = `${manifest.apiVersion}/${manifest.kind}`;
    if (!istioSchemas()[key] && !KUBERNETES_KINDS.has(key)) {
      return [{ path: '', message: `kind "${manifest.kind}" of apiVersion "${manifest.apiVersion}" is not known to the schema validator` }];
    }
    const names = validatorFor('names');
    const found = names(manifest) ? [] : describe(names.errors ?? []);
    if (istioSchemas()[key]) {
      const validate = validatorFor(key);
      return validate(manifest) ? found : [...found, ...describe(validate.errors ?? [])];
    }
    const Model = kubernetesModel(key);
    const model = new Model(manifest);
    const log = new WeakMap<object, Access>();
    try {
      Model.prototype.validate.call(track(model, log, new WeakMap()));
    } catch (e: any) {
      if (!Array.isArray(e?.errors)) throw e;
      found.push(...describe(e.errors));
    }
    unknownFields(model, '', log, found);
    return found;
  }
}
