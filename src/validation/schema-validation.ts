import type { validateManifests } from './_validate';

/** One problem found in a manifest. */
export interface SchemaViolation {
  /** The object, as `<kind>/<name>`, e.g. `Deployment/helloworld-v1`. */
  readonly object: string;
  /** JSON pointer to the offending value, e.g. `/spec/template/spec/containers/0/porst` (`''` for the whole object). */
  readonly path: string;
  /** What is wrong, e.g. `unknown field "porst"` or `must be integer`. */
  readonly message: string;
}

/**
 * A CEL validation rule (`x-kubernetes-validations`) of a CRD that was NOT evaluated for an object, so the
 * validator cannot say whether the object passes it (it is never counted as passed).
 */
export interface UncheckedRule {
  /** The object, as `<kind>/<name>`. */
  readonly object: string;
  /** JSON pointer to the node the rule is attached to (`''` for the whole object). */
  readonly path: string;
  /** The rule's CEL expression (or a description, when every rule of the object was skipped). */
  readonly rule: string;
  /**
   * Why it was not evaluated, e.g. `transition rule (uses oldSelf): only evaluated on update, not checked here`,
   * `function(s) not implemented by this validator: isIP`, or `not evaluated because the object has type,
   * required, enum or size errors`.
   */
  readonly reason: string;
}

/** Information about how an object was validated that is not a violation (it does not fail assertValid). */
export interface ValidationNote {
  /** The object, as `<kind>/<name>`. */
  readonly object: string;
  /** JSON pointer the note is about (`''` for the whole object). */
  readonly path: string;
  /**
   * The note, e.g. that an older Istio API version (`networking.istio.io/v1beta1`) was validated with the v1
   * schema, or that an HTTPRoute was validated with the Gateway API experimental channel schema.
   */
  readonly message: string;
}

/** Everything the validator found in a set of manifests. */
export interface ValidationReport {
  /** The violations (what `ManifestSchemas.validate` returns); empty when the manifests are valid. */
  readonly violations: SchemaViolation[];
  /** CEL rules that were not evaluated (what `ManifestSchemas.uncheckedRules` returns). */
  readonly uncheckedRules: UncheckedRule[];
  /** Notes: older API versions, experimental-channel schemas, legacy gateway name formats. */
  readonly notes: ValidationNote[];
}

/** Loaded on first use: ajv, the CEL evaluator, re2js and the schemas are large, and most users never validate. */
function validator(): typeof validateManifests {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./_validate') as typeof import('./_validate')).validateManifests;
}

/**
 * Checks manifests the way the Kubernetes API server and Istio's validating webhook would:
 *
 * - built-in Kubernetes kinds against `kubernetes-models` 4.5 (types, enums, formats; bundled with this package)
 *   plus unknown fields;
 * - Istio 1.30 (DestinationRule, VirtualService, Gateway, PeerAuthentication, AuthorizationPolicy; v1, and the
 *   older v1alpha3/v1beta1 versions with the same schema and a note) and Gateway API 1.6.1 (HTTPRoute,
 *   ReferenceGrant, Gateway; standard channel, or experimental channel when the object uses experimental fields)
 *   against their CRD schemas: defaults, types, enums, formats, unknown fields, list uniqueness and every CEL
 *   (`x-kubernetes-validations`) rule, evaluated with a real CEL implementation;
 * - Istio's semantic checks for VirtualService and DestinationRule (hosts, gateways, RE2 regexes, retryOn,
 *   durations, weights, subset names).
 *
 * CEL rules the evaluator cannot run are listed by `uncheckedRules()`, never counted as passed.
 */
export class ManifestSchemas {
  /** Validate plain manifest objects (as returned by cdk8s Testing.synth / yaml parse); returns all violations, [] when valid. */
  public static validate(manifests: any[]): SchemaViolation[] {
    return validator()(manifests).violations;
  }

  /** The CEL rules that were not evaluated for these manifests (transition rules, unsupported functions, ...). */
  public static uncheckedRules(manifests: any[]): UncheckedRule[] {
    return validator()(manifests).uncheckedRules;
  }

  /** Violations, unchecked CEL rules and notes of these manifests, in one pass. */
  public static report(manifests: any[]): ValidationReport {
    return validator()(manifests);
  }

  /** Same as validate(), but throws one Error listing every violation (one line each: `<object> <path>: <message>`). */
  public static assertValid(manifests: any[]): void {
    const violations = ManifestSchemas.validate(manifests);
    if (violations.length > 0) {
      const lines = violations.map(v => `${v.object} ${v.path}: ${v.message}`);
      throw new Error(`${violations.length} schema violation(s):\n${lines.join('\n')}`);
    }
  }
}
