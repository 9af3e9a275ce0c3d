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
/** DNS-1123 subdomain syntax without its length limit (Istio gateway names, checked for syntax only). */
export const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** An IANA service name: what Kubernetes accepts as a port name (at most 15 characters, checked apart). */
export const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Annotation naming the stage a release was synthesized at (on its VirtualService, HTTPRoute or Service). */
export const STAGE_ANNOTATION = 'mesh-release.io/stage';
/** Annotation listing the stages of the release's plan, in order, comma separated. */
export const PLAN_ANNOTATION = 'mesh-release.io/plan-stages';

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
