/**
 * The parts of a stage's manifests that decide whether a request can be dropped,
 * read from plain manifest objects (ours or hand-written YAML).
 */

import { ISTIO_PROXY_CONFIG_ANNOTATION } from '../workload/versioned-app';

export type Labels = { [key: string]: string };

export interface WorkloadSnapshot {
  readonly object: string;
  readonly namespace: string;
  readonly podLabels: Labels;
  readonly graceSeconds?: number;
  readonly preStopSleepSeconds?: number;
  readonly drainSeconds?: number;
}

export interface ServiceSnapshot {
  readonly object: string;
  readonly host: string;
  readonly selector: Labels;
}

export interface SubsetSnapshot {
  readonly name: string;
  readonly labels: Labels;
}

export interface DestinationRuleSnapshot {
  readonly object: string;
  readonly host: string;
  readonly subsets: SubsetSnapshot[];
}

export interface DestinationSnapshot {
  readonly host: string;
  readonly subset?: string;
  readonly weight?: number;
}

export interface HttpRouteSnapshot {
  readonly index: number;
  readonly hasMatch: boolean;
  readonly destinations: DestinationSnapshot[];
  readonly mirror?: DestinationSnapshot;
  readonly retryAttempts?: number;
  readonly perTryTimeoutSeconds?: number;
  readonly timeoutSeconds?: number;
}

export interface VirtualServiceSnapshot {
  readonly object: string;
  readonly http: HttpRouteSnapshot[];
}

export interface ReleaseSnapshot {
  readonly workloads: WorkloadSnapshot[];
  readonly services: ServiceSnapshot[];
  readonly destinationRules: DestinationRuleSnapshot[];
  readonly virtualServices: VirtualServiceSnapshot[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** Reads the release-relevant parts of a set of manifests. Objects of other kinds are ignored. */
export function snapshotOf(manifests: any[]): ReleaseSnapshot {
  const snapshot: ReleaseSnapshot = { workloads: [], services: [], destinationRules: [], virtualServices: [] };
  for (const manifest of manifests) {
    if (!manifest || typeof manifest !== 'object') {
      continue;
    }
    const namespace: string = manifest.metadata?.namespace ?? 'default';
    const object = `${manifest.kind}/${manifest.metadata?.name}`;
    const spec = manifest.spec ?? {};
    if (WORKLOAD_KINDS.has(manifest.kind) && typeof manifest.apiVersion === 'string' && manifest.apiVersion.startsWith('apps/')) {
      snapshot.workloads.push(workloadOf(object, namespace, spec.template ?? {}));
    } else if (manifest.kind === 'Service' && manifest.apiVersion === 'v1') {
      snapshot.services.push({ object, host: fqdn(manifest.metadata?.name, namespace), selector: spec.selector ?? {} });
    } else if (manifest.kind === 'DestinationRule' && isIstioNetworking(manifest.apiVersion)) {
      snapshot.destinationRules.push({
        object,
        host: fqdn(spec.host, namespace),
        subsets: (spec.subsets ?? []).map((s: any) => ({ name: s.name, labels: s.labels ?? {} })),
      });
    } else if (manifest.kind === 'VirtualService' && isIstioNetworking(manifest.apiVersion)) {
      snapshot.virtualServices.push({
        object,
        http: (spec.http ?? []).map((route: any, index: number) => httpRouteOf(route, index, namespace)),
      });
    }
  }
  return snapshot;
}

function isIstioNetworking(apiVersion: unknown): boolean {
  return typeof apiVersion === 'string' && apiVersion.startsWith('networking.istio.io/');
}

function workloadOf(object: string, namespace: string, template: any): WorkloadSnapshot {
  const pod = template.spec ?? {};
  const preStops = (pod.containers ?? []).map((c: any) => preStopSleepOf(c.lifecycle?.preStop)).filter((s: any) => s !== undefined);
  const proxyConfig = template.metadata?.annotations?.[ISTIO_PROXY_CONFIG_ANNOTATION];
  const drain = typeof proxyConfig === 'string' ? /terminationDrainDuration["']?\s*:\s*["']?([0-9.a-zµ]+)/.exec(proxyConfig)?.[1] : undefined;
  return {
    object,
    namespace,
    podLabels: template.metadata?.labels ?? {},
    graceSeconds: pod.terminationGracePeriodSeconds ?? 30,
    preStopSleepSeconds: preStops.length ? Math.max(...preStops) : undefined,
    drainSeconds: drain !== undefined ? parseGoDuration(drain) : undefined,
  };
}

/** Seconds slept by a preStop hook: `sleep N` exec (direct or via a shell) or the native sleep action. */
function preStopSleepOf(preStop: any): number | undefined {
  if (preStop?.sleep?.seconds !== undefined) {
    return Number(preStop.sleep.seconds);
  }
  const command: string[] | undefined = preStop?.exec?.command;
  if (!command) {
    return undefined;
  }
  const match = /(?:^|\s|\/)sleep\s+([0-9.]+)/.exec(command.join(' '));
  return match ? Number(match[1]) : undefined;
}

function httpRouteOf(route: any, index: number, namespace: string): HttpRouteSnapshot {
  const destinationOf = (d: any, weight?: number): DestinationSnapshot => ({ host: fqdn(d?.host, namespace), subset: d?.subset, weight });
  return {
    index,
    hasMatch: Array.isArray(route.match) && route.match.length > 0,
    destinations: (route.route ?? []).map((r: any) => destinationOf(r.destination, r.weight)),
    mirror: route.mirror ? destinationOf(route.mirror) : undefined,
    retryAttempts: route.retries?.attempts,
    perTryTimeoutSeconds: parseGoDuration(route.retries?.perTryTimeout),
    timeoutSeconds: parseGoDuration(route.timeout),
  };
}

/**
 * The name Istio resolves a host to: a short name (no dot) is relative to the namespace of
 * the object naming it; any name with a dot is taken as it is (Istio's ResolveShortnameToFQDN).
 */
export function fqdn(host: string | undefined, namespace: string): string {
  if (!host) {
    return '';
  }
  return host.includes('.') ? host : `${host}.${namespace}.svc.cluster.local`;
}

/** The namespace of an in-cluster service host (`<name>.<namespace>.svc.cluster.local`), if it is one. */
export function hostNamespace(host: string): string | undefined {
  const match = /^[^.]+\.([^.]+)\.svc\.cluster\.local$/.exec(host);
  return match?.[1];
}

/** Milliseconds of a duration in seconds, as an integer (so 3 x 0.1s fits 0.3s exactly). */
export function millis(seconds: number): number {
  return Math.round(seconds * 1000);
}

/** Seconds of a protobuf/Go duration string such as `2s`, `1m30s`, `500ms`; undefined when absent or unreadable. */
export function parseGoDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') {
    return undefined;
  }
  const units: { [unit: string]: number } = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001, µs: 0.000001, ns: 1e-9 };
  let total = 0;
  let rest = value;
  while (rest.length > 0) {
    const match = /^([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/.exec(rest);
    if (!match) {
      return undefined;
    }
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** Whether every label of `selector` is on `labels`. */
export function selects(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
