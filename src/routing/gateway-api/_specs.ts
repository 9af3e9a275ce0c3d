/**
 * The Gateway API objects of a stage, as pure functions of the stage and the release: one
 * Service per routable version and an HTTPRoute (header rules, then the weighted catch-all).
 */
import { Labels, versionedName, versionLabels } from '../../_conventions';
import {
  HttpRouteSpec, HttpRouteSpecParentRefs, HttpRouteSpecRules, HttpRouteSpecRulesFiltersType, HttpRouteSpecRulesMatchesHeaders,
  HttpRouteSpecRulesMatchesHeadersType, HttpRouteSpecRulesMatchesPathType,
} from '../../imports/gateway.networking.k8s.io';
import { HeaderMatchType, HeaderRoute, ReleaseStage, TrafficMirror } from '../../plan/release-stage';

/** What the Gateway API objects of a stage need besides the stage itself. */
export interface GatewayRoutingContext {
  readonly app: string;
  readonly port: number;
  /** Where the route attaches: the version-free Service (GAMMA) or Gateways. */
  readonly parentRefs: HttpRouteSpecParentRefs[];
  /** Hostnames matched on Gateways. */
  readonly hostnames?: string[];
  /** `timeouts.request` of every rule, a Gateway API duration. */
  readonly requestTimeout: string;
  /** `timeouts.backendRequest` of every rule (the per-try timeout, with retries only). */
  readonly backendRequestTimeout?: string;
}

/** The GAMMA parent: the version-free Service of the app (core group, kind Service). */
export function serviceParent(app: string): HttpRouteSpecParentRefs {
  return { group: '', kind: 'Service', name: app };
}

/** The name of a version's Service: `<app>-<version>`, like its Deployment. */
export function versionServiceName(app: string, version: string): string {
  return versionedName(app, version);
}

/** The selector of a version's Service: `app` and `version`. */
export function versionServiceSelector(app: string, version: string): Labels {
  return versionLabels(app, version);
}

/**
 * The match of every request: the path prefix `/`, which the API server writes in a rule without matches and in
 * a match without a path (the CRD's defaults).
 */
const EVERY_PATH = { type: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value: '/' };

/**
 * The HTTPRoute spec of a stage: one rule per header route (Gateway API ranks a rule with a
 * header match above one without, whatever their order), then the catch-all rule (the path
 * prefix `/`) with the weighted backendRefs and the mirror.
 *
 * Written as the API server stores it: with the defaults of the HTTPRoute CRD (a match's path `/`, a backendRef's
 * group `''`, kind `Service` and weight 1; /work/shared/gateway-api/standard-install.yaml, Gateway API 1.6.1). They
 * are inside lists, which an apply replaces whole (a merge patch): a route emitted without them reads back different
 * from the server, and `kubectl apply` sends every rule again at every apply.
 */
export function httpRouteSpec(stage: ReleaseStage, ctx: GatewayRoutingContext): HttpRouteSpec {
  const backendRef = (version: string) => ({ group: '', kind: 'Service', name: versionServiceName(ctx.app, version), port: ctx.port });
  const timeouts = { request: ctx.requestTimeout, backendRequest: ctx.backendRequestTimeout };
  const headerRules: HttpRouteSpecRules[] = stage.headerRoutes.map((route, index) => ({
    name: `header-${index}`,
    matches: [{ path: EVERY_PATH, headers: [headerMatch(route)] }],
    backendRefs: [{ ...backendRef(route.version), weight: 1 }],
    timeouts,
  }));
  const weighted: HttpRouteSpecRules = {
    name: 'weighted',
    matches: [{ path: EVERY_PATH }],
    backendRefs: stage.weights.map((w) => ({ ...backendRef(w.version), weight: w.weight })),
    filters: stage.mirror && [{
      type: HttpRouteSpecRulesFiltersType.REQUEST_MIRROR,
      requestMirror: { backendRef: backendRef(stage.mirror.version), ...mirrorShare(stage.mirror) },
    }],
    timeouts,
  };
  return {
    parentRefs: ctx.parentRefs,
    hostnames: ctx.hostnames,
    rules: [...headerRules, weighted],
  };
}

/**
 * A header route as a Gateway API header match: `Exact`, or `RegularExpression` for a prefix
 * (`^<escaped value>.*`) and a regex (as written; the dialect is the implementation's: RE2 for
 * Envoy-based ones).
 */
export function headerMatch(route: HeaderRoute): HttpRouteSpecRulesMatchesHeaders {
  switch (route.matchType ?? HeaderMatchType.EXACT) {
    case HeaderMatchType.EXACT:
      return { type: HttpRouteSpecRulesMatchesHeadersType.EXACT, name: route.header, value: route.value };
    case HeaderMatchType.PREFIX:
      return { type: HttpRouteSpecRulesMatchesHeadersType.REGULAR_EXPRESSION, name: route.header, value: `^${escapeRegex(route.value)}.*` };
    default:
      return { type: HttpRouteSpecRulesMatchesHeadersType.REGULAR_EXPRESSION, name: route.header, value: route.value };
  }
}

/**
 * The share of a mirror: `percent` when whole, else an exact `fraction` (Gateway API percentages are integers). The
 * routers refuse a share finer than 0.0001 (`routing/_mirror-share.ts`): at most 4 decimals, a denominator of at
 * most 10^6.
 */
export function mirrorShare(mirror: TrafficMirror): { percent?: number; fraction?: { numerator: number; denominator: number } } {
  const percent = mirror.percent ?? 100;
  if (Number.isInteger(percent)) {
    return { percent };
  }
  const decimals = Math.min(4, (String(percent).split('.')[1] ?? '').length);
  const denominator = 100 * 10 ** decimals;
  return { fraction: { numerator: Math.round(percent * 10 ** decimals), denominator } };
}

/** Envoy retry conditions (`retries.retryOn`) and the HTTP status codes they stand for in an HTTPRoute `retry`. */
export const RETRY_ON_CODES: { [condition: string]: number[] } = {
  'gateway-error': [502, 503, 504],
  '5xx': Array.from({ length: 100 }, (_, i) => 500 + i),
  'retriable-4xx': [409],
  // Connection errors: retried whenever `attempts` is set (GEP-1731), no status code.
  'connect-failure': [],
  'refused-stream': [],
  'reset': [],
};

/**
 * The experimental `retry` of an HTTPRoute rule (Gateway API 1.6 experimental channel), or
 * undefined without retries (`attempts` 0).
 */
export function experimentalRetry(attempts: number, retryOn: string | undefined): { attempts: number; codes?: number[] } | undefined {
  if (attempts === 0) {
    return undefined;
  }
  const codes = [...new Set((retryOn ?? '').split(',').filter((c) => c !== '').flatMap((c) => RETRY_ON_CODES[c] ?? []))].sort((a, b) => a - b);
  // No `codes` key at all without codes: an undefined value is written as `codes: null` in the YAML, which the
  // experimental CRD refuses (`retry.codes ... must be of type array`).
  return codes.length > 0 ? { attempts, codes } : { attempts };
}

/**
 * A Gateway API duration (GEP-2257: up to four `<1-5 digits><h|m|s|ms>` parts) of whole
 * milliseconds, e.g. `10s`, `1m30s`, `1500ms`; undefined when it does not fit (99999h or more).
 */
export function gatewayDuration(ms: number): string | undefined {
  const parts: Array<[number, string]> = [
    [Math.floor(ms / 3_600_000), 'h'], [Math.floor(ms / 60_000) % 60, 'm'], [Math.floor(ms / 1000) % 60, 's'], [ms % 1000, 'ms'],
  ];
  if (parts[0][0] > 99999) {
    return undefined;
  }
  const text = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join('');
  return text === '' ? '0s' : text;
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
