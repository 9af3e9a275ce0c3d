/**
 * `mesh-release rollout` with the plan's own analysis, against a real control plane (kube-apiserver and
 * kube-controller-manager from KUBEBUILDER_ASSETS, the simulated kubelet and mesh) AND a real Prometheus (Debian's
 * `prometheus`, scraping every second): a traffic simulator (`_live-traffic.ts`) reads the routing the driver applied
 * from the cluster every second and sends each version its share of the requests, with the error rate and latency
 * the scenario sets, as Istio's proxies would report them to Prometheus. Each scenario is a case of its own (its
 * namespace), run side by side on one control plane and one Prometheus. In every scenario a version never has a
 * share of traffic without the ready pods its floors promise (sampled every second).
 *
 * Intervals of 4 s (a window of four 1 s scrapes: a version's series appear within a scrape or two of its first
 * request) and counts of 2-3 keep it short.
 *
 * Run it alone: KUBEBUILDER_ASSETS=... npx jest --ci --testMatch '<rootDir>/test/integration/rollout-analysis.integration.ts'
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { caseNamed } from './_cases';
import { ControlPlane, describeWithControlPlane, until } from './_control-plane';
import { SimulatedKubelet } from './_kubelet';
import { LiveTraffic } from './_live-traffic';
import { SimulatedMeshController } from './_mesh-controller';
import { describeWithPrometheus, freePort, PrometheusServer, TrafficExporter } from './_prometheus';
import { MetricJson, RolloutJson } from './_rollout-options';
import { Run, runAsync, succeeded } from './_run';
import { readRelease, underFloors } from './_sampler';
import { cliBuild, tmpDir } from '../cli/_cli';

const APP_DIR = path.join(__dirname, 'app');
const SUCCESS: MetricJson = { successRate: { min: 99 } };
const LATENCY: MetricJson = { latency: { percentile: 99, maxMs: 500 } };

describeWithControlPlane('mesh-release rollout with its analysis against a real Prometheus', () => describeWithPrometheus('(Prometheus)', () => {
  let cp: ControlPlane;
  let kubelet: SimulatedKubelet;
  let mesh: SimulatedMeshController;
  let prometheus: PrometheusServer;
  const exporter = new TrafficExporter('default');
  const work = tmpDir();

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllers: true });
    [kubelet, mesh] = await Promise.all([SimulatedKubelet.start(cp.kube), SimulatedMeshController.start(cp.kube)]);
    prometheus = await PrometheusServer.start([`127.0.0.1:${await exporter.start()}`]);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await exporter.stop();
    await kubelet?.stop();
    await mesh?.stop();
    await cp?.stop();
  }, 60_000);

  afterEach(() => {
    expect(kubelet.errors).toEqual([]);
    expect(mesh.errors).toEqual([]);
  });

  /** `mesh-release <command>` (the built CLI, as users run it) of case `name` with the plan's analysis and pauses. */
  function cli(name: string, command: string, rollout: RolloutJson, args: string[] = []): Promise<Run> {
    const { RELEASE_STAGE: _, ...env } = cp.env({ MESH_RELEASE_DWELL: '0', INTEG_CASE: name, INTEG_ROLLOUT: JSON.stringify(rollout) });
    return runAsync(process.execPath, [path.join(cliBuild(), 'cli', 'main.js'), command, '--app', APP_DIR, '--out', path.join(work, name), ...args], env);
  }

  /** The namespace of case `name`, its prerequisites, and traffic following its live routing. */
  async function prepare(name: string, reporter = 'destination'): Promise<LiveTraffic> {
    await cp.createNamespaces(name);
    await Promise.all(caseNamed(name).prerequisites.map((o) => cp.kube.apply(o)));
    return new LiveTraffic(cp.kube, exporter, name, 'web', 100, reporter).start();
  }

  /** Stops the traffic; no sample gave a version a share without the ready pods its floors promise. */
  async function checkCapacity(name: string, traffic: LiveTraffic): Promise<void> {
    const samples = await traffic.stop();
    expect(samples.length).toBeGreaterThan(3);
    expect(underFloors(samples, path.join(work, name), name, 'web', 'v1')).toEqual([]);
  }

  async function status(name: string, rollout: RolloutJson): Promise<any> {
    const run = await cli(name, 'status', rollout, ['--output', 'json']);
    expect({ status: run.status, output: run.status === 0 ? '' : run.output }).toEqual({ status: 0, output: '' });
    return JSON.parse(run.output.trim().split('\n').pop()!);
  }

  async function deployments(namespace: string): Promise<string[]> {
    return (await cp.kube.list('apps/v1', 'Deployment', namespace)).items.map((d) => d.metadata.name).sort();
  }

  const events = (run: Run) => run.output.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

  test.concurrent('a healthy canary completes: every stage with traffic analyzed (not retire), v1 gone, v2 at its floor', async () => {
    const name = 'istio-canary-1';
    const rollout: RolloutJson = { interval: 4, count: 2, metrics: [{ successRate: { min: 99, maxBelowStable: 1 } }, LATENCY] };
    const traffic = await prepare(name);
    const run = await cli(name, 'rollout', rollout, ['--istio-status', '--prometheus', prometheus.url]);
    await checkCapacity(name, traffic);
    expect(succeeded(run)).toEqual({ status: 0, tail: '' });
    for (const stage of ['shift-50', 'shift-100', 'unroute', 'drop-routable']) {
      expect(run.output).toMatch(new RegExp(`^${stage}: evaluation 2/2: success-rate pass \\(>= 99%.*\\): 100% meets`, 'm'));
      expect(run.output).toMatch(new RegExp(`^${stage}: evaluation 2/2: latency-p99 pass \\(<= 500ms\\): 24\\.\\d+ms meets <= 500ms`, 'm'));
    }
    // At shift-50 the stable gets traffic too: the success rate is also judged against its own.
    expect(run.output).toMatch(/^shift-50: evaluation 1\/2: success-rate pass \(>= 99% and >= stable - 1% \(99%\)\): 100% meets >= 99%, and the stable v1's 100% within the margin/m);
    expect(run.output).toContain('deploy: not analyzed: the plan does not analyze this stage');
    expect(run.output).toContain('retire: not analyzed: the plan does not analyze this stage');
    expect(run.output).toContain('at stage retire (the last: completed)');
    expect(await deployments(name)).toEqual(['web-v2']);
    expect((await readRelease(cp.kube, name, 'web')).ready.v2).toBeGreaterThanOrEqual(1);
    // status: the last results of each metric (drop-routable's, the last stage analyzed).
    expect(await status(name, rollout)).toMatchObject({
      stage: 'retire',
      state: 'completed',
      analysis: [
        { stage: 'drop-routable', evaluation: 2, metric: 'success-rate', value: 100, passed: true },
        { stage: 'drop-routable', evaluation: 2, metric: 'latency-p99', passed: true },
      ],
    });
    // --to an earlier stage than the live one: refused, pointing at abort.
    const back = await cli(name, 'rollout', rollout, ['--istio-status', '--prometheus', prometheus.url, '--to', 'shift-50']);
    expect(back.status).toBe(2);
    expect(back.output).toContain("mesh-release: error: the release is at stage 'retire', past --to shift-50: roll back with `mesh-release abort`");
    // Run again, completed: nothing is analyzed, so no Prometheus is needed (none given, or one that does not answer).
    const closed = await freePort();
    for (const args of [['--istio-status'], ['--istio-status', '--prometheus', `http://127.0.0.1:${closed}`]]) {
      const again = await cli(name, 'rollout', rollout, args);
      expect(succeeded(again)).toEqual({ status: 0, tail: '' });
      expect(again.output).toContain('web: already at stage retire (the last: completed)');
      expect(again.output).not.toMatch(/evaluation|applying/);
    }
  }, 600_000);

  test.concurrent('a candidate answering 5xx is rolled back to the first stage (exit 4), the failing value in status --output json', async () => {
    const name = 'gamma-canary-1';
    const rollout: RolloutJson = { interval: 4, count: 3, failureLimit: 1, metrics: [SUCCESS] };
    const traffic = await prepare(name);
    traffic.behave('v2', { errorRate: 0.5, latencyMs: 20 });
    const run = await cli(name, 'rollout', rollout, ['--prometheus', prometheus.url, '--output', 'json']);
    await checkCapacity(name, traffic);
    expect(succeeded(run).status).toBe(4);
    const all = events(run);
    const failed = all.filter((e) => e.event === 'evaluation' && !e.passed);
    expect(failed.length).toBe(2);
    expect(failed[1]).toMatchObject({ stage: 'shift-50', metric: 'success-rate', verdict: 'fail', release: 'web', namespace: name });
    expect(failed[1].value).toBeGreaterThan(35);
    expect(failed[1].value).toBeLessThan(65);
    expect(all.find((e) => e.event === 'analysis' && !e.passed).reason).toMatch(/^2 failed evaluations, more than failureLimit 1 \(evaluation 2\/3: success-rate\)$/);
    expect(all.filter((e) => e.event === 'stage' && e.direction === 'back').map((e) => e.stage)).toEqual(['deploy', 'make-routable', 'stable']);
    expect(await deployments(name)).toEqual(['web-v1']);
    const s = await status(name, rollout);
    expect(s).toMatchObject({ stage: 'stable', state: 'rolled-back', analysis: [{ stage: 'shift-50', metric: 'success-rate', passed: false }] });
    expect(s.analysis[0].value).toBeLessThan(65);
    expect(s.reason).toMatch(/^the analysis of stage shift-50 failed: 2 failed evaluations/);
  }, 600_000);

  test.concurrent('a candidate slower than the threshold is rolled back (exit 4), the latency printed', async () => {
    const name = 'istio-bluegreen';
    const rollout: RolloutJson = { interval: 4, count: 3, failureLimit: 1, metrics: [SUCCESS, LATENCY] };
    const traffic = await prepare(name);
    traffic.behave('v2', { errorRate: 0, latencyMs: 800 });
    const run = await cli(name, 'rollout', rollout, ['--istio-status', '--prometheus', prometheus.url]);
    await checkCapacity(name, traffic);
    expect(succeeded(run).status).toBe(4);
    expect(run.output).toMatch(/^shift-100: evaluation [12]\/3: latency-p99 FAIL \(<= 500ms\): 99\d(\.\d+)?ms is above the maximum 500ms$/m);
    expect(run.output).toMatch(/^rolling back: the analysis of stage shift-100 failed/m);
    expect(await deployments(name)).toEqual(['web-v1']);
    expect((await readRelease(cp.kube, name, 'web')).stage).toBe('stable');
  }, 600_000);

  test.concurrent('no data, noData FAIL: counted as a failure, rolled back (exit 4)', async () => {
    const name = 'gamma-bluegreen';
    const rollout: RolloutJson = { interval: 4, count: 2, noData: 'fail', metrics: [SUCCESS] };
    const traffic = await prepare(name);
    traffic.behave('v2', { errorRate: 0, latencyMs: 20, silent: true });
    const run = await cli(name, 'rollout', rollout, ['--prometheus', prometheus.url]);
    await checkCapacity(name, traffic);
    expect(succeeded(run).status).toBe(4);
    expect(run.output).toMatch(/^shift-100: evaluation 1\/2: success-rate NO-DATA \(>= 99%\): the candidate v2 has no samples in the window \(no series matched: no request in it, its metrics not scraped, or an interval under two scrape intervals\): counted as a failure \(noData FAIL\)$/m);
    expect(await deployments(name)).toEqual(['web-v1']);
  }, 600_000);

  test.concurrent('no data, noData INCONCLUSIVE: waits every evaluation, then fails at the stage\'s end (exit 4)', async () => {
    const name = 'ingress-bluegreen';
    const rollout: RolloutJson = { interval: 4, count: 2, noData: 'inconclusive', metrics: [SUCCESS] };
    const traffic = await prepare(name);
    traffic.behave('v2', { errorRate: 0, latencyMs: 20, silent: true });
    const run = await cli(name, 'rollout', rollout, ['--prometheus', prometheus.url]);
    await checkCapacity(name, traffic);
    expect(succeeded(run).status).toBe(4);
    expect(run.output).toMatch(/^shift-100: evaluation 1\/2: success-rate INCONCLUSIVE/m);
    expect(run.output).toMatch(/^shift-100: evaluation 2\/2: success-rate INCONCLUSIVE/m);
    expect(run.output).toContain('the analysis of stage shift-100 failed: still no data at the last evaluation (2/2) for success-rate (noData INCONCLUSIVE)');
    expect(await deployments(name)).toEqual(['web-v1']);
  }, 600_000);

  test.concurrent('no data, noData PASS: the release goes on to the end (exit 0)', async () => {
    const name = 'selector-bluegreen';
    const rollout: RolloutJson = { interval: 4, count: 2, noData: 'pass', metrics: [SUCCESS] };
    const traffic = await prepare(name);
    traffic.behave('v2', { errorRate: 0, latencyMs: 20, silent: true });
    const run = await cli(name, 'rollout', rollout, ['--prometheus', prometheus.url]);
    await checkCapacity(name, traffic);
    expect(succeeded(run)).toEqual({ status: 0, tail: '' });
    expect(run.output).toMatch(/^shift-100: evaluation 2\/2: success-rate pass .*: passed \(noData PASS\)$/m);
    expect(await deployments(name)).toEqual(['web-v2']);
  }, 600_000);

  test.concurrent('pauseBefore in an ambient release (the waypoint reports): exit 5; promote needs --prometheus, then finishes', async () => {
    const name = 'ambient-canary-1';
    const rollout: RolloutJson = { interval: 4, count: 2, metrics: [SUCCESS], pauseBefore: ['shift-100'] };
    const traffic = await prepare(name, 'waypoint');
    const paused = await cli(name, 'rollout', rollout, ['--prometheus', prometheus.url]);
    expect(succeeded(paused).status).toBe(5);
    expect(paused.output).toMatch(/^shift-50: evaluation 2\/2: success-rate pass/m);
    expect(paused.output).toContain('shift-100: paused before this stage: run `mesh-release promote` to go on');
    expect(await status(name, rollout)).toMatchObject({ stage: 'shift-50', state: 'paused', pausedBefore: 'shift-100', analysis: [{ stage: 'shift-50', passed: true }] });
    const bare = await cli(name, 'promote', rollout);
    expect(bare.status).toBe(2);
    // Named: the analyzed stages still to apply (shift-50 is done).
    expect(bare.output).toContain('mesh-release: error: the plan analyzes stages shift-100, unroute, drop-routable: pass --prometheus <url>');
    const promoted = await cli(name, 'promote', rollout, ['--prometheus', prometheus.url]);
    await checkCapacity(name, traffic);
    expect(succeeded(promoted)).toEqual({ status: 0, tail: '' });
    expect(promoted.output).toMatch(/^drop-routable: evaluation 2\/2: success-rate pass/m);
    expect(await status(name, rollout)).toMatchObject({ stage: 'retire', state: 'completed' });
  }, 600_000);

  test.concurrent('an unreachable Prometheus: exit 2 before anything is applied; status of a release never rolled out; abort of it', async () => {
    const name = 'istio-canary-9';
    const rollout: RolloutJson = { interval: 4, count: 2, metrics: [SUCCESS] };
    await cp.createNamespaces(name);
    const closed = await freePort();
    const run = await cli(name, 'rollout', rollout, ['--prometheus', `http://127.0.0.1:${closed}`]);
    expect(run.status).toBe(2);
    expect(run.output).toContain(`mesh-release: error: --prometheus http://127.0.0.1:${closed}: Prometheus at http://127.0.0.1:${closed} is unreachable: `
      + `ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${closed}); nothing applied`);
    expect(await deployments(name)).toEqual([]);
    // Refused once the live stage was read (a release already at its target would need no Prometheus): the Lease given up.
    expect((await cp.kube.find('coordination.k8s.io/v1', 'Lease', name, 'mesh-release.web'))?.spec?.holderIdentity).toBeUndefined();
    expect(await status(name, rollout)).toMatchObject({ release: 'web', namespace: name, stage: null, state: 'not-started', analysis: [] });
    const abort = await cli(name, 'abort', rollout);
    expect(succeeded(abort)).toEqual({ status: 0, tail: '' });
    expect(abort.output).toContain(`${name}/web: at no stage (nothing applied): nothing to roll back`);
    expect(await deployments(name)).toEqual([]);
  }, 300_000);

  test.concurrent('a query returning several series, and one returning a string: each metric fails naming why, rolled back (exit 4)', async () => {
    const name = 'gamma-canary-3';
    exporter.gauge(`queue_depth{namespace="${name}",workload="web-v1"}`, 3);
    exporter.gauge(`queue_depth{namespace="${name}",workload="web-v2"}`, 4);
    const rollout: RolloutJson = {
      interval: 4,
      count: 2,
      metrics: [
        { prometheus: { name: 'queue-depth', query: 'queue_depth{namespace="{{ namespace }}"}', max: 100 } },
        { prometheus: { name: 'build', query: '"{{ version }}"', min: 1 } },
      ],
    };
    const traffic = await prepare(name);
    const run = await cli(name, 'rollout', rollout, ['--prometheus', prometheus.url]);
    await checkCapacity(name, traffic);
    expect(succeeded(run).status).toBe(4);
    expect(run.output).toMatch(/^shift-10: evaluation 1\/2: queue-depth FAIL \(<= 100\): query failed: the query returned 2 series \(.*\), not one number: aggregate them into one/m);
    expect(run.output).toMatch(/^shift-10: evaluation 1\/2: build FAIL \(>= 1\): query failed: the query returned a string, not one number/m);
    expect(await deployments(name)).toEqual(['web-v1']);
  }, 600_000);

  test.concurrent('Ctrl-C during an analysis interval stops at once and gives the Lease up (exit 1); abort then rolls back', async () => {
    const name = 'ambient-bluegreen';
    const rollout: RolloutJson = { interval: 300, count: 2, metrics: [SUCCESS] };
    const traffic = await prepare(name, 'waypoint');
    const { RELEASE_STAGE: _, ...env } = cp.env({ MESH_RELEASE_DWELL: '0', INTEG_CASE: name, INTEG_ROLLOUT: JSON.stringify(rollout) });
    const child = spawn(process.execPath, [path.join(cliBuild(), 'cli', 'main.js'), 'rollout', '--app', APP_DIR, '--out', path.join(work, name),
      '--prometheus', prometheus.url], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout!.on('data', (c) => output.push(String(c)));
    child.stderr!.on('data', (c) => output.push(String(c)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until('the driver in the analysis of shift-100', 300_000, async () => output.join('').includes('shift-100: live'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const interrupted = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(Date.now() - interrupted).toBeLessThan(10_000);
    expect(output.join('')).toContain('SIGINT received: stopping after the current step');
    expect(output.join('')).toContain('mesh-release: error: stopped (SIGINT received); the release stays where it is: run the command again to resume');
    expect((await cp.kube.find('coordination.k8s.io/v1', 'Lease', name, 'mesh-release.web'))?.spec?.holderIdentity).toBeUndefined();
    expect(await status(name, rollout)).toMatchObject({ stage: 'shift-100', applying: 'shift-100', state: 'failed', recordedState: 'progressing' });
    const abort = await cli(name, 'abort', rollout);
    await checkCapacity(name, traffic);
    expect(succeeded(abort)).toEqual({ status: 0, tail: '' });
    expect(await deployments(name)).toEqual(['web-v1']);
    expect(await status(name, rollout)).toMatchObject({ stage: 'stable', state: 'rolled-back' });
  }, 600_000);
}));
