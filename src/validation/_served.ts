/**
 * An object as the API server would keep it, given its schema findings. A structural CRD schema (or a built-in
 * kind) drops the fields it does not know and serves the rest unless the client asks for strict field validation:
 * the server's default `fieldValidation` is `Warn` (dropped, with a warning), which controllers, GitOps tools and
 * `kubectl apply --validate=warn|false` get; `kubectl apply`'s own default, `--validate=strict`, refuses the object
 * instead. Either way the fields never reach the mesh, so the safety rules read the object without them. Any other
 * finding (a type, a required field, an enum, a CEL rule, Istio's validating webhook) makes the server refuse it.
 * @see https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning
 * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
 */
import { Finding } from './_types';

const UNKNOWN_FIELD = /^unknown field "/;

/** How the server would take an object: served as written, served without its unknown fields, or refused. */
export type Served =
  | { readonly as: 'written'; readonly object: any }
  | { readonly as: 'pruned'; readonly object: any; readonly pruned: string[] }
  | { readonly as: 'refused' };

/** The object as the API server would keep it, given its findings (JSON pointers, as the validator reports them). */
export function servedObject(manifest: any, findings: readonly Finding[]): Served {
  if (findings.length === 0) {
    return { as: 'written', object: manifest };
  }
  if (!findings.every((f) => UNKNOWN_FIELD.test(f.message) && f.path !== '')) {
    return { as: 'refused' };
  }
  const object = JSON.parse(JSON.stringify(manifest));
  for (const f of findings) {
    const tokens = f.path.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const parent = tokens.slice(0, -1).reduce((node: any, t) => (node === null || typeof node !== 'object' ? undefined : node[t]), object);
    if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) {
      delete parent[tokens[tokens.length - 1]];
    }
  }
  return { as: 'pruned', object, pruned: findings.map((f) => f.path) };
}
