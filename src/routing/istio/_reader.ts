/**
 * Reads Istio's routing objects, the only parser of them: DestinationRule subsets are backends,
 * VirtualService `http`, `tcp` and `tls` routes are route rules, and the hosts of both are the
 * Services Istio routes. What Istio's own rules (`rules/`) need besides is kept in the stage's
 * `IstioStage`, read once.
 */
import { Labels, parseServiceHost, resolveHost } from '../../_conventions';
import { push } from '../../_util';
import { parseDurationMs } from '../../safety/_durations';
import { BackendFacts, ReadOptions, RouteFacts, RuleFacts, TargetFacts, objectName } from '../../safety/_facts';
import { StageManifests } from '../../safety/_manifests';
import { RouterReader } from '../../safety/_plugin';

/**
 * Istio's root namespace (`meshConfig.rootNamespace`), whose DestinationRules and PeerAuthentications apply to
 * every namespace. Istio looks a host's DestinationRule up in the client's namespace, then the service's namespace,
 * then the root namespace.
 * @see https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration
 */
export const ISTIO_ROOT_NAMESPACE = 'istio-system';

/** Whether a manifest is an Istio networking object (any API version: v1, v1beta1, v1alpha3). */
export function isIstioNetworking(manifest: any, kind: string): boolean {
  return manifest?.kind === kind && typeof manifest.apiVersion === 'string' && manifest.apiVersion.startsWith('networking.istio.io/');
}

/** The id of a subset backend. */
export function subsetId(host: string, subset: string): string {
  return `subset:${host}#${subset}`;
}

/** A DestinationRule, read. */
export interface IstioDestinationRule {
  readonly manifest: any;
  /** `Kind/name`. */
  readonly object: string;
  readonly namespace: string;
  /** Its host, resolved (`<service>.<namespace>.svc.<domain>` for a short name). */
  readonly host: string;
  /** Its subsets as written. */
  readonly subsets: readonly any[];
}

/** A VirtualService, read. */
export interface IstioVirtualService {
  readonly manifest: any;
  /** `Kind/name`. */
  readonly object: string;
  readonly namespace: string;
  /** Its hosts, resolved. */
  readonly hosts: readonly string[];
  /** Its routes (one per non-empty list: `http`, `tcp`, `tls`). */
  readonly routes: readonly RouteFacts[];
  /** Every destination of its routes, in order: weighted destinations and mirrors, of every list. */
  readonly destinations: readonly TargetFacts[];
}

/** The Istio objects of one stage, read once for the reader's facts and for Istio's rules. */
export class IstioStage {
  readonly destinationRules: IstioDestinationRule[] = [];
  readonly virtualServices: IstioVirtualService[] = [];
  private byHost?: Map<string, IstioDestinationRule[]>;
  private destinationHosts?: Set<string>;
  private peerAuths?: readonly any[];

  constructor(readonly stage: StageManifests, readonly services: ReadonlyMap<string, any>) {}

  get options(): ReadOptions {
    return this.stage.options;
  }

  /** The DestinationRules by host, in the order of the manifests. */
  get destinationRulesByHost(): ReadonlyMap<string, IstioDestinationRule[]> {
    if (!this.byHost) {
      this.byHost = new Map();
      for (const dr of this.destinationRules) {
        push(this.byHost, dr.host, dr);
      }
    }
    return this.byHost;
  }

  /** Every host a VirtualService of the stage sends to (weighted destinations and mirrors). */
  get routedHosts(): ReadonlySet<string> {
    if (!this.destinationHosts) {
      this.destinationHosts = new Set();
      for (const vs of this.virtualServices) {
        for (const d of vs.destinations) {
          if (d.host) {
            this.destinationHosts.add(d.host);
          }
        }
      }
    }
    return this.destinationHosts;
  }

  /** The PeerAuthentications (security.istio.io). */
  get peerAuthentications(): readonly any[] {
    return this.peerAuths ??= this.stage.ofKind('PeerAuthentication')
      .filter((m) => typeof m.apiVersion === 'string' && m.apiVersion.startsWith('security.istio.io/'));
  }
}

/** The Services of a stage by FQDN, with their selectors. */
function servicesByHost(stage: StageManifests): Map<string, any> {
  const services = new Map<string, any>();
  for (const m of stage.services()) {
    services.set(resolveHost(m.metadata?.name, stage.namespaceOf(m), stage.options.clusterDomain), m);
  }
  return services;
}

const list = (value: unknown): any[] => (Array.isArray(value) ? value : []);

export const ISTIO_READER: RouterReader<IstioStage> = {
  read(stage, into) {
    const drs = stage.ofKind('DestinationRule');
    const vss = stage.ofKind('VirtualService');
    const model = new IstioStage(stage, drs.length > 0 || vss.length > 0 ? servicesByHost(stage) : new Map());
    const { clusterDomain } = stage.options;
    // Hosts repeat (a DestinationRule's, its subsets', the routes' destinations): each is parsed once.
    const parsed = new Map<string, { name: string; namespace: string } | undefined>();
    const serviceOf = (host: string) => {
      if (!parsed.has(host)) {
        parsed.set(host, parseServiceHost(host, clusterDomain));
      }
      return parsed.get(host);
    };
    const routed = (host: string) => {
      const service = serviceOf(host);
      if (service) {
        into.routedServices.add(`${service.namespace}/${service.name}`);
      }
    };
    const backendOf = (host: string, subset?: { name: string; labels: Labels }, object?: string): BackendFacts => {
      const service = model.services.get(host);
      const namespace = serviceOf(host)?.namespace ?? '';
      const podsKnown = namespace !== '' && (service !== undefined || subset !== undefined);
      const selector = { ...(service?.spec?.selector ?? {}), ...(subset?.labels ?? {}) };
      return subset
        ? { id: subsetId(host, subset.name), kind: 'subset', label: `subset '${subset.name}' of ${host}`, name: subset.name, host, object: object!, namespace, selector, podsKnown }
        : { id: `host:${host}`, kind: 'host', label: host, name: host, host, object: service ? objectName(service) : host, namespace, selector, podsKnown: podsKnown && service !== undefined };
    };
    for (const manifest of drs) {
      if (!isIstioNetworking(manifest, 'DestinationRule')) {
        continue;
      }
      const namespace = stage.namespaceOf(manifest);
      const host = resolveHost(manifest.spec?.host, namespace, clusterDomain);
      const dr: IstioDestinationRule = { manifest, object: objectName(manifest), namespace, host, subsets: list(manifest.spec?.subsets) };
      model.destinationRules.push(dr);
      routed(host);
      for (const subset of dr.subsets) {
        into.backends.push(backendOf(host, { name: subset?.name, labels: subset?.labels ?? {} }, dr.object));
      }
    }
    const hostBackends = new Map<string, BackendFacts>();
    for (const manifest of vss) {
      if (!isIstioNetworking(manifest, 'VirtualService')) {
        continue;
      }
      const namespace = stage.namespaceOf(manifest);
      const object = objectName(manifest);
      // Bound to the mesh when `gateways` is left out or names `mesh`.
      const gateways = list(manifest.spec?.gateways);
      const gatewayOnly = gateways.length > 0 && !gateways.includes('mesh');
      const destinations: TargetFacts[] = [];
      const targetOf = (destination: any, weight: number, mirror: boolean, invalidWeight?: unknown): TargetFacts => {
        const host = resolveHost(destination?.host, namespace, clusterDomain);
        let target: TargetFacts;
        if (destination?.subset !== undefined) {
          const name = destination.subset;
          target = { backendId: subsetId(host, name), kind: 'subset', label: `subset '${name}' of ${host}`, name, host, weight, mirror, invalidWeight };
        } else {
          if (!hostBackends.has(host)) {
            hostBackends.set(host, backendOf(host));
          }
          target = { backendId: `host:${host}`, kind: 'host', label: host, name: host, host, weight, mirror, invalidWeight };
        }
        if (host) {
          routed(host);
        }
        destinations.push(target);
        return target;
      };
      const routes: RouteFacts[] = [];
      for (const name of ['http', 'tcp', 'tls'] as const) {
        const written = list(manifest.spec?.[name]);
        if (written.length === 0) {
          continue;
        }
        const rules = written.map((route: any, index: number): RuleFacts => {
          const weighted = list(route?.route);
          const targets = weighted.map((r) => {
            const weight = r?.weight;
            const valid = weight === undefined || (Number.isInteger(weight) && weight >= 0 && weight <= 100);
            // Istio: a single destination without a weight takes all the traffic.
            const share = weight === undefined ? (weighted.length === 1 ? 100 : 0) : valid ? weight : 0;
            return targetOf(r?.destination, share, false, valid ? undefined : weight);
          });
          if (route?.mirror) {
            targets.push(targetOf(route.mirror, route.mirrorPercentage?.value ?? route.mirrorPercent ?? 100, true));
          }
          for (const m of list(route?.mirrors)) {
            targets.push(targetOf(m?.destination, m?.percentage?.value ?? 100, true));
          }
          return {
            object,
            where: `${object} ${name}[${index}]`,
            hasMatch: Array.isArray(route?.match) && route.match.length > 0,
            matchText: Array.isArray(route?.match) && route.match.length > 0 ? describeMatch(route.match) : undefined,
            targets,
            retries: name === 'http' && route?.retries ? { attempts: Number(route.retries.attempts ?? 0), perTryTimeoutMs: parseDurationMs(route.retries.perTryTimeout) } : undefined,
            timeoutMs: name === 'http' ? parseDurationMs(route?.timeout) : undefined,
          };
        });
        routes.push({ object, namespace, rules, list: name, needsCatchAll: name === 'http', gatewayOnly });
      }
      into.routes.push(...routes);
      const hosts = list(manifest.spec?.hosts).map((h: string) => resolveHost(h, namespace, clusterDomain));
      model.virtualServices.push({ manifest, object, namespace, hosts, routes, destinations });
      if (!gatewayOnly) {
        for (const host of hosts) {
          const service = serviceOf(host);
          if (service) {
            into.serviceRoutes.push({ service: `${service.namespace}/${service.name}`, object, namespace, kind: 'VirtualService' });
          }
        }
      }
    }
    into.backends.push(...hostBackends.values());
    return model;
  },
};

/** Istio matches for people: `name=value` (exact), `name^=prefix`, `name~regex`, `uri`; ` & ` within one, ` | ` between. */
function describeMatch(match: any[]): string {
  return match.map((m) => {
    const headers = Object.entries(m?.headers ?? {}).map(([name, v]: [string, any]) =>
      (v?.exact !== undefined ? `${name}=${v.exact}` : v?.prefix !== undefined ? `${name}^=${v.prefix}` : `${name}~${v?.regex}`));
    return [...headers, ...(m?.uri ? ['uri'] : [])].join(' & ') || 'match';
  }).join(' | ') || 'match';
}
