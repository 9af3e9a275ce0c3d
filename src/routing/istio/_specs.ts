import { serviceFqdn } from '../../_conventions';
import {
  DestinationRuleSpec, DestinationRuleSpecSubsetsTrafficPolicy, DestinationRuleSpecTrafficPolicy,
  VirtualServiceSpec, VirtualServiceSpecHttpMatchHeaders, VirtualServiceSpecHttpRetries,
} from '../../imports/networking.istio.io';
import { HeaderMatchType, ReleaseStage } from '../../plan/release-stage';

/** What the Istio objects of a stage need besides the stage itself. */
export interface RoutingContext {
  readonly app: string;
  readonly namespace: string;
  readonly clusterDomain: string;
  readonly port: number;
  /** VirtualService hosts; the service FQDN when not given. */
  readonly hosts?: string[];
  readonly gateways?: string[];
  /** Retries of every route, or undefined for Istio's default. */
  readonly retries?: VirtualServiceSpecHttpRetries;
  /** Route timeout as an Istio duration string. */
  readonly timeout?: string;
  /** The DestinationRule's traffic policy. */
  readonly trafficPolicy?: DestinationRuleSpecTrafficPolicy;
  /** Each subset's traffic policy, by version. */
  readonly subsetTrafficPolicies?: { [version: string]: DestinationRuleSpecTrafficPolicy | undefined };
}

/** The FQDN of the app's Service. */
export function serviceHost(ctx: RoutingContext): string {
  return serviceFqdn(ctx.app, ctx.namespace, ctx.clusterDomain);
}

/** The DestinationRule spec of a stage: one subset per version that has one. */
export function destinationRuleSpec(stage: ReleaseStage, ctx: RoutingContext): DestinationRuleSpec {
  return {
    host: serviceHost(ctx),
    trafficPolicy: ctx.trafficPolicy,
    subsets: stage.routable.map((version) => ({
      name: version,
      labels: { version },
      trafficPolicy: ctx.subsetTrafficPolicies?.[version] as DestinationRuleSpecSubsetsTrafficPolicy | undefined,
    })),
  };
}

/**
 * The VirtualService spec of a stage: header routes first, then the weighted catch-all
 * route (no `match`), which also carries the mirror.
 */
export function virtualServiceSpec(stage: ReleaseStage, ctx: RoutingContext): VirtualServiceSpec {
  const host = serviceHost(ctx);
  const destination = (version: string) => ({ host, subset: version, port: { number: ctx.port } });
  const resilience = { timeout: ctx.timeout, retries: ctx.retries };
  const headerRoutes = stage.headerRoutes.map((r) => ({
    name: `header-${r.header}-${r.version}`,
    match: [{ headers: { [r.header]: { [r.matchType ?? HeaderMatchType.EXACT]: r.value } as VirtualServiceSpecHttpMatchHeaders } }],
    route: [{ destination: destination(r.version) }],
    ...resilience,
  }));
  const mirror = stage.mirror && {
    mirror: destination(stage.mirror.version),
    mirrorPercentage: { value: stage.mirror.percent ?? 100 },
  };
  return {
    hosts: ctx.hosts ?? [host],
    gateways: ctx.gateways,
    http: [
      ...headerRoutes,
      {
        name: 'weighted',
        route: stage.weights.map((w) => ({ destination: destination(w.version), weight: w.weight })),
        ...mirror,
        ...resilience,
      },
    ],
  };
}
