/**
 * Names, labels and DNS rules of a release: one home, everything else calls it.
 */

/** The cluster DNS domain Kubernetes uses unless the cluster was set up otherwise. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Label of a pod's service, selected by the version-free Service. */
export const APP_LABEL = 'app';
/** Label of a pod's version, selected by a subset or a per-version Service. */
export const VERSION_LABEL = 'version';

/** Labels as on pods and in selectors. */
export type Labels = { [key: string]: string };

/** Name of one version's objects (Deployment, HPA, PDB, per-version Service): `<app>-<version>`. */
export function versionedName(app: string, version: string): string {
  return `${app}-${version}`;
}

/**
 * Name of the AuthorizationPolicy an ambient waypoint enforces for a release (`allowedCallers`): `<app>-waypoint`,
 * beside the ztunnel's, named `<app>` like the release's other objects.
 */
export function waypointPolicyName(app: string): string {
  return `${app}-waypoint`;
}

/** Labels that select one version's pods. */
export function versionLabels(app: string, version: string): Labels {
  return { [APP_LABEL]: app, [VERSION_LABEL]: version };
}

/** The in-cluster FQDN of a Service: `<name>.<namespace>.svc.<cluster domain>`. */
export function serviceFqdn(name: string, namespace: string, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): string {
  return `${name}.${namespace}.svc.${clusterDomain}`;
}

/**
 * The name Istio resolves a host to: a short name (no dot) is relative to the namespace of
 * the object naming it; any name with a dot is taken as it is (Istio's ResolveShortnameToFQDN,
 * pilot/pkg/model/config.go).
 */
export function resolveHost(host: string | undefined, namespace: string, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): string {
  if (!host) {
    return '';
  }
  return host.includes('.') || host.includes('*') ? host : serviceFqdn(host, namespace, clusterDomain);
}

/** Name and namespace of an in-cluster Service host (`<name>.<namespace>.svc.<domain>`), if it is one. */
export function parseServiceHost(host: string, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): { name: string; namespace: string } | undefined {
  const suffix = `.svc.${clusterDomain}`;
  if (!host.endsWith(suffix)) {
    return undefined;
  }
  const parts = host.slice(0, -suffix.length).split('.');
  return parts.length === 2 ? { name: parts[0], namespace: parts[1] } : undefined;
}

/**
 * Name, namespace and cluster domain of a host written like an in-cluster Service's (`<name>.<namespace>.svc.<domain>`),
 * whatever the domain: to tell a host of another cluster domain from one outside the cluster.
 */
export function parseServiceHostOfAnyDomain(host: string): { name: string; namespace: string; domain: string } | undefined {
  const parts = host.split('.');
  return parts.length > 3 && parts[2] === 'svc' && parts.slice(0, 2).every((p) => DNS_1123_LABEL.test(p)) && parts.slice(3).every((p) => p !== '')
    ? { name: parts[0], namespace: parts[1], domain: parts.slice(3).join('.') }
    : undefined;
}

/** Whether every label of `selector` is on `labels`. An empty selector selects everything. */
export function selects(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Labels of every object of a release's app: `app` (what the version-free Service selects) and `app.kubernetes.io/name`. */
export function appLabels(app: string): Labels {
  return { [APP_LABEL]: app, 'app.kubernetes.io/name': app };
}

/** Labels of one version's objects: the app's, `version` and `app.kubernetes.io/version`. */
export function versionObjectLabels(app: string, version: string): Labels {
  return { ...versionLabels(app, version), 'app.kubernetes.io/name': app, 'app.kubernetes.io/version': version };
}

/** DNS-1035 label: lowercase letters, digits and '-', starting with a letter, at most 63 characters (Service names). */
export const DNS_1035_LABEL = /^(?=.{1,63}$)[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 label: lowercase letters, digits and '-', at most 63 characters (namespaces). */
export const DNS_1123_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: labels joined by dots, at most 253 characters (most object names). */
export const DNS_1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A DNS name with an optional leading `*.` wildcard label, no length limit (Istio hosts, Gateway API hostnames). */
export const WILDCARD_DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/**
 * A dotted IPv4 address, which `WILDCARD_DNS_NAME` (and the HTTPRoute CRD's hostname pattern) lets through and a
 * Gateway API hostname must not be ("IPs are not allowed": HTTPRoute `spec.hostnames`). An IPv6 address has colons,
 * which the DNS patterns refuse.
 */
export const IPV4_ADDRESS = /^[0-9]+(\.[0-9]+){3}$/;
/** DNS-1123 subdomain syntax without its length limit (Istio gateway names, checked for syntax only). */
export const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** An IANA service name: what Kubernetes accepts as a port name (at most 15 characters, checked apart). */
export const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Annotation naming the stage a release was synthesized at (on its VirtualService, HTTPRoute or Service). */
export const STAGE_ANNOTATION = 'mesh-release.io/stage';
/** Annotation listing the stages of the release's plan, in order, comma separated. */
export const PLAN_ANNOTATION = 'mesh-release.io/plan-stages';
/**
 * Annotation naming the cluster DNS domain a release was synthesized for, on the same object as `PLAN_ANNOTATION`,
 * when it is not `cluster.local`: the CLI reads its YAML with that domain unless `--cluster-domain` says otherwise.
 */
export const CLUSTER_DOMAIN_ANNOTATION = 'mesh-release.io/cluster-domain';
/**
 * Annotation holding, as JSON, what a driver of the plan needs besides its stages (on the same object): the analysis,
 * the stages that analyze and the pauses (`analysis/_spec.ts`). Only on releases whose plan has an analysis or pauses.
 */
export const ROLLOUT_ANNOTATION = 'mesh-release.io/rollout';

/** Label naming the release of the objects `mesh-release rollout` keeps in its namespace (its Lease, its state record). */
export const RELEASE_LABEL = 'mesh-release.io/release';

/**
 * Name of the `coordination.k8s.io/v1` Lease that lets one `mesh-release rollout` drive a release at a time, and of
 * the ConfigMap recording its live stage, plan digest, state and analysis; both in the release's namespace. The
 * prefix has a dot, which a Service, Deployment or app name (a DNS label) never has: no clash with the app's objects.
 */
export function rolloutObjectName(release: string): string {
  return `mesh-release.${release}`;
}

/**
 * Environment variable the `mesh-release` CLI sets (to `cli`) for the app it synthesizes: the CLI checks every
 * transition of the YAML it writes itself (forward and back, user patches included), so the releases leave the
 * synth-time check of their objects to it.
 */
export const CHECKED_BY_ENV = 'MESH_RELEASE_CHECKED_BY';

/** Annotation Istio reads per pod to override the mesh-wide proxy configuration. */
export const ISTIO_PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

/** The API group of an `apiVersion` (`''` for the core group: `v1`). */
export function groupOf(apiVersion: unknown): string {
  return typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

/**
 * Istio's protocols of a Service port that are not HTTP (istio/istio pkg/config/protocol/instance.go: `IsHTTP` is
 * false for them). Any other protocol is HTTP, or unknown and sniffed, and HTTP routes apply to both
 * (pilot/pkg/networking/core/route/route.go: `port.Protocol.IsHTTPOrSniffed()`).
 */
const NON_HTTP_PROTOCOLS = new Set(['tcp', 'udp', 'https', 'tls', 'mongo', 'redis', 'mysql']);
/** Ports Istio takes as TCP when their appProtocol or name says no protocol it knows: SMTP, DNS, MySQL, MongoDB. */
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

/**
 * The protocol of a Service port as Istio selects it, when it is not one HTTP routes apply to (`tcp`, `tls`,
 * `mongo`...), else undefined: the `appProtocol`, else the port name's prefix before the first '-', else TCP for a
 * well-known port (istio/istio pilot/pkg/serviceregistry/kube/conversion.go `ConvertProtocol`).
 * @see https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/
 */
export function nonHttpProtocol(port: { name?: unknown; port?: unknown; protocol?: unknown; appProtocol?: unknown } | undefined): string | undefined {
  if (port?.protocol === 'UDP') {
    return 'udp';
  }
  const name = String(port?.appProtocol ?? port?.name ?? '').toLowerCase();
  if (name.startsWith('grpc-web')) {
    return undefined;
  }
  const prefix = name.split('-')[0];
  if (NON_HTTP_PROTOCOLS.has(prefix)) {
    return prefix;
  }
  const known = ['grpc', 'http', 'http2', 'http_proxy'].includes(prefix);
  return !known && WELL_KNOWN_TCP_PORTS.has(Number(port?.port)) ? 'tcp' : undefined;
}
