/**
 * Reads selector switches (blue/green without a mesh) into the safety facts: a Service whose
 * selector has the `version` label and that no mesh routes is a route rule with one target,
 * itself as a backend of kind 'service' taking 100% of its requests. So the shared rules apply
 * to the switch: destination-ready (switch only to a version whose Deployment was there in the
 * previous stage), deployment-removed-while-service (delete the old version only after the
 * Service stopped selecting it), service-removed-while-routed, capacity.
 *
 * A Service is not a switch when a mesh routes it (in this stage or the one compared with it):
 * an HTTPRoute names it as a backend, mirror or parent, or it is the host of an Istio
 * DestinationRule or VirtualService destination; nor when it is named `<app>-<version>` after its
 * own selector (a per-version Service of the Gateway API router, waiting for its route).
 */
import { Labels, VERSION_LABEL, resolveHost, versionedName } from '../../_conventions';
import { ReadOptions, RouterReader } from '../../safety/_facts';
import { isGatewayApi, routedServices, serviceBackend, serviceParents } from '../gateway-api/_reader';
import { isIstioNetworking } from '../istio/_reader';

/** `<namespace>/<name>` of the Services a mesh routes in `manifests`. */
function meshRouted(manifests: any[], options: ReadOptions): Set<string> {
  const routed = routedServices(manifests, options);
  for (const route of manifests.filter((m) => isGatewayApi(m, 'HTTPRoute'))) {
    serviceParents(route, options.namespace).forEach((p) => routed.add(p));
  }
  const istioHosts = new Set<string>();
  for (const m of manifests) {
    const namespace = m?.metadata?.namespace ?? options.namespace;
    if (isIstioNetworking(m, 'DestinationRule')) {
      istioHosts.add(resolveHost(m.spec?.host, namespace, options.clusterDomain));
    }
    if (isIstioNetworking(m, 'VirtualService')) {
      for (const list of ['http', 'tcp', 'tls']) {
        for (const route of Array.isArray(m.spec?.[list]) ? m.spec[list] : []) {
          for (const d of [...(Array.isArray(route?.route) ? route.route : []).map((r: any) => r?.destination), route?.mirror]) {
            if (d?.host) {
              istioHosts.add(resolveHost(d.host, namespace, options.clusterDomain));
            }
          }
        }
      }
    }
  }
  for (const m of manifests.filter((x) => x?.kind === 'Service' && x.apiVersion === 'v1')) {
    const namespace = m.metadata?.namespace ?? options.namespace;
    if (istioHosts.has(resolveHost(m.metadata?.name, namespace, options.clusterDomain))) {
      routed.add(`${namespace}/${m.metadata?.name}`);
    }
  }
  return routed;
}

/** Services of `manifests` that are selector switches, as `<namespace>/<name>`. */
function switches(manifests: any[], options: ReadOptions, routed: Set<string>): Set<string> {
  const found = new Set<string>();
  for (const service of manifests.filter((m) => m?.kind === 'Service' && m.apiVersion === 'v1')) {
    const key = `${service.metadata?.namespace ?? options.namespace}/${service.metadata?.name}`;
    const selector: Labels = service.spec?.selector ?? {};
    const perVersion = typeof selector.app === 'string' && service.metadata?.name === versionedName(selector.app, selector[VERSION_LABEL]);
    if (VERSION_LABEL in selector && !perVersion && !routed.has(key)) {
      found.add(key);
    }
  }
  return found;
}

export const SERVICE_SELECTOR_READER: RouterReader = {
  read(manifests, options, into, other) {
    const routed = new Set([...meshRouted(manifests, options), ...meshRouted(other ?? [], options)]);
    const here = switches(manifests, options, routed);
    const there = switches(other ?? [], options, routed);
    for (const service of manifests.filter((m) => m?.kind === 'Service' && m.apiVersion === 'v1')) {
      const key = `${service.metadata?.namespace ?? options.namespace}/${service.metadata?.name}`;
      if (!here.has(key) && !there.has(key)) {
        continue;
      }
      // A switch in either stage is one backend across both, whatever it selects in this one.
      const backend = serviceBackend(service, options);
      into.backends.push(backend);
      if (here.has(key)) {
        into.routes.push({
          object: backend.object,
          namespace: backend.namespace,
          list: 'selector',
          needsCatchAll: false,
          rules: [{
            object: backend.object,
            where: `${backend.object} selector`,
            hasMatch: false,
            targets: [{ backendId: backend.id, kind: 'service', label: backend.label, weight: 100, mirror: false }],
          }],
        });
      }
    }
  },
};
