/**
 * The limits of the HTTPRoute CRD (gateway.networking.k8s.io v1.6.1, standard-install.yaml, and
 * experimental-install.yaml where said) that a release could exceed, checked when the release is
 * built: a release that synthesizes is one the API server accepts.
 *
 * Every constraint of a field the router emits, and why the ones not checked here cannot fail:
 * - `spec.parentRefs`: maxItems 32 and the two CEL rules on the same parent twice (sectionName
 *   set on all or none, and unique): `checkGateways`. Gateway name (maxLength 253), namespace
 *   (63, DNS-1123 label) and sectionName (253, DNS-1123 subdomain) are checked by their patterns in
 *   `router.ts`; group and kind are fixed; the GAMMA parent is the app, a DNS-1035 label.
 * - `spec.hostnames`: maxItems 16 (`checkHostnameCount`); the pattern and maxLength 253 (and no IP
 *   address, which the pattern lets through) in `router.ts`.
 * - `spec.rules`: maxItems 16, one per header route plus the catch-all: `checkStageLimits`.
 *   minItems 1: the catch-all is always there. The CEL total of matches (<= 128): a header rule has
 *   one match and the catch-all the one default match, so at most 16. The experimental CEL rule on
 *   unique rule names: the names are `header-<index>` and `weighted`.
 * - `spec.rules[].name`: maxLength 253 and DNS-1123 subdomain: `header-<index>` or `weighted`.
 * - `spec.rules[].matches` (maxItems 64) and `matches[].headers` (maxItems 16, a map keyed by
 *   name): one match with one header per header rule.
 * - `matches[].headers[].name`: maxLength 256 and the header-name pattern: `checkStageLimits`
 *   (`ReleaseStage` already refuses names outside a stricter pattern, so in practice the length).
 * - `matches[].headers[].value`: maxLength 4096 (of the value as written: a PREFIX route becomes a
 *   longer regular expression) and, in the experimental channel, the pattern of printable ASCII
 *   with single inner spaces: `checkStageLimits`. minLength 1: `ReleaseStage` refuses an empty value.
 * - `spec.rules[].backendRefs`: maxItems 16, one per version of the catch-all: `checkStageLimits`.
 *   Each ref's name is `<app>-<version>` (at most 127 of the 253 allowed), port the release's
 *   (1-65535, checked), weight 0-100 (of the 0-1,000,000 allowed), and the CEL rule "Service
 *   reference must have a port": the port is always written.
 * - The per-version Services themselves: `<app>-<version>` is a Service name, a DNS-1035 label of
 *   at most 63 characters: `checkVersionServiceNames` (a deployed version's name is also checked
 *   with its Deployment).
 * - `spec.rules[].filters`: one RequestMirror filter (maxItems 16 and the per-type CEL rules hold);
 *   `requestMirror` has `percent` (an integer 1-100) or `fraction` (numerator <= denominator
 *   <= 10^6, int32), never both: the share is a multiple of 0.0001 (`routing/_mirror-share.ts`), so
 *   a fraction of it is exact with at most 4 decimals.
 * - `spec.rules[].timeouts`: the duration pattern (`gatewayDuration`, up to 99999h, checked in
 *   `router.ts`); the CEL rule backendRequest <= request cannot fail: the release refuses a
 *   timeout shorter than (retries.attempts + 1) x retries.perTryTimeout, and backendRequest is
 *   written only with retries.
 * - `spec.rules[].retry` (experimental): attempts >= 1 (written only when above 0), codes a set of
 *   400-599 (deduplicated, from `RETRY_ON_CODES`), no backoff.
 */
import { versionServiceName, headerMatch } from './_specs';
import { GatewayReference } from './gateway-api-options';
import { invalidProp, PathScope } from '../../_validation';
import { ReleaseStage } from '../../plan/release-stage';

/** HTTPRoute `spec.rules` maxItems: 16 (gateway.networking.k8s.io v1.6.1 standard-install.yaml). */
export const MAX_RULES = 16;
/** HTTPRoute `spec.rules[].backendRefs` maxItems: 16 (gateway.networking.k8s.io v1.6.1 standard-install.yaml). */
export const MAX_BACKEND_REFS = 16;
/** HTTPRoute `spec.parentRefs` maxItems: 32 (gateway.networking.k8s.io v1.6.1 standard-install.yaml). */
export const MAX_PARENT_REFS = 32;
/** HTTPRoute `spec.hostnames` maxItems: 16 (gateway.networking.k8s.io v1.6.1 standard-install.yaml). */
export const MAX_HOSTNAMES = 16;
/** HTTPRoute `spec.rules[].matches[].headers[].name` maxLength: 256 (gateway.networking.k8s.io v1.6.1 standard-install.yaml). */
export const MAX_HEADER_NAME_LENGTH = 256;
/** HTTPRoute `spec.rules[].matches[].headers[].value` maxLength: 4096 (gateway.networking.k8s.io v1.6.1 standard-install.yaml). */
export const MAX_HEADER_VALUE_LENGTH = 4096;
/** A Service name (a per-version Service, `<app>-<version>`) is a DNS-1035 label: at most 63 characters. */
export const MAX_SERVICE_NAME_LENGTH = 63;

/** HTTPRoute `spec.rules[].matches[].headers[].name` pattern (gateway.networking.k8s.io v1.6.1 standard-install.yaml). */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/**
 * HTTPRoute `spec.rules[].matches[].headers[].value` pattern of the experimental channel
 * (gateway.networking.k8s.io v1.6.1 experimental-install.yaml; the standard channel has none):
 * `^[!-~]+([\t ]?[!-~]+)*$`: printable ASCII, single spaces or tabs inside. Written here in the
 * equivalent form without the optional separator, which JavaScript matches in linear time (the
 * CRD's form backtracks exponentially on a long value with a bad character at its end). Checked
 * whatever the channel: the router cannot know which one the cluster runs, and HTTP strips the
 * spaces around a value, so such a value could not match anyway.
 */
const HEADER_VALUE = /^[!-~]+([\t ][!-~]+)*$/;

const ROUTER = 'TrafficRouter.gatewayApi()';

/** Gateways the HTTPRoute attaches to: at most 32, each Gateway (and listener) named once. */
export function checkGateways(scope: PathScope, gateways: GatewayReference[], namespace: string): void {
  if (gateways.length > MAX_PARENT_REFS) {
    throw invalidProp(scope, 'router.gateways', gateways.length,
      `must name at most ${MAX_PARENT_REFS} Gateways (HTTPRoute spec.parentRefs maxItems ${MAX_PARENT_REFS})`);
  }
  const seen = new Map<string, GatewayReference[]>();
  for (const gateway of gateways) {
    const key = `${gateway.namespace ?? namespace}/${gateway.name}`;
    const same = seen.get(key) ?? [];
    if (same.some((g) => g.sectionName === undefined || gateway.sectionName === undefined || g.sectionName === gateway.sectionName)) {
      throw invalidProp(scope, 'router.gateways', gateway,
        `must name each Gateway once, or each time with a different sectionName (HTTPRoute spec.parentRefs: "sectionName must be specified/unique when parentRefs includes 2 or more references to the same parent"); Gateway ${key} is named ${same.length + 1} times`);
    }
    seen.set(key, [...same, gateway]);
  }
}

/** Hostnames of the HTTPRoute: at most 16. */
export function checkHostnameCount(scope: PathScope, hostnames: string[]): void {
  if (hostnames.length > MAX_HOSTNAMES) {
    throw invalidProp(scope, 'router.hostnames', hostnames.length,
      `must list at most ${MAX_HOSTNAMES} hostnames (HTTPRoute spec.hostnames maxItems ${MAX_HOSTNAMES}): use a wildcard such as '*.example.com'`);
  }
}

/**
 * The per-version Services of the stage: `<app>-<version>`, a Service name. A deployed version's
 * name is checked with its Deployment; a version with a Service and no Deployment is checked here.
 */
export function checkVersionServiceNames(scope: PathScope, app: string, stage: ReleaseStage): void {
  for (const version of stage.routable.filter((v) => !stage.deployed.includes(v))) {
    const name = versionServiceName(app, version);
    if (name.length > MAX_SERVICE_NAME_LENGTH) {
      throw invalidProp(scope, 'app + version', name,
        `must form a Service name '<app>-<version>' of at most ${MAX_SERVICE_NAME_LENGTH} characters for version '${version}' of stage '${stage.name}' (it is ${name.length}): shorten the app or version`);
    }
  }
}

/** The rules of the stage's HTTPRoute: one per header route plus the catch-all, each within the CRD's limits. */
export function checkStageLimits(scope: PathScope, stage: ReleaseStage): void {
  const routes = stage.headerRoutes;
  if (routes.length + 1 > MAX_RULES) {
    throw invalidProp(scope, 'stage.headerRoutes', routes.length,
      `must hold at most ${MAX_RULES - 1} routes with ${ROUTER} in stage '${stage.name}': each is an HTTPRoute rule, the weighted catch-all is one more, and an HTTPRoute holds at most ${MAX_RULES} rules (spec.rules maxItems ${MAX_RULES})`);
  }
  routes.forEach((route, i) => {
    if (route.header.length > MAX_HEADER_NAME_LENGTH || !HEADER_NAME.test(route.header)) {
      throw invalidProp(scope, `stage.headerRoutes[${i}].header`, excerpt(route.header),
        `must be an HTTP header name of at most ${MAX_HEADER_NAME_LENGTH} characters with ${ROUTER} (HTTPRoute spec.rules[].matches[].headers[].name maxLength ${MAX_HEADER_NAME_LENGTH}) (it is ${route.header.length})`);
    }
    const value = headerMatch(route).value;
    const written = value === route.value ? '' : " once written as the regular expression '^<value, escaped>.*' of a PREFIX route";
    if (value.length > MAX_HEADER_VALUE_LENGTH) {
      throw invalidProp(scope, `stage.headerRoutes[${i}].value`, excerpt(route.value),
        `must be at most ${MAX_HEADER_VALUE_LENGTH} characters${written} with ${ROUTER} (HTTPRoute spec.rules[].matches[].headers[].value maxLength ${MAX_HEADER_VALUE_LENGTH}) (it is ${value.length})`);
    }
    if (!HEADER_VALUE.test(value)) {
      throw invalidProp(scope, `stage.headerRoutes[${i}].value`, excerpt(route.value),
        `must be printable ASCII without leading, trailing or doubled spaces with ${ROUTER} (HTTPRoute spec.rules[].matches[].headers[].value pattern ^[!-~]+([\\t ]?[!-~]+)*$, experimental channel)`);
    }
  });
  if (stage.weights.length > MAX_BACKEND_REFS) {
    throw invalidProp(scope, 'stage.weights', stage.weights.length,
      `must route to at most ${MAX_BACKEND_REFS} versions with ${ROUTER} in stage '${stage.name}': the catch-all rule has one backendRef per version (HTTPRoute spec.rules[].backendRefs maxItems ${MAX_BACKEND_REFS})`);
  }
}

/** Longest value quoted whole in a message. */
const EXCERPT_LENGTH = 40;

/** A long value cut to its first characters (messages give its length). */
function excerpt(value: string): string {
  return value.length > EXCERPT_LENGTH ? `${value.slice(0, EXCERPT_LENGTH)}…` : value;
}
