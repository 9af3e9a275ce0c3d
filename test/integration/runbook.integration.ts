/**
 * Every runbook run to the end on a real control plane: `mesh-release runbook --format sh` of the bundled example and
 * of each router's canary and blue/green, executed with bash and kubectl against kube-apiserver and
 * kube-controller-manager, with the simulated kubelet (pods bound, Running, Ready) and mesh (HTTPRoute parent
 * status, istiod's Reconciled condition). Then the same script rolls back from the last stage to the first, one
 * stage at a time. A sampler reads each version's share of traffic and its ready pods every second; at no sample past
 * the first stage may a version carry w% of the traffic with fewer than ceil(floor × w / 100) ready pods, where floor
 * is the stable version's floor in the first stage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { caseNamed } from './_cases';
import { ControlPlane, describeWithControlPlane } from './_control-plane';
import { SimulatedKubelet } from './_kubelet';
import { SimulatedMeshController } from './_mesh-controller';
import { runAsync, succeeded } from './_run';
import { floorOf, readRelease, Sample, Sampler, stageObjects, underCapacity } from './_sampler';
import { dryRunStage } from './_stages';
import { cliBuild, EXAMPLE, ROOT, tmpDir } from '../cli/_cli';

const APP_DIR = path.join(__dirname, 'app');

/** A runbook to run: the app that writes it, and the releases (namespace, app) it moves from `from` to `to`. */
interface RunbookCase {
  readonly name: string;
  readonly appDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly releases: { namespace: string; app: string; from: string; to: string }[];
  readonly namespaces: string[];
  readonly prerequisites: any[];
}

function fromCase(name: string): RunbookCase {
  const c = caseNamed(name);
  return {
    name,
    appDir: APP_DIR,
    env: { INTEG_CASE: name },
    releases: [{ namespace: name, app: 'web', from: 'v1', to: 'v2' }],
    namespaces: [name],
    prerequisites: c.prerequisites,
  };
}

const RUNBOOKS: RunbookCase[] = [
  {
    name: 'example',
    appDir: path.join(ROOT, EXAMPLE),
    env: {},
    namespaces: ['shop', 'bookinfo'],
    prerequisites: [],
    releases: [{ namespace: 'shop', app: 'helloworld', from: 'v1', to: 'v2' }, { namespace: 'bookinfo', app: 'reviews', from: 'v1', to: 'v2' }],
  },
  // Ambient has its runbook in the example (reviews); its own cases only differ in labels and are dry-run.
  ...['istio-canary-3', 'istio-bluegreen', 'gamma-canary-3', 'gamma-bluegreen', 'ingress-canary-1', 'selector-bluegreen'].map(fromCase),
];


/** The environment without RELEASE_STAGE: the CLI sets it per stage. */
function withoutStage(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { RELEASE_STAGE: _, ...rest } = env;
  return rest;
}

test('the capacity check of the samples can fail', () => {
  const sample = (stage: string, shares: Sample['shares'], ready: Sample['ready']): Sample => ({ at: 0, stage, shares, ready });
  expect(underCapacity([
    sample('stable', { v1: 100 }, {}), // the first stage: pods are still starting
    sample('shift-10', { v1: 90, v2: 10 }, { v1: 4, v2: 1 }),
    sample('shift-50', { v1: 50, v2: 50 }, { v1: 1, v2: 1 }),
  ], 'stable', 4)).toEqual(['at 0 ms (stage shift-50): v1 carries 50.0% with 1 ready pods (needs 2 of 4)',
    'at 0 ms (stage shift-50): v2 carries 50.0% with 1 ready pods (needs 2 of 4)']);
});

describeWithControlPlane('every runbook run to the end, forward and back', () => {
  let cp: ControlPlane;
  let kubelet: SimulatedKubelet;
  let mesh: SimulatedMeshController;
  const work = tmpDir();
  const counted = { forward: 0, rollback: 0, stages: 0, samples: 0 };

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllers: true });
    [kubelet, mesh] = await Promise.all([SimulatedKubelet.start(cp.kube), SimulatedMeshController.start(cp.kube)]);
    await cp.createNamespaces(...RUNBOOKS.flatMap((r) => r.namespaces));
  }, 120_000);

  afterAll(async () => {
    console.log(`runbooks: ${counted.forward} forward and ${counted.rollback} roll backs run to the end, `
      + `${counted.stages} stage transitions, ${counted.samples} samples`);
    await kubelet?.stop();
    await mesh?.stop();
    await cp?.stop();
  }, 60_000);

  afterEach(() => {
    expect(kubelet.errors).toEqual([]);
    expect(mesh.errors).toEqual([]);
  });

  test.concurrent.each(RUNBOOKS.map((r) => [r.name, r] as const))('%s', async (_name, r) => {
    const dir = path.join(work, r.name);
    const script = path.join(dir, 'runbook.sh');
    const written = await runAsync(process.execPath, [path.join(cliBuild(), 'cli', 'main.js'), 'runbook', '--app', r.appDir,
      '--out', path.join(dir, 'stages'), '--force', '--format', 'sh', '--file', script], withoutStage({ ...process.env, ...r.env }));
    expect({ status: written.status, output: written.status === 0 ? '' : written.output }).toEqual({ status: 0, output: '' });
    const stageDirs = fs.readdirSync(path.join(dir, 'stages')).filter((d) => /^\d+-/.test(d)).sort();
    const first = stageObjects(path.join(dir, 'stages', stageDirs[0]));
    const last = stageObjects(path.join(dir, 'stages', stageDirs[stageDirs.length - 1]));
    const firstStage = stageDirs[0].replace(/^\d+-/, '');

    expect(await dryRunStage(cp.kube, r.prerequisites)).toEqual([]);
    await Promise.all(r.prerequisites.map((o) => cp.kube.apply(o)));
    const samplers = r.releases.map((rel) => new Sampler(cp.kube, rel.namespace, rel.app).start());
    const env = cp.env({ MESH_RELEASE_ISTIO_STATUS: '1', MESH_RELEASE_DWELL: '0' });
    const n = stageDirs.length;
    const lastStage = stageDirs[n - 1].replace(/^\d+-/, '');
    const previousStage = stageDirs[n - 2].replace(/^\d+-/, '');
    try {
      const started = Date.now();
      const forward = await runAsync('bash', [script], env);
      const forwardSeconds = (Date.now() - started) / 1000;
      expect(succeeded(forward)).toEqual({ status: 0, tail: '' });
      counted.forward++;
      counted.stages += n;
      for (const rel of r.releases) {
        expect(await versionObjects(rel.namespace, rel.app, rel.from)).toEqual([]);
        expect(await readyPods(rel.namespace, rel.app, rel.to)).toBeGreaterThanOrEqual(floorOf(last, rel.namespace, `${rel.app}-${rel.to}`)!);
      }

      // A wrong start is refused before anything is applied: the live stage is the last, not the first.
      const wrongStart = await runAsync('bash', [script, '--from', '2'], env);
      expect(wrongStart.status).toBe(1);
      expect(wrongStart.output).toContain(lastStage);
      expect(wrongStart.output).toContain('--force');
      expect(wrongStart.output).not.toMatch(/\+ kubectl apply/);

      // --rollback --from <last> rolls back one stage; then the rest of the way to the first.
      const oneBack = await runAsync('bash', [script, '--rollback', '--from', String(n)], env);
      expect(succeeded(oneBack)).toEqual({ status: 0, tail: '' });
      for (const rel of r.releases) {
        expect((await readRelease(cp.kube, rel.namespace, rel.app)).stage).toBe(previousStage);
      }
      const back = await runAsync('bash', [script, '--rollback', '--from', String(n - 1), '--to', '1'], env);
      expect(succeeded(back)).toEqual({ status: 0, tail: '' });
      counted.rollback++;
      counted.stages += n - 1;
      console.log(`${r.name}: ${n} stages forward in ${forwardSeconds.toFixed(0)} s, all back in ${((Date.now() - started) / 1000 - forwardSeconds).toFixed(0)} s`);
      for (const rel of r.releases) {
        expect(await versionObjects(rel.namespace, rel.app, rel.to)).toEqual([]);
        expect(await readyPods(rel.namespace, rel.app, rel.from)).toBeGreaterThanOrEqual(floorOf(first, rel.namespace, `${rel.app}-${rel.from}`)!);
      }
    } finally {
      await Promise.all(samplers.map((sampler) => sampler.stop()));
    }

    for (const [i, sampler] of samplers.entries()) {
      const rel = r.releases[i];
      const samples = sampler.samples;
      counted.samples += samples.length;
      expect(sampler.errors).toEqual([]);
      expect(samples.length).toBeGreaterThan(5);
      const floorRef = floorOf(first, rel.namespace, `${rel.app}-${rel.from}`)!;
      expect(underCapacity(samples, firstStage, floorRef)).toEqual([]);
      // The samples saw the candidate take all traffic and give it back.
      expect(samples.some((s) => s.shares[rel.to] === 100)).toBe(true);
      expect(samples[samples.length - 1].shares).toEqual({ [rel.from]: 100 });
    }
  }, 600_000);

  /** The version's own objects still on the cluster (Deployment, autoscaler, budget, Service, pods). */
  async function versionObjects(namespace: string, app: string, version: string): Promise<string[]> {
    const name = `${app}-${version}`;
    const found = await Promise.all([
      cp.kube.find('apps/v1', 'Deployment', namespace, name).then((o) => o && `Deployment/${name}`),
      cp.kube.find('autoscaling/v2', 'HorizontalPodAutoscaler', namespace, name).then((o) => o && `HorizontalPodAutoscaler/${name}`),
      cp.kube.find('policy/v1', 'PodDisruptionBudget', namespace, name).then((o) => o && `PodDisruptionBudget/${name}`),
      cp.kube.find('v1', 'Service', namespace, name).then((o) => o && `Service/${name}`),
      cp.kube.list('v1', 'Pod', namespace, `labelSelector=app%3D${app},version%3D${version}`).then((l) => l.items.map((p) => `Pod/${p.metadata.name}`)),
    ]);
    return found.flat().filter((x): x is string => Boolean(x));
  }

  async function readyPods(namespace: string, app: string, version: string): Promise<number> {
    const pods = await cp.kube.list('v1', 'Pod', namespace, `labelSelector=app%3D${app},version%3D${version}`);
    return pods.items.filter((p) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
  }
});
