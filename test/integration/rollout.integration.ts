/**
 * `mesh-release rollout`, `promote`, `abort` and `status` on a real control plane (kube-apiserver and
 * kube-controller-manager from KUBEBUILDER_ASSETS, the simulated kubelet and mesh): the driver applies each stage
 * through the API, waits until it is live and rolls back on its own. Pauses are the plans' own (`INTEG_ROLLOUT`);
 * where a scenario is about the driver and needs an analysis that fails or lasts, test hooks stand for it
 * (`_driver.js`); the real analysis against a real Prometheus: rollout-analysis.integration.ts. Each scenario uses a
 * case of its own (its own namespace), so they run side by side. A sampler reads every second each version's share
 * of traffic and its ready pods: no sample past the first stage gives a version w% with fewer than
 * ceil(floor × w / 100) ready pods (the stable's floor in the first stage).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { caseNamed } from './_cases';
import { ControlPlane, describeWithControlPlane, until } from './_control-plane';
import { SimulatedKubelet } from './_kubelet';
import { SimulatedMeshController } from './_mesh-controller';
import { RolloutJson } from './_rollout-options';
import { Run, runAsync } from './_run';
import { readRelease, Sampler, underFloors } from './_sampler';
import { cliBuild, tmpDir } from '../cli/_cli';

const APP_DIR = path.join(__dirname, 'app');
const DRIVER = path.join(__dirname, '_driver.js');

describeWithControlPlane('mesh-release rollout on a real control plane', () => {
  let cp: ControlPlane;
  let kubelet: SimulatedKubelet;
  let mesh: SimulatedMeshController;
  const work = tmpDir();

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllers: true });
    [kubelet, mesh] = await Promise.all([SimulatedKubelet.start(cp.kube), SimulatedMeshController.start(cp.kube)]);
  }, 120_000);

  afterAll(async () => {
    await kubelet?.stop();
    await mesh?.stop();
    await cp?.stop();
  }, 60_000);

  afterEach(() => {
    expect(kubelet.errors).toEqual([]);
    expect(mesh.errors).toEqual([]);
  });

  /** The environment of a driver of case `name`. */
  function envOf(name: string, hooks = '', extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const { RELEASE_STAGE: _, ...rest } = cp.env({ MESH_RELEASE_DWELL: '0', MESH_RELEASE_CLI_BUILD: cliBuild(), INTEG_CASE: name, MESH_RELEASE_TEST_HOOKS: hooks, ...extra });
    return rest;
  }

  /** `mesh-release <command> --app <case app> --istio-status ...` through the test hooks. */
  function drive(name: string, command: string, args: string[] = [], hooks = '', extra: NodeJS.ProcessEnv = {}): Promise<Run> {
    return runAsync(process.execPath, [DRIVER, command, '--app', APP_DIR, '--out', path.join(work, name), ...args], envOf(name, hooks, extra));
  }

  /** The environment of a plan with these pauses (and analysis). */
  const planned = (rollout: RolloutJson): NodeJS.ProcessEnv => ({ INTEG_ROLLOUT: JSON.stringify(rollout) });

  /** Samples the release of case `name` every second, until `checkCapacity`. */
  function watch(name: string): Sampler {
    return new Sampler(cp.kube, name, 'web').start();
  }

  /** No sample gave a version a share of traffic without the ready pods its floors promise. */
  async function checkCapacity(name: string, sampler: Sampler): Promise<void> {
    const samples = await sampler.stop();
    expect(samples.length).toBeGreaterThan(3);
    expect(underFloors(samples, path.join(work, name), name, 'web', 'v1')).toEqual([]);
  }

  async function prepare(name: string): Promise<void> {
    await cp.createNamespaces(name);
    await Promise.all(caseNamed(name).prerequisites.map((o) => cp.kube.apply(o)));
  }

  async function status(name: string): Promise<any> {
    const run = await drive(name, 'status', ['--output', 'json']);
    expect({ status: run.status, output: run.status === 0 ? '' : run.output }).toEqual({ status: 0, output: '' });
    return JSON.parse(run.output.trim().split('\n').pop()!);
  }

  async function readyPods(namespace: string, version: string): Promise<number> {
    const pods = await cp.kube.list('v1', 'Pod', namespace, `labelSelector=app%3Dweb,version%3D${version}`);
    return pods.items.filter((p) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
  }

  async function deployments(namespace: string): Promise<string[]> {
    return (await cp.kube.list('apps/v1', 'Deployment', namespace)).items.map((d) => d.metadata.name).sort();
  }

  test.concurrent('a healthy canary completes: v1 gone, v2 at its floor, status completed', async () => {
    const name = 'istio-canary-3';
    await prepare(name);
    const sampler = watch(name);
    const run = await drive(name, 'rollout', ['--istio-status']);
    await checkCapacity(name, sampler);
    expect({ status: run.status, tail: run.status === 0 ? '' : run.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(run.output).toContain('shift-10: not analyzed: the plan has no analysis');
    expect(run.output).toContain('at stage retire (the last: completed)');
    expect(await deployments(name)).toEqual(['web-v2']);
    expect(await readyPods(name, 'v2')).toBeGreaterThanOrEqual(1);
    expect(await readyPods(name, 'v1')).toBe(0);
    expect(await status(name)).toMatchObject({ release: 'web', namespace: name, stage: 'retire', state: 'completed' });
    expect(sampler.samples.some((s) => s.shares.v2 === 100)).toBe(true);
    // Run again: nothing to do.
    const again = await drive(name, 'rollout', ['--istio-status']);
    expect(again.status).toBe(0);
    expect(again.output).not.toContain('applied');
  }, 600_000);

  test.concurrent('the analysis failing at shift-50 rolls back to the first stage and exits 4; status has the failing value', async () => {
    const name = 'istio-canary-1';
    await prepare(name);
    const sampler = watch(name);
    const run = await drive(name, 'rollout', ['--istio-status', '--output', 'json'], 'fail-at:shift-50');
    await checkCapacity(name, sampler);
    expect({ status: run.status, tail: run.status === 4 ? '' : run.output.slice(-3000) }).toEqual({ status: 4, tail: '' });
    const events = run.output.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(events.find((e) => e.event === 'evaluation' && !e.passed)).toMatchObject({ stage: 'shift-50', metric: 'success-rate', value: 80, passed: false });
    expect(events.filter((e) => e.event === 'stage' && e.direction === 'back').map((e) => e.stage)).toEqual(['deploy', 'make-routable', 'stable']);
    expect((await readRelease(cp.kube, name, 'web')).stage).toBe('stable');
    expect(await deployments(name)).toEqual(['web-v1']);
    const s = await status(name);
    expect(s).toMatchObject({ stage: 'stable', state: 'rolled-back', analysis: [{ metric: 'success-rate', value: 80, passed: false }] });
    // The same plan is not retried without --retry.
    const retried = await drive(name, 'rollout', ['--istio-status']);
    expect(retried.status).toBe(1);
    expect(retried.output).toContain('was rolled back before');
    expect(retried.output).toContain('--retry');
  }, 600_000);

  test.concurrent('a fixed-replica stable scaled down mid-plan: scaled down after the routing moved, and when aborted scaled to its 6 pods before it gets 100% back', async () => {
    // Issue 20: v1 has 1 pod at 10% (shift-90), 6 at 100% in the stage before. The roll back applied the stage before
    // whole: the route sent 100% to v1's one pod while the 5 others started.
    // Forward, the mirror: v1 loses 90% of its share and 5 of its 6 pods at shift-90; applied whole, the stage stopped
    // them while the proxies still sent v1 100% (until Reconciled). Sampled every 100 ms: the mesh acknowledges after 300.
    const name = 'istio-scaledown';
    await prepare(name);
    const sampled = new Sampler(cp.kube, name, 'web', 100).start();
    const forward = await drive(name, 'rollout', ['--istio-status']);
    await checkCapacity(name, sampled);
    expect({ status: forward.status, tail: forward.status === 0 ? '' : forward.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(sampled.samples.some((s) => s.inFlight?.v1 === 100 && s.ready.v1 === 6 && s.stage === 'shift-90')).toBe(true);
    const down = forward.output.indexOf('shift-90: scaling web v1 down last, from a floor of 6 to 1 pods, now that routing gives it less traffic '
      + '(applied deployment/web-v1)');
    expect(down).toBeGreaterThan(forward.output.indexOf('shift-90: istiod reconciled'));
    await until('v1 scaled down to its one pod', 60_000, async () => (await readyPods(name, 'v1')) === 1);
    const sampler = watch(name);
    const run = await drive(name, 'abort', ['--istio-status']);
    await checkCapacity(name, sampler);
    expect({ status: run.status, tail: run.status === 0 ? '' : run.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    const scaled = run.output.indexOf('deploy: scaling web v1 first, from a floor of 1 to 6 pods, before it gets more traffic (applied deployment/web-v1)');
    expect(scaled).toBeGreaterThan(0);
    expect(run.output.indexOf('deploy: deployment/web-v1 has its floor of 6 ready pods')).toBeGreaterThan(scaled);
    expect(run.output.indexOf('deploy: applied')).toBeGreaterThan(run.output.indexOf('deploy: deployment/web-v1 has its floor of 6 ready pods'));
    expect((await readRelease(cp.kube, name, 'web')).stage).toBe('stable');
    expect(sampler.samples.some((s) => s.shares.v1 === 100 && s.ready.v1 === 6)).toBe(true);
  }, 600_000);

  test.concurrent('a pause exits 5; promote goes on to the end', async () => {
    const name = 'istio-bluegreen';
    await prepare(name);
    const pauses = planned({ pauseBefore: ['shift-100'] });
    const sampler = watch(name);
    const paused = await drive(name, 'rollout', ['--istio-status'], '', pauses);
    expect({ status: paused.status, tail: paused.status === 5 ? '' : paused.output.slice(-3000) }).toEqual({ status: 5, tail: '' });
    expect(paused.output).toContain('shift-100: paused before this stage');
    expect(await status(name)).toMatchObject({ stage: 'deploy', state: 'paused', pausedBefore: 'shift-100' });
    // rollout again stays paused; promote passes the pause.
    expect((await drive(name, 'rollout', ['--istio-status'], '', pauses)).status).toBe(5);
    const promoted = await drive(name, 'promote', ['--istio-status'], '', pauses);
    await checkCapacity(name, sampler);
    expect({ status: promoted.status, tail: promoted.status === 0 ? '' : promoted.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(await status(name)).toMatchObject({ stage: 'retire', state: 'completed' });
    // promote passed the plan's one pause; nothing else paused.
    expect(promoted.output).not.toContain('paused before this stage');
  }, 600_000);

  test.concurrent('two drivers at once: the second exits 1 naming the holder; a driver killed with SIGKILL resumes where it was', async () => {
    const name = 'ambient-canary-1';
    await prepare(name);
    const sampler = watch(name);
    const first = spawn(process.execPath, [DRIVER, 'rollout', '--app', APP_DIR, '--out', path.join(work, name), '--istio-status'],
      { env: envOf(name, 'slow:deploy:600000'), stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    first.stdout!.on('data', (c) => output.push(String(c)));
    first.stderr!.on('data', (c) => output.push(String(c)));
    try {
      await until('the first driver at the analysis of deploy', 300_000, async () => output.join('').includes('deploy: live'));
      const second = await drive(name, 'rollout', ['--istio-status', '--out', path.join(work, `${name}-2`)]);
      expect(second.status).toBe(1);
      expect(second.output).toMatch(/is being driven by [^ ]+\/\d+\/\w+: it holds the Lease mesh-release\.web/);
    } finally {
      await kill(first);
    }
    expect(await status(name)).toMatchObject({ stage: 'deploy', applying: 'deploy', state: 'progressing' });
    const resumed = await drive(name, 'rollout', ['--istio-status', '--lease-duration', '5']);
    expect({ status: resumed.status, tail: resumed.status === 0 ? '' : resumed.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(resumed.output).toContain('taking over the Lease mesh-release.web');
    expect(resumed.output).toMatch(/live stage deploy, target retire/);
    // It resumed at deploy (applied again over make-routable), and never applied stable or make-routable again.
    expect(resumed.output).not.toMatch(/^(stable|make-routable): applying/m);
    expect(resumed.output).toMatch(/^deploy: applying/m);
    expect(await deployments(name)).toEqual(['web-v2']);
    await checkCapacity(name, sampler);
  }, 600_000);

  test.concurrent('the Gateway API router completes', async () => {
    const name = 'gamma-canary-1';
    await prepare(name);
    const sampler = watch(name);
    const run = await drive(name, 'rollout');
    await checkCapacity(name, sampler);
    expect({ status: run.status, tail: run.status === 0 ? '' : run.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(run.output).toMatch(/httproute\/web: every parent accepted its generation/);
    expect(await deployments(name)).toEqual(['web-v2']);
  }, 600_000);

  test.concurrent('the selector switch completes', async () => {
    const name = 'selector-bluegreen';
    await prepare(name);
    const sampler = watch(name);
    const run = await drive(name, 'rollout');
    await checkCapacity(name, sampler);
    expect({ status: run.status, tail: run.status === 0 ? '' : run.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(run.output).toMatch(/service\/web: its EndpointSlices list exactly the ready pods it selects/);
    expect(await deployments(name)).toEqual(['web-v2']);
  }, 600_000);

  test.concurrent('a wait that times out rolls back to the first stage and exits 4', async () => {
    const name = 'ambient-bluegreen';
    await prepare(name);
    const sampler = watch(name);
    expect((await drive(name, 'rollout', ['--to', 'stable'])).status).toBe(0);
    await until('the pods of v1 ready', 60_000, async () => (await readyPods(name, 'v1')) > 0);
    // No room for one more pod: v2's Deployment never becomes ready.
    const pods = (await cp.kube.list('v1', 'Pod', name)).items.length;
    await cp.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-room', namespace: name }, spec: { hard: { pods: String(pods) } } }));
    await until('the quota counted', 60_000, async () => JSON.parse(await cp.kubectl(['get', 'resourcequota', 'no-room', '-n', name, '-o', 'json'])).status?.used?.pods === String(pods));
    const run = await drive(name, 'rollout', ['--wait-timeout', '10']);
    expect({ status: run.status, tail: run.status === 4 ? '' : run.output.slice(-3000) }).toEqual({ status: 4, tail: '' });
    expect(run.output).toMatch(/rolling back: stage deploy: deployment\/web-v2 rolled out: not after 10 s/);
    expect((await readRelease(cp.kube, name, 'web')).stage).toBe('stable');
    expect(await deployments(name)).toEqual(['web-v1']);
    expect(await status(name)).toMatchObject({ stage: 'stable', state: 'rolled-back' });
    await checkCapacity(name, sampler);
  }, 600_000);

  test.concurrent('RBAC forbidding an apply: the error names the verb and the resource, nothing applied', async () => {
    const name = 'ingress-bluegreen';
    await prepare(name);
    const kubeconfig = await limitedKubeconfig(name);
    const run = await drive(name, 'rollout', ['--kubeconfig', kubeconfig]);
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/mesh-release: error: dry run: patch [a-z.]+ "web[-a-z0-9]*" in namespace "ingress-bluegreen": 403 Forbidden: .*cannot patch resource/);
    expect(await deployments(name)).toEqual([]);
    // The Lease was given up.
    const lease = await cp.kube.find('coordination.k8s.io/v1', 'Lease', name, 'mesh-release.web');
    expect(lease?.spec?.holderIdentity).toBeUndefined();
  }, 300_000);

  test.concurrent('a plan whose digest changed mid-release is refused, naming the stage that changed', async () => {
    const name = 'gamma-canary-3';
    await prepare(name);
    const out = path.join(work, name);
    const pauses = planned({ pauseBefore: ['shift-25'] });
    const sampler = watch(name);
    expect((await drive(name, 'rollout', [], '', pauses)).status).toBe(5);
    const dir = path.join(out, fs.readdirSync(out).find((d) => d.endsWith('-shift-50'))!);
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.yaml'))!);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('image: example/web:2.0.0', 'image: example/web:2.0.1'));
    const run = await runAsync(process.execPath, [DRIVER, 'promote', '--stages', out], envOf(name, '', pauses));
    await checkCapacity(name, sampler);
    expect(run.status).toBe(1);
    expect(run.output).toContain('the plan changed while its release is paused at stage shift-10');
    expect(run.output).toContain('stage shift-50 changed');
    expect((await readRelease(cp.kube, name, 'web')).stage).toBe('shift-10');
  }, 600_000);

  test.concurrent('SIGTERM stops the driver after its current step and gives the Lease up; run again, it goes on', async () => {
    const name = 'istio-canary-9';
    await prepare(name);
    const sampler = watch(name);
    const child = spawn(process.execPath, [DRIVER, 'rollout', '--app', APP_DIR, '--out', path.join(work, name), '--istio-status'],
      { env: envOf(name, 'slow:deploy:600000'), stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout!.on('data', (c) => output.push(String(c)));
    child.stderr!.on('data', (c) => output.push(String(c)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until('the driver at the analysis of deploy', 300_000, async () => output.join('').includes('deploy: live'));
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(output.join('')).toContain('SIGTERM received: stopping after the current step');
    expect(output.join('')).toContain('run the command again to resume');
    const lease = await cp.kube.find('coordination.k8s.io/v1', 'Lease', name, 'mesh-release.web');
    expect(lease?.spec?.holderIdentity).toBeUndefined();
    const again = await drive(name, 'rollout', ['--istio-status', '--to', 'shift-10']);
    expect({ status: again.status, tail: again.status === 0 ? '' : again.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(again.output).toMatch(/^holding the Lease/m);
    await checkCapacity(name, sampler);
  }, 600_000);

  test.concurrent('--force over a live stage an earlier release left: refused while it would drop a routed backend, else applied and its leftovers deleted', async () => {
    const name = 'gamma-canary-9';
    await prepare(name);
    expect((await drive(name, 'rollout', ['--to', 'stable'])).status).toBe(0);
    // An earlier release (another plan, no record) left the HTTPRoute sending everything to web-v0, at a stage this plan does not have.
    const v1 = await cp.kube.find('apps/v1', 'Deployment', name, 'web-v1');
    const v1Service = await cp.kube.find('v1', 'Service', name, 'web-v1');
    const relabel = (labels: any, version: string) => ({ ...labels, 'version': version, 'app.kubernetes.io/version': version });
    const withV0 = (labels: any) => (labels?.version === 'v1' ? relabel(labels, 'v0') : labels);
    await cp.kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web-v0', namespace: name, labels: withV0(v1.metadata.labels) },
      spec: {
        ...v1.spec,
        selector: { matchLabels: withV0(v1.spec.selector.matchLabels) },
        template: { ...v1.spec.template, metadata: { ...v1.spec.template.metadata, labels: withV0(v1.spec.template.metadata.labels) } },
      },
    });
    await cp.kube.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-v0', namespace: name, labels: relabel(v1Service.metadata.labels, 'v0') },
      spec: { ports: v1Service.spec.ports, selector: withV0(v1Service.spec.selector) },
    });
    await cp.kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api-v0', namespace: name, labels: { app: 'api', version: 'v0' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'api', version: 'v0' } }, template: { metadata: { labels: { app: 'api', version: 'v0' } }, spec: { containers: [{ name: 'api', image: 'example/api:0' }] } } },
    });
    const routeTo = async (backend: string) => {
      const route = await cp.kube.find('gateway.networking.k8s.io/v1', 'HTTPRoute', name, 'web');
      const rules = route.spec.rules.map((r: any) => ({ ...r, backendRefs: r.backendRefs?.map((b: any) => (/^web-v\d$/.test(b.name) ? { ...b, name: backend } : b)) }));
      await cp.kube.mergePatch('gateway.networking.k8s.io/v1', 'HTTPRoute', name, 'web', { metadata: { annotations: { 'mesh-release.io/stage': 'released' } }, spec: { rules } });
    };
    await routeTo('web-v0');
    await cp.kubectl(['delete', 'configmap', 'mesh-release.web', '-n', name]);

    // Refused: this plan's first stage would move the route off web-v0 and delete web-v0's Service in one step.
    const refused = await drive(name, 'rollout', ['--force', '--to', 'stable']);
    expect({ status: refused.status, output: refused.output }).toMatchObject({ status: 1 });
    expect(refused.output).toContain('applying stage stable over the objects live in the cluster (stage \'released\', which an earlier release left) is unsafe; nothing of it was applied');
    expect(refused.output).toMatch(/Service\/web-v0.*\[[a-z-]+\]/);
    const left = await cp.kube.find('gateway.networking.k8s.io/v1', 'HTTPRoute', name, 'web');
    expect(left.metadata.annotations['mesh-release.io/stage']).toBe('released');
    expect(JSON.stringify(left.spec.rules)).toContain('"web-v0"');
    expect(await deployments(name)).toEqual(['api-v0', 'web-v0', 'web-v1']);

    // Once the live route is back on web-v1 (still at the earlier release's stage), the first stage follows it safely.
    await routeTo('web-v1');
    const forced = await drive(name, 'rollout', ['--force', '--to', 'stable']);
    expect({ status: forced.status, tail: forced.status === 0 ? '' : forced.output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    expect(forced.output).toMatch(/stable: over the live stage this plan does not know: deleting .*Deployment\/web-v0/);
    // Deleted after the apply, in the runbook's order, by the step itself (not by its dry run).
    expect(forced.output).toMatch(/^stable: applied .*\n(.*\n)*stable: deleted Service\/web-v0\n(.*\n)*stable: deleted Deployment\/web-v0\n/m);
    expect(await deployments(name)).toEqual(['api-v0', 'web-v1']);
    expect(await cp.kube.find('v1', 'Service', name, 'web-v0')).toBeUndefined();
    expect((await cp.kube.find('gateway.networking.k8s.io/v1', 'HTTPRoute', name, 'web')).metadata.annotations['mesh-release.io/stage']).toBe('stable');
    expect(await status(name)).toMatchObject({ stage: 'stable', state: 'progressing' });
  }, 600_000);

  /** A kubeconfig of a ServiceAccount that may read everything, hold Leases and write ConfigMaps, but patch nothing else. */
  function limitedKubeconfig(namespace: string): Promise<string> {
    return kubeconfigWith(namespace, 'limited', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'update'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'patch'] },
    ]);
  }

  /** A kubeconfig of a ServiceAccount `name` of `namespace` with these rules there (and `get` on namespaces). */
  async function kubeconfigWith(namespace: string, name: string, rules: object[]): Promise<string> {
    const rbac = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: `${name}-${namespace}` },
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${name}-${namespace}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${name}-${namespace}` },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
      },
    ];
    await cp.kubectl(['apply', '-f', '-'], rbac.map((o) => JSON.stringify(o)).join('\n'));
    const token = (await cp.kubectl(['create', 'token', name, '-n', namespace])).trim();
    const config = (await cp.kubectl(['config', 'view', '--raw', '--minify', '-o', 'json']));
    const parsed = JSON.parse(config);
    parsed.users = [{ name, user: { token } }];
    parsed.contexts[0].context.user = name;
    const file = path.join(work, `${namespace}-${name}.kubeconfig`);
    fs.writeFileSync(file, JSON.stringify(parsed));
    return file;
  }

  test.concurrent('RBAC of server-side apply (the README\'s): a new object needs create and patch, an existing one patch', async () => {
    const namespace = 'rbac-verbs';
    await cp.createNamespaces(namespace);
    const apply = async (kubeconfig: string, object: string): Promise<string> => {
      const configMap = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: object, namespace }, data: { a: '1' } });
      return cp.kubectl(['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager', 'mesh-release', '-f', '-'], configMap)
        .then(() => 'applied', (e: Error) => (/cannot (\w+) resource "configmaps"/.exec(e.message)?.[1] ?? e.message));
    };
    const rules = (verbs: string[]) => [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', ...verbs] }];
    const [patchOnly, createOnly, both] = await Promise.all([
      kubeconfigWith(namespace, 'patch-only', rules(['patch'])),
      kubeconfigWith(namespace, 'create-only', rules(['create'])),
      kubeconfigWith(namespace, 'both', rules(['create', 'patch'])),
    ]);
    expect(await apply(patchOnly, 'new-1')).toBe('create');
    expect(await apply(createOnly, 'new-2')).toBe('patch');
    expect(await apply(both, 'new-3')).toBe('applied');
    // Once it exists, patch alone applies it again.
    expect(await apply(patchOnly, 'new-3')).toBe('applied');
  }, 300_000);

  test.concurrent('a namespace that does not exist: a clear error, nothing applied', async () => {
    const name = 'gamma-bluegreen';
    const run = await drive(name, 'rollout');
    expect(run.status).toBe(2);
    expect(run.output).toContain(`namespace ${name} (of release web) does not exist`);
  }, 300_000);
});

/** SIGKILL, and wait for the exit. */
function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
