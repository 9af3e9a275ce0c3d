/**
 * `mesh-release rollout`, `promote`, `abort` and `status`: the plan read like `plan` and `runbook` do
 * (`cli/stages.ts`: `--app`, `--release`, `--stages`), the cluster found like kubectl does (`kube-config.ts`),
 * then the driver (`driver.ts`). SIGINT and SIGTERM stop it after the current step (a wait stops at once: it
 * changes nothing), with the Lease given up and the release where it was.
 */
import { RolloutHooks } from './analysis';
import { RolloutDriver } from './driver';
import { KubeClient } from './kube-client';
import { loadKubeAccess } from './kube-config';
import { driverIdentity } from './lease';
import { analyzedAmong, lazyPrometheus, planHooks, rolloutsOf } from './plan-analysis';
import { prometheusAccess, PrometheusAccessOptions } from './prometheus-access';
import { Reporter } from './reporter';
import { planDigest, readStateRecord, StateRecord } from './state-record';
import { findOnPath, ProxyWaitMode, WaitSettings } from './waits';
import { STAGE_ANNOTATION, rolloutObjectName } from '../_conventions';
import { maskedUrl } from '../analysis/_prometheus';
import { CliError, EXIT_UNSAFE, EXIT_USAGE } from '../cli/errors';
import { releaseObjectOf } from '../cli/release-view';
import { ENDPOINTS_TIMEOUT, PROPAGATION_TIMEOUT, ROUTE_TIMEOUT, TIMEOUT_VARIABLES } from '../cli/runbook-steps';
import { StageResult, SynthesizeOptions, synthesizePlan } from '../cli/stages';

/** The options of the four commands (as parsed by `cli/program.ts`). */
export interface RolloutCommandOptions extends Omit<SynthesizeOptions, 'force'>, PrometheusAccessOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly prometheus?: string;
  readonly to?: string;
  readonly output?: 'text' | 'json';
  /** Skip the live-stage guard (the safety check still runs). */
  readonly force?: boolean;
  /** Run a plan rolled back before. */
  readonly retry?: boolean;
  /** Seconds of the dwell that stands for Istio's propagation without istioctl. */
  readonly propagationWait?: number;
  /** Wait for istiod's `Reconciled` conditions instead of `istioctl proxy-status`. */
  readonly istioStatus?: boolean;
  /** Every wait at most this many seconds. */
  readonly waitTimeout?: number;
  /** Seconds the release's Lease lasts without renewal. */
  readonly leaseDuration?: number;
}

/** The dwell standing for Istio's propagation without istioctl, by default (the runbook's MESH_RELEASE_PROPAGATION_FALLBACK). */
export const DEFAULT_PROPAGATION_WAIT = 30;
/** How long a Lease lasts without renewal, by default. */
export const DEFAULT_LEASE_SECONDS = 30;

/**
 * `rollout`, `promote` or `abort`; returns the exit code. The plan's own hooks (its `pauseBefore`, its analysis
 * against `--prometheus`, checked reachable first) unless `hooks` replaces some (tests).
 */
export async function rolloutCommand(command: 'rollout' | 'promote' | 'abort', options: RolloutCommandOptions, hooks: Partial<RolloutHooks> = {},
  env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const reporter = new Reporter(options.output ?? 'text');
  try {
    return await drive(command, options, hooks, env, reporter);
  } catch (e) {
    if (e instanceof CliError && options.output === 'json') {
      reporter.emit({ event: 'error', message: e.message, exitCode: e.exitCode });
      e.reportedAsJson = true;
    }
    throw e;
  }
}

async function drive(command: 'rollout' | 'promote' | 'abort', options: RolloutCommandOptions, hooks: Partial<RolloutHooks>,
  env: NodeJS.ProcessEnv, reporter: Reporter): Promise<number> {
  const access = loadKubeAccess({ kubeconfig: options.kubeconfig, context: options.context, env });
  const plan = await synthesizePlan({ ...options, force: false, namespace: options.namespace ?? access.namespace },
    (message) => reporter.emit({ event: 'note', message }));
  const rollouts = rolloutsOf(plan);
  const names = plan.stages.map((s) => s.name);
  if (options.to !== undefined && !names.includes(options.to)) {
    throw new CliError(`--to ${options.to}: not a stage of the plan (${names.join(', ')})`, EXIT_USAGE);
  }
  // abort analyzes nothing. rollout and promote need Prometheus when a stage they apply is analyzed: known once the
  // live stage is read (a release already at its target applies nothing, and needs none), checked before the first apply.
  const target = options.to !== undefined ? names.indexOf(options.to) : names.length - 1;
  if (command === 'abort' && options.prometheus !== undefined) {
    reporter.emit({ event: 'note', message: `--prometheus ${maskedUrl(options.prometheus)}: not used, abort analyzes nothing` });
  }
  const accessFlags = [
    ...(options.prometheusHeader?.length ? ['--prometheus-header'] : []),
    ...(options.prometheusBearerTokenFile !== undefined ? ['--prometheus-bearer-token-file'] : []),
    ...(options.prometheusCaFile !== undefined ? ['--prometheus-ca-file'] : []),
    ...(options.prometheusInsecureSkipTlsVerify ? ['--prometheus-insecure-skip-tls-verify'] : []),
  ];
  if (accessFlags.length > 0 && options.prometheus === undefined && command !== 'abort') {
    throw new CliError(`${accessFlags.join(', ')}: how to reach --prometheus <url>, which is not given`, EXIT_USAGE);
  }
  const prometheus = command === 'abort' ? undefined : lazyPrometheus(options.prometheus, undefined, prometheusAccess(options));
  const checkPrometheus = async (stages: readonly StageResult[]) => {
    const analyzed = hooks.analyzeStage ? [] : analyzedAmong(rollouts, stages.map((s) => s.name));
    await prometheus?.connect(analyzed);
    if (options.prometheus !== undefined && analyzed.length === 0 && !hooks.analyzeStage) {
      reporter.emit({
        event: 'note',
        message: `--prometheus ${maskedUrl(options.prometheus)}: not used, ${rollouts.some((r) => r.spec.analysis)
          ? `no stage up to ${names[target]} is analyzed` : 'the plan has no analysis'}`,
      });
    }
  };
  const kube = new KubeClient(access);
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    reporter.emit({ event: 'note', message: `${signal} received: stopping after the current step` });
    controller.abort(`${signal} received`);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const planned: RolloutHooks = { ...planHooks(rollouts, prometheus?.querier), beforeApplying: checkPrometheus };
    const driver = new RolloutDriver(kube, plan, { ...planned, ...hooks }, reporter, waitSettings(options, env), {
      to: options.to,
      force: options.force,
      retry: options.retry,
      prometheus: options.prometheus,
      leaseSeconds: options.leaseDuration ?? DEFAULT_LEASE_SECONDS,
      identity: driverIdentity(),
    }, controller);
    return await (command === 'abort' ? driver.abort() : driver.rollout(command === 'promote'));
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    kube.close();
  }
}

/** `status`: where each release of the plan stands, read from the cluster. */
export async function statusCommand(options: RolloutCommandOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const access = loadKubeAccess({ kubeconfig: options.kubeconfig, context: options.context, env });
  const notes: string[] = [];
  const plan = await synthesizePlan({ ...options, force: false, namespace: options.namespace ?? access.namespace }, (m) => notes.push(m));
  const kube = new KubeClient(access);
  try {
    const digest = planDigest(plan.stages);
    for (const release of plan.releases) {
      const object = plan.stages.map((s) => releaseObjectOf(s.manifests, release, plan.read.namespace)).find((o) => o !== undefined);
      const [live, record, lease] = await Promise.all([
        object ? kube.find(object.apiVersion, object.kind, release.namespace, release.name) : undefined,
        readStateRecord(kube, release),
        kube.find('coordination.k8s.io/v1', 'Lease', release.namespace, rolloutObjectName(release.name)),
      ]);
      const driver = liveHolder(lease);
      const status = {
        release: release.name,
        namespace: release.namespace,
        stage: live ? live.metadata?.annotations?.[STAGE_ANNOTATION] ?? null : null,
        state: reportedState(record, driver),
        // What the last driver recorded (`state` says `failed` for a record under way that no driver carries on).
        recordedState: record?.state ?? null,
        // The record is shared by the releases of one plan: each shows its own results.
        analysis: (record?.analysis ?? [])
          .filter((r) => r.release === undefined || (r.release === release.name && r.namespace === release.namespace)),
        applying: record?.applying ?? null,
        pausedBefore: record?.pausedBefore ?? null,
        reason: record?.reason ?? null,
        digest: record?.digest ?? null,
        planDigest: digest,
        driver: driver ?? null,
        updated: record?.updated ?? null,
      };
      if (options.output === 'json') {
        process.stdout.write(`${JSON.stringify(status)}\n`);
      } else {
        process.stdout.write([
          `${release.namespace}/${release.name}: stage ${status.stage ?? '(none: not applied)'}, ${status.state}`
            + `${status.applying ? ` (applying ${status.applying})` : ''}${status.pausedBefore ? ` before ${status.pausedBefore}` : ''}`,
          ...(status.reason ? [`  reason: ${status.reason}`] : []),
          ...(status.digest && status.digest !== digest ? [`  the plan read now differs from the one recorded (${digest.slice(0, 12)} vs ${status.digest.slice(0, 12)})`] : []),
          ...(status.driver ? [`  driven by ${status.driver}`] : []),
          ...status.analysis.map((r) => `  ${r.stage ? `${r.stage} ` : ''}${r.evaluation ? `evaluation ${r.evaluation}/${r.count} ` : ''}`
            + `${r.metric}: ${r.value ?? 'no data'} (threshold ${r.threshold}) ${r.passed ? 'pass' : (r.verdict ?? 'fail').toUpperCase()}`
            + `${r.message ? `: ${r.message}` : ''}`),
        ].join('\n') + '\n');
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof Error && e.name === 'KubeApiError') {
      // Not reachable (a wrong kubeconfig or context): bad input, as for `rollout`; refused by the API server: 1.
      throw new CliError(e.message, (e as any).status === 0 ? EXIT_USAGE : EXIT_UNSAFE);
    }
    throw e;
  } finally {
    kube.close();
  }
}

/**
 * The state `status` reports: the record's, except that a release left between two stages (a transition or a roll
 * back under way) by a driver that no longer runs — refused mid-step, stopped, killed, its roll back timed out — is
 * `failed`: nothing carries it on until a person runs `rollout` (to go on) or `abort` (to roll back) again.
 */
export function reportedState(record: StateRecord | undefined, driver: string | undefined): string {
  if (!record) {
    return 'not-started';
  }
  const midway = record.state === 'rolling-back' || (record.state === 'progressing' && record.applying !== undefined);
  return midway && driver === undefined ? 'failed' : record.state;
}

/** The holder of a release's Lease if it was renewed within its duration (by this machine's clock: for display only). */
function liveHolder(lease: any): string | undefined {
  const holder: string | undefined = lease?.spec?.holderIdentity || undefined;
  const renewed = Date.parse(lease?.spec?.renewTime ?? lease?.spec?.acquireTime ?? '');
  const duration = lease?.spec?.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
  return holder !== undefined && !Number.isNaN(renewed) && renewed + duration * 1000 > Date.now() ? holder : undefined;
}

/** The waits' timeouts (the runbook's environment variables override them too) and how Istio's propagation is waited for. */
function waitSettings(options: RolloutCommandOptions, env: NodeJS.ProcessEnv): WaitSettings {
  const seconds = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === '') {
      return fallback;
    }
    if (!/^\d+$/.test(value)) {
      throw new CliError(`${name} must be a whole number of seconds, got '${value}'`);
    }
    return Number(value);
  };
  const istioctl = findOnPath('istioctl', env);
  return {
    pollMs: 1000,
    dwellSeconds: seconds('MESH_RELEASE_DWELL', 5),
    routeTimeout: seconds(TIMEOUT_VARIABLES.route, ROUTE_TIMEOUT),
    endpointsTimeout: seconds(TIMEOUT_VARIABLES.endpoints, ENDPOINTS_TIMEOUT),
    propagationTimeout: seconds(TIMEOUT_VARIABLES.propagation, PROPAGATION_TIMEOUT),
    maxSeconds: options.waitTimeout,
    proxyMode: options.istioStatus ? ProxyWaitMode.STATUS : istioctl ? ProxyWaitMode.ISTIOCTL : ProxyWaitMode.DWELL,
    propagationWait: options.propagationWait ?? seconds('MESH_RELEASE_PROPAGATION_FALLBACK', DEFAULT_PROPAGATION_WAIT),
    istioctl: istioctl ? {
      command: istioctl,
      args: [...(options.kubeconfig ? ['--kubeconfig', options.kubeconfig] : []), ...(options.context ? ['--context', options.context] : [])],
    } : undefined,
  };
}
