import { Duration } from 'cdk8s';

/**
 * How the kubelet checks a container's health.
 */
export enum ProbeKind {
  /**
   * Run a command inside the container (`wget` against localhost by default). Works
   * under Istio mutual TLS, where the kubelet cannot reach the pod over plain HTTP.
   */
  EXEC = 'exec',
  /**
   * An `httpGet` probe from the kubelet. Under Istio STRICT mTLS this relies on the
   * sidecar injector's probe rewrite (`sidecar.istio.io/rewriteAppHTTPProbers`, on by default).
   */
  HTTP_GET = 'httpGet',
}

/**
 * Readiness and liveness probes of one version's container.
 *
 * @see https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
 */
export interface HealthProbeOptions {
  /**
   * How the probes run.
   * @default ProbeKind.EXEC
   */
  readonly kind?: ProbeKind;
  /**
   * HTTP path that answers 2xx once the container can take traffic.
   * @default '/readyz'
   */
  readonly readinessPath?: string;
  /**
   * HTTP path that answers 2xx while the container is alive.
   * @default '/healthz'
   */
  readonly livenessPath?: string;
  /**
   * The whole readiness command, replacing the default `wget` (exec probes only).
   * @default - `wget --quiet --tries=1 --timeout=<timeout - 1> --spider http://localhost:<port><readinessPath>`
   */
  readonly readinessCommand?: string[];
  /**
   * The whole liveness command, replacing the default `wget` (exec probes only).
   * @default - `wget --quiet --tries=1 --timeout=<timeout - 1> --spider http://localhost:<port><livenessPath>`
   */
  readonly livenessCommand?: string[];
  /**
   * How long one probe may take.
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
  /**
   * Delay before the first probe after the container starts.
   * @default Duration.seconds(5)
   */
  readonly initialDelay?: Duration;
  /**
   * Interval between probes.
   * @default Duration.seconds(5)
   */
  readonly period?: Duration;
  /**
   * Consecutive failures before the pod is marked unready (readiness) or restarted (liveness).
   * @default 3
   */
  readonly failureThreshold?: number;
}
