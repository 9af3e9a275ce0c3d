/**
 * The synth-time check of a release: the objects are checked as cdk8s renders them for the
 * output, from the very JSON that is written, so user patches, label and annotation changes and
 * late `Lazy` values count, and nothing is rendered twice for it.
 *
 * How: a construct validation of the release arms the check (cdk8s runs every validation before it
 * renders a chart: `App.synth()`, `App.synthYaml()` and `Chart.toJson()`, hence `Testing.synth()`).
 * Each object of the release reports what its `toJson()` returned; once all of them have, the set
 * is checked and an unsafe one throws, in the format of cdk8s's validation errors, before the
 * caller gets the objects. A set equal to the one already found safe (the objects as the release
 * emitted them at construction, or at the last synth) is not checked again: the check is a
 * function of the JSON. Unarmed (a bare `ApiObject.toJson()`, or after the synchronous synth
 * pass), rendering checks nothing; the library's own renders (`violations()`, `warnings`) never complete
 * a check. One edge: when a synth stops on another construct's validation error, the check it armed lasts
 * until the end of that synchronous pass, so rendering all of the release's objects by hand in the same pass
 * runs it.
 */
import { ApiObject } from 'cdk8s';
import { SafetyViolation } from './safety-rule';

const WATCHED = Symbol.for('cdk8s-mesh-release.render-check');

interface Pending {
  readonly objects: readonly ApiObject[];
  readonly json: Map<ApiObject, any>;
}

export class RenderCheck {
  private pending?: Pending;
  /**
   * The JSON text of the manifests last found safe: cdk8s renders keys in a fixed order, so equal text is equal
   * objects (and text that differs only in order is checked again, never skipped). Text keeps less in memory
   * than the objects, for apps of thousands of releases.
   */
  private safe?: string;

  /**
   * @param path the construct path of the release, for errors
   * @param check the violations of a release's manifests (in the order of the objects given to `arm`)
   * @param describe the lines of an error, one per violation
   * @param safe the manifests already found safe, if any
   * @param found called with the manifests rendered, once checked
   */
  constructor(
    private readonly path: string,
    private readonly check: (manifests: any[]) => SafetyViolation[],
    private readonly describe: (errors: SafetyViolation[]) => string[],
    safe: any[] | undefined,
    private readonly found?: (manifests: any[], violations: SafetyViolation[]) => void,
  ) {
    this.safe = safe && JSON.stringify(safe);
  }

  /**
   * Checks `manifests` now (for a validation: cdk8s then prefixes each line with the path), with the same skip
   * of a set already found safe. Returns the errors' lines.
   */
  public checkNow(manifests: any[]): string[] {
    const text = JSON.stringify(manifests);
    if (text === this.safe) {
      return [];
    }
    const violations = this.check(manifests);
    const errors = violations.filter((v) => v.severity === 'error');
    if (errors.length > 0) {
      return this.describe(errors);
    }
    this.safe = text;
    this.found?.(manifests, violations);
    return [];
  }

  /** Checks the next rendering of these objects (all of them), within the current synchronous pass. */
  public arm(objects: readonly ApiObject[]): void {
    for (const o of objects) {
      watch(o);
      CHECK_OF.set(o, this);
    }
    this.pending = { objects, json: new Map() };
    disarmLater(this);
  }

  /** Forgets an armed check that was not completed (the synth stopped, or rendered some objects only). */
  public disarm(): void {
    this.pending = undefined;
  }

  /** @internal called by a watched object with what its `toJson()` returned */
  public _rendered(o: ApiObject, json: any): void {
    const pending = this.pending;
    if (!pending || !pending.objects.includes(o)) {
      return;
    }
    pending.json.set(o, json);
    if (pending.json.size < pending.objects.length) {
      return;
    }
    this.pending = undefined;
    const errors = this.checkNow(pending.objects.map((x) => pending.json.get(x)));
    if (errors.length > 0) {
      throw new Error(`Validation failed with the following errors:\n  ${errors.map((e) => `[${this.path}] ${e}`).join('\n  ')}`);
    }
  }
}

/** The check each object reports to (an object belongs to one release). */
const CHECK_OF = new WeakMap<ApiObject, RenderCheck>();

function watch(o: ApiObject): void {
  if ((o as any)[WATCHED]) {
    return;
  }
  const render: () => any = o.toJson;
  Object.defineProperty(o, WATCHED, { value: true });
  Object.defineProperty(o, 'toJson', {
    configurable: true,
    writable: true,
    value: function toJson(this: ApiObject): any {
      const json = render.call(this);
      if (quiet === 0) {
        CHECK_OF.get(this)?._rendered(this, json);
      }
      return json;
    },
  });
}

let quiet = 0;

/** Renders (calls `toJson()`) without completing an armed check: the library's own renders are not a synth. */
export function renderQuietly<T>(render: () => T): T {
  quiet++;
  try {
    return render();
  } finally {
    quiet--;
  }
}

let armed: RenderCheck[] | undefined;

/** Armed checks last for the synchronous pass that armed them (cdk8s validates, then renders, without yielding). */
function disarmLater(check: RenderCheck): void {
  if (!armed) {
    const batch: RenderCheck[] = [];
    armed = batch;
    queueMicrotask(() => {
      armed = undefined;
      batch.forEach((c) => c.disarm());
    });
  }
  armed.push(check);
}
