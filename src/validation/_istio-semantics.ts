import { parseGoDuration } from './_go-duration';
import { gatewayNameProblems, hostsOverlap, isDns1123Label, isIpAddress, wildcardDomainError } from './_istio-names';
import { pointerJoin } from './_pointer';
import { re2SyntaxError } from './_re2';
import { Finding } from './_types';

/**
 * The checks Istio's validating webhook (istiod) makes beyond the CRD schema, for the VirtualService and
 * DestinationRule fields this library emits. Ported from istio/istio `pkg/config/validation/validation.go`
 * (`ValidateVirtualService`, `validateHTTPRouteDestinations`, `validateDestination`, `validateSubsetName`,
 * `validateHTTPRetry`, `validateStringMatchRegexp`/`validateStringRegexp`, `validateGatewayNames`,
 * `ValidateDestinationRule`), `pkg/config/validation/virtualservice.go` (`validateHTTPRoute`,
 * `validateHTTPRouteMatchRequest`, `validateHTTPRouteConflict`) and `pkg/config/validation/agent`
 * (`ValidateDuration`, `ValidateWildcardDomain`, `ValidatePort`). Messages are Istio's.
 *
 * VirtualService: `hosts` present (deviation: Istio accepts a VirtualService without hosts as a delegate; this
 * library never emits delegates, so an empty list is reported), each a valid (wildcard) domain or an IP, `*` not
 * allowed when bound to the mesh (no `gateways`, or `mesh` among them), no overlapping duplicates; `gateways`
 * (top level and in matches) `<namespace>/<name>` with both parts DNS-1123 labels, or a bare FQDN such as `mesh`
 * (the legacy `<name>.<namespace>` form gets a note); at least one of http/tcp/tls; per HTTP route: a route,
 * redirect, directResponse or delegate; RE2-valid regexes of at most 1024 characters in match
 * `headers`/`uri`/`scheme`/`method`/`authority`/`queryParams` and `rewrite.uriRegexRewrite.match`; `retries`
 * (`attempts` ≥ 0, nothing else set when attempts is 0, `retryOn` conditions, `perTryTimeout`/`backoff`
 * durations); `timeout`, `corsPolicy.maxAge` and fault `fixedDelay` durations; `mirror`/`mirrors` destinations
 * and percentages in [0, 100]; route destinations (host not `*` and a valid domain, subset a DNS-1123 label,
 * port 1-65535), weights ≥ 0 and not all 0 when there are several (Istio no longer requires a sum of 100).
 *
 * DestinationRule: `host` a valid (wildcard) domain; subset names non-empty DNS-1123 labels and unique.
 *
 * Durations (Istio `ValidateDuration`): Go duration syntax, ≥ 1ms and whole milliseconds. Go's int64
 * nanoseconds (about 292 years) are inside the protobuf Duration range, so parseable means in range.
 */

/** Envoy retry conditions Istio accepts in `retries.retryOn` (`supportedRetryOnPolicies` in validation.go). */
export const RETRY_ON_POLICIES = new Set([
  // x-envoy-retry-on
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  // x-envoy-retry-grpc-on
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/**
 * HTTP status codes Go's `http.StatusText` knows: Istio also accepts a retryOn entry that `strconv.Atoi` turns
 * into one of these (e.g. `503`).
 */
const HTTP_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423,
  424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** A finding; `duration` ones may repeat what the CRD's CEL rule already reported at the same path. */
export interface SemanticFinding extends Finding {
  readonly duration?: boolean;
  readonly warning?: boolean;
}

const isObject = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** Istio `ValidateDuration` of a duration string: the error, or undefined. */
export function istioDurationError(value: string): string | undefined {
  let nanos: bigint;
  try {
    nanos = parseGoDuration(value);
  } catch (e: any) {
    return `invalid duration: ${e.message}`;
  }
  if (nanos < 1_000_000n) return 'duration must be greater than 1ms';
  if (nanos % 1_000_000n !== 0n) return 'only durations to ms precision are supported';
  return undefined;
}

/** Istio `validateStringRegexp`: the error, or undefined. */
export function regexError(re: string): string | undefined {
  if (re === '') return 'regex string match should not be empty';
  if (re.length > 1024) return 'regex is too large, max length allowed is 1024';
  const syntax = re2SyntaxError(re);
  return syntax ? `${syntax}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)` : undefined;
}

/** Istio's retryOn check: the invalid conditions of a comma-separated list (no trimming, as in Istio). */
export function invalidRetryOn(retryOn: string): string[] {
  return retryOn.split(',').filter(policy => {
    const code = /^[+-]?\d+$/.test(policy) ? Number(policy) : 0;
    return !HTTP_STATUS_CODES.has(code) && !RETRY_ON_POLICIES.has(policy);
  });
}

class Collector {
  public readonly findings: SemanticFinding[] = [];
  add(path: string, message: string | undefined, extra: { duration?: boolean; warning?: boolean } = {}): void {
    if (message) this.findings.push({ path, message, ...extra });
  }
  duration(path: string, value: unknown): void {
    if (typeof value === 'string') this.add(path, istioDurationError(value), { duration: true });
  }
  stringMatch(path: string, match: unknown): void {
    if (isObject(match) && typeof match.regex === 'string') this.add(pointerJoin(path, 'regex'), regexError(match.regex));
  }
  gatewayNames(path: string, names: unknown): void {
    list(names).forEach((name, i) => {
      if (typeof name !== 'string') return;
      const { errors, warnings } = gatewayNameProblems(name);
      errors.forEach(e => this.add(pointerJoin(path, i), e));
      warnings.forEach(w => this.add(pointerJoin(path, i), w, { warning: true }));
    });
  }
  destination(path: string, destination: unknown): void {
    if (!isObject(destination)) return;
    if (typeof destination.host === 'string') {
      this.add(pointerJoin(path, 'host'), destination.host === '*'
        ? `invalid destination host ${destination.host}` : wildcardDomainError(destination.host));
    }
    if (typeof destination.subset === 'string' && destination.subset !== '') {
      this.add(pointerJoin(path, 'subset'), subsetNameError(destination.subset));
    }
    const port = destination.port?.number;
    if (isObject(destination.port) && (typeof port !== 'number' || port < 1 || port > 65535)) {
      this.add(pointerJoin(path, 'port', 'number'), `port number ${port ?? 0} must be in the range 1..65535`);
    }
  }
  percentage(path: string, value: unknown, name: string): void {
    if (typeof value !== 'number') return;
    if (value > 100) this.add(path, `${name} must have a max value of 100 (it has ${value.toFixed(6)})`);
    if (value < 0) this.add(path, `${name} must have a min value of 0 (it has ${value.toFixed(6)})`);
  }
}

function subsetNameError(name: string): string | undefined {
  if (name.length === 0) return 'subset name cannot be empty';
  return isDns1123Label(name) ? undefined : `subset name is invalid: ${name}`;
}

function httpRoute(c: Collector, path: string, http: Record<string, any>): void {
  if (!list(http.route).length && !http.redirect && !http.directResponse && !http.delegate) {
    c.add(path, 'HTTP route or redirect is required');
  }
  list(http.match).forEach((match, m) => {
    if (!isObject(match)) return;
    const at = pointerJoin(path, 'match', m);
    for (const field of ['headers', 'queryParams']) {
      if (isObject(match[field])) {
        for (const [name, value] of Object.entries(match[field])) c.stringMatch(pointerJoin(at, field, name), value);
      }
    }
    for (const field of ['uri', 'scheme', 'method', 'authority']) c.stringMatch(pointerJoin(at, field), match[field]);
    c.gatewayNames(pointerJoin(at, 'gateways'), match.gateways);
  });
  const regexRewrite = http.rewrite?.uriRegexRewrite?.match;
  if (typeof regexRewrite === 'string') c.add(pointerJoin(path, 'rewrite', 'uriRegexRewrite', 'match'), regexError(regexRewrite));

  const retries = http.retries;
  if (isObject(retries)) {
    const at = pointerJoin(path, 'retries');
    const attempts = typeof retries.attempts === 'number' ? retries.attempts : 0;
    if (attempts < 0) c.add(pointerJoin(at, 'attempts'), 'attempts cannot be negative');
    if (attempts === 0 && (retries.perTryTimeout !== undefined || (retries.retryOn ?? '') !== '' || retries.retryRemoteLocalities !== undefined)) {
      c.add(at, 'http retry policy configured when attempts are set to 0 (disabled)');
    }
    c.duration(pointerJoin(at, 'perTryTimeout'), retries.perTryTimeout);
    c.duration(pointerJoin(at, 'backoff'), retries.backoff);
    if (typeof retries.retryOn === 'string' && retries.retryOn !== '') {
      for (const policy of invalidRetryOn(retries.retryOn)) {
        c.add(pointerJoin(at, 'retryOn'), `${JSON.stringify(policy)} is not a valid retryOn policy`);
      }
    }
  }
  c.duration(pointerJoin(path, 'timeout'), http.timeout);
  c.duration(pointerJoin(path, 'corsPolicy', 'maxAge'), http.corsPolicy?.maxAge);
  c.duration(pointerJoin(path, 'fault', 'delay', 'fixedDelay'), http.fault?.delay?.fixedDelay);

  c.destination(pointerJoin(path, 'mirror'), http.mirror);
  c.percentage(pointerJoin(path, 'mirrorPercentage', 'value'), http.mirrorPercentage?.value, 'mirror_percentage');
  list(http.mirrors).forEach((mirror, i) => {
    c.destination(pointerJoin(path, 'mirrors', i, 'destination'), mirror?.destination);
    c.percentage(pointerJoin(path, 'mirrors', i, 'percentage', 'value'), mirror?.percentage?.value, 'mirror percentage');
  });

  const routes = list(http.route);
  let total = 0;
  routes.forEach((route, i) => {
    c.destination(pointerJoin(path, 'route', i, 'destination'), route?.destination);
    const weight = typeof route?.weight === 'number' ? route.weight : 0;
    if (weight < 0) c.add(pointerJoin(path, 'route', i, 'weight'), `weight ${weight} < 0`);
    total += weight;
  });
  if (routes.length > 1 && total === 0) c.add(pointerJoin(path, 'route'), 'total destination weight = 0');
}

function virtualService(c: Collector, spec: Record<string, any>): void {
  const gateways = list(spec.gateways);
  const appliesToMesh = gateways.length === 0 || gateways.includes('mesh');
  c.gatewayNames('/spec/gateways', spec.gateways);

  const hosts = list(spec.hosts);
  if (hosts.length === 0) {
    c.add('/spec/hosts', 'virtual service must have at least one host (a VirtualService without hosts is only valid as a delegate, which is not supported here)');
  }
  let allValid = true;
  hosts.forEach((host, i) => {
    if (typeof host !== 'string') return;
    const error = wildcardDomainError(host);
    if (error && !isIpAddress(host)) {
      c.add(pointerJoin('/spec/hosts', i), error);
      allValid = false;
    } else if (!error && appliesToMesh && host === '*') {
      c.add(pointerJoin('/spec/hosts', i), 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
      allValid = false;
    }
  });
  if (allValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        if (typeof hosts[i] === 'string' && typeof hosts[j] === 'string' && hostsOverlap(hosts[i], hosts[j])) {
          c.add(pointerJoin('/spec/hosts', j), `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`);
        }
      }
    }
  }
  if (!list(spec.http).length && !list(spec.tcp).length && !list(spec.tls).length) {
    c.add('/spec', 'http, tcp or tls must be provided in virtual service');
  }
  list(spec.http).forEach((http, i) => {
    if (isObject(http)) httpRoute(c, pointerJoin('/spec/http', i), http);
  });
}

function destinationRule(c: Collector, spec: Record<string, any>): void {
  if (typeof spec.host === 'string') c.add('/spec/host', wildcardDomainError(spec.host));
  const seen = new Set<string>();
  list(spec.subsets).forEach((subset, i) => {
    if (!isObject(subset) || typeof subset.name !== 'string') return;
    const at = pointerJoin('/spec/subsets', i, 'name');
    if (seen.has(subset.name)) c.add(at, `duplicate subset names: ${subset.name}`);
    seen.add(subset.name);
    c.add(at, subsetNameError(subset.name));
  });
}

/** Istio's semantic findings for a networking.istio.io VirtualService or DestinationRule (any served version). */
export function istioSemanticFindings(kind: string, manifest: any): SemanticFinding[] {
  const c = new Collector();
  if (!isObject(manifest?.spec)) return c.findings;
  if (kind === 'VirtualService') virtualService(c, manifest.spec);
  if (kind === 'DestinationRule') destinationRule(c, manifest.spec);
  return c.findings;
}
