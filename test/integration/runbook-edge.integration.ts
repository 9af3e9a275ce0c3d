/**
 * The runbook where a real control plane misbehaves: what only kube-apiserver, kube-controller-manager (Deployments,
 * EndpointSlices) and a mesh writing HTTPRoute status show, with `mesh-release runbook --format sh` run by bash.
 * - A route its parent refuses (an ingress Gateway that is not there): the stage stops at its route wait, with the
 *   parent's condition, within MESH_RELEASE_ROUTE_TIMEOUT; nothing after it runs; once the Gateway exists, the same
 *   stage runs again and the release goes on.
 * - Stale route status (the mesh is down): the route's new generation is not taken as accepted on the conditions of
 *   the previous one; with the mesh back, the stage runs again.
 * - A selector switch to a version without ready pods (it had them when it was deployed): the Service keeps selecting
 *   the stable version until they are back; only then is the switch applied.
 * - A stable with fixed replicas scaled down mid-plan, rolled back: `kubectl apply -l` scales it first (its Deployment
 *   alone), its floor is waited for, and only then does the route give it its traffic back.
 */
import * as path from 'path';
import { caseNamed } from './_cases';
import { ControlPlane, describeWithControlPlane, until } from './_control-plane';
import { SimulatedKubelet } from './_kubelet';
import { SimulatedMeshController } from './_mesh-controller';
import { runAsync, succeeded } from './_run';
import { readRelease, Sampler, underFloors } from './_sampler';
import { cliBuild, tmpDir } from '../cli/_cli';

const APP_DIR = path.join(__dirname, 'app');


describeWithControlPlane('the runbook on a control plane that misbehaves', () => {
  let cp: ControlPlane;
  let kubelet: SimulatedKubelet;
  let mesh: SimulatedMeshController | undefined;
  const work = tmpDir();
  const scripts = new Map<string, string>();
  const CASES = ['ingress-canary-1', 'gamma-canary-1', 'selector-bluegreen', 'gamma-scaledown'];

  beforeAll(async () => {
    const written = Promise.all(CASES.map(async (name) => {
      const script = path.join(work, name, 'runbook.sh');
      const { RELEASE_STAGE: _, ...env }: NodeJS.ProcessEnv = { ...process.env, INTEG_CASE: name };
      const result = await runAsync(process.execPath, [path.join(cliBuild(), 'cli', 'main.js'), 'runbook', '--app', APP_DIR,
        '--out', path.join(work, name, 'stages'), '--force', '--format', 'sh', '--file', script], env);
      expect(succeeded(result)).toEqual({ status: 0, tail: '' });
      scripts.set(name, script);
    }));
    cp = await ControlPlane.start({ controllers: true });
    [kubelet, mesh] = await Promise.all([SimulatedKubelet.start(cp.kube), SimulatedMeshController.start(cp.kube)]);
    await cp.createNamespaces(...CASES);
    await written;
  }, 120_000);

  afterAll(async () => {
    await kubelet?.stop();
    await mesh?.stop();
    await cp?.stop();
  }, 60_000);

  /** The simulations met no error (each test ends with it; the concurrent ones share no afterEach). */
  const noErrors = () => {
    expect(kubelet.errors).toEqual([]);
    expect(mesh?.errors ?? []).toEqual([]);
  };

  const env = (extra: NodeJS.ProcessEnv = {}) => cp.env({ MESH_RELEASE_ISTIO_STATUS: '1', MESH_RELEASE_DWELL: '0', ...extra });

  // The first two run at once (their own namespaces); the third stops the mesh, so it runs after them.
  test.concurrent('a route the Gateway\'s absence refuses: the first stage stops at its route wait, within MESH_RELEASE_ROUTE_TIMEOUT, nothing after it; '
    + 'with the Gateway, the stage runs again and the release goes on', async () => {
    const name = 'ingress-canary-1';
    const script = scripts.get(name)!;
    const started = Date.now();
    const refused = await runAsync('bash', [script], env({ MESH_RELEASE_ROUTE_TIMEOUT: '5' }));
    expect(refused.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(refused.output).toContain(`HTTPRoutes not accepted by every parent after 5 s:\nhttproute/web (namespace ${name}, generation 1), parent Gateway ${name}/public: `
      + `Accepted=False (NoMatchingParent: Gateway ${name}/public not found, observedGeneration 1)`);
    expect(refused.output).toContain(`mesh-release: stage 1 (stable) was applied but stopped at 'mr_wait_routes 120 ${name} web' (exit 1).\n`
      + `Fix the cause, then run it again (applying a stage again is safe): ${script} --from stable\n`);
    expect(refused.output).not.toContain('roll it back');
    expect(refused.output).not.toContain('==> stage 2/');
    expect((await readRelease(cp.kube, name, 'web')).stage).toBe('stable');

    await Promise.all(caseNamed(name).prerequisites.map((o) => cp.kube.apply(o)));
    const resumed = await runAsync('bash', [script, '--from', 'stable', '--to', 'shift-50'], env());
    expect(succeeded(resumed)).toEqual({ status: 0, tail: '' });
    expect((await readRelease(cp.kube, name, 'web')).stage).toBe('shift-50');
    noErrors();
  }, 90_000);

  test.concurrent('a selector switch to a version without ready pods: the Service keeps selecting the stable version until they are back', async () => {
    const name = 'selector-bluegreen';
    const script = scripts.get(name)!;
    const deployed = await runAsync('bash', [script, '--to', 'deploy'], env());
    expect(succeeded(deployed)).toEqual({ status: 0, tail: '' });

    // The candidate's pods go away (scaled to 0 by hand: its autoscaler leaves a target at 0 alone; the simulated
    // kubelet makes every pod it runs Ready, so they cannot just turn unready here).
    const scale = (replicas: number) => cp.kube.mergePatch('apps/v1', 'Deployment', name, 'web-v2', { spec: { replicas } });
    await scale(0);
    await until('web-v2 without ready pods', 30_000, async () => !(await cp.kube.find('apps/v1', 'Deployment', name, 'web-v2'))?.status?.readyReplicas);

    const selector = async () => (await cp.kube.find('v1', 'Service', name, 'web'))?.spec?.selector?.version;
    const switching = runAsync('bash', [script, '--from', 'shift-100', '--to', 'shift-100'], env());
    // While it has no ready pods, the switch waits (for 5 s here) and the Service still selects v1.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect(await selector()).toBe('v1');
    }
    await scale(2);
    const switched = await switching;
    expect(succeeded(switched)).toEqual({ status: 0, tail: '' });
    expect(switched.output).toContain('waiting (at most 180 s) for deployment/web-v2: 0 of 2 ready pods');
    expect(switched.output.indexOf('deployment/web-v2: 2 ready pods (floor 2)')).toBeLessThan(switched.output.indexOf('+ kubectl apply'));
    expect(await selector()).toBe('v2');
    noErrors();
  }, 90_000);

  test.concurrent('a fixed-replica stable scaled down mid-plan, rolled back: kubectl apply -l scales v1 first, then the route gives it 100%', async () => {
    // Issue 20: v1 has 1 pod at 10% (shift-90), 6 at 100% in the stage before.
    const name = 'gamma-scaledown';
    const script = scripts.get(name)!;
    const forward = await runAsync('bash', [script], env());
    expect(succeeded(forward)).toEqual({ status: 0, tail: '' });
    const sampler = new Sampler(cp.kube, name, 'web').start();
    const back = await runAsync('bash', [script, '--rollback', '--from', 'shift-90'], env());
    const samples = await sampler.stop();
    expect(succeeded(back)).toEqual({ status: 0, tail: '' });
    expect(underFloors(samples, path.join(work, name, 'stages'), name, 'web', 'v1')).toEqual([]);
    const order = ['+ kubectl apply -f stages/03-deploy/ -l app=web,version=v1', 'deployment/web-v1: 6 ready pods (floor 6)',
      '+ kubectl apply -f stages/03-deploy/\n'].map((text) => back.output.indexOf(text));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]))).toEqual(true);
    // The selector applied v1's Deployment and PodDisruptionBudget of the stage, nothing else (no Service, no route).
    const selected = back.output.slice(order[0], order[1]).split('\n').filter((l) => / (configured|unchanged|created)$/.test(l));
    expect(selected).toEqual([expect.stringMatching(/^deployment\.apps\/web-v1 /), expect.stringMatching(/^poddisruptionbudget\.policy\/web-v1 /)]);
    expect((await readRelease(cp.kube, name, 'web')).shares).toEqual({ v1: 100 });
    noErrors();
  }, 180_000);

  test('stale route status (the mesh is down): the new generation waits, it does not pass on the previous one\'s conditions; '
    + 'with the mesh back, the stage runs again', async () => {
    const name = 'gamma-canary-1';
    const script = scripts.get(name)!;
    const deployed = await runAsync('bash', [script, '--to', 'deploy'], env());
    expect(succeeded(deployed)).toEqual({ status: 0, tail: '' });

    await mesh!.stop();
    mesh = undefined;
    try {
      const stale = await runAsync('bash', [script, '--from', 'shift-50'], env({ MESH_RELEASE_ROUTE_TIMEOUT: '3' }));
      expect(stale.status).toBe(1);
      expect(stale.output).toMatch(new RegExp(`httproute/web \\(namespace ${name}, generation 2\\), parent Service ${name}/web: `
        + 'Accepted=True \\(Accepted: accepted by the simulated mesh, observedGeneration 1\\); ResolvedRefs=True \\([^)]*observedGeneration 1\\)'));
      expect(stale.output).toContain(`mesh-release: stage 4 (shift-50) was applied but stopped at 'mr_wait_routes 120 ${name} web'`);
      expect(stale.output).not.toContain('==> stage 5/');
    } finally {
      mesh = await SimulatedMeshController.start(cp.kube);
    }
    const again = await runAsync('bash', [script, '--from', 'shift-50', '--to', 'shift-50'], env());
    expect(succeeded(again)).toEqual({ status: 0, tail: '' });
    expect(again.output).toContain('httproute web: every parent accepted the current generation');
    noErrors();
  }, 90_000);
});
