/** Internal result shapes shared by the validation passes (the public ones are in schema-validation.ts). */

/** A problem inside one object: JSON pointer and message. */
export interface Finding {
  readonly path: string;
  readonly message: string;
}

/** A CEL rule of one object that was not evaluated, with the reason. */
export interface UncheckedFinding {
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** Everything found in one object. */
export interface ObjectFindings {
  readonly violations: Finding[];
  readonly unchecked: UncheckedFinding[];
  readonly notes: Finding[];
}

export function emptyFindings(): ObjectFindings {
  return { violations: [], unchecked: [], notes: [] };
}
