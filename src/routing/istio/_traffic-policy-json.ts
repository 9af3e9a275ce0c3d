import { Duration } from 'cdk8s';
import { TlsMode, TrafficPolicyOptions } from './traffic-policy';
import {
  DestinationRuleSpecTrafficPolicy, DestinationRuleSpecTrafficPolicyLoadBalancerSimple, DestinationRuleSpecTrafficPolicyTlsMode,
} from '../../imports/networking.istio.io';

/** The Istio traffic policy of these options (`undefined` when nothing is set). */
export function trafficPolicyOf(options: TrafficPolicyOptions | undefined, defaultTls: boolean): DestinationRuleSpecTrafficPolicy | undefined {
  const o = options ?? {};
  const seconds = (d: Duration | undefined) => d && `${d.toSeconds({ integral: false })}s`;
  const tlsMode = o.tlsMode ?? (defaultTls ? TlsMode.ISTIO_MUTUAL : undefined);
  const od = o.outlierDetection;
  const cp = o.connectionPool;
  const policy: DestinationRuleSpecTrafficPolicy = {
    tls: tlsMode && { mode: tlsMode as string as DestinationRuleSpecTrafficPolicyTlsMode },
    outlierDetection: od && {
      consecutive5XxErrors: od.consecutive5xxErrors ?? 5,
      interval: seconds(od.interval ?? Duration.seconds(10)),
      baseEjectionTime: seconds(od.baseEjectionTime ?? Duration.seconds(30)),
      maxEjectionPercent: od.maxEjectionPercent ?? 50,
    },
    connectionPool: cp && compact({
      tcp: cp.maxConnections === undefined ? undefined : { maxConnections: cp.maxConnections },
      http: compact({
        http1MaxPendingRequests: cp.http1MaxPendingRequests,
        http2MaxRequests: cp.http2MaxRequests,
        maxRequestsPerConnection: cp.maxRequestsPerConnection,
        idleTimeout: seconds(cp.idleTimeout),
      }),
    }),
    loadBalancer: (o.loadBalancer || o.warmup) ? compact({
      simple: o.loadBalancer as string as DestinationRuleSpecTrafficPolicyLoadBalancerSimple | undefined,
      warmup: o.warmup && { duration: seconds(o.warmup)! },
    }) : undefined,
  };
  return compact(policy as { [key: string]: unknown });
}

/** The object without its undefined fields, or undefined when none is left. */
function compact<T extends { [key: string]: unknown }>(obj: T): T | undefined {
  const entries = Object.entries(obj).filter(([, v]) => v !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries) as T : undefined;
}
