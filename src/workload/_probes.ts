import { Duration } from 'cdk8s';
import { Probe } from 'cdk8s-plus-28';
import { checkEnum, checkInteger, INT32_MAX, invalidProp, PathScope, wholeSeconds } from '../_validation';
import { HealthProbeOptions, ProbeKind } from './health-probes';

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
  const timeoutSeconds = wholeSeconds(scope, 'probes.timeout', timeout, 1, INT32_MAX);
  const period = options.period ?? Duration.seconds(5);
  const timing = {
    timeoutSeconds: timeout,
    initialDelaySeconds: options.initialDelay ?? Duration.seconds(5),
    periodSeconds: period,
    failureThreshold: options.failureThreshold ?? 3,
  };
  // Each is an int32 of the Kubernetes API.
  wholeSeconds(scope, 'probes.initialDelay', timing.initialDelaySeconds, 0, INT32_MAX);
  wholeSeconds(scope, 'probes.period', period, 1, INT32_MAX);
  checkInteger(scope, 'probes.failureThreshold', timing.failureThreshold, 1, INT32_MAX);
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
