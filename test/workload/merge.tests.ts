import { Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DisruptionBudget, ProbeKind, Scaling, WorkloadOptions } from '../../src';
import { mergeWorkloadOptions } from '../../src/workload/_merge';

describe('mergeWorkloadOptions', () => {
  test('probes merge field by field: a version timeout keeps the default readinessPath', () => {
    // GIVEN
    const defaults: WorkloadOptions = { probes: { readinessPath: '/ready', kind: ProbeKind.HTTP_GET } };
    // WHEN
    const merged = mergeWorkloadOptions(defaults, { probes: { timeout: Duration.seconds(3) } });
    // THEN
    expect(merged.probes).toEqual({ readinessPath: '/ready', kind: ProbeKind.HTTP_GET, timeout: Duration.seconds(3) });
  });

  test('resources merge request by request and limit by limit', () => {
    const defaults: WorkloadOptions = {
      resources: {
        cpu: { request: kplus.Cpu.millis(200), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(256) },
      },
    };
    const merged = mergeWorkloadOptions(defaults, {
      resources: { cpu: { limit: kplus.Cpu.units(2) }, ephemeralStorage: { limit: Size.gibibytes(1) } },
    });
    expect(merged.resources).toEqual({
      cpu: { request: kplus.Cpu.millis(200), limit: kplus.Cpu.units(2) },
      memory: { request: Size.mebibytes(256) },
      ephemeralStorage: { limit: Size.gibibytes(1) },
    });
  });

  test('securityContext merges field by field, capabilities add/drop each, seccompProfile whole', () => {
    const defaults: WorkloadOptions = {
      securityContext: {
        user: 1000,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.LOCALHOST, localhostProfile: 'p.json' },
      },
    };
    const merged = mergeWorkloadOptions(defaults, {
      securityContext: {
        readOnlyRootFilesystem: false,
        capabilities: { add: [kplus.Capability.NET_BIND_SERVICE] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      },
    });
    expect(merged.securityContext).toEqual({
      user: 1000,
      readOnlyRootFilesystem: false,
      capabilities: { drop: [kplus.Capability.ALL], add: [kplus.Capability.NET_BIND_SERVICE] },
      seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
    });
  });

  test('podSecurityContext merges field by field', () => {
    const merged = mergeWorkloadOptions({ podSecurityContext: { fsGroup: 2000, user: 1000 } }, { podSecurityContext: { user: 1001 } });
    expect(merged.podSecurityContext).toEqual({ fsGroup: 2000, user: 1001 });
  });

  test('env merges by name, the version winning', () => {
    const merged = mergeWorkloadOptions(
      { env: { LOG_LEVEL: kplus.EnvValue.fromValue('info'), REGION: kplus.EnvValue.fromValue('eu') } },
      { env: { LOG_LEVEL: kplus.EnvValue.fromValue('debug'), FEATURE: kplus.EnvValue.fromValue('on') } },
    );
    expect(Object.fromEntries(Object.entries(merged.env!).map(([k, v]) => [k, v.value]))).toEqual({ LOG_LEVEL: 'debug', REGION: 'eu', FEATURE: 'on' });
  });

  test('labels and podAnnotations merge by key', () => {
    const merged = mergeWorkloadOptions(
      { labels: { team: 'web', tier: 'front' }, podAnnotations: { 'prometheus.io/scrape': 'true' } },
      { labels: { tier: 'canary' }, podAnnotations: { 'prometheus.io/port': '9090' } },
    );
    expect(merged.labels).toEqual({ team: 'web', tier: 'canary' });
    expect(merged.podAnnotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' });
  });

  test('envFrom lists are concatenated, the defaults first', () => {
    const chart = Testing.chart();
    const a = kplus.Env.fromSecret(kplus.Secret.fromSecretName(chart, 'A', 'a'));
    const b = kplus.Env.fromSecret(kplus.Secret.fromSecretName(chart, 'B', 'b'));
    expect(mergeWorkloadOptions({ envFrom: [a] }, { envFrom: [b] }).envFrom).toEqual([a, b]);
  });

  test('value-like options are replaced whole', () => {
    const defaults: WorkloadOptions = {
      scaling: Scaling.autoscale({ maxReplicas: 10 }),
      command: ['node', 'server.js'],
      args: ['--port', '3000'],
      disruptionBudget: DisruptionBudget.minAvailable(kplus.PercentOrAbsolute.percent(50)),
      preStopSleep: Duration.seconds(5),
      proxyLifecycle: true,
    };
    const overrides: WorkloadOptions = { scaling: Scaling.fixed(1), args: ['--debug'], proxyLifecycle: false };
    const merged = mergeWorkloadOptions(defaults, overrides);
    expect(merged.scaling).toBe(overrides.scaling);
    expect(merged.args).toEqual(['--debug']);
    expect(merged.command).toEqual(['node', 'server.js']);
    expect(merged.disruptionBudget).toBe(defaults.disruptionBudget);
    expect(merged.preStopSleep).toBe(defaults.preStopSleep);
    expect(merged.proxyLifecycle).toBe(false);
  });

  test('a field given as undefined counts as not given, at every level', () => {
    const merged = mergeWorkloadOptions(
      { preStopSleep: Duration.seconds(5), probes: { readinessPath: '/ready' }, resources: { cpu: { request: kplus.Cpu.millis(200) } } },
      { preStopSleep: undefined, probes: { readinessPath: undefined }, resources: { cpu: { request: undefined } } },
    );
    expect(merged).toEqual({ preStopSleep: Duration.seconds(5), probes: { readinessPath: '/ready' }, resources: { cpu: { request: kplus.Cpu.millis(200) } } });
  });

  test('no defaults: the overrides as they are', () => {
    const overrides: WorkloadOptions = { probes: { timeout: Duration.seconds(2) } };
    expect(mergeWorkloadOptions(undefined, overrides)).toEqual(overrides);
  });

  test('fields outside WorkloadOptions (a VersionSpec image) pass through from the overrides', () => {
    expect(mergeWorkloadOptions({}, { image: 'x:1' } as WorkloadOptions)).toEqual({ image: 'x:1' });
  });

  test('neither argument is modified', () => {
    const defaults: WorkloadOptions = { labels: { a: '1' }, resources: { cpu: { request: kplus.Cpu.millis(1) } } };
    const overrides: WorkloadOptions = { labels: { b: '2' }, resources: { cpu: { limit: kplus.Cpu.millis(2) } } };
    mergeWorkloadOptions(defaults, overrides);
    expect(defaults).toEqual({ labels: { a: '1' }, resources: { cpu: { request: kplus.Cpu.millis(1) } } });
    expect(overrides).toEqual({ labels: { b: '2' }, resources: { cpu: { limit: kplus.Cpu.millis(2) } } });
  });
});
