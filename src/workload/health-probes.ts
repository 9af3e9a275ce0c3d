import { Duration } from 'cdk8s';
import { Probe } from 'cdk8s-plus-28';
import { checkEnum, invalidProp, PathScope, wholeSeconds } from '../_validation';

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

/** The readiness and liveness probes resolved from `HealthProbeOptions`. */
export interface ResolvedProbes {
  readonly readiness: Probe;
  readonly liveness: Probe;
}

/** Builds the readiness and liveness probes, refusing contradictory options. */
export function resolveProbes(scope: PathScope, port: number, options: HealthProbeOptions = {}): ResolvedProbes {
  const kind = options.kind ?? ProbeKind.EXEC;
  checkEnum(scope, 'probes.kind', kind, ProbeKind);
  const timeout = options.timeout ?? Duration.seconds(5);
  const timeoutSeconds = wholeSeconds(scope, 'probes.timeout', timeout, 1);
  const period = options.period ?? Duration.seconds(5);
  const timing = {
    timeoutSeconds: timeout,
    initialDelaySeconds: options.initialDelay ?? Duration.seconds(5),
    periodSeconds: period,
    failureThreshold: options.failureThreshold ?? 3,
  };
  wholeSeconds(scope, 'probes.initialDelay', timing.initialDelaySeconds);
  wholeSeconds(scope, 'probes.period', period, 1);
  if (!Number.isInteger(timing.failureThreshold) || timing.failureThreshold < 1) {
    throw invalidProp(scope, 'probes.failureThreshold', timing.failureThreshold, 'must be an integer >= 1');
  }
  const paths = {
    readinessPath: options.readinessPath ?? '/readyz',
    livenessPath: options.livenessPath ?? '/healthz',
  };
  for (const [prop, path] of Object.entries(paths)) {
    if (!/^\/[^\s]*$/.test(path)) {
      throw invalidProp(scope, `probes.${prop}`, path, "must be an absolute HTTP path starting with '/', without spaces");
    }
  }

  if (kind === ProbeKind.HTTP_GET) {
    for (const prop of ['readinessCommand', 'livenessCommand'] as const) {
      if (options[prop]) {
        throw invalidProp(scope, `probes.${prop}`, options[prop],
          'applies to exec probes only: drop it or set probes.kind to ProbeKind.EXEC');
      }
    }
    return {
      readiness: Probe.fromHttpGet(paths.readinessPath, { port, ...timing }),
      liveness: Probe.fromHttpGet(paths.livenessPath, { port, ...timing }),
    };
  }

  // wget must give up before the kubelet does, or a slow answer reads as a probe timeout.
  const wget = (path: string) => ['wget', '--quiet', '--tries=1', `--timeout=${Math.max(timeoutSeconds - 1, 1)}`, '--spider', `http://localhost:${port}${path}`];
  for (const prop of ['readinessCommand', 'livenessCommand'] as const) {
    const command = options[prop];
    if (command && (command.length === 0 || command.some((arg) => arg === ''))) {
      throw invalidProp(scope, `probes.${prop}`, command, 'must be a non-empty command with no empty arguments');
    }
  }
  return {
    readiness: Probe.fromCommand(options.readinessCommand ?? wget(paths.readinessPath), timing),
    liveness: Probe.fromCommand(options.livenessCommand ?? wget(paths.livenessPath), timing),
  };
}
