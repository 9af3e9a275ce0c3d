import { DNS_1035_LABEL, DNS_1123_LABEL } from '../_conventions';
import { unique } from '../_util';
import { formatValue } from '../_validation';
import type { PlanRolloutSpec } from '../analysis/_spec';

/** Share of the catch-all route's traffic one version receives. */
export interface VersionWeight {
  /** The version. */
  readonly version: string;
  /** Percentage of traffic, an integer between 0 and 100. */
  readonly weight: number;
}

/** How a header route compares the header's value. */
export enum HeaderMatchType {
  /** The header equals the value. */
  EXACT = 'exact',
  /** The header starts with the value. */
  PREFIX = 'prefix',
  /** The header matches the value as an RE2 regular expression. */
  REGEX = 'regex',
}

/**
 * A route that sends requests carrying a header to one version, ahead of the weighted
 * catch-all route (A/B tests, pinning testers to a candidate).
 */
export interface HeaderRoute {
  /** Header name, lowercase, e.g. `x-version`. */
  readonly header: string;
  /** Value to compare the header with. */
  readonly value: string;
  /**
   * How the value is compared.
   * @default HeaderMatchType.EXACT
   */
  readonly matchType?: HeaderMatchType;
  /** Version that receives the matching requests. */
  readonly version: string;
}

/** A copy of live traffic sent to a version, whose responses are discarded. */
export interface TrafficMirror {
  /** Version that receives the copies. */
  readonly version: string;
  /**
   * Percentage of requests copied, between 0 (exclusive) and 100. The routers take multiples of
   * 0.0001 (one request in a million, what Envoy mirrors: Istio drops finer digits).
   * @default 100
   */
  readonly percent?: number;
}

/**
 * Everything a release stage says: which versions run, which are routable, how traffic splits.
 */
export interface ReleaseStageOptions {
  /** Name of the stage, e.g. `shift-10`. */
  readonly name: string;
  /** Versions that have a Deployment in this stage. */
  readonly deployed: string[];
  /**
   * Versions a route may send traffic to in this stage: each has its router's routable object
   * (an Istio DestinationRule subset, a Gateway API Service `<app>-<version>`; a selector switch
   * needs none). A plan makes a version routable one stage before it is routed to, and drops its
   * routable object one stage after it is unrouted.
   * @default - the deployed versions
   */
  readonly routable?: string[];
  /**
   * Weights of the final catch-all route: integers 0–100 summing to 100. A version listed
   * with weight 0 stays in the route (the `shift-100` stage keeps the old version at 0).
   */
  readonly weights: VersionWeight[];
  /**
   * Header routes evaluated before the catch-all route, in order.
   * @default - none
   */
  readonly headerRoutes?: HeaderRoute[];
  /**
   * Mirror a share of the catch-all route's traffic to a version.
   * @default - no mirroring
   */
  readonly mirror?: TrafficMirror;
}

/** Props of `ReleaseStage.custom()`: the stage's contents and, optionally, the stage before it. */
export interface ReleaseStageProps extends ReleaseStageOptions {
  /**
   * The stage applied before this one. When given, the transition from it is checked too
   * (make-before-break); stages from a `ReleasePlan` always have it.
   * @default - only this stage is checked
   */
  readonly previous?: ReleaseStage;
}

/**
 * One stage of a release, router-neutral: which versions run, which are routable, and how
 * traffic splits between them (weights, header routes, a mirror). `MeshRelease` turns it into
 * Deployments and its router's objects.
 *
 * Structural mistakes (weights that don't add up, unknown versions) throw here; whether
 * the stage is safe to apply after its previous one is checked by `SafetyCheck`.
 */
export class ReleaseStage {
  /** A stage with any content: blue/green, A/B by header, three live versions... */
  public static custom(props: ReleaseStageProps): ReleaseStage {
    return new ReleaseStage(props);
  }

  /** One version deployed, routable, with all the traffic. */
  public static stable(version: string, name: string = 'stable'): ReleaseStage {
    return new ReleaseStage({ name, deployed: [version], weights: [{ version, weight: 100 }] });
  }

  /** Name of the stage. */
  public readonly name: string;
  /** Versions with a Deployment. */
  public readonly deployed: string[];
  /** Versions a route may send traffic to (with a routable object: Istio subset, Gateway API Service). */
  public readonly routable: string[];
  /** Weights of the catch-all route. */
  public readonly weights: VersionWeight[];
  /** Header routes ahead of the catch-all route. */
  public readonly headerRoutes: HeaderRoute[];
  /** Mirroring of the catch-all route, if any. */
  public readonly mirror?: TrafficMirror;
  /** The stage applied before this one, if known. */
  public readonly previous?: ReleaseStage;
  private _next?: ReleaseStage;
  private _rollout?: PlanRolloutSpec;

  private constructor(props: ReleaseStageProps) {
    const renamed = (props as unknown as { subsets?: unknown }).subsets;
    if (renamed !== undefined) {
      throw new Error(`ReleaseStage '${props.name}': 'subsets' was renamed 'routable' (README, Changelog), got ${formatValue(renamed)}`);
    }
    this.name = props.name;
    this.deployed = [...props.deployed];
    this.routable = [...(props.routable ?? props.deployed)];
    this.weights = props.weights.map((w) => ({ ...w }));
    this.headerRoutes = (props.headerRoutes ?? []).map((r) => ({ ...r }));
    this.mirror = props.mirror && { ...props.mirror };
    this.previous = props.previous;
    this.validate();
  }

  /** The stage applied after this one, when the stage belongs to a `ReleasePlan`. */
  public get next(): ReleaseStage | undefined {
    return this._next;
  }

  /**
   * Names of the stages of the plan this stage belongs to, in order (following `previous`
   * and `next`); just this stage's name when it stands alone.
   */
  public get planStageNames(): string[] {
    const names = [this.name];
    for (let s = this.previous; s; s = s.previous) {
      names.unshift(s.name);
    }
    for (let s = this.next; s; s = s.next) {
      names.push(s.name);
    }
    return names;
  }

  /** @internal */
  public _setNext(next: ReleaseStage): void {
    this._next = next;
  }

  /**
   * The analysis and pauses of the plan this stage belongs to, which its release carries in its YAML.
   * @internal
   */
  public get _planRollout(): PlanRolloutSpec | undefined {
    return this._rollout;
  }

  /** @internal */
  public _setPlanRollout(rollout: PlanRolloutSpec): void {
    this._rollout = rollout;
  }

  /** The weight of a version in the catch-all route (0 when it is not listed). */
  public weightOf(version: string): number {
    return this.weights.find((w) => w.version === version)?.weight ?? 0;
  }

  /** Every version this stage names: deployed, routable, or routed. */
  public get versions(): string[] {
    return unique([
      ...this.deployed, ...this.routable, ...this.weights.map((w) => w.version),
      ...this.headerRoutes.map((r) => r.version), ...(this.mirror ? [this.mirror.version] : []),
    ]);
  }

  private validate(): void {
    const fail = (field: string, value: unknown, valid: string) =>
      new Error(`ReleaseStage '${this.name}': '${field}' ${valid}, got ${formatValue(value)}`);
    if (typeof this.name !== 'string' || this.name.length > 63 || !DNS_1123_LABEL.test(this.name)) {
      throw fail('name', this.name,
        "must be at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (it names a directory, a CLI argument and a label value)");
    }
    for (const version of this.versions) {
      if (version.length > 63 || !DNS_1035_LABEL.test(version)) {
        throw fail('version', version, 'must be a DNS-1035 label (lowercase letters, digits and \'-\', starting with a letter)');
      }
    }
    for (const [field, list] of [['deployed', this.deployed], ['routable', this.routable], ['weights', this.weights.map((w) => w.version)]] as const) {
      if (unique(list).length !== list.length) {
        throw fail(field, list, 'must name each version once');
      }
    }
    if (this.weights.length === 0) {
      throw fail('weights', this.weights, 'must route the catch-all traffic to at least one version');
    }
    for (const w of this.weights) {
      if (!Number.isInteger(w.weight) || w.weight < 0 || w.weight > 100) {
        throw fail(`weights[${w.version}]`, w.weight, 'must be an integer between 0 and 100');
      }
    }
    const total = this.weights.reduce((sum, w) => sum + w.weight, 0);
    if (total !== 100) {
      throw fail('weights', this.weights.map((w) => `${w.version}=${w.weight}`), `must add up to 100 (they add up to ${total})`);
    }
    for (const route of this.headerRoutes) {
      if (!/^[a-z0-9][-a-z0-9_.]*$/.test(route.header)) {
        throw fail('headerRoutes.header', route.header, 'must be a lowercase HTTP header name, e.g. \'x-version\'');
      }
      if (route.value === '') {
        throw fail(`headerRoutes[${route.header}].value`, route.value, 'must not be empty');
      }
      const matchType = route.matchType ?? HeaderMatchType.EXACT;
      if (!Object.values(HeaderMatchType).includes(matchType)) {
        throw fail(`headerRoutes[${route.header}].matchType`, matchType,
          `must be one of ${Object.values(HeaderMatchType).map((v) => JSON.stringify(v)).join(', ')}`);
      }
      if (matchType === HeaderMatchType.REGEX) {
        checkRe2(route.value, (valid) => fail(`headerRoutes[${route.header}].value`, route.value, valid));
      }
    }
    const routeNames = this.headerRoutes.map((r) => headerRouteName(r));
    const clash = routeNames.find((name, i) => routeNames.indexOf(name) !== i);
    if (clash) {
      throw fail('headerRoutes', clash,
        'must give each route a distinct name (header-<header>-<version>): send one header to one version once,'
        + ' or combine the values in one REGEX route');
    }
    if (this.mirror) {
      const percent = this.mirror.percent ?? 100;
      if (!(percent > 0 && percent <= 100)) {
        throw fail('mirror.percent', percent, 'must be above 0 and at most 100');
      }
      if (this.weightOf(this.mirror.version) > 0) {
        throw fail('mirror.version', this.mirror.version, 'must not also receive weighted traffic from the route it mirrors');
      }
    }
  }
}

/** The name of a header route in the VirtualService (kept in step with routing/istio/_specs.ts). */
function headerRouteName(route: HeaderRoute): string {
  return `header-${route.header}-${route.version}`;
}

/** Longest regular expression Istio accepts in a string match. */
const MAX_REGEX_LENGTH = 1024;

/** Throws `fail(...)` unless `regex` compiles as RE2, the syntax Envoy uses, and fits Istio's limit. */
function checkRe2(regex: string, fail: (valid: string) => Error): void {
  if (regex.length > MAX_REGEX_LENGTH) {
    throw fail(`must be at most ${MAX_REGEX_LENGTH} characters (it is ${regex.length})`);
  }
  // Loaded on first use only: most releases have no REGEX route, and the library keeps its require cost low.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RE2JS } = require('re2js') as typeof import('re2js');
  try {
    RE2JS.compile(regex);
  } catch (e) {
    throw fail(`must be an RE2 regular expression (${(e as Error).message})`);
  }
}
