/**
 * Objects in the form the API server stores them. The server drops a zero value of a field it omits when empty
 * (`omitempty` in the Go types: `minReadySeconds: 0`, `hostNetwork: false`, `externalIPs: []`, an env var's
 * `value: ''`) and writes every quantity in its canonical form (`cpu: 1000m` is stored `1`, `memory: 1024Mi` is
 * `1Gi`): a field emitted otherwise reads back different, `kubectl apply` patches it again at every apply (it
 * reports `configured`, never `unchanged`), and every tool that diffs manifests against live objects field by field
 * sees a change that is none. cdk8s-plus emits those forms; the workloads are emitted through these functions.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/** Decimal SI suffixes by power of ten (k8s.io/apimachinery/pkg/api/resource/suffix.go). */
const DECIMAL_SUFFIXES: { [suffix: string]: number } = { 'n': -9, 'u': -6, 'm': -3, '': 0, 'k': 3, 'M': 6, 'G': 9, 'T': 12, 'P': 15, 'E': 18 };
/** Binary SI suffixes by power of two. */
const BINARY_SUFFIXES: { [suffix: string]: number } = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const QUANTITY = /^(\d+)(?:\.(\d+))?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/**
 * A quantity (`1000m`, `0.5`, `1024Mi`) in the form the API server stores it: resource.Quantity's String(), its
 * CanonicalizeBytes (k8s.io/apimachinery/pkg/api/resource/quantity.go). A decimal quantity is written with the
 * largest power-of-1000 suffix that keeps its mantissa whole (`1000m` -> `1`, `1500m`, `0.5` -> `500m`, `2000` ->
 * `2k`); a binary one (`Ki`...`Ei`) of at least 1024 bytes with the largest power-of-1024 suffix that does (`1024Mi`
 * -> `1Gi`, `1536Mi`, `128Mi`), below that as a decimal number of bytes; zero is `0`. Text that is not a plain
 * non-negative quantity is returned as written.
 */
export function canonicalQuantity(text: string): string {
  const match = QUANTITY.exec(text);
  if (!match) {
    return text;
  }
  const [, whole, fraction = '', suffix = ''] = match;
  const mantissa = BigInt(whole + fraction);
  if (suffix in BINARY_SUFFIXES) {
    const scaled = mantissa * 2n ** BigInt(BINARY_SUFFIXES[suffix]);
    const divisor = 10n ** BigInt(fraction.length);
    if (scaled % divisor === 0n && scaled / divisor >= 1024n) {
      return binaryForm(scaled / divisor);
    }
    return decimalForm(scaled, -fraction.length) ?? text;
  }
  return decimalForm(mantissa, DECIMAL_SUFFIXES[suffix] - fraction.length) ?? text;
}

/** `mantissa` x 10^`exponent` with the exponent a multiple of 3 and no trailing zeros beyond it; undefined past `E`. */
function decimalForm(mantissa: bigint, exponent: number): string | undefined {
  if (mantissa === 0n) {
    return '0';
  }
  let [m, e] = [mantissa, exponent];
  while (m % 10n === 0n) {
    [m, e] = [m / 10n, e + 1];
  }
  const down = ((e % 3) + 3) % 3;
  [m, e] = [m * 10n ** BigInt(down), e - down];
  const suffix = Object.keys(DECIMAL_SUFFIXES).find((s) => DECIMAL_SUFFIXES[s] === e);
  return suffix === undefined ? undefined : `${m}${suffix}`;
}

/** A whole number of bytes (at least 1024) with the largest binary suffix that keeps it whole. */
function binaryForm(bytes: bigint): string {
  const suffixes = ['', ...Object.keys(BINARY_SUFFIXES)];
  let [n, i] = [bytes, 0];
  while (n % 1024n === 0n && i < suffixes.length - 1) {
    [n, i] = [n / 1024n, i + 1];
  }
  return `${n}${suffixes[i]}`;
}

/**
 * A Deployment spec as cdk8s-plus renders it, in the form the server stores: no `minReadySeconds: 0` or
 * `hostNetwork: false`, and, in every container, canonical quantities, no probe `initialDelaySeconds: 0`, no env
 * `value: ''` and no empty `command` or `args` (all `omitempty` in k8s.io/api apps/v1 and core/v1).
 */
export function storedDeploymentSpec(spec: kplus.k8s.DeploymentSpec): kplus.k8s.DeploymentSpec {
  const pod = spec.template.spec;
  return {
    ...spec,
    minReadySeconds: spec.minReadySeconds || undefined,
    template: {
      ...spec.template,
      spec: pod && {
        ...pod,
        hostNetwork: pod.hostNetwork || undefined,
        containers: pod.containers.map(storedContainer),
        initContainers: pod.initContainers?.map(storedContainer),
      },
    },
  };
}

function storedContainer(container: kplus.k8s.Container): kplus.k8s.Container {
  const resources = container.resources;
  return {
    ...container,
    command: container.command?.length ? container.command : undefined,
    args: container.args?.length ? container.args : undefined,
    env: container.env?.map((v) => ({ ...v, value: v.value || undefined })),
    resources: resources && { limits: storedQuantities(resources.limits), requests: storedQuantities(resources.requests), claims: resources.claims },
    readinessProbe: storedProbe(container.readinessProbe),
    livenessProbe: storedProbe(container.livenessProbe),
    startupProbe: storedProbe(container.startupProbe),
  };
}

function storedQuantities(quantities?: { [key: string]: kplus.k8s.Quantity }): { [key: string]: kplus.k8s.Quantity } | undefined {
  return quantities && Object.fromEntries(Object.entries(quantities)
    .map(([key, q]) => [key, kplus.k8s.Quantity.fromString(canonicalQuantity(String(q.value)))]));
}

function storedProbe(probe?: kplus.k8s.Probe): kplus.k8s.Probe | undefined {
  return probe && { ...probe, initialDelaySeconds: probe.initialDelaySeconds || undefined };
}

/**
 * Drops the `externalIPs: []` cdk8s-plus writes on every Service (the server stores none): for a Service made with no
 * `externalIPs`, as the library's are.
 */
export function dropEmptyExternalIps(service: kplus.Service): void {
  ApiObject.of(service).addJsonPatch(JsonPatch.remove('/spec/externalIPs'));
}
