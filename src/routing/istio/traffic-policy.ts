import { Duration } from 'cdk8s';

/** TLS mode of connections to the service's pods. */
export enum TlsMode {
  /** Istio mutual TLS with workload certificates (the mesh default). */
  ISTIO_MUTUAL = 'ISTIO_MUTUAL',
  /** Plain text: only for pods without a sidecar. */
  DISABLE = 'DISABLE',
}

/** Load-balancing algorithm across the pods of a subset. */
export enum LoadBalancerAlgorithm {
  /** Envoy's least-request (Istio's default); supports warmup. */
  LEAST_REQUEST = 'LEAST_REQUEST',
  /** Round robin; supports warmup. */
  ROUND_ROBIN = 'ROUND_ROBIN',
  /** Random choice. */
  RANDOM = 'RANDOM',
}

/**
 * Ejects pods that keep failing from the load-balancing pool (circuit breaking).
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#OutlierDetection
 */
export interface OutlierDetectionOptions {
  /**
   * Consecutive 5xx responses (or connection failures) before a pod is ejected.
   * @default 5
   */
  readonly consecutive5xxErrors?: number;
  /**
   * Time between ejection sweeps.
   * @default Duration.seconds(10)
   */
  readonly interval?: Duration;
  /**
   * Minimum ejection time (grows with each ejection of the same pod).
   * @default Duration.seconds(30)
   */
  readonly baseEjectionTime?: Duration;
  /**
   * Most pods of the pool that may be ejected at once, in percent.
   * @default 50
   */
  readonly maxEjectionPercent?: number;
}

/**
 * Limits on connections and requests to the service's pods.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#ConnectionPoolSettings
 */
export interface ConnectionPoolOptions {
  /**
   * Most TCP connections to one pod.
   * @default - Istio's default (unlimited)
   */
  readonly maxConnections?: number;
  /**
   * Most requests queued while waiting for a connection.
   * @default - Istio's default (unlimited)
   */
  readonly http1MaxPendingRequests?: number;
  /**
   * Most concurrent requests to the destination.
   * @default - Istio's default (unlimited)
   */
  readonly http2MaxRequests?: number;
  /**
   * Requests per connection before it is closed (1 disables keep-alive).
   * @default - Istio's default (unlimited)
   */
  readonly maxRequestsPerConnection?: number;
  /**
   * Idle time after which a connection is closed.
   * @default - Istio's default (1 hour)
   */
  readonly idleTimeout?: Duration;
}

/**
 * DestinationRule traffic policy of a release, or of one version's subset.
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/#TrafficPolicy
 */
export interface TrafficPolicyOptions {
  /**
   * TLS mode towards the pods.
   * @default TlsMode.ISTIO_MUTUAL
   */
  readonly tlsMode?: TlsMode;
  /**
   * Outlier detection (ejecting failing pods).
   * @default - none
   */
  readonly outlierDetection?: OutlierDetectionOptions;
  /**
   * Connection pool limits.
   * @default - none
   */
  readonly connectionPool?: ConnectionPoolOptions;
  /**
   * Load-balancing algorithm.
   * @default - Istio's default (LEAST_REQUEST)
   */
  readonly loadBalancer?: LoadBalancerAlgorithm;
  /**
   * Slow start: new pods receive a share of traffic that grows over this window instead
   * of a full share at once (load-balancer warmup).
   * @default - none
   */
  readonly warmup?: Duration;
}
