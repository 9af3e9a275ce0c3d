import { describe } from './_ajv';
import { pointerEscape } from './_pointer';
import { Finding } from './_types';

/**
 * Built-in Kubernetes kinds, checked with the `kubernetes-models` 4.5 classes (types, enums, formats) plus
 * unknown-field strictness, which those classes lack: the fields their validator never read are unknown.
 */

/** Kubernetes kinds checked with `kubernetes-models`, as `<apiVersion>/<kind>` (also the module path inside the package). */
export const KUBERNETES_KINDS = new Set([
  'v1/ConfigMap', 'v1/Namespace', 'v1/Pod', 'v1/Secret', 'v1/Service', 'v1/ServiceAccount',
  'apps/v1/DaemonSet', 'apps/v1/Deployment', 'apps/v1/StatefulSet', 'autoscaling/v2/HorizontalPodAutoscaler',
  'batch/v1/CronJob', 'batch/v1/Job', 'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/Ingress', 'networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
]);

/** The `kubernetes-models` class of `key`, e.g. `Deployment` for `apps/v1/Deployment`. */
function kubernetesModel(key: string): any {
  try {
    // A bundled dependency (package.json): required on first use, as ajv and the schemas are.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`kubernetes-models/${key}`)[key.split('/').pop()!];
  } catch (e: any) {
    if (e?.code !== 'MODULE_NOT_FOUND' && e?.code !== 'ERR_REQUIRE_ESM') throw e;
    // Only an install that dropped the bundled copy gets here (or a newer, ESM-only major found first).
    throw new Error('ManifestSchemas needs the npm package "kubernetes-models" 4.5.x (CommonJS) to validate Kubernetes kinds; '
      + 'cdk8s-mesh-release bundles it, but it was not found: reinstall cdk8s-mesh-release, or '
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
function unknownFields(node: any, path: string, log: WeakMap<object, Access>, out: Finding[]): void {
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

/** Violations of a built-in Kubernetes object whose `<apiVersion>/<kind>` is in KUBERNETES_KINDS. */
export function validateKubernetesObject(key: string, manifest: any): Finding[] {
  const found: Finding[] = [];
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
