/**
 * Rules that only make sense for Istio's classic API (VirtualService + DestinationRule), on
 * plain manifests.
 */
import { isIstioNetworking, servicesByHost } from './_reader';
import { Labels, parseServiceHost, resolveHost, selects } from '../../_conventions';
import { compareText, push } from '../../_util';
import { ReadOptions, objectName } from '../../safety/_facts';
import { Report } from '../../safety/_rules';
import { SafetyRule, Severity } from '../../safety/safety-rule';

/**
 * Istio's root namespace (`meshConfig.rootNamespace`), whose DestinationRules apply to every
 * namespace. Istio looks a host's DestinationRule up in the client's namespace, then the service's
 * namespace, then the root namespace.
 * @see https://istio.io/latest/docs/ops/best-practices/traffic-management/#cross-namespace-configuration
 */
export const ISTIO_ROOT_NAMESPACE = 'istio-system';

/** Port protocols (name prefix or appProtocol) Istio routes with `http` routes. */
const HTTP_PROTOCOLS = new Set(['http', 'http2', 'grpc', 'grpc-web', 'h2c', 'kubernetes.io/h2c']);

export function checkIstio(manifests: any[], options: ReadOptions, report: Report): void {
  const ns = (m: any): string => m?.metadata?.namespace ?? options.namespace;
  const host = (name: string | undefined, namespace: string) => resolveHost(name, namespace, options.clusterDomain);
  const drs = manifests.filter((m) => isIstioNetworking(m, 'DestinationRule'));
  const vss = manifests.filter((m) => isIstioNetworking(m, 'VirtualService'));
  const services = servicesByHost(manifests, options);
  const drHost = (dr: any) => host(dr.spec?.host, ns(dr));
  const destinationHosts = (vs: any): string[] => ['http', 'tcp', 'tls'].flatMap((list) => (vs.spec?.[list] ?? [])
    .flatMap((r: any) => [...(r?.route ?? []).map((d: any) => d?.destination), r?.mirror]).filter((d: any) => d?.host)
    .map((d: any) => host(d.host, ns(vs))));

  // Subsets: unique names and label sets.
  for (const dr of drs) {
    const names = new Set<string>();
    const labelSets = new Map<string, string>();
    for (const subset of dr.spec?.subsets ?? []) {
      if (names.has(subset?.name)) {
        report(SafetyRule.SUBSET_UNIQUE, Severity.ERROR, objectName(dr), `subset '${subset.name}' is defined twice`, 'give every subset a unique name');
      }
      names.add(subset?.name);
      const key = JSON.stringify(Object.entries(subset?.labels ?? {}).sort());
      const other = labelSets.get(key);
      if (other !== undefined && other !== subset.name) {
        report(SafetyRule.SUBSET_UNIQUE, Severity.ERROR, objectName(dr), `subsets '${other}' and '${subset.name}' have the same labels ${key}, so both select the same pods`,
          'give each subset the version label of its own Deployment');
      }
      labelSets.set(key, subset?.name);
    }
  }

  // Indexes, so that every rule below is linear in the number of objects.
  const drsByHost = new Map<string, any[]>();
  for (const dr of drs) {
    const h = drHost(dr);
    push(drsByHost, h, dr);
  }
  const routedHosts = new Set(vss.flatMap(destinationHosts));
  const drIndex = new Map(drs.map((dr, i) => [dr, i]));

  // The version-free Service of a mesh-routed host selects no version.
  for (const [serviceHost, service] of services) {
    const subsets = (drsByHost.get(serviceHost) ?? []).flatMap((dr) => dr.spec?.subsets ?? []);
    const routed = subsets.length > 0 || routedHosts.has(serviceHost);
    if (!routed) {
      continue;
    }
    const selector: Labels = service.spec?.selector ?? {};
    const versionKeys = new Set(['version', ...subsets.flatMap((s: any) => Object.keys(s?.labels ?? {}))
      .filter((key) => new Set(subsets.map((s: any) => s?.labels?.[key])).size > 1)]);
    for (const key of Object.keys(selector).filter((k) => versionKeys.has(k))) {
      report(SafetyRule.SERVICE_SELECTS_VERSION, Severity.ERROR, objectName(service),
        `selector has '${key}: ${selector[key]}', a label that tells versions apart, so the Service reaches one version only and a shift drops requests`,
        'select on the app label only and let DestinationRule subsets pick versions');
    }
  }

  // DestinationRule visibility: where Istio looks for it, and whom it is exported to.
  for (const vs of vss) {
    const routedSubsets = new Set(['http', 'tcp', 'tls'].flatMap((list) => (vs.spec?.[list] ?? [])
      .flatMap((r: any) => [...(r?.route ?? []).map((d: any) => d?.destination), r?.mirror])
      .filter((d: any) => d?.subset !== undefined).map((d: any) => `${host(d.host, ns(vs))}#${d.subset}`)));
    const candidates = new Set([...routedSubsets].flatMap((key) => drsByHost.get(key.slice(0, key.lastIndexOf('#'))) ?? []));
    for (const dr of [...candidates].sort((a, b) => drIndex.get(a)! - drIndex.get(b)!)) {
      const drh = drHost(dr);
      const defines = (dr.spec?.subsets ?? []).some((s: any) => routedSubsets.has(`${drh}#${s?.name}`));
      if (!defines) {
        continue;
      }
      const serviceNamespace = parseServiceHost(drh, options.clusterDomain)?.namespace;
      // A host outside the cluster domain (a ServiceEntry, or a Service of another cluster domain
      // than the one given) has no Service namespace to compare with.
      if (serviceNamespace !== undefined && ns(dr) !== serviceNamespace && ns(dr) !== ISTIO_ROOT_NAMESPACE) {
        report(SafetyRule.DESTINATION_RULE_VISIBLE, Severity.ERROR, objectName(dr),
          `is in namespace '${ns(dr)}', but Istio looks for the DestinationRule of ${drh} only in the caller's namespace, the service's namespace ('${serviceNamespace}') and the root namespace: callers elsewhere see none of its subsets (503)`,
          `move the DestinationRule to namespace '${serviceNamespace}'`);
      }
      const exportTo: unknown = dr.spec?.exportTo;
      if (Array.isArray(exportTo) && exportTo.length > 0 && !exportTo.includes('*') && !exportedWithin(vs, exportTo, ns(dr), ns(vs))) {
        report(SafetyRule.DESTINATION_RULE_VISIBLE, Severity.ERROR, objectName(dr),
          `exportTo ${JSON.stringify(exportTo)} hides its subsets from callers in other namespaces, while ${objectName(vs)} routes their requests to them (503)`,
          "drop exportTo (or use ['*']) on a DestinationRule whose subsets are routed");
      }
    }
  }

  // One VirtualService per host and gateway: every one after the first, by namespace and name (not by the order of
  // the manifests), is reported, naming the first.
  const identity = (vs: any) => `${ns(vs)}/${vs.metadata?.name}`;
  const owners = new Map<string, any>();
  for (const vs of [...vss].sort((a, b) => compareText(identity(a), identity(b)))) {
    const gateways: string[] = Array.isArray(vs.spec?.gateways) && vs.spec.gateways.length > 0 ? vs.spec.gateways : ['mesh'];
    for (const h of (vs.spec?.hosts ?? []).map((x: string) => host(x, ns(vs)))) {
      for (const gateway of gateways) {
        const key = `${h}|${gateway}`;
        const other = owners.get(key);
        if (other === undefined) {
          owners.set(key, vs);
        } else if (identity(other) !== identity(vs)) {
          const otherName = ns(other) === ns(vs) ? objectName(other) : `${objectName(other)} (namespace ${ns(other)})`;
          report(SafetyRule.ONE_VIRTUAL_SERVICE_PER_HOST, Severity.ERROR, objectName(vs),
            `routes host ${h} on gateway '${gateway}' like ${otherName}: Istio merges the two unpredictably, so weights and routes of one are ignored`,
            'keep one VirtualService per host and gateway');
        }
      }
    }
  }

  // Gateways without mesh: in-mesh callers bypass the VirtualService.
  for (const vs of vss) {
    const gateways: unknown = vs.spec?.gateways;
    const internal = (vs.spec?.hosts ?? []).map((x: string) => host(x, ns(vs))).filter((h: string) => services.has(h));
    if (Array.isArray(gateways) && gateways.length > 0 && !gateways.includes('mesh') && internal.length > 0) {
      report(SafetyRule.GATEWAYS_WITHOUT_MESH, Severity.WARNING, objectName(vs),
        `is bound to ${gateways.join(', ')} only, so in-mesh callers of ${internal.join(', ')} bypass its weights and reach every version the Service selects`,
        "add 'mesh' to gateways (or route in-mesh callers with a VirtualService of their own)");
    }
  }

  // Protocol: http routes do nothing on a port Istio does not treat as HTTP.
  for (const vs of vss) {
    if (!(vs.spec?.http ?? []).length) {
      continue;
    }
    for (const h of new Set(destinationHosts(vs))) {
      const ports: any[] = services.get(h)?.spec?.ports ?? [];
      const protocols = ports.map((p) => String(p?.appProtocol ?? (p?.name ?? '').split('-')[0]).toLowerCase());
      if (ports.length > 0 && protocols.every((p) => p !== '' && !HTTP_PROTOCOLS.has(p))) {
        report(SafetyRule.PROTOCOL, Severity.ERROR, objectName(vs),
          `has http routes for ${h}, whose Service ports are ${protocols.join(', ')}: Istio applies http routes to HTTP ports only, so its weights do nothing`,
          "name the Service port 'http' (or set appProtocol http/http2/grpc), or route the port with tcp routes");
      }
    }
  }

  // Strict mutual TLS required by the pods, plain text sent by the DestinationRule.
  const peerAuthentications = manifests.filter((m) => m?.kind === 'PeerAuthentication' && typeof m.apiVersion === 'string'
    && m.apiVersion.startsWith('security.istio.io/'));
  for (const dr of drs) {
    const drh = drHost(dr);
    const target = parseServiceHost(drh, options.clusterDomain);
    const selector: Labels = services.get(drh)?.spec?.selector ?? {};
    const required = target && strictPolicyOf(peerAuthentications, target.namespace, selector, ns);
    if (!required) {
      continue;
    }
    const policies: Array<[string, any]> = [['trafficPolicy', dr.spec?.trafficPolicy],
      ...(dr.spec?.subsets ?? []).map((s: any) => [`subset '${s?.name}'`, s?.trafficPolicy] as [string, any])];
    for (const [where, policy] of policies) {
      const modes = [policy?.tls?.mode, ...(policy?.portLevelSettings ?? []).map((p: any) => p?.tls?.mode)];
      if (modes.includes('DISABLE')) {
        report(SafetyRule.MTLS_MODE, Severity.ERROR, `${objectName(dr)} ${where}`,
          `sets tls mode DISABLE (plain text) towards pods of ${drh}, which ${objectName(required)} requires to use mutual TLS (STRICT): every request is refused`,
          'use tls mode ISTIO_MUTUAL (or drop the tls setting)');
      }
    }
  }
}

/** Whether a PeerAuthentication's selector can select pods the Service selects (an empty selector selects all). */
function overlaps(selector: Labels, serviceSelector: Labels): boolean {
  return Object.keys(selector).length === 0 || selects(selector, serviceSelector) || selects(serviceSelector, selector)
    || Object.entries(selector).every(([k, v]) => serviceSelector[k] === undefined || serviceSelector[k] === v);
}

/**
 * Whether every namespace the VirtualService is exported to also sees the DestinationRule
 * (`.` is the object's own namespace; a VirtualService without exportTo is exported everywhere).
 */
function exportedWithin(vs: any, drExportTo: unknown[], drNamespace: string, vsNamespace: string): boolean {
  const vsExportTo: unknown = vs.spec?.exportTo;
  if (!Array.isArray(vsExportTo) || vsExportTo.length === 0 || vsExportTo.includes('*')) {
    return false;
  }
  const seen = new Set(drExportTo.map((n) => (n === '.' ? drNamespace : n)));
  return vsExportTo.every((n) => n === '~' || seen.has(n === '.' ? vsNamespace : n));
}

/**
 * The PeerAuthentication that makes the pods of a Service require mutual TLS, if the policy that
 * applies to them is STRICT. Istio takes the most specific policy: one selecting the workload in
 * its namespace, else the namespace-wide one (no selector), else the mesh-wide one (root namespace,
 * no selector); `UNSET` (or no mtls) inherits from the next level.
 * @see https://istio.io/latest/docs/reference/config/security/peer_authentication/
 */
function strictPolicyOf(policies: any[], namespace: string, serviceSelector: Labels, ns: (m: any) => string): any | undefined {
  const selectorOf = (pa: any): Labels => pa.spec?.selector?.matchLabels ?? {};
  const levels = [
    policies.filter((pa) => ns(pa) === namespace && Object.keys(selectorOf(pa)).length > 0 && overlaps(selectorOf(pa), serviceSelector)),
    policies.filter((pa) => ns(pa) === namespace && Object.keys(selectorOf(pa)).length === 0),
    policies.filter((pa) => ns(pa) === ISTIO_ROOT_NAMESPACE && Object.keys(selectorOf(pa)).length === 0),
  ];
  for (const level of levels) {
    const decided = level.filter((pa) => pa.spec?.mtls?.mode !== undefined && pa.spec.mtls.mode !== 'UNSET');
    if (decided.length > 0) {
      return decided.find((pa) => pa.spec.mtls.mode === 'STRICT');
    }
  }
  return undefined;
}
