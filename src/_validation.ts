import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { Cpu, PercentOrAbsolute } from 'cdk8s-plus-28';
import { DNS_1035_LABEL, DNS_1123_LABEL, IANA_SVC_NAME } from './_conventions';

/** The name part of a label key, a label value (when not empty), the name part of an appProtocol. */
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/**
 * Docker reference grammar (distribution/reference): group 1 is the name. The first component is a
 * registry only when it has a '.' or a ':' or is 'localhost' (as Docker decides).
 */
const IMAGE_REFERENCE = (() => {
  const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
  const host = `(?:${domainComponent}(?:\\.${domainComponent})+|localhost|${domainComponent}(?=:)|\\[[a-fA-F0-9:]+\\])`;
  const domain = `${host}(?::[0-9]+)?`;
  const name = `((?:${domain}/)?${pathComponent}(?:/${pathComponent})*)`;
  const tag = '[\\w][\\w.-]{0,127}';
  const digest = 'sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}';
  return new RegExp(`^${name}(?::${tag})?(?:@(?:${digest}))?$`);
})();

/** Something whose path names a construct in errors: a construct, or one about to be created. */
export interface PathScope {
  readonly node: { readonly path: string };
}

/**
 * The error every bad input raises: construct path, prop, value received, what is valid.
 */
export function invalidProp(scope: PathScope, prop: string, value: unknown, valid: string): Error {
  return new Error(`[${scope.node.path}] '${prop}' ${valid}, got ${formatValue(value)}`);
}

export function formatValue(value: unknown): string {
  if (value instanceof Duration) {
    return `${value.toSeconds({ integral: false })}s`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value);
  }
  return JSON.stringify(value) ?? String(value);
}

export function checkDns1035Label(scope: PathScope, prop: string, value: string, maxLength = 63): void {
  if (value.length > maxLength || !DNS_1035_LABEL.test(value)) {
    throw invalidProp(scope, prop, value,
      `must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most ${maxLength} characters`);
  }
}

export function checkPortName(scope: PathScope, prop: string, value: string): void {
  if (value.length > 15 || !IANA_SVC_NAME.test(value) || value.includes('--')) {
    throw invalidProp(scope, prop, value,
      "must be an IANA service name (at most 15 lowercase letters, digits and single '-', e.g. 'http' or 'http-web'; its prefix selects the Istio protocol)");
  }
}

/**
 * Largest value of an int32 field of the Kubernetes API (replicas, probe and rollout timings, utilization targets, the
 * integer of an IntOrString): the API server refuses anything above it.
 */
export const INT32_MAX = 2 ** 31 - 1;

export function checkInteger(scope: PathScope, prop: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw invalidProp(scope, prop, value, `must be an integer ${range}`);
  }
}

/**
 * Whole seconds of a Duration, refusing negative or fractional values (Kubernetes counts whole seconds) and values past
 * `max` (`INT32_MAX` for the API's int32 fields).
 */
export function wholeSeconds(scope: PathScope, prop: string, value: Duration, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw invalidProp(scope, prop, value, `must be a whole number of seconds ${range}`);
  }
  return seconds;
}

/**
 * Ports the Istio sidecar (Envoy and pilot-agent) binds in every pod: an app listening on one of
 * them collides with the proxy.
 *
 * @see https://istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio
 */
export const ISTIO_RESERVED_PORTS: readonly number[] = [15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090];

/** The application port: an integer 1–65535 that is not one of `ISTIO_RESERVED_PORTS`. */
export function checkPort(scope: PathScope, prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidProp(scope, prop, value, 'must be an integer port number between 1 and 65535');
  }
  if (ISTIO_RESERVED_PORTS.includes(value)) {
    throw invalidProp(scope, prop, value,
      `must not be a port the Istio sidecar uses (${ISTIO_RESERVED_PORTS.join(', ')}; see https://istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio)`);
  }
}

/** DNS-1123 label: what Kubernetes accepts as a namespace name (may start with a digit, e.g. `1shop`). */
export function checkDns1123Label(scope: PathScope, prop: string, value: string, maxLength = 63): void {
  if (typeof value !== 'string' || value.length > maxLength || !DNS_1123_LABEL.test(value)) {
    throw invalidProp(scope, prop, value,
      `must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most ${maxLength} characters`);
  }
}

/** `value` is one of the values of the enum object `enumObject` (jsii languages and JavaScript can pass anything). */
export function checkEnum(scope: PathScope, prop: string, value: unknown, enumObject: object): void {
  const values = Object.values(enumObject);
  if (!values.includes(value)) {
    throw invalidProp(scope, prop, value, `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
  }
}

/**
 * A container image reference in the Docker reference grammar:
 * `[host[:port]/]path[:tag][@algorithm:hex]`, path components lowercase.
 *
 * @see https://github.com/distribution/reference/blob/main/reference.go
 */
export function checkImage(scope: PathScope, prop: string, value: string): void {
  const match = typeof value === 'string' ? IMAGE_REFERENCE.exec(value) : null;
  if (!match || match[1].length > 255) {
    throw invalidProp(scope, prop, value,
      "must be a container image reference '[registry[:port]/]repository[:tag][@sha256:<64 hex>]' with a lowercase repository,"
      + " a tag of at most 128 letters, digits, '_', '.' and '-', and no spaces, e.g. 'learnistio/helloworld:1.0.0'");
  }
}

/**
 * A Service port's `appProtocol`: an IANA service name (`http`, `http2`, `grpc`...) or a
 * domain-prefixed name (`kubernetes.io/h2c`, `example.com/my-protocol`).
 *
 * @see https://kubernetes.io/docs/concepts/services-networking/service/#application-protocol
 */
export function checkAppProtocol(scope: PathScope, prop: string, value: string): void {
  const [prefix, name] = typeof value === 'string' && value.includes('/') ? value.split(/\/(.*)/s) : [undefined, value];
  const valid = prefix === undefined
    ? isIanaServiceName(value)
    : isDns1123Subdomain(prefix) && name.length <= 63 && QUALIFIED_NAME.test(name);
  if (!valid) {
    throw invalidProp(scope, prop, value,
      "must be an IANA service name (at most 15 lowercase letters, digits and single '-', e.g. 'http2' or 'grpc')"
      + " or a domain-prefixed name (e.g. 'kubernetes.io/h2c')");
  }
}

/**
 * Labels Kubernetes accepts: keys `[prefix/]name` (prefix a DNS-1123 subdomain, name at most 63
 * characters), values at most 63 characters of letters, digits, '-', '_' and '.'.
 *
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
 */
export function checkLabels(scope: PathScope, prop: string, labels: { [key: string]: string } = {}): void {
  for (const [key, value] of Object.entries(labels)) {
    checkQualifiedKey(scope, prop, key);
    if (typeof value !== 'string' || value.length > 63 || (value !== '' && !QUALIFIED_NAME.test(value))) {
      throw invalidProp(scope, `${prop}[${key}]`, value,
        "must be a label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
    }
  }
}

/** Annotation keys Kubernetes accepts (`[prefix/]name`, like label keys); values are any string. */
export function checkAnnotations(scope: PathScope, prop: string, annotations: { [key: string]: string } = {}): void {
  for (const [key, value] of Object.entries(annotations)) {
    checkQualifiedKey(scope, prop, key);
    if (typeof value !== 'string') {
      throw invalidProp(scope, `${prop}[${key}]`, value, 'must be a string');
    }
  }
}

function checkQualifiedKey(scope: PathScope, prop: string, key: string): void {
  const slash = key.indexOf('/');
  const [prefix, name] = slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if ((prefix !== undefined && !isDns1123Subdomain(prefix)) || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    throw invalidProp(scope, prop, key,
      "keys must be '[prefix/]name': an optional DNS-1123 subdomain prefix and a name of at most 63 letters, digits, '-', '_' and '.',"
      + ' starting and ending with a letter or digit');
  }
}

function isIanaServiceName(value: string): boolean {
  return typeof value === 'string' && value.length <= 15 && IANA_SVC_NAME.test(value) && !value.includes('--');
}

function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every((label) => label.length <= 63 && DNS_1123_LABEL.test(label));
}

/**
 * Longest duration the API server accepts in an Istio duration field, in milliseconds: the CEL rules of Istio's CRDs
 * (`duration(self) >= duration('1ms')`) read the string as a Go `time.Duration`, whose int64 nanoseconds end at
 * 9223372036.854775807s (about 292 years); past it the rule fails and the object is refused. Istio itself would take
 * up to the protobuf Duration's 10,000 years, but the CRD refuses first.
 */
export const ISTIO_DURATION_MAX_MILLIS = 9_223_372_036_854;

/**
 * An Istio (protobuf) duration: at least 1ms, a whole number of milliseconds (Istio refuses
 * finer precision), at most `ISTIO_DURATION_MAX_MILLIS` (what the CRDs' CEL rules can read).
 * Returns the string Istio reads: whole seconds as `10s`, anything else in milliseconds (`1500ms`).
 *
 * @see https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute
 */
export function istioDuration(scope: PathScope, prop: string, value: Duration): string {
  const millis = value.toMilliseconds({ integral: false });
  if (!Number.isInteger(millis) || millis < 1 || millis > ISTIO_DURATION_MAX_MILLIS) {
    throw invalidProp(scope, prop, value,
      `must be a whole number of milliseconds between 1ms and ${ISTIO_DURATION_MAX_MILLIS}ms (about 292 years: the CEL rules of Istio's CRDs read durations as Go durations)`);
  }
  return millis % 1000 === 0 ? `${millis / 1000}s` : `${millis}ms`;
}

/**
 * A replica count or percentage as Kubernetes reads it (`IntOrString`): a non-negative integer,
 * or an integer percentage between 0% and 100%.
 */
export function checkPercentOrAbsolute(scope: PathScope, prop: string, value: PercentOrAbsolute): void {
  const raw = value?.value as unknown;
  const valid = typeof raw === 'number'
    ? Number.isInteger(raw) && raw >= 0 && raw <= INT32_MAX
    : typeof raw === 'string' && /^\d+%$/.test(raw) && Number(raw.slice(0, -1)) <= 100;
  if (!valid) {
    throw invalidProp(scope, prop, raw,
      `must be a non-negative integer up to ${INT32_MAX} (PercentOrAbsolute.absolute(n)) or an integer percentage between 0% and 100% (PercentOrAbsolute.percent(n))`);
  }
}

/**
 * Millicores of a CPU quantity, refusing negative or malformed amounts and precision finer
 * than 1m (which Kubernetes refuses).
 */
export function cpuMillis(scope: PathScope, prop: string, cpu: Cpu): number {
  const amount = cpu?.amount as unknown;
  const match = typeof amount === 'string' ? /^(\d+(?:\.\d+)?)(m?)$/.exec(amount) : null;
  const millis = match ? Number(match[1]) * (match[2] ? 1 : 1000) : NaN;
  // Round away binary noise (0.1 * 1000) before asking for a whole number of millicores.
  const rounded = Math.round(millis * 1e6) / 1e6;
  if (!Number.isInteger(rounded)) {
    throw invalidProp(scope, prop, amount,
      'must be a non-negative CPU amount in whole millicores, e.g. Cpu.millis(250) or Cpu.units(0.5)');
  }
  return rounded;
}

/**
 * A storage quantity in whole `unit`s (cdk8s-plus emits memory in Mi and ephemeral storage in
 * Gi, and fails at synth time on fractions).
 */
export function wholeSize(scope: PathScope, prop: string, size: Size, unit: 'Mi' | 'Gi'): number {
  const options = { rounding: SizeRoundingBehavior.NONE };
  const value = unit === 'Mi' ? size.toMebibytes(options) : size.toGibibytes(options);
  if (!Number.isInteger(value) || value < 0) {
    throw invalidProp(scope, prop, `${value}${unit}`,
      `must be a whole number of ${unit === 'Mi' ? 'mebibytes' : 'gibibytes'} (it is emitted in ${unit})`);
  }
  return value;
}
