/**
 * Reads Istio's routing objects into the safety facts: DestinationRule subsets are backends,
 * VirtualService `http`, `tcp` and `tls` routes are route rules.
 */
import { Labels, parseServiceHost, resolveHost } from '../../_conventions';
import { parseDurationMs } from '../../safety/_durations';
import { BackendFacts, ReadOptions, RouteFacts, RouterReader, RuleFacts, TargetFacts, objectName } from '../../safety/_facts';

/** Whether a manifest is an Istio networking object (any API version: v1, v1beta1, v1alpha3). */
export function isIstioNetworking(manifest: any, kind: string): boolean {
  return manifest?.kind === kind && typeof manifest.apiVersion === 'string' && manifest.apiVersion.startsWith('networking.istio.io/');
}

/** The id of a subset backend. */
export function subsetId(host: string, subset: string): string {
  return `subset:${host}#${subset}`;
}

/** The Services of the manifests by FQDN, with their selectors. */
export function servicesByHost(manifests: any[], options: ReadOptions): Map<string, any> {
  const services = new Map<string, any>();
  for (const m of manifests) {
    if (m?.kind === 'Service' && m.apiVersion === 'v1') {
      services.set(resolveHost(m.metadata?.name, m.metadata?.namespace ?? options.namespace, options.clusterDomain), m);
    }
  }
  return services;
}

export const ISTIO_READER: RouterReader = {
  read(manifests, options, into) {
    const services = servicesByHost(manifests, options);
    const backendOf = (host: string, subset?: { name: string; labels: Labels }, object?: string): BackendFacts => {
      const service = services.get(host);
      const namespace = parseServiceHost(host, options.clusterDomain)?.namespace ?? '';
      const podsKnown = namespace !== '' && (service !== undefined || subset !== undefined);
      const selector = { ...(service?.spec?.selector ?? {}), ...(subset?.labels ?? {}) };
      return subset
        ? { id: subsetId(host, subset.name), kind: 'subset', label: `subset '${subset.name}' of ${host}`, object: object!, namespace, selector, podsKnown }
        : { id: `host:${host}`, kind: 'host', label: host, object: service ? objectName(service) : host, namespace, selector, podsKnown: podsKnown && service !== undefined };
    };
    for (const dr of manifests.filter((m) => isIstioNetworking(m, 'DestinationRule'))) {
      const host = resolveHost(dr.spec?.host, dr.metadata?.namespace ?? options.namespace, options.clusterDomain);
      for (const subset of dr.spec?.subsets ?? []) {
        into.backends.push(backendOf(host, { name: subset?.name, labels: subset?.labels ?? {} }, objectName(dr)));
      }
    }
    const hostBackends = new Map<string, BackendFacts>();
    for (const vs of manifests.filter((m) => isIstioNetworking(m, 'VirtualService'))) {
      const namespace: string = vs.metadata?.namespace ?? options.namespace;
      const targetOf = (destination: any, weight: number, mirror: boolean, invalidWeight?: unknown): TargetFacts => {
        const host = resolveHost(destination?.host, namespace, options.clusterDomain);
        if (destination?.subset !== undefined) {
          return { backendId: subsetId(host, destination.subset), kind: 'subset', label: `subset '${destination.subset}' of ${host}`, weight, mirror, invalidWeight };
        }
        if (!hostBackends.has(host)) {
          hostBackends.set(host, backendOf(host));
        }
        return { backendId: `host:${host}`, kind: 'host', label: host, weight, mirror, invalidWeight };
      };
      for (const list of ['http', 'tcp', 'tls'] as const) {
        const routes: any[] = Array.isArray(vs.spec?.[list]) ? vs.spec[list] : [];
        if (routes.length === 0) {
          continue;
        }
        const rules = routes.map((route: any, index: number): RuleFacts => {
          const destinations: any[] = Array.isArray(route?.route) ? route.route : [];
          const targets = destinations.map((r) => {
            const written = r?.weight;
            const valid = written === undefined || (Number.isInteger(written) && written >= 0 && written <= 100);
            // Istio: a single destination without a weight takes all the traffic.
            const weight = written === undefined ? (destinations.length === 1 ? 100 : 0) : valid ? written : 0;
            return targetOf(r?.destination, weight, false, valid ? undefined : written);
          });
          if (route?.mirror) {
            targets.push(targetOf(route.mirror, route.mirrorPercentage?.value ?? route.mirrorPercent ?? 100, true));
          }
          for (const m of Array.isArray(route?.mirrors) ? route.mirrors : []) {
            targets.push(targetOf(m?.destination, m?.percentage?.value ?? 100, true));
          }
          return {
            object: objectName(vs),
            where: `${objectName(vs)} ${list}[${index}]`,
            hasMatch: Array.isArray(route?.match) && route.match.length > 0,
            targets,
            retries: list === 'http' && route?.retries ? { attempts: Number(route.retries.attempts ?? 0), perTryTimeoutMs: parseDurationMs(route.retries.perTryTimeout) } : undefined,
            timeoutMs: list === 'http' ? parseDurationMs(route?.timeout) : undefined,
          };
        });
        const facts: RouteFacts = { object: objectName(vs), namespace, rules, list, needsCatchAll: list === 'http' };
        into.routes.push(facts);
      }
    }
    into.backends.push(...hostBackends.values());
  },
};
