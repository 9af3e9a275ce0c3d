import type { ErrorObject } from 'ajv';
import { crdValidator, describe, hasBlockingError, namesValidator } from './_ajv';
import { evaluateCelRules } from './_cel-rules';
import { CrdSchema, crdSchemaOf, experimentalSchemaOf, OLDER_ISTIO_VERSIONS } from './_crd-schemas';
import { withDefaults } from './_defaults';
import { cachedFindings } from './_findings-cache';
import { istioSemanticFindings } from './_istio-semantics';
import { KUBERNETES_KINDS, validateKubernetesObject } from './_kubernetes-models';
import { pointerEscape } from './_pointer';
import { emptyFindings, ObjectFindings } from './_types';

/**
 * The validator as a plain function of manifest objects (no cdk8s, cdk8s-plus or constructs involved), for the
 * CLI and for `ManifestSchemas`. Per object:
 *
 * 1. metadata names (DNS-1123) for every kind;
 * 2. built-in Kubernetes kinds: `kubernetes-models` + unknown fields (`_kubernetes-models.ts`);
 * 3. Istio and Gateway API kinds: CRD defaulting (`_defaults.ts`), OpenAPI schema with unknown fields
 *    (`_ajv.ts`), then, unless the schema found type/required/enum/size errors (the API server skips CEL rules
 *    then too, and so do we: reported as not checked), every `x-kubernetes-validations` CEL rule
 *    (`_cel-rules.ts`);
 * 4. VirtualService and DestinationRule: Istio's own semantic checks (`_istio-semantics.ts`).
 *
 * Older Istio versions (networking.istio.io v1alpha3/v1beta1, security.istio.io v1beta1) use the v1 schema and
 * get a note, not a violation: Istio 1.30 still serves them, with the same schema, so the API server accepts them.
 * An HTTPRoute (or other Gateway API kind) with fields only the experimental channel defines (e.g. `retry`) is
 * validated with the experimental-channel schema; a note says so and its violations name that schema.
 */

/** A problem found in one object. */
export interface Violation {
  readonly object: string;
  readonly path: string;
  readonly message: string;
}

/** A CEL rule of one object that was not evaluated. */
export interface Unchecked {
  readonly object: string;
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** What validateManifests found. */
export interface Validation {
  readonly violations: Violation[];
  readonly uncheckedRules: Unchecked[];
  readonly notes: Violation[];
}

const EXPERIMENTAL_SUFFIX = ' (Gateway API experimental channel schema)';

function unknownFieldPaths(errors: ErrorObject[]): Set<string> {
  return new Set(errors.filter(e => e.keyword === 'additionalProperties')
    .map(e => `${e.instancePath}/${pointerEscape((e.params as any).additionalProperty)}`));
}

function runSchema(crd: CrdSchema, manifest: any): { defaulted: any; errors: ErrorObject[] } {
  const defaulted = withDefaults(crd.schema, manifest);
  const validate = crdValidator(`${crd.source}:${crd.key}`, () => crd.schema);
  return { defaulted, errors: validate(defaulted) ? [] : [...(validate.errors ?? [])] };
}

function validateCustomResource(crd: CrdSchema, manifest: any, out: ObjectFindings): void {
  const older = OLDER_ISTIO_VERSIONS[manifest.apiVersion];
  if (older) {
    out.notes.push({
      path: '/apiVersion',
      message: `${manifest.apiVersion} is an older API version: validated with the ${older} ${manifest.kind} schema, which Istio serves `
        + `with the same schema; prefer ${older}`,
    });
  }
  let chosen = crd;
  let { defaulted, errors } = runSchema(crd, manifest);
  const unknownStandard = unknownFieldPaths(errors);
  const experimental = crd.source === 'gateway-api' && unknownStandard.size > 0 ? experimentalSchemaOf(crd.key) : undefined;
  if (experimental) {
    const run = runSchema(experimental, manifest);
    const unknownExperimental = unknownFieldPaths(run.errors);
    if (unknownExperimental.size < unknownStandard.size && [...unknownExperimental].every(p => unknownStandard.has(p))) {
      const fields = [...unknownStandard].filter(p => !unknownExperimental.has(p));
      out.notes.push({
        path: '',
        message: `validated with the Gateway API experimental channel schema, because it uses experimental field(s) ${fields.join(', ')}: `
          + 'the cluster needs the experimental-channel CRDs',
      });
      chosen = experimental;
      ({ defaulted, errors } = run);
    }
  }
  const suffix = chosen.source === 'gateway-api-experimental' ? EXPERIMENTAL_SUFFIX : '';
  const before = out.violations.length;
  out.violations.push(...describe(errors));
  if (hasBlockingError(errors)) {
    out.unchecked.push({
      path: '',
      rule: '(every x-kubernetes-validations rule of the object)',
      reason: 'not evaluated because the object has type, required, enum or size errors (the API server skips CEL rules then too)',
    });
  } else {
    evaluateCelRules(chosen.schema, defaulted, '', out);
  }
  if (suffix) {
    out.violations.splice(before, out.violations.length - before,
      ...out.violations.slice(before).map(v => ({ ...v, message: `${v.message}${suffix}` })));
  }
  if (manifest.apiVersion.startsWith('networking.istio.io/')) {
    const flagged = new Set(out.violations.map(v => v.path));
    for (const finding of istioSemanticFindings(manifest.kind, manifest)) {
      if (finding.warning) out.notes.push({ path: finding.path, message: finding.message });
      else if (!(finding.duration && flagged.has(finding.path))) out.violations.push({ path: finding.path, message: finding.message });
    }
  }
}

/** Findings of one manifest object. */
export function validateObject(manifest: any): ObjectFindings {
  const out = emptyFindings();
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)
    || typeof manifest.apiVersion !== 'string' || typeof manifest.kind !== 'string') {
    out.violations.push({ path: '', message: 'must be an object with string "apiVersion" and "kind"' });
    return out;
  }
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const crd = crdSchemaOf(manifest.apiVersion, manifest.kind);
  if (!crd && !KUBERNETES_KINDS.has(key)) {
    out.violations.push({ path: '', message: `kind "${manifest.kind}" of apiVersion "${manifest.apiVersion}" is not known to the schema validator` });
    return out;
  }
  const names = namesValidator();
  if (!names(manifest)) out.violations.push(...describe(names.errors ?? []));
  if (crd) validateCustomResource(crd, manifest, out);
  else out.violations.push(...validateKubernetesObject(key, manifest));
  return out;
}

/** Validates plain manifest objects (parsed YAML or cdk8s `Testing.synth` output). */
export function validateManifests(objects: readonly unknown[]): Validation {
  const result: Validation = { violations: [], uncheckedRules: [], notes: [] };
  objects.forEach((manifest: any, index) => {
    const name = manifest?.metadata?.name ?? manifest?.metadata?.generateName ?? `#${index}`;
    const object = `${manifest?.kind ?? 'Unknown'}/${name}`;
    const found = cachedFindings(manifest, validateObject);
    result.violations.push(...found.violations.map(v => ({ object, ...v })));
    result.uncheckedRules.push(...found.unchecked.map(u => ({ object, ...u })));
    result.notes.push(...found.notes.map(n => ({ object, ...n })));
  });
  return result;
}
